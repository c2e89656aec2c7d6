"""Replacing a file so that a reader, or a run killed half-way, sees the old or the new one.

The text goes to a temporary file next to the target (same directory, so the same
filesystem), is flushed to disk, and is renamed over the target with ``os.replace``, which is
atomic on POSIX. A leftover ``.tmp`` from a killed writer is simply overwritten next time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_text_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_json_atomically(path: Path, value: Any) -> None:
    write_text_atomically(path, json.dumps(value))
