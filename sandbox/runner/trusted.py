"""Trusted mode: the tests judge from a process the candidate cannot reach.

When the tests are trusted (a benchmark's checks, a dataset's accepted tests), running them in
the candidate's process lets a wrong answer pass: an object whose ``__eq__`` is always true, a
patched builtin, a tracer that replaces the check, a stolen report token. So the job process
splits in two before it has read any of its job:

- the **candidate** (a child, under the jobs' uid) keeps stdout and stderr and a socket to the
  judge, and nothing else: not the report channel, not the job pipe. It receives only the
  candidate program from the judge, runs it, and then serves calls by name
  (:mod:`candidate`);
- the **judge** (under its own uid, non-dumpable, so the candidate can neither read its memory
  nor open its descriptors) reads the job and the token, runs the judge program with each entry
  point bound to a proxy, and emits every event. The judge program never touches the
  filesystem the candidate sees.

Calls cross as plain data (:mod:`plain`); what the candidate returns that is not plain data, and
every way it can fail, becomes an exception raised in the judge, where the judge program's own
checks decide. The judge program is exposed to the module ``judge`` (:class:`JudgeModule`).
"""

from __future__ import annotations

import builtins
import functools
import os
import select
import signal
import socket
import struct
import sys
import time
import types

import plain

HEADER = struct.Struct("<I")
MESSAGE_CHARS = 2000
REPORT_KEYS = 64
REPORT_VALUE_CHARS = 16 * 1024
REPORT_KEY_CHARS = 200
NEVER_RAISED = (StopIteration, StopAsyncIteration)
CACHED_JUDGE_CHARS = 256 * 1024  # larger judge programs (embedded expected outputs) compile anew


class CandidateError(Exception):
    """The candidate failed in a way that is not a builtin exception (its own exception class,
    a return value that is not plain data, its process ending mid-call)."""


class CallTimeout(TimeoutError):
    """A call to the candidate exceeded its ``timeout_s``; the candidate has been stopped."""


def send(sock: socket.socket, data: bytes) -> None:
    sock.sendall(HEADER.pack(len(data)) + data)


def recv(sock: socket.socket, deadline: float | None = None) -> bytes | None:
    """One framed message, ``None`` at end-of-file; raises ``TimeoutError`` past ``deadline``."""
    header = _recv_exact(sock, HEADER.size, deadline)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > plain.MAX_MESSAGE_BYTES:
        raise plain.Malformed(
            f"a message of {size} bytes, over the {plain.MAX_MESSAGE_BYTES} limit"
        )
    data = _recv_exact(sock, size, deadline)
    if data is None:
        return None
    return data


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytes | None:
    chunks, left = [], size
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([sock], [], [], wait)[0]:
                raise TimeoutError
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def exception_from(name: str, message: str) -> BaseException:
    """The exception the judge raises for one the candidate raised: the builtin exception of
    that name when there is one (its message kept), else a :class:`CandidateError`."""
    kind = getattr(builtins, name, None) if name.isidentifier() else None
    # StopIteration raised in a judge would quietly end the loop (a ``map``, an ``iter``) that
    # called the candidate, as if every case had been checked: it never crosses as itself.
    if isinstance(kind, type) and issubclass(kind, Exception) and kind not in NEVER_RAISED:
        try:
            return kind(message)
        except TypeError:  # builtins that need more arguments (UnicodeDecodeError, ...)
            pass
    return CandidateError(f"{name}: {message}" if message else name)


class Candidate:
    """The judge's end of the candidate process: calls by name, with a per-call limit."""

    def __init__(self, sock: socket.socket, pid: int):
        self.sock = sock
        self.pid = pid
        self.stopped = ""
        self.last_call_s = 0.0
        self.calls = 0

    def load(self, solution: str, files: dict) -> tuple:
        """Sends the candidate program (and the job's extra files) and waits until it has run;
        returns its reply."""
        send(self.sock, plain.encode((solution, files)))
        return self._reply("loading the candidate program", None)

    def call(self, name: str, args: tuple, kwargs: dict, timeout_s: float | None):
        if self.stopped:
            raise CandidateError(f"cannot call {name}: {self.stopped}")
        try:
            request = plain.encode((name, args, kwargs))
        except plain.NotPlain as exc:
            raise TypeError(f"an argument to {name} is not plain data: {exc}") from None
        self.calls += 1
        started = time.monotonic()
        send(self.sock, request)
        deadline = None if timeout_s is None else started + timeout_s
        try:
            reply = self._reply(f"running {name}", deadline, timeout_s)
        finally:
            self.last_call_s = time.monotonic() - started
        kind = reply[0]
        if kind == "ok":
            _, value, mutated = reply
            if mutated is not None:
                new_args, new_kwargs = mutated
                for old, new in zip(args, new_args, strict=False):
                    plain.copy_into(old, new)
                for key, old in kwargs.items():
                    if key in new_kwargs:
                        plain.copy_into(old, new_kwargs[key])
            return value
        if kind == "raise":
            raise exception_from(reply[1], reply[2])
        raise CandidateError(reply[1])

    def _reply(self, doing: str, deadline: float | None, limit_s: float | None = None) -> tuple:
        try:
            data = recv(self.sock, deadline)
        except TimeoutError:
            self.stop(f"it exceeded the {limit_s:g} s limit of a call while {doing}")
            raise CallTimeout(
                f"the candidate exceeded the {limit_s:g} s limit while {doing}; it was stopped"
            ) from None
        except OSError:
            data = None
        if data is None:
            how = self._ended()
            self.stopped = f"the candidate process ended ({how})"
            raise CandidateError(f"the candidate process ended while {doing} ({how})")
        try:
            reply = plain.decode(data)
        except plain.Malformed as exc:
            self.stop("it sent malformed data")
            raise CandidateError(
                f"the candidate sent malformed data while {doing}: {exc}"
            ) from None
        if not _well_formed(reply):
            self.stop("it sent a malformed reply")
            raise CandidateError(f"the candidate sent a malformed reply while {doing}")
        return reply

    def stop(self, why: str) -> None:
        """Kills the candidate process; every later call fails, saying why."""
        self.stopped = self.stopped or f"the candidate was stopped: {why}"
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _ended(self) -> str:
        """How the candidate ended, once its end of the socket closed (killed if it lingers)."""
        try:
            for _ in range(100):
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.002)
            else:
                self.stop("it closed its socket")
                _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return "no exit status"
        if os.WIFSIGNALED(status):
            return f"killed by signal {os.WTERMSIG(status)}"
        return f"exit status {os.WEXITSTATUS(status)}"


def _well_formed(reply: object) -> bool:
    if type(reply) is not tuple or not reply or type(reply[0]) is not str:
        return False
    if reply[0] == "ok":
        return len(reply) == 3 and (
            reply[2] is None
            or (
                type(reply[2]) is tuple
                and len(reply[2]) == 2
                and type(reply[2][0]) is tuple
                and type(reply[2][1]) is dict
            )
        )
    if reply[0] == "raise":
        return len(reply) == 3 and type(reply[1]) is str and type(reply[2]) is str
    if reply[0] in ("bad", "syntax", "ready"):
        return len(reply) == 2 and type(reply[1]) is str
    return False


class JudgeModule(types.ModuleType):
    """``import judge`` in a judge program: calls into the candidate and reports to the host.

    - ``judge.call(name, *args, timeout_s=None, **kwargs)``: calls the candidate's ``name``;
      past ``timeout_s`` seconds (wall clock) the candidate is stopped and ``judge.CallTimeout``
      is raised;
    - ``judge.proxy(name)``: a function that does ``judge.call(name, ...)``; each entry point
      is bound to one in the judge program's globals before it runs, and ``judge.bind(ns)``
      binds them again (after running a prompt whose stubs have the same names);
    - ``judge.report(key, value)``: plain data that appears in the job's ``Result.data``
      (at most 64 keys, each value shortened to 16 KiB as JSON);
    - ``judge.last_call_s``: the wall time of the last call; ``judge.entry_points``;
    - ``judge.data``: the job's ``judge_data`` text (``None`` if it has none): a benchmark's
      one judge program reads each task's data there, so its code is the same for every task
      and a batch of several tasks' samples compiles it once;
    - ``judge.run_pytest(source)``: runs a pytest file held in memory, with ``solution`` a
      module of proxies; raises ``AssertionError`` unless every collected test passed.
    """

    CandidateError = CandidateError
    CallTimeout = CallTimeout

    def __init__(
        self, candidate: Candidate, entry_points: list[str], events, pytest_runner, data=None
    ):
        super().__init__("judge", "The trusted side of a trusted-mode job.")
        self._candidate = candidate
        self.entry_points = tuple(entry_points)
        self.data = data
        self._events = events
        self._pytest_runner = pytest_runner
        self._reported: set[str] = set()

    @property
    def last_call_s(self) -> float:
        return self._candidate.last_call_s

    def call(self, name: str, *args, timeout_s: float | None = None, **kwargs):
        if type(name) is not str:
            raise TypeError("judge.call: the name of the candidate's function must be a str")
        return self._candidate.call(name, args, kwargs, timeout_s)

    def proxy(self, name: str):
        candidate = self._candidate

        def proxy(*args, **kwargs):
            return candidate.call(name, args, kwargs, None)

        proxy.__name__ = proxy.__qualname__ = name
        proxy.__doc__ = f"The candidate's {name}, called in its own process."
        return proxy

    def bind(self, namespace: dict) -> None:
        for name in self.entry_points:
            namespace[name] = self.proxy(name)

    def report(self, key: str, value) -> None:
        if type(key) is not str or not key or len(key) > REPORT_KEY_CHARS:
            raise ValueError(
                f"judge.report: a key is a non-empty str of at most {REPORT_KEY_CHARS} chars"
            )
        if key not in self._reported and len(self._reported) >= REPORT_KEYS:
            raise ValueError(f"judge.report: at most {REPORT_KEYS} keys per job")
        self._reported.add(key)
        self._events.emit(event="report", key=key, value=_reportable(value))

    def run_pytest(self, source: str, module: str = "solution") -> None:
        solution = types.ModuleType(module)
        for name in self.entry_points:
            setattr(solution, name, self.proxy(name))
        sys.modules[module] = solution
        self._pytest_runner(source)


def _reportable(value):
    """``value`` as JSON the host can store, shortened: JSON types as themselves, tuples as
    lists, anything else (bytes, complex, sets, dicts with other keys) as its ``repr``."""
    import json

    try:
        plain.encode(value)
    except plain.NotPlain as exc:
        raise TypeError(f"judge.report: {exc}") from None
    converted = _jsonable(value)
    text = json.dumps(converted)
    if len(text) <= REPORT_VALUE_CHARS:
        return converted
    return repr(value)[:REPORT_VALUE_CHARS] + "..."


def _jsonable(value):
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
        )
    if type(value) in (list, tuple):
        return [_jsonable(item) for item in value]
    if type(value) is dict and all(type(key) is str for key in value):
        return {key: _jsonable(item) for key, item in value.items()}
    return repr(value)


def _syntax_message(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"{exc.msg} ({exc.filename}, line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}"


@functools.lru_cache(maxsize=64)
def _compiled_judge(source: str) -> types.CodeType:
    """The judge program's code, compiled once for every candidate of a batch (a code object
    is immutable: each candidate's run executes it in a fresh namespace)."""
    return compile(source, "<judge>", "exec", dont_inherit=True)


def run_judge(job: dict, candidate: Candidate, events, pytest_runner, excerpt) -> None:
    """Loads the candidate program, then runs the judge program; emits what happened."""
    import traceback

    try:
        source = job["tests"]
        judge_code = (
            _compiled_judge(source)
            if len(source) <= CACHED_JUDGE_CHARS
            else compile(source, "<judge>", "exec", dont_inherit=True)
        )
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        events.emit(
            event="exception",
            type="JudgeError",
            message=f"the judge program does not compile: {_syntax_message(exc)}",
        )
        return
    try:
        reply = candidate.load(job["solution"], dict(job.get("files") or {}))
    except BaseException as exc:
        events.emit(event="exception", type=type(exc).__name__, message=excerpt(str(exc)))
        return
    if reply[0] == "syntax":
        events.emit(event="syntax_error", file="solution.py", message=reply[1])
        return
    if reply[0] == "raise" and reply[1] in ("SyntaxError", "IndentationError", "TabError"):
        # the candidate's program compiled, then compiled its real code (a driver's exec)
        events.emit(event="syntax_error", file="solution.py", message=excerpt(reply[2]))
        return
    if reply[0] == "raise":
        exc = exception_from(reply[1], reply[2])
        message = f"{reply[1]}: {reply[2]}" if reply[2] else reply[1]
        events.emit(event="exception", type=type(exc).__name__, message=excerpt(message))
        return
    if reply[0] != "ready":
        events.emit(event="exception", type="CandidateError", message=excerpt(reply[1]))
        return
    module = JudgeModule(
        candidate, job.get("entry_points") or [], events, pytest_runner, job.get("judge_data")
    )
    sys.modules["judge"] = module
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    module.bind(namespace)
    try:
        exec(judge_code, namespace)
    except BaseException as exc:
        message = (
            f"SystemExit({exc.code!r}) before the end of the judge program"
            if isinstance(exc, SystemExit)
            else f"{type(exc).__name__}: {exc}"
        )
        events.emit(
            event="exception",
            type=type(exc).__name__,
            message=excerpt(message),
            traceback=excerpt(traceback.format_exc()),
        )
        return
    events.emit(event="completed", calls=candidate.calls)
