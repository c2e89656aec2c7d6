"""One problem, start to finish: propose, solve and test, judge, gate, repair; then a row.

    propose -> solution | tests (concurrently, the tests never see the solution)
      -> sandbox -> passed? -> quality gates -> keep: a ``train`` row
                 -> not passed, or a gate rejected: repair (up to max_repairs rounds) -> sandbox
      -> out of rounds: a ``failures`` row with every attempt (``rejected`` if a gate said no)

With a ``precheck``, static checks run before each sandbox run; a candidate they turn down
goes to repair without one.

A slot whose proposal never becomes a usable statement ends as an :class:`AbandonedSlot`.
LLM errors that retries could not fix (endpoint down, key refused) propagate and stop the run;
everything about the problem itself (bad replies, failing code) is data on the row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from factory.dataset.store import now_iso
from factory.pipeline.gates import Candidate, Gate, apply_gates
from factory.pipeline.progress import RunCounters
from factory.pipeline.sampler import SlotPlan
from factory.records import (
    AbandonedSlot,
    Attempt,
    GateRejection,
    ProblemRecord,
    Provenance,
    QualityMetrics,
    Sampling,
    SandboxInfo,
    Split,
    Stage,
    Usage,
    Verdict,
    problem_id,
    title_key,
)
from factory.stages.base import Asker, StageFailed
from factory.stages.propose import Problem, propose
from factory.stages.repair import repair
from factory.stages.solve import solve
from factory.stages.write_tests import write_tests
from sandbox import Job, Result, Status

if TYPE_CHECKING:
    from factory.quality.generation import StaticRejection

Judge = Callable[[Job], Awaitable[Result]]
REASON_CHARS = 300


@dataclass(frozen=True)
class RunIdentity:
    """The provenance every row of a run shares."""

    generator: str
    model: str
    endpoint: str
    prompt_version: str
    prompt_hash: str
    taxonomy: str
    taxonomy_hash: str
    run_seed: int
    sandbox: SandboxInfo


class TitleRegistry:
    """Titles produced so far (in the store) plus those being worked on right now."""

    def __init__(self, stored: Callable[[str], bool]) -> None:
        self._stored = stored
        self._in_flight: set[str] = set()

    def claim(self, title: str) -> bool:
        key = title_key(title)
        if key in self._in_flight or self._stored(title):
            return False
        self._in_flight.add(key)
        return True

    def release(self, title: str) -> None:
        self._in_flight.discard(title_key(title))


@dataclass
class FlowContext:
    asker: Asker
    judge: Judge
    gates: Sequence[Gate]
    titles: TitleRegistry
    recent_titles: Callable[[str], list[str]]
    counters: RunCounters
    identity: RunIdentity
    max_repairs: int
    # Dedup and decontamination of accepted rows (factory.hygiene.stage.HygieneScreen): a
    # train row comes back unchanged or moved to the dropped split.
    screen: Callable[[ProblemRecord], ProblemRecord] | None = None
    # Static checks before each sandbox run (factory.quality.generation.static_precheck): a
    # candidate they turn down goes to repair, with the side to fix, without a sandbox run.
    precheck: Callable[[Problem, str, str], StaticRejection | None] | None = None


async def make_problem(ctx: FlowContext, plan: SlotPlan) -> ProblemRecord | AbandonedSlot:
    """Runs one slot of the plan to its end."""
    started = now_iso()
    usage = Usage()
    try:
        problem = await propose(
            ctx.asker,
            plan,
            usage.problem,
            recent_titles=ctx.recent_titles(plan.topic.name),
            claim_title=ctx.titles.claim,
        )
    except StageFailed as exc:
        return AbandonedSlot(
            slot=plan.slot,
            stage=Stage.PROBLEM,
            reason=exc.reason,
            usage=usage,
            finished_at=now_iso(),
        )
    ctx.counters.proposed += 1
    attempts, quality, reason = await _solve_and_judge(ctx, plan, problem, usage)
    accepted = not reason
    last = attempts[-1] if attempts else None
    record = ProblemRecord(
        id=problem_id(problem.title, problem.description, problem.entry_point),
        split=_split(accepted, last),
        title=problem.title,
        description=problem.description,
        entry_point=problem.entry_point,
        signature=problem.signature,
        topic=problem.topic,
        subtopic=problem.subtopic,
        difficulty=problem.difficulty,
        solution=last.solution if last else "",
        tests=last.tests if last else "",
        n_repairs=sum(1 for attempt in attempts if attempt.origin == "repair"),
        failure_reason=reason,
        attempts=attempts,
        usage=usage,
        quality=quality,
        provenance=_provenance(ctx, plan, started),
    )
    return ctx.screen(record) if ctx.screen is not None else record


async def _solve_and_judge(
    ctx: FlowContext, plan: SlotPlan, problem: Problem, usage: Usage
) -> tuple[list[Attempt], QualityMetrics | None, str]:
    """The attempts, the quality metrics gates reported, and why it failed ("" if accepted)."""
    attempts: list[Attempt] = []
    drafts = await asyncio.gather(
        solve(ctx.asker, problem, usage.solution, seed=plan.seed),
        write_tests(ctx.asker, problem, usage.tests, example=plan.test_example, seed=plan.seed),
        return_exceptions=True,
    )
    for outcome in drafts:
        if isinstance(outcome, StageFailed):
            return attempts, None, _clip(str(outcome))
        if isinstance(outcome, BaseException):
            raise outcome
    solution, tests = drafts
    quality = QualityMetrics()
    origin, target, explanation = "initial", None, ""
    entered_repair = False
    try:
        for index in range(ctx.max_repairs + 1):
            static = ctx.precheck(problem, solution, tests) if ctx.precheck else None
            result = await _judge(ctx, plan, index, solution, tests) if static is None else None
            attempt = Attempt(
                index=index,
                origin=origin,
                repair_target=target,
                explanation=explanation,
                solution=solution,
                tests=tests,
                verdict=static.verdict if static else Verdict.from_result(result),
            )
            attempts.append(attempt)
            required = None  # the side the repair must rewrite, when the failure says so
            if static is not None:
                attempt.feedback = static.feedback
                reason = f"static check {static.reason}: {static.message}"
                required = static.target
            elif result.passed:
                candidate = Candidate(plan.slot, problem, solution, tests, result, index)
                measured_before = quality.strength
                rejection = await apply_gates(ctx.gates, candidate, quality)
                if quality.strength is not None and quality.strength is not measured_before:
                    ctx.counters.sandbox_runs += quality.strength.sandbox_runs  # the gates' runs
                if rejection is None:
                    return attempts, _metrics_or_none(quality), ""
                ctx.counters.gate_rejections[f"{rejection.gate}:{rejection.reason}"] += 1
                attempt.gate_rejection = GateRejection(gate=rejection.gate, reason=rejection.reason)
                attempt.feedback = rejection.feedback
                reason = f"rejected by gate {rejection.gate}: {rejection.reason}"
                required = rejection.target
            else:
                attempt.feedback = result.feedback()
                reason = f"{result.status.value}: {result.error or 'tests did not pass'}"
                if result.status == Status.SANDBOX_ERROR:
                    return attempts, _metrics_or_none(quality), _clip(reason)
            if index == ctx.max_repairs:
                rounds = f"after {ctx.max_repairs} repairs" if ctx.max_repairs else "(no repairs)"
                return attempts, _metrics_or_none(quality), _clip(f"{reason} {rounds}")
            if not entered_repair:
                entered_repair = True
                ctx.counters.in_repair += 1
            ctx.counters.repairs += 1
            try:
                fix = await repair(
                    ctx.asker,
                    problem,
                    solution,
                    tests,
                    attempt.feedback,
                    attempts,
                    usage.repair,
                    seed=plan.seed + index + 1,
                    target=required,
                )
            except StageFailed as exc:
                return attempts, _metrics_or_none(quality), _clip(f"{reason}; then {exc}")
            if fix.target == "solution":
                solution = fix.code
            else:
                tests = fix.code
            origin, target, explanation = "repair", fix.target, fix.explanation.strip()
    finally:
        if entered_repair:
            ctx.counters.in_repair -= 1
    raise AssertionError("unreachable: the loop returns on its last round")


async def _judge(ctx: FlowContext, plan: SlotPlan, index: int, solution: str, tests: str) -> Result:
    """The sandbox's verdict (the pool already retried an infrastructure failure once)."""
    job = Job(id=f"slot-{plan.slot}-attempt-{index}", solution=solution, tests=tests)
    result = await ctx.judge(job)
    ctx.counters.sandbox_runs += 1
    return result


def _split(accepted: bool, last: Attempt | None) -> Split:
    """``rejected`` when the sandbox passed the last attempt but a gate turned it down."""
    if accepted:
        return Split.TRAIN
    return Split.REJECTED if last and last.gate_rejection else Split.FAILURES


def _metrics_or_none(quality: QualityMetrics) -> QualityMetrics | None:
    return quality if quality.model_fields_set else None


def _provenance(ctx: FlowContext, plan: SlotPlan, started: str) -> Provenance:
    identity = ctx.identity
    return Provenance(
        generator=identity.generator,
        model=identity.model,
        endpoint=identity.endpoint,
        sampling=Sampling(
            temperature=ctx.asker.temperature,
            max_tokens=ctx.asker.max_tokens,
            seed=plan.seed,
            structured_outputs=ctx.asker.structured.enabled,
        ),
        prompt_version=identity.prompt_version,
        prompt_hash=identity.prompt_hash,
        taxonomy=identity.taxonomy,
        taxonomy_hash=identity.taxonomy_hash,
        run_seed=identity.run_seed,
        slot=plan.slot,
        few_shot=[seed.id for seed in plan.few_shot],
        sandbox=identity.sandbox,
        started_at=started,
        finished_at=now_iso(),
    )


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "..."
