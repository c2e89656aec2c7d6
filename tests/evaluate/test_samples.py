"""Samples files: what is accepted, and one clear message for each kind of bad input."""

from __future__ import annotations

import json

import pytest

from factory.errors import InputFileError
from factory.evaluate.samples import iter_samples, scan_samples


def write(path, *lines):
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    )
    return path


def test_human_eval_format_numbers_samples_per_task_in_file_order(tmp_path, humaneval):
    path = write(
        tmp_path / "s.jsonl",
        {"task_id": "HumanEval/0", "completion": "    return True\n"},
        {"task_id": "HumanEval/1", "completion": "    return []\n"},
        "",
        {"task_id": "HumanEval/0", "solution": "def f(): pass\n", "raw": "ignored"},
    )
    assert scan_samples(path, humaneval) == {
        ("HumanEval/0", 0),
        ("HumanEval/1", 0),
        ("HumanEval/0", 1),
    }
    samples = list(iter_samples(path, humaneval))
    assert [(s.task_id, s.completion_id) for s in samples] == [
        ("HumanEval/0", 0),
        ("HumanEval/1", 0),
        ("HumanEval/0", 1),
    ]
    assert samples[2].solution == "def f(): pass\n" and samples[2].completion is None


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"task_id": "HumanEval/0", "completion": '], r"s\.jsonl:1: malformed line, not JSON"),
        (
            [{"task_id": "HumanEval/0", "completion": ""}, "[1, 2]"],
            r"s\.jsonl:2: malformed line, a sample must be a JSON object",
        ),
        ([{"completion": "x"}], r"s\.jsonl:1: the sample has no task_id"),
        (
            [{"task_id": "HumanEval/999", "completion": ""}],
            r"s\.jsonl:1: unknown task_id 'HumanEval/999' for humaneval; valid ids: "
            r"HumanEval/0, HumanEval/1, HumanEval/2, \.\.\. \(164 tasks\)",
        ),
        (
            [
                {"task_id": "HumanEval/0", "completion": ""},
                {"task_id": "Mbpp/11", "completion": ""},
            ],
            r"holds mbpp samples, not humaneval ones \(line 2 has task_id 'Mbpp/11'\): "
            r"evaluate it with `codefactory eval mbpp --data MBPP_FILE --samples FILE`",
        ),
        (
            [{"task_id": 11, "completion": ""}],
            r"holds mbpp samples, not humaneval ones \(line 1 has task_id 11\)",
        ),
        (
            [
                {"task_id": "HumanEval/0", "completion_id": 3, "completion": ""},
                {"task_id": "HumanEval/0", "completion_id": 3, "completion": "x"},
            ],
            r"s\.jsonl:2: duplicate completion_id 3 for HumanEval/0",
        ),
        (
            [
                {"task_id": "HumanEval/0", "completion_id": 0, "completion": ""},
                {"task_id": "HumanEval/0", "completion": ""},
            ],
            r"s\.jsonl:2: lacks a completion_id but line 1 has one",
        ),
        (
            [{"task_id": "HumanEval/0", "completion_id": -1, "completion": ""}],
            r"completion_id must be a non-negative integer",
        ),
        (
            [{"task_id": "HumanEval/0", "completion": "", "solution": ""}],
            r"give either completion or solution, not both",
        ),
        ([{"task_id": "HumanEval/0"}], r"neither completion nor solution"),
        ([{"task_id": "HumanEval/0", "completion": 3}], r"completion must be a string"),
        (["", "  "], r"no samples in the file"),
    ],
)
def test_bad_samples_files_say_what_and_where(tmp_path, humaneval, lines, message):
    path = write(tmp_path / "s.jsonl", *lines)
    with pytest.raises(InputFileError, match=message):
        scan_samples(path, humaneval)


def test_missing_file(tmp_path, humaneval):
    with pytest.raises(InputFileError, match="samples file not found"):
        scan_samples(tmp_path / "nope.jsonl", humaneval)


def test_mbpp_ids_in_any_common_spelling(tmp_path, mbpp_path):
    from factory.evaluate.benchmarks.mbpp import Mbpp

    mbpp = Mbpp.load(mbpp_path)
    path = write(
        tmp_path / "s.jsonl",
        {"task_id": 11, "completion": ""},
        {"task_id": "11", "completion": ""},
        {"task_id": "MBPP/11", "completion": ""},
        {"task_id": "Mbpp/12", "completion": ""},
    )
    assert scan_samples(path, mbpp) == {
        ("Mbpp/11", 0),
        ("Mbpp/11", 1),
        ("Mbpp/11", 2),
        ("Mbpp/12", 0),
    }
    bad = write(tmp_path / "b.jsonl", {"task_id": "HumanEval/3", "completion": ""})
    with pytest.raises(InputFileError, match="holds humaneval samples, not mbpp ones"):
        scan_samples(bad, mbpp)
    unknown = write(tmp_path / "u.jsonl", {"task_id": 5000, "completion": ""})
    with pytest.raises(InputFileError, match=r"unknown task_id 5000 for mbpp; valid ids: Mbpp/1,"):
        scan_samples(unknown, mbpp)
