"""Seed snippets from real code: read, cut into functions, classes or windows, filtered, deduped.

A problem grounded on a snippet (OSS-Instruct, SelfCodeAlign) is drawn from code someone
actually wrote, so the dataset covers what real programs do rather than only what the model
thinks of first. Sources, each given with ``--seed-code`` (repeatable):

- a directory: every ``*.py`` under it, in path order;
- a JSONL file: one object a line, its code in ``--seed-column`` (``content`` by default),
  with an optional ``licence``/``license`` field and ``path``;
- a Hugging Face dataset saved with ``save_to_disk`` (its ``train`` split, or its only one):
  the code in ``--seed-column``, the licence from a ``licence``/``license`` column.

tree-sitter cuts each file into its top-level functions and classes (a file with neither into
windows of lines); snippets with fewer than ``MIN_LINES`` lines of code are trivial, those
over ``MAX_LINES`` lines or ``MAX_CHARS`` characters too big to inspire one exercise, and
copies (same code up to indentation and blank lines) are kept once. With a decontaminator,
a snippet that copies a benchmark task is skipped and counted: a problem grounded on it
would teach the benchmark.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory.errors import ConfigError, InputFileError
from factory.hygiene.base import RowText
from problems.snippet import Snippet

MIN_LINES = 4
MAX_LINES = 120
MAX_CHARS = 6000
WINDOW_LINES = 30
DEFAULT_COLUMN = "content"
LICENCE_FIELDS = ("licence", "license")


@dataclass
class SeedPool:
    """The snippets of a run's sources, and what was left out of them and why."""

    snippets: tuple[Snippet, ...]
    sources: list[str]  # "<name>@<content hash>" of each source, for the run fingerprint
    skipped: Counter[str] = field(default_factory=Counter)  # trivial, huge, duplicate, benchmark


def load_seed_pool(
    paths: list[Path], column: str = DEFAULT_COLUMN, decontaminator: Any = None
) -> SeedPool:
    """Every usable snippet of ``paths``; raises a one-line error for a missing or empty source."""
    skipped: Counter[str] = Counter()
    seen: set[str] = set()
    snippets: list[Snippet] = []
    sources: list[str] = []
    for path in paths:
        digest = hashlib.sha256()
        for code, source, licence in _read_source(path, column):
            digest.update(code.encode() + b"\0")
            for kind, name, text in extract_snippets(code):
                reason = _too_trivial_or_huge(text)
                key = _dedup_key(text)
                if reason is None and key in seen:
                    reason = "duplicate"
                if reason is None and decontaminator is not None:
                    drop = decontaminator.check(RowText(id=source, description="", solution=text))
                    reason = "benchmark" if drop is not None else None
                if reason is not None:
                    skipped[reason] += 1
                    continue
                seen.add(key)
                snippets.append(
                    Snippet(
                        code=text,
                        source=source,
                        sha256=hashlib.sha256(text.encode()).hexdigest(),
                        kind=kind,
                        name=name,
                        licence=licence,
                    )
                )
        sources.append(f"{path.name}@{digest.hexdigest()[:16]}")
    if not snippets:
        why = ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))
        raise ConfigError(
            f"--seed-code {' '.join(map(str, paths))} gave no usable snippet"
            f"{f' (skipped: {why})' if why else ''}: give Python files with functions or "
            f"classes of {MIN_LINES} to {MAX_LINES} lines"
        )
    return SeedPool(tuple(snippets), sources, skipped)


def extract_snippets(source: str) -> list[tuple[str, str, str]]:
    """(kind, name, code) of each top-level function and class; windows when there are none."""
    from factory.quality.tree import parse, text

    tree = parse(source)
    found: list[tuple[str, str, str]] = []
    for node in tree.root_node.children:
        definition = node
        if node.type == "decorated_definition":
            definition = node.child_by_field_name("definition") or node
        kind = {"function_definition": "function", "class_definition": "class"}.get(definition.type)
        if kind is None:
            continue
        name_node = definition.child_by_field_name("name")
        found.append((kind, text(name_node) if name_node else "", text(node).strip("\n") + "\n"))
    if found:
        return found
    lines = [line for line in source.splitlines() if line.strip()]
    return [
        ("window", "", "\n".join(lines[start : start + WINDOW_LINES]) + "\n")
        for start in range(0, len(lines), WINDOW_LINES)
    ]


def _too_trivial_or_huge(code: str) -> str | None:
    lines = [
        line for line in code.splitlines() if line.strip() and not line.strip().startswith("#")
    ]
    if len(lines) < MIN_LINES:
        return "trivial"
    if len(lines) > MAX_LINES or len(code) > MAX_CHARS:
        return "huge"
    return None


def _dedup_key(code: str) -> str:
    lines = (line.strip() for line in code.splitlines())
    return hashlib.sha256("\n".join(line for line in lines if line).encode()).hexdigest()


def _read_source(path: Path, column: str) -> Iterator[tuple[str, str, str]]:
    """(code, source, licence) of each file or row of one ``--seed-code`` source."""
    if not path.exists():
        raise InputFileError(
            f"--seed-code {path} not found: give a directory of .py files, a JSONL file or a "
            "saved dataset"
        )
    if path.is_dir() and not _is_saved_dataset(path):
        files = sorted(path.rglob("*.py"))
        if not files:
            raise InputFileError(f"--seed-code {path} holds no .py file")
        for file in files:
            try:
                code = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # a binary or unreadable file is not a seed
            yield code, f"{path.name}/{file.relative_to(path)}", ""
    elif path.is_dir():
        yield from _dataset_rows(path, column)
    else:
        yield from _jsonl_rows(path, column)


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file() or (path / "dataset_info.json").is_file()


def _jsonl_rows(path: Path, column: str) -> Iterator[tuple[str, str, str]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputFileError(f"{path}:{number}: not JSON ({exc.msg})") from None
            code = row.get(column) if isinstance(row, dict) else None
            if not isinstance(code, str):
                raise InputFileError(
                    f"{path}:{number}: no string field {column!r} (choose it with --seed-column)"
                )
            yield code, f"{path.name}#{number}", _licence(row)


def _dataset_rows(path: Path, column: str) -> Iterator[tuple[str, str, str]]:
    import datasets

    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        loaded = loaded["train"] if "train" in loaded else next(iter(loaded.values()))
    if column not in loaded.column_names:
        raise InputFileError(
            f"--seed-code {path} has no column {column!r} (it has {loaded.column_names}): "
            "choose it with --seed-column"
        )
    for index, row in enumerate(loaded):
        if isinstance(row[column], str):
            yield row[column], f"{path.name}#{index}", _licence(row)


def _licence(row: dict[str, Any]) -> str:
    for name in LICENCE_FIELDS:
        if isinstance(row.get(name), str):
            return row[name]
    return ""
