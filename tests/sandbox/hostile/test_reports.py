"""What a job makes of its own report is its own verdict, never a crash or a ``sandbox_error``.

The job's process holds the report channel's writer (its code can dig it out of the interpreter)
and fd 3 itself: whatever it sends there, deeply nested JSON, events of the right token with a
field missing or of the wrong type, kinds that do not exist, the verdict is the job's ``error``,
the same on every run, and honest controls in the same container need no retry.
"""

from __future__ import annotations

import pytest

from sandbox import Status
from tests.sandbox.helpers import script_job
from tests.sandbox.hostile.common import code, run_case

pytestmark = pytest.mark.docker

# Job code that sends ``event`` through the job process's own report writer, token and all.
SEND_THROUGH_THE_WRITER = code(
    """
    import gc, os
    writer = next(o for o in gc.get_objects() if type(o).__name__ == "_EventWriter")

    def send(**event):
        writer.emit(**event)
    """
)
MALFORMED_EVENTS = {
    "test-phase-without-name": (
        "send(event='test_phase', phase='call', outcome='passed', xfail=False, message='', "
        "duration=0.0)"
    ),
    "duration-as-text": (
        "send(event='test_phase', name='t', phase='call', outcome='passed', xfail=False, "
        "message='', duration='0.1')"
    ),
    "exitstatus-as-text": "send(event='session_finished', collected=1, failed=0, exitstatus='0')",
    "negative-count": "send(event='session_finished', collected=-1, failed=0, exitstatus=0)",
    "unknown-kind": "send(event='verdict', passed=True)",
    "no-kind": "send(passed=True)",
    "extra-field": "send(event='completed', passed=True)",
    "name-as-list": "send(event='test_start', name=['a'])",
    "coverage-arcs-of-three": "send(event='coverage', missing_arcs=[[1, 2, 3]])",
    "bool-as-pid": "send(event='forked', pid=True)",
}


@pytest.mark.parametrize("event", MALFORMED_EVENTS.values(), ids=MALFORMED_EVENTS)
def test_a_malformed_event_of_the_right_token_is_the_jobs_error(hostile_pool, event):
    job = script_job("sends-a-malformed-event", SEND_THROUGH_THE_WRITER + event + "\n")
    for _ in range(2):  # the same verdict every time
        result = run_case(hostile_pool, job, Status.ERROR)
        assert "malformed" in result.error
        assert result.sandbox_attempts == 1


NESTED_ON_FD_3 = {
    "nested-arrays": "os.write(3, b'[' * 200000 + b']' * 200000 + b'\\n')",
    "nested-objects": "os.write(3, b'{\"a\":' * 100000 + b'1' + b'}' * 100000 + b'\\n')",
    "huge-number": "os.write(3, b'9' * 100000 + b'\\n')",
    "not-utf8": "os.write(3, b'\\xff\\xfe{}\\n')",
}


@pytest.mark.parametrize("line", NESTED_ON_FD_3.values(), ids=NESTED_ON_FD_3)
def test_unparseable_lines_on_the_report_fd_are_the_jobs_error(hostile_pool, line):
    job = script_job("writes-fd-3", "import os\n" + line + "\n")
    for _ in range(2):
        result = run_case(hostile_pool, job, Status.ERROR)
        assert result.sandbox_attempts == 1


def test_nesting_with_the_right_token_is_the_jobs_error(hostile_pool):
    """Nested just below what the worker's parser allows, but deeper than any event of ours:
    it must not reach the host, whose parser sits deeper in its stack."""
    nest = "value = []\nfor _ in range(900):\n    value = [value]\n"
    job = script_job(
        "nests-with-the-token",
        SEND_THROUGH_THE_WRITER + nest + "send(event='report', key='k', value=value)\n",
    )
    result = run_case(hostile_pool, job, Status.ERROR)
    assert "private report channel" in result.error
