"""Making text representable: every string that crosses the sandbox's boundary passes here once.

JSON can carry what no UTF-8 file can hold: a lone UTF-16 surrogate (``"\\ud800"``) parses into a
Python ``str`` that every later ``encode()`` and ``model_dump_json()`` refuses. A job can put one
into anything it reports (an exception message, a test name, its output), and a caller can put
one into a job's own texts; left in, it would stop whatever later writes the result (a batch, an
evaluation, a generation run). So each such code point is replaced with U+FFFD, the Unicode
replacement character, where the text enters: the worker's replies as the host parses them, the
job's fields as the :class:`~sandbox.models.Job` is validated.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def representable(value: Any) -> Any:
    """``value`` with every lone surrogate in every string (keys too, at any depth) replaced;
    anything but text and containers of it is returned as it is."""
    if isinstance(value, str):
        if value.isascii() or not _SURROGATE.search(value):  # isascii: in C, at memory speed
            return value
        return _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, list):
        return [representable(item) for item in value]
    if isinstance(value, tuple):
        return tuple(representable(item) for item in value)
    if isinstance(value, dict):
        return {representable(key): representable(item) for key, item in value.items()}
    return value
