"""The generation run's settings, and the fingerprint that guards a resumed ``--out``.

The LLM endpoint has its own config (``LLMConfig``); this one holds what the run itself
decides, the sandbox it judges candidates in included. Both are built once at the edge (the
CLI, or a Python caller), and their defaults are the CLI's defaults.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from factory.prompts import DEFAULT_VERSION
from factory.quality.config import QualityConfig
from factory.records import SCHEMA_VERSION
from factory.run_fingerprint import (
    GenerationSettings,
    HygieneSettings,
    RunFingerprint,
    SandboxSettings,
)
from sandbox import Limits, PoolConfig

# A generated function and its tests finish in well under a second; an infinite loop in one
# should cost 10 s of a sandbox, not the 30 s a general-purpose job gets.
GENERATION_LIMITS = Limits(timeout_s=10.0)


def generation_pool() -> PoolConfig:
    """The sandbox a run gets by default: every CPU, the generation limits."""
    return PoolConfig(limits=GENERATION_LIMITS)


class GenerateConfig(BaseModel):
    """How many problems, where to, how hard to try for each, and the sandbox that judges."""

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
    sandbox: PoolConfig = Field(
        default_factory=generation_pool, description="workers, image and the limits per run"
    )
    # Steering (factory.grounding, factory.pipeline.judge): each off by default.
    seed_code: list[Path] = Field(
        default_factory=list, description="directories of .py files, JSONL files or datasets"
    )
    seed_column: str = Field("content", min_length=1, description="the code column of a source")
    seed_style: Literal["snippet", "concepts"] = "snippet"
    seed_reuse: bool = Field(False, description="use a seed snippet again once all are used")
    personas: Path | None = Field(None, description="one audience or domain a line")
    focus: Path | None = Field(None, description="results of `eval dataset` or `eval model`")
    focus_dataset: Path | None = Field(
        None, description="the dataset the --focus results are of [default: --out]"
    )
    judge_model: str | None = Field(None, min_length=1, description="rates accepted problems")
    judge_base_url: str | None = Field(
        None, description="the judge's API root [default: the model's]"
    )
    min_judge_score: int = Field(4, ge=1, le=5, description="the judge's score a problem needs")

    def problems_in_flight(self, llm_concurrency: int) -> int:
        """Enough problems at once that LLM slots stay busy while some wait on the sandbox,
        and no more: each holds at most two LLM calls, and memory grows with this number."""
        if self.in_flight is not None:
            return self.in_flight
        return max(4, math.ceil(1.5 * llm_concurrency) + 2 * self.sandbox.workers)


def run_fingerprint(
    config: GenerateConfig,
    *,
    model: str,
    prompt_hash: str,
    taxonomy_hash: str,
    quality: QualityConfig | None = None,
    hygiene: HygieneSettings | None = None,
) -> RunFingerprint:
    """The settings of this run that its ``--out`` must keep (see ``factory.run_fingerprint``).

    ``quality`` is recorded only when the gates are on, ``hygiene`` only when the run has a
    hygiene step.
    """
    return RunFingerprint(
        row_schema_version=SCHEMA_VERSION,
        generation=GenerationSettings(
            model=model,
            prompt_version=config.prompt_version,
            prompt_hash=prompt_hash,
            taxonomy_hash=taxonomy_hash,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            seed=config.seed,
            max_repairs=config.max_repairs,
            max_reasks=config.max_reasks,
            few_shot=config.few_shot,
        ),
        sandbox=SandboxSettings(
            timeout_s=config.sandbox.limits.timeout_s,
            memory_mb=config.sandbox.limits.memory_mb,
            cpu_timeout_s=config.sandbox.limits.cpu_timeout_s,
        ),
        quality=quality if quality is not None and quality.enabled else None,
        hygiene=hygiene,
    )
