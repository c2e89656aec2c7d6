"""The zygote: a pristine process, forked from the worker before any job existed, that forks
every job process.

Why: a process forked from the worker would inherit the worker's memory, where earlier jobs'
requests and output have been (Python frees memory without overwriting it), so a job reading
its own memory could find them. The worker forks the zygote at start-up, after importing
pytest, coverage and pytest's plugins and freezing the heap, and before reading any request.
The zygote never holds job data: the worker sends it only the word ``fork`` together with four
pipe descriptors (``SCM_RIGHTS`` over a socketpair); it forks an intermediate process, which
forks the job process and exits at once, and closes its copies. The job process reads its job
from the first pipe itself (``job.py``), so the job's text exists only in the worker, which is
never forked again, and in the job process. Being orphaned, the job process is reparented to
PID 1, which therefore collects its real exit status (the job reports its pid before any of its
code runs).

A job runs as the same user as the zygote, so it can kill or stop it and change what the
kernel lets a process change in another of its user (priority, CPU affinity, scheduling
policy, resource limits), all of which later jobs would inherit. It cannot read or write its
memory: the zygote is non-dumpable, like the worker, so ptrace, ``/proc/<pid>/mem`` and its
other private ``/proc`` files are refused. The zygote ignores every signal it can, and after
each job the worker checks it (:meth:`Zygote.problem`); if anything is wrong the worker kills
it, reports the container as dirty and the host replaces the container. The worker never falls
back to forking jobs from itself.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import socket

import job

FORK = b"fork"
NAME = b"cf-zygote"
OOM_SCORE_ADJ = "500"  # after the jobs (1000), before the worker (0)
PR_SET_NAME = 15
PR_GET_NAME = 16
PR_SET_DUMPABLE = 4
KEPT_SIGNALS = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGCONT}
RLIMITS = sorted(getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_"))

_libc = ctypes.CDLL(None, use_errno=True)


class Zygote:
    """The worker's handle on its zygote: fork a job process, check and retire the zygote."""

    def __init__(self, pid: int, channel: socket.socket):
        self.pid = pid
        self.channel = channel
        self.dead = False
        self._baseline = self._inherited()

    @classmethod
    def start(cls) -> Zygote:
        """Forks the zygote. Call before the worker has read anything of any job."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                _serve(theirs)
            finally:
                os._exit(1)
        theirs.close()
        return cls(pid, ours)

    def spawn(self, fds: list[int]) -> None:
        """Asks the zygote for a job process that gets ``fds``: job, stdout, stderr, events."""
        if self.pid_if_alive() is None:
            raise RuntimeError("the zygote is gone; this container must be replaced")
        socket.send_fds(self.channel, [FORK], fds)

    def pid_if_alive(self) -> int | None:
        """The zygote's pid while it runs; ``None`` for good once it has ended.

        Asked without reaping (``WNOWAIT``): a dead but unreaped zygote keeps its pid, so no
        other process can have taken it.
        """
        if self.dead:
            return None
        try:
            ended = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            ended = True
        if ended is not None:
            self.dead = True
            return None
        return self.pid

    def reaped(self, pid: int, status: int) -> None:
        if pid == self.pid:
            self.dead = True

    def problem(self) -> str:
        """What a job did to the zygote, or ``""`` if it is as it was when it started."""
        pid = self.pid_if_alive()
        if pid is None:
            return "the job killed the zygote"
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                state = fh.read().rpartition(b")")[2].split()[0]
            changed = [
                name for name, value in self._inherited().items() if value != self._baseline[name]
            ]
        except (OSError, IndexError) as exc:
            return f"cannot inspect the zygote: {exc}"
        if state in (b"T", b"t"):
            return "the job stopped the zygote"
        if changed:
            return "the job changed the zygote's " + ", ".join(changed)
        return ""

    def retire(self) -> None:
        """Kills and reaps the zygote; jobs can no longer be run in this container."""
        pid = self.pid_if_alive()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self.dead = True
        self.channel.close()

    def _inherited(self) -> dict:
        """What the zygote passes on to every job and another process of its user may change."""
        return {
            "priority": os.getpriority(os.PRIO_PROCESS, self.pid),
            "scheduling policy": os.sched_getscheduler(self.pid),
            "CPU affinity": os.sched_getaffinity(self.pid),
            "resource limits": [resource.prlimit(self.pid, limit) for limit in RLIMITS],
        }


def _serve(channel: socket.socket) -> None:
    """The zygote's life: set itself up, then fork a job process per request; never returns."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)  # the host's request stream: never the zygote's to read
    os.dup2(null, 1)
    keep = channel.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
    _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # only a dumpable process may open its /proc files
    with open("/proc/self/oom_score_adj", "w") as fh:
        fh.write(OOM_SCORE_ADJ)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    comm = ctypes.create_string_buffer(17)
    _libc.prctl(PR_GET_NAME, comm, 0, 0, 0)
    _libc.prctl(PR_SET_NAME, NAME, 0, 0, 0)
    dispositions = _ignore_signals()
    while True:
        message, fds, _, _ = socket.recv_fds(channel, 64, 8)
        if not message:
            os._exit(0)  # the worker is gone
        if message != FORK or len(fds) != 4:
            for fd in fds:
                os.close(fd)
            continue
        try:
            pid = os.fork()
        except OSError:
            pid = None  # the job process never reports; the worker sees it and says so
        if pid == 0:
            try:
                intermediate = os.getpid()
                if os.fork() == 0:
                    job.main(fds, intermediate, dispositions, comm.value)
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        if pid is not None:
            os.waitpid(pid, 0)


def _ignore_signals() -> dict:
    """Ignores every signal that can be ignored; returns the previous dispositions."""
    previous = {}
    for sig in signal.valid_signals():
        if sig in KEPT_SIGNALS:
            continue
        try:
            handler = signal.getsignal(sig)
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError, RuntimeError):
            continue
        if handler is not None:
            previous[sig] = handler
    return previous
