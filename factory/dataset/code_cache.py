"""Normalised solutions kept beside a dataset, so that the card, the report and a push after
``stats --diversity`` do not normalise every solution again (about a millisecond a row).

``DIR/cache/normalised-code/<key>.json`` maps the sha256 of each solution to its normalised
form. The key is the digest of the normaliser's own source and the Python version (the form is
printed by ``ast.unparse``, whose output can change between versions), so a changed normaliser
never serves an old form. Written atomically; an unwritable directory only costs the time.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from factory.atomic import write_text_atomically
from factory.hygiene import normalise

CACHE_DIR = Path("cache") / "normalised-code"


def normaliser_key() -> str:
    source = Path(normalise.__file__).read_bytes()
    version = f"{sys.version_info.major}.{sys.version_info.minor}".encode()
    return hashlib.sha256(source + b"\0" + version).hexdigest()[:16]


def cached_forms(
    solutions: Sequence[str],
    directory: Path,
    compute: Callable[[Sequence[str]], list[str]],
    key: str | None = None,
) -> list[str]:
    """The normalised form of each solution: read from ``directory``'s cache, the rest from
    ``compute`` (then stored)."""
    path = Path(directory) / CACHE_DIR / f"{key or normaliser_key()}.json"
    try:
        stored: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        stored = {}
    digests = [hashlib.sha256(source.encode()).hexdigest() for source in solutions]
    missing = {d: s for d, s in zip(digests, solutions, strict=True) if d not in stored}
    if missing:
        stored.update(zip(missing, compute(list(missing.values())), strict=True))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomically(path, json.dumps(stored))
        except OSError:
            pass
    return [stored[d] for d in digests]
