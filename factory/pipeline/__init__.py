"""The generation loop: per-problem flow, gates, bounded concurrency, live progress (the plan
it follows is ``problems.plan``).

``factory.pipeline.generate.generate`` is the entry point; the CLI calls nothing else.
"""
