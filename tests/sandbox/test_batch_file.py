"""Checking a JSONL jobs file before any job runs: every message names the file and line."""

from __future__ import annotations

import json

import pytest

from sandbox.batch import count_and_validate, parse_job_line
from sandbox.errors import JobFileError


def line(**job) -> str:
    return json.dumps({"id": "a", "solution": "x = 1", "tests": "assert x == 1", **job})


def write(tmp_path, *lines: str):
    path = tmp_path / "jobs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_counts_valid_jobs_and_skips_blank_lines(tmp_path):
    path = write(tmp_path, line(id="a"), "", line(id="b", mode="script", timeout_s=3), "  ")
    assert count_and_validate(path) == 2


def test_every_job_field_is_accepted(tmp_path):
    path = write(tmp_path, line(coverage=True, memory_mb=256, files={"data.txt": "1"}))
    assert count_and_validate(path) == 1
    assert parse_job_line(line(coverage=True), "jobs.jsonl:1").coverage is True


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([line(id="a"), line(id="b"), '{"id": "c", "solution": '], r"jobs.jsonl:3: invalid JSON"),
        ([line(id="a"), "[1, 2]"], r"jobs.jsonl:2: a job must be a JSON object"),
        ([line(id="a"), line(id="b"), line(id="a")], r"jobs.jsonl:3: duplicate job id 'a'"),
        ([line(id="a", network=True)], r"jobs.jsonl:1: unknown field\(s\) \['network'\]"),
        ([line(id="a"), line(id="b", mode="bash")], r"jobs.jsonl:2: invalid job field 'mode'"),
        ([line(id="a", timeout_s=0)], r"jobs.jsonl:1: invalid job field 'timeout_s'"),
        ([line(id="a", files={"../x": ""})], r"jobs.jsonl:1: invalid job field 'files'"),
        ([json.dumps({"id": "a", "tests": ""})], r"jobs.jsonl:1: invalid job field 'solution'"),
        (["", "  "], r"jobs.jsonl: no jobs in the file"),
    ],
    ids=[
        "invalid json",
        "not an object",
        "duplicate id",
        "unknown field",
        "bad mode",
        "bad timeout",
        "escaping file",
        "missing field",
        "empty",
    ],
)
def test_bad_files_name_the_line(tmp_path, lines, expected):
    path = write(tmp_path, *lines)
    with pytest.raises(JobFileError, match=expected) as info:
        count_and_validate(path)
    assert "\n" not in str(info.value), "one line for the user"


def test_missing_file_says_so(tmp_path):
    with pytest.raises(JobFileError, match=r"cannot read jobs file .*nope\.jsonl"):
        count_and_validate(tmp_path / "nope.jsonl")


def test_batch_tally_counts_by_status():
    from sandbox import Result, Status
    from sandbox.batch import BatchTally

    tally = BatchTally()
    for status in (Status.PASSED, Status.FAILED, Status.PASSED):
        tally.add(Result(id="x", status=status, passed=status == Status.PASSED))
    assert tally.line() == "failed=1 passed=2"
    assert tally.summary() == {"jobs": 3, "failed": 1, "passed": 2}
