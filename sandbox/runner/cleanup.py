"""What the worker does after every job so that nothing of it survives into the next one.

Every process but PID 1 and the zygote is SIGKILLed until none is left, every writable place is
emptied and System V IPC objects are removed. Runs in the worker (PID 1) only.

The worker is root without the capabilities that bypass file permissions or IPC ownership, so
what a job left is removed with the job's own rights: the worker takes each of the jobs' uids in
turn as its effective uid (its saved uid stays root, so it can come back), empties what that uid
may empty, and comes back; the kernel gives its capabilities back with the uid. No process of a
job is alive meanwhile (the kill sweep comes first). Whatever is still there after a few rounds
makes the container dirty, and the host replaces it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import time
from collections.abc import Iterator
from typing import Protocol

from identity import JOB_UIDS

WORK_ROOT = "/work"  # a size-capped tmpfs (see sandbox/container.py)
SCRATCH_DIRS = (WORK_ROOT, "/tmp", "/dev/shm", "/dev/mqueue")
IPC_TABLES = ("shm", "sem", "msg")
WIPE_ROUNDS = 3
PR_SET_DUMPABLE = 4

_libc = ctypes.CDLL(None, use_errno=True)


class Spared(Protocol):
    """A child of the worker that the kill sweep leaves alone while it lives (the zygote).

    All of the worker's reaping goes through :func:`reap`, which reports every reaped pid to
    ``reaped``; so once the spared process has died, ``pid_to_spare`` can say so for certain and
    its pid, which a new process may then take, is never spared by mistake.
    """

    def pid_to_spare(self) -> int | None: ...

    def reaped(self, pid: int, status: int) -> None: ...


def reap(spared: Spared | None = None) -> None:
    """Collects every child that has ended (orphans of the job are reparented to PID 1)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if spared is not None:
            spared.reaped(pid, status)


def _other_pids(keep: set[int]) -> list[int]:
    return [
        int(entry) for entry in os.listdir("/proc") if entry.isdigit() and int(entry) not in keep
    ]


def kill_all_but(keep: set[int], rounds: int, pause_s: float) -> bool:
    """SIGKILLs every process but ``keep`` until only the dead are left, reaping this
    process's children (the variants' and the batch candidates' sweep between two runs):
    True once none is alive, False if some survived ``rounds`` sweeps."""
    for _ in range(rounds):
        reap()
        alive = [pid for pid in _other_pids(keep) if not _dead(pid)]
        if not alive:
            reap()
            return True
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(pause_s)
    return False


def _dead(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def kill_everything_else(spared: Spared | None = None, deadline_s: float = 10.0) -> int:
    """SIGKILLs every process in the container except this one and ``spared``, until none is left.

    Works against setsid'd orphans, SIGTERM-ignoring processes and fork bombs: a process
    that has been sent SIGKILL cannot fork any more, so repeated sweeps converge. Whether the
    spared process lives is asked before each listing of ``/proc``: it cannot die and be reaped
    between the two (only this function reaps), so its pid in the listing really is itself.
    """
    end = time.monotonic() + deadline_s
    sweeps = 0
    while True:
        keep = {os.getpid()}
        spared_pid = spared.pid_to_spare() if spared is not None else None
        if spared_pid is not None:
            keep.add(spared_pid)
        pids = _other_pids(keep)
        reap(spared)
        if not pids:
            return sweeps
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        sweeps += 1
        reap(spared)
        if time.monotonic() > end:
            raise RuntimeError(f"processes survive after {sweeps} kill sweeps: {pids[:10]}")
        time.sleep(0.001 if sweeps < 50 else 0.01)


def wipe_dir(path: str) -> None:
    """Empties ``path`` without recursion, whatever the shape of the tree a job left in it.

    A job can build a chain of directories thousands of levels deep, strip their permissions
    or plant symlinks. A recursive walk would overflow Python's stack or the path length limit
    and leave the container dirty, so instead each non-empty sub-directory is emptied one level
    at a time: its files are unlinked and its own sub-directories are moved up to ``path`` (a
    rename within the same file system), to be handled the same way on a later pass. Every
    call is relative to an open directory descriptor, so no path ever grows. What the current
    user may not remove (another uid's entries) is left for that uid's turn; the walk ends when
    a pass removes nothing more.
    """
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    hoisted = 0
    before: list[tuple[str, bool]] | None = None
    try:
        while True:
            with os.scandir(top) as it:
                entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
            if not entries or entries == before:
                return  # empty, or nothing more that this user may remove
            before = entries
            for name, is_dir in entries:
                try:
                    hoisted = _remove_entry(top, name, is_dir, hoisted)
                except PermissionError:
                    continue
                except OSError as exc:
                    if exc.errno != errno.ENOTEMPTY:
                        raise  # ENOTEMPTY: emptied what it could; the rest is another's
    finally:
        os.close(top)


def _remove_entry(top: int, name: str, is_dir: bool, hoisted: int) -> int:
    """Removes one entry of ``top``: a file, or a directory after its files are unlinked and
    its sub-directories hoisted into ``top``. Returns the hoisting counter."""
    if not is_dir:
        os.unlink(name, dir_fd=top)
        return hoisted
    try:
        os.rmdir(name, dir_fd=top)  # the common case: already empty
        return hoisted
    except OSError:
        pass
    os.chmod(name, 0o700, dir_fd=top)
    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
    try:
        with os.scandir(sub) as it:
            children = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
        for child, child_is_dir in children:
            try:
                if child_is_dir:
                    # Moving a directory to a new parent needs write access to it.
                    os.chmod(child, 0o700, dir_fd=sub)
                    hoisted = _hoist(sub, child, top, hoisted)
                else:
                    os.unlink(child, dir_fd=sub)
            except PermissionError:
                continue  # another uid's: its turn comes
    finally:
        os.close(sub)
    os.rmdir(name, dir_fd=top)
    return hoisted


def _hoist(parent: int, name: str, top: int, counter: int) -> int:
    """Moves directory ``name`` from ``parent`` to ``top`` under a fresh name; returns the counter."""
    while True:
        counter += 1
        try:
            os.rename(name, f".wipe-{counter}", src_dir_fd=parent, dst_dir_fd=top)
            return counter
        except OSError as exc:  # the name is taken by something the job made: try the next
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise


def _ipc_rows(table: str) -> list[str]:
    try:
        with open(f"/proc/sysvipc/{table}") as fh:
            return fh.read().splitlines()[1:]
    except OSError:
        return []


def remove_sysv_ipc() -> None:
    """Removes the shared memory segments, semaphores and message queues left behind that the
    current user may remove (the kernel refuses the others, quietly)."""
    ipc_rmid = 0
    for table, remover, id_column in (
        ("shm", _libc.shmctl, 1),
        ("sem", _libc.semctl, 1),
        ("msg", _libc.msgctl, 1),
    ):
        for row in _ipc_rows(table):
            fields = row.split()
            if len(fields) > id_column:
                if table == "sem":
                    remover(int(fields[id_column]), 0, ipc_rmid)
                else:
                    remover(int(fields[id_column]), ipc_rmid, None)


@contextlib.contextmanager
def acting_as(uid: int) -> Iterator[None]:
    """Runs the block with ``uid`` as the effective uid and gid, when the worker is root; the
    saved uid stays root, and leaving the block takes root (and its capabilities) back."""
    if os.getuid() != 0:
        yield  # a worker that is not root has one uid for everything: nothing to switch
        return
    os.setresgid(-1, uid, -1)
    os.setresuid(-1, uid, -1)
    try:
        yield
    finally:
        os.setresuid(-1, 0, -1)
        os.setresgid(-1, 0, -1)
        _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # a change of uid resets it


def _left_over() -> list[str]:
    """What is still in the scratch places or the IPC tables (as root sees them)."""
    left = []
    for path in SCRATCH_DIRS:
        try:
            names = os.listdir(path)
        except FileNotFoundError:
            continue
        left += [os.path.join(path, name) for name in names[:5]]
    for table in IPC_TABLES:
        left += [f"System V {table} object" for _ in _ipc_rows(table)[:1]]
    return left


def clean_container(spared: Spared | None = None) -> None:
    """Kills every process but PID 1 and ``spared``, empties scratch space, removes IPC."""
    kill_everything_else(spared)
    left = _left_over()
    for _ in range(WIPE_ROUNDS):
        for uid in JOB_UIDS:  # most jobs leave files of one uid only: one turn
            if not left:
                return
            with acting_as(uid):
                for path in SCRATCH_DIRS:
                    try:
                        wipe_dir(path)
                    except OSError as exc:
                        raise RuntimeError(f"cannot empty {path}: {exc}") from exc
                remove_sysv_ipc()
            left = _left_over()
    if left:
        raise RuntimeError(f"cannot remove what a job left: {', '.join(left)}")
