"""The verdict rules, from the worker's raw account of a job to a status (no Docker).

Each case is the sequence of events the worker's pytest hooks emit, plus what the worker saw
from outside (timeout, OOM kill, exit status). The cases include accounts that a job could
produce by exiting early or printing fake results: only a complete, consistent account passes.
"""

from __future__ import annotations

import pytest

from sandbox.models import Job, Status
from sandbox.verdict import classify
from tests.support.verdict_events import finished, phase, ran, started

LIMIT = 1024


A, B = "test_solution.py::test_a", "test_solution.py::test_b"
START = [{"event": "started"}]

PYTEST_CASES = {
    "all passed": (START + ran(A) + ran(B) + finished(2), {}, Status.PASSED),
    "one failed": (
        START + ran(A) + ran(B, "failed", "assert 1 == 2") + finished(2, 1, 1),
        {},
        Status.FAILED,
    ),
    "setup error": (START + ran(A, setup="failed") + finished(1, 1, 1), {}, Status.ERROR),
    "skipped": (START + ran(A, "skipped", "Skipped: no") + finished(1), {}, Status.FAILED),
    "xfail": (START + ran(A, "skipped", xfail=True) + finished(1), {}, Status.FAILED),
    "xpass": (START + ran(A, "passed", xfail=True) + finished(1), {}, Status.FAILED),
    "no tests collected": (START + finished(0, exitstatus=5), {}, Status.FAILED),
    "collection error": (
        [
            *START,
            {
                "event": "collect_error",
                "name": "test_solution.py",
                "message": "ImportError: cannot import name 'g'",
                "traceback": "E   ImportError",
            },
            *finished(0, 1, 2),
        ],
        {},
        Status.ERROR,
    ),
    "process died mid-session (os._exit)": (
        [*START, started(A), phase(A, "setup")],
        {"exit_code": 0},
        Status.ERROR,
    ),
    "session finished but the process never returned": (
        START + ran(A) + finished(1)[:1],
        {"exit_code": 0},
        Status.ERROR,
    ),
    "interrupted session": (START + ran(A) + finished(1, exitstatus=2), {}, Status.ERROR),
    "internal error": (START + finished(0, exitstatus=3), {}, Status.ERROR),
    "fewer reports than collected tests": (START + ran(A) + finished(2), {}, Status.ERROR),
    "test started but never called": (
        [*START, started(A), phase(A, "setup"), phase(A, "teardown"), *finished(1)],
        {},
        Status.ERROR,
    ),
    "nonzero pytest exit status despite passes": (
        START + ran(A) + finished(1, exitstatus=1),
        {},
        Status.ERROR,
    ),
    "timed out": ([*START, started(A), phase(A, "setup")], {"timed_out": True}, Status.TIMEOUT),
    "oom kill wins over passing events": (
        START + ran(A) + finished(1),
        {"oom_killed": True},
        Status.OOM,
    ),
    "MemoryError in a test": (
        START + ran(A, "failed", "MemoryError") + finished(1, 1, 1),
        {},
        Status.OOM,
    ),
    "tampered channel wins over a pass": (
        START + ran(A) + finished(1),
        {"events_tampered": True},
        Status.ERROR,
    ),
    "report cut at the size limit wins over a pass": (
        START + ran(A) + finished(1),
        {"events_overflow": True, "events_limit_bytes": 4 * 2**20},
        Status.ERROR,
    ),
    "syntax error": (
        [*START, {"event": "syntax_error", "file": "solution.py", "message": "invalid syntax"}],
        {},
        Status.SYNTAX_ERROR,
    ),
    "nothing at all, exit status 0": ([], {"exit_code": 0}, Status.ERROR),
    "fake summary printed, no events": (
        [],
        {"exit_code": 0, "stdout": "===== 10 passed in 0.01s =====\n"},
        Status.ERROR,
    ),
}

SCRIPT_CASES = {
    "reached its end": ([*START, {"event": "completed"}], {}, Status.PASSED),
    "assertion failed": (
        [*START, {"event": "exception", "type": "AssertionError", "message": "AssertionError"}],
        {},
        Status.FAILED,
    ),
    "other exception": (
        [*START, {"event": "exception", "type": "TypeError", "message": "TypeError: x"}],
        {},
        Status.ERROR,
    ),
    "sys.exit(0) before the end": (
        [*START, {"event": "exception", "type": "SystemExit", "message": "SystemExit(0)"}],
        {"exit_code": 0},
        Status.ERROR,
    ),
    "os._exit(0) before the end": (START, {"exit_code": 0}, Status.ERROR),
    "killed by a signal": (START, {"signal": 9}, Status.ERROR),
    "MemoryError": (
        [*START, {"event": "exception", "type": "MemoryError", "message": "MemoryError"}],
        {},
        Status.OOM,
    ),
    "a late forged 'completed' cannot hide the failure": (
        [
            *START,
            {"event": "exception", "type": "AssertionError", "message": "AssertionError"},
            {"event": "completed"},
        ],
        {},
        Status.FAILED,
    ),
    "timed out": (START, {"timed_out": True}, Status.TIMEOUT),
    "syntax error": (
        [{"event": "syntax_error", "file": "program.py", "message": "invalid syntax"}],
        {},
        Status.SYNTAX_ERROR,
    ),
}


def judge(mode: str, events: list, facts: dict, timeout_s: float = 10.0):
    job = Job(id="j", solution="", tests="", mode=mode)
    raw = {"events": events, "stdout": "", "stderr": "", "duration_s": 0.1, **facts}
    return classify(job, raw, timeout_s, LIMIT)


@pytest.mark.parametrize(("events", "facts", "status"), PYTEST_CASES.values(), ids=PYTEST_CASES)
def test_pytest_mode_status(events, facts, status):
    result = judge("pytest", events, facts)
    assert result.status == status, result.error
    assert result.passed == (status == Status.PASSED)
    if status != Status.PASSED:
        assert result.error, "every non-pass explains itself"


@pytest.mark.parametrize(("events", "facts", "status"), SCRIPT_CASES.values(), ids=SCRIPT_CASES)
def test_script_mode_status(events, facts, status):
    result = judge("script", events, facts)
    assert result.status == status, result.error
    assert result.passed == (status == Status.PASSED)
    assert result.tests == []


def test_per_test_outcomes_are_folded_in_run_order():
    events = (
        START
        + ran(A)
        + ran(B, "failed", "assert 1 == 2")
        + ran("test_solution.py::test_c", "skipped", "Skipped: later")
        + ran("test_solution.py::test_d", setup="failed")
        + finished(4, 2, 1)
    )
    result = judge("pytest", events, {})
    assert [(t.name.split("::")[1], t.outcome) for t in result.tests] == [
        ("test_a", "passed"),
        ("test_b", "failed"),
        ("test_c", "skipped"),
        ("test_d", "error"),
    ]
    assert result.tests[1].message == "assert 1 == 2"
    assert result.tests[1].traceback == f"traceback of {B}"
    assert (result.n_tests, result.n_passed) == (4, 1)
    assert result.error.startswith("1 of 4 tests failed: test_b")


def test_timeout_names_the_running_test():
    result = judge("pytest", START + ran(A) + [started(B)], {"timed_out": True}, timeout_s=2.5)
    assert result.error == f"exceeded the 2.5 s time limit while running {B}"


def test_exit_code_and_printed_text_never_make_a_pass():
    """Exit status 0 and a convincing summary on stdout, but no account of a session."""
    facts = {"exit_code": 0, "stdout": "test_solution.py ..\n2 passed in 0.01s\n"}
    assert judge("pytest", START, facts).status == Status.ERROR
    assert judge("script", START, facts).status == Status.ERROR


def test_output_beyond_the_limit_is_flagged_truncated():
    facts = {"stdout": "x" * LIMIT, "stdout_bytes": 200 * 2**20, "stderr_bytes": LIMIT}
    result = judge("script", [*START, {"event": "completed"}], facts)
    assert result.stdout_truncated
    assert not result.stderr_truncated
    assert result.status == Status.PASSED


def test_a_report_cut_at_its_limit_says_so_not_tampering():
    facts = {"events_overflow": True, "events_limit_bytes": 4 * 2**20}
    result = judge("pytest", START + ran(A) + finished(1), facts)
    assert result.status == Status.ERROR
    assert "exceeded the 4 MiB limit" in result.error
    assert "wrote to" not in result.error
