"""Hostile jobs: poisoning later jobs. Each must end with the right verdict within its time limit plus a
small slack, after which the same pool still tells right from wrong and the container is clean."""

from __future__ import annotations

import pytest

from sandbox import Job, Status
from tests.sandbox.helpers import (
    ADD_TESTS,
    WRONG_ADD,
    script_job,
)
from tests.sandbox.hostile.common import (
    CONFTEST_MAKING_EVERYTHING_PASS,
    Case,
    check_case,
    code,
)

pytestmark = pytest.mark.docker

CASES = [
    Case(
        script_job(
            "drops-files-to-make-later-jobs-pass",
            code(
                f"""
                import os
                conftest = {CONFTEST_MAKING_EVERYTHING_PASS!r}
                for place in ("/work", "/work/run", "/tmp", "/dev/shm", "/work/run/.config"):
                    os.makedirs(place, exist_ok=True)
                    open(os.path.join(place, "conftest.py"), "w").write(conftest)
                    open(os.path.join(place, "pytest.ini"), "w").write(
                        "[pytest]\\naddopts = -p no:python\\n")
                    open(os.path.join(place, "sitecustomize.py"), "w").write(
                        "import builtins; builtins.AssertionError = Exception\\n")
                    open(os.path.join(place, "solution.py"), "w").write(
                        "def add(a, b):\\n    return a + b\\n")
                    open(os.path.join(place, "pytest.py"), "w").write("raise SystemExit(0)\\n")
                open("/work/pyproject.toml", "w").write(
                    "[tool.pytest.ini_options]\\naddopts = '--co'\\n")
                """
            ),
        ),
        (Status.PASSED,),
        # A later wrong answer is still judged on its own: none of the dropped files is there.
        then=Job(
            id="later-wrong-job",
            solution=WRONG_ADD,
            tests="import os\nassert not os.path.exists('/work/conftest.py')\n" + ADD_TESTS,
        ),
        then_expected=Status.FAILED,
    ),
    Case(
        script_job(
            "servers-left-listening",
            code(
                """
                import os, socket, time
                if os.fork() == 0:
                    os.setsid()
                    unix = socket.socket(socket.AF_UNIX)
                    unix.bind("\\0codefactory-left-behind")
                    unix.listen()
                    tcp = socket.socket()
                    tcp.bind(("127.0.0.1", 4444))
                    tcp.listen()
                    while True:
                        time.sleep(1)
                time.sleep(0.3)
                """
            ),
        ),
        (Status.PASSED,),
        then=script_job(
            "no-server-survived",
            code(
                """
                import socket
                for family, address in ((socket.AF_UNIX, "\\0codefactory-left-behind"),
                                        (socket.AF_INET, ("127.0.0.1", 4444))):
                    try:
                        socket.socket(family).connect(address)
                    except ConnectionRefusedError:
                        continue
                    raise AssertionError(f"a server survived at {address}")
                """
            ),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.job.id for case in CASES])
def test_hostile_job(hostile_pool, case):
    check_case(hostile_pool, case)
