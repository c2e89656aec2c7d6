"""``codefactory evolve``: harder variants of a dataset's accepted problems, verified the same way.

Evol-Instruct rewrites a problem harder with one operator (add a constraint, a rarer
requirement, more reasoning steps, a better complexity, a wider input domain). Here every
variant then goes through the flow of ``generate`` (solve and tests written apart, sandbox,
repair, gates, judge, hygiene), and is kept only if it is measurably harder:

- its statement must differ from its parent's (else dropped, ``statement_unchanged``);
- its parent's solution, run against the variant's accepted tests in the sandbox, must fail
  (else dropped, ``not_harder``: the old solution already does what the new tests check).

Round 1 evolves the parent dataset's train rows; round k the variants round k-1 accepted.
Slot ``k * SLOT_STRIDE + i`` is the i-th parent of round k, so a resumed run knows which
variants are done, and each variant's operator is a pure function of the run seed, the round
and its parent. Each row records its parent, the operator and its depth (``Lineage``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from factory.dataset.export import export_dataset
from factory.dataset.rows import dataset_rows
from factory.dataset.store import RunStore, now_iso
from factory.errors import ConfigError, FactoryError
from factory.hygiene.stage import HygieneConfig, HygieneScreen, dropped
from factory.llm import LLMClient, LLMConfig
from factory.pipeline.config import GenerateConfig, run_fingerprint
from factory.pipeline.flow import FlowContext, abandoned, finish_problem, provenance
from factory.pipeline.gates import Gate
from factory.pipeline.generate import Run, reopen_store
from factory.pipeline.progress import RunCounters
from factory.pipeline.steering import steer_prompts
from factory.prompts import load_prompts
from factory.quality.config import QualityConfig
from factory.records import (
    AbandonedSlot,
    Drop,
    DropReason,
    Lineage,
    ProblemRecord,
    Split,
    Usage,
    problem_id,
)
from factory.run_fingerprint import EvolveSettings
from factory.stages.base import StageFailed
from factory.stages.evolve import OPERATORS, evolve
from factory.stages.propose import Problem
from problems.plan import SlotPlan
from problems.taxonomy import Topic
from sandbox import Job, SandboxPool
from sandbox.errors import SandboxError

SLOT_STRIDE = 1_000_000


class EvolveConfig(BaseModel):
    """Which dataset to evolve, how many rounds, with which operators; the run's settings
    (``generate``: out, sampling, repairs, sandbox) are those of ``generate``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Path
    generate: GenerateConfig
    rounds: int = Field(1, ge=1, le=10)
    operators: list[str] = Field(default_factory=lambda: list(OPERATORS), min_length=1)

    @field_validator("operators")
    @classmethod
    def _known(cls, operators: list[str]) -> list[str]:
        unknown = [name for name in operators if name not in OPERATORS]
        if unknown:
            raise ValueError(f"unknown operator {unknown[0]!r}: choose from {', '.join(OPERATORS)}")
        return list(dict.fromkeys(operators))


class RoundReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    round: int
    parents: int
    accepted: int = 0
    not_harder: int = 0
    statement_unchanged: int = 0
    failed: int = 0
    dropped_by_hygiene: int = 0
    abandoned: int = 0


class EvolveReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    out: str
    source: str
    rounds: list[RoundReport]
    splits: dict[str, int]


def load_parents(source: Path) -> list[ProblemRecord]:
    """The source dataset's accepted rows, by id; raises if there are none."""
    if not source.is_dir():
        raise ConfigError(f"{source} not found: give the --out directory of `codefactory generate`")
    with dataset_rows(source) as rows:
        parents = sorted(
            (row for row in rows.records if row.split == Split.TRAIN), key=lambda row: row.id
        )
    if not parents:
        raise ConfigError(f"{source} has no accepted (train) rows to evolve")
    return parents


async def evolve_dataset(
    config: EvolveConfig,
    llm_config: LLMConfig,
    *,
    gates: Sequence[Gate] = (),
    hygiene: HygieneConfig | None = None,
    quality: QualityConfig | None = None,
) -> EvolveReport:
    """Runs ``config.rounds`` rounds of evolution into ``config.generate.out`` and exports it."""
    run_config = config.generate
    if run_config.out.resolve() == config.source.resolve():
        raise ConfigError("--out must be another directory than the dataset evolved")
    parents = load_parents(config.source)
    prompts = load_prompts(run_config.prompt_version)
    taxonomy = (parents[0].provenance.taxonomy, parents[0].provenance.taxonomy_hash)
    fingerprint = run_fingerprint(
        run_config,
        model=llm_config.model,
        prompt_hash=prompts.hash,
        taxonomy_hash=taxonomy[1],
        quality=quality,
        hygiene=hygiene.fingerprint() if hygiene is not None else None,
    ).model_copy(
        update={
            "evolve": EvolveSettings(
                parent=config.source.name,
                parents=len(parents),
                rounds=config.rounds,
                operators=config.operators,
                prompt_hash=steer_prompts().hash,
            )
        }
    )
    screen = await asyncio.to_thread(HygieneScreen.load, hygiene) if hygiene else None
    with contextlib.ExitStack() as closing:
        store = reopen_store(run_config, fingerprint)
        if store is not None:
            closing.callback(store.close)
        async with LLMClient(llm_config) as llm:
            await llm.check()
            if store is None:  # only now is a new --out created
                store = RunStore.open(
                    run_config.out, fingerprint, force_config=run_config.force_config
                )
                closing.callback(store.close)
            store.record_config()
            counters = RunCounters(target=len(parents) * config.rounds)
            run = Run(run_config, llm_config, llm, store, counters, prompts, taxonomy)
            reports: list[RoundReport] = []
            in_flight = run_config.problems_in_flight(llm_config.concurrency)
            try:
                async with SandboxPool(run_config.sandbox) as pool:
                    ctx = run.context(pool, run.asker(steer=True), gates, quality, screen)
                    for round_index in range(1, config.rounds + 1):
                        if round_index > 1:
                            parents = _accepted_in_round(store, round_index - 1)
                        reports.append(
                            await _round(ctx, store, config, parents, round_index, in_flight)
                        )
                        if not parents:
                            break
            except (FactoryError, SandboxError):
                # Publish what is finished, so the dataset on disk matches the store.
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(export_dataset, store, run_config.out)
                raise
        await asyncio.to_thread(export_dataset, store, run_config.out)
        counts = store.counts()
    return EvolveReport(
        out=str(run_config.out), source=str(config.source), rounds=reports, splits=counts
    )


def _accepted_in_round(store: RunStore, round_index: int) -> list[ProblemRecord]:
    low, high = round_index * SLOT_STRIDE, (round_index + 1) * SLOT_STRIDE
    return [row for row in store.iter_records(Split.TRAIN) if low <= row.provenance.slot < high]


async def _round(
    ctx: FlowContext,
    store: RunStore,
    config: EvolveConfig,
    parents: list[ProblemRecord],
    round_index: int,
    in_flight: int,
) -> RoundReport:
    """One round: a variant of each parent not yet done, ``in_flight`` at a time."""
    limit = asyncio.Semaphore(in_flight)
    lock = asyncio.Lock()

    async def one(index: int, parent: ProblemRecord) -> None:
        slot = round_index * SLOT_STRIDE + index
        if store.is_done(slot):
            return
        async with limit:
            item = await make_variant(ctx, parent, slot, _operator(config, round_index, parent))
        async with lock:
            await asyncio.to_thread(store.commit, item)
        if isinstance(item, ProblemRecord):
            ctx.titles.release(item.title)

    async with asyncio.TaskGroup() as group:
        for index, parent in enumerate(parents):
            group.create_task(one(index, parent))
    # Counted from the store, so a resumed round reports the variants of earlier runs too.
    report = RoundReport(round=round_index, parents=len(parents))
    low, high = round_index * SLOT_STRIDE, (round_index + 1) * SLOT_STRIDE
    for row in store.iter_records():
        if low <= row.provenance.slot < high:
            _tally(report, row)
    report.abandoned = sum(1 for item in store.iter_abandoned() if low <= item.slot < high)
    return report


def _tally(report: RoundReport, item: ProblemRecord) -> None:
    if item.split == Split.TRAIN:
        report.accepted += 1
    elif item.drop is not None and item.drop.reason == DropReason.NOT_HARDER:
        report.not_harder += 1
    elif item.drop is not None and item.drop.reason == DropReason.STATEMENT_UNCHANGED:
        report.statement_unchanged += 1
    elif item.split == Split.DROPPED:
        report.dropped_by_hygiene += 1
    else:
        report.failed += 1


def _operator(config: EvolveConfig, round_index: int, parent: ProblemRecord) -> str:
    key = f"{config.generate.seed}/{round_index}/{parent.id}".encode()
    return config.operators[
        int.from_bytes(hashlib.sha256(key).digest()[:4], "big") % len(config.operators)
    ]


async def make_variant(
    ctx: FlowContext, parent: ProblemRecord, slot: int, operator: str
) -> ProblemRecord | AbandonedSlot:
    """One parent's variant, start to finish: a row (train only if measurably harder)."""
    started, usage = now_iso(), Usage()
    seed = (
        int.from_bytes(hashlib.sha256(f"evolve/{slot}/{parent.id}".encode()).digest()[:4], "big")
        >> 1
    )
    plan = SlotPlan(
        slot=slot,
        topic=Topic(name=parent.topic, subtopics=(parent.subtopic or parent.topic,)),
        subtopic=parent.subtopic,
        difficulty=parent.difficulty,
        few_shot=(),
        seed=seed,
    )
    source = _as_problem(parent)
    try:
        problem = await evolve(
            ctx.asker, source, operator, usage.problem, seed=seed, claim_title=ctx.titles.claim
        )
    except StageFailed as exc:
        return abandoned(plan, exc, usage)
    ctx.counters.proposed += 1
    depth = parent.lineage.round if parent.lineage else 0
    lineage = Lineage(
        parent_id=parent.id,
        root_id=parent.lineage.root_id if parent.lineage else parent.id,
        operator=operator,
        round=depth + 1,
    )
    if _statement(problem) == _statement(source):
        return _unchanged(ctx, plan, problem, usage, started, lineage)
    record = await finish_problem(ctx, plan, problem, usage, started, lineage)
    if record.split != Split.TRAIN:
        return record
    drop = await _parent_still_passes(ctx, parent, record)
    if drop is not None:
        return dropped(record, drop)
    return ctx.screen(record) if ctx.screen is not None else record


async def _parent_still_passes(
    ctx: FlowContext, parent: ProblemRecord, variant: ProblemRecord
) -> Drop | None:
    """A drop when the parent's solution passes the variant's tests: not measurably harder."""
    solution = parent.solution
    if variant.entry_point != parent.entry_point:  # the tests import the variant's name
        solution += f"\n\n{variant.entry_point} = {parent.entry_point}\n"
    job = Job(id=f"slot-{variant.provenance.slot}-parent", solution=solution, tests=variant.tests)
    result = await ctx.judge(job)
    ctx.counters.sandbox_runs += 1
    if not result.passed:
        return None
    return Drop.of(
        DropReason.NOT_HARDER,
        parent.id,
        f"the parent's solution passes all {result.n_tests} tests of the variant",
    )


def _unchanged(
    ctx: FlowContext,
    plan: SlotPlan,
    problem: Problem,
    usage: Usage,
    started: str,
    lineage: Lineage,
) -> ProblemRecord:
    drop = Drop.of(
        DropReason.STATEMENT_UNCHANGED, lineage.parent_id, "same statement as the parent"
    )
    return ProblemRecord(
        id=problem_id(problem.title, problem.description, problem.entry_point),
        split=Split.DROPPED,
        title=problem.title,
        description=problem.description,
        entry_point=problem.entry_point,
        signature=problem.signature,
        topic=problem.topic,
        subtopic=problem.subtopic,
        difficulty=problem.difficulty,
        solution="",
        tests="",
        n_repairs=0,
        failure_reason=drop.describe(),
        attempts=[],
        usage=usage,
        drop=drop,
        provenance=provenance(ctx, plan, problem, started),
        lineage=lineage,
    )


def _as_problem(row: ProblemRecord) -> Problem:
    return Problem(
        title=row.title,
        description=row.description,
        entry_point=row.entry_point,
        signature=row.signature,
        topic=row.topic,
        subtopic=row.subtopic,
        difficulty=row.difficulty,
    )


def _statement(problem: Problem) -> str:
    return " ".join(f"{problem.description} {problem.signature}".lower().split())
