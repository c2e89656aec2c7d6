"""What a generation run produced: acceptance, repairs, failures, coverage and cost.

Computed in one streaming pass over the rows, from the store while a run is still writing, or
from the exported dataset when the directory has no ``state/`` (a copied dataset).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from factory.dataset.steer_stats import SteeringStats, SteeringTally, steering_rows
from factory.records import AbandonedSlot, ProblemRecord, Split, Stage, TokenUsage
from factory.run_fingerprint import RunFingerprint
from problems.taxonomy import Difficulty


class CoverageCell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str
    difficulty: str
    train: int = 0
    failures: int = 0


class RunStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    problems: int = Field(0, description="finished problems, every split")
    splits: dict[str, int] = Field(default_factory=dict)
    abandoned: int = Field(0, description="slots where no usable problem was proposed")
    acceptance_rate: float = 0.0
    first_try_pass_rate: float = 0.0
    repairs_histogram: dict[str, int] = Field(
        default_factory=dict, description="accepted problems by the repair rounds they needed"
    )
    failure_statuses: dict[str, int] = Field(
        default_factory=dict, description="how the last attempt of each failure ended"
    )
    fixed_by: dict[str, int] = Field(
        default_factory=dict, description="accepted after repair: which side the last repair fixed"
    )
    repair_targets: dict[str, int] = Field(
        default_factory=dict, description="every repair, by the side it rewrote"
    )
    dropped: dict[str, int] = Field(
        default_factory=dict,
        description="accepted, then removed by dedup or decontamination, by reason",
    )
    coverage: list[CoverageCell] = Field(default_factory=list)
    tokens: dict[str, TokenUsage] = Field(
        default_factory=dict, description="per stage, plus total (abandoned slots included)"
    )
    tokens_per_accepted: float = 0.0
    models: list[str] = Field(default_factory=list)
    config: RunFingerprint | None = Field(
        None, description="the run's settings, from its store (None for a copied dataset)"
    )
    steering: SteeringStats | None = Field(
        None, description="lineage, judge scores, seed snippets, personas (None: none used)"
    )


def compute_stats(
    records: Iterable[ProblemRecord], abandoned: Iterable[AbandonedSlot] = ()
) -> RunStats:
    stats = RunStats(splits={split.value: 0 for split in Split})
    histogram: Counter[int] = Counter()
    failure_statuses: Counter[str] = Counter()
    fixed_by: Counter[str] = Counter()
    targets: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    cells: dict[tuple[str, str], CoverageCell] = {}
    tokens = {stage.value: TokenUsage() for stage in Stage}
    models: set[str] = set()
    first_try = 0
    steering = SteeringTally()
    for record in records:
        steering.add(record)
        stats.problems += 1
        stats.splits[record.split.value] = stats.splits.get(record.split.value, 0) + 1
        models.add(record.provenance.model)
        key = (record.topic, record.difficulty.value)
        cell = cells.setdefault(key, CoverageCell(topic=key[0], difficulty=key[1]))
        for attempt in record.attempts:
            if attempt.repair_target:
                targets[attempt.repair_target] += 1
        if record.split == Split.TRAIN:
            cell.train += 1
            histogram[record.n_repairs] += 1
            if record.n_repairs == 0:
                first_try += 1
            elif record.attempts[-1].repair_target:
                fixed_by[record.attempts[-1].repair_target] += 1
        elif record.split == Split.DROPPED:
            dropped[record.drop.reason.value if record.drop else "unknown"] += 1
        else:
            cell.failures += 1
            failure_statuses[_final_status(record)] += 1
        for stage in Stage:
            tokens[stage.value].add(record.usage.stage(stage))
    for slot in abandoned:
        stats.abandoned += 1
        for stage in Stage:
            tokens[stage.value].add(slot.usage.stage(stage))
    total = TokenUsage()
    for usage in tokens.values():
        total.add(usage)
    tokens["total"] = total
    accepted = stats.splits.get(Split.TRAIN.value, 0)
    if stats.problems:
        stats.acceptance_rate = accepted / stats.problems
        stats.first_try_pass_rate = first_try / stats.problems
    stats.tokens_per_accepted = total.total_tokens / accepted if accepted else 0.0
    stats.repairs_histogram = {str(k): v for k, v in sorted(histogram.items())}
    stats.failure_statuses = dict(failure_statuses.most_common())
    stats.fixed_by = dict(fixed_by.most_common())
    stats.repair_targets = dict(targets.most_common())
    stats.dropped = dict(dropped.most_common())
    order = {level.value: i for i, level in enumerate(Difficulty)}
    stats.coverage = sorted(cells.values(), key=lambda c: (c.topic, order.get(c.difficulty, 9)))
    stats.tokens = tokens
    stats.models = sorted(models)
    stats.steering = steering.result()
    return stats


def _final_status(record: ProblemRecord) -> str:
    if not record.attempts:
        return "no_attempt"
    last = record.attempts[-1]
    if last.rejection is not None and last.rejection.after_sandbox:
        return f"gate:{last.rejection.gate}"
    return last.verdict.status.value


def stats_for_dir(out_dir: Path) -> RunStats:
    """Stats of a ``generate --out`` directory (its store, else its exported dataset)."""
    from factory.dataset.rows import dataset_rows

    with dataset_rows(out_dir) as rows:
        stats = compute_stats(rows.records, rows.abandoned)
        stats.config = rows.config
        return stats


def render_stats(stats: RunStats, console) -> None:
    """Prints ``stats`` as rich tables on ``console``."""
    from rich.table import Table

    summary = Table(title="generation", show_header=False)
    summary.add_row("problems", str(stats.problems))
    for split, n in stats.splits.items():
        summary.add_row(f"  {split}", str(n))
    summary.add_row("abandoned slots", str(stats.abandoned))
    summary.add_row("acceptance rate", f"{stats.acceptance_rate:.1%}")
    summary.add_row("first-try pass rate", f"{stats.first_try_pass_rate:.1%}")
    summary.add_row("model(s)", ", ".join(stats.models) or "-")
    console.print(summary)
    if stats.config is not None:
        console.print(_settings_table(stats.config))
    if stats.steering is not None:
        steered = Table(title="steering", show_header=False)
        for label, value in steering_rows(stats.steering):
            steered.add_row(label, value)
        console.print(steered)

    repairs = Table("repairs needed", "accepted", title="accepted problems by repairs")
    for rounds, n in stats.repairs_histogram.items():
        repairs.add_row(rounds, str(n))
    console.print(repairs)

    sides = Table("side", "repairs", "fixed (last repair)", title="repairs by side")
    for side in sorted(set(stats.repair_targets) | set(stats.fixed_by)):
        sides.add_row(
            side, str(stats.repair_targets.get(side, 0)), str(stats.fixed_by.get(side, 0))
        )
    console.print(sides)

    failures = Table("final status", "failures", title="how failures ended")
    for status, n in stats.failure_statuses.items():
        failures.add_row(status, str(n))
    console.print(failures)

    if stats.dropped:
        dropped = Table("reason", "rows", title="dropped by dedup and decontamination")
        for reason, n in stats.dropped.items():
            dropped.add_row(reason, str(n))
        console.print(dropped)

    coverage = Table("topic", "difficulty", "train", "failures", title="topic x difficulty")
    for cell in stats.coverage:
        coverage.add_row(cell.topic, cell.difficulty, str(cell.train), str(cell.failures))
    console.print(coverage)

    tokens = Table(
        "stage", "calls", "re-asks", "retries", "prompt", "completion", title="LLM usage"
    )
    for stage, usage in stats.tokens.items():
        tokens.add_row(
            stage,
            str(usage.calls),
            str(usage.reasks),
            str(usage.retries),
            f"{usage.prompt_tokens:,}",
            f"{usage.completion_tokens:,}",
        )
    console.print(tokens)
    console.print(f"tokens per accepted problem: {stats.tokens_per_accepted:,.0f}")


def _settings_table(config: RunFingerprint):
    from rich.table import Table

    g, sandbox, quality, hygiene = config.generation, config.sandbox, config.quality, config.hygiene
    table = Table(title="settings (the run's fingerprint)", show_header=False)
    table.add_row("sampling", f"temperature {g.temperature:g}, max tokens {g.max_tokens}")
    table.add_row("seed, repairs", f"seed {g.seed}, up to {g.max_repairs} repair rounds")
    table.add_row("prompts", f"{g.prompt_version} ({g.prompt_hash[:12]})")
    table.add_row("sandbox", f"{sandbox.timeout_s:g} s, {sandbox.memory_mb} MiB per run")
    table.add_row(
        "test strength",
        f"coverage >= {quality.min_coverage:g}, mutation score >= {quality.min_mutation_score:g}"
        if quality
        else "off",
    )
    dedup = hygiene.dedup if hygiene else None
    decontamination = hygiene.decontamination if hygiene else None
    table.add_row("dedup", f"Jaccard >= {dedup.threshold:g}" if dedup else "off")
    table.add_row("decontamination", "on" if decontamination else "off")
    for label, value in fingerprint_steering(config):
        table.add_row(label, value)
    return table


def fingerprint_steering(config: RunFingerprint) -> list[tuple[str, str]]:
    """The steering a run's fingerprint records, as (label, value) lines; none when unused."""
    lines = []
    if config.seed_code:
        seeds = config.seed_code
        lines.append(
            ("seed code", f"{seeds.snippets} snippets ({seeds.style}) from "
             f"{', '.join(seeds.sources)}; skipped {seeds.skipped or 'none'}")
        )  # fmt: skip
    if config.personas:
        lines.append(("personas", f"{len(config.personas)}: {', '.join(config.personas)}"))
    if config.focus:
        weights = ", ".join(f"{cell} x{w}" for cell, w in config.focus.weights.items())
        lines.append(("focus", f"{config.focus.results} on {config.focus.dataset}: {weights}"))
    if config.judge:
        lines.append(("judge", f"{config.judge.model}, score >= {config.judge.min_score}"))
    if config.evolve:
        evolve = config.evolve
        lines.append(
            ("evolve", f"{evolve.parents} rows of {evolve.parent}, {evolve.rounds} round(s), "
             f"operators {', '.join(evolve.operators)}")
        )  # fmt: skip
    return lines
