"""Hand-written seed problems: the few-shot examples shown to the model.

Each seed is one TOML file in ``problems/seeds/`` with the same fields a generated problem has,
plus a reference solution and its pytest file. The test suite runs every seed in the real
sandbox, so the examples the model imitates are themselves verified.
"""

from __future__ import annotations

import keyword
import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from factory.errors import InputFileError
from problems.taxonomy import Difficulty

SEEDS_DIR = Path(__file__).parent / "seeds"


class SeedProblem(BaseModel):
    """A verified example problem: the statement fields, a solution and pytest tests."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=3)
    topic: str
    subtopic: str
    difficulty: Difficulty
    entry_point: str
    signature: str
    description: str = Field(min_length=20)
    solution: str
    tests: str

    @field_validator("description", "solution", "tests", "signature")
    @classmethod
    def _trim(cls, text: str) -> str:
        return text.strip("\n") + "\n" if "\n" in text.strip() else text.strip()

    @model_validator(mode="after")
    def _consistent(self) -> SeedProblem:
        if not self.entry_point.isidentifier() or keyword.iskeyword(self.entry_point):
            raise ValueError(f"entry_point {self.entry_point!r} is not a Python identifier")
        if not self.signature.startswith(f"def {self.entry_point}("):
            raise ValueError("signature must start with 'def <entry_point>('")
        if f"from solution import {self.entry_point}" not in self.tests:
            raise ValueError(f"tests must do 'from solution import {self.entry_point}'")
        return self

    def statement(self) -> dict[str, str]:
        """The fields the problem stage returns, as an example of its output."""
        return {
            "title": self.title,
            "description": self.description.strip(),
            "entry_point": self.entry_point,
            "signature": self.signature,
            "difficulty": self.difficulty.value,
            "topic": self.topic,
        }


def load_seeds(directory: Path = SEEDS_DIR) -> tuple[SeedProblem, ...]:
    """Loads every ``*.toml`` seed in ``directory``, sorted by id (a stable order to sample from)."""
    return _load(directory.resolve())


@cache
def _load(directory: Path) -> tuple[SeedProblem, ...]:
    seeds = []
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            seeds.append(SeedProblem.model_validate(data))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputFileError(f"cannot read seed problem {path}: {exc}") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InputFileError(f"invalid seed problem {path}: {first['msg']}") from None
    ids = [seed.id for seed in seeds]
    if len(set(ids)) != len(ids):
        raise InputFileError(f"seed problem ids in {directory} must be distinct")
    return tuple(sorted(seeds, key=lambda seed: seed.id))
