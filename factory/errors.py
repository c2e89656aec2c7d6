"""codefactory's user-facing errors. The CLI prints each as one line and exits non-zero.

Sandbox errors (Docker unreachable, image missing) live in ``sandbox.errors``, since the
sandbox never imports this package; the CLI treats both families alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class FactoryError(Exception):
    """Base class: bad input or a broken setup, said in one line with what to do."""


class ConfigError(FactoryError):
    """A flag, environment variable or config value is invalid."""


class InputFileError(FactoryError):
    """An input file is missing, unreadable or malformed (the message names file and line)."""


class LLMError(FactoryError):
    """The LLM endpoint failed in a way retries cannot fix."""


class LLMUnreachable(LLMError):
    """Nothing answers at the base URL."""


class LLMAuthError(LLMError):
    """The endpoint refused the API key (401/403)."""


class LLMModelNotFound(LLMError):
    """The endpoint does not serve the requested model (404)."""


class LLMRequestRejected(LLMError):
    """The endpoint refused one request as invalid (400/422, e.g. prompt too long).

    Other requests may still succeed, so callers can drop the one record and carry on.
    """


def describe_validation_error(
    exc: ValidationError, flag_names: Mapping[str, str], *, secret: Collection[str] = ()
) -> str:
    """The first error of ``exc`` as one line naming the flag the user typed.

    ``flag_names`` maps field paths or names to flags (``workers`` -> ``--workers``); other
    fields become ``--field-name``. The value given is echoed, except for ``secret`` fields.
    """
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]] or ["value"]
    name = loc[-1]
    flag = flag_names.get(".".join(loc)) or flag_names.get(name) or "--" + name.replace("_", "-")
    given = first.get("input")
    hidden = name in secret or given is None or isinstance(given, dict | list)
    shown = "" if hidden else f" (got {given!r})"
    return f"invalid {flag}{shown}: {first['msg'].removeprefix('Value error, ')}"
