"""Async client for an OpenAI-compatible chat endpoint, with our own retry policy.

The openai SDK does the HTTP and the protocol; its built-in retries are switched off
(``max_retries=0``) and done here instead, so that every retry is counted, backoff is
configurable (tests use milliseconds), and failures retries cannot fix become one-line
factory errors that tell the user what to do.

Requests go through the SDK's generic ``post`` with a body that is already plain JSON, not
through ``chat.completions.create``: the latter walks every message and the JSON schema
through its typed-parameter transform on every call, and builds a typed model of every reply:
together more CPU than the rest of the request (about 2 ms a call here), all of it on the event
loop that also feeds the sandbox. The reply is read here as the JSON it is. Status errors,
timeouts, connection handling and authentication stay the SDK's.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import openai
from pydantic import BaseModel, ConfigDict, Field

from factory.errors import (
    LLMAuthError,
    LLMError,
    LLMModelNotFound,
    LLMRequestRejected,
    LLMUnreachable,
)
from factory.llm.config import API_KEY_ENV, LLMConfig
from factory.llm.slots import PrioritySlots
from sandbox.text import representable

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 409, 429})  # plus every 5xx
CHECK_ATTEMPTS = 2
CHECK_TIMEOUT_S = 10.0
CHECK_RETRY_DELAY_S = 0.25
MODELS_SHOWN = 8
CHAT_PATH = "/chat/completions"
# What ``chat.completions.create`` sends along: the API key as a bearer token.
CHAT_OPTIONS: dict[str, Any] = {"security": {"bearer_auth": True}}


class Completion(BaseModel):
    """The choices of one chat completion and what they cost."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    texts: list[str] = Field(description="one text per choice, in choice order")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reasons: list[str] = Field(description='per choice: "stop", "length", ...')
    retries: int = Field(0, description="transient failures retried before this answer")

    @property
    def text(self) -> str:
        """The first choice's text (the only one when ``n=1``)."""
        return self.texts[0]


@dataclass
class ClientStats:
    """Running totals over the client's life, for progress displays and run reports."""

    requests: int = 0  # HTTP requests sent to chat/completions, retries included
    retries: int = 0  # requests that repeated a failed one
    rate_limited: int = 0  # 429 replies received
    prompt_tokens: int = 0
    completion_tokens: int = 0
    completions: int = 0  # complete() calls that returned an answer

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _MalformedReply(Exception):
    """A 200 reply that is not a chat completion; retried like a server error."""


class LLMClient:
    """Bounded-concurrency, retrying chat client. Use as ``async with LLMClient(cfg) as llm``.

    At most ``config.concurrency`` requests are in flight at once. A call waiting out a
    backoff gives its slot to others meanwhile, so one flaky request does not idle a slot.
    """

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.stats = ClientStats()
        self._slots = PrioritySlots(config.concurrency)
        self._random = random.Random()
        self._openai: openai.AsyncOpenAI | None = None

    async def __aenter__(self) -> LLMClient:
        self._openai = openai.AsyncOpenAI(
            base_url=self.config.base_url,
            api_key=self.config.api_key_value,
            max_retries=0,
            timeout=self.config.timeout_s,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        client, self._openai = self._openai, None
        if client is not None:
            await client.close()

    def _client(self) -> openai.AsyncOpenAI:
        if self._openai is None:
            raise RuntimeError("LLMClient is not open: use `async with LLMClient(config) as llm`")
        return self._openai

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: Mapping[str, Any] | None = None,
        n: int = 1,
        seed: int | None = None,
        priority: int = 0,
    ) -> Completion:
        """One chat completion, retried on 429, 5xx, timeouts and dropped connections.

        ``response_format`` goes to the server unchanged. When more calls wait than there
        are slots, lower ``priority`` values go first (see :mod:`factory.llm.slots`). Raises LLMAuthError (401/403),
        LLMModelNotFound (404), LLMRequestRejected (other 4xx), LLMUnreachable (connection
        failures outlasting the retries) or LLMError (server errors outlasting the retries).
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        request: dict[str, Any] = {"model": self.config.model, "messages": list(messages)}
        optional = {
            "temperature": temperature,
            "max_tokens": max_tokens,
            "response_format": response_format,
            "seed": seed,
            "n": n if n != 1 else None,
        }
        request.update({key: value for key, value in optional.items() if value is not None})
        client = self._client()
        retries = 0
        while True:
            async with self._slots.hold(priority):
                self.stats.requests += 1
                try:
                    body = await client.post(
                        CHAT_PATH, cast_to=bytes, body=request, options=CHAT_OPTIONS
                    )
                    return self._completion(body, retries)
                except (openai.OpenAIError, _MalformedReply) as exc:
                    failure: Exception = exc
            delay = self._delay_before_retry(failure, retries)
            retries += 1
            self.stats.retries += 1
            log.debug("retry %d in %.2fs after %s", retries, delay, _describe(failure))
            await asyncio.sleep(delay)

    def _completion(self, body: bytes, retries: int) -> Completion:
        """The completion in a reply body; a body that is not one is retried like a 5xx."""
        try:
            reply = json.loads(body)
        except ValueError:
            raise _MalformedReply(f"the reply is not JSON: {_excerpt(body)}") from None
        choices = reply.get("choices") if isinstance(reply, dict) else None
        if not isinstance(choices, list) or not choices:
            raise _MalformedReply(f"the reply has no choices: {_excerpt(body)}")
        if not all(isinstance(choice, dict) for choice in choices):
            raise _MalformedReply(f"the reply's choices are not objects: {_excerpt(body)}")
        choices = sorted(choices, key=lambda choice: _count(choice.get("index")))
        texts, reasons = [], []
        for choice in choices:
            message = choice.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            # A lone surrogate ("\ud800" in the JSON) could never be stored: replaced here.
            texts.append(representable(content) if isinstance(content, str) else "")
            reason = choice.get("finish_reason")
            reasons.append(reason if isinstance(reason, str) and reason else "unknown")
        usage = reply.get("usage") if isinstance(reply.get("usage"), dict) else {}
        prompt_tokens = _count(usage.get("prompt_tokens"))
        completion_tokens = _count(usage.get("completion_tokens"))
        self.stats.prompt_tokens += prompt_tokens
        self.stats.completion_tokens += completion_tokens
        self.stats.completions += 1
        return Completion(
            texts=texts,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reasons=reasons,
            retries=retries,
        )

    def _delay_before_retry(self, failure: Exception, attempt: int) -> float:
        """Seconds to wait before retrying ``failure``, or raises the error to stop with."""
        cfg = self.config
        out_of_retries = attempt >= cfg.max_retries
        if isinstance(failure, openai.APIStatusError):
            status = failure.status_code
            self._raise_if_terminal(status, _server_message(failure))
            if status == 429:
                self.stats.rate_limited += 1
            if out_of_retries:
                raise LLMError(
                    f"{cfg.display_url} kept answering HTTP {status} ({_server_message(failure)}) "
                    f"after {attempt} retries: check the server's health and logs, or lower "
                    "--concurrency"
                )
            retry_after = retry_after_s(failure.response.headers)
            if retry_after is not None:
                return min(retry_after, cfg.retry_after_max_s)
            return self._backoff(attempt)
        if isinstance(failure, openai.APIConnectionError):  # refused, dropped, timed out
            if out_of_retries:
                raise LLMUnreachable(
                    _unreachable_message(cfg, failure, attempt + 1, cfg.timeout_s)
                ) from None
            return self._backoff(attempt)
        if isinstance(failure, _MalformedReply):
            if out_of_retries:
                raise LLMError(
                    f"{cfg.display_url} keeps sending replies that are not chat completions "
                    f"({_describe(failure)}): check that --base-url points at an "
                    "OpenAI-compatible API"
                )
            return self._backoff(attempt)
        raise LLMError(
            f"LLM request to {cfg.display_url} failed: {_describe(failure)}"
        ) from failure

    def _raise_if_terminal(self, status: int, detail: str) -> None:
        cfg = self.config
        if status in (401, 403):
            raise LLMAuthError(
                f"{cfg.display_url} refused the API key (HTTP {status}: {detail}): pass a valid "
                f"--api-key or set {API_KEY_ENV}"
            )
        if status == 404:
            raise LLMModelNotFound(
                f"model {cfg.model!r} not found at {cfg.display_url} (HTTP 404: {detail}): pass a "
                f"--model the server serves (see {cfg.display_url}/models) and check that "
                "--base-url includes the API prefix, such as /v1"
            )
        if status < 500 and status not in RETRYABLE_STATUSES:
            raise LLMRequestRejected(
                f"{cfg.display_url} rejected the request (HTTP {status}: {detail})"
            )

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform over [0, min(max, base * 2**attempt)]."""
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** min(attempt, 30))
        return self._random.uniform(0, ceiling)

    async def check(self) -> list[str]:
        """Fails fast, before any work, if the endpoint cannot serve us; returns its models.

        Asks ``GET /models`` (two quick tries, short timeout). Raises LLMUnreachable,
        LLMAuthError, or LLMModelNotFound when the server lists models and ours is not among
        them. A server without a model list (404 there, or an empty list) passes: the first
        completion will tell.
        """
        cfg = self.config
        timeout_s = min(cfg.timeout_s, CHECK_TIMEOUT_S)
        client = self._client().with_options(timeout=timeout_s)
        for attempt in range(1, CHECK_ATTEMPTS + 1):
            last = attempt == CHECK_ATTEMPTS
            try:
                page = await client.models.list()
                break
            except openai.APIStatusError as exc:
                if exc.status_code == 404:
                    return []
                if exc.status_code in (401, 403):
                    self._raise_if_terminal(exc.status_code, _server_message(exc))
                if last:
                    raise LLMError(
                        f"{cfg.display_url} answered HTTP {exc.status_code} to GET /models "
                        f"({_server_message(exc)}): check the server's health and logs"
                    ) from None
            except openai.APIConnectionError as exc:
                if last:
                    raise LLMUnreachable(
                        _unreachable_message(cfg, exc, attempt, timeout_s)
                    ) from None
            await asyncio.sleep(CHECK_RETRY_DELAY_S)
        ids = [str(getattr(model, "id", "")) for model in getattr(page, "data", None) or []]
        ids = [model_id for model_id in ids if model_id]
        if ids and cfg.model not in ids:
            shown = ", ".join(ids[:MODELS_SHOWN])
            more = f" and {len(ids) - MODELS_SHOWN} more" if len(ids) > MODELS_SHOWN else ""
            raise LLMModelNotFound(
                f"{cfg.display_url} does not serve model {cfg.model!r}; it serves {shown}{more}: "
                "pass one of them with --model"
            )
        return ids


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds a 429/503 asks us to wait (``retry-after-ms``, ``Retry-After`` seconds or date)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        return seconds if seconds >= 0 and seconds == seconds else None  # drop NaN, negatives
    value = headers.get("retry-after")
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    return None


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message or body or exc.message or "no details").strip()
    return text if len(text) <= 200 else text[:197] + "..."


def _describe(failure: Exception) -> str:
    if isinstance(failure, openai.APIStatusError):
        return f"HTTP {failure.status_code}: {_server_message(failure)}"
    cause = failure.__cause__
    reason = str(cause) if cause is not None and str(cause) else str(failure)
    reason = reason or type(failure).__name__
    return reason if len(reason) <= 200 else reason[:197] + "..."


def _unreachable_message(
    cfg: LLMConfig, failure: Exception, attempts: int, timeout_s: float
) -> str:
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if isinstance(failure, openai.APITimeoutError):
        return (
            f"no answer from {cfg.display_url} within {timeout_s:g}s ({tries}): check that "
            "the server is running and not overloaded, or raise --timeout"
        )
    return (
        f"cannot reach the LLM server at {cfg.display_url} ({_describe(failure)}; {tries}): "
        "check that the server is running and --base-url is right"
    )


def _count(value: Any) -> int:
    """A token count or index as the server sent it; anything but a non-negative int is 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _excerpt(body: bytes) -> str:
    text = body[:120].decode("utf-8", "replace").strip() or "(empty)"
    return text if len(body) <= 120 else text + "..."
