"""A seccomp filter of our own, installed in every job process before any of its code runs.

Docker's default profile is the base; some daemons' profiles still allow io_uring, an
interface with its own long history of kernel escapes and no use in a test job. So the job
process adds a filter (inherited by everything it forks, kept across ``exec``, never
removable) that makes those calls fail with ``EPERM`` as if absent, and refuses every call of
another architecture's numbering (32-bit or x32 entry points), which could reach the same
calls by other numbers.
"""

from __future__ import annotations

import ctypes
import os
import struct

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EPERM = 1
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000
REFUSED = (425, 426, 427)  # io_uring_setup, io_uring_enter, io_uring_register (every arch)

# classic BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_ARCH_OFFSET = 4
_NR_OFFSET = 0


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def program(arch: int) -> bytes:
    """The filter: another architecture or an x32 number is refused, so are ``REFUSED``."""
    refuse = SECCOMP_RET_ERRNO | EPERM
    body = [_insn(_LD_W_ABS, 0, 0, _ARCH_OFFSET)]
    # after the arch check: load nr, x32 check, one JEQ per refused call, allow, refuse
    tail = 2 + len(REFUSED) + 1
    body.append(_insn(_JEQ_K, 0, tail, arch))
    body.append(_insn(_LD_W_ABS, 0, 0, _NR_OFFSET))
    body.append(_insn(_JGE_K, len(REFUSED) + 1, 0, X32_SYSCALL_BIT))
    for index, number in enumerate(REFUSED):
        body.append(_insn(_JEQ_K, len(REFUSED) - index, 0, number))
    body.append(_insn(_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    body.append(_insn(_RET_K, 0, 0, refuse))
    return b"".join(body)


def restrict() -> None:
    """Installs the filter in this process (raises ``OSError`` if the kernel refuses it)."""
    arch = AUDIT_ARCH.get(os.uname().machine)
    if arch is None:
        return  # an architecture we have no numbers for keeps Docker's profile alone
    libc = ctypes.CDLL(None, use_errno=True)
    code = ctypes.create_string_buffer(program(arch))
    prog = _Program(len(code.raw) // 8, ctypes.cast(code, ctypes.c_void_p))
    for args in (
        (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
        (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0),
    ):
        if libc.prctl(*[ctypes.c_ulong(arg) for arg in args]) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"cannot install the job's seccomp filter: {os.strerror(error)}")
