"""The shapes of the worker's replies, shared by the worker (in the image) and the host.

The runner ships in the image with the standard library only, so the shapes are ``TypedDict``s:
the worker builds its replies with them, and the host (``sandbox/container.py``) checks every
reply it receives against them with :func:`check_reply` before anything reads a field, so a
reply of the wrong shape is named as such instead of surfacing later as a ``KeyError``.
"""

from __future__ import annotations

import types
from typing import Any, Literal, TypedDict, Union, get_args, get_origin, get_type_hints


class PongReply(TypedDict):
    """The reply to ``{"op": "ping"}``: the worker is up and its zygote forked."""

    op: Literal["pong"]
    pid: int
    zygote: int | None
    python: str
    pytest: str


class ResultReply(TypedDict):
    """The raw facts about one job, from which the host decides the verdict.

    ``events`` are the job process's own report lines (their token checked and removed), each
    still to be validated by the host: the job process runs untrusted code and may have written
    anything the token allows.
    """

    op: Literal["result"]
    id: str
    events: list[dict[str, Any]]
    events_tampered: bool
    events_overflow: bool
    events_limit_bytes: int
    timed_out: bool
    oom_killed: bool
    exit_code: int | None
    signal: int | None
    stdout: str
    stderr: str
    stdout_bytes: int
    stderr_bytes: int
    duration_s: float
    dirty: str
    limit: Literal["cpu", "wall"] | None  # which clock ended the job, if one did
    cpu_s: float  # CPU seconds of all the job's processes, by the kernel's count
    cpu_timeout_s: float


class ErrorReply(TypedDict, total=False):
    """The worker's own failure on a request (never a job's verdict)."""

    op: Literal["error"]
    message: str
    traceback: str


Reply = PongReply | ResultReply | ErrorReply

REPLY_TYPES: dict[str, type] = {"pong": PongReply, "result": ResultReply, "error": ErrorReply}


class MalformedReply(ValueError):
    """A reply that does not have the shape its ``op`` promises."""


def check_reply(reply: Any) -> Reply:
    """Returns ``reply`` if it has the shape of one of the replies above, else raises
    :class:`MalformedReply` saying which field is wrong. Extra fields are refused too."""
    if not isinstance(reply, dict):
        raise MalformedReply(f"a reply must be a JSON object, not {type(reply).__name__}")
    shape = REPLY_TYPES.get(reply.get("op"))  # type: ignore[arg-type]
    if shape is None:
        raise MalformedReply(f"unknown reply op {reply.get('op')!r}")
    hints = get_type_hints(shape)
    required = shape.__required_keys__  # type: ignore[attr-defined]
    missing = sorted(required - reply.keys())
    if missing:
        raise MalformedReply(f"{reply['op']} reply lacks {', '.join(missing)}")
    extra = sorted(reply.keys() - hints.keys())
    if extra:
        raise MalformedReply(f"{reply['op']} reply has unexpected {', '.join(extra)}")
    for name, value in reply.items():
        if not _matches(value, hints[name]):
            raise MalformedReply(
                f"{reply['op']} reply field {name!r} has the wrong type ({type(value).__name__})"
            )
    return reply  # type: ignore[return-value]


def _matches(value: Any, hint: Any) -> bool:
    """A small structural check of JSON values against the hints used above."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return value in args
    if origin in (Union, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if origin is list:
        return isinstance(value, list) and all(_matches(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(key, str) for key in value)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):  # JSON has one number type; a bool is not one
        return isinstance(value, int | hint) and not isinstance(value, bool)
    return isinstance(value, hint)
