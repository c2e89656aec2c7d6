"""The verdict rules of trusted mode, from the judge's account of a job (no Docker)."""

from __future__ import annotations

import pytest

from sandbox.models import Job, Status
from sandbox.verdict import classify
from tests.support.verdict_events import ran

JOB = Job(id="t", solution="", tests="", mode="trusted", entry_points=["f"])
START = [{"event": "forked", "pid": 7}, {"event": "started"}]
SESSION = {"event": "session_finished", "collected": 1, "failed": 0, "exitstatus": 0}


def judge(*events, **raw):
    return classify(JOB, {"events": [*START, *events], **raw}, 5.0, 1024)


def exception(kind, message=""):
    return {"event": "exception", "type": kind, "message": f"{kind}: {message}"}


@pytest.mark.parametrize(
    ("events", "raw", "status"),
    [
        ([{"event": "completed", "calls": 3}], {}, Status.PASSED),
        ([exception("AssertionError")], {}, Status.FAILED),
        ([exception("ZeroDivisionError", "division by zero")], {}, Status.ERROR),
        ([exception("CandidateError", "what f returned is a generator")], {}, Status.ERROR),
        ([exception("CallTimeout", "the 0.5 s limit")], {}, Status.TIMEOUT),
        ([exception("MemoryError")], {}, Status.OOM),
        ([{"event": "syntax_error", "file": "solution.py", "message": "x"}], {}, Status.SYNTAX_ERROR),
        ([], {"exit_code": 0}, Status.ERROR),  # the judge never reached its end
        ([{"event": "completed"}], {"timed_out": True}, Status.TIMEOUT),
        ([{"event": "completed"}], {"oom_killed": True}, Status.OOM),
        ([*ran("t::a"), SESSION, {"event": "completed"}], {}, Status.PASSED),
        ([*ran("t::a", call="skipped"), SESSION, {"event": "completed"}], {}, Status.FAILED),
        ([*ran("t::a", call="failed", message="no"), SESSION, exception("AssertionError")], {},
         Status.FAILED),
    ],
)  # fmt: skip
def test_trusted_verdicts(events, raw, status):
    result = judge(*events, **raw)
    assert result.status == status, result.error
    assert result.passed == (status == Status.PASSED)


def test_what_the_judge_reported_is_the_results_data_last_value_wins():
    result = judge(
        {"event": "report", "key": "input", "value": [1, 2]},
        {"event": "report", "key": "input", "value": [3]},
        {"event": "report", "key": "expected", "value": "x"},
        {"event": "completed"},
    )
    assert result.passed and result.data == {"input": [3], "expected": "x"}
    assert judge(exception("AssertionError")).data == {}


def test_a_failed_pytest_session_in_the_judge_names_its_tests():
    result = judge(*ran("t.py::test_a", call="failed", message="boom"), SESSION,
                   exception("AssertionError", "the tests did not all pass"))  # fmt: skip
    assert result.status == Status.FAILED and "test_a" in result.error
    assert [t.name for t in result.tests] == ["t.py::test_a"]


def _sample_end(index, settled=True, limit=None, cpu_s=0.01):
    return {"event": "sample_end", "sample": index, "settled": settled, "why": "",
            "limit": limit, "cpu_s": cpu_s, "duration_s": 0.02, "cpu_budget_s": 3.0}  # fmt: skip


def test_a_batch_gives_each_candidate_its_own_verdict_or_none_when_unsettled():
    from sandbox.verdict import classify_batch

    batch = Job.batched([JOB.model_copy(update={"id": f"t{index}"}) for index in range(5)])
    events = [
        *START,
        {"event": "completed", "calls": 1, "sample": 0},
        _sample_end(0),
        {**exception("AssertionError"), "sample": 1},
        _sample_end(1),
        _sample_end(2, limit="cpu", cpu_s=3.01),
        {**exception("CandidateError", "the candidate process ended"), "sample": 3},
        _sample_end(3, settled=False),
        {"event": "completed"},  # the batch's own end; candidate 4 never ended
    ]
    results = classify_batch(batch, {"events": events}, 10.0, 1024)
    assert [r.id if r else None for r in results] == ["t0", "t1", "t2", None, None]
    assert [r.status for r in results[:3]] == [Status.PASSED, Status.FAILED, Status.TIMEOUT]
    assert results[2].limit == "cpu" and results[2].error == "used up its 3 s CPU-time budget"
    tampered = classify_batch(batch, {"events": events, "events_tampered": True}, 10.0, 1024)
    assert tampered == [None] * 5
    forged = [*events[:2], {"event": "sample_end", "sample": 1, "settled": "yes"}]
    assert classify_batch(batch, {"events": forged}, 10.0, 1024) == [None] * 5
