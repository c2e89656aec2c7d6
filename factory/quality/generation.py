"""The test-strength gates as the generation loop uses them.

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

from dataclasses import dataclass
from typing import Literal

from factory.pipeline.gates import Candidate, GateDecision, keep, reject
from factory.quality.config import QualityConfig
from factory.quality.forgery import find_forgery
from factory.quality.gates import JobRunner, assess
from factory.quality.static import check_static
from factory.records import QualityMetrics, Verdict
from factory.stages.propose import Problem
from sandbox import Status


@dataclass(frozen=True)
class StaticRejection:
    """Why a candidate was not worth a sandbox run; its verdict says it was never run."""

    reason: str  # the check that failed, e.g. "syntax"
    message: str
    feedback: str
    target: Literal["solution", "tests"] | None
    verdict: Verdict
    gate: str | None = None  # the gate that rejected it, when one did (``forgery``)


def static_precheck(
    problem: Problem, solution: str, tests: str, static: bool = True, forgery: bool = True
) -> StaticRejection | None:
    """None when the candidate may go to the sandbox; otherwise what a repair must fix.

    ``static``: the static checks; ``forgery``: the forgery gate (:mod:`forgery`), after them.
    """
    report = check_static(solution, tests, problem.entry_point, problem.signature)
    if report.passed or not static:
        return forgery_precheck(solution, tests) if forgery and not report.syntax_errors else None
    first = report.issues[0]
    status = Status.SYNTAX_ERROR if report.syntax_errors else Status.ERROR
    verdict = Verdict(
        status=status,
        passed=False,
        error=f"rejected by the static checks before any sandbox run: {first.message}",
        sandbox_attempts=0,
    )
    return StaticRejection(
        reason=first.check,
        message=first.message,
        feedback=f"status: {status.value} (found without running the code)\n{report.feedback()}",
        target=report.target,
        verdict=verdict,
    )


def forgery_precheck(solution: str, tests: str) -> StaticRejection | None:
    """The forgery gate: code that uses what only forging a verdict needs goes back to
    repair, with the reason, before any sandbox time (counted as gate ``forgery``)."""
    for side, source in (("solution", solution), ("tests", tests)):
        findings = find_forgery(source)
        if not findings:
            continue
        first = findings[0]
        message = (
            f"the {side} {first.message} (line {first.line}); such code is only needed to "
            "forge a verdict, so it is not run: remove it"
        )
        lines = "\n".join(f"- {side} line {f.line}: {f.message}" for f in findings)
        return StaticRejection(
            reason=first.check,
            message=message,
            feedback="status: error (rejected by the forgery gate without running the code)\n"
            + lines,
            target=side,
            verdict=Verdict(
                status=Status.ERROR,
                passed=False,
                error=f"rejected by the forgery gate before any sandbox run: {message}",
                sandbox_attempts=0,
            ),
            gate="forgery",
        )
    return None


class StrengthGate:
    """A :class:`factory.pipeline.gates.Gate` applying the test-strength gates."""

    name = "test_strength"

    def __init__(self, pool: JobRunner, config: QualityConfig):
        self.pool = pool
        self.config = config

    async def __call__(self, candidate: Candidate) -> GateDecision:
        report = await assess(
            self.pool, candidate.problem, candidate.solution, candidate.tests, self.config
        )
        mutation = report.mutation
        coverage = report.coverage if report.coverage and not report.coverage.error else None
        metrics = QualityMetrics(
            line_coverage=round(coverage.line_rate, 4) if coverage else None,
            branch_coverage=round(coverage.branch_rate, 4) if coverage else None,
            mutation_score=mutation.score if mutation else None,
            strength=report,
        )
        if report.passed:
            return keep(metrics)
        # A stable, countable reason ("coverage+mutation_score"); the figures are in the report.
        return reject("+".join(report.failed_gates), report.feedback, metrics, target=report.target)
