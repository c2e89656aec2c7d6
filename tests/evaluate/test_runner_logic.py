"""Pure logic of the runner and the sampler, without Docker: scoring rules and file repair."""

from __future__ import annotations

import json

import pytest

from factory.errors import InputFileError
from factory.evaluate import samples as samples_module
from factory.evaluate.model_eval import existing_samples
from factory.evaluate.records import SampleResult
from factory.evaluate.runner import EvalConfig, _Tally
from sandbox import Result, Status


def result(status: Status, error: str = "") -> Result:
    return Result(id="x", status=status, passed=status == Status.PASSED, error=error)


def test_sandbox_errors_are_reported_and_not_scored(humaneval):
    tally = _Tally()
    records = [
        ("HumanEval/0", 0, Status.PASSED),
        ("HumanEval/0", 1, Status.SANDBOX_ERROR),
        ("HumanEval/0", 2, Status.FAILED),
        ("HumanEval/1", 0, Status.SANDBOX_ERROR),
    ]
    for task_id, index, status in records:
        tally.add(
            SampleResult.from_result(task_id, index, "c", None, result(status, "boom")),
            None,
            None,
        )
    summary = tally.summary(humaneval, EvalConfig(ks=[1, 2]), None, 1.0)
    assert summary.n_samples == 4 and summary.n_scored == 2
    assert summary.sandbox_errors == 2 and summary.status_counts["sandbox_error"] == 2
    # HumanEval/0 scores 1 of 2 (the sandbox error does not count as a failure)
    assert summary.pass_at_k == {"1": 0.5, "2": 1.0}
    assert summary.tasks_without_scored_samples == ["HumanEval/1"]
    assert summary.n_tasks == 2 and summary.tasks_not_evaluated == 162


def test_results_use_human_evals_wording():
    def wording(status, error=""):
        return SampleResult.from_result("t", 0, "c", None, result(status, error)).result

    assert wording(Status.PASSED) == "passed"
    assert wording(Status.TIMEOUT, "exceeded") == "timed out"
    assert wording(Status.FAILED, "AssertionError: ") == "failed: AssertionError: "
    assert wording(Status.ERROR, "NameError: x") == "failed: NameError: x"
    assert wording(Status.SANDBOX_ERROR, "lost").startswith("sandbox error: ")
    long = SampleResult.from_result("t", 0, "c", None, result(Status.ERROR, "e" * 5000))
    assert len(long.error) < 400


def test_a_torn_last_line_is_dropped_and_a_whole_one_kept(tmp_path, humaneval):
    path = tmp_path / "samples.jsonl"
    whole = json.dumps({"task_id": "HumanEval/0", "completion_id": 0, "completion": "x"})
    path.write_text(whole + "\n" + '{"task_id": "HumanEval/1", "comp')
    assert existing_samples(path, humaneval) == {("HumanEval/0", 0)}
    assert path.read_text() == whole + "\n"
    second = json.dumps({"task_id": "HumanEval/1", "completion_id": 0, "completion": "y"})
    path.write_text(whole + "\n" + second)  # complete, only the newline was lost
    assert existing_samples(path, humaneval) == {("HumanEval/0", 0), ("HumanEval/1", 0)}
    assert path.read_text() == whole + "\n" + second + "\n"


def test_existing_samples_parse_the_file_once_and_still_validate(tmp_path, humaneval, monkeypatch):
    parse = samples_module._parse
    calls = []

    def counting(*args):
        calls.append(args)
        return parse(*args)

    monkeypatch.setattr(samples_module, "_parse", counting)
    path = tmp_path / "samples.jsonl"
    lines = [
        {"task_id": "HumanEval/0", "completion_id": 0, "completion": "x"},
        {"task_id": "HumanEval/0", "completion_id": 1, "completion": "y"},
        {"task_id": "HumanEval/1", "completion_id": 0, "completion": "z"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert existing_samples(path, humaneval) == {
        ("HumanEval/0", 0),
        ("HumanEval/0", 1),
        ("HumanEval/1", 0),
    }
    assert len(calls) == 1
    with path.open("a") as handle:
        handle.write(json.dumps(lines[1]) + "\n")
    with pytest.raises(InputFileError, match="duplicate completion_id 1 for HumanEval/0"):
        existing_samples(path, humaneval)
