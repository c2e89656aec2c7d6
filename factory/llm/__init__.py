"""Talking to an OpenAI-compatible LLM endpoint: config, retrying client, reply parsing.

``scripted_server`` (a local scripted endpoint for tests and benchmarks) is imported on its
own, so production code never loads it.
"""

from factory.llm.client import ClientStats, Completion, LLMClient
from factory.llm.config import LLMConfig

__all__ = ["ClientStats", "Completion", "LLMClient", "LLMConfig"]
