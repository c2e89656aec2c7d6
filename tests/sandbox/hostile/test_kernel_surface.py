"""The kernel's wider surface, from a job: namespaces, keyrings, io_uring, userfaultfd,
perf events, BPF, mounts, the worker's root and environment, and every writable place.

A probe job tries each and reaches its end only if each was refused; its assertion names what
got through. A keyring or a writable place outside the scratch directories would carry
something from one job into the next (the cleanup empties only those), so the probe also lists
every directory a job may write, and a first job's key must not be found by a second.
"""

from __future__ import annotations

import pytest

from sandbox import Job, Status
from tests.sandbox.hostile.common import code, run_case

pytestmark = pytest.mark.docker

SYSCALLS = code(
    """
    import ctypes, errno, os
    libc = ctypes.CDLL(None, use_errno=True)
    NR = {
        "x86_64": {"add_key": 248, "keyctl": 250, "io_uring_setup": 425, "userfaultfd": 323,
                   "perf_event_open": 298, "bpf": 321, "unshare": 272, "setns": 308,
                   "mount": 165, "chroot": 161, "open_tree": 428, "fsopen": 430,
                   "kexec_load": 246, "init_module": 175, "pivot_root": 155},
        "aarch64": {"add_key": 217, "keyctl": 219, "io_uring_setup": 425, "userfaultfd": 282,
                    "perf_event_open": 241, "bpf": 280, "unshare": 97, "setns": 268,
                    "mount": 40, "chroot": 51, "open_tree": 428, "fsopen": 430,
                    "kexec_load": 104, "init_module": 105, "pivot_root": 41},
    }[os.uname().machine]
    CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x10000000, 0x20000000, 0x40000000
    KEY_SPEC_USER_KEYRING = -4
    params = ctypes.create_string_buffer(120)
    attr = ctypes.create_string_buffer(128)
    attr[0:4] = (128).to_bytes(4, "little")[:4]
    TRIES = {
        "add_key": lambda: libc.syscall(NR["add_key"], b"user", b"cf-leak", b"secret", 6,
                                        ctypes.c_int(KEY_SPEC_USER_KEYRING)),
        "keyctl": lambda: libc.syscall(NR["keyctl"], 0, ctypes.c_int(KEY_SPEC_USER_KEYRING), 0),
        "io_uring_setup": lambda: libc.syscall(NR["io_uring_setup"], 8, params),
        "userfaultfd": lambda: libc.syscall(NR["userfaultfd"], 0),
        "perf_event_open": lambda: libc.syscall(NR["perf_event_open"], attr, 0, -1, -1, 0),
        "bpf": lambda: libc.syscall(NR["bpf"], 0, attr, 48),
        "unshare-user": lambda: libc.syscall(NR["unshare"], CLONE_NEWUSER),
        "unshare-mount": lambda: libc.syscall(NR["unshare"], CLONE_NEWNS),
        "unshare-pid": lambda: libc.syscall(NR["unshare"], CLONE_NEWPID),
        "unshare-net": lambda: libc.syscall(NR["unshare"], CLONE_NEWNET),
        "mount": lambda: libc.syscall(NR["mount"], b"none", b"/work", b"tmpfs", 0, None),
        "chroot": lambda: libc.syscall(NR["chroot"], b"/tmp"),
        "open_tree": lambda: libc.syscall(NR["open_tree"], -100, b"/", 1),
        "fsopen": lambda: libc.syscall(NR["fsopen"], b"tmpfs", 0),
        "kexec_load": lambda: libc.syscall(NR["kexec_load"], 0, 0, None, 0),
        "init_module": lambda: libc.syscall(NR["init_module"], None, 0, b""),
        "pivot_root": lambda: libc.syscall(NR["pivot_root"], b"/tmp", b"/tmp"),
    }
    through = []
    for name, attempt in TRIES.items():
        if attempt() != -1:
            through.append(name)
    for path in ("/proc/1/root/", "/proc/1/environ", "/proc/1/ns/mnt", "/proc/1/mem",
                 "/proc/1/fd/"):
        try:
            if path.endswith("/"):
                os.listdir(path)
            else:
                fd = os.open(path, os.O_RDONLY)
                if "ns/" in path:
                    through.append("setns " + path) if libc.syscall(NR["setns"], fd, 0) != -1 else None
                else:
                    os.read(fd, 1)
                    through.append("read " + path)
                os.close(fd)
                continue
            through.append("list " + path)
        except OSError:
            pass
    for path in ("/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger",
                 "/sys/fs/cgroup/cgroup.procs", "/proc/self/setgroups"):
        try:
            with open(path, "w") as fh:
                fh.write("x")
            through.append("write " + path)
        except OSError:
            pass
    assert not through, f"got through: {through}"
    """
)

WRITABLE = code(
    """
    import os
    SCRATCH = ("/work", "/tmp", "/dev/shm", "/dev/mqueue")
    writable = []
    for top in ("/",):
        for root, dirs, files in os.walk(top):
            if root.startswith(("/proc", "/sys")) or root.startswith(SCRATCH):
                dirs[:] = []
                continue
            if os.access(root, os.W_OK):
                writable.append(root)
    assert not writable, f"writable outside the scratch places: {writable[:20]}"
    """
)


def test_namespaces_keyrings_and_new_kernel_interfaces_are_refused(hostile_pool):
    job = Job(id="syscalls", solution=SYSCALLS, tests="", mode="script")
    run_case(hostile_pool, job, Status.PASSED)


def test_no_writable_place_outside_the_ones_the_cleanup_empties(hostile_pool):
    job = Job(id="writable", solution=WRITABLE, tests="", mode="script")
    run_case(hostile_pool, job, Status.PASSED)
