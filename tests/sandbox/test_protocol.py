"""The worker's reply shapes, as the host checks them (``sandbox/runner/protocol.py``)."""

from __future__ import annotations

import pytest

from sandbox.runner.protocol import MalformedReply, check_reply

PONG = {"op": "pong", "pid": 1, "zygote": 7, "python": "3.11.2", "pytest": "8.3.3"}
RESULT = {
    "op": "result",
    "id": "j",
    "events": [{"event": "started"}],
    "events_tampered": False,
    "events_overflow": False,
    "events_limit_bytes": 4194304,
    "timed_out": False,
    "oom_killed": False,
    "exit_code": 0,
    "signal": None,
    "stdout": "",
    "stderr": "",
    "stdout_bytes": 0,
    "stderr_bytes": 0,
    "duration_s": 0,
    "dirty": "",
    "limit": None,
    "cpu_s": 0.01,
    "cpu_timeout_s": 30.0,
}


@pytest.mark.parametrize("reply", [PONG, RESULT, {"op": "error", "message": "boom"}])
def test_replies_of_the_declared_shape_pass(reply):
    assert check_reply(dict(reply)) == reply


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        ([], "JSON object"),
        ({"op": "hello"}, "unknown reply op"),
        ({**PONG, "pid": True}, "'pid'"),
        ({**RESULT, "timed_out": 1}, "'timed_out'"),
        ({**RESULT, "duration_s": "1.0"}, "'duration_s'"),
        ({**RESULT, "events": [1]}, "'events'"),
        ({**RESULT, "extra": 1}, "unexpected extra"),
        ({key: value for key, value in RESULT.items() if key != "dirty"}, "lacks dirty"),
    ],
)
def test_a_reply_of_another_shape_is_named(reply, fragment):
    with pytest.raises(MalformedReply, match=fragment):
        check_reply(reply)
