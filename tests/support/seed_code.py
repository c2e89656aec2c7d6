"""A small directory of real Python files to ground problems on, with what extraction must find.

Two useful functions, a class, a trivial one-liner, a copy of one function in another file,
and a function too big to inspire one exercise.
"""

from __future__ import annotations

from pathlib import Path

TEXT_UTILS = '''"""Text helpers."""

import re


def slugify(title: str) -> str:
    """Lower-case words joined by dashes."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)


def wrap_words(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines


def parse_pairs(text: str) -> dict[str, str]:
    pairs = {}
    for part in text.split(";"):
        key, _, value = part.partition("=")
        if key.strip():
            pairs[key.strip()] = value.strip()
    return pairs


def ident(x):
    return x
'''

INVENTORY = '''class Inventory:
    """Counts of items, never negative."""

    def __init__(self):
        self.counts = {}

    def add(self, item, n=1):
        self.counts[item] = self.counts.get(item, 0) + n

    def take(self, item, n=1):
        if self.counts.get(item, 0) < n:
            raise ValueError(f"not enough {item}")
        self.counts[item] -= n
'''

# the same function as in text_utils.py, indented differently: kept once
COPY = '''def slugify(title: str) -> str:
  """Lower-case words joined by dashes."""
  words = re.findall(r"[a-z0-9]+", title.lower())
  return "-".join(words)
'''

HUGE = "def huge(x):\n" + "".join(f"    x = x + {i}\n" for i in range(200)) + "    return x\n"

# usable snippets
USABLE = {"slugify", "wrap_words", "parse_pairs", "Inventory"}


def write_seed_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "text_utils.py").write_text(TEXT_UTILS)
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "inventory.py").write_text(INVENTORY)
    (root / "pkg" / "copy_of_slugify.py").write_text(COPY)
    (root / "huge.py").write_text(HUGE)
    (root / "notes.txt").write_text("not python")
    return root
