"""Hostile jobs: runaway processes. Each must end with the right verdict within its time limit plus a
small slack, after which the same pool still tells right from wrong and the container is clean."""

from __future__ import annotations

import pytest

from sandbox import Status
from tests.sandbox.helpers import (
    script_job,
)
from tests.sandbox.hostile.common import (
    Case,
    check_case,
    code,
    wrong,
)

pytestmark = pytest.mark.docker

CASES = [
    Case(script_job("busy-loop", "while True:\n    pass\n", timeout_s=2), (Status.TIMEOUT,)),
    Case(
        script_job(
            "sigterm-ignoring-sleep",
            code(
                """
                import signal, time
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(sig, signal.SIG_IGN)
                while True:
                    time.sleep(100)
                """
            ),
            timeout_s=2,
        ),
        (Status.TIMEOUT,),
    ),
    Case(
        script_job(
            "fork-bomb",
            code(
                """
                import os
                while True:
                    try:
                        os.fork()
                    except OSError:
                        pass
                """
            ),
            timeout_s=3,
        ),
        (Status.TIMEOUT,),
    ),
    Case(
        script_job(
            "fork-bomb-of-sessions",
            code(
                """
                import os
                while True:
                    try:
                        if os.fork() == 0:
                            os.setsid()
                    except OSError:
                        pass
                """
            ),
            timeout_s=3,
        ),
        (Status.TIMEOUT,),
    ),
    Case(
        script_job(
            "memory-bomb",
            "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 2**20))\n",
            memory_mb=256,
        ),
        (Status.OOM,),
    ),
    Case(
        script_job(
            "memory-bomb-in-children",
            code(
                """
                import os, time
                for _ in range(16):
                    if os.fork() == 0:
                        blocks = [bytearray(32 * 2**20) for _ in range(8)]
                        time.sleep(60)
                time.sleep(60)
                """
            ),
            memory_mb=128,
            timeout_s=4,
        ),
        (Status.OOM,),
    ),
    Case(
        # Memory held in tmpfs files belongs to no process; with its own OOM priority reset,
        # the job makes the kernel kill the zygote, or the job or the worker after it. That is
        # the job's doing: oom, not our error.
        script_job(
            "tmpfs-beyond-memory-limit-with-oom-priority-reset",
            code(
                """
                open("/proc/self/oom_score_adj", "w").write("0")
                with open("/work/big", "wb") as out:
                    while True:
                        out.write(b"x" * 2**20)
                """
            ),
            memory_mb=96,
            timeout_s=5,
        ),
        (Status.OOM,),
        error_contains="memory",
    ),
    Case(
        script_job(
            "stops-itself",
            "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n",
            timeout_s=2,
        ),
        (Status.TIMEOUT,),
    ),
    Case(
        # The zygote, the job process's parent, becomes its tracer: the job's stops must not
        # read as its end, and nothing else changes.
        wrong(
            "makes-the-zygote-its-tracer",
            "import ctypes\nassert ctypes.CDLL(None).ptrace(0, 0, 0, 0) == 0  # PTRACE_TRACEME",
        ),
        (Status.FAILED,),
    ),
    Case(
        script_job(
            "makes-the-zygote-its-tracer-and-stops",
            code(
                """
                import ctypes, os, signal
                assert ctypes.CDLL(None).ptrace(0, 0, 0, 0) == 0  # PTRACE_TRACEME
                os.kill(os.getpid(), signal.SIGUSR1)  # a traced process stops on any signal
                """
            ),
            timeout_s=2,
        ),
        (Status.TIMEOUT,),
    ),
    Case(
        script_job(
            "closes-every-channel-and-spins",
            "import os\nos.closerange(0, 1024)\nwhile True:\n    pass\n",
            timeout_s=2,
        ),
        (Status.TIMEOUT,),
    ),
    Case(
        script_job(
            "threads-that-keep-running",
            code(
                """
                import threading, time
                def spin():
                    while True:
                        time.sleep(0.001)
                for _ in range(50):
                    threading.Thread(target=spin).start()
                """
            ),
        ),
        (Status.PASSED,),
    ),
    Case(
        script_job(
            "orphaned-daemons",
            code(
                """
                import os, signal, time
                for _ in range(3):
                    if os.fork() == 0:
                        os.setsid()
                        if os.fork() == 0:
                            signal.signal(signal.SIGTERM, signal.SIG_IGN)
                            signal.signal(signal.SIGHUP, signal.SIG_IGN)
                            while True:
                                time.sleep(0.01)
                        os._exit(0)
                time.sleep(0.2)
                """
            ),
        ),
        (Status.PASSED,),
    ),
    Case(
        script_job(
            "fills-the-pid-table-and-leaves",
            code(
                """
                import os, time
                children = 0
                while True:
                    try:
                        pid = os.fork()
                    except OSError:
                        break
                    if pid == 0:
                        time.sleep(600)
                        os._exit(0)
                    children += 1
                assert children > 50, children
                """
            ),
        ),
        (Status.PASSED,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.job.id for case in CASES])
def test_hostile_job(hostile_pool, case):
    check_case(hostile_pool, case)
