"""The in-container worker: PID 1 of every sandbox container.

It is copied into the runner image and must only use the standard library, pytest and
coverage.py (the last only for jobs that ask for coverage).

Why PID 1: the kernel never delivers a signal to a PID namespace's init process from inside
that namespace unless init installed a handler for it, and ``kill(-1, ...)`` skips init. The
worker installs no handler at all, so untrusted code running as the same user cannot kill,
stop or interrupt it. It also marks itself non-dumpable, so the untrusted code cannot ptrace
it or open its ``/proc/1/fd`` (the channel to the host).

Protocol: one JSON object per line on stdin (requests) and stdout (replies). Requests are
``{"op": "ping"}`` and ``{"op": "run", "job": {...}}``; every request gets exactly one reply.

For each job the worker forks a child (pytest is already imported, so the child starts in
milliseconds), which writes the job's files into a fresh work directory and runs them. The
child reports what the test session did through a private pipe; stdout and stderr go through
two other pipes that the worker drains and caps. When the child ends or the deadline passes,
the worker kills every process in the container but itself, empties every writable place and
removes System V IPC objects, so nothing of a job survives into the next one. The verdict is
decided on the host from these raw facts (see ``sandbox/verdict.py``), never from the exit
status or from anything the job printed.
"""

from __future__ import annotations

import array
import ctypes
import errno
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

try:  # imported before any job can put files on sys.path
    import coverage
except ImportError:  # an image without coverage.py still runs every other job
    coverage = None

WORK_ROOT = os.environ.get("CODEFACTORY_WORK", "/work")
RUN_DIR = os.path.join(WORK_ROOT, "run")
SOLUTION_PATH = os.path.join(RUN_DIR, "solution.py")
SCRATCH_DIRS = (WORK_ROOT, "/tmp", "/dev/shm", "/dev/mqueue")
JOB_ENV = {
    "PATH": "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin",
    "HOME": RUN_DIR,
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "TMPDIR": "/tmp",
}
TRACEBACK_CHARS = 2000
# What compile() raises for source it cannot compile: deeply nested expressions exhaust the
# compiler's recursion or memory, and null bytes are a ValueError.
UNCOMPILABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
MESSAGE_CHARS = 500
MAX_EVENTS_BYTES = 4 * 1024 * 1024
MAX_COVERAGE_ITEMS = 5000
DRAIN_AFTER_EXIT_S = 0.5
PR_SET_DUMPABLE = 4
PR_SET_PDEATHSIG = 1
HOST_FD = 0  # requests from the host arrive on stdin

_libc = ctypes.CDLL(None, use_errno=True)


# --------------------------------------------------------------------------------------------
# In the child: run the job and report through the events pipe.
# --------------------------------------------------------------------------------------------


class _EventWriter:
    """Writes one JSON event per line to the private events pipe, tagged with the job token."""

    def __init__(self, fd: int, token: str):
        self._fd = fd
        self._token = token

    def emit(self, **event) -> None:
        event["token"] = self._token
        data = (json.dumps(event) + "\n").encode()
        while data:
            written = os.write(self._fd, data)
            data = data[written:]


def _excerpt(text: str, limit: int) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


class _Reporter:
    """pytest plugin: turns pytest's own reports into per-test events."""

    def __init__(self, events: _EventWriter):
        self.events = events

    def pytest_collectreport(self, report):
        if report.failed:
            text = str(report.longreprtext).strip()
            lines = text.splitlines()
            self.events.emit(
                event="collect_error",
                name=report.nodeid or "<collection>",
                message=_excerpt(lines[-1] if lines else "collection failed", MESSAGE_CHARS),
                traceback=_excerpt(text, TRACEBACK_CHARS),
            )

    def pytest_runtest_logstart(self, nodeid, location):
        self.events.emit(event="test_start", name=nodeid)

    def pytest_runtest_logreport(self, report):
        message = ""
        tb = ""
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            message = crash.message if crash is not None else str(report.longreprtext)[-300:]
            tb = str(report.longreprtext)
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2])
        self.events.emit(
            event="test_phase",
            name=report.nodeid,
            phase=report.when,
            outcome=report.outcome,
            xfail=hasattr(report, "wasxfail"),  # the reason, often "", is its value
            message=_excerpt(message, MESSAGE_CHARS),
            traceback=_excerpt(tb, TRACEBACK_CHARS),
            duration=round(report.duration, 6),
        )

    def pytest_sessionfinish(self, session, exitstatus):
        self.events.emit(
            event="session_finished",
            collected=session.testscollected,
            failed=session.testsfailed,
            exitstatus=int(exitstatus),
        )


def _write_files(job: dict) -> None:
    os.makedirs(RUN_DIR, exist_ok=True)
    files = dict(job.get("files") or {})
    if job["mode"] == "pytest":
        files["solution.py"] = job["solution"]
        files["test_solution.py"] = job["tests"]
    for name, text in files.items():
        path = os.path.normpath(os.path.join(RUN_DIR, name))
        if not path.startswith(RUN_DIR + os.sep):
            raise ValueError(f"file name escapes the work directory: {name!r}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


def _run_pytest(job: dict, events: _EventWriter) -> None:
    for name, source in (("solution.py", job["solution"]), ("test_solution.py", job["tests"])):
        try:
            compile(source, name, "exec", dont_inherit=True)
        except UNCOMPILABLE as exc:
            events.emit(event="syntax_error", file=name, message=_syntax_message(exc))
            return
    sys.path.insert(0, RUN_DIR)
    args = [
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:pastebin",
        "-p",
        "no:junitxml",
        "--rootdir",
        RUN_DIR,
        "--import-mode=prepend",
        "test_solution.py",
    ]
    measurement = _start_coverage() if job.get("coverage") else None
    pytest.main(args, plugins=[_Reporter(events)])
    if job.get("coverage"):
        _report_coverage(measurement, events)
    events.emit(event="completed")


def _start_coverage():
    """Starts coverage.py on solution.py only: branch coverage, no data file, no config file.

    The measurement runs inside the same process as the job's own code, which could disturb or
    forge it: coverage is a quality metric the sandbox measures for well-behaved code, never a
    security boundary and never part of a verdict. ``config_file=False`` keeps a job's own
    ``.coveragerc`` or ``pyproject.toml`` from steering it.
    """
    if coverage is None:
        return None
    measurement = coverage.Coverage(
        data_file=None, branch=True, include=[SOLUTION_PATH], config_file=False
    )
    measurement.start()
    return measurement


def _report_coverage(measurement, events: _EventWriter) -> None:
    """Emits one ``coverage`` event with line and branch counts and what was missed."""
    if measurement is None:
        events.emit(event="coverage", error="coverage.py is not installed in the runner image")
        return
    try:
        measurement.stop()
        # ``_analyze`` is the only call that exposes branch arcs; requirements.txt pins the version.
        analysis = measurement._analyze(SOLUTION_PATH)
        numbers = analysis.numbers
        arcs = [
            [source, target]
            for source, targets in sorted(analysis.missing_branch_arcs().items())
            for target in sorted(targets)
        ]
        events.emit(
            event="coverage",
            statements=numbers.n_statements,
            missing_lines=sorted(analysis.missing)[:MAX_COVERAGE_ITEMS],
            branches=numbers.n_branches,
            missing_branches=numbers.n_missing_branches,
            missing_arcs=arcs[:MAX_COVERAGE_ITEMS],
        )
    except Exception as exc:
        events.emit(event="coverage", error=_excerpt(f"{type(exc).__name__}: {exc}", MESSAGE_CHARS))


def _run_script(job: dict, events: _EventWriter) -> None:
    program = job["solution"] + "\n\n" + job["tests"] + "\n"
    with open(os.path.join(RUN_DIR, "program.py"), "w", encoding="utf-8") as fh:
        fh.write(program)
    try:
        code = compile(program, "program.py", "exec", dont_inherit=True)
    except UNCOMPILABLE as exc:
        events.emit(event="syntax_error", file="program.py", message=_syntax_message(exc))
        return
    sys.path.insert(0, RUN_DIR)
    namespace = {"__name__": "__main__", "__file__": os.path.join(RUN_DIR, "program.py")}
    try:
        exec(code, namespace)
    except BaseException as exc:  # the program's own failure is data, not our crash
        if isinstance(exc, SystemExit):
            message = f"SystemExit({exc.code!r}) before the end of the program"
        else:
            message = f"{type(exc).__name__}: {exc}"
        events.emit(
            event="exception",
            type=type(exc).__name__,
            message=_excerpt(message, MESSAGE_CHARS),
            traceback=_excerpt(traceback.format_exc(), TRACEBACK_CHARS),
        )
        return
    events.emit(event="completed")


def _syntax_message(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"{exc.msg} ({exc.filename}, line {exc.lineno})"
    if isinstance(exc, RecursionError | MemoryError):
        return f"the source is too deeply nested to compile ({type(exc).__name__})"
    return str(exc)


def _child_main(job: dict, token: str, out_w: int, err_w: int, ev_w: int) -> None:
    """Runs in the forked child; never returns."""
    try:
        _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        with open("/proc/self/oom_score_adj", "w") as fh:  # the OOM killer takes jobs first
            fh.write("1000")
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, ev_w)
        os.closerange(ev_w + 1, 65536)
        os.environ.clear()
        os.environ.update(JOB_ENV)
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        events = _EventWriter(ev_w, token)
        _write_files(job)
        os.chdir(RUN_DIR)
        events.emit(event="started")
        if job["mode"] == "pytest":
            _run_pytest(job, events)
        else:
            _run_script(job, events)
    except BaseException:
        try:
            os.write(2, traceback.format_exc().encode(errors="replace"))
        except OSError:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(0)


# --------------------------------------------------------------------------------------------
# In the worker (PID 1): supervise, drain, kill, clean.
# --------------------------------------------------------------------------------------------


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


def _other_pids() -> list[int]:
    me = os.getpid()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            pids.append(int(entry))
    return pids


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_everything_else(deadline_s: float = 10.0) -> int:
    """SIGKILLs every process in the container except this one, until none is left.

    Works against setsid'd orphans, SIGTERM-ignoring processes and fork bombs: a process
    that has been sent SIGKILL cannot fork any more, so repeated sweeps converge.
    """
    end = time.monotonic() + deadline_s
    sweeps = 0
    while True:
        pids = _other_pids()
        _reap()
        if not pids:
            return sweeps
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        sweeps += 1
        _reap()
        if time.monotonic() > end:
            raise RuntimeError(f"processes survive after {sweeps} kill sweeps: {pids[:10]}")
        time.sleep(0.001 if sweeps < 50 else 0.01)


def _wipe_dir(path: str) -> None:
    """Empties ``path`` without recursion, whatever the shape of the tree a job left in it.

    A job can build a chain of directories thousands of levels deep, strip their permissions
    or plant symlinks. A recursive walk would overflow Python's stack or the path length limit
    and leave the container dirty, so instead each non-empty sub-directory is emptied one level
    at a time: its files are unlinked and its own sub-directories are moved up to ``path`` (a
    rename within the same file system), to be handled the same way on a later pass. Every
    call is relative to an open directory descriptor, so no path ever grows.
    """
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return
    hoisted = 0
    try:
        while True:
            with os.scandir(top) as it:
                entries = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in it]
            if not entries:
                return
            for name, is_dir in entries:
                if not is_dir:
                    os.unlink(name, dir_fd=top)
                    continue
                try:
                    os.rmdir(name, dir_fd=top)  # the common case: already empty
                    continue
                except OSError:
                    pass
                os.chmod(name, 0o700, dir_fd=top)
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
                try:
                    with os.scandir(sub) as it:
                        children = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
                    for child, child_is_dir in children:
                        if child_is_dir:
                            # Moving a directory to a new parent needs write access to it.
                            os.chmod(child, 0o700, dir_fd=sub)
                            hoisted = _hoist(sub, child, top, hoisted)
                        else:
                            os.unlink(child, dir_fd=sub)
                finally:
                    os.close(sub)
                os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)


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


def _remove_sysv_ipc() -> None:
    """Removes shared memory segments, semaphores and message queues a job left behind."""
    ipc_rmid = 0
    for table, remover, id_column in (
        ("shm", _libc.shmctl, 1),
        ("sem", _libc.semctl, 1),
        ("msg", _libc.msgctl, 1),
    ):
        try:
            with open(f"/proc/sysvipc/{table}") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > id_column:
                if table == "sem":
                    remover(int(fields[id_column]), 0, ipc_rmid)
                else:
                    remover(int(fields[id_column]), ipc_rmid, None)


def clean_container() -> None:
    kill_everything_else()
    for path in SCRATCH_DIRS:
        try:
            _wipe_dir(path)
        except OSError as exc:
            raise RuntimeError(f"cannot empty {path}: {exc}") from exc
    _remove_sysv_ipc()


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


def run_job(job: dict) -> dict:
    timeout_s = float(job["timeout_s"])
    cap = int(job.get("output_limit_bytes", 65536))
    token = os.urandom(16).hex()
    oom_before = _oom_kills()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ev_r, ev_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        os.close(ev_r)
        _child_main(job, token, out_w, err_w, ev_w)
    for fd in (out_w, err_w, ev_w):
        os.close(fd)

    stdout, stderr = _Capped(cap), _Capped(cap)
    events = bytearray()
    events_overflow = False
    streams = {out_r: stdout, err_r: stderr}
    open_fds = {out_r, err_r, ev_r}
    deadline = started + timeout_s
    timed_out = False
    status_word = None
    idle_polls = 0
    # The host closing our stdin means it is gone (killed, or dropped the container): stop
    # at once rather than when the job's time runs out, and Docker's auto_remove follows.
    host_watch = [HOST_FD]
    while True:
        if status_word is None:
            done, status_word_now = os.waitpid(pid, os.WNOHANG)
            if done:
                status_word = status_word_now
                # Left-over background processes may hold the pipes open: drain briefly.
                deadline = min(deadline, time.monotonic() + DRAIN_AFTER_EXIT_S)
        if status_word is not None and not open_fds:
            break
        now = time.monotonic()
        if now >= deadline:
            timed_out = status_word is None
            break
        # Once the child is gone, a pipe still held open by a left-over background process
        # must not keep us waiting: give it a moment to drain, then stop.
        wait = min(deadline - now, 0.05 if status_word is None else 0.02)
        if not open_fds:
            # The child closed its pipes and is exiting: poll for it quickly at first
            # (a flat 50 ms sleep here cost every job about 25 ms on average).
            idle_polls += 1
            wait = min(wait, 0.0005 * 2 ** min(idle_polls, 7))
        ready, _, _ = select.select([*open_fds, *host_watch], [], [], wait)
        if HOST_FD in ready:
            ready.remove(HOST_FD)
            if _host_gone():
                os._exit(0)  # as PID 1, exiting takes every process of the job with it
            host_watch = []  # unexpected input: leave it for the request loop
        if not ready and status_word is not None:
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

    # The verdict rests on what was gathered above. If the container cannot be cleaned, the
    # reply says so and the host replaces the container: a job must not be able to turn its
    # own verdict into an infrastructure failure by leaving behind a mess we cannot remove.
    dirty = ""
    try:
        clean_container()
    except Exception as exc:
        dirty = f"{type(exc).__name__}: {exc}"
    if status_word is None:
        try:
            done, status_word = os.waitpid(pid, os.WNOHANG if dirty else 0)
            status_word = status_word if done else None
        except ChildProcessError:
            status_word = None
    for fd in (out_r, err_r, ev_r):
        os.close(fd)

    exit_code = signal_number = None
    if status_word is not None:
        if os.WIFEXITED(status_word):
            exit_code = os.WEXITSTATUS(status_word)
        elif os.WIFSIGNALED(status_word):
            signal_number = os.WTERMSIG(status_word)
    oom_after = _oom_kills()
    parsed, tampered = _parse_events(bytes(events), token)
    return {
        "op": "result",
        "id": job["id"],
        "events": parsed,
        "events_tampered": tampered or events_overflow,
        "timed_out": timed_out,
        "oom_killed": oom_before >= 0 and oom_after > oom_before,
        "exit_code": exit_code,
        "signal": signal_number,
        "stdout": stdout.text(),
        "stderr": stderr.text(),
        "stdout_bytes": stdout.total,
        "stderr_bytes": stderr.total,
        "duration_s": round(duration, 6),
        "dirty": dirty,
    }


def _parse_events(raw: bytes, token: str) -> tuple[list[dict], bool]:
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
    """Does once, in the worker, what every forked job would otherwise redo.

    pytest imports most of its built-in plugins only when a session is configured: importing
    them here means each job finds them loaded. Then ``gc.freeze()`` moves everything the
    worker holds out of the collector's sight: pytest calls ``gc.collect()`` several times at
    the end of each session, and without this every job scanned (and, after the fork, copied
    the pages of) the worker's whole heap, about half of a small job's time.
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
    for line in sys.stdin:
        try:
            request = json.loads(line)
            if request.get("op") == "ping":
                reply = {
                    "op": "pong",
                    "pid": os.getpid(),
                    "python": sys.version.split()[0],
                    "pytest": pytest.__version__,
                }
            elif request.get("op") == "run":
                reply = run_job(request["job"])
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


if __name__ == "__main__":
    main()
