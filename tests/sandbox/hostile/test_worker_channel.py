"""Hostile jobs: the worker and the host channel. Each must end with the right verdict within its time limit plus a
small slack, after which the same pool still tells right from wrong and the container is clean."""

from __future__ import annotations

import pytest

from sandbox import Status
from tests.sandbox.helpers import (
    script_job,
)
from tests.sandbox.hostile.common import (
    FIND_ZYGOTE,
    Case,
    check_case,
    code,
)

pytestmark = pytest.mark.docker

CASES = [
    Case(
        script_job(
            "signals-pid-1-and-everyone",
            code(
                """
                import os, signal, time
                for _ in range(3):
                    if os.fork() == 0:
                        time.sleep(60)
                for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGINT):
                    try:
                        os.kill(1, sig)  # PID 1 is root, the job is not: refused
                        raise AssertionError(f"signal {sig} reached PID 1")
                    except PermissionError:
                        pass
                os.kill(-1, signal.SIGKILL)  # every process of the job's own uid but itself
                time.sleep(0.1)
                """
            ),
        ),
        (Status.PASSED,),
    ),
    Case(
        script_job(
            "ptrace-and-private-proc-files-of-the-worker-and-zygote-are-refused",
            FIND_ZYGOTE
            + code(
                """
                import ctypes, errno, os
                libc = ctypes.CDLL(None, use_errno=True)
                PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
                fake_reply = b'{"op": "result", "events": [{"event": "completed"}]}\\n'
                for pid in (1, zygote_pid()):
                    for request in (PTRACE_ATTACH, PTRACE_SEIZE):
                        assert libc.ptrace(request, pid, 0, 0) == -1, (pid, request)
                        assert ctypes.get_errno() == errno.EPERM, ctypes.get_errno()
                    for name in ("mem", "environ", "maps", "fd/0", "fd/1", "fd/2", "fd/3"):
                        try:
                            open(f"/proc/{pid}/{name}", "rb").read()
                        except (PermissionError, FileNotFoundError):
                            continue
                        raise AssertionError(f"read /proc/{pid}/{name}")
                    for name in ("fd/1", "fd/2", "fd/3", "mem"):
                        try:
                            open(f"/proc/{pid}/{name}", "wb").write(fake_reply)
                        except (PermissionError, FileNotFoundError):
                            continue
                        raise AssertionError(f"wrote to /proc/{pid}/{name}")
                    try:
                        os.listdir(f"/proc/{pid}/fd")
                        raise AssertionError(f"listed /proc/{pid}/fd")
                    except PermissionError:
                        pass
                    # process_vm_readv: read another process's memory without ptrace.
                    buf = ctypes.create_string_buffer(16)
                    local = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 16)
                    remote = (ctypes.c_void_p * 2)(0x400000, 16)
                    assert libc.process_vm_readv(pid, local, 1, remote, 1, 0) == -1, pid
                    assert ctypes.get_errno() == errno.EPERM, ctypes.get_errno()
                """
            ),
        ),
        (Status.PASSED,),
    ),
    Case(
        script_job(
            "no-privileges-to-gain",
            code(
                """
                import ctypes, errno, os
                status = dict(line.split(":\\t", 1) for line in open("/proc/self/status"))
                assert status["CapEff"].strip() == "0" * 16, status["CapEff"]
                assert status["CapPrm"].strip() == "0" * 16, status["CapPrm"]
                assert status["NoNewPrivs"].strip() == "1"
                assert os.getuid() != 0 and os.geteuid() != 0
                libc = ctypes.CDLL(None, use_errno=True)
                CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET = 0x10000000, 0x00020000, 0x40000000
                for flag in (CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET):
                    assert libc.unshare(flag) == -1, hex(flag)
                for call in (lambda: os.setuid(0), lambda: os.chroot("/tmp"),
                             lambda: os.mknod("/tmp/dev", 0o600 | 0o020000, os.makedev(1, 3))):
                    try:
                        call()
                    except PermissionError:
                        continue
                    raise AssertionError("a privileged call succeeded")
                FS_IOC_SETFLAGS, FS_IMMUTABLE_FL = 0x40086602, 0x10
                import fcntl
                fd = os.open("/work/run/program.py", os.O_RDONLY)
                try:
                    fcntl.ioctl(fd, FS_IOC_SETFLAGS, FS_IMMUTABLE_FL.to_bytes(8, "little"))
                    raise AssertionError("made a file immutable")
                except OSError as exc:
                    assert exc.errno in (errno.EPERM, errno.ENOTTY, errno.EOPNOTSUPP), exc
                """
            ),
        ),
        (Status.PASSED,),
    ),
    Case(
        script_job(
            "host-files-and-docker-socket-are-out-of-reach",
            code(
                """
                import os, stat
                try:
                    open("/etc/shadow").read()
                    raise AssertionError("read /etc/shadow")
                except PermissionError:
                    pass
                for sock in ("/var/run/docker.sock", "/run/docker.sock", "/docker.sock"):
                    assert not os.path.exists(sock), sock
                sockets = []
                for root, dirs, files in os.walk("/"):
                    if root in ("/proc", "/sys"):
                        dirs[:] = []
                        continue
                    for name in files:
                        try:
                            if stat.S_ISSOCK(os.lstat(os.path.join(root, name)).st_mode):
                                sockets.append(os.path.join(root, name))
                        except OSError:
                            pass
                assert sockets == [], sockets
                mounts = open("/proc/self/mounts").read()
                for line in mounts.splitlines():
                    device, point, fstype, options = line.split()[:4]
                    if point in ("/work", "/tmp", "/dev/shm"):
                        assert "noexec" in options and "nosuid" in options, line
                    elif fstype not in ("proc", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2"):
                        assert options.startswith("ro"), f"writable host mount: {line}"
                writable = [d for d in ("/", "/etc", "/opt", "/opt/venv", "/usr", "/var", "/root",
                                        "/home", "/run") if os.access(d, os.W_OK)]
                assert writable == [], writable
                """
            ),
        ),
        (Status.PASSED,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.job.id for case in CASES])
def test_hostile_job(hostile_pool, case):
    check_case(hostile_pool, case)
