"""``codefactory sandbox run`` and ``prune`` as a user runs them: a real process, real files,
the real daemon. Bad input must give exit 2 and one line saying what to do, no traceback."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import pytest
from docker.errors import NotFound

from sandbox.docker_client import LABEL
from tests.sandbox.helpers import ADD, ADD_TESTS, SCRIPT_TESTS, WRONG_ADD, own_containers

pytestmark = pytest.mark.docker

CLI = [sys.executable, "-m", "factory.cli.main", "sandbox"]


def codefactory(*args, env: dict | None = None, timeout_s: float = 120):
    return subprocess.run(
        [*CLI, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(done, *fragments: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "add.py").write_text(ADD)
    (tmp_path / "wrong.py").write_text(WRONG_ADD)
    (tmp_path / "test_add.py").write_text(ADD_TESTS)
    (tmp_path / "checks.py").write_text(SCRIPT_TESTS)
    return tmp_path


def job_line(job_id: str, solution: str = ADD, tests: str = ADD_TESTS, **extra) -> str:
    return json.dumps({"id": job_id, "solution": solution, "tests": tests, **extra})


def test_single_run_exit_status(runner_image, files):
    passed = codefactory("run", "--solution", files / "add.py", "--tests", files / "test_add.py")
    assert passed.returncode == 0, passed.stderr
    assert "passed" in passed.stdout
    failed = codefactory("run", "--solution", files / "wrong.py", "--tests", files / "test_add.py")
    assert failed.returncode == 1, failed.stderr
    assert "failed" in failed.stdout
    assert "test_small" in failed.stdout  # the per-test table
    script = codefactory(
        "run", "--solution", files / "add.py", "--tests", files / "checks.py", "--mode", "script"
    )
    assert script.returncode == 0, script.stderr


def test_single_run_json(runner_image, files):
    done = codefactory(
        "run", "--solution", files / "wrong.py", "--tests", files / "test_add.py", "--json"
    )
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["status"] == "failed"
    assert result["passed"] is False
    assert {t["name"].split("::")[1]: t["outcome"] for t in result["tests"]} == {
        "test_small": "failed",
        "test_negative": "failed",
    }


def test_jobs_file_to_out_file(runner_image, tmp_path):
    jobs = tmp_path / "jobs.jsonl"
    lines = [job_line(f"ok-{i}") for i in range(4)] + [
        job_line("wrong", solution=WRONG_ADD),
        job_line("script", tests=SCRIPT_TESTS, mode="script"),
        job_line("slow", tests="import time\ntime.sleep(30)\n", mode="script", timeout_s=1),
    ]
    jobs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    done = codefactory("run", "--jobs", jobs, "--out", out, "--workers", 2)
    assert done.returncode == 0, done.stderr
    results = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(results) == {json.loads(line)["id"] for line in lines}
    statuses = {job_id: r["status"] for job_id, r in results.items()}
    assert statuses == {
        **{f"ok-{i}": "passed" for i in range(4)},
        "wrong": "failed",
        "script": "passed",
        "slow": "timeout",
    }
    assert done.stdout == ""  # results went to the file; progress and summary to stderr
    progress, summary = done.stderr.strip().splitlines()[-2:]
    assert "7/7" in progress and "passed=5" in progress
    assert json.loads(summary) == {"jobs": 7, "passed": 5, "failed": 1, "timeout": 1}


def test_jobs_file_to_stdout(runner_image, tmp_path):
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(job_line("a") + "\n" + job_line("b", solution=WRONG_ADD) + "\n")
    done = codefactory("run", "--jobs", jobs, "--workers", 1)
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted((r["id"], r["status"]) for r in results) == [("a", "passed"), ("b", "failed")]


def test_missing_files(tmp_path, files):
    assert_one_line_error(
        codefactory("run", "--solution", tmp_path / "nope.py", "--tests", files / "test_add.py"),
        "nope.py",
    )
    assert_one_line_error(codefactory("run", "--jobs", tmp_path / "nope.jsonl"), "nope.jsonl")


@pytest.mark.parametrize(
    ("lines", "fragments"),
    [
        (
            [job_line("a"), job_line("b"), '{"id": "c", "solution": "x"'],
            ("jobs.jsonl:3", "invalid JSON"),
        ),
        ([job_line("a"), job_line("b"), job_line("a")], ("jobs.jsonl:3", "duplicate job id 'a'")),
        ([job_line("a", network=True)], ("jobs.jsonl:1", "unknown field")),
    ],
    ids=["invalid json on line 3", "duplicate ids", "unknown field"],
)
def test_bad_jobs_file(tmp_path, lines, fragments):
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    assert_one_line_error(codefactory("run", "--jobs", jobs, "--out", out), *fragments)
    assert not out.exists() or out.read_text() == ""


def test_docker_daemon_unreachable(files):
    done = codefactory(
        "run",
        "--solution",
        files / "add.py",
        "--tests",
        files / "test_add.py",
        env={"DOCKER_HOST": "unix:///nonexistent"},
    )
    assert_one_line_error(done, "Docker daemon not reachable", "start it")


def test_image_missing(runner_image, files):
    done = codefactory(
        "run",
        "--solution",
        files / "add.py",
        "--tests",
        files / "test_add.py",
        "--image",
        "codefactory-runner:does-not-exist",
    )
    assert_one_line_error(done, "codefactory-runner:does-not-exist", "codefactory sandbox build")


def test_bad_flag_values(files):
    args = ["run", "--solution", files / "add.py", "--tests", files / "test_add.py"]
    assert_one_line_error(codefactory(*args, "--timeout", 0), "--timeout")
    assert_one_line_error(codefactory(*args, "--mode", "bash"), "--mode")


def test_prune_removes_containers_of_dead_owners_only(runner_image, docker_client):
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(finished.stdout)
    orphan = docker_client.containers.create(
        runner_image, labels={LABEL: "1", "codefactory.owner_pid": str(dead_pid)}
    )
    ours = docker_client.containers.create(
        runner_image, labels={LABEL: "1", "codefactory.owner_pid": str(os.getpid())}
    )
    try:
        done = codefactory("prune")
        assert done.returncode == 0, done.stderr
        assert "removed" in done.stdout
        assert own_containers(docker_client, owner_pid=dead_pid) == []
        assert [c["Id"] for c in own_containers(docker_client) if c["Id"] == ours.id] == [ours.id]
    finally:
        for container in (orphan, ours):
            with contextlib.suppress(NotFound):
                container.remove(force=True)
