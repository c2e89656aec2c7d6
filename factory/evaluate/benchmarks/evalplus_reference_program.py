"""The reference program of HumanEval+ / MBPP+: runs ``canonical_solution`` on every input
(each decoded for that call alone: what EvalPlus's ``trusted_exec`` gets from its deep copies),
times each call and writes the encoded outputs to stdout, compressed, behind a marker naming the
task. The quick tasks' references share a job (:func:`references_job`), each in a namespace of
its own, as EvalPlus computes every task's expected outputs in one process.
"""

from __future__ import annotations

import base64
import json
import zlib

from factory.evaluate.benchmarks.evalplus_programs import (
    BIG_OUTPUT_CHARS,
    PROGRAM_PRELUDE,
    RULES_SOURCE,
    TASK_OUTPUT_CHARS,
    EvalPlusBenchmark,
    inputs_text,
)
from sandbox import Job, Result, Status

REFERENCE_MARKER = "EVALPLUS-REFERENCE "
REFERENCE_TIMEOUT_S = 900.0

_REFERENCE_BODY = """
_namespace = {}
exec(_PROGRAM, _namespace)
_function = _namespace[_ENTRY]
_result = {"base": [], "plus": [], "base_time": [], "plus_time": []}
_used = 0


class _Discard(_io.TextIOBase):
    def write(self, text):
        return len(text)


_quiet = _contextlib.redirect_stdout(_Discard())  # what the reference prints goes nowhere
_quiet.__enter__()
for _part in ("base", "plus"):
    for _inp in _INPUTS[_part]:
        # EvalPlus calls the reference on a deep copy, since it keeps the inputs for the
        # samples; here the inputs were decoded for this run alone, which is the same.
        _start = _time.perf_counter()
        _value = _function(*_inp)
        _elapsed = _time.perf_counter() - _start
        if _NOT_NONE:
            _value = _value is not None
        _text = None
        _huge = digest_scheme(_value) == "marshal"
        if _huge:  # a huge nested list: digested slice by slice, never written out whole
            _found = answer_digest(_value, "marshal", True) if _ORACLE is None else None
            if _found is not None:
                _text = json.dumps(
                    {"sha256": _found[0], "floats": is_floats(_value), "chars": _found[1],
                     "scheme": "marshal"}
                )
        elif type(_value) is str and len(_value) > _BIG and (_found := text_digest(_value)):
            # a long plain string: its text digested as below, without writing the text out
            _huge = True
            if _ORACLE is None and "nan" not in _value:
                _text = json.dumps({"sha256": _found[0], "floats": False, "chars": _found[1]})
        else:
            try:
                _text = dumps(_value)
            except (TypeError, ValueError, RecursionError):
                _text = None
        _long = _text is not None and (len(_text) > _BIG or _used + len(_text) > _TOTAL)
        if _long and not _huge:
            if _ORACLE is None and "nan" not in _text:
                _digest = _hashlib.sha256(_text.encode("utf-8")).hexdigest()
                _text = json.dumps(
                    {"sha256": _digest, "floats": is_floats(_value), "chars": len(_text)}
                )
            else:
                _text = None
        _value = None
        _used += len(_text or "")
        _result[_part].append(_text)
        _result[_part + "_time"].append(_elapsed)
_quiet.__exit__(None, None, None)
_payload = _base64.b64encode(_zlib.compress(json.dumps(_result).encode("utf-8"))).decode()
_os.write(1, ("\\n" + _MARKER + _payload + "\\n").encode())
"""


def reference_job(bench: EvalPlusBenchmark, task_id: str) -> Job:
    """The job that runs ``task_id``'s reference on all its inputs (expected outputs, times)."""
    return references_job(bench, [task_id])


def references_job(bench: EvalPlusBenchmark, task_ids: list[str]) -> Job:
    """One job running the references of ``task_ids`` in turn, each in a namespace of its own
    (as EvalPlus computes its expected outputs, every task in one process), each writing its
    own marked line: a job per quick task cost more than its reference's calls."""
    runs = []
    for task_id in task_ids:
        task, plus = bench.tasks[task_id], bench.plus[task_id]
        runs.append(
            f"_reference({task_id!r}, {inputs_text(bench, task_id)!r}, "
            f"{task.canonical_solution!r}, {plus.entry_point!r}, {plus.oracle!r})\n"
        )
    program = "".join(
        [
            PROGRAM_PRELUDE,
            RULES_SOURCE,
            f"\n_BIG = {BIG_OUTPUT_CHARS}\n_TOTAL = {TASK_OUTPUT_CHARS}\n",
            f"_BODY = compile({_REFERENCE_BODY!r}, '<reference>', 'exec')\n",
            _REFERENCE_RUNNER,
            *runs,
        ]
    )
    first = task_ids[0]
    return Job(
        id=f"reference:{first}"
        if len(task_ids) == 1
        else f"references:{first}+{len(task_ids) - 1}",
        solution="",
        tests=program,
        mode="script",
        timeout_s=REFERENCE_TIMEOUT_S,
        cpu_timeout_s=REFERENCE_TIMEOUT_S,
    )


_REFERENCE_RUNNER = f"""
_SHARED = dict(globals())


def _reference(task_id, inputs, program, entry, oracle):
    namespace = dict(_SHARED)
    namespace.update(
        _INPUTS=decode_json(inputs), _PROGRAM=program, _ENTRY=entry, _ORACLE=oracle,
        _NOT_NONE=oracle == "not_none", _MARKER={REFERENCE_MARKER!r} + task_id + " ",
    )
    exec(_BODY, namespace)
"""


def read_reference(result: Result, task_id: str) -> dict[str, list]:
    """``task_id``'s outputs (JSON texts, None where left out) and times, from the run of a
    :func:`references_job`; raises ``ValueError`` if that run did not write them."""
    marker = REFERENCE_MARKER + task_id + " "
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(marker):
            try:
                return json.loads(zlib.decompress(base64.b64decode(line[len(marker) :])))
            except (ValueError, zlib.error):
                raise ValueError("the reference run's outputs are cut short") from None
    if result.status != Status.PASSED:
        raise ValueError(f"{result.status.value}: {result.error or result.stderr[-500:]}")
    raise ValueError("the reference run wrote no outputs (stdout cut short?)")
