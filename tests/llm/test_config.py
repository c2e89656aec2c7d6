"""LLMConfig validation, the endpoint host recorded as provenance, and the CLI's env fallback."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from factory.errors import ConfigError
from factory.llm import LLMConfig


def test_defaults_and_placeholder_key():
    cfg = LLMConfig(base_url="http://127.0.0.1:8000/v1/", model=" m ")
    assert cfg.base_url == "http://127.0.0.1:8000/v1"
    assert cfg.model == "m"
    assert cfg.api_key is None
    assert cfg.api_key_value == "EMPTY"
    assert cfg.concurrency >= 1 and cfg.max_retries >= 0 and cfg.timeout_s > 0


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("base_url", "127.0.0.1:8000/v1", "http(s) URL"),
        ("base_url", "ftp://host/v1", "http(s) URL"),
        ("base_url", "http:///v1", "http(s) URL"),
        ("base_url", "http://host:99999/v1", "port"),
        ("model", "   ", "model"),
        ("model", "", "at least 1"),
        ("concurrency", 0, "greater than or equal to 1"),
        ("max_retries", -1, "greater than or equal to 0"),
        ("timeout_s", 0, "greater than 0"),
    ],
)
def test_invalid_values_are_refused(field, value, fragment):
    values = {"base_url": "http://127.0.0.1:8000/v1", "model": "m", field: value}
    with pytest.raises(ValidationError) as info:
        LLMConfig(**values)
    assert fragment in str(info.value)


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError):
        LLMConfig(base_url="http://h/v1", model="m", temprature=0.3)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000"),
        ("https://user:secret@api.example.com/v1?x=1", "https://api.example.com"),
        ("https://API.example.com:8443/openai/v1", "https://api.example.com:8443"),
        ("http://[::1]:9000/v1", "http://[::1]:9000"),
    ],
)
def test_endpoint_host_drops_credentials_and_path(url, host):
    assert LLMConfig(base_url=url, model="m").endpoint_host == host


def test_display_url_keeps_path_but_not_credentials():
    cfg = LLMConfig(base_url="https://user:pw@Host.example:8443/openai/v1?api-version=1", model="m")
    assert cfg.display_url == "https://host.example:8443/openai/v1?api-version=1"


def test_api_key_never_shows_in_repr():
    cfg = LLMConfig(base_url="http://h/v1", model="m", api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(cfg)
    assert "sk-very-secret" not in str(cfg.model_dump())
    assert cfg.api_key_value == "sk-very-secret"


def test_from_flags_prefers_flags_over_environment():
    environ = {"OPENAI_BASE_URL": "http://env:1/v1", "OPENAI_API_KEY": "env-key"}
    cfg = LLMConfig.from_flags(
        environ=environ, base_url="http://flag:2/v1", api_key="flag-key", model="m"
    )
    assert cfg.base_url == "http://flag:2/v1"
    assert cfg.api_key_value == "flag-key"


def test_from_flags_falls_back_to_environment_and_keeps_defaults_for_none():
    environ = {"OPENAI_BASE_URL": "http://env:1/v1", "OPENAI_API_KEY": "env-key"}
    cfg = LLMConfig.from_flags(environ=environ, model="m", concurrency=None, timeout_s=5)
    assert cfg.base_url == "http://env:1/v1"
    assert cfg.api_key_value == "env-key"
    assert cfg.concurrency == LLMConfig.model_fields["concurrency"].default
    assert cfg.timeout_s == 5


def test_from_flags_without_any_endpoint_says_what_to_do():
    with pytest.raises(ConfigError, match=r"--base-url.*OPENAI_BASE_URL"):
        LLMConfig.from_flags(environ={}, model="m")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            {"base_url": "localhost:8000"},
            "invalid --base-url (got 'localhost:8000'): must be an http",
        ),
        ({"concurrency": 0}, "invalid --concurrency (got 0)"),
        ({"model": " "}, "invalid --model"),
    ],
)
def test_from_flags_turns_bad_values_into_one_line_config_errors(flags, message):
    values = {"base_url": "http://h/v1", "model": "m", **flags}
    with pytest.raises(ConfigError) as info:
        LLMConfig.from_flags(environ={}, **values)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
