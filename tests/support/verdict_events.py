"""The events the worker's pytest hooks emit for a test and a session, built for the verdict
rules' tests (no Docker): the account a job gives of itself."""

from __future__ import annotations


def started(name):
    return {"event": "test_start", "name": name}


def phase(name, when, outcome="passed", message="", xfail=False):
    return {
        "event": "test_phase",
        "name": name,
        "phase": when,
        "outcome": outcome,
        "xfail": xfail,
        "message": message,
        "traceback": f"traceback of {name}" if outcome == "failed" else "",
        "duration": 0.001,
    }


def ran(name, call="passed", message="", xfail=False, setup="passed"):
    """The events of one test that went through setup, call and teardown."""
    events = [started(name), phase(name, "setup", setup)]
    if setup == "passed":
        events.append(phase(name, "call", call, message, xfail))
    return [*events, phase(name, "teardown")]


def finished(collected, failed=0, exitstatus=0):
    """The end of a session: pytest's own summary hook, then the worker's 'returned' mark."""
    return [
        {
            "event": "session_finished",
            "collected": collected,
            "failed": failed,
            "exitstatus": exitstatus,
        },
        {"event": "completed"},
    ]
