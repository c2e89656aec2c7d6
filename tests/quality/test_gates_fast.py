"""Gate logic that needs no sandbox: cheap gates stop before any job is sent, config is
validated, and mutant outcomes are classified."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from factory.quality import QualityConfig
from factory.quality.assess import _mutant_result, assess
from factory.quality.mutation import generate_mutants
from sandbox.models import Result, Status

PROBLEM = {"entry_point": "f", "signature": "def f(x: int) -> int"}
SOLUTION = "def f(x):\n    if x > 0:\n        return x\n    return -x\n"


class RefusingRunner:
    """A runner (our JobRunner interface) for paths that must not spend sandbox time."""

    def map(self, jobs, max_in_flight=None):
        raise AssertionError("the sandbox was used")


def _assess(solution, tests, config=None):
    return asyncio.run(assess(RefusingRunner(), PROBLEM, solution, tests, config))


def test_static_failure_stops_before_the_sandbox():
    report = _assess("def f(x)\n    return x\n", "from solution import f\n")
    assert not report.passed and report.failed_checks == ["static"]
    assert report.target == "solution"
    assert "syntax error in the solution, line 1" in report.feedback
    assert report.sandbox_runs == 0


def test_hollow_counts_fail_fast_before_the_sandbox():
    tests = "from solution import f\n\ndef test_one():\n    assert f(1) == 1\n"
    report = _assess(SOLUTION, tests)
    assert report.failed_checks == ["min_tests", "min_asserts"]
    assert report.reason == "min_tests 1 < 3; min_asserts 1 < 3"
    assert report.target == "tests"
    assert "Only 1 test function(s); write at least 3" in report.feedback
    assert "Only 1 assertion(s); write at least 3" in report.feedback
    assert report.hollow.n_test_functions == 1 and report.sandbox_runs == 0


def test_thresholds_are_configurable():
    tests = "from solution import f\n\ndef test_one():\n    assert f(1) == 1\n"
    config = QualityConfig(min_tests=1, min_asserts=1)
    with pytest.raises(AssertionError, match="the sandbox was used"):
        _assess(SOLUTION, tests, config)  # passes the cheap gates, so it goes on to run jobs


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_coverage", 1.5),
        ("min_mutation_score", -0.1),
        ("min_tests", -1),
        ("max_mutants", -3),
        ("mutant_timeout_s", 0),
        ("unknown_option", 1),
    ],
)
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValidationError):
        QualityConfig(**{field: value})


@pytest.mark.parametrize(
    ("status", "passed", "outcome"),
    [
        (Status.PASSED, True, "survived"),
        (Status.FAILED, False, "killed"),
        (Status.ERROR, False, "killed"),
        (Status.TIMEOUT, False, "killed"),
        (Status.OOM, False, "killed"),
        (Status.SYNTAX_ERROR, False, "killed"),
        (Status.SANDBOX_ERROR, False, "unknown"),
    ],
)
def test_mutant_outcomes(status, passed, outcome):
    mutant = generate_mutants(SOLUTION, 1)[0]
    result = Result(id="m", status=status, passed=passed)
    judged = _mutant_result(mutant, result, missing_lines={mutant.line})
    assert judged.outcome == outcome and judged.status == status.value
    assert judged.executed is False
    assert _mutant_result(mutant, None, None).outcome == "unknown"
