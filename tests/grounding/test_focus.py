"""Focus: evaluation results turned into plan weights and failed examples; foreign results refused."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from factory.dataset.store import RunStore
from factory.errors import InputFileError
from factory.grounding.focus import load_focus
from problems import Difficulty, load_seeds, load_taxonomy
from problems.plan import StratifiedPlan
from tests.support.records import FINGERPRINT, record


def dataset(tmp_path):
    out = tmp_path / "made"
    rows = [record(0, topic="math"), record(1, topic="math"), record(2, topic="strings")]
    rows[1] = rows[1].model_copy(update={"difficulty": Difficulty.HARD})
    with RunStore.open(out, FINGERPRINT) as store:
        for row in rows:
            store.commit(row)
    return out, rows


def results(path, outcomes):
    lines = [
        {"task_id": task, "completion_id": i, "result": "x", "passed": passed, "status": status}
        for i, (task, passed, status) in enumerate(outcomes)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_failed_cells_weigh_more_and_failed_problems_become_examples(tmp_path):
    out, rows = dataset(tmp_path)
    easy, hard, strings = (row.id for row in rows)
    path = results(
        tmp_path / "r.jsonl",
        [
            (easy, True, "passed"),
            (hard, False, "failed"),
            (hard, False, "timeout"),
            (strings, True, "passed"),
            (strings, False, "sandbox_error"),  # not scored
        ],
    )
    focus = load_focus(path, out)
    assert focus.weight_table() == {"math/easy": 1, "math/hard": 4, "strings/easy": 1}
    assert [example.id for example in focus.examples["math"]] == [hard]
    assert "strings" not in focus.examples
    taxonomy = load_taxonomy()
    plan = StratifiedPlan(taxonomy, load_seeds(), 0, weights=focus.weights, focus=focus.examples)
    cells = Counter((plan[s].topic.name, plan[s].difficulty.value) for s in range(len(plan.cells)))
    assert cells[("math", "hard")] == 4 and cells[("math", "medium")] == 1


def test_results_of_another_dataset_are_refused(tmp_path):
    out, _ = dataset(tmp_path)
    path = results(tmp_path / "other.jsonl", [("HumanEval/0", False, "failed")])
    with pytest.raises(InputFileError, match=r"not rows of .*results of another dataset"):
        load_focus(path, out)
    with pytest.raises(InputFileError, match=r"--focus .* not found"):
        load_focus(tmp_path / "missing.jsonl", out)
    (tmp_path / "bad.jsonl").write_text('{"task": 1}\n')
    with pytest.raises(InputFileError, match=r"bad.jsonl:1: not a result line"):
        load_focus(tmp_path / "bad.jsonl", out)


def test_an_eval_model_directory_is_read_through_its_results_file(tmp_path):
    out, rows = dataset(tmp_path)
    run = tmp_path / "eval-run"
    run.mkdir()
    results(run / "results.jsonl", [(rows[0].id, False, "failed")])
    focus = load_focus(run, out)
    assert focus.weight_table() == {"math/easy": 4} and focus.failed_tasks == 1
