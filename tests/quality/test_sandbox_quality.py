"""The gates through the real sandbox: coverage, mutants, trivial and emptied solutions."""

from __future__ import annotations

import pytest

from factory.quality import QualityConfig, assess
from factory.quality.gates import MIN_MUTANT_CPU_S
from sandbox import Job, Status

pytestmark = pytest.mark.docker

SIGNATURE = "def clamp_sum(xs: list[int], k: int) -> int"
PROBLEM = {"entry_point": "clamp_sum", "signature": SIGNATURE}
SOLUTION = '''def clamp_sum(xs, k):
    """Sum of the items, each capped at k."""
    total = 0
    for x in xs:
        if x > k:
            total += k
        else:
            total += x
    return total
'''
STRONG_TESTS = """from solution import clamp_sum


def test_empty():
    assert clamp_sum([], 3) == 0


def test_below_the_cap():
    assert clamp_sum([1, 2], 5) == 3


def test_capped():
    assert clamp_sum([1, 7, 3], 3) == 7


def test_negative_and_zero_cap():
    assert clamp_sum([-2, 10], 0) == -2
    assert clamp_sum([4, 4], 4) == 8
"""
WEAK_TESTS = """from solution import clamp_sum


def test_returns_something():
    assert clamp_sum([1], 2) is not None


def test_empty_returns_something():
    assert clamp_sum([], 2) is not None


def test_type():
    assert isinstance(clamp_sum([1, 2], 5), int)
"""
# Every test runs the solution, but none takes the `x > k` branch.
UNTESTED_BRANCH_TESTS = """from solution import clamp_sum


def test_small_values():
    assert clamp_sum([1, 2], 5) == 3


def test_empty():
    assert clamp_sum([], 5) == 0


def test_at_the_cap():
    assert clamp_sum([5], 5) == 5
"""


def test_coverage_reports_the_untested_branch(sandbox_pool):
    job = Job(id="cov", solution=SOLUTION, tests=UNTESTED_BRANCH_TESTS, coverage=True)
    result = sandbox_pool.run(job)
    assert result.status == Status.PASSED
    coverage = result.coverage
    assert coverage is not None and coverage.error == ""
    # Statements (coverage.py leaves docstrings out): def, total = 0, for, if, total += k,
    # total += x, return.
    assert coverage.lines_total == 7
    assert coverage.missing_lines == [6]
    assert coverage.lines_covered == 6
    # Branches: for -> body / exit, if -> then / else.
    assert coverage.branches_total == 4
    assert coverage.missing_branches == [(5, 6)]
    assert coverage.branches_covered == 3


def test_coverage_counts_only_the_solution_and_only_when_asked(sandbox_pool):
    full = sandbox_pool.run(
        Job(id="cov-full", solution=SOLUTION, tests=STRONG_TESTS, coverage=True)
    )
    assert full.coverage.lines_covered == full.coverage.lines_total == 7
    assert full.coverage.branches_covered == full.coverage.branches_total == 4
    plain = sandbox_pool.run(Job(id="plain", solution=SOLUTION, tests=STRONG_TESTS))
    assert plain.passed and plain.coverage is None


def test_coverage_of_a_failing_run_still_reported_and_never_decides(sandbox_pool):
    tests = (
        "from solution import clamp_sum\n\ndef test_wrong():\n    assert clamp_sum([9], 1) == 9\n"
    )
    result = sandbox_pool.run(Job(id="cov-fail", solution=SOLUTION, tests=tests, coverage=True))
    assert result.status == Status.FAILED and not result.passed
    assert result.coverage.missing_lines == [8]


def test_coverage_ignores_a_config_file_the_job_brings(sandbox_pool):
    """A job's own .coveragerc cannot exclude lines from the measurement."""
    rc = "[run]\nomit = *\n[report]\nexclude_lines =\n    total\n"
    job = Job(
        id="cov-rc",
        solution=SOLUTION,
        tests=UNTESTED_BRANCH_TESTS,
        coverage=True,
        files={".coveragerc": rc, "setup.cfg": "[coverage:run]\nomit = *\n"},
    )
    result = sandbox_pool.run(job)
    assert result.coverage.lines_total == 7 and result.coverage.missing_lines == [6]


def test_strong_tests_pass_every_gate(on_pool):
    report = on_pool(lambda pool: assess(pool, PROBLEM, SOLUTION, STRONG_TESTS))
    assert report.passed, report.reason
    assert report.failed_gates == [] and report.feedback == ""
    assert report.coverage.line_rate == 1.0
    assert report.mutation.score >= 0.7
    assert report.mutation.n_mutants >= 8
    assert [item.passed for item in report.hollow.trivial] == [False] * 4
    assert report.hollow.emptied_module_passing_tests == []
    assert report.hollow.emptied_module_status != "passed"
    assert report.sandbox_runs == 1 + 4 + 1 + report.mutation.n_mutants
    assert {gate.name for gate in report.gates if gate.passed} >= {
        "static", "min_tests", "min_asserts", "baseline", "trivial_solutions",
        "emptied_module", "coverage", "mutation_score",
    }  # fmt: skip


def test_weak_tests_fail_the_mutation_gate_with_survivors_in_feedback(on_pool):
    config = QualityConfig(fail_fast=False)
    report = on_pool(lambda pool: assess(pool, PROBLEM, SOLUTION, WEAK_TESTS, config))
    assert not report.passed and report.target == "tests"
    assert report.mutation.score < 0.3
    assert "mutation_score" in report.failed_gates
    assert report.mutation.survived == len(report.mutation.survivors) > 3
    first = report.mutation.survivors[0]
    assert first.diff in report.feedback.replace("\n       ", "\n")
    assert "altered versions of the solution fail the tests" in report.feedback
    # `return 0` passes `is not None` and `isinstance(..., int)`: a trivial solution gets in.
    assert "trivial_solutions" in report.failed_gates
    assert [item.name for item in report.hollow.trivial if item.passed] == ["return 0"]
    assert "`return 0` passes every test" in report.feedback
    # Mutants on the line no test executes (`total += k`) survive without a sandbox run.
    not_run = [m for m in report.mutation.survivors if m.status.startswith("not_run")]
    assert not_run and {m.line for m in not_run} == {6}
    assert all(m.executed is False for m in not_run)
    assert report.sandbox_runs == 6 + report.mutation.n_mutants - len(not_run)


def test_uncovered_lines_named_in_feedback(on_pool):
    report = on_pool(lambda pool: assess(pool, PROBLEM, SOLUTION, UNTESTED_BRANCH_TESTS))
    assert report.failed_gates == ["coverage"]
    assert report.reason == "coverage 0.86 < 0.90"
    assert "line 6: total += k" in report.feedback
    assert report.mutation is None  # fail fast: no mutant was run
    assert report.sandbox_runs == 6


def test_trivial_solution_must_fail(on_pool):
    tests = """from solution import clamp_sum


def test_one():
    assert clamp_sum([], 1) in (None, 0)


def test_two():
    assert not clamp_sum([0], 1)


def test_three():
    assert clamp_sum([0, 0], 1) == 0
"""
    report = on_pool(lambda pool: assess(pool, PROBLEM, SOLUTION, tests))
    assert report.gate("trivial_solutions").passed is False
    assert [item.name for item in report.hollow.trivial if item.passed] == ["return 0"]


def test_tests_that_pass_without_the_solution_are_caught(on_pool):
    tests = """import solution


def test_uses_it():
    assert solution.clamp_sum([1, 5], 2) == 3


def test_arithmetic():
    assert 1 + 1 == 2


def test_more_arithmetic():
    assert 2 * 2 == 4
"""
    report = on_pool(lambda pool: assess(pool, PROBLEM, SOLUTION, tests))
    assert report.gate("emptied_module").passed is False
    assert sorted(report.hollow.emptied_module_passing_tests) == [
        "test_solution.py::test_arithmetic",
        "test_solution.py::test_more_arithmetic",
    ]
    assert "pass even when solution.py is empty" in report.feedback


def test_emptied_module_makes_every_strong_test_fail(sandbox_pool):
    from factory.quality.hollow import EMPTIED_MODULE

    result = sandbox_pool.run(Job(id="emptied", solution=EMPTIED_MODULE, tests=STRONG_TESTS))
    assert not result.passed
    assert result.tests and all(test.outcome != "passed" for test in result.tests)


def test_mutant_that_loops_forever_counts_as_killed(on_pool):
    solution = """def count_down(n):
    steps = 0
    while n > 0:
        n -= 1
        steps += 1
    return steps
"""
    tests = """from solution import count_down


def test_zero():
    assert count_down(0) == 0


def test_three():
    assert count_down(3) == 3


def test_ten():
    assert count_down(10) == 10
"""
    problem = {"entry_point": "count_down", "signature": "def count_down(n: int) -> int"}
    config = QualityConfig(mutant_timeout_s=2.0, max_mutants=50)
    report = on_pool(lambda pool: assess(pool, problem, solution, tests, config))
    assert report.passed, report.reason
    # a CPU budget: a few times the real solution's CPU time, within the configured bound
    assert MIN_MUTANT_CPU_S <= report.mutation.timeout_s <= 2.0
    assert report.mutation.survived == 0 and report.mutation.score == 1.0
    drop = next(op for op in report.mutation.operators if op.operator == "drop_statement")
    assert drop.killed == drop.mutants >= 2  # dropping `n -= 1` loops forever: a timeout
