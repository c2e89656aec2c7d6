"""A solver model's pass rate per row, and the difficulty it implies.

``codefactory label DIR`` samples ``n`` solutions per train row from a solver model and judges
them against the row's tests; what it learns is kept beside the dataset in ``DIR/label/``
(``labels.jsonl``, one :class:`RowLabel` per row, next to the samples and results it came
from), never inside the rows themselves, so labelling a dataset changes nothing a run wrote and
a relabel with another solver starts from an empty ``DIR/label``.

Difficulty uses KodCode's cut-offs on the pass rate: ``easy`` when at least 2/3 of the samples
pass, ``hard`` below 1/3, ``medium`` between.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from factory.atomic import write_text_atomically
from factory.errors import ConfigError

LABEL_DIR = "label"
LABELS_FILE = "labels.jsonl"
EASY_AT_LEAST = 2 / 3  # KodCode's cut-offs
HARD_BELOW = 1 / 3
SOLVER_SAMPLES = 8  # `label --n`: enough for the cut-offs to mean something, cheap enough

LabelDifficulty = Literal["easy", "medium", "hard"]


class RowLabel(BaseModel):
    """What the solver made of one row: ``passes`` of ``n`` judged samples passed."""

    model_config = ConfigDict(extra="forbid")

    id: str
    solver: str = Field(description="the solver model's name")
    n: int = Field(description="samples judged (sandbox errors left out)")
    passes: int
    pass_rate: float | None = Field(description="passes / n; None when nothing was judged")
    difficulty: LabelDifficulty | None


def difficulty_of(pass_rate: float | None) -> LabelDifficulty | None:
    if pass_rate is None:
        return None
    if pass_rate >= EASY_AT_LEAST:
        return "easy"
    return "hard" if pass_rate < HARD_BELOW else "medium"


def row_label(row_id: str, solver: str, n: int, passes: int) -> RowLabel:
    rate = passes / n if n else None
    return RowLabel(
        id=row_id, solver=solver, n=n, passes=passes, pass_rate=rate, difficulty=difficulty_of(rate)
    )


def labels_path(dataset_dir: Path) -> Path:
    return dataset_dir / LABEL_DIR / LABELS_FILE


def write_labels(dataset_dir: Path, labels: Iterable[RowLabel]) -> Path:
    path = labels_path(dataset_dir)
    text = "".join(label.model_dump_json() + "\n" for label in labels)
    write_text_atomically(path, text)
    return path


def read_labels(dataset_dir: Path) -> dict[str, RowLabel]:
    """The rows' labels by id; empty when the dataset was never labelled."""
    path = labels_path(dataset_dir)
    if not path.is_file():
        return {}
    labels: dict[str, RowLabel] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            label = RowLabel.model_validate(json.loads(line))
        except ValueError as exc:
            raise ConfigError(
                f"{path}:{number} is not a label line ({str(exc).splitlines()[0]}): "
                "run `codefactory label` again to rewrite it"
            ) from None
        labels[label.id] = label
    return labels


def pass_rate_histogram(labels: Iterable[RowLabel], bins: int = 10) -> list[int]:
    """Rows per pass-rate bin [0, 0.1), ..., [0.9, 1.0] (unjudged rows left out)."""
    counts = [0] * bins
    for label in labels:
        if label.pass_rate is not None:
            counts[min(int(label.pass_rate * bins), bins - 1)] += 1
    return counts
