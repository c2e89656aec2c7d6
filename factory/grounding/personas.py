"""Personas: the audiences or application domains problems are written for, one per slot.

A file of one persona a line (blank lines and ``#`` comments ignored), or a JSON list of
strings. The plan deals them like the topics, so any prefix of a run covers them evenly.
"""

from __future__ import annotations

import json
from pathlib import Path

from factory.errors import InputFileError

MAX_PERSONA_CHARS = 300


def load_personas(path: Path) -> tuple[str, ...]:
    if not path.is_file():
        raise InputFileError(f"--personas {path} not found: give a file of one persona a line")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"--personas {path}: not JSON ({exc.msg})") from None
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise InputFileError(f"--personas {path}: a JSON file must be a list of strings")
    else:
        items = [line for line in text.splitlines() if not line.strip().startswith("#")]
    personas = tuple(dict.fromkeys(" ".join(item.split()) for item in items if item.strip()))
    if not personas:
        raise InputFileError(f"--personas {path} names no persona: write one a line")
    too_long = [persona for persona in personas if len(persona) > MAX_PERSONA_CHARS]
    if too_long:
        raise InputFileError(
            f"--personas {path}: a persona is over {MAX_PERSONA_CHARS} characters "
            f"({too_long[0][:40]!r}...): describe each in one short line"
        )
    return personas
