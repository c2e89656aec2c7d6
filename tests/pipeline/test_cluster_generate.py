"""``generate --ray`` against the scripted server: the same rows as without Ray.

The driver keeps the LLM client, the plan, the store and the export; only sandbox jobs go to
the cluster's nodes, so a run is the same run wherever its jobs are judged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from datasets import load_from_disk

from factory.llm.scripted_server import ScriptedLLMServer
from tests.support.scripted_model import ScriptedModel
from tests.support.scripted_runs import MODEL

pytestmark = pytest.mark.docker

TOPICS = """
name = "mine"
[[topics]]
name = "strings"
subtopics = ["palindromes"]
"""
SCENARIOS = ["clean", "wrong_solution", "infinite_loop", "never_fixed", "wrong_tests"]


def generate(base_url: str, out, topics, runner_image, *extra: str):
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "factory.cli.main", "generate", "--base-url", base_url,
         "--model", MODEL, "--count", str(len(SCENARIOS)), "--out", str(out),
         "--topics", str(topics), "--workers", "2", "--image", runner_image, "--timeout", "3",
         "--concurrency", "1", "--in-flight", "1", "--no-gates", "--no-dedup", "--quiet",
         *extra],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def rows(out) -> dict[str, list[tuple]]:
    dataset = load_from_disk(str(out))
    return {
        split: sorted(
            (
                row["id"],
                row["title"],
                row["solution"],
                row["tests"],
                row["n_repairs"],
                row["failure_reason"],
            )
            for row in dataset[split]
        )
        for split in dataset
    }


def test_generate_on_the_cluster_makes_the_same_rows(ray_cluster, runner_image, tmp_path):
    topics = tmp_path / "topics.toml"
    topics.write_text(TOPICS)
    made = {}
    for name, extra in (("local", ()), ("ray", ("--ray", ray_cluster.address))):
        with ScriptedLLMServer(ScriptedModel(SCENARIOS), models=[MODEL]) as server:
            done = generate(server.base_url, tmp_path / name, topics, runner_image, *extra)
        assert done.returncode == 0, done.stderr
        made[name] = (json.loads(done.stdout)["splits"], rows(tmp_path / name))
    assert made["local"] == made["ray"]
    splits = made["ray"][0]
    assert splits["train"] >= 2 and splits["failures"] >= 1, splits
