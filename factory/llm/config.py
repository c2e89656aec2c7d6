"""Validated settings for talking to an OpenAI-compatible endpoint (or replicas of one).

Built once at the edge (the CLI calls :meth:`LLMConfig.from_flags`, tests construct it
directly); everything below takes the config object and never reads the environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from factory.errors import ConfigError, describe_validation_error

BASE_URL_ENV = "OPENAI_BASE_URL"
API_KEY_ENV = "OPENAI_API_KEY"


class LLMConfig(BaseModel):
    """Where the endpoint is, which model to ask, and how hard to push and retry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1")
    model: str = Field(min_length=1, description="model name as the server knows it")
    api_key: SecretStr | None = Field(None, description="bearer key; None sends a placeholder")
    concurrency: int = Field(8, ge=1, le=4096, description="requests in flight at once")
    max_retries: int = Field(6, ge=0, le=100, description="retries per call on transient errors")
    timeout_s: float = Field(120.0, gt=0, le=3600, description="per-request timeout")
    backoff_base_s: float = Field(1.0, ge=0, le=60, description="first backoff ceiling")
    backoff_max_s: float = Field(60.0, ge=0, le=3600, description="largest backoff ceiling")
    retry_after_max_s: float = Field(
        120.0, ge=0, le=3600, description="longest Retry-After wait honoured as given"
    )
    replicas: tuple[str, ...] = Field(
        (), description="more API roots serving the same model (--base-url given again)"
    )
    rest_s: float = Field(
        5.0, ge=0, le=600, description="first rest of a failing replica (doubles, to 60 s)"
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _check_url(value)

    @field_validator("replicas")
    @classmethod
    def _http_urls(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_url(value) for value in values)

    @property
    def base_urls(self) -> list[str]:
        """Every API root of the run: the first ``--base-url`` and its replicas."""
        return [self.base_url, *self.replicas]

    def replica(self, base_url: str) -> LLMConfig:
        """This config for one API root alone (its messages name that endpoint)."""
        return self.model_copy(update={"base_url": base_url, "replicas": ()})

    @property
    def endpoint_hosts(self) -> list[str]:
        """``scheme://host[:port]`` of each endpoint, without credentials (provenance)."""
        return [self.replica(url).endpoint_host for url in self.base_urls]

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must name the model the server serves")
        return value

    @property
    def endpoint_host(self) -> str:
        """``scheme://host[:port]`` of the endpoint, without credentials or path (provenance)."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port is not None else ""
        return f"{parts.scheme}://{host}{port}"

    @property
    def display_url(self) -> str:
        """The base URL without any ``user:password@``, safe for messages and logs."""
        parts = urlsplit(self.base_url)
        return self.endpoint_host + parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def api_key_value(self) -> str:
        """The key to send. The openai client insists on one, so local servers get "EMPTY"."""
        return self.api_key.get_secret_value() if self.api_key is not None else "EMPTY"

    @classmethod
    def from_flags(
        cls,
        *,
        environ: Mapping[str, str],
        base_url: str | Sequence[str] | None = None,
        api_key: str | None = None,
        flag_names: Mapping[str, str] | None = None,
        **fields: Any,
    ) -> LLMConfig:
        """Builds the config from CLI flags, falling back to OPENAI_BASE_URL / OPENAI_API_KEY.

        ``base_url`` may list several API roots (``--base-url`` repeated): replicas of the
        same model that share the requests. Only the CLI calls this, passing ``os.environ``; a
        flag always wins over the environment. ``fields`` with value None are left at their defaults. Any invalid value
        becomes a one-line :class:`ConfigError` naming the flag.
        """
        urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
        urls = [url for url in urls if url] or [environ.get(BASE_URL_ENV) or ""]
        base_url, replicas = urls[0] or None, tuple(urls[1:])
        if base_url is None:
            raise ConfigError(
                f"no LLM endpoint given: pass --base-url URL or set {BASE_URL_ENV} "
                "(for example http://127.0.0.1:8000/v1)"
            )
        api_key = api_key or environ.get(API_KEY_ENV) or None
        values = {key: value for key, value in fields.items() if value is not None}
        try:
            return cls(base_url=base_url, replicas=replicas, api_key=api_key, **values)
        except ValidationError as exc:
            flags = {"replicas": "--base-url", **(flag_names or {})}
            message = describe_validation_error(exc, flags, secret={"api_key"})
            raise ConfigError(message) from None


def _check_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "must be an http(s) URL of an OpenAI-compatible API, such as http://127.0.0.1:8000/v1"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ValueError("the port in the URL is not a number between 0 and 65535") from None
    return value.rstrip("/")
