"""What one job can leave for the next in a reused container, and the resources it can exhaust.

Each case is a job that leaves something behind (stopped, traced and zombie processes, a
daemon holding every inotify instance, full scratch file systems, a sparse file mapped past
the size cap, a huge memfd, a thread bomb) and must get its own verdict; the job after it
(in the same container, or its replacement) checks that nothing of it is left and that what
it exhausted is back, then the pool's honest controls run, none needing a retry.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sandbox import Limits, PoolConfig, Status
from sandbox.blocking import BlockingPool
from tests.sandbox.helpers import assert_pool_honest, script_job
from tests.sandbox.hostile.common import POOL_TIMEOUT_S, Case, check_case, code, wrong

pytestmark = pytest.mark.docker

INOTIFY_AGAIN = code(
    """
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    fds = [libc.inotify_init1(0) for _ in range(8)]
    assert all(fd >= 0 for fd in fds), ("inotify refused", ctypes.get_errno())
    r, w = os.pipe()
    assert os.statvfs("/work").f_bfree * os.statvfs("/work").f_frsize > 200 << 20
    open("/tmp/room", "wb").write(b"x" * (32 << 20))
    """
)

CASES = [
    Case(
        wrong(
            "stopped-traced-and-zombie-processes",
            code(
                """
                import ctypes, os, signal, time
                libc = ctypes.CDLL(None, use_errno=True)
                PTRACE_SEIZE = 0x4206
                stopped = os.fork()
                if stopped == 0:
                    os.setsid()
                    os.kill(os.getpid(), signal.SIGSTOP)
                    os._exit(0)
                tracer = os.fork()
                if tracer == 0:
                    os.setsid()
                    libc.ptrace(PTRACE_SEIZE, stopped, None, None)
                    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
                    time.sleep(60)
                    os._exit(0)
                parent = os.fork()
                if parent == 0:  # a parent that never reaps 50 zombies
                    for _ in range(50):
                        if os.fork() == 0:
                            os._exit(0)
                    while True:
                        time.sleep(1)
                time.sleep(0.2)
                """
            ),
            timeout_s=4,
        ),
        (Status.FAILED,),
    ),
    Case(
        wrong(
            "holds-every-inotify-instance",
            code(
                """
                import ctypes, os, time
                libc = ctypes.CDLL(None, use_errno=True)
                if os.fork() == 0:
                    os.setsid()
                    held = []
                    while len(held) < 4096:
                        fd = libc.inotify_init1(0)
                        if fd < 0:
                            break
                        held.append(fd)
                    time.sleep(60)
                    os._exit(0)
                time.sleep(0.3)
                """
            ),
            timeout_s=4,
        ),
        (Status.FAILED,),
        then=script_job("inotify-and-room-again", INOTIFY_AGAIN),
    ),
    Case(
        wrong(
            "fills-every-scratch-place",
            code(
                """
                import os
                for place in ("/work", "/tmp", "/dev/shm"):
                    try:
                        with open(os.path.join(place, "fill"), "wb") as fh:
                            while True:
                                fh.write(b"x" * (1 << 20))
                    except OSError:
                        pass
                    for i in range(100_000):  # then the inodes
                        try:
                            open(os.path.join(place, f"i{i}"), "w").close()
                        except OSError:
                            break
                    for i in range(10_000):  # then extended attributes, kernel memory too
                        try:
                            os.setxattr(os.path.join(place, "i0"), f"user.x{i}", b"x" * 60_000)
                        except OSError:
                            break
                """
            ),
            timeout_s=8,
        ),
        (Status.FAILED,),
        then=script_job("inotify-and-room-again", INOTIFY_AGAIN),
    ),
    Case(
        script_job(
            "fills-every-scratch-place-then-the-memory",
            code(
                """
                import os
                for place in ("/work", "/tmp", "/dev/shm"):
                    try:
                        with open(os.path.join(place, "fill"), "wb") as fh:
                            while True:
                                fh.write(b"x" * (1 << 20))
                    except OSError:
                        pass
                    for i in range(100_000):
                        try:
                            open(os.path.join(place, f"i{i}"), "w").close()
                        except OSError:
                            break
                hog = []
                while True:
                    hog.append(bytearray(1 << 20))
                """
            ),
            timeout_s=8,
        ),
        (Status.OOM,),
        then=script_job("inotify-and-room-again", INOTIFY_AGAIN),
    ),
    Case(
        script_job(
            "maps-a-sparse-file-past-the-size-cap",
            code(
                """
                import mmap, os
                fd = os.open("/work/sparse", os.O_RDWR | os.O_CREAT)
                os.ftruncate(fd, 1 << 40)
                view = mmap.mmap(fd, 1 << 40)
                for offset in range(0, 1 << 40, 1 << 20):
                    view[offset] = 1
                """
            ),
            timeout_s=4,
        ),
        (Status.ERROR, Status.OOM),
    ),
    Case(
        script_job(
            "touches-a-huge-memfd",
            code(
                """
                import mmap, os
                fd = os.memfd_create("big")
                os.ftruncate(fd, 1 << 40)
                view = mmap.mmap(fd, 1 << 40)
                for offset in range(0, 1 << 40, 4096):
                    view[offset] = 1
                """
            ),
            timeout_s=6,
        ),
        (Status.OOM, Status.ERROR),
    ),
    Case(
        wrong(
            "thread-bomb",
            code(
                """
                import threading, time
                threads = []
                try:
                    while True:
                        t = threading.Thread(target=time.sleep, args=(60,), daemon=True)
                        t.start()
                        threads.append(t)
                except RuntimeError:
                    pass
                """
            ),
            timeout_s=4,
        ),
        (Status.FAILED, Status.ERROR),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.job.id for case in CASES])
def test_hostile_job(hostile_pool, case):
    check_case(hostile_pool, case)


HOLDS_EVERY_INOTIFY_INSTANCE = code(
    """
    import ctypes, time
    libc = ctypes.CDLL(None, use_errno=True)
    held = [fd for fd in (libc.inotify_init1(0) for _ in range(1024)) if fd >= 0]
    time.sleep(5)
    """
)


def test_a_job_cannot_exhaust_per_uid_counts_for_another_containers_jobs(
    runner_image, hostile_pool
):
    """The kernel counts inotify instances (like pipe buffers and processes) per uid across
    the machine: each container's jobs have uids of their own, so a job holding every instance
    its uid may have leaves another container's job its own."""
    config = PoolConfig(workers=1, image=runner_image, limits=Limits(timeout_s=POOL_TIMEOUT_S))
    with BlockingPool(config) as other, ThreadPoolExecutor(1) as background:
        assert other.run(script_job("warm", "pass\n")).passed
        holder = background.submit(
            hostile_pool.run, wrong("holder", HOLDS_EVERY_INOTIFY_INSTANCE, timeout_s=8)
        )
        time.sleep(2)  # the holder is sleeping on its instances by now
        result = other.run(script_job("inotify-elsewhere", INOTIFY_AGAIN))
        assert result.status == Status.PASSED, result.feedback()
        assert holder.result().status == Status.FAILED
    assert_pool_honest(hostile_pool)
