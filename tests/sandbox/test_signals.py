"""A batch run stopped by a signal: SIGTERM unwinds and removes every container at once and
keeps the results already written; SIGKILL leaves cleanup to Docker (``stdin_once`` and
``auto_remove``), which must happen shortly after, not when the running jobs would end."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.sandbox.helpers import ADD, ADD_TESTS, own_containers, wait_until
from tests.support.cli import CODEFACTORY

pytestmark = pytest.mark.docker

SLOW_JOB_S = 60  # far longer than any wait below: cleanup must not wait for the jobs


def start_slow_batch(tmp_path):
    """Starts a batch of two quick jobs then slow ones; returns (process, results file)."""
    lines = [
        json.dumps({"id": f"quick-{i}", "solution": ADD, "tests": ADD_TESTS}) for i in range(2)
    ]
    lines += [
        json.dumps(
            {
                "id": f"slow-{i}",
                "solution": "",
                "tests": f"import time\ntime.sleep({SLOW_JOB_S})\n",
                "mode": "script",
                "timeout_s": SLOW_JOB_S + 30,
            }
        )
        for i in range(4)
    ]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    process = subprocess.Popen(
        [*CODEFACTORY, "sandbox", "run", "--jobs", str(jobs), "--out", str(out), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, out


def wait_for_running_slow_jobs(process, out, docker_client):
    """Waits until the quick results are written and both containers run a slow job."""

    def quick_results_written():
        return out.exists() and len(out.read_text().splitlines()) >= 2

    assert wait_until(quick_results_written, timeout_s=60), "the quick jobs never finished"
    running = [c for c in own_containers(docker_client, process.pid) if c["State"] == "running"]
    assert len(running) == 2, running
    time.sleep(1.0)  # both containers are now inside a slow job


def test_sigterm_removes_every_container_and_keeps_results(runner_image, docker_client, tmp_path):
    process, out = start_slow_batch(tmp_path)
    try:
        wait_for_running_slow_jobs(process, out, docker_client)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert time.monotonic() - started < 20, "SIGTERM waited for the running jobs"
    assert process.returncode == 143, stderr
    assert "terminated" in stderr
    assert "Traceback" not in stderr
    assert own_containers(docker_client, process.pid) == []
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in kept) == ["quick-0", "quick-1"]
    assert all(r["status"] == "passed" for r in kept)


def test_sigkill_leaves_cleanup_to_docker_shortly_after(runner_image, docker_client, tmp_path):
    process, out = start_slow_batch(tmp_path)
    try:
        wait_for_running_slow_jobs(process, out, docker_client)
    finally:
        process.kill()  # SIGKILL: no finally block, no __aexit__ runs in the batch process
    process.communicate(timeout=30)
    killed_at = time.monotonic()
    gone = wait_until(lambda: own_containers(docker_client, process.pid) == [], timeout_s=30)
    assert gone, own_containers(docker_client, process.pid)
    assert time.monotonic() - killed_at < SLOW_JOB_S / 2, "cleanup waited for the running jobs"
