"""HumanEval+ samples that answer the judge's batch calls themselves cannot pass.

The judge asks the candidate's process to run a batch of inputs by index and takes the answers
as one list; a batch whose answers all equal the expected outputs passes with one comparison.
A sample can reach the driver's globals (the frame that ran its program) and replace the batch
runner. Whatever that runner returns (too many answers, too few, a shape that is not a batch
reply, a stop that is not a failure, or the right number of answers with one wrong) the sample
fails with the judge's own account, never passes, and the run goes on to the next sample.
"""

from __future__ import annotations

import pytest

from factory.evaluate.benchmarks import load_benchmark
from tests.evaluate.evalplus_harness import run_ours, write_samples

pytestmark = pytest.mark.docker

TASK = "HumanEval/0"  # has_close_elements: bool answers, 1,000+ inputs

REPLACE = (
    "import sys as _sys\n"
    "_driver = _sys._getframe(1).f_globals  # the driver's namespace, which ran this program\n"
    "_entry = has_close_elements\n"
    "def has_close_elements(*args):\n"
    "    # the batch runner is defined after the program loads: replaced at the first call\n"
    "    _real = _driver['__evalplus_run__']\n"
    "    if not getattr(_real, 'forged', False):\n"
    "        def _forged(part, start, end, limits):\n"
    "            values, stop = _real(part, start, end, limits)\n"
    "{body}"
    "        _forged.forged = True\n"
    "        _driver['__evalplus_run__'] = _forged\n"
    "    return _entry(*args)\n"
)

FORGERIES = {
    "one answer too many": "            return values + [True], stop\n",
    "one answer too few": "            return values[:-1], stop\n",
    "not a pair": "            return values\n",
    "answers not a list": "            return tuple(values), stop\n",
    "a stop that is no failure": "            return values[:-1], ('ok', values[-1])\n",
    "every answer flipped": "            return [not v for v in values], stop\n",
    "the last answer of a batch flipped": "            return values[:-1] + [not values[-1]], stop\n",
}


def test_forged_batch_replies_fail(runner_image, tmp_path):
    bench = load_benchmark("humanevalplus", cache_dir=tmp_path / "cache")
    task = bench.tasks[TASK]
    reference = task.canonical_solution
    samples = [{"task_id": TASK, "solution": reference}]  # the control: it passes
    for body in FORGERIES.values():
        samples.append({"task_id": TASK, "solution": reference + "\n" + REPLACE.format(body=body)})
    path = write_samples(tmp_path / "samples.jsonl", samples)
    _, results = run_ours("humanevalplus", path, runner_image, tmp_path)
    rows = [results[(TASK, index)] for index in range(len(results))]
    assert len(rows) == len(samples)
    assert rows[0]["passed"], rows[0]
    for name, row in zip(FORGERIES, rows[1:], strict=True):
        assert not row["passed"], (name, row)
        assert row["plus_status"] == "fail", (name, row)
        assert row.get("failure"), (name, row)
        assert "did not load" not in row["failure"], (name, row)  # the forgery itself ran


def test_a_sample_that_cancels_the_input_timer_is_still_held_to_its_limit(runner_image, tmp_path):
    # One timer serves a batch of inputs; a sample that cancels it (its own use of the alarm)
    # and is slow on one input still times out there, as EvalPlus's timer, armed for every
    # input, would stop it; the inputs before pass.
    bench = load_benchmark("humanevalplus", cache_dir=tmp_path / "cache")
    reference = bench.tasks[TASK].canonical_solution
    slow_sixth = (
        "import signal as _signal, time as _time\n"
        "_calls = [0]\n"
        "_entry = has_close_elements\n"
        "def has_close_elements(*args):\n"
        "    _signal.setitimer(_signal.ITIMER_REAL, 0)\n"
        "    _calls[0] += 1\n"
        "    if _calls[0] == 6:\n"
        "        _time.sleep(4.5)\n"
        "    return _entry(*args)\n"
    )
    samples = [{"task_id": TASK, "solution": reference + "\n" + slow_sixth}]
    path = write_samples(tmp_path / "samples.jsonl", samples)
    _, results = run_ours("humanevalplus", path, runner_image, tmp_path)
    row = results[(TASK, 0)]
    assert not row["passed"] and row["base_status"] == "fail", row
    assert row["failure"].startswith("base input #5: timed out"), row
