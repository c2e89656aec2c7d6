"""``codefactory push`` against a local Hub (HF_ENDPOINT): what arrives is read back and checked."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset, load_from_disk

from tests.support.hub_server import LocalHub

TOKEN = "hf_test_write_token"


def push(directory, *args, env=None, tmp_path):
    environment = {
        **os.environ,
        "HF_HOME": str(tmp_path / "hf-home"),  # no token saved by a login on this machine
        "HF_HUB_DISABLE_TELEMETRY": "1",
        **(env or {}),
    }
    environment.pop("HF_TOKEN", None) if "HF_TOKEN" not in (env or {}) else None
    return subprocess.run(
        [sys.executable, "-m", "factory.cli.main", "push", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


def test_push_sends_every_published_split_and_the_card(generated, tmp_path):
    with LocalHub(TOKEN) as hub:
        done = push(
            generated,
            "--repo",
            "alice/verified-code",
            "--private",
            env={"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": TOKEN},
            tmp_path=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        repo = hub.repos["alice/verified-code"]
        routes = [path for _, path in hub.requests]
    assert repo.repo_type == "dataset" and repo.private
    assert routes[0] == "/api/repos/create"
    assert "/api/datasets/alice/verified-code/commit/main" in routes
    local = load_from_disk(str(generated))
    assert repo.files["README.md"] == (generated / "README.md").read_bytes()
    published = {
        path.split("/")[1].split("-")[0] for path in repo.files if path.endswith(".parquet")
    }
    # dropped rows stay local, empty splits (rejected: no gates ran here) are not declared
    assert published == {"train", "failures"}
    assert local["dropped"].num_rows == 2 and local["rejected"].num_rows == 0
    for split in published:
        (shard,) = [p for p in repo.files if p.startswith(f"data/{split}-")]
        table = pq.read_table(io.BytesIO(repo.files[shard]))
        assert table.column("id").to_pylist() == local[split]["id"]
    assert '"train":2' in done.stdout.replace(" ", "")

    # the repository as pushed loads with `datasets`, splits found through the card's configs
    clone = tmp_path / "clone"
    for path, content in repo.files.items():
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_bytes(content)
    loaded = load_dataset(str(clone), cache_dir=str(tmp_path / "cache"))
    assert set(loaded) == published
    assert loaded["train"]["title"] == local["train"]["title"]


def test_pushing_again_is_accepted_by_an_existing_repo(generated, tmp_path):
    with LocalHub(TOKEN) as hub:
        env = {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": TOKEN}
        first = push(generated, "--repo", "alice/again", env=env, tmp_path=tmp_path)
        second = push(
            generated, "--repo", "alice/again", "--token", TOKEN, env=env, tmp_path=tmp_path
        )
    assert first.returncode == 0 and second.returncode == 0, second.stderr


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no token", "no Hugging Face token"),
        ("bad token", "refused the token (401)"),
        ("unreachable", "cannot reach the Hub at http://127.0.0.1:9"),
        ("bad repo", "OWNER/NAME"),
    ],
)
def test_a_failed_push_is_one_line_and_exit_2(generated, tmp_path, case, message):
    with LocalHub(TOKEN) as hub:
        env = {"HF_ENDPOINT": hub.endpoint}
        args = ["--repo", "alice/data"]
        if case == "bad token":
            env["HF_TOKEN"] = "hf_wrong"
        elif case == "unreachable":
            env = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_TOKEN": TOKEN}
        elif case == "bad repo":
            env["HF_TOKEN"] = TOKEN
            args = ["--repo", "just-a-name"]
        done = push(generated, *args, env=env, tmp_path=tmp_path)
        assert not hub.repos
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr
