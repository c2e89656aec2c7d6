"""The generation loop: per-problem flow, gates, bounded concurrency, live progress (the plan
it follows is ``problems.plan``).

``factory.pipeline.generate.generate`` is the entry point of ``generate``, with its steering
(``steering``: seed code, personas, focus) and judge (``judge``);
``factory.pipeline.evolve.evolve_dataset`` that of ``codefactory evolve``, through the same flow.
"""
