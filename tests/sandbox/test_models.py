"""Validation of the records that cross the sandbox boundary, and the repair feedback (no Docker)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sandbox import Job, Limits, PoolConfig, Result, Status, TestOutcome


def job(**overrides) -> Job:
    return Job(**{"id": "j", "solution": "", "tests": "", **overrides})


@pytest.mark.parametrize(
    "name",
    [
        "/etc/passwd",
        "../escape.py",
        "data/../../escape.py",
        "..\\escape.py",
        "",
        "solution.py",
        "test_solution.py",
        ".",
        "sub/",
        "a\x00b",
        "x" * 256,
        "/".join(["d"] * 33) + "/f",
    ],
)
def test_extra_file_names_that_escape_or_overwrite_are_rejected(name):
    with pytest.raises(ValidationError) as info:
        job(files={name: "x"})
    assert "files" in str(info.value)


@pytest.mark.parametrize("name", ["data.txt", "data/input.json", "pkg/__init__.py", "conftest.py"])
def test_relative_extra_files_are_accepted(name):
    assert job(files={name: "x"}).files == {name: "x"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeout_s", 0),
        ("timeout_s", -1),
        ("timeout_s", 3601),
        ("memory_mb", 31),
        ("memory_mb", 65537),
        ("mode", "bash"),
        ("id", ""),
        ("id", "x" * 513),
    ],
)
def test_job_field_bounds(field, value):
    with pytest.raises(ValidationError) as info:
        job(**{field: value})
    assert field in str(info.value)


def test_job_rejects_unknown_fields():
    with pytest.raises(ValidationError, match="extra"):
        job(network=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeout_s", 0),
        ("timeout_s", 3601),
        ("memory_mb", 16),
        ("cpus", 0),
        ("pids", 8),
        ("work_mb", 1),
        ("tmp_mb", 1),
        ("output_limit_bytes", 100),
    ],
)
def test_limits_bounds(field, value):
    with pytest.raises(ValidationError) as info:
        Limits(**{field: value})
    assert field in str(info.value)


def test_limits_defaults_are_isolating():
    assert Limits().network is False


def test_pool_config_rejects_unknown_fields_and_zero_workers():
    with pytest.raises(ValidationError):
        PoolConfig(workers=0)
    with pytest.raises(ValidationError):
        PoolConfig(privileged=True)


def failing_result(**overrides) -> Result:
    values = {
        "id": "j",
        "status": Status.FAILED,
        "passed": False,
        "error": "1 of 2 tests failed: test_b",
        "tests": [
            TestOutcome(name="test_solution.py::test_a", outcome="passed"),
            TestOutcome(
                name="test_solution.py::test_b",
                outcome="failed",
                message="assert 2 == 3",
                traceback="def test_b():\n>       assert f(1) == 3\nE       assert 2 == 3",
            ),
        ],
        "stderr": "warning: something odd\n",
        **overrides,
    }
    return Result(**values)


def test_feedback_names_the_failure_for_a_repairing_model():
    text = failing_result().feedback()
    assert text.splitlines()[0] == "status: failed"
    assert "summary: 1 of 2 tests failed: test_b" in text
    assert "- test_solution.py::test_b: failed: assert 2 == 3" in text
    assert ">       assert f(1) == 3" in text  # the traceback excerpt, indented
    assert "test_a" not in text  # passing tests are not noise in the report
    assert "warning: something odd" in text


def test_feedback_is_capped():
    huge = failing_result(stderr="e" * 50_000)
    text = huge.feedback(max_chars=500)
    assert len(text) <= 500
    assert text.endswith("...")


def test_feedback_of_a_pass_has_no_stderr_noise():
    passed = Result(id="j", status=Status.PASSED, passed=True, stderr="DeprecationWarning\n")
    assert passed.feedback() == "status: passed"


def test_result_round_trips_through_json():
    result = failing_result()
    assert Result.model_validate_json(result.model_dump_json()) == result
    with pytest.raises(ValidationError):
        Result.model_validate({**result.model_dump(), "surprise": 1})


def test_a_batch_of_trusted_jobs_stands_for_each_job_of_its_own():
    from sandbox import Job

    jobs = [
        Job(id=f"t#{index}", solution="DRIVER", tests="assert f(1)", mode="trusted",
            entry_points=["f"], files={"program.py": f"def f(x): return {index}"})
        for index in range(3)
    ]  # fmt: skip
    batch = Job.batched(jobs)
    assert [c.solution for c in batch.candidates] == [None, None]  # the job's own driver
    assert batch.singles() == jobs
    other_task = jobs[1].model_copy(update={"tests": "assert g(2)", "entry_points": ["g"]})
    mixed = Job.batched([jobs[0], other_task])  # another task's judge goes with its candidate
    assert mixed.candidates[0].tests == "assert g(2)" and mixed.singles() == [jobs[0], other_task]
    with pytest.raises(ValueError, match="cannot be judged in the same job"):
        Job.batched([jobs[0], jobs[1].model_copy(update={"cpu_timeout_s": 9.0})])
    with pytest.raises(ValueError, match="candidates are for trusted-mode"):
        Job(id="p", solution="", tests="", candidates=[{"id": "q"}])
    with pytest.raises(ValueError, match="distinct ids"):
        Job(id="p", solution="", tests="", mode="trusted", candidates=[{"id": "p"}])
