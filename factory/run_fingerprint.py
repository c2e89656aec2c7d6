"""The run fingerprint: what must stay the same for the rows of one ``--out`` to be one dataset.

Built once by the pipeline when a run starts, stored by the run's store, validated again
whenever the store hands it back, and read by attribute by whoever needs it (a resumed run's
"configuration changed" check, the dataset card). Left out on purpose: ``--count`` (raising it
extends a dataset), concurrency and workers (speed only), the endpoint's address (the same
model served elsewhere) and the sandbox image id (recorded on every row).

Layout versions: 1 was a flat dict (``model``, ``temperature``, ..., ``sandbox_timeout_s``,
optional ``hygiene`` and ``quality``) whose ``schema_version`` was the row schema; 2 groups the
settings into sub-models. Stores written with version 1 still load: they are read as version 2.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from factory.quality.config import QualityConfig
from factory.records import SCHEMA_VERSION as ROW_SCHEMA_VERSION

FINGERPRINT_VERSION = 2


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GenerationSettings(_Settings):
    """What the model was asked, and how."""

    model: str
    prompt_version: str
    prompt_hash: str
    taxonomy_hash: str
    temperature: float
    max_tokens: int
    seed: int
    max_repairs: int
    max_reasks: int
    few_shot: int


class SandboxSettings(_Settings):
    """The limits every candidate ran under (they decide what passes)."""

    timeout_s: float
    memory_mb: int
    cpu_timeout_s: float | None = Field(None, description="None: the wall-clock limit alone")


class DedupSettings(_Settings):
    threshold: float
    num_perm: int
    seed: int


class DecontaminationSettings(_Settings):
    humaneval: bool
    mbpp: list[str] = Field(description="file name @ content hash of each MBPP copy")
    benchmark_files: list[str] = Field(description="file name @ content hash of each file")
    description_ngram: int
    min_description_words: int
    code_ngram: int
    code_overlap: float


class HygieneSettings(_Settings):
    """Which rows the hygiene step drops; a step that was off is None."""

    dedup: DedupSettings | None
    decontamination: DecontaminationSettings | None
    semantic_dedup: float | None = Field(
        None, description="cosine at which descriptions are near duplicates; None when off"
    )


class SeedCodeSettings(_Settings):
    """Where the run's seed snippets came from and how problems use them."""

    sources: list[str] = Field(description="name @ content hash of each --seed-code source")
    column: str
    style: str = Field(description="snippet: shown as inspiration; concepts: concepts first")
    reuse: bool
    snippets: int = Field(description="usable snippets the sources gave")
    skipped: dict[str, int] = Field(description="left out: trivial, huge, duplicate, benchmark")


class FocusSettings(_Settings):
    """The evaluation results a focused run is weighted by, and the weights it used."""

    results: str = Field(description="file name @ content hash of the results")
    dataset: str = Field(description="the dataset the results were computed on")
    weights: dict[str, int] = Field(description="topic/difficulty -> weight in the plan")


class JudgeSettings(_Settings):
    """The model that rates accepted problems, and the score they need."""

    model: str
    min_score: int
    rubric_hash: str


class EvolveSettings(_Settings):
    """An evolve run: whose rows it rewrites harder, how many rounds, with which operators."""

    parent: str = Field(description="the parent dataset's directory name")
    parents: int = Field(description="accepted rows of the parent dataset")
    rounds: int
    operators: list[str]
    prompt_hash: str = Field(description="of the evolve prompt's version")


class RunFingerprint(_Settings):
    fingerprint_version: int = FINGERPRINT_VERSION
    row_schema_version: int = Field(
        description="the row schema its rows read as (older rows are upgraded when read)"
    )
    generation: GenerationSettings
    sandbox: SandboxSettings
    quality: QualityConfig | None = Field(None, description="the test-strength gates; None: off")
    hygiene: HygieneSettings | None = Field(None, description="None: the run had no hygiene step")
    seed_code: SeedCodeSettings | None = Field(None, description="None: no --seed-code")
    personas: list[str] | None = Field(None, description="None: no --personas")
    focus: FocusSettings | None = Field(None, description="None: no --focus")
    judge: JudgeSettings | None = Field(None, description="None: no --judge-model")
    evolve: EvolveSettings | None = Field(None, description="set on a `codefactory evolve` run")

    @model_validator(mode="before")
    @classmethod
    def _read_older_layouts(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        version = data.get("fingerprint_version", 1 if "generation" not in data else None)
        if isinstance(version, int) and version > FINGERPRINT_VERSION:
            raise ValueError(
                f"written by a newer codefactory (run fingerprint version {version}): "
                "upgrade codefactory to continue it"
            )
        data = _from_version_1(data) if version == 1 else data
        # Rows of an older schema are upgraded as they are read (factory.records), so a run
        # begun with them goes on with today's rows: it counts as made with today's schema.
        rows = data.get("row_schema_version")
        if isinstance(rows, int) and rows < ROW_SCHEMA_VERSION:
            data = {**data, "row_schema_version": ROW_SCHEMA_VERSION}
        return data


def _from_version_1(flat: dict[str, Any]) -> dict[str, Any]:
    data = dict(flat)
    generation = {name: data.pop(name) for name in GenerationSettings.model_fields if name in data}
    sandbox = {
        name: data.pop(f"sandbox_{name}")
        for name in SandboxSettings.model_fields
        if f"sandbox_{name}" in data
    }
    return {
        "fingerprint_version": FINGERPRINT_VERSION,
        "row_schema_version": data.pop("schema_version", None),
        "generation": generation,
        "sandbox": sandbox,
        **data,  # quality and hygiene kept their layout; anything else is refused
    }
