"""Resuming: SIGKILL mid-run then the same command again; extending; configuration guard.

The kill test runs ``codefactory generate`` as a real subprocess against a scripted endpoint
served from this test process, so every request of both runs is seen here.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from datasets import load_from_disk

from factory.errors import ConfigError, LLMError
from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply
from tests.support.scripted_model import ScriptedModel
from tests.support.scripted_runs import MODEL, llm_config

pytestmark = pytest.mark.docker
COUNT = 16


def committed(out: Path) -> int:
    path = out / "state" / "store.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM slots WHERE kind = 'problem'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def titles_in_store(out: Path) -> list[str]:
    path = out / "state" / "store.sqlite"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT json_extract(record, '$.title') FROM slots").fetchall()
    return [row[0] for row in rows]


def generate_command(base_url: str, out: Path, runner_image: str) -> list[str]:
    return [
        sys.executable, "-m", "factory.cli.main", "generate",
        "--base-url", base_url, "--model", MODEL, "--count", str(COUNT), "--out", str(out),
        "--concurrency", "4", "--workers", "2", "--timeout", "5", "--image", runner_image,
        "--quiet", "--no-gates", "--no-dedup",
    ]  # fmt: skip


def test_sigkill_mid_run_then_rerun_resumes_without_loss_or_repeats(runner_image, tmp_path):
    out = tmp_path / "dataset"
    model = ScriptedModel(["clean", "wrong_solution"], delay_s=0.25)
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    with ScriptedLLMServer(model, models=[MODEL]) as server:
        command = generate_command(server.base_url, out, runner_image)
        first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 180
        while committed(out) < 4 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert first.poll() is None, first.stderr.read().decode()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        first.stdout.close()
        first.stderr.close()
        done_at_kill = committed(out)
        assert 4 <= done_at_kill < COUNT
        finished_titles = titles_in_store(out)
        first_requests = len(server.requests)
        calls_before = Counter(model.calls)

        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        second_requests = server.requests[first_requests:]

    dataset = load_from_disk(str(out))
    rows = [row for split in dataset.values() for row in split]
    assert len(rows) == COUNT
    assert len({row["id"] for row in rows}) == COUNT
    assert len({row["title"] for row in rows}) == COUNT
    assert len({row["provenance"]["slot"] for row in rows}) == COUNT
    assert set(finished_titles) <= {row["title"] for row in rows}
    # No LLM call was paid again for a problem finished before the kill...
    for title in finished_titles:
        for stage in ("problem", "solution", "tests", "repair"):
            assert model.calls[(stage, title)] == calls_before[(stage, title)], (stage, title)
    # ...and the rerun proposed exactly the problems still missing.
    stages = Counter(r["response_format"]["json_schema"]["name"] for r in second_requests)
    assert stages["problem"] == COUNT - done_at_kill
    assert model.violations == []


def test_rerun_of_a_finished_run_calls_nothing_and_a_larger_count_extends(run_generate, tmp_path):
    out = tmp_path / "dataset"
    model = ScriptedModel(["clean"])
    with ScriptedLLMServer(model, models=[MODEL]) as server:
        run_generate(server.base_url, out, 3)
        after_first = len(server.requests)
        first_titles = set(titles_in_store(out))
        calls_before = Counter(model.calls)

        again = run_generate(server.base_url, out, 3)
        assert len(server.requests) == after_first
        assert server.model_list_calls == 1  # not even the endpoint check
        assert again.splits["train"] == 3 and again.resumed_from == 3

        extended = run_generate(server.base_url, out, 5)
    assert extended.splits["train"] == 5 and extended.this_run["accepted"] == 2
    for (stage, title), calls in model.calls.items():
        if title in first_titles:
            assert calls == calls_before[(stage, title)]
    assert load_from_disk(str(out))["train"].num_rows == 5


def test_a_different_configuration_is_refused_unless_forced(run_generate, tmp_path):
    out = tmp_path / "dataset"
    with ScriptedLLMServer(ScriptedModel(["clean"]), models=[MODEL]) as server:
        run_generate(server.base_url, out, 1)
        before = len(server.requests)
        with pytest.raises(ConfigError) as refused:
            run_generate(server.base_url, out, 2, temperature=0.2, seed=7)
        assert len(server.requests) == before and server.model_list_calls == 1
        message = str(refused.value)
        assert "temperature: 0.8 -> 0.2" in message and "seed: 0 -> 7" in message
        assert "--force-config" in message

        forced = run_generate(server.base_url, out, 2, temperature=0.2, seed=7, force_config=True)
    assert forced.splits["train"] == 2
    rows = load_from_disk(str(out))["train"]
    assert sorted(row["provenance"]["sampling"]["temperature"] for row in rows) == [0.2, 0.8]


def test_an_unrelated_nonempty_directory_is_refused(run_generate, tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with ScriptedLLMServer(ScriptedModel(["clean"]), models=[MODEL]) as server:
        with pytest.raises(ConfigError, match="not a codefactory output directory"):
            run_generate(server.base_url, tmp_path, 1)
        assert server.requests == []
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_an_endpoint_that_dies_mid_run_stops_it_with_finished_work_saved(run_generate, tmp_path):
    out = tmp_path / "dataset"
    model = ScriptedModel(["clean", "wrong_solution"], delay_s=0.1)
    broken = threading.Event()

    def responder(request):
        return ScriptedReply(status=500) if broken.is_set() else model(request)

    def break_after_two_commits():
        while committed(out) < 2:
            time.sleep(0.02)
        broken.set()

    watcher = threading.Thread(target=break_after_two_commits, daemon=True)
    with ScriptedLLMServer(responder, models=[MODEL]) as server:
        llm = llm_config(server.base_url, max_retries=1)
        watcher.start()
        with pytest.raises(LLMError, match="HTTP 500"):
            run_generate(server.base_url, out, 8, llm=llm)
        saved = titles_in_store(out)
        assert len(saved) >= 2
        exported = load_from_disk(str(out))
        assert sorted(row["title"] for split in exported.values() for row in split) == sorted(saved)

        broken.clear()
        calls_before = Counter(model.calls)
        report = run_generate(server.base_url, out, 8, llm=llm)
    assert report.splits["train"] + report.splits["failures"] == 8
    for title in saved:
        for stage in ("solution", "tests", "repair"):
            assert model.calls[(stage, title)] == calls_before[(stage, title)]
