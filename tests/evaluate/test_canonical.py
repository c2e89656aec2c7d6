"""Reference solutions pass through the real sandbox: a check of adapters and sandbox together."""

from __future__ import annotations

import json

import pytest

from factory.evaluate.benchmarks import load_benchmark
from factory.evaluate.runner import evaluate_canonical, evaluate_file
from sandbox.aio import run
from tests.evaluate.helpers import write_dataset

pytestmark = pytest.mark.docker


def failures(path):
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return lines, [(r["task_id"], r["result"]) for r in lines if not r["passed"]]


def test_every_humaneval_canonical_solution_passes(humaneval, eval_config, tmp_path):
    out = tmp_path / "results.jsonl"
    summary = run(evaluate_canonical(humaneval, eval_config, out))
    lines, failed = failures(out)
    assert failed == []
    assert len(lines) == summary.n_samples == summary.n_tasks == 164
    assert summary.pass_at_k == {"1": 1.0}
    assert summary.status_counts["passed"] == 164
    assert set(summary.k_omitted) == {"2", "10"}


@pytest.mark.parametrize("which", ["original", "sanitized"])
def test_mbpp_reference_solutions_pass(
    which, mbpp_path, sanitized_mbpp_path, eval_config, tmp_path
):
    path = mbpp_path if which == "original" else sanitized_mbpp_path
    mbpp = load_benchmark("mbpp", data=path, split="all")
    first_50 = list(mbpp.tasks)[:50]
    out = tmp_path / "results.jsonl"
    summary = run(evaluate_canonical(mbpp, eval_config, out, task_ids=first_50))
    _, failed = failures(out)
    assert failed == []
    assert summary.n_samples == 50 and summary.pass_at_k == {"1": 1.0}


def test_dataset_rows_judge_samples_with_their_own_tests(eval_config, tmp_path):
    bench = load_benchmark("dataset", dataset=write_dataset(tmp_path / "ds"))
    summary = run(evaluate_canonical(bench, eval_config))
    assert summary.pass_at_k == {"1": 1.0} and summary.n_samples == 2

    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        "\n".join(
            json.dumps(s)
            for s in [
                {"task_id": "add-1", "solution": "def add(a, b):\n    return a + b\n"},
                {"task_id": "add-1", "solution": "def add(a, b):\n    return a - b\n"},
                {"task_id": "add-1", "solution": "def add(a, b)\n    return a\n"},
                # the row's tests compare with a tolerance: a float-rounding answer passes
                {
                    "task_id": "mean-1",
                    "solution": "def mean(xs):\n    return sum(xs) * (1 / len(xs))\n",
                },
                {
                    "task_id": "mean-1",
                    "solution": "def mean(xs):\n    return round(sum(xs) / len(xs))\n",
                },
            ]
        )
        + "\n"
    )
    out = tmp_path / "results.jsonl"
    summary = run(evaluate_file(bench, samples, eval_config, out))
    verdicts = {
        (r["task_id"], r["completion_id"]): r for r in map(json.loads, out.read_text().splitlines())
    }
    assert [verdicts[("add-1", i)]["status"] for i in range(3)] == [
        "passed",
        "failed",
        "syntax_error",
    ]
    assert [verdicts[("mean-1", i)]["passed"] for i in range(2)] == [True, False]
    assert summary.pass_at_k["1"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert summary.pass_at_k["2"] == pytest.approx((1 - 1 / 3 + 1.0) / 2)
    assert "10" in summary.k_omitted
