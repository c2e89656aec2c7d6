"""Pure logic of the runner and the sampler, without Docker: scoring rules and file repair."""

from __future__ import annotations

import json

import pytest

from factory.errors import InputFileError
from factory.evaluate.model_eval import existing_samples
from factory.evaluate.records import SampleResult
from factory.evaluate.runner import EvalConfig, ResultTally
from sandbox import Result, Status


def result(status: Status, error: str = "") -> Result:
    return Result(id="x", status=status, passed=status == Status.PASSED, error=error)


def test_sandbox_errors_are_reported_and_not_scored(humaneval):
    tally = ResultTally()
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


def test_existing_samples_are_validated_on_resume(tmp_path, humaneval):
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
    with path.open("a") as handle:
        handle.write(json.dumps(lines[1]) + "\n")
    with pytest.raises(InputFileError, match="duplicate completion_id 1 for HumanEval/0"):
        existing_samples(path, humaneval)


def test_samples_of_one_task_go_as_one_job_and_every_sample_once(humaneval, monkeypatch):
    import factory.evaluate.runner as runner
    from factory.evaluate.samples import Sample

    tasks = ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    samples = [
        Sample(task_id=task_id, completion_id=index, completion="    return 1\n")
        for index in range(7)
        for task_id in tasks  # interleaved, as a file of repeats is
    ]
    stream = runner._JobStream(humaneval, 10.0)
    stream.batch_size = 3
    monkeypatch.setattr(runner, "MAX_BUFFERED", 5)  # the fullest task goes when 5 are held
    jobs = list(stream.build(samples))
    ids = [single.id for job in jobs for single in job.singles()]
    assert sorted(ids) == sorted(f"{s.task_id}#{s.completion_id}" for s in samples)
    assert set(stream.in_flight) == set(ids)
    for job in jobs:
        assert len(job.singles()) <= 3
        for single in job.singles():  # each sample judged by its own task's checks
            task = humaneval.tasks[single.id.split("#")[0]]
            assert task.tests in single.tests and single.entry_points == task.entry_points
    assert sum(len(job.candidates) for job in jobs) == 21 - len(jobs)
    # at the end, the tasks' groups go together, whole, up to the batch size
    monkeypatch.setattr(runner, "MAX_BUFFERED", 4096)
    stream = runner._JobStream(humaneval, 10.0)
    stream.batch_size = 4
    packed = [[s.id for s in job.singles()] for job in stream.build(samples[:6])]
    assert packed == [
        ["HumanEval/0#0", "HumanEval/0#1", "HumanEval/1#0", "HumanEval/1#1"],
        ["HumanEval/2#0", "HumanEval/2#1"],
    ]
    assert runner.batch_size(1640, 2) == 32 and runner.batch_size(10, 2) == 1


def test_costly_tasks_start_first_within_each_window_and_keep_their_order():
    from factory.evaluate.runner import costly_first
    from factory.evaluate.samples import Sample

    costs = {"a": 0.1, "b": 5.0, "c": None, "d": 2.0}
    samples = [
        Sample(task_id=task_id, completion_id=index, solution="pass")
        for index, task_id in enumerate("abcdbab")
    ]
    ordered = list(costly_first(samples, costs.get, window=5))
    keys = [(s.task_id, s.completion_id) for s in ordered]
    # first window (a b c d b): b's two samples in file order, then d, a, and c (unknown: last)
    assert keys[:5] == [("b", 1), ("b", 4), ("d", 3), ("a", 0), ("c", 2)]
    assert keys[5:] == [("b", 6), ("a", 5)]
    unknown = list(costly_first(samples, lambda task_id: None, window=3))
    assert unknown == samples  # a benchmark that knows no cost keeps the file's order


def test_samples_that_may_loop_start_first_and_pack_only_together(humaneval, monkeypatch):
    """A loop that never ends holds a container for its whole budget: started last, it would
    end the run alone, so samples with a ``while`` loop go first, in packs of their own that
    go as soon as the samples without one come."""
    import factory.evaluate.runner as runner
    from factory.evaluate.samples import Sample

    looping = "    while True:\n        pass\n"
    texts = {0: "    return 1\n", 1: looping, 2: "    return 2\n", 3: "    return 3\n"}
    texts[4] = "    # awhile\n    return 4\n"  # the word, not the keyword
    texts[5] = looping
    samples = [
        Sample(task_id=f"HumanEval/{n}", completion_id=0, completion=text)
        for n, text in texts.items()
    ]
    costs = {0: 2.0, 1: 0.01, 2: 0.01, 3: 0.01, 4: 0.01, 5: 0.01}
    cost = lambda task_id: costs[int(task_id.split("/")[1])]  # noqa: E731
    order = ["HumanEval/1", "HumanEval/5", "HumanEval/0", "HumanEval/2", "HumanEval/3"]
    order.append("HumanEval/4")
    assert [s.task_id for s in runner.costly_first(samples, cost, window=10)] == order
    unknown = runner.costly_first(samples, lambda task_id: None, window=10)
    assert [s.task_id for s in unknown] == order  # no costs known: file order, loops first
    monkeypatch.setattr(humaneval, "pack_cost_s", 0.25, raising=False)
    monkeypatch.setattr(humaneval, "task_cost", cost)
    stream = runner._JobStream(humaneval, 10.0)
    stream.batch_size = 3
    built = stream.build(runner.costly_first(samples, cost, window=10))
    jobs = [[s.id.split("#")[0] for s in job.singles()] for job in built]
    assert jobs == [
        ["HumanEval/1", "HumanEval/5"],  # may loop: packed together, gone when the rest comes
        ["HumanEval/0"],  # costlier than a pack
        ["HumanEval/2", "HumanEval/3", "HumanEval/4"],
    ]


def test_small_tasks_share_jobs_as_they_come_and_costly_ones_go_alone(humaneval, monkeypatch):
    """EvalPlus's way (``pack_cost_s``): one sample per task, packed across tasks by cost."""
    import factory.evaluate.runner as runner
    from factory.evaluate.samples import Sample

    costs = {0: 2.0, 1: 0.01, 2: 0.01, 3: 0.01, 4: None, 5: 0.2, 6: 0.1}
    monkeypatch.setattr(humaneval, "pack_cost_s", 0.25, raising=False)
    monkeypatch.setattr(humaneval, "packs_across_tasks", False, raising=False)
    monkeypatch.setattr(humaneval, "task_cost", lambda task_id: costs[int(task_id.split("/")[1])])
    samples = [
        Sample(task_id=f"HumanEval/{n}", completion_id=0, completion="    return 1\n")
        for n in costs
    ]
    stream = runner._JobStream(humaneval, 10.0)
    stream.batch_size = 3
    jobs = [[s.id.split("#")[0] for s in job.singles()] for job in stream.build(samples)]
    assert jobs == [
        ["HumanEval/0"],  # costlier than a pack: alone
        ["HumanEval/1", "HumanEval/2", "HumanEval/3"],  # a full pack goes at once
        ["HumanEval/4"],  # unknown cost: alone
        ["HumanEval/5"],  # 0.2 + 0.1 would pass the budget: the open pack goes
        ["HumanEval/6"],  # the last open pack, at the end of the stream
    ]
    # left open across calls (the cold path's), until flushed
    stream = runner._JobStream(humaneval, 10.0)
    stream.batch_size = 3
    assert list(stream.build(samples[1:3], flush=False)) == []
    assert [[s.id for s in job.singles()] for job in stream.flush()] == [
        ["HumanEval/1#0", "HumanEval/2#0"]
    ]
    assert stream.open_packs == {}
