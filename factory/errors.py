"""codefactory's user-facing errors. The CLI prints each as one line and exits non-zero.

Sandbox errors (Docker unreachable, image missing) live in ``sandbox.errors``, since the
sandbox never imports this package; the CLI treats both families alike.
"""

from __future__ import annotations


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
