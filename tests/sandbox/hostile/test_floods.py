"""Hostile jobs: floods. Each must end with the right verdict within its time limit plus a
small slack, after which the same pool still tells right from wrong and the container is clean."""

from __future__ import annotations

import pytest

from sandbox import Job, Status
from tests.sandbox.helpers import (
    ADD,
    WRONG_ADD,
    script_job,
)
from tests.sandbox.hostile.common import (
    OUTPUT_LIMIT,
    POOL_TIMEOUT_S,
    Case,
    check_case,
    code,
    run_case,
)

pytestmark = pytest.mark.docker

CASES = [
    Case(
        Job(
            id="report-beyond-the-events-limit",
            solution=ADD,
            tests=code(
                """
                import pytest
                from solution import add

                @pytest.mark.parametrize("name", ["n" * 4000 + str(i) for i in range(400)])
                def test_long_name(name):
                    assert add(1, 2) == 3
                """
            ),
        ),
        (Status.ERROR,),
        error_contains="exceeded the 4 MiB limit",
    ),
    Case(
        Job(
            id="200-mb-of-output-then-a-wrong-answer",
            solution=WRONG_ADD,
            tests=code(
                """
                import sys
                from solution import add
                def test_small():
                    chunk = "y" * 2**20
                    for _ in range(200):
                        sys.stdout.write(chunk)
                    for _ in range(20):
                        sys.stderr.write(chunk)
                    assert add(1, 2) == 3
                """
            ),
        ),
        (Status.FAILED,),
    ),
    Case(
        script_job(
            "fills-every-writable-place",
            code(
                """
                import os
                full = []
                for place in ("/work", "/work/run", "/tmp", "/dev/shm"):
                    try:
                        with open(os.path.join(place, "filler"), "wb") as out:
                            while True:
                                out.write(b"z" * 2**20)
                    except OSError as exc:
                        full.append((place, exc.errno))
                assert len(full) == 4, full
                """
            ),
            timeout_s=8,
        ),
        (Status.PASSED,),
    ),
    Case(
        script_job(
            "a-directory-chain-thousands-deep",
            code(
                """
                import os
                os.chdir("/work")
                for _ in range(5000):
                    os.mkdir("d")
                    os.chdir("d")
                os.chmod(".", 0)
                """
            ),
        ),
        (Status.PASSED,),
    ),
    Case(
        script_job(
            "many-files-and-directories",
            code(
                """
                import os
                for top in ("/work", "/tmp"):
                    for i in range(20_000):
                        os.mkdir(f"{top}/d{i}")
                        open(f"{top}/d{i}/f", "w").close()
                """
            ),
            timeout_s=8,
        ),
        (Status.PASSED,),
    ),
    Case(
        script_job(
            "locks-its-own-mess",
            code(
                """
                import os
                os.makedirs("/work/x/y/z")
                open("/work/x/y/z/f", "w").write("x")
                os.chmod("/work/x/y/z", 0)
                os.chmod("/work/x/y", 0o500)
                os.chmod("/work/x", 0)
                os.makedirs("/tmp/locked")
                os.chmod("/tmp/locked", 0)
                os.mkfifo("/tmp/fifo")
                os.symlink("/etc/passwd", "/work/link-to-host-file")
                os.symlink("/work/x", "/tmp/link-to-dir")
                os.symlink("/nonexistent", "/dev/shm/dangling")
                os.chmod("/work/run", 0)
                os.chdir("/")
                """
            ),
        ),
        (Status.PASSED,),
    ),
    Case(
        script_job(
            "ipc-left-behind",
            code(
                """
                import ctypes, os
                libc = ctypes.CDLL(None, use_errno=True)
                libc.shmat.restype = ctypes.c_void_p
                IPC_CREAT = 0o1000
                for key in range(1, 4):
                    shm = libc.shmget(key, 4 * 2**20, IPC_CREAT | 0o666)
                    assert shm >= 0, ctypes.get_errno()
                    assert libc.shmat(shm, None, 0) not in (None, ctypes.c_void_p(-1).value)
                    assert libc.semget(key, 4, IPC_CREAT | 0o666) >= 0
                    assert libc.msgget(key, IPC_CREAT | 0o666) >= 0
                rt = ctypes.CDLL("librt.so.1", use_errno=True)
                assert rt.mq_open(b"/left-behind", os.O_CREAT | os.O_RDWR, 0o600, None) >= 0
                open("/dev/shm/left-behind", "w").write("x")
                """
            ),
        ),
        (Status.PASSED,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.job.id for case in CASES])
def test_hostile_job(hostile_pool, case):
    check_case(hostile_pool, case)


def test_output_flood_is_capped_and_judged_quickly(hostile_pool):
    job = script_job(
        "200-mb-of-output",
        "import sys\nchunk = 'x' * 2**20\nfor _ in range(200):\n    sys.stdout.write(chunk)\n",
    )
    result = run_case(hostile_pool, job, Status.PASSED)
    assert result.stdout_truncated
    assert len(result.stdout.encode()) <= OUTPUT_LIMIT
    assert result.stdout.startswith("x" * 1000)
    assert result.duration_s < POOL_TIMEOUT_S
