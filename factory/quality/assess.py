"""The test-strength gate's checks: one call that measures a passing candidate and judges it.

    report = await assess(pool, problem, solution, tests, QualityConfig())
    if not report.passed:
        ...  # repair report.target with report.feedback, or reject with report.reason

Order, cheapest first: static checks and the hollow-test counts (no sandbox), then the sandbox:
the real solution under coverage, the trivial stand-ins, the emptied module and the mutants,
all in ONE sandbox job (the job process prepares pytest once and runs each in a fresh forked
child; a mutant's CPU budget is a few times the CPU time of the real solution's own run in that
shared session, and a mutant stopped by it counts as killed, as a timeout always did). Mutants whose compiled code equals the
original's or another mutant's are recorded and never run. With ``fail_fast`` a failed check
skips the later stages' verdicts; their checks are recorded as not evaluated (``passed=None``).
``one_job=False`` runs each variant as a job of its own under wall-clock limits, as before:
the same reports, kept to check that.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from factory.quality.config import QualityConfig
from factory.quality.feedback import describe_failures, summarise
from factory.quality.hollow import EMPTIED_MODULE, trivial_solutions
from factory.quality.mutation import OPERATORS, Mutant, generate_mutants
from factory.quality.report import (
    CheckResult,
    HollowReport,
    MutantResult,
    MutationReport,
    OperatorScore,
    QualityReport,
    TrivialResult,
)
from factory.quality.static import StaticReport, check_static
from sandbox.models import CoverageReport, Job, Result, Status, Variant

MIN_MUTANT_TIMEOUT_S = 2.0
MIN_MUTANT_CPU_S = 0.1
MUTANT_TIMEOUT_FACTOR = 5.0


class JobRunner(Protocol):
    """What the checks need from a pool (a :class:`sandbox.SandboxPool`)."""

    def map(self, jobs: Any, max_in_flight: int | None = None) -> Any: ...


async def assess(
    pool: JobRunner,
    problem: Mapping[str, Any] | Any,
    solution: str,
    tests: str,
    config: QualityConfig | None = None,
    *,
    one_job: bool = True,
) -> QualityReport:
    """Measures how strongly ``tests`` pin down ``solution`` and applies the checks.

    ``problem`` is anything with ``entry_point`` and ``signature`` (a mapping or a record).
    The solution is expected to pass its tests already; if it does not pass again here, the
    ``baseline`` check fails. Untrusted behaviour never raises: it is recorded in the report.
    ``one_job``: the real solution and all its variants run in one sandbox job (each variant
    in a forked child with a CPU budget); otherwise one job each, under wall-clock limits.
    """
    config = config or QualityConfig()
    entry_point, signature = _field(problem, "entry_point"), _field(problem, "signature")
    started = time.monotonic()
    static = check_static(solution, tests, entry_point, signature)
    run = _Assessment(config, static, solution)

    if not static.passed:
        run.check("static", False, detail=static.issues[0].message)
        return run.finish(started, target=static.target, feedback=static.feedback())
    run.check("static", True)
    suite = static.tests
    assert suite is not None  # a passing static report always has the test features
    run.hollow = HollowReport(n_test_functions=suite.n_test_functions, n_asserts=suite.n_asserts)
    run.minimum("min_tests", suite.n_test_functions, config.min_tests)
    run.minimum("min_asserts", suite.n_asserts, config.min_asserts)
    if run.stop():
        return run.finish(started)

    trivial = trivial_solutions(solution, entry_point)
    skipped: list[Mutant] = []  # the compiler's equivalents and duplicates, never run
    mutants = (
        generate_mutants(solution, config.max_mutants, config.seed, skipped)
        if config.max_mutants
        else []
    )
    if one_job:
        baseline, results = await _run_one_job(pool, solution, tests, trivial, mutants, config)
        run.sandbox_runs += 1 + len(baseline.variants)
    else:
        jobs = [Job(id="baseline", solution=solution, tests=tests, coverage=True)]
        jobs += [
            Job(id=f"trivial:{name}", solution=code, tests=tests, timeout_s=config.mutant_timeout_s)
            for name, code in trivial.items()
        ]
        jobs.append(
            Job(
                id="emptied",
                solution=EMPTIED_MODULE,
                tests=tests,
                timeout_s=config.mutant_timeout_s,
            )
        )
        results = await _run(pool, jobs)
        run.sandbox_runs += len(jobs)
        baseline = results["baseline"]
    if not baseline.passed:
        run.check("baseline", False, detail=f"the tests did not pass again: {baseline.error}")
        return run.finish(started, target=None, feedback=baseline.feedback())
    run.check("baseline", True)
    run.judge_trivial(trivial, results)
    run.judge_emptied(results["emptied"])
    run.judge_coverage(baseline.coverage)
    if run.stop() or config.max_mutants == 0:
        return run.finish(started)

    if one_job:  # the mutants ran in the same job, each under the CPU budget the job gave
        budgets = [
            result.cpu_budget_s
            for key, result in results.items()
            if key.startswith("mutant:") and result.cpu_budget_s is not None
        ]
        timeout_s = budgets[0] if budgets else mutant_cpu_budget(config, baseline.cpu_s)
    else:
        timeout_s = min(
            config.mutant_timeout_s,
            max(MIN_MUTANT_TIMEOUT_S, MUTANT_TIMEOUT_FACTOR * baseline.duration_s),
        )
        # A mutant on a line no test executes survives for certain: no need to run it.
        unexecuted = run.unexecuted_lines()
        mutant_jobs = [
            Job(
                id=f"mutant:{mutant.index}",
                solution=mutant.source,
                tests=tests,
                timeout_s=timeout_s,
            )
            for mutant in mutants
            if mutant.line not in unexecuted
        ]
        results = await _run(pool, mutant_jobs)
        run.sandbox_runs += len(mutant_jobs)
    run.judge_mutants(mutants, results, timeout_s, skipped)
    return run.finish(started)


def mutant_cpu_budget(config: QualityConfig, reference_cpu_s: float) -> float:
    """CPU seconds a mutant may use: a few times what the real solution's run costs where the
    mutants run (the job measures it once, in the same session, and says the budget it gave).

    Measured by the kernel, not the clock, so the budget needs no floor for a loaded machine;
    ``MIN_MUTANT_CPU_S`` only keeps the accounting's own noise from deciding.
    """
    return min(
        config.mutant_timeout_s, max(MIN_MUTANT_CPU_S, MUTANT_TIMEOUT_FACTOR * reference_cpu_s)
    )


async def _run_one_job(
    pool: JobRunner,
    solution: str,
    tests: str,
    trivial: dict[str, str],
    mutants: list[Mutant],
    config: QualityConfig,
) -> tuple[Result, dict[str, Result]]:
    """Runs the solution under coverage and every variant of it in one sandbox job."""
    wall = config.mutant_timeout_s
    common = {
        "timeout_s": wall,
        "cpu_timeout_s": wall,
        "cpu_factor": MUTANT_TIMEOUT_FACTOR,
        "cpu_floor_s": MIN_MUTANT_CPU_S,
    }
    # The do-nothing solutions and the emptied module keep today's limit: they are judged on
    # whether they pass, and a budget tied to the real solution's time would change nothing.
    # A do-nothing solution has failed at its first failing test (like a mutant, it stops
    # there); the emptied module runs every test, since the ones that pass are its finding.
    variants = [
        Variant(
            id=f"trivial:{name}",
            solution=code,
            timeout_s=wall,
            cpu_timeout_s=wall,
            cpu_floor_s=wall,
            stop_at_first_failure=True,
        )
        for name, code in trivial.items()
    ]
    variants.append(
        Variant(
            id="emptied",
            solution=EMPTIED_MODULE,
            timeout_s=wall,
            cpu_timeout_s=wall,
            cpu_floor_s=wall,
        )
    )
    if config.fail_fast:  # no mutant runs once a cheaper gate has failed: its score is unused
        common["unless_passed"] = [variant.id for variant in variants[:-1]]
        common["unless_any_test_passed"] = ["emptied"]
        common["min_line_rate"] = config.min_coverage
        if config.min_branch_coverage > 0:
            common["min_branch_rate"] = config.min_branch_coverage
    variants += [
        Variant(
            id=f"mutant:{mutant.index}",
            solution=mutant.source,
            line=mutant.line,
            stop_at_first_failure=True,  # killed by its first failing test
            **common,
        )
        for mutant in mutants
    ]
    own = _own_limit_s(pool)
    job = Job(
        id="quality-gates",
        solution=solution,
        tests=tests,
        coverage=True,
        timeout_s=min(3600.0, own + sum(v.timeout_s for v in variants) + 0.1 * len(variants)),
        cpu_timeout_s=min(3600.0, own + sum(v.cpu_timeout_s for v in variants)),
        variants=variants,
    )
    result = await _run(pool, [job])
    baseline = result[job.id]
    return baseline, {variant.id: variant for variant in baseline.variants}


def _own_limit_s(pool: JobRunner) -> float:
    """The time the pool gives a plain run (the real solution's share of the gates' job)."""
    limits = getattr(getattr(pool, "config", None), "limits", None)
    return float(getattr(limits, "timeout_s", 30.0))


def _field(problem: Mapping[str, Any] | Any, name: str) -> str:
    value = problem.get(name) if isinstance(problem, Mapping) else getattr(problem, name, None)
    return str(value or "")


async def _run(pool: JobRunner, jobs: list[Job]) -> dict[str, Result]:
    results: dict[str, Result] = {}
    async for result in pool.map(jobs):
        results[result.id] = result
    return results


class _Assessment:
    """Accumulates check results and measurements, then builds the report."""

    def __init__(self, config: QualityConfig, static: StaticReport, solution: str):
        self.config = config
        self.static = static
        self.solution = solution
        self.checks: list[CheckResult] = []
        self.hollow: HollowReport | None = None
        self.coverage: CoverageReport | None = None
        self.mutation: MutationReport | None = None
        self.sandbox_runs = 0

    def check(self, name, passed, value=None, threshold=None, detail="") -> None:
        self.checks.append(
            CheckResult(name=name, passed=passed, value=value, threshold=threshold, detail=detail)
        )

    def minimum(self, name, value: float, threshold: float) -> None:
        self.check(name, value >= threshold, value=value, threshold=threshold)

    def stop(self) -> bool:
        return self.config.fail_fast and any(check.passed is False for check in self.checks)

    def judge_trivial(self, trivial: dict[str, str], results: dict[str, Result]) -> None:
        assert self.hollow is not None
        for name in trivial:
            result = results[f"trivial:{name}"]
            self.hollow.trivial.append(
                TrivialResult(name=name, status=result.status.value, passed=result.passed)
            )
        accepted = [item.name for item in self.hollow.trivial if item.passed]
        detail = f"accepted: {', '.join(accepted)}" if accepted else ""
        if not trivial:
            detail = "the entry point is not a plain module-level function; not checked"
        self.check("trivial_solutions", not accepted, value=len(accepted), detail=detail)

    def judge_emptied(self, result: Result) -> None:
        assert self.hollow is not None
        passing = [test.name for test in result.tests if test.outcome == "passed"]
        self.hollow.emptied_module_status = result.status.value
        self.hollow.emptied_module_passing_tests = passing
        detail = f"pass without the solution: {', '.join(passing)}" if passing else ""
        self.check("emptied_module", not passing, value=len(passing), detail=detail)

    def judge_coverage(self, coverage: CoverageReport | None) -> None:
        self.coverage = coverage
        if coverage is None or coverage.error:
            why = coverage.error if coverage else "no coverage was reported"
            self.check("coverage", False, threshold=self.config.min_coverage, detail=why)
            return
        self.check(
            "coverage",
            coverage.line_rate >= self.config.min_coverage,
            value=round(coverage.line_rate, 4),
            threshold=self.config.min_coverage,
        )
        if self.config.min_branch_coverage > 0:
            self.check(
                "branch_coverage",
                coverage.branch_rate >= self.config.min_branch_coverage,
                value=round(coverage.branch_rate, 4),
                threshold=self.config.min_branch_coverage,
            )

    def unexecuted_lines(self) -> set[int]:
        measured = self.coverage is not None and not self.coverage.error
        return set(self.coverage.missing_lines) if measured else set()

    def judge_mutants(
        self,
        mutants: list[Mutant],
        results: dict[str, Result],
        timeout_s: float,
        skipped: list[Mutant] = (),
    ) -> None:
        measured = self.coverage is not None and not self.coverage.error
        missing = set(self.coverage.missing_lines) if measured else None
        outcomes = [
            _mutant_result(mutant, results.get(f"mutant:{mutant.index}"), missing)
            for mutant in mutants
        ]
        killed = sum(1 for outcome in outcomes if outcome.outcome == "killed")
        survivors = [outcome for outcome in outcomes if outcome.outcome == "survived"]
        judged = killed + len(survivors)
        score = killed / judged if judged else None
        self.mutation = MutationReport(
            seed=self.config.seed,
            timeout_s=timeout_s,
            n_mutants=len(mutants),
            killed=killed,
            survived=len(survivors),
            unknown=len(outcomes) - judged,
            score=round(score, 4) if score is not None else None,
            likely_equivalent=sum(1 for s in survivors if s.equivalence_hint),
            equivalent=sum(1 for m in skipped if m.equivalence_hint.startswith("equivalent")),
            duplicates=sum(1 for m in skipped if m.equivalence_hint.startswith("duplicate")),
            operators=_operator_scores(outcomes),
            survivors=survivors,
        )
        threshold = self.config.min_mutation_score
        if not mutants:
            self.check("mutation_score", True, threshold=threshold, detail="no mutant to make")
        elif score is None:
            self.check("mutation_score", False, threshold=threshold, detail="no mutant could run")
        else:
            self.check(
                "mutation_score", score >= threshold, value=round(score, 4), threshold=threshold
            )

    def finish(self, started: float, target="tests", feedback: str | None = None) -> QualityReport:
        failed = [check for check in self.checks if check.passed is False]
        report = QualityReport(
            passed=not failed,
            reason=summarise(failed),
            target=target if failed else None,
            checks=self.checks,
            config=self.config,
            static=self.static,
            hollow=self.hollow,
            coverage=self.coverage,
            mutation=self.mutation,
            sandbox_runs=self.sandbox_runs,
            duration_s=round(time.monotonic() - started, 3),
        )
        if failed:
            report.feedback = feedback or describe_failures(report, self.solution)
        return report


def _mutant_result(
    mutant: Mutant, result: Result | None, missing_lines: set[int] | None
) -> MutantResult:
    if result is None and missing_lines is not None and mutant.line in missing_lines:
        outcome, status = "survived", "not_run: no test executes this line"
    elif result is None or result.status == Status.SANDBOX_ERROR:
        outcome, status = "unknown", (result.status.value if result else "missing")
    else:  # failing, erroring, timing out or running out of memory all count as killed
        outcome, status = ("survived" if result.passed else "killed"), result.status.value
    return MutantResult(
        index=mutant.index,
        operator=mutant.operator,
        line=mutant.line,
        original=mutant.original,
        mutated=mutant.mutated,
        diff=mutant.diff,
        outcome=outcome,
        status=status,
        executed=(mutant.line not in missing_lines) if missing_lines is not None else None,
        equivalence_hint=mutant.equivalence_hint,
    )


def _operator_scores(outcomes: list[MutantResult]) -> list[OperatorScore]:
    scores = []
    for operator in OPERATORS:
        mine = [outcome for outcome in outcomes if outcome.operator == operator]
        if mine:
            killed = sum(1 for outcome in mine if outcome.outcome == "killed")
            scores.append(OperatorScore(operator=operator, mutants=len(mine), killed=killed))
    return scores
