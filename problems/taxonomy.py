"""The taxonomy the proposer covers: topics with subtopics, and the difficulty levels.

The default lives next to this module (``taxonomy.toml``); ``--topics FILE`` swaps in a user's
own, in TOML or JSON with the same shape::

    name = "my-topics"
    difficulties = ["easy", "medium"]          # optional, default: all three
    [[topics]]
    name = "strings"
    description = "text manipulation"          # optional, shown to the model
    subtopics = ["palindromes", "tokenizing"]

Its hash goes into every record's provenance, so rows say which taxonomy they were drawn from.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from factory.errors import InputFileError

DEFAULT_TAXONOMY = Path(__file__).parent / "taxonomy.toml"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80)
    description: str = Field("", max_length=500)
    subtopics: tuple[str, ...] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("a topic name must not be blank")
        return name.strip()

    @field_validator("subtopics")
    @classmethod
    def _distinct_subtopics(cls, subtopics: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(sub.strip() for sub in subtopics)
        if any(not sub for sub in cleaned):
            raise ValueError("subtopics must not be blank")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("subtopics must be distinct")
        return cleaned


class Taxonomy(BaseModel):
    """Topics x difficulties: the cells the stratified plan covers evenly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("custom", min_length=1, max_length=80)
    difficulties: tuple[Difficulty, ...] = Field(tuple(Difficulty), min_length=1)
    topics: tuple[Topic, ...] = Field(min_length=1)

    @field_validator("topics")
    @classmethod
    def _distinct_topics(cls, topics: tuple[Topic, ...]) -> tuple[Topic, ...]:
        names = [topic.name for topic in topics]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"topic names must be distinct; repeated: {', '.join(duplicated)}")
        return topics

    @field_validator("difficulties")
    @classmethod
    def _distinct_difficulties(cls, levels: tuple[Difficulty, ...]) -> tuple[Difficulty, ...]:
        if len(set(levels)) != len(levels):
            raise ValueError("difficulties must be distinct")
        return levels

    @property
    def hash(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def topic(self, name: str) -> Topic:
        return next(topic for topic in self.topics if topic.name == name)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Reads and validates a taxonomy file (the default one when ``path`` is None).

    Raises:
        InputFileError: the file is missing, unreadable, not TOML/JSON, or not a valid
            taxonomy; the message names the file and the first problem.
    """
    path = path or DEFAULT_TAXONOMY
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputFileError(f"cannot read topics file {path}: {reason}") from None
    data = _parse(path, text)
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise InputFileError(
            f"invalid topics file {path}: {where}: {first['msg']} "
            "(expected topics = [{name, subtopics = [...]}, ...])"
        ) from None


def _parse(path: Path, text: str) -> object:
    if path.suffix.lower() == ".json":
        parsers = [_json]
    elif path.suffix.lower() == ".toml":
        parsers = [_toml]
    else:
        parsers = [_json, _toml]
    errors = []
    for parser in parsers:
        try:
            return parser(text)
        except ValueError as exc:
            errors.append(str(exc))
    raise InputFileError(f"invalid topics file {path}: {'; '.join(errors)}")


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno})") from None


def _toml(text: str) -> object:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not TOML ({exc})") from None
