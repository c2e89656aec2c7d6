"""Helpers shared by the CLI commands: building validated configs and reporting errors."""

from __future__ import annotations

import sys
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError
from rich.console import Console

from factory.errors import ConfigError, describe_validation_error

M = TypeVar("M", bound=BaseModel)

stderr = Console(stderr=True)
_results = None


def results():
    """Where a command writes its result (JSON on stdout): the process's real stdout, even
    while :func:`library_stdout_to_stderr` has pointed ``sys.stdout`` elsewhere."""
    return _results or sys.stdout


def library_stdout_to_stderr() -> None:
    """Points ``sys.stdout`` at stderr for the rest of the run, keeping the real stdout for
    :func:`results`. Ray's driver prints what the cluster reports (a node marked dead, say)
    on ``sys.stdout`` from a thread of its own; that must not land inside the JSON a command
    prints for a pipe or a file."""
    global _results
    if _results is None:
        _results = sys.stdout
        sys.stdout = sys.stderr


def build_config(model: type[M], flag_names: dict[str, str] | None = None, **values: Any) -> M:
    """Validates ``values`` into ``model``; a bad value becomes a one-line ConfigError.

    ``flag_names`` maps field paths to the CLI flag the user typed (``workers`` -> ``--workers``),
    so the message names what the user can change.
    """
    try:
        return model(**{key: value for key, value in values.items() if value is not None})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, flag_names or {})) from None


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)
