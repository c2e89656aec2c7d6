"""The generation run's own settings, and the fingerprint that guards a resumed ``--out``.

The LLM endpoint and the sandbox have their own configs (``LLMConfig``, ``PoolConfig``); this
one holds what the loop itself decides. All three are built once at the edge.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from factory.prompts import DEFAULT_VERSION
from factory.records import SCHEMA_VERSION

# Flags as the user types them, for validation messages.
FLAG_NAMES = {
    "count": "--count",
    "out": "--out",
    "max_repairs": "--max-repairs",
    "temperature": "--temperature",
    "max_tokens": "--max-tokens",
    "seed": "--seed",
    "max_reasks": "--max-reasks",
    "in_flight": "--in-flight",
    "few_shot": "--few-shot",
}


class GenerateConfig(BaseModel):
    """How many problems, where to, and how hard to try for each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out: Path
    count: int = Field(ge=1, description="problems to finish in --out, every split counted")
    max_repairs: int = Field(3, ge=0, le=20)
    temperature: float = Field(0.8, ge=0, le=2)
    max_tokens: int = Field(2048, ge=64, le=200_000, description="per LLM reply")
    seed: int = Field(0, ge=0, description="seeds the plan and every LLM call")
    max_reasks: int = Field(2, ge=0, le=10, description="re-asks per stage on unusable replies")
    in_flight: int | None = Field(
        None, ge=1, le=100_000, description="problems worked on at once [default: from limits]"
    )
    few_shot: int = Field(2, ge=0, le=8, description="seed problems shown to the proposer")
    recent_titles: int = Field(20, ge=0, le=500, description="titles shown as 'already used'")
    prompt_version: str = DEFAULT_VERSION
    force_config: bool = False

    def problems_in_flight(self, llm_concurrency: int, sandbox_workers: int) -> int:
        """Enough problems at once that LLM slots stay busy while some wait on the sandbox,
        and no more: each holds at most two LLM calls, and memory grows with this number."""
        if self.in_flight is not None:
            return self.in_flight
        return max(4, math.ceil(1.5 * llm_concurrency) + 2 * sandbox_workers)


def run_fingerprint(
    config: GenerateConfig,
    *,
    model: str,
    prompt_hash: str,
    taxonomy_hash: str,
    timeout_s: float,
    memory_mb: int,
) -> dict[str, Any]:
    """What must stay the same for rows of one ``--out`` to belong to one dataset.

    Left out on purpose: ``--count`` (raising it extends a dataset), concurrency and workers
    (speed only), the endpoint's address (the same model served elsewhere) and the sandbox
    image id (recorded on every row).
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "model": model,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "seed": config.seed,
        "max_repairs": config.max_repairs,
        "max_reasks": config.max_reasks,
        "few_shot": config.few_shot,
        "prompt_version": config.prompt_version,
        "prompt_hash": prompt_hash,
        "taxonomy_hash": taxonomy_hash,
        "sandbox_timeout_s": timeout_s,
        "sandbox_memory_mb": memory_mb,
    }
