"""Everything the card and the report say about a dataset, read from the dataset itself.

One streaming pass over the stored rows (the run's store if the directory has one, else the
exported splits of a copied dataset) gives the run's stats (``factory.dataset.stats``), the
funnel, the test-quality measurements, what hygiene dropped and the provenance the rows share.
The run's configuration comes from the store's fingerprint. Nothing here is typed in by hand:
a number in the card is a number in the data.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from factory.dataset.rows import dataset_rows
from factory.dataset.stats import RunStats, compute_stats
from factory.records import AbandonedSlot, DropReason, ProblemRecord, Split
from factory.run_fingerprint import RunFingerprint


class FunnelStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str
    count: int
    note: str = ""


class DroppedRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    reason: str
    stage: Literal["dedup", "decontamination", "evolve"] = Field(description="Drop.stage")
    matched: str
    detail: str


class ProvenanceSummary(BaseModel):
    """What the rows' provenance records say, over the whole dataset (each distinct value once)."""

    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(default_factory=list)
    endpoints: list[str] = Field(default_factory=list)
    endpoint_kind: str = ""
    generators: list[str] = Field(default_factory=list)
    prompt_versions: list[str] = Field(default_factory=list)
    prompt_hashes: list[str] = Field(default_factory=list)
    taxonomies: list[str] = Field(default_factory=list)
    temperatures: list[float] = Field(default_factory=list)
    max_tokens: list[int] = Field(default_factory=list)
    run_seeds: list[int] = Field(default_factory=list)
    structured_outputs_share: float = 0.0
    sandbox_images: list[str] = Field(default_factory=list)
    sandbox_limits: list[str] = Field(default_factory=list)
    first_started: str = ""
    last_finished: str = ""


class DatasetFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    source: str = Field(description="store or export: where the rows were read from")
    splits: dict[str, int]
    stats: RunStats
    funnel: list[FunnelStep]
    repairs_to_pass: dict[str, int] = Field(
        description="problems whose code first passed the sandbox after n repairs"
    )
    line_coverage: list[float]
    branch_coverage: list[float]
    mutation_score: list[float]
    gate_rejections: dict[str, int]
    dropped: list[DroppedRow]
    provenance: ProvenanceSummary
    config: RunFingerprint | None = Field(description="the run's stored fingerprint")
    topics: list[str]
    difficulties: list[str]

    @property
    def accepted(self) -> int:
        return self.splits.get(Split.TRAIN.value, 0)


def collect_facts(out_dir: Path) -> DatasetFacts:
    """Facts of a ``generate --out`` directory (its store, else its exported splits)."""
    with dataset_rows(out_dir) as rows:
        return _facts(out_dir, rows.source, rows.records, rows.abandoned, rows.config)


class _Pass:
    """Accumulates, row by row, what compute_stats does not already give."""

    def __init__(self) -> None:
        self.passed_first = 0
        self.passed_any = 0
        self.passed_gates = 0
        self.repairs_to_pass: Counter[int] = Counter()
        self.gate_rejections: Counter[str] = Counter()
        self.coverage: list[float] = []
        self.branches: list[float] = []
        self.mutation: list[float] = []
        self.dropped: list[DroppedRow] = []
        self.values: dict[str, set] = {}
        self.structured = 0
        self.rows = 0
        self.started: list[str] = []
        self.finished: list[str] = []

    def see(self, record: ProblemRecord) -> ProblemRecord:
        self.rows += 1
        passing = [a.index for a in record.attempts if a.verdict.passed]
        if record.attempts and record.attempts[0].verdict.passed:
            self.passed_first += 1
        if passing:
            self.passed_any += 1
            self.repairs_to_pass[passing[0]] += 1
        if record.split == Split.TRAIN or (
            record.split == Split.DROPPED
            and record.drop is not None
            and record.drop.reason != DropReason.STATEMENT_UNCHANGED  # never solved at all
        ):
            self.passed_gates += 1
        for attempt in record.attempts:
            rejection = attempt.rejection
            if rejection is not None and rejection.after_sandbox:
                self.gate_rejections[f"{rejection.gate}: {rejection.reason}"] += 1
        quality = record.quality
        if record.split == Split.TRAIN and quality is not None:
            for values, value in (
                (self.coverage, quality.line_coverage),
                (self.branches, quality.branch_coverage),
                (self.mutation, quality.mutation_score),
            ):
                if value is not None:
                    values.append(value)
        drop = record.drop
        if record.split == Split.DROPPED and drop is not None:
            self.dropped.append(
                DroppedRow(
                    id=record.id,
                    title=record.title,
                    reason=drop.reason.value,
                    stage=drop.stage,
                    matched=drop.matched,
                    detail=drop.detail,
                )
            )
        p = record.provenance
        limits = f"{p.sandbox.timeout_s:g} s, {p.sandbox.memory_mb} MiB, {p.sandbox.cpus:g} CPU"
        limits += ", network on" if p.sandbox.network else ", no network"
        for key, value in (
            ("models", p.model),
            *(("endpoints", endpoint) for endpoint in p.endpoint.split(", ")),
            ("generators", p.generator),
            ("prompt_versions", p.prompt_version),
            ("prompt_hashes", p.prompt_hash),
            ("taxonomies", f"{p.taxonomy} ({p.taxonomy_hash[:12]})"),
            ("temperatures", p.sampling.temperature),
            ("max_tokens", p.sampling.max_tokens),
            ("run_seeds", p.run_seed),
            ("sandbox_images", f"{p.sandbox.image} ({p.sandbox.image_id[:19]})"),
            ("sandbox_limits", limits),
            ("topics", record.topic),
            ("difficulties", record.difficulty.value),
        ):
            self.values.setdefault(key, set()).add(value)
        self.structured += p.sampling.structured_outputs
        self.started.append(p.started_at)
        self.finished.append(p.finished_at)
        return record


def _facts(
    out_dir: Path,
    source: str,
    records: Iterable[ProblemRecord],
    abandoned: Iterable[AbandonedSlot],
    config: RunFingerprint | None,
) -> DatasetFacts:
    seen = _Pass()
    stats = compute_stats((seen.see(r) for r in records), abandoned)
    dedup = sum(1 for row in seen.dropped if row.stage == "dedup")
    decontam = sum(1 for row in seen.dropped if row.stage == "decontamination")
    not_harder = sum(1 for row in seen.dropped if row.reason == DropReason.NOT_HARDER.value)
    funnel = [
        FunnelStep(stage="slots planned", count=stats.problems + stats.abandoned),
        FunnelStep(
            stage="proposed",
            count=stats.problems,
            note="a usable problem statement",
        ),
        FunnelStep(stage="passed first try", count=seen.passed_first, note="in the sandbox"),
        FunnelStep(
            stage="passed after repairs",
            count=seen.passed_any,
            note="first try or after repairs",
        ),
        FunnelStep(stage="passed gates", count=seen.passed_gates),
    ]
    harder = seen.passed_gates - not_harder
    if not_harder:  # an evolve run: variants whose parent's solution fails their tests
        funnel.append(FunnelStep(stage="harder than the parent", count=harder))
    funnel += [
        FunnelStep(stage="after dedup", count=harder - dedup),
        FunnelStep(stage="after decontamination", count=harder - dedup - decontam),
    ]
    values = {key: sorted(v, key=str) for key, v in seen.values.items()}
    provenance = ProvenanceSummary(
        models=values.get("models", []),
        endpoints=values.get("endpoints", []),
        endpoint_kind=_endpoint_kind(values.get("endpoints", [])),
        generators=values.get("generators", []),
        prompt_versions=values.get("prompt_versions", []),
        prompt_hashes=values.get("prompt_hashes", []),
        taxonomies=values.get("taxonomies", []),
        temperatures=values.get("temperatures", []),
        max_tokens=values.get("max_tokens", []),
        run_seeds=values.get("run_seeds", []),
        structured_outputs_share=seen.structured / seen.rows if seen.rows else 0.0,
        sandbox_images=values.get("sandbox_images", []),
        sandbox_limits=values.get("sandbox_limits", []),
        first_started=min(seen.started, default=""),
        last_finished=max(seen.finished, default=""),
    )
    order = {"easy": 0, "medium": 1, "hard": 2}
    return DatasetFacts(
        name=out_dir.resolve().name,
        source=source,
        splits=stats.splits,
        stats=stats,
        funnel=funnel,
        repairs_to_pass={str(k): v for k, v in sorted(seen.repairs_to_pass.items())},
        line_coverage=seen.coverage,
        branch_coverage=seen.branches,
        mutation_score=seen.mutation,
        gate_rejections=dict(seen.gate_rejections.most_common()),
        dropped=seen.dropped,
        provenance=provenance,
        config=config,
        topics=values.get("topics", []),
        difficulties=sorted(values.get("difficulties", []), key=lambda d: order.get(d, 9)),
    )


def _endpoint_kind(endpoints: list[str]) -> str:
    """ "local" when every endpoint is on this machine (a self-hosted server), else "remote"."""
    if not endpoints:
        return ""
    kinds = set()
    for endpoint in endpoints:
        host = urlsplit(endpoint).hostname or ""
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        kinds.add("local" if local else "remote")
    return " and ".join(sorted(kinds))
