"""One problem, start to finish: propose, solve and test, judge, gate, repair; then a row.

    propose -> solution | tests (concurrently, the tests never see the solution)
      -> sandbox -> passed? -> quality gates -> keep: a ``train`` row
                 -> not passed, or a gate rejected: repair (up to max_repairs rounds) -> sandbox
      -> out of rounds: a ``failures`` row with every attempt (``rejected`` if a gate said no)

With a ``precheck``, static checks run before each sandbox run; a candidate they turn down
goes to repair without one. With a ``rate`` (the judge model), a candidate the gates kept is
rated last; below ``min_judge_score`` the problem ends in ``rejected`` with the judge's reason
(a repair rewrites code, and the judge's complaint is about the statement).

A slot whose proposal never becomes a usable statement ends as an :class:`AbandonedSlot`.
LLM errors that retries could not fix (endpoint down, key refused) propagate and stop the run;
everything about the problem itself (bad replies, failing code) is data on the row.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from factory.dataset.store import now_iso
from factory.pipeline.gates import Candidate, Gate, apply_gates
from factory.pipeline.progress import RunCounters
from factory.records import (
    JUDGE_GATE,
    SANDBOX_GATE,
    STATIC_GATE,
    AbandonedSlot,
    Attempt,
    JudgeScore,
    Lineage,
    ProblemRecord,
    Provenance,
    QualityMetrics,
    Rejection,
    Sampling,
    SandboxInfo,
    SeedCodeRef,
    Split,
    Stage,
    Usage,
    Verdict,
    problem_id,
    title_key,
)
from factory.stages.base import Asker, StageFailed
from factory.stages.propose import Problem, propose
from factory.stages.repair import RepairDraft, repair
from factory.stages.solve import solve
from factory.stages.write_tests import write_tests
from problems.plan import SlotPlan
from sandbox import Job, Result, Status

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
    # Static checks before each sandbox run (factory.pipeline.quality_gates.static_precheck): a
    # candidate they turn down gets their verdict and rejection (with the side to fix) and
    # goes to repair without a sandbox run.
    precheck: Callable[[Problem, str, str], tuple[Verdict, Rejection] | None] | None = None
    # How a seed snippet is used: shown as inspiration, or its concepts asked for first.
    seed_style: Literal["snippet", "concepts"] = "snippet"
    # The judge model's rating of a candidate the gates kept (factory.pipeline.judge).
    rate: Callable[[Problem, str, str], Awaitable[JudgeScore | None]] | None = None
    min_judge_score: int = 4


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
            seed_style=ctx.seed_style,
        )
    except StageFailed as exc:
        return abandoned(plan, exc, usage)
    ctx.counters.proposed += 1
    record = await finish_problem(ctx, plan, problem, usage, started)
    return ctx.screen(record) if ctx.screen is not None else record


def abandoned(plan: SlotPlan, exc: StageFailed, usage: Usage) -> AbandonedSlot:
    return AbandonedSlot(
        slot=plan.slot, stage=Stage.PROBLEM, reason=exc.reason, usage=usage, finished_at=now_iso()
    )


async def finish_problem(
    ctx: FlowContext,
    plan: SlotPlan,
    problem: Problem,
    usage: Usage,
    started: str,
    lineage: Lineage | None = None,
) -> ProblemRecord:
    """A proposed statement through solve, tests, sandbox, repair and gates, as a row."""
    outcome = await _solve_and_judge(ctx, plan, problem, usage)
    attempts = outcome.attempts
    last = attempts[-1] if attempts else None
    return ProblemRecord(
        id=problem_id(problem.title, problem.description, problem.entry_point),
        split=outcome.split,
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
        failure_reason=outcome.failure or "",
        attempts=attempts,
        usage=usage,
        quality=outcome.quality,
        provenance=provenance(ctx, plan, problem, started),
        lineage=lineage,
    )


@dataclass(frozen=True)
class _Outcome:
    """How a problem's attempts ended: accepted when ``failure`` is None."""

    attempts: list[Attempt]
    quality: QualityMetrics | None
    failure: str | None = None  # why it is not in train, in one line

    @property
    def split(self) -> Split:
        """``rejected`` when the sandbox passed the last attempt but a gate turned it down."""
        if self.failure is None:
            return Split.TRAIN
        last = self.attempts[-1] if self.attempts else None
        if last and last.rejection and last.rejection.after_sandbox:
            return Split.REJECTED
        return Split.FAILURES


async def _solve_and_judge(
    ctx: FlowContext, plan: SlotPlan, problem: Problem, usage: Usage
) -> _Outcome:
    """First drafts, then judge and repair until an attempt is accepted or the rounds run out."""
    drafts = await _first_drafts(ctx, plan, problem, usage)
    if isinstance(drafts, StageFailed):
        return _Outcome([], None, _clip(str(drafts)))
    solution, tests = drafts
    attempts: list[Attempt] = []
    quality = QualityMetrics()

    def ended(failure: str | None) -> _Outcome:
        metrics = quality if quality.model_fields_set else None
        return _Outcome(attempts, metrics, None if failure is None else _clip(failure))

    fix: RepairDraft | None = None
    with _RepairCount(ctx.counters) as in_repair:
        for index in range(ctx.max_repairs + 1):
            attempt = await _attempt(ctx, plan, problem, index, solution, tests, fix, quality)
            attempts.append(attempt)
            if attempt.rejection is None:
                return ended(None)
            why = _failure_text(attempt)
            if attempt.rejection.gate == JUDGE_GATE:
                return ended(why)  # about the statement: no code repair can change it
            if attempt.verdict.status == Status.SANDBOX_ERROR:
                return ended(why)  # our infrastructure failed twice: no repair can help
            if index == ctx.max_repairs:
                rounds = f"after {ctx.max_repairs} repairs" if ctx.max_repairs else "(no repairs)"
                return ended(f"{why} {rounds}")
            in_repair()
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
                    target=attempt.rejection.side,
                )
            except StageFailed as exc:
                return ended(f"{why}; then {exc}")
            if fix.target == "solution":
                solution = fix.code
            else:
                tests = fix.code
    raise AssertionError("unreachable: the loop returns on its last round")


async def _first_drafts(
    ctx: FlowContext, plan: SlotPlan, problem: Problem, usage: Usage
) -> tuple[str, str] | StageFailed:
    """The first solution and tests, written concurrently (the tests never see the solution)."""
    drafts = await asyncio.gather(
        solve(ctx.asker, problem, usage.solution, seed=plan.seed),
        write_tests(ctx.asker, problem, usage.tests, example=plan.test_example, seed=plan.seed),
        return_exceptions=True,
    )
    for outcome in drafts:
        if isinstance(outcome, StageFailed):
            return outcome
        if isinstance(outcome, BaseException):
            raise outcome
    solution, tests = drafts
    return solution, tests


async def _attempt(
    ctx: FlowContext,
    plan: SlotPlan,
    problem: Problem,
    index: int,
    solution: str,
    tests: str,
    fix: RepairDraft | None,
    quality: QualityMetrics,
) -> Attempt:
    """One candidate judged: static checks, then the sandbox, then the gates; the first to turn
    it down gives the attempt its rejection."""
    attempt = functools.partial(
        Attempt,
        index=index,
        origin="repair" if fix else "initial",
        repair_target=fix.target if fix else None,
        explanation=fix.explanation.strip() if fix else "",
        solution=solution,
        tests=tests,
    )
    static = ctx.precheck(problem, solution, tests) if ctx.precheck else None
    if static is not None:
        verdict, rejection = static
        if rejection.gate != STATIC_GATE:  # a gate before the sandbox (the forgery gate)
            ctx.counters.gate_rejections[f"{rejection.gate}:{rejection.reason}"] += 1
        return attempt(verdict=verdict, rejection=rejection)
    result = await _judge(ctx, plan, index, solution, tests)
    verdict = Verdict.from_result(result)
    if not result.passed:
        rejection = Rejection(
            gate=SANDBOX_GATE, reason=result.status.value, feedback=result.feedback()
        )
        return attempt(verdict=verdict, rejection=rejection)
    candidate = Candidate(plan.slot, problem, solution, tests, result, index)
    measured_before = quality.strength
    rejection = await apply_gates(ctx.gates, candidate, quality)
    if quality.strength is not None and quality.strength is not measured_before:
        ctx.counters.sandbox_runs += quality.strength.sandbox_runs  # the gates' runs
    if rejection is None and ctx.rate is not None:
        rejection = await _rate(ctx, problem, solution, tests, quality)
    if rejection is not None:
        ctx.counters.gate_rejections[f"{rejection.gate}:{rejection.reason}"] += 1
    return attempt(verdict=verdict, rejection=rejection)


async def _rate(
    ctx: FlowContext, problem: Problem, solution: str, tests: str, quality: QualityMetrics
) -> Rejection | None:
    """The judge's rating on the row; a rejection below the threshold (or without a rating)."""
    assert ctx.rate is not None
    score = await ctx.rate(problem, solution, tests)
    if score is None:
        return Rejection(
            gate=JUDGE_GATE, reason="no_rating", feedback="the judge gave no valid rating"
        )
    quality.judge = score
    if score.score >= ctx.min_judge_score:
        return None
    return Rejection(
        gate=JUDGE_GATE,
        reason=f"score_{score.score}",
        feedback=f"{score.score}/5 (needs {ctx.min_judge_score}): {score.reason}",
    )


def _failure_text(attempt: Attempt) -> str:
    """Why an attempt was turned down, in one line (the row's ``failure_reason``)."""
    rejection, verdict = attempt.rejection, attempt.verdict
    assert rejection is not None
    if rejection.gate == STATIC_GATE:
        # the static verdict's error is "<not run>: <the first issue>"
        return f"static check {rejection.reason}: {verdict.error.partition(': ')[2]}"
    if rejection.gate == SANDBOX_GATE:
        return f"{verdict.status.value}: {verdict.error or 'tests did not pass'}"
    if verdict.sandbox_attempts == 0:  # a gate before the sandbox: its finding, not a status
        return f"rejected by gate {rejection.gate}: {verdict.error.partition(': ')[2]}"
    if rejection.gate == JUDGE_GATE:
        return f"rejected by the judge: {rejection.feedback}"
    return f"rejected by gate {rejection.gate}: {rejection.reason}"


class _RepairCount:
    """Counts the problem as in repair from its first repair until it ends, however it ends."""

    def __init__(self, counters: RunCounters) -> None:
        self.counters = counters
        self.entered = False

    def __enter__(self):
        return self.enter_repair

    def enter_repair(self) -> None:
        if not self.entered:
            self.entered = True
            self.counters.in_repair += 1
        self.counters.repairs += 1

    def __exit__(self, *exc_info) -> None:
        if self.entered:
            self.counters.in_repair -= 1


async def _judge(ctx: FlowContext, plan: SlotPlan, index: int, solution: str, tests: str) -> Result:
    """The sandbox's verdict (the pool already retried an infrastructure failure once)."""
    job = Job(id=f"slot-{plan.slot}-attempt-{index}", solution=solution, tests=tests)
    result = await ctx.judge(job)
    ctx.counters.sandbox_runs += 1
    return result


def provenance(ctx: FlowContext, plan: SlotPlan, problem: Problem, started: str) -> Provenance:
    identity = ctx.identity
    snippet = plan.snippet
    seed_code = None
    if snippet is not None:
        seed_code = SeedCodeRef(
            source=snippet.source,
            sha256=snippet.sha256,
            kind=snippet.kind,
            name=snippet.name,
            licence=snippet.licence,
            style=ctx.seed_style,
            concepts=problem.concepts,
        )
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
        seed_code=seed_code,
        persona=plan.persona,
        focus_examples=[example.id for example in plan.focus] or None,
    )


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "..."
