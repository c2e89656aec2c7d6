"""The test-strength checks (``factory.quality``) as the generation loop uses them.

Two hooks (see ``factory.pipeline.flow``):

- :func:`static_precheck` runs before each sandbox run of a candidate. A syntax error, a missing
  entry point, parameters that differ from the declared signature, or tests that never use the
  entry point are sent back to repair without spending sandbox time.
- :class:`StrengthGate` judges a candidate the sandbox passed: coverage, mutants and the
  hollow-test guards. A rejection asks for a repair of the tests (the solution passes them, so
  they are what is in doubt) with the surviving mutants or uncovered lines as feedback; the
  full :class:`~factory.quality.report.QualityReport` is stored on the row either way.
"""

from __future__ import annotations

from factory.pipeline.gates import Candidate
from factory.quality.assess import JobRunner, assess
from factory.quality.config import QualityConfig
from factory.quality.static import check_static
from factory.records import STATIC_GATE, QualityMetrics, Rejection, Verdict
from factory.stages.propose import Problem
from sandbox import Status

# The verdict's error of a candidate the static checks turned down is this, ": ", the issue.
NOT_RUN = "rejected by the static checks before any sandbox run"


def static_precheck(
    problem: Problem, solution: str, tests: str
) -> tuple[Verdict, Rejection] | None:
    """None when the candidate may go to the sandbox; otherwise the verdict it gets without a
    run (``sandbox_attempts`` 0) and what a repair must fix."""
    report = check_static(solution, tests, problem.entry_point, problem.signature)
    if report.passed:
        return None
    first = report.issues[0]
    status = Status.SYNTAX_ERROR if report.syntax_errors else Status.ERROR
    verdict = Verdict(
        status=status, passed=False, error=f"{NOT_RUN}: {first.message}", sandbox_attempts=0
    )
    return verdict, Rejection(
        gate=STATIC_GATE,
        reason=first.check,
        feedback=f"status: {status.value} (found without running the code)\n{report.feedback()}",
        side=report.target,
    )


class StrengthGate:
    """A :class:`factory.pipeline.gates.Gate` applying the test-strength checks."""

    name = "test_strength"

    def __init__(self, pool: JobRunner, config: QualityConfig):
        self.pool = pool
        self.config = config

    async def __call__(self, candidate: Candidate, quality: QualityMetrics) -> Rejection | None:
        report = await assess(
            self.pool, candidate.problem, candidate.solution, candidate.tests, self.config
        )
        mutation = report.mutation
        coverage = report.coverage if report.coverage and not report.coverage.error else None
        quality.line_coverage = round(coverage.line_rate, 4) if coverage else None
        quality.branch_coverage = round(coverage.branch_rate, 4) if coverage else None
        quality.mutation_score = mutation.score if mutation else None
        quality.strength = report
        if report.passed:
            return None
        # A stable, countable reason ("coverage+mutation_score"); the figures are in the report.
        return Rejection(
            gate=self.name,
            reason="+".join(report.failed_checks),
            feedback=report.feedback,
            side=report.target,
        )
