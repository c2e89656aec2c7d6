"""``codefactory label`` against a real scripted solver over HTTP, judged in the real sandbox:
pass rates and KodCode's cut-offs per row, resumed without paying again, filtered on by export."""

from __future__ import annotations

import json
import threading
from collections import Counter

import datasets
import pytest

from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply
from factory.training.labels import difficulty_of, pass_rate_histogram, row_label
from tests.support.cli import assert_one_line_error, codefactory
from tests.support.hygiene_rows import MERGE_INTERVALS, RUN_LENGTH
from tests.support.scripted_runs import MODEL


class Solver:
    """Answers each row's prompt right for its first ``right[entry point]`` requests, wrong
    after that (so the pass rate is known whatever order the requests arrive in)."""

    def __init__(self, right: dict[str, int]) -> None:
        self.right = right
        self.asked: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: dict) -> ScriptedReply:
        prompt = request["messages"][-1]["content"]
        row = next(row for row in (RUN_LENGTH, MERGE_INTERVALS) if row["entry_point"] in prompt)
        with self._lock:
            self.asked[row["entry_point"]] += 1
            good = self.asked[row["entry_point"]] <= self.right[row["entry_point"]]
        code = row["solution"] if good else f"def {row['entry_point']}(*args):\n    return None\n"
        return ScriptedReply(content=f"```python\n{code}```")


def test_difficulty_uses_kodcodes_cut_offs():
    assert [difficulty_of(rate) for rate in (1.0, 2 / 3, 0.5, 1 / 3, 0.32, 0.0, None)] == [
        "easy",
        "easy",
        "medium",
        "medium",
        "hard",
        "hard",
        None,
    ]
    labels = [row_label("a", "m", 3, 2), row_label("b", "m", 3, 0), row_label("c", "m", 0, 0)]
    assert labels[2].pass_rate is None
    assert pass_rate_histogram(labels, bins=3) == [1, 0, 1]


@pytest.mark.docker
def test_label_stores_pass_rates_resumes_and_feeds_the_export_filter(dataset_copy, tmp_path):
    solver = Solver({"run_length_encode": 2, "merge_intervals": 1})
    with ScriptedLLMServer(solver, models=[MODEL]) as server:
        label = ["label", dataset_copy, "--base-url", server.base_url, "--model", MODEL]
        label += ["--n", "3", "--workers", "2"]
        done = codefactory(*label)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {
            "rows": 2,
            "easy": 1,
            "medium": 1,
            "hard": 0,
            "unjudged": 0,
        }
        lines = (dataset_copy / "label" / "labels.jsonl").read_text().splitlines()
        labels = {row["id"]: row for row in map(json.loads, lines)}
        ids = {
            row["entry_point"]: row["id"]
            for row in datasets.load_from_disk(str(dataset_copy))["train"]
        }
        assert labels[ids["run_length_encode"]] == {
            "id": ids["run_length_encode"],
            "solver": MODEL,
            "n": 3,
            "passes": 2,
            "pass_rate": 2 / 3,
            "difficulty": "easy",
        }
        assert labels[ids["merge_intervals"]]["passes"] == 1
        assert labels[ids["merge_intervals"]]["difficulty"] == "medium"
        asked = len(server.requests)
        assert asked == 6

        exported = _export(dataset_copy, tmp_path / "rl.parquet", "--min-pass-rate", "0.5")
        assert exported["id"] == [ids["run_length_encode"]]
        assert exported["pass_rate"] == [2 / 3] and exported["solver"] == [MODEL]
        assert exported["label_difficulty"] == ["easy"]
        medium = _export(dataset_copy, tmp_path / "medium.jsonl", "--max-pass-rate", "0.5")
        assert medium["id"] == [ids["merge_intervals"]]

        # killed after two samples were saved: the rerun asks only for the four missing
        samples = dataset_copy / "label" / "samples.jsonl"
        kept = samples.read_text().splitlines()[:2]
        samples.write_text("\n".join(kept) + "\n")
        solver.asked.clear()
        solver.right = {"run_length_encode": 3, "merge_intervals": 3}  # whatever it answers now
        again = codefactory(*label)
        assert again.returncode == 0, again.stderr
        assert len(server.requests) == asked + 4
        resumed = (dataset_copy / "label" / "labels.jsonl").read_text().splitlines()
        assert [json.loads(line)["n"] for line in resumed] == [3, 3]
        # nothing missing: no request at all
        assert codefactory(*label).returncode == 0
        assert len(server.requests) == asked + 4

        assert_one_line_error(codefactory(*label, "--temperature", "0.1"), "temperature")


def _export(directory, out, *filters):
    done = codefactory("export", directory, "--format", "rl", "--out", out, *filters)
    assert done.returncode == 0, done.stderr
    kind = "parquet" if out.suffix == ".parquet" else "json"
    return datasets.load_dataset(kind, data_files=str(out), split="train")
