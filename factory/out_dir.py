"""One ``--out`` directory holds the output of one set of settings.

``generate`` (the run fingerprint in its store) and ``eval model`` (``run.json``) both resume
into an existing ``--out``; both refuse to continue it with other settings, in the same words,
naming each setting that changed.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from factory.errors import ConfigError


def settings_changes(before: BaseModel, now: BaseModel, ignore: Collection[str] = ()) -> list[str]:
    """``generation.seed: 0 -> 7`` for each setting of ``now`` that differs from ``before``.

    A sub-model that is None on one side only is one change (``quality: off -> on``).
    """
    old, new = before.model_dump(mode="json"), now.model_dump(mode="json")
    for name in ignore:
        old.pop(name, None)
        new.pop(name, None)
    return _changes(old, new, "")


def refuse_changed_settings(
    out_dir: Path, changes: list[str], *, force_flag: str | None = None
) -> None:
    """Raises ConfigError naming ``changes`` (if any): what to do is rerun, or another --out."""
    if not changes:
        return
    forced = f", or pass {force_flag} to continue it with the new ones" if force_flag else ""
    raise ConfigError(
        f"{out_dir} was made with other settings ({', '.join(changes)}): rerun with the same "
        f"settings to resume it, or choose another --out{forced}"
    )


def _changes(before: Any, now: Any, path: str) -> list[str]:
    if isinstance(before, dict) and isinstance(now, dict):
        return [
            change
            for key in sorted(set(before) | set(now))
            for change in _changes(before.get(key), now.get(key), f"{path}.{key}" if path else key)
        ]
    return [] if before == now else [f"{path}: {_short(before)} -> {_short(now)}"]


def _short(value: Any) -> str:
    if value is None or isinstance(value, dict):
        return "on" if value else "off"  # a whole step switched on or off
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
