"""Where finished problems go: the durable store, its Hugging Face export, and run stats.

See ``store`` for why SQLite and ``export`` for the layout of an ``--out`` directory.
"""
