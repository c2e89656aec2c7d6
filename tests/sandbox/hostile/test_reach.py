"""The worker (PID 1) and the zygote are out of every job's reach, by the kernel's rules.

Jobs run under a uid of their container's own (not 0) with no capability; the worker and the zygote run as the container's
root with only SETUID, SETGID and KILL. So every way a process reaches another of its own user
is refused: signals, ptrace, resource limits (``prlimit``, by ``resource`` or by ``ctypes``),
priority, scheduling policy, CPU affinity and I/O class. A job that tries gets its own verdict
(the attempt fails like any refused call), the container is not replaced, later jobs inherit
exactly what the first job did, and honest controls in the same container need no retry.
"""

from __future__ import annotations

import json

import pytest

from sandbox import Job, Status
from tests.sandbox.helpers import ADD, ADD_TESTS, assert_status, script_job
from tests.sandbox.hostile.common import FIND_ZYGOTE, WHICH_CONTAINER, code, run_case, wrong

pytestmark = pytest.mark.docker

# What a job inherits from the zygote, and the worker's own state as a job can read it.
STATE = code(
    """
    import ctypes, json, os, resource
    libc = ctypes.CDLL(None, use_errno=True)
    IOPRIO_GET = {"x86_64": 252, "aarch64": 31}[os.uname().machine]
    limits = sorted(n for n in dir(resource) if n.startswith("RLIMIT_"))
    print("state", json.dumps({
        "priority": os.getpriority(os.PRIO_PROCESS, 0),
        "policy": os.sched_getscheduler(0),
        "affinity": sorted(os.sched_getaffinity(0)),
        "ioprio": libc.syscall(IOPRIO_GET, 1, 0),
        "limits": {n: resource.getrlimit(getattr(resource, n)) for n in limits},
        "worker priority": os.getpriority(os.PRIO_PROCESS, 1),
        "worker affinity": sorted(os.sched_getaffinity(1)),
        "worker ioprio": libc.syscall(IOPRIO_GET, 1, 1),
        "ids": os.getresuid(),
    }))
    """
)
# Each attack on ``pid`` must raise PermissionError (the probe asserts it).
ATTACKS = {
    "kill": "os.kill(pid, signal.SIGKILL)",
    "stop": "os.kill(pid, signal.SIGSTOP)",
    "renice": "os.setpriority(os.PRIO_PROCESS, pid, 19)",
    "pin-to-one-cpu": "os.sched_setaffinity(pid, {max(os.sched_getaffinity(pid))})",
    "idle-scheduling": "os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))",
    "prlimit-nofile": "resource.prlimit(pid, resource.RLIMIT_NOFILE, (10, 10))",
    "prlimit-cpu-and-as": (
        "resource.prlimit(pid, resource.RLIMIT_CPU, (1, 1)); "
        "resource.prlimit(pid, resource.RLIMIT_AS, (2**26, 2**26))"
    ),
    "prlimit-by-ctypes": (
        "rl = (ctypes.c_ulong * 2)(1, 1); check(libc.prlimit(pid, resource.RLIMIT_CPU, rl, None))"
    ),
    "ioprio-idle-by-ctypes": "check(libc.syscall(IOPRIO_SET, 1, pid, 3 << 13))",
}
PROBE = FIND_ZYGOTE + code(
    f"""
    import ctypes, os, resource, signal
    libc = ctypes.CDLL(None, use_errno=True)
    IOPRIO_SET = {{"x86_64": 251, "aarch64": 30}}[os.uname().machine]

    def check(returned):
        if returned != 0:
            raise OSError(ctypes.get_errno(), "refused")

    got_through = []
    for target in ("worker", "zygote"):
        pid = 1 if target == "worker" else zygote_pid()
        for name, attack in {ATTACKS!r}.items():
            try:
                exec(attack)
            except PermissionError:
                continue
            got_through.append(f"{{name}} on the {{target}}")
    assert not got_through, got_through
    """
)


def where_and_state(pool) -> tuple[str, dict]:
    result = pool.run(script_job("where-and-state", WHICH_CONTAINER + STATE))
    assert_status(result, Status.PASSED)
    assert result.sandbox_attempts == 1
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    return lines["container"], json.loads(lines["state"])


def test_jobs_run_as_their_own_uid_without_capabilities(hostile_pool):
    probe = code(
        """
        import os
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status"))
        uid = os.getuid()
        assert uid >= 10002 and os.getresuid() == (uid, uid, uid), os.getresuid()
        assert os.getresgid() == (uid, uid, uid), os.getresgid()
        assert os.getgroups() == [], os.getgroups()
        for field in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
            assert status[field].strip() == "0" * 16, (field, status[field])
        worker = dict(line.split(":\\t", 1) for line in open("/proc/1/status"))
        assert worker["Uid"].split()[0] == "0", worker["Uid"]
        assert int(worker["CapEff"], 16) == (1 << 5) | (1 << 6) | (1 << 7), worker["CapEff"]
        """
    )
    run_case(hostile_pool, script_job("uids-and-capabilities", probe), Status.PASSED)


def test_every_way_to_reach_the_worker_or_the_zygote_is_refused(hostile_pool):
    container, state = where_and_state(hostile_pool)
    uid = state["ids"][0]
    assert uid >= 10002 and state["ids"] == [uid, uid, uid]
    run_case(hostile_pool, script_job("reaches-for-the-worker", PROBE), Status.PASSED)
    # The same attempts, ignored by the job, in a wrong and a right pytest job: their verdicts
    # are their own (the attempts fail quietly), every time the same.
    quiet = code(PROBE.replace("assert not got_through, got_through", "pass"))
    for _ in range(2):
        run_case(hostile_pool, wrong("wrong-and-reaching", quiet), Status.FAILED)
        right = Job(id="right-and-reaching", solution=quiet + ADD, tests=ADD_TESTS)
        run_case(hostile_pool, right, Status.PASSED)
    assert where_and_state(hostile_pool) == (container, state), "the container changed"


def test_a_job_may_lower_only_its_own_limits(hostile_pool):
    """What a job does to itself (its own nice value, limits, affinity) ends with it."""
    container, state = where_and_state(hostile_pool)
    own = code(
        """
        import os, resource
        os.setpriority(os.PRIO_PROCESS, 0, 19)
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        resource.setrlimit(resource.RLIMIT_NOFILE, (10, 10))
        resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))
        """
    )
    run_case(hostile_pool, script_job("lowers-its-own-limits", own), Status.PASSED)
    assert where_and_state(hostile_pool) == (container, state)


def test_signals_to_the_zygote_and_to_everyone_leave_the_zygote_in_service(hostile_pool):
    """Every signal to the zygote is refused, and SIGTERM to every process the job may signal
    (``kill(-1)``) reaches only the job's own: the container stays in service."""
    container, state = where_and_state(hostile_pool)
    job = script_job(
        "signals-the-zygote",
        FIND_ZYGOTE
        + code(
            """
            import signal
            delivered = []
            for sig in sorted(signal.valid_signals()):
                try:
                    os.kill(zygote_pid(), sig)
                    delivered.append(sig)
                except PermissionError:
                    pass
            assert delivered == [], delivered
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.kill(-1, signal.SIGTERM)
            """
        ),
    )
    run_case(hostile_pool, job, Status.PASSED)
    assert where_and_state(hostile_pool) == (container, state)


def test_a_job_cannot_regain_what_the_switch_took(hostile_pool):
    """What comes after a uid switch: no way back to root or to any capability, nothing of the
    worker's reachable through /proc, no descriptor but the four it was given, and no core dump
    it could leave for a later job."""
    probe = code(
        """
        import ctypes, errno, os, resource
        fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
        assert fds[:4] == [0, 1, 2, 3] and len(fds) == 5, fds  # the fifth: the listing itself
        libc = ctypes.CDLL(None, use_errno=True)
        refused = []
        for name, call in {
            "setresuid(0)": lambda: os.setresuid(0, 0, 0),
            "setresgid(0)": lambda: os.setresgid(0, 0, 0),
            "setgroups([0])": lambda: os.setgroups([0]),
            "raise RLIMIT_CORE": lambda: resource.setrlimit(resource.RLIMIT_CORE, (2**20, 2**20)),
            "oom_score_adj below 0": lambda: os.write(
                os.open("/proc/self/oom_score_adj", os.O_WRONLY), b"-1000"
            ),
            "readlink /proc/1/root": lambda: os.readlink("/proc/1/root"),
            "readlink /proc/1/cwd": lambda: os.readlink("/proc/1/cwd"),
            "listdir /proc/1/fd": lambda: os.listdir("/proc/1/fd"),
        }.items():
            try:
                call()
            except (PermissionError, ValueError):
                continue
            refused.append(name)
        assert refused == [], f"allowed: {refused}"
        # capset: ask for every capability back (version 3 header, pid 0 = self).
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)(*([0xFFFFFFFF] * 6))
        assert libc.capset(header, data) == -1 and ctypes.get_errno() == errno.EPERM
        for number in (321, 298, 250):  # bpf, perf_event_open, keyctl on x86_64
            if os.uname().machine == "x86_64":
                assert libc.syscall(number, 0, 0, 0, 0, 0) == -1
        """
    )
    run_case(hostile_pool, script_job("cannot-regain", probe), Status.PASSED)
    crash = script_job("segfaults-for-a-core", "import ctypes\nctypes.string_at(0)\n")
    run_case(hostile_pool, crash, Status.ERROR)
    no_core = code(
        """
        import os
        for top in ("/work", "/tmp", "/dev/shm"):
            for root, dirs, files in os.walk(top):
                assert not [f for f in files if f.startswith("core")], (root, files)
        """
    )
    run_case(hostile_pool, script_job("no-core-left", no_core), Status.PASSED)
