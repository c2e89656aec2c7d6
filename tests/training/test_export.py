"""Each export format loaded the way its consumer loads it, from a real generated dataset."""

from __future__ import annotations

import json

import datasets
import pytest

from factory.records import ProblemRecord
from tests.support.cli import assert_one_line_error, codefactory

pytestmark = pytest.mark.docker


def _train_rows(directory) -> list[ProblemRecord]:
    return [
        ProblemRecord.model_validate(row)
        for row in datasets.load_from_disk(str(directory))["train"]
    ]


def _export(directory, fmt, out, *extra) -> dict:
    done = codefactory("export", directory, "--format", fmt, "--out", out, *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sft_is_trl_conversational(generated_dataset, tmp_path):
    from trl.data_utils import is_conversational

    rows = _train_rows(generated_dataset)
    summary = _export(generated_dataset, "sft", tmp_path / "sft")
    assert summary["rows"] == len(rows) == 2
    loaded = datasets.load_from_disk(str(tmp_path / "sft"))["train"]
    assert set(loaded.features) == {"id", "messages"}
    assert loaded.features["messages"] == datasets.List(
        {"role": datasets.Value("string"), "content": datasets.Value("string")}
    )
    by_id = {row.id: row for row in rows}
    for example in loaded:
        assert is_conversational(example)
        user, assistant = example["messages"]
        row = by_id[example["id"]]
        assert (user["role"], assistant["role"]) == ("user", "assistant")
        assert row.description in user["content"] and row.signature in user["content"]
        assert assistant["content"] == f"```python\n{row.solution.strip()}\n```"
        assert row.tests.strip() not in assistant["content"]


def test_sft_with_tests_has_both_files_as_jsonl(generated_dataset, tmp_path):
    out = tmp_path / "sft.jsonl"
    _export(generated_dataset, "sft", out, "--with-tests")
    loaded = datasets.load_dataset("json", data_files=str(out), split="train")
    rows = {row.id: row for row in _train_rows(generated_dataset)}
    for example in loaded:
        answer = example["messages"][1]["content"]
        row = rows[example["id"]]
        assert "`solution.py`" in answer and "`test_solution.py`" in answer
        assert row.solution.strip() in answer and row.tests.strip() in answer


def test_rl_is_trl_prompt_only_with_verification_info(generated_dataset, tmp_path):
    from trl.data_utils import is_conversational

    out = tmp_path / "rl.parquet"
    _export(generated_dataset, "rl", out)
    loaded = datasets.load_dataset("parquet", data_files=str(out), split="train")
    assert "completion" not in loaded.features and "messages" not in loaded.features
    rows = {row.id: row for row in _train_rows(generated_dataset)}
    assert set(loaded["id"]) == set(rows)
    for example in loaded:
        assert is_conversational(example)  # prompt-only, conversational
        assert [turn["role"] for turn in example["prompt"]] == ["user"]
        info = example["verification_info"]
        row = rows[example["id"]]
        assert info == {
            "language": "python",
            "entry_point": row.entry_point,
            "test_code": row.tests,
            "test_mode": "pytest",
        }
        assert example["difficulty"] == row.difficulty.value
        assert example["pass_rate"] is None  # not labelled


def test_verl_has_the_columns_its_loader_and_reward_read(generated_dataset, tmp_path):
    out = tmp_path / "verl.parquet"
    _export(generated_dataset, "verl", out)
    loaded = datasets.load_dataset("parquet", data_files=str(out), split="train")
    # RLHFDataset reads prompt_key "prompt" (chat messages); the reward manager passes
    # data_source, reward_model["ground_truth"] and extra_info to compute_score.
    assert {"data_source", "prompt", "ability", "reward_model", "extra_info"} <= set(
        loaded.features
    )
    rows = {row.id: row for row in _train_rows(generated_dataset)}
    for index, example in enumerate(loaded):
        assert example["data_source"] == f"codefactory/{generated_dataset.name}"
        assert example["ability"] == "code"
        assert example["prompt"][0]["role"] == "user"
        assert example["reward_model"]["style"] == "rule"
        truth = json.loads(example["reward_model"]["ground_truth"])
        row = rows[example["extra_info"]["id"]]
        assert truth["test_code"] == row.tests and truth["entry_point"] == row.entry_point
        assert example["extra_info"]["index"] == index


def test_bad_export_requests_are_one_line(generated_dataset, tmp_path):
    out = tmp_path / "x.parquet"
    assert_one_line_error(
        codefactory("export", generated_dataset, "--format", "csv", "--out", out), "--format"
    )
    assert_one_line_error(
        codefactory(
            "export", generated_dataset, "--format", "rl", "--out", out, "--min-pass-rate", "0.2"
        ),
        "codefactory label",
    )
    assert_one_line_error(
        codefactory(
            "export", generated_dataset, "--format", "sft", "--out", out, "--split", "failures"
        ),
        "failures",
    )
    assert not out.exists()
