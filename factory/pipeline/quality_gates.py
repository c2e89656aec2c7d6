"""The test-strength checks (``factory.quality``) as the generation loop uses them.

Two hooks (see ``factory.pipeline.flow``):

- :func:`static_precheck` runs before each sandbox run of a candidate. A syntax error, a missing
  entry point, parameters that differ from the declared signature, or tests that never use the
  entry point are sent back to repair without spending sandbox time; so is code that uses what
  only forging a verdict needs (the forgery gate, :mod:`factory.quality.forgery`).
- :class:`StrengthGate` judges a candidate the sandbox passed: coverage, mutants and the
  hollow-test guards. A rejection asks for a repair of the tests (the solution passes them, so
  they are what is in doubt) with the surviving mutants or uncovered lines as feedback; the
  full :class:`~factory.quality.report.QualityReport` is stored on the row either way.
"""

from __future__ import annotations

from factory.pipeline.gates import Candidate
from factory.quality.assess import JobRunner, assess
from factory.quality.config import QualityConfig
from factory.quality.forgery import find_forgery
from factory.quality.static import check_static
from factory.records import STATIC_GATE, QualityMetrics, Rejection, Side, Verdict
from factory.stages.propose import Problem
from sandbox import Status

# The verdict's error of a candidate the static checks turned down is this, ": ", the issue.
NOT_RUN = "rejected by the static checks before any sandbox run"


FORGERY_GATE = "forgery"  # code that uses what only forging a verdict needs
# The verdict's error of a candidate the forgery gate turned down is this, ": ", the finding.
FORGERY_NOT_RUN = "rejected by the forgery gate before any sandbox run"

Precheck = tuple[Verdict, Rejection]


def static_precheck(
    problem: Problem, solution: str, tests: str, static: bool = True, forgery: bool = True
) -> Precheck | None:
    """None when the candidate may go to the sandbox; otherwise the verdict it gets without a
    run (``sandbox_attempts`` 0) and what a repair must fix.

    ``static``: the static checks; ``forgery``: the forgery gate (:mod:`factory.quality.forgery`),
    after them (code with a syntax error is the static checks' to report, or the sandbox's).
    """
    report = check_static(solution, tests, problem.entry_point, problem.signature)
    if report.passed or not static:
        return forgery_precheck(solution, tests) if forgery and not report.syntax_errors else None
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


def forgery_precheck(solution: str, tests: str) -> Precheck | None:
    """The forgery gate: code that uses what only forging a verdict needs goes back to
    repair, with the reason, before any sandbox time (counted as gate ``forgery``)."""
    sides: tuple[tuple[Side, str], ...] = (("solution", solution), ("tests", tests))
    for side, source in sides:
        findings = find_forgery(source)
        if not findings:
            continue
        first = findings[0]
        message = (
            f"the {side} {first.message} (line {first.line}); such code is only needed to "
            "forge a verdict, so it is not run: remove it"
        )
        lines = "\n".join(f"- {side} line {f.line}: {f.message}" for f in findings)
        verdict = Verdict(
            status=Status.ERROR,
            passed=False,
            error=f"{FORGERY_NOT_RUN}: {message}",
            sandbox_attempts=0,
        )
        return verdict, Rejection(
            gate=FORGERY_GATE,
            reason=first.check,
            feedback="status: error (rejected by the forgery gate without running the code)\n"
            + lines,
            side=side,
        )
    return None


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
