"""Turning failed checks into a one-line reason (for the rejected split and the run's counters)
and into feedback a model can act on when it rewrites the tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from factory.quality.report import CheckResult, QualityReport

MAX_SURVIVORS_SHOWN = 10
MAX_LINES_SHOWN = 15


def summarise(failed: list[CheckResult]) -> str:
    """``"mutation_score 0.40 < 0.70; min_tests 2 < 3"``: what failed, in one line."""
    parts = []
    for check in failed:
        if check.value is not None and check.threshold is not None:
            parts.append(f"{check.name} {_number(check.value)} < {_number(check.threshold)}")
        elif check.detail:
            parts.append(f"{check.name}: {check.detail}")
        else:
            parts.append(check.name)
    return "; ".join(parts)


def describe_failures(report: QualityReport, solution: str) -> str:
    """What is wrong with the tests and what to add, for a ``repair`` with target ``tests``."""
    lines = [
        "The solution passes these tests, but the tests are too weak to prove it correct. "
        "Rewrite the test file: keep the correct tests and add what is missing below."
    ]
    for name in report.failed_checks:
        lines.extend(_SECTIONS[name](report, solution.splitlines()))
    return "\n".join(lines)


def _min_tests(report: QualityReport, source: list[str]) -> list[str]:
    check = report.check("min_tests")
    return [
        f"- Only {_number(check.value)} test function(s); write at least "
        f"{_number(check.threshold)}, each checking a different behaviour or edge case."
    ]


def _min_asserts(report: QualityReport, source: list[str]) -> list[str]:
    check = report.check("min_asserts")
    return [
        f"- Only {_number(check.value)} assertion(s); write at least {_number(check.threshold)} "
        "that compare results with exact expected values."
    ]


def _trivial(report: QualityReport, source: list[str]) -> list[str]:
    accepted = [item.name for item in report.hollow.trivial if item.passed]
    return [
        f"- A stand-in whose body is just `{accepted[0]}` passes every test: assert the exact "
        "values the function must return instead of only types, truthiness or absence of errors."
    ]


def _emptied(report: QualityReport, source: list[str]) -> list[str]:
    names = ", ".join(report.hollow.emptied_module_passing_tests[:MAX_SURVIVORS_SHOWN])
    return [
        f"- These tests pass even when solution.py is empty, so they test nothing: {names}. "
        "Every test must call the function under test and check its result."
    ]


def _coverage(report: QualityReport, source: list[str]) -> list[str]:
    check = report.check("coverage")
    coverage = report.coverage
    if coverage is None or coverage.error:
        return [f"- Coverage could not be measured: {check.detail}"]
    shown = coverage.missing_lines[:MAX_LINES_SHOWN]
    text = [
        f"- The tests run only {coverage.line_rate:.0%} of the solution's lines (at least "
        f"{check.threshold:.0%} needed). No test reaches these lines of solution.py; add inputs "
        "that take those paths:"
    ]
    for line in shown:
        code = source[line - 1].strip() if 0 < line <= len(source) else ""
        text.append(f"    line {line}: {code}")
    if len(coverage.missing_lines) > len(shown):
        text.append(f"    ... and {len(coverage.missing_lines) - len(shown)} more")
    return text


def _branch_coverage(report: QualityReport, source: list[str]) -> list[str]:
    check = report.check("branch_coverage")
    arcs = ", ".join(
        f"{a}->{'exit' if b < 0 else b}" for a, b in report.coverage.missing_branches[:10]
    )
    return [
        f"- Only {_number(check.value)} of the solution's branches are taken (at least "
        f"{_number(check.threshold)} needed); never taken: {arcs}"
    ]


def _mutation(report: QualityReport, source: list[str]) -> list[str]:
    check = report.check("mutation_score")
    mutation = report.mutation
    if mutation is None or check.value is None:
        return [f"- The mutation score could not be measured: {check.detail}"]
    text = [
        f"- Only {mutation.killed} of {mutation.killed + mutation.survived} altered versions "
        f"of the solution fail the tests (score {check.value:.2f}, at least {check.threshold:.2f} "
        "needed). These wrong versions still pass every test; add tests that the correct "
        "solution passes and they fail:"
    ]
    for number, survivor in enumerate(mutation.survivors[:MAX_SURVIVORS_SHOWN], start=1):
        notes = []
        if survivor.executed is False:
            notes.append("no test runs this line")
        if survivor.equivalence_hint:
            notes.append(f"may be equivalent: {survivor.equivalence_hint}")
        note = f" ({'; '.join(notes)})" if notes else ""
        text.append(f"  {number}. line {survivor.line}{note}:")
        text.extend("       " + line for line in survivor.diff.splitlines())
    if len(mutation.survivors) > MAX_SURVIVORS_SHOWN:
        text.append(f"  ... and {len(mutation.survivors) - MAX_SURVIVORS_SHOWN} more")
    return text


def _unmeasured(report: QualityReport, source: list[str]) -> list[str]:
    return []


def _number(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


_SECTIONS = {
    "static": _unmeasured,
    "baseline": _unmeasured,
    "min_tests": _min_tests,
    "min_asserts": _min_asserts,
    "trivial_solutions": _trivial,
    "emptied_module": _emptied,
    "coverage": _coverage,
    "branch_coverage": _branch_coverage,
    "mutation_score": _mutation,
}
