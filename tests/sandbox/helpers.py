"""Jobs and checks shared by the Docker tests of the sandbox."""

from __future__ import annotations

import os
import time

from sandbox import Job, Result, Status
from sandbox.docker_client import LABEL

ADD = "def add(a, b):\n    return a + b\n"
WRONG_ADD = "def add(a, b):\n    return a - b\n"
ADD_TESTS = (
    "from solution import add\n\n\n"
    "def test_small():\n    assert add(1, 2) == 3\n\n\n"
    "def test_negative():\n    assert add(-1, -2) == -3\n"
)
SCRIPT_TESTS = "assert add(1, 2) == 3\nassert add(-1, -2) == -3\n"

# Checks, from inside the container, that nothing of earlier jobs survived: no process but the
# worker (PID 1), the zygote (its child, which forks every job and is non-dumpable) and this job,
# empty scratch space, no System V IPC objects.
CLEAN_CONTAINER_CHECK = """
import os

me = os.getpid()
others = sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me))


def describe(pid):
    try:
        comm = open(f"/proc/{pid}/comm").read().strip()
        ppid = int(open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[1])
    except OSError:
        return None
    try:
        open(f"/proc/{pid}/environ", "rb").read()
        dumpable = True
    except PermissionError:
        dumpable = False
    return comm, ppid, dumpable


found = {pid: describe(pid) for pid in others}
zygotes = [pid for pid, what in found.items() if what == ("cf-zygote", 1, False)]
assert len(zygotes) == 1, f"no zygote, or more than one: {found}"
left = {pid: what for pid, what in found.items() if pid not in zygotes}
assert left == {}, f"processes left by an earlier job: {left}"
assert sorted(os.listdir("/work")) == ["run"], os.listdir("/work")
assert os.listdir("/work/run") == ["program.py"], os.listdir("/work/run")
for scratch in ("/tmp", "/dev/shm", "/dev/mqueue"):
    assert os.listdir(scratch) == [], (scratch, os.listdir(scratch))
for table in ("shm", "sem", "msg"):
    rows = open(f"/proc/sysvipc/{table}").read().splitlines()[1:]
    assert rows == [], (table, rows)
"""


def good_job(job_id: str = "good") -> Job:
    return Job(id=job_id, solution=ADD, tests=ADD_TESTS)


def bad_job(job_id: str = "bad") -> Job:
    return Job(id=job_id, solution=WRONG_ADD, tests=ADD_TESTS)


def script_job(job_id: str, program: str, **kwargs) -> Job:
    return Job(id=job_id, solution="", tests=program, mode="script", **kwargs)


def clean_check_job() -> Job:
    return script_job("clean-check", CLEAN_CONTAINER_CHECK)


def assert_status(result: Result, *expected: Status) -> None:
    assert result.status in expected, (
        f"{result.id}: expected {[s.value for s in expected]}, got {result.status.value}\n"
        + result.feedback()
        + f"\nstdout: {result.stdout[-1500:]}"
    )
    assert result.passed == (result.status == Status.PASSED)


def assert_pool_honest(pool) -> None:
    """The pool still tells a right answer from a wrong one, and the container is clean; none
    of these controls needed a retry (a job must not leave a container that fails the next)."""
    for job, expected in (
        (good_job(), Status.PASSED),
        (bad_job(), Status.FAILED),
        (clean_check_job(), Status.PASSED),
    ):
        result = pool.run(job)
        assert_status(result, expected)
        assert result.sandbox_attempts == 1, f"{job.id} needed {result.sandbox_attempts} attempts"


def own_containers(docker_client, owner_pid: int | None = None) -> list[dict]:
    """Sandbox containers (any state) labelled as started by ``owner_pid`` (default: us).

    The low-level listing, so a container that vanishes meanwhile is not an error. Each item
    has at least ``Id``, ``State`` and ``Labels``.
    """
    owner = f"codefactory.owner_pid={owner_pid or os.getpid()}"
    return docker_client.api.containers(all=True, filters={"label": [LABEL, owner]})


def wait_until(predicate, timeout_s: float, interval_s: float = 0.2) -> bool:
    """Polls ``predicate`` until it is true or ``timeout_s`` passed; returns the last value."""
    end = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > end:
            return bool(value)
        time.sleep(interval_s)
