"""Gate logic that needs no sandbox: cheap gates stop before any job is sent, config is
validated, and mutant outcomes are classified."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from factory.quality import QualityConfig
from factory.quality.assess import assess
from factory.quality.mutation import generate_mutants
from sandbox.models import CoverageReport, Result, Status

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


class ScriptedRunner:
    """A runner (our JobRunner interface) that answers each job from a script, by job id:
    the real solution passes under coverage, every stand-in fails, mutants get ``mutants``.

    It speaks the one-job-per-variant path (``one_job=False``), whose verdicts the one-job
    path must reproduce (``tests/quality/test_gates_one_job.py`` checks that in the sandbox)."""

    def __init__(self, mutants: Result | None, missing_lines: list[int]):
        self.mutants = mutants
        self.coverage = CoverageReport(
            lines_total=10, lines_covered=10 - len(missing_lines), missing_lines=missing_lines
        )
        self.mutant_jobs = 0

    async def map(self, jobs, max_in_flight=None):
        for job in jobs:
            if job.id == "baseline":
                yield Result(id=job.id, status=Status.PASSED, passed=True, coverage=self.coverage)
            elif job.id.startswith("mutant:"):
                self.mutant_jobs += 1
                if self.mutants is not None:  # None: the pool lost the job (no result)
                    yield self.mutants.model_copy(update={"id": job.id})
            else:
                yield Result(id=job.id, status=Status.FAILED, passed=False)


LENIENT = QualityConfig(min_tests=1, min_asserts=1, min_coverage=0.0, max_mutants=5)
TESTS = "from solution import f\n\ndef test_f():\n    assert f(2) == 2\n    assert f(-3) == 3\n"


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
    runner = ScriptedRunner(Result(id="m", status=status, passed=passed), missing_lines=[])
    report = asyncio.run(assess(runner, PROBLEM, SOLUTION, TESTS, LENIENT, one_job=False)).mutation
    n = report.n_mutants
    assert n > 0 and runner.mutant_jobs == n
    counts = {"killed": report.killed, "survived": report.survived, "unknown": report.unknown}
    assert counts == {name: n if name == outcome else 0 for name in counts}
    assert [s.status for s in report.survivors] == ([status.value] * n if passed else [])
    assert all(s.executed is True for s in report.survivors)
    assert report.score == {"killed": 1.0, "survived": 0.0, "unknown": None}[outcome]


def test_a_mutant_on_a_line_no_test_runs_survives_without_a_run():
    line = generate_mutants(SOLUTION, 1)[0].line
    runner = ScriptedRunner(Result(id="m", status=Status.FAILED, passed=False), [line])
    report = asyncio.run(assess(runner, PROBLEM, SOLUTION, TESTS, LENIENT, one_job=False)).mutation
    skipped = [s for s in report.survivors if s.line == line]
    assert skipped and all(s.executed is False for s in skipped)
    assert all(s.status == "not_run: no test executes this line" for s in skipped)
    assert runner.mutant_jobs == report.n_mutants - len(skipped)


def test_a_mutant_the_pool_lost_is_unknown():
    report = asyncio.run(
        assess(ScriptedRunner(None, []), PROBLEM, SOLUTION, TESTS, LENIENT, one_job=False)
    )
    assert report.mutation.unknown == report.mutation.n_mutants > 0
    assert report.failed_checks == ["mutation_score"]
