"""``codefactory push --format``: an export, not the raw rows, arrives at a local Hub and loads
with ``datasets`` through the card it comes with."""

from __future__ import annotations

import pytest
from datasets import load_dataset, load_from_disk

from tests.support.cli import assert_one_line_error, codefactory
from tests.support.hub_server import LocalHub

pytestmark = pytest.mark.docker
TOKEN = "hf_test_write_token"


def test_push_format_rl_sends_the_rl_export_and_its_card(generated, tmp_path):
    env = {"HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    with LocalHub(TOKEN) as hub:
        env.update(HF_ENDPOINT=hub.endpoint, HF_TOKEN=TOKEN)
        done = codefactory("push", generated, "--repo", "alice/rl", "--format", "rl", env_extra=env)
        assert done.returncode == 0, done.stderr
        bad = codefactory("push", generated, "--repo", "alice/x", "--format", "csv", env_extra=env)
        assert_one_line_error(bad, "--format")
        repo = hub.repos["alice/rl"]
    assert sorted(path for path in repo.files if path.endswith(".parquet")) == [
        "data/train-00000-of-00001.parquet"
    ]
    card = repo.files["README.md"].decode()
    assert "holds the `rl` export" in card
    clone = tmp_path / "clone"
    for path, content in repo.files.items():
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_bytes(content)
    loaded = load_dataset(str(clone), cache_dir=str(tmp_path / "cache"))
    assert set(loaded) == {"train"}
    assert {"prompt", "verification_info", "pass_rate"} <= set(loaded["train"].features)
    assert sorted(loaded["train"]["id"]) == sorted(load_from_disk(str(generated))["train"]["id"])
