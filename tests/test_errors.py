"""One line per invalid setting: the flag the user typed, what they gave, what is wrong."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from factory.errors import describe_validation_error


class Settings(BaseModel):
    workers: int = Field(1, ge=1)
    token: str = ""

    @field_validator("token")
    @classmethod
    def _token(cls, token: str) -> str:
        if token.startswith("bad"):
            raise ValueError("is not a token")
        return token


class Outer(BaseModel):
    inner: Settings


def error(model: type[BaseModel], **values) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        model(**values)
    return info.value


def test_names_the_flag_and_echoes_the_value():
    line = describe_validation_error(error(Settings, workers=0), {"workers": "--jobs"})
    assert line == "invalid --jobs (got 0): Input should be greater than or equal to 1"


def test_a_field_without_a_flag_name_becomes_one_and_pydantic_prefixes_go():
    line = describe_validation_error(error(Settings, token="bad-1"), {})
    assert line == "invalid --token (got 'bad-1'): is not a token"


def test_a_secret_is_never_echoed():
    line = describe_validation_error(error(Settings, token="bad-secret"), {}, secret={"token"})
    assert "bad-secret" not in line and line == "invalid --token: is not a token"


def test_a_nested_field_is_looked_up_by_its_path_first():
    flags = {"inner.workers": "--inner-workers", "workers": "--workers"}
    line = describe_validation_error(error(Outer, inner={"workers": 0}), flags)
    assert line.startswith("invalid --inner-workers (got 0)")
