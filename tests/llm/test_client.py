"""LLMClient through the real openai client against a real local scripted server."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time

import pytest

from factory.errors import (
    LLMAuthError,
    LLMError,
    LLMModelNotFound,
    LLMRequestRejected,
    LLMUnreachable,
)
from factory.llm import LLMClient, LLMConfig
from factory.llm.parsing import parse_json_reply
from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply

MESSAGES = [{"role": "user", "content": "Write a function that adds two numbers."}]
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "solution",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"code": {"type": "string"}},
            "required": ["code"],
            "additionalProperties": False,
        },
    },
}


def config(server_or_url, **overrides) -> LLMConfig:
    """Fast retries for tests: millisecond backoff, so only Retry-After waits take time."""
    url = server_or_url if isinstance(server_or_url, str) else server_or_url.base_url
    values = {"model": "m", "backoff_base_s": 0.001, "backoff_max_s": 0.01, "timeout_s": 5.0}
    return LLMConfig(base_url=url, **{**values, **overrides})


def complete(cfg: LLMConfig, **kwargs):
    """One complete() call in a fresh client; returns (completion, stats)."""

    async def go():
        async with LLMClient(cfg) as llm:
            completion = await llm.complete(MESSAGES, **kwargs)
            return completion, llm.stats

    return asyncio.run(go())


def check(cfg: LLMConfig):
    async def go():
        async with LLMClient(cfg) as llm:
            return await llm.check()

    return asyncio.run(go())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_plain_completion_with_usage():
    reply = ScriptedReply(content="def add(a, b):\n    return a + b", prompt_tokens=17)
    with ScriptedLLMServer(lambda request: reply) as server:
        completion, stats = complete(config(server))
    assert completion.texts == ["def add(a, b):\n    return a + b"]
    assert completion.text == completion.texts[0]
    assert completion.finish_reasons == ["stop"]
    assert completion.prompt_tokens == 17
    assert completion.completion_tokens == len(reply.content) // 4  # server's estimate
    assert completion.retries == 0
    assert stats.requests == 1 and stats.retries == 0 and stats.completions == 1
    assert (stats.prompt_tokens, stats.completion_tokens) == (17, completion.completion_tokens)
    assert server.requests[0]["messages"] == MESSAGES
    assert server.requests[0]["model"] == "m"


def test_sampling_parameters_and_response_format_are_sent_unchanged():
    with ScriptedLLMServer(lambda request: '{"code": "x = 1"}') as server:
        completion, _ = complete(
            config(server), temperature=0.7, max_tokens=64, seed=3, response_format=SCHEMA_FORMAT
        )
    sent = server.requests[0]
    assert sent["response_format"] == SCHEMA_FORMAT
    assert (sent["temperature"], sent["max_tokens"], sent["seed"]) == (0.7, 64, 3)
    assert "n" not in sent
    assert parse_json_reply(completion.text) == {"code": "x = 1"}


def test_unset_parameters_are_left_to_the_server():
    with ScriptedLLMServer(lambda request: "ok") as server:
        complete(config(server))
    assert set(server.requests[0]) == {"model", "messages"}


def test_n_choices_come_back_in_order_with_summed_usage():
    counter = itertools.count()
    with ScriptedLLMServer(
        lambda request: ScriptedReply(content=f"answer {next(counter)}", completion_tokens=5)
    ) as server:
        completion, stats = complete(config(server), n=3)
    assert completion.texts == ["answer 0", "answer 1", "answer 2"]
    assert completion.finish_reasons == ["stop"] * 3
    assert completion.completion_tokens == 15
    assert server.requests[0]["n"] == 3
    assert stats.requests == 1


def test_missing_usage_counts_zero():
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": None}
        ],
    }
    with ScriptedLLMServer([ScriptedReply(body=body)]) as server:
        completion, stats = complete(config(server))
    assert completion.texts == ["hi"]
    assert (completion.prompt_tokens, completion.completion_tokens) == (0, 0)
    assert completion.finish_reasons == ["unknown"]
    assert stats.prompt_tokens == 0


def test_truncated_reply_is_returned_with_its_finish_reason():
    script = [ScriptedReply(content='{"code": "def f(', finish_reason="length")]
    with ScriptedLLMServer(script) as server:
        completion, _ = complete(config(server))
    assert completion.finish_reasons == ["length"]
    with pytest.raises(ValueError, match="truncated"):
        parse_json_reply(completion.text)


def test_429_with_retry_after_is_waited_out_then_retried():
    script = [ScriptedReply(status=429, headers={"Retry-After": "0.3"}), ScriptedReply("done")]
    with ScriptedLLMServer(script) as server:
        started = time.monotonic()
        completion, stats = complete(config(server))
        waited = time.monotonic() - started
    assert completion.texts == ["done"]
    assert completion.retries == 1
    assert (stats.requests, stats.retries, stats.rate_limited) == (2, 1, 1)
    assert len(server.requests) == 2
    # Backoff alone is capped at 10 ms here, so only the header explains a wait this long.
    assert waited >= 0.25


def test_retry_after_longer_than_the_cap_waits_only_the_cap():
    script = [ScriptedReply(status=429, headers={"Retry-After": "3600"}), ScriptedReply("ok")]
    with ScriptedLLMServer(script) as server:
        completion, _ = complete(config(server, retry_after_max_s=0.05))
    assert completion.retries == 1


@pytest.mark.parametrize(
    "failure",
    [
        ScriptedReply(status=500),
        ScriptedReply(status=503, body="<html>upstream unavailable</html>"),
        ScriptedReply(drop=True),
        ScriptedReply(body={"unexpected": "shape"}),  # a 200 that is not a completion
        ScriptedReply(body="<html>proxy login</html>"),  # a 200 that is not even JSON
        ScriptedReply(body={"choices": ["not a choice"], "usage": "none"}),
    ],
    ids=["500", "503-html", "dropped-connection", "malformed-200", "html-200", "junk-choices"],
)
def test_transient_failure_then_success(failure):
    with ScriptedLLMServer([failure, failure, ScriptedReply("ok")]) as server:
        completion, stats = complete(config(server))
    assert completion.texts == ["ok"]
    assert completion.retries == 2
    assert (stats.requests, stats.retries, stats.rate_limited) == (3, 2, 0)
    assert len(server.requests) == 3


def test_timeout_then_success():
    script = [ScriptedReply("late", delay_s=1.5), ScriptedReply("on time")]
    with ScriptedLLMServer(script) as server:
        completion, _ = complete(config(server, timeout_s=0.3))
    assert completion.texts == ["on time"]
    assert completion.retries == 1


def test_persistent_server_errors_stop_after_max_retries():
    with (
        ScriptedLLMServer(lambda request: ScriptedReply(status=502)) as server,
        pytest.raises(LLMError, match=r"HTTP 502.*after 2 retries") as info,
    ):
        complete(config(server, max_retries=2))
    assert not isinstance(info.value, LLMUnreachable)
    assert len(server.requests) == 3


def test_a_server_that_never_sends_a_completion_stops_with_what_it_sent():
    reply = ScriptedReply(body="<html>proxy login</html>")
    with (
        ScriptedLLMServer(lambda request: reply) as server,
        pytest.raises(LLMError, match=r"not chat completions \(the reply is not JSON: <html>"),
    ):
        complete(config(server, max_retries=1))
    assert len(server.requests) == 2


def test_wrong_api_key_stops_at_once():
    with ScriptedLLMServer(lambda request: "ok", required_api_key="right-key") as server:
        with pytest.raises(LLMAuthError, match=r"refused the API key.*--api-key") as info:
            complete(config(server, api_key="wrong-key"))
        assert "wrong-key" not in str(info.value)
        assert len(server.requests) == 0  # refused before the body was accepted
        completion, stats = complete(config(server, api_key="right-key"))
    assert completion.texts == ["ok"]
    assert stats.retries == 0


def test_forbidden_stops_at_once():
    with (
        ScriptedLLMServer(lambda request: ScriptedReply(status=403)) as server,
        pytest.raises(LLMAuthError, match="HTTP 403"),
    ):
        complete(config(server))
    assert len(server.requests) == 1


def test_unknown_model_on_completion_stops_at_once():
    with (
        ScriptedLLMServer(lambda request: "ok", models=["served"]) as server,
        pytest.raises(LLMModelNotFound) as info,
    ):
        complete(config(server, model="missing"))
    message = str(info.value)
    assert "'missing'" in message and server.base_url in message and "--model" in message
    assert len(server.requests) == 1


def test_bad_request_is_rejected_without_retry():
    script = [ScriptedReply(status=400, body={"error": {"message": "prompt is too long"}})]
    with (
        ScriptedLLMServer(script) as server,
        pytest.raises(LLMRequestRejected, match="prompt is too long"),
    ):
        complete(config(server))
    assert len(server.requests) == 1


def test_check_passes_and_lists_models():
    with ScriptedLLMServer(lambda request: "ok", models=["a", "m"]) as server:
        assert check(config(server)) == ["a", "m"]
        assert server.model_list_calls == 1


def test_check_accepts_a_server_that_lists_no_models():
    with ScriptedLLMServer(lambda request: "ok") as server:
        assert check(config(server)) == []


def test_check_names_the_models_the_server_has():
    with (
        ScriptedLLMServer(lambda request: "ok", models=["qwen", "llama"]) as server,
        pytest.raises(LLMModelNotFound) as info,
    ):
        check(config(server, model="gpt-x"))
    message = str(info.value)
    assert "'gpt-x'" in message and "qwen, llama" in message and server.base_url in message


def test_check_with_wrong_key():
    with (
        ScriptedLLMServer(lambda request: "ok", required_api_key="k") as server,
        pytest.raises(LLMAuthError),
    ):
        check(config(server))


@pytest.mark.timeout(30)
def test_nothing_listening_is_unreachable_for_check_and_complete():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMUnreachable, match="check that the server is running") as info:
        check(config(url))
    assert url in str(info.value)
    with pytest.raises(LLMUnreachable) as info:
        complete(config(url, max_retries=1))
    assert url in str(info.value) and "2 attempts" in str(info.value)


def test_complete_outside_the_context_manager_is_a_clear_error():
    client = LLMClient(config("http://127.0.0.1:1/v1"))
    with pytest.raises(RuntimeError, match="async with"):
        asyncio.run(client.complete(MESSAGES))


@pytest.mark.parametrize("limit", [1, 3])
def test_concurrency_bound_is_respected(limit):
    with ScriptedLLMServer(lambda request: ScriptedReply("ok", delay_s=0.15)) as server:

        async def go():
            async with LLMClient(config(server, concurrency=limit)) as llm:
                return await asyncio.gather(*(llm.complete(MESSAGES) for _ in range(6)))

        completions = asyncio.run(go())
    assert len(completions) == 6
    assert server.max_in_flight == limit


def test_without_a_tight_bound_requests_do_overlap():
    """Shows the server's in-flight measure can exceed a bound, so the test above means it."""
    with ScriptedLLMServer(lambda request: ScriptedReply("ok", delay_s=0.15)) as server:

        async def go():
            async with LLMClient(config(server, concurrency=8)) as llm:
                await asyncio.gather(*(llm.complete(MESSAGES) for _ in range(8)))

        asyncio.run(go())
    assert server.max_in_flight > 3


def test_waiting_calls_reach_the_server_by_priority():
    with ScriptedLLMServer(lambda request: ScriptedReply("ok", delay_s=0.1)) as server:

        async def go():
            async with LLMClient(config(server, concurrency=1)) as llm:

                def call(name: str, priority: int):
                    asked = [{"role": "user", "content": name}]
                    return asyncio.create_task(llm.complete(asked, priority=priority))

                first = call("holds the slot", 5)
                await asyncio.sleep(0.03)  # it is at the server; the rest queue behind it
                queued = [call("later", 1), call("urgent", 0), call("later too", 1)]
                await asyncio.gather(first, *queued)

        asyncio.run(go())
    order = [request["messages"][0]["content"] for request in server.requests]
    assert order == ["holds the slot", "urgent", "later", "later too"]


def test_a_script_that_ran_out_says_so():
    with ScriptedLLMServer(["only one"]) as server:
        complete(config(server))
        with pytest.raises(LLMRequestRejected, match="no scripted reply left"):
            complete(config(server))
    assert len(server.requests) == 2


def test_stats_accumulate_over_many_calls():
    replies = [ScriptedReply(status=429), *[ScriptedReply("x" * 40) for _ in range(3)]]
    with ScriptedLLMServer(replies) as server:

        async def go():
            async with LLMClient(config(server)) as llm:
                for _ in range(3):
                    await llm.complete(MESSAGES)
                return llm.stats

        stats = asyncio.run(go())
    assert stats.as_dict() == {
        "requests": 4,
        "retries": 1,
        "rate_limited": 1,
        "prompt_tokens": 3 * (len(MESSAGES[0]["content"]) // 4),
        "completion_tokens": 30,
        "completions": 3,
    }


def test_error_messages_never_show_credentials_in_the_url():
    url = f"http://user:hunter2@127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMUnreachable) as info:
        complete(config(url, max_retries=0))
    assert "hunter2" not in str(info.value)
    assert "1 attempt)" in str(info.value)
