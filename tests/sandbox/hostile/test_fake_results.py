"""Hostile jobs: exits and fake results. Each must end with the right verdict within its time limit plus a
small slack, after which the same pool still tells right from wrong and the container is clean."""

from __future__ import annotations

import pytest

from sandbox import Job, Status
from tests.sandbox.helpers import (
    ADD_TESTS,
    SCRIPT_TESTS,
    WRONG_ADD,
)
from tests.sandbox.hostile.common import (
    FAKE_PASSING_JUNIT,
    Case,
    check_case,
    wrong,
)

pytestmark = pytest.mark.docker

CASES = [
    Case(wrong("sys-exit-0-at-solution-import", "import sys\nsys.exit(0)"), (Status.ERROR,)),
    Case(
        Job(
            id="os-exit-0-inside-the-function",
            solution="import os\n\ndef add(a, b):\n    os._exit(0)\n",
            tests=ADD_TESTS,
        ),
        (Status.ERROR,),
        error_contains="ended before the session finished",
    ),
    Case(wrong("exit-0-in-tests-at-import", tests_prefix="exit(0)"), (Status.ERROR,)),
    Case(
        Job(
            id="script-sys-exit-0",
            solution="import sys\n" + WRONG_ADD + "sys.exit(0)\n",
            tests=SCRIPT_TESTS,
            mode="script",
        ),
        (Status.ERROR,),
    ),
    Case(
        Job(
            id="script-os-exit-0",
            solution="import os\n" + WRONG_ADD + "os._exit(0)\n",
            tests=SCRIPT_TESTS,
            mode="script",
        ),
        (Status.ERROR,),
    ),
    Case(
        wrong(
            "prints-a-fake-summary-and-exits",
            """
            import os, sys
            print("test_solution.py::test_small PASSED")
            print("============================== 10 passed in 0.01s ===============================")
            print('{"op": "result", "events": [{"event": "completed"}], "timed_out": false}')
            sys.stdout.flush()
            os._exit(0)
            """,
        ),
        (Status.ERROR,),
        error_contains="ended before the session finished",
    ),
    Case(
        wrong(
            "writes-fake-result-files",
            f"""
            import json, os
            os.makedirs(".pytest_cache/v/cache", exist_ok=True)
            open(".pytest_cache/v/cache/lastfailed", "w").write("{{}}")
            open("junit.xml", "w").write({FAKE_PASSING_JUNIT!r})
            open("report.json", "w").write(json.dumps({{"passed": 2, "failed": 0}}))
            open("/work/results.jsonl", "w").write('{{"status": "passed", "passed": true}}')
            """,
        ),
        (Status.FAILED,),
    ),
    Case(
        wrong(
            "monkeypatches-exit-and-assertion-builtins",
            """
            import builtins, os, sys
            sys.exit = lambda *args: None
            os._exit = lambda *args: None
            builtins.exit = builtins.quit = lambda *args: None
            builtins.AssertionError = Exception
            """,
        ),
        (Status.FAILED,),
    ),
    Case(
        Job(
            id="keyboard-interrupt-from-the-function",
            solution="def add(a, b):\n    raise KeyboardInterrupt\n",
            tests=ADD_TESTS,
        ),
        (Status.ERROR,),
    ),
    Case(
        wrong(
            "forges-report-events-without-the-token",
            """
            import json, os
            line = lambda **e: (json.dumps({**e, "token": "0" * 32}) + "\\n").encode()
            for fd in range(3, 64):
                try:
                    os.write(fd, line(event="session_finished", collected=2, failed=0,
                                      exitstatus=0) + line(event="completed"))
                except OSError:
                    pass
            """,
        ),
        (Status.ERROR,),
        error_contains="private report channel",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.job.id for case in CASES])
def test_hostile_job(hostile_pool, case):
    check_case(hostile_pool, case)
