"""The LLM stages of the loop, one small module each: propose, solve, write_tests, repair,
and evolve (a harder variant of an accepted problem, for ``codefactory evolve``).

Each builds its messages from the versioned prompt templates, asks through
:class:`factory.stages.base.Asker` (structured outputs, lenient parsing, bounded re-asks) and
returns plain values; what to do with them is the pipeline's business.
"""
