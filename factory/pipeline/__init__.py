"""The generation loop: plan, per-problem flow, gates, bounded concurrency, live progress.

``factory.pipeline.generate.generate`` is the entry point; the CLI calls nothing else.
"""
