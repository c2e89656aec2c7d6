"""Several replicas of one model (``--base-url`` repeated): requests spread by load, a
failing replica rested and tried again later. Real local servers, the real openai client."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import pytest

from factory.errors import LLMUnreachable
from factory.llm import LLMClient, LLMConfig
from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply

MESSAGES = [{"role": "user", "content": "Write a function that adds two numbers."}]


def replicas(*urls: str, **overrides) -> LLMConfig:
    values = {"model": "m", "backoff_base_s": 0.001, "backoff_max_s": 0.01, "timeout_s": 5.0}
    return LLMConfig(base_url=urls[0], replicas=urls[1:], **{**values, **overrides})


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def run_many(cfg: LLMConfig, count: int):
    async def go():
        async with LLMClient(cfg) as llm:
            texts = await asyncio.gather(*(llm.complete(MESSAGES) for _ in range(count)))
            return [t.text for t in texts], llm.endpoint_stats(), llm.stats

    return asyncio.run(go())


def test_requests_spread_over_replicas_by_load():
    slow = lambda _request: ScriptedReply(content="slow", delay_s=0.2)  # noqa: E731
    fast = lambda _request: ScriptedReply(content="fast", delay_s=0.02)  # noqa: E731
    with ScriptedLLMServer(slow) as one, ScriptedLLMServer(fast) as two:
        texts, per_endpoint, _ = run_many(replicas(one.base_url, two.base_url, concurrency=4), 60)
        assert len(texts) == 60
        # Both serve; the faster one frees its slots sooner, so it takes more of the load.
        assert len(one.requests) >= 2 and len(two.requests) > len(one.requests)
    assert [e["requests"] for e in per_endpoint] == [len(one.requests), len(two.requests)]


def test_a_failing_replica_is_rested_and_the_other_serves_every_request():
    failing = lambda _request: ScriptedReply(status=503)  # noqa: E731
    with ScriptedLLMServer(failing) as bad, ScriptedLLMServer(["ok"] * 30) as good:
        texts, per_endpoint, stats = run_many(
            replicas(bad.base_url, good.base_url, concurrency=2, rest_s=60, max_retries=2), 30
        )
    assert texts == ["ok"] * 30
    assert len(bad.requests) <= 2  # the first failures, then it rests
    assert per_endpoint[0]["failures"] == len(bad.requests)
    assert stats.retries == len(bad.requests)


def test_a_rested_replica_is_tried_again_when_its_rest_is_over():
    state = {"healthy": False}

    def flaky(_request):
        return ScriptedReply(content="back") if state["healthy"] else ScriptedReply(status=500)

    with ScriptedLLMServer(flaky) as recovering, ScriptedLLMServer(lambda _r: "ok") as steady:
        cfg = replicas(recovering.base_url, steady.base_url, concurrency=1, rest_s=0.3)

        async def go():
            async with LLMClient(cfg) as llm:
                first = [(await llm.complete(MESSAGES)).text for _ in range(5)]
                state["healthy"] = True
                await asyncio.sleep(0.5)
                later = [(await llm.complete(MESSAGES)).text for _ in range(6)]
                return first, later

        first, later = asyncio.run(go())
    assert first == ["ok"] * 5
    assert "back" in later and "ok" in later  # load shared again once it answers


def test_check_passes_while_one_replica_is_down_and_fails_when_all_are():
    with ScriptedLLMServer(["unused"], models=["m"]) as up:
        cfg = replicas(closed_port_url(), up.base_url)

        async def check_then_complete():
            async with LLMClient(cfg) as llm:
                await llm.check()
                return llm.endpoint_stats()

        per_endpoint = asyncio.run(check_then_complete())
        assert per_endpoint[0]["failures"] == 1
    with pytest.raises(LLMUnreachable):

        async def check_all_down():
            async with LLMClient(replicas(closed_port_url(), closed_port_url())) as llm:
                await llm.check()

        asyncio.run(check_all_down())


def test_base_url_repeated_on_the_command_line_becomes_replicas():
    env_free = {}
    cfg = LLMConfig.from_flags(
        environ=env_free,
        base_url=["http://user:secret@10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1/"],
        model="m",
    )
    assert cfg.base_urls == ["http://user:secret@10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"]
    assert cfg.endpoint_hosts == ["http://10.0.0.1:8000", "http://10.0.0.2:8000"]


def test_an_invalid_replica_url_is_one_line_naming_the_flag(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "factory.cli.main", "generate", "--model", "m", "--count", "1",
         "--out", str(tmp_path / "o"), "--base-url", "http://127.0.0.1:1/v1",
         "--base-url", "ftp://nowhere"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--base-url" in lines[0] and "Traceback" not in done.stderr


@pytest.mark.docker
def test_generate_over_two_replicas_one_failing_lists_both_on_the_card(runner_image, tmp_path):
    from tests.support.scripted_model import ScriptedModel
    from tests.support.scripted_runs import MODEL

    topics = tmp_path / "topics.toml"
    topics.write_text('name = "mine"\n[[topics]]\nname = "strings"\nsubtopics = ["x"]\n')
    failing = lambda _request: ScriptedReply(status=503)  # noqa: E731
    out = tmp_path / "o"
    with (
        ScriptedLLMServer(failing, models=[MODEL]) as bad,
        ScriptedLLMServer(ScriptedModel(["clean"]), models=[MODEL]) as good,
    ):
        authed = bad.base_url.replace("http://", "http://user:hunter2@")
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "factory.cli.main", "generate", "--base-url", authed,
             "--base-url", good.base_url, "--model", MODEL, "--count", "2", "--out", str(out),
             "--topics", str(topics), "--workers", "1", "--image", runner_image,
             "--no-gates", "--no-dedup", "--quiet"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started < 120
    card = subprocess.run(
        [sys.executable, "-m", "factory.cli.main", "card", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert card.returncode == 0, card.stderr
    text = (out / "README.md").read_text()
    for server in (bad, good):
        host = server.base_url.removesuffix("/v1")
        assert host in text, host
    assert "hunter2" not in text and "user:" not in text
