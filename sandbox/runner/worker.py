"""The in-container worker: PID 1 of every sandbox container.

The runner directory (this file, ``zygote.py``, ``job.py``, ``cleanup.py``) is copied into the
runner image and must only use the standard library, pytest and coverage.py (the last only for
jobs that ask for coverage).

Why PID 1: the kernel never delivers a signal to a PID namespace's init process from inside
that namespace unless init installed a handler for it, and ``kill(-1, ...)`` skips init. The
worker installs no handler at all, so untrusted code running as the same user cannot kill,
stop or interrupt it. It also marks itself non-dumpable, so the untrusted code cannot ptrace
it or open its ``/proc/1/fd`` (the channel to the host).

Protocol: one JSON object per line on stdin (requests) and stdout (replies). Requests are
``{"op": "ping"}`` and ``{"op": "run", "job": {...}}``; every request gets exactly one reply.

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
import json
import os
import select
import signal
import sys
import termios
import time
import traceback

import _pytest.config
import _pytest.python
import _pytest.runner
import pytest

# ``python -I`` leaves the script's directory off sys.path; the runner's modules live beside it.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cleanup import clean_container
from zygote import Zygote, ended_unreported

TRACEBACK_CHARS = 2000
MAX_EVENTS_BYTES = 4 * 1024 * 1024
DRAIN_AFTER_EXIT_S = 0.5
UNREPORTED_CHECK_S = 0.02
REPORT_WAIT_S = 1.0
PR_SET_DUMPABLE = 4
HOST_FD = 0  # requests from the host arrive on stdin
WRITE_CHUNK = 1 << 20
PIPE_DEFAULT_BYTES = 1 << 16
PIPE_MAX_BYTES = 1 << 20  # /proc/sys/fs/pipe-max-size by default

_libc = ctypes.CDLL(None, use_errno=True)


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
    except (ValueError, TypeError, KeyError, AttributeError):
        pass
    return 0  # a first line that is not ours: the job process failed before it reported


def run_job(job: dict, zygote: Zygote) -> dict:
    timeout_s = float(job["timeout_s"])
    cap = int(job.get("output_limit_bytes", 65536))
    token = os.urandom(16).hex()
    # The first byte says whether the job is trusted-mode: its process splits in two before
    # reading the rest, so the candidate never holds the token or the judge program.
    header = b"T" if job.get("mode") == "trusted" else b"-"
    payload = memoryview(header + json.dumps({"token": token, "job": job}).encode())
    oom_before = _oom_kills()
    started = time.monotonic()
    job_w, payload, (out_r, err_r, ev_r) = _hand_over(zygote, payload)
    writing = [job_w] if payload else []
    stdout, stderr = _Capped(cap), _Capped(cap)
    events = bytearray()
    events_overflow = False
    streams = {out_r: stdout, err_r: stderr}
    open_fds = {out_r, err_r, ev_r}
    pid = None
    deadline = started + timeout_s
    timed_out = False
    ended = False
    status_word = None
    unreported_check_at = started + UNREPORTED_CHECK_S
    idle_polls = 0
    # The host closing our stdin means it is gone (killed, or dropped the container): stop
    # at once rather than when the job's time runs out, and Docker's auto_remove follows.
    host_watch = [HOST_FD]
    while True:
        if pid is None:
            pid = _job_pid(bytes(events[:4096]), token)
        if pid and not ended:
            if pid in zygote.reports:
                ended, status_word = True, zygote.reports[pid]
            elif time.monotonic() >= unreported_check_at:
                # Only when a job has killed or stopped the zygote, which then cannot report.
                unreported_check_at = time.monotonic() + UNREPORTED_CHECK_S
                if not zygote.can_report():
                    ended, status_word = ended_unreported(pid)
            if ended:
                # Left-over background processes may hold the pipes open: drain briefly.
                deadline = min(deadline, time.monotonic() + DRAIN_AFTER_EXIT_S)
        if not open_fds and (ended or not pid):
            break  # done, or the job process ended before it could report its pid
        now = time.monotonic()
        if now >= deadline:
            timed_out = not ended
            break
        # Once the child is gone, a pipe still held open by a left-over background process
        # must not keep us waiting: give it a moment to drain, then stop.
        wait = min(deadline - now, 0.05 if not ended else 0.02)
        if not open_fds:
            # The child closed its pipes and is exiting: poll for it quickly at first.
            idle_polls += 1
            wait = min(wait, 0.0005 * 2 ** min(idle_polls, 7))
        zygote_watch = [] if ended or zygote.closed else [zygote.channel]
        ready, can_write, _ = select.select(
            [*open_fds, *host_watch, *zygote_watch], writing, [], wait
        )
        if can_write:
            payload = _feed(job_w, payload)
            if not payload:
                os.close(job_w)
                writing = []
        if zygote_watch and zygote.channel in ready:
            ready.remove(zygote.channel)
            zygote.read_reports()
        if HOST_FD in ready:
            ready.remove(HOST_FD)
            if _host_gone():
                os._exit(0)  # as PID 1, exiting takes every process of the job with it
            host_watch = []  # unexpected input: leave it for the request loop
        if not ready and not can_write and ended:
            break
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                open_fds.discard(fd)
                continue
            if fd == ev_r:
                if len(events) + len(data) > MAX_EVENTS_BYTES:
                    events_overflow = True
                else:
                    events += data
            else:
                streams[fd].add(data)
    duration = time.monotonic() - started
    if writing:
        os.close(job_w)

    # The verdict rests on what was gathered above. If the container cannot be cleaned, or the
    # job tampered with the zygote, the reply says so and the host replaces the container: a
    # job must not be able to turn its own verdict into an infrastructure failure by leaving
    # behind a mess we cannot remove.
    dirty = ""
    try:
        clean_container(zygote)
    except Exception as exc:
        dirty = f"{type(exc).__name__}: {exc}"
    if pid and not ended:  # killed by the sweep: the zygote reports how, if it still can
        if zygote.can_report():
            status_word = zygote.wait_report(pid, REPORT_WAIT_S)
        else:
            status_word = ended_unreported(pid)[1]
    problem = zygote.problem()
    if problem:
        zygote.retire()
        dirty = f"{dirty}; {problem}" if dirty else problem
    for fd in (out_r, err_r, ev_r):
        os.close(fd)

    oom_killed = oom_before >= 0 and _oom_kills() > oom_before
    if not pid and not oom_killed:
        tail = stderr.text()[-TRACEBACK_CHARS:]
        raise RuntimeError(f"the job process did not start{'; ' + dirty if dirty else ''}: {tail}")
    exit_code, signal_number = _how_it_ended(status_word)
    parsed, tampered = _parse_events(bytes(events), token, events_overflow)
    return {
        "op": "result",
        "id": job["id"],
        "events": parsed,
        "events_tampered": tampered,
        "events_overflow": events_overflow,
        "events_limit_bytes": MAX_EVENTS_BYTES,
        "timed_out": timed_out,
        "oom_killed": oom_killed,
        "exit_code": exit_code,
        "signal": signal_number,
        "stdout": stdout.text(),
        "stderr": stderr.text(),
        "stdout_bytes": stdout.total,
        "stderr_bytes": stderr.total,
        "duration_s": round(duration, 6),
        "dirty": dirty,
    }


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


def _parse_events(raw: bytes, token: str, cut: bool) -> tuple[list[dict], bool]:
    """Parses the event lines; any line that is not ours marks the channel as tampered with.

    ``cut``: the stream was cut at the size limit, so its last line may be incomplete.
    """
    if cut:
        raw = raw[: raw.rfind(b"\n") + 1]
    events, tampered = [], False
    for line in raw.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            tampered = True
            continue
        if not isinstance(event, dict) or event.pop("token", None) != token:
            tampered = True
            continue
        events.append(event)
    return events, tampered


def _warm_up() -> None:
    """Does once, before the zygote is forked, what every job would otherwise redo.

    pytest imports most of its built-in plugins only when a session is configured: importing
    them here means each job finds them loaded. Then ``gc.freeze()`` moves everything held so
    far out of the collector's sight: pytest calls ``gc.collect()`` several times at the end of
    each session, and without this every job scanned (and, after the fork, copied the pages
    of) the whole inherited heap, about half of a small job's time.
    """
    for name in _pytest.config.default_plugins:
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass
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
    _warm_up()
    zygote = Zygote.start()  # before the first request: it must never see job data
    zygote.prefork()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            if request.get("op") == "ping":
                reply = {
                    "op": "pong",
                    "pid": os.getpid(),
                    "zygote": zygote.pid_if_alive(),
                    "python": sys.version.split()[0],
                    "pytest": pytest.__version__,
                }
            elif request.get("op") == "run":
                reply = run_job(request["job"], zygote)
            else:
                reply = {"op": "error", "message": f"unknown request {request.get('op')!r}"}
        except Exception as exc:
            reply = {
                "op": "error",
                "message": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()[-TRACEBACK_CHARS:],
            }
        out.write(json.dumps(reply) + "\n")
        out.flush()
        if reply.get("op") == "result" and not reply["dirty"]:
            zygote.prefork()  # the container is clean: fork the next job's process meanwhile


if __name__ == "__main__":
    main()
