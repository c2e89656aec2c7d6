"""What runs in the job process: it reads its own job, writes the files and runs them.

The job process is forked from the zygote (see ``zygote.py``), so it starts with pytest and its
plugins already imported and with no trace of any other job in its memory. It receives four
pipes: the job itself arrives on the first (``{"token": ..., "job": {...}}``, written by the
worker), stdout and stderr go to the next two, and what the test session did is reported as one
JSON event per line on the last, each event tagged with the job's token. The first event carries
the process id, sent before any of the job's code runs, so the worker knows which process's end
to watch for. Coverage, when asked for, is measured here too.
"""

from __future__ import annotations

import ast
import ctypes
import fcntl
import json
import os
import signal
import socket
import sys
import traceback
from collections.abc import Callable

import candidate
import pytest
import syscalls
import trusted
import trusted_batch
import variants
from cleanup import WORK_ROOT
from identity import CANDIDATE, JUDGE, become

try:  # imported before any job can put files on sys.path
    import coverage
except ImportError:  # an image without coverage.py still runs every other job
    coverage = None

RUN_DIR = os.path.join(WORK_ROOT, "run")
JUDGE_DIR = os.path.join(WORK_ROOT, "judge")  # the judge's own directory, mode 0700
TRUSTED_HEADER = b"T"  # the first byte of the job pipe: a trusted-mode job (else b"-")
JUDGE_OOM_SCORE_ADJ = "900"  # the OOM killer takes the candidate (1000) before its judge
SOLUTION_PATH = os.path.join(RUN_DIR, "solution.py")
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
MAX_COVERAGE_ITEMS = 5000
EVENTS_FD = 3
PR_SET_NAME = 15
PR_SET_DUMPABLE = 4
RUNNER_MODULES = (
    "candidate",
    "cleanup",
    "cputime",
    "identity",
    "job",
    "plain",
    "prepared",
    "protocol",
    "syscalls",
    "trusted",
    "trusted_batch",
    "variants",
    "zygote",
)

_libc = ctypes.CDLL(None, use_errno=True)


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
    if job.get("variants"):  # the solution, then each variant, each in a forked child
        variants.run_all(job, events, RUN_DIR, _pytest_session, _Reporter)
        return
    _pytest_session(job, events, RUN_DIR)


def _pytest_session(job: dict, events: _EventWriter, run_dir: str) -> None:
    """One pytest session over ``run_dir``'s test_solution.py; ``completed`` once it is over."""
    sys.path.insert(0, run_dir)
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
        run_dir,
        "--import-mode=prepend",
        "test_solution.py",
    ]
    if job.get("stop_at_first_failure"):  # a variant that one failing test decides
        args.insert(0, "-x")
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


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _take_fds(job_fd: int, out_fd: int, err_fd: int, events_fd: int) -> int:
    """Puts stdout, stderr and the events pipe on fds 1, 2 and 3, stdin on /dev/null, and
    closes every other descriptor inherited from the zygote (its channel to the worker among
    them). Returns the fd the job arrives on (4)."""
    # Copies above the range being rearranged first, so no dup2 overwrites a source.
    high = [
        fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in (out_fd, err_fd, events_fd, job_fd)
    ]
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for target, fd in zip((1, 2, EVENTS_FD, 4), high, strict=True):
        os.dup2(fd, target)
    os.closerange(5, 65536)
    return 4


def _forget_runner() -> None:
    """Leaves the job the import system it had before the runner was split into modules.

    The worker's directory was put on ``sys.path`` to import these modules; a job with its own
    ``job.py`` or ``cleanup.py`` must import its file, not ours (the running code keeps its
    references, so dropping the names is safe).
    """
    runner_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if entry != runner_dir]
    for name in RUNNER_MODULES:
        sys.modules.pop(name, None)


def _job_environment(signals: dict) -> None:
    """What every process running a job's code starts with: the signal dispositions the zygote
    had, the job's environment variables, text stdout and stderr, no runner on the path."""
    for sig, handler in signals.items():
        signal.signal(sig, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(JOB_ENV)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
    _forget_runner()


def _split_trusted(job_fd: int, signals: dict) -> None:
    """A trusted-mode job: forks the candidate before anything of the job is read, then becomes
    the judge (see ``trusted.py``). The candidate keeps stdout, stderr and its socket only."""
    judge_end, candidate_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        judge_end.close()
        os.close(job_fd)
        os.close(EVENTS_FD)
        become(CANDIDATE)
        _job_environment(signals)
        sys.stdout.reconfigure(line_buffering=True)  # the judge ends it without waiting
        os.makedirs(RUN_DIR, exist_ok=True)
        os.chdir(RUN_DIR)
        candidate.main(candidate_end, SOLUTION_PATH)
    candidate_end.close()
    with open("/proc/self/oom_score_adj", "w") as fh:
        fh.write(JUDGE_OOM_SCORE_ADJ)
    become(JUDGE)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # no /proc/<pid>/mem, fd or ptrace for the candidate
    request = json.loads(_read_all(job_fd))
    os.close(job_fd)
    events = _EventWriter(EVENTS_FD, request["token"])
    job = request["job"]
    del request
    events.emit(event="forked", pid=os.getpid())
    os.environ.clear()
    os.environ.update(JOB_ENV)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
    _forget_runner()
    os.makedirs(JUDGE_DIR, mode=0o700, exist_ok=True)
    os.chdir(JUDGE_DIR)
    events.emit(event="started")
    peer = trusted.Candidate(judge_end, pid)
    try:
        trusted.run_judge(
            job,
            peer,
            events,
            lambda source: _judge_pytest(source, events),
            lambda text: _excerpt(text, MESSAGE_CHARS),
        )
    finally:
        peer.stop("the judge program ended")


def _judge_pytest(source: str, events: _EventWriter) -> int:
    """``judge.run_pytest``: a pytest session in the judge over tests held in memory only.

    pytest collects an empty file of the judge's own directory, and the module it imports for
    it is compiled from ``source`` (asserts rewritten as pytest would), so the tests exist in
    no file the candidate could read. Raises ``AssertionError`` unless the session passed.
    """
    placeholder = os.path.join(JUDGE_DIR, "test_solution.py")
    config = os.path.join(JUDGE_DIR, "pytest.ini")
    for path, text in ((placeholder, ""), (config, "[pytest]\n")):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    # The candidate may write anywhere in /work and /tmp: pytest must read no configuration
    # file it would find above the judge's directory (``-c`` names the judge's own, so none is
    # searched for) and no conftest.py at all, or the candidate's plugins would judge.
    args = ["-q", "-s", "-p", "no:cacheprovider", "-p", "no:pastebin", "-p", "no:junitxml"]
    args += ["-c", config, "--noconftest", "--confcutdir", JUDGE_DIR]
    args += ["--rootdir", JUDGE_DIR, placeholder]
    status = pytest.main(args, plugins=[_Reporter(events), _InMemoryTests(placeholder, source)])
    if status != 0:
        raise AssertionError(f"the tests did not all pass (pytest exit status {int(status)})")
    return int(status)


class _InMemoryTests:
    """pytest plugin: the module collected for ``path`` is built from ``source``."""

    def __init__(self, path: str, source: str):
        self.path = path
        self.source = source

    def pytest_pycollect_makemodule(self, module_path, parent):
        if str(module_path) != self.path:
            return None
        source = self.source

        class InMemoryModule(pytest.Module):
            def _getobj(self):
                import linecache
                import types

                from _pytest.assertion.rewrite import rewrite_asserts

                try:
                    tree = ast.parse(source, str(self.path))
                    rewrite_asserts(tree, source.encode(), str(self.path), self.config)
                    code = compile(tree, str(self.path), "exec", dont_inherit=True)
                    module = types.ModuleType("test_solution")
                    module.__file__ = str(self.path)
                    linecache.cache[str(self.path)] = (
                        len(source),
                        None,
                        source.splitlines(True),
                        str(self.path),
                    )
                    sys.modules["test_solution"] = module
                    exec(code, module.__dict__)
                except Exception as exc:
                    raise self.CollectError(f"{type(exc).__name__}: {exc}") from exc
                self.config.pluginmanager.consider_module(module)
                return module

        return InMemoryModule.from_parent(parent, path=module_path)


def main(pipes: Callable[[], list[int] | None], signals: dict, comm: bytes) -> None:
    """Runs in the forked job process; never returns.

    ``pipes`` gives the four pipes (job, stdout, stderr, events), waiting for them if this
    process was forked ahead of its job, or ``None`` if none will come. ``signals`` are the
    dispositions the zygote had before it ignored every signal, ``comm`` its process name before
    it renamed itself: the job gets both back.
    """
    try:
        syscalls.restrict()  # before anything of the job: the judge and candidate inherit it
        _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        _libc.prctl(PR_SET_NAME, comm, 0, 0, 0)
        with open("/proc/self/oom_score_adj", "w") as fh:  # the OOM killer takes jobs first
            fh.write("1000")
        os.setsid()
        fds = pipes()
        if fds is None:
            return
        job_fd = _take_fds(*fds)
        header = os.read(job_fd, 1)
        if header == TRUSTED_HEADER:
            _split_trusted(job_fd, signals)
            return
        if header == trusted_batch.BATCH_HEADER:  # several candidates (trusted_batch.py)
            trusted_batch.run(job_fd, signals)
            return
        if not become(CANDIDATE):  # never the worker's uid: the job would reach the worker
            os.write(2, b"the job process cannot switch to the jobs' uid\n")
            return
        request = json.loads(_read_all(job_fd))
        os.close(job_fd)
        events = _EventWriter(EVENTS_FD, request["token"])
        job = request["job"]
        del request
        events.emit(event="forked", pid=os.getpid())
        _job_environment(signals)
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
