"""Where finished problems go: the durable store, its Hugging Face export, and run stats.

See ``store`` for why SQLite, ``export`` for the layout of an ``--out`` directory, and ``rows``
for reading a directory's rows (its store, else its export); ``steer_stats`` counts what
steered the rows (lineage depth, judge scores, seed snippets, personas).
"""
