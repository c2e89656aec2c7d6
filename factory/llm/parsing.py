"""Getting JSON and code out of model replies that do not always follow instructions.

Many servers ignore ``response_format``; models then wrap JSON in fences or prose, and put
code in Markdown blocks. These functions accept the common shapes and fail with a short
reason (which callers can count and use to re-ask) rather than guess.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from sandbox.text import representable

# A fence opens at the start of a line with ``` plus an optional info string, and closes at
# the next line starting with ```. An unclosed fence (a truncated reply) runs to the end.
_FENCE = re.compile(
    r"^[ \t]*```[ \t]*(?P<tag>[\w+#.-]*)[^\n]*\n(?P<body>.*?)(?:^[ \t]*```[ \t]*$|\Z)",
    re.MULTILINE | re.DOTALL,
)
_PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})
_JSON_TAGS = frozenset({"json", "jsonc", "json5"})
_DECODER = json.JSONDecoder(strict=False)  # tolerate raw newlines/tabs inside strings


def parse_json_reply(text: str) -> dict[str, Any]:
    """The JSON object in a reply: the whole reply, a fenced block, or embedded in prose.

    Tried in that order; fenced blocks tagged ``json`` come before other fences. Raises
    ValueError with a short reason when no complete JSON object is found (empty reply,
    truncated JSON, a list instead of an object, no JSON at all).
    """
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise ValueError("empty reply")
    whole = _loads(stripped)
    if isinstance(whole, dict):
        return whole
    if whole is not None:
        raise ValueError(f"reply is JSON but not an object (got {type(whole).__name__})")
    blocks = [(match["tag"].lower(), match["body"]) for match in _FENCE.finditer(stripped)]
    blocks.sort(key=lambda block: block[0] not in _JSON_TAGS)  # stable: json-tagged first
    for _, body in blocks:
        value = _loads(body.strip())
        if isinstance(value, dict):
            return value
    found, truncated = _embedded_object(stripped)
    if found is not None:
        return found
    if truncated:
        raise ValueError("the JSON object is incomplete (reply truncated?)")
    raise ValueError("no JSON object found in the reply")


def _loads(text: str) -> Any | None:
    """The JSON value of ``text``, its strings made representable (JSON's lone surrogates
    could never be stored), or ``None`` if it is not JSON (or nests too deep to parse)."""
    try:
        return representable(_DECODER.decode(text))
    except (ValueError, RecursionError):
        return None


def _embedded_object(text: str) -> tuple[dict[str, Any] | None, bool]:
    """First balanced top-level ``{...}`` that parses as an object; else whether it was cut.

    Objects nested inside a broken or unclosed one are never returned: a fragment of a
    truncated reply is not the answer.
    """
    start = text.find("{")
    while start != -1:
        end = _matching_brace(text, start)
        if end is None:
            return None, True
        value = _loads(text[start : end + 1])
        if isinstance(value, dict):
            return value, False
        start = text.find("{", end + 1)
    return None, False


def _matching_brace(text: str, start: int) -> int | None:
    """Index of the brace closing the one at ``start``, skipping braces inside JSON strings."""
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def extract_code(text: str) -> str:
    """The code in a reply: the best fenced block, else the whole reply stripped.

    Among fenced blocks, ``python``/``py``-tagged ones win over untagged ones, which win
    over blocks tagged with another language; within the winning kind the longest block
    is taken. An unclosed fence (truncated reply) counts up to the end of the text. Without
    any fence the reply is returned stripped, prose included: a stray sentence then shows
    up as a syntax error the repair step can see, rather than being silently guessed away.
    The result is dedented and carries no leading blank lines or trailing whitespace.
    """
    best: tuple[int, int, str] | None = None
    for match in _FENCE.finditer(text):
        tag = match["tag"].lower()
        rank = 2 if tag in _PYTHON_TAGS else 1 if not tag else 0
        body = textwrap.dedent(match["body"]).strip("\n").rstrip()
        candidate = (rank, len(body), body)
        if body and (best is None or candidate[:2] > best[:2]):
            best = candidate
    if best is not None:
        return best[2]
    return text.strip()
