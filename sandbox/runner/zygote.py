"""The zygote: a pristine process, forked from the worker before any job existed, that forks
every job process.

Why: a process forked from the worker would inherit the worker's memory, where earlier jobs'
requests and output have been (Python frees memory without overwriting it), so a job reading
its own memory could find them. The worker forks the zygote at start-up, after importing
pytest, coverage and pytest's plugins and freezing the heap, and before reading any request.
The zygote never holds job data. Once the container is clean after a job (and at start-up),
the worker sends it ``prefork``: it forks the next job process ahead of its job, which sets
itself up and waits on the zygote's channel, while the zygote waits for it to end. When the job
comes, the worker sends the word ``fork`` with four pipe descriptors (``SCM_RIGHTS`` over a
socketpair), which that process receives; so a fork (a millisecond or two) is never on a job's
path. If it is not there to receive them, the zygote does and forks one for them. The job
process reads its job from the first pipe itself (``job.py``), so the job's text exists only in
the worker, which is never forked again, and in the job process, which reports its pid as its
first event, before any of the job's code runs. When the job process ends, the zygote sends back
``ended <pid> <wait status>``.

The zygote runs as root (the worker's user) and every job process switches to the jobs' uid
before it reads its job (``identity.py``), so the kernel refuses a job every way to reach the
zygote: signals, ptrace, ``/proc/<pid>/mem``, and changing what its children would inherit
(priority, CPU affinity, scheduling policy, I/O class, resource limits). It is non-dumpable
too, like the worker, and ignores every signal it can. After each job the worker still checks
it (:meth:`Zygote.problem`), as defence in depth; if anything is wrong the worker kills it,
reports the container as dirty and the host replaces the container. The worker never falls
back to forking jobs from itself. A zygote that can no longer report never hides the end of
the job it forked from the worker: a killed zygote's child is reparented to PID 1, and a stopped
zygote's child is seen to end in ``/proc`` (:func:`ended_unreported`).
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import resource
import select
import signal
import socket
import time

import job

FORK = b"fork"
PREFORK = b"prefork"
ENDED = b"ended"
NAME = b"cf-zygote"
OOM_SCORE_ADJ = "500"  # after the jobs (1000), before the worker (0)
PR_SET_NAME = 15
PR_GET_NAME = 16
PR_SET_DUMPABLE = 4
KEPT_SIGNALS = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGCONT}
IOPRIO_GET = {"x86_64": 252, "aarch64": 31}  # syscall numbers
IOPRIO_WHO_PROCESS = 1
RLIMITS = sorted(getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_"))

_libc = ctypes.CDLL(None, use_errno=True)


class Zygote:
    """The worker's handle on its zygote: fork a job process, learn when it ended, check and
    retire the zygote."""

    def __init__(self, pid: int, channel: socket.socket):
        self.pid = pid
        self.channel = channel
        self.dead = False
        self.closed = False  # the channel reached end-of-file: the zygote is ending
        self.fault = ""
        self.reports: dict[int, int] = {}
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
        ours.setblocking(False)
        return cls(pid, ours)

    def prefork(self) -> None:
        """Asks the zygote to fork the next job process now, ahead of its job.

        Call only when no process of a job is left: the process waits, pristine, for the pipes
        of the next job (:meth:`spawn`), so the fork is off that job's path.
        """
        if not self.closed and self.pid_if_alive() is not None:
            self.channel.send(PREFORK)

    def spawn(self, fds: list[int]) -> None:
        """Hands ``fds`` (job, stdout, stderr, events) to the job process forked ahead, or, if
        that one is gone, to the zygote, which then forks one for them."""
        if self.closed or self.pid_if_alive() is None:
            raise RuntimeError("the zygote is gone; this container must be replaced")
        self.reports.clear()
        socket.send_fds(self.channel, [FORK], fds)

    def read_reports(self) -> None:
        """Takes in what the zygote sent: ``ended <pid> <status>`` for each job process."""
        while True:
            try:
                message = self.channel.recv(64)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message = b""
            if not message:
                self.closed = True
                return
            kind, _, rest = message.partition(b" ")
            if kind == ENDED:
                pid, status = (int(field) for field in rest.split())
                self.reports[pid] = status

    def wait_report(self, pid: int, timeout_s: float) -> int | None:
        """The wait status of job process ``pid`` from the zygote, waiting up to ``timeout_s``."""
        end = time.monotonic() + timeout_s
        self.read_reports()
        while pid not in self.reports and not self.closed:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.channel], [], [], left)[0]:
                break
            self.read_reports()
        return self.reports.get(pid)

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

    def pid_to_spare(self) -> int | None:
        """The pid the kill sweep must spare: the zygote's, while it runs and is not stopped.

        A stopped zygote cannot reap the job process it forked, whose zombie would outlast
        every sweep: it is killed here, and its child is reparented to PID 1.
        """
        pid = self.pid_if_alive()
        if pid is not None and _state(pid) in (b"T", b"t"):
            self.fault = "the job stopped the zygote"
            self.retire()
            return None
        return pid

    def reaped(self, pid: int, status: int) -> None:
        if pid == self.pid:
            self.dead = True

    def can_report(self) -> bool:
        """Whether the zygote can still tell when its job process ends."""
        pid = self.pid_if_alive()
        return pid is not None and _state(pid) not in (b"T", b"t", b"")

    def problem(self) -> str:
        """What a job did to the zygote, or ``""`` if it is as it was when it started."""
        if self.fault:
            return self.fault
        pid = self.pid_if_alive()
        if pid is None:
            return "the job killed the zygote"
        state = _state(pid)
        if state in (b"T", b"t"):
            return "the job stopped the zygote"
        changed = state_changes(self._baseline, self._inherited())
        if changed:
            return "the job changed the zygote's " + ", ".join(changed)
        return ""

    def retire(self) -> None:
        """Kills and reaps the zygote; jobs can no longer be run in this container."""
        pid = self.pid_if_alive()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self.dead = self.closed = True

    def _inherited(self) -> dict:
        return process_state(self.pid)


def process_state(pid: int) -> dict:
    """What a process passes on to its children and a process of the same user could change
    from outside: priority, scheduling policy, CPU affinity, I/O class and every resource
    limit. Jobs run under another uid, so the kernel refuses them all of this; the worker still
    compares it after every job, for itself and the zygote, and replaces the container if any
    of it changed.

    What the kernel (or a sandboxing runtime such as gVisor) will not tell is ``None`` and
    goes unchecked, rather than making every container unusable.
    """
    readers = {
        "priority": lambda: os.getpriority(os.PRIO_PROCESS, pid),
        "scheduling policy": lambda: os.sched_getscheduler(pid),
        "CPU affinity": lambda: os.sched_getaffinity(pid),
        "I/O class": lambda: _ioprio(pid),
        "resource limits": lambda: [resource.prlimit(pid, limit) for limit in RLIMITS],
    }
    values = {}
    for name, read in readers.items():
        try:
            values[name] = read()
        except OSError:
            values[name] = None
    return values


def state_changes(before: dict, now: dict) -> list[str]:
    """The names of what differs between two :func:`process_state` readings."""
    return [name for name, value in before.items() if value is not None and now[name] != value]


def _ioprio(pid: int) -> int | None:
    """The I/O scheduling class and level of ``pid`` (``ioprio_get``), where it is known."""
    number = IOPRIO_GET.get(platform.machine())
    if number is None:
        return None
    value = _libc.syscall(number, IOPRIO_WHO_PROCESS, pid)
    if value < 0:
        raise OSError(ctypes.get_errno(), "ioprio_get failed")
    return value


def ended_unreported(pid: int) -> tuple[bool, int | None]:
    """Whether job process ``pid`` has ended, for when its zygote cannot say so; with its wait
    status when PID 1 (its parent since the zygote died) can collect it."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
        return (True, status) if done else (False, None)
    except ChildProcessError:
        pass  # still the (stopped) zygote's child
    return _state(pid) in (b"Z", b"X", b""), None


def _state(pid: int) -> bytes:
    """The process's state letter from ``/proc/<pid>/stat``; ``b""`` once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return b""


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
        if message == PREFORK and not fds:
            pipes = functools.partial(_receive_pipes, channel)
        elif message == FORK and len(fds) == 4:
            pipes = functools.partial(list, fds)
        else:
            _close(fds)
            continue
        try:
            pid = os.fork()
        except OSError:
            pid = None  # the job process never reports; the worker sees it and says so
        if pid == 0:
            try:
                job.main(pipes, dispositions, comm.value)
            finally:
                os._exit(0)
        _close(fds)
        if pid is not None:
            channel.send(ENDED + b" %d %d" % (pid, _wait_for_end(pid)))


def _receive_pipes(channel: socket.socket) -> list[int] | None:
    """In a job process forked ahead of its job: waits for the worker's ``fork`` and its pipes.

    Meanwhile the zygote waits for this process to end, so the worker's message can only come
    here."""
    message, fds, _, _ = socket.recv_fds(channel, 64, 8)
    if message == FORK and len(fds) == 4:
        return fds
    _close(fds)
    return None


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _wait_for_end(pid: int) -> int:
    """Waits until ``pid`` exits or is killed. A job process that made the zygote its tracer
    (``PTRACE_TRACEME``) reports its stops here too: they are not its end."""
    while True:
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            return status


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
