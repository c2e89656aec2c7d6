"""The options that steer ``generate`` (seed code, personas, focus, judge), each declared once.

Their defaults are ``GenerateConfig``'s; all are off unless given, so a run without them is
the run it always was. Shown in their own help panels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SEEDS = "Seed code"
STEERING = "Steering"

SeedCode = Annotated[
    list[Path] | None,
    typer.Option(
        "--seed-code",
        help="Real code to ground problems on: a directory of .py files, a JSONL of snippets "
        "or a saved dataset; repeatable. Each problem gets one snippet.",
        rich_help_panel=SEEDS,
    ),
]
SeedColumn = Annotated[
    str,
    typer.Option(
        "--seed-column", help="The code column of a JSONL or dataset source.", rich_help_panel=SEEDS
    ),
]
SeedStyle = Annotated[
    str,
    typer.Option(
        "--seed-style",
        help="snippet: the snippet inspires the problem; concepts: its concepts are asked "
        "for first and the problem built on them.",
        rich_help_panel=SEEDS,
    ),
]
SeedReuse = Annotated[
    bool,
    typer.Option(
        "--seed-reuse",
        help="Use snippets again once each was used (default: each once per run).",
        rich_help_panel=SEEDS,
    ),
]
Personas = Annotated[
    Path | None,
    typer.Option(
        "--personas",
        help="A file of audiences or application domains, one a line; dealt like topics.",
        rich_help_panel=STEERING,
    ),
]
Focus = Annotated[
    Path | None,
    typer.Option(
        "--focus",
        help="Results of `eval dataset` (JSONL) or `eval model` (its --out) on a codefactory "
        "dataset: more problems where the model failed, its failures as examples.",
        rich_help_panel=STEERING,
    ),
]
FocusDataset = Annotated[
    Path | None,
    typer.Option(
        "--focus-dataset",
        help="The dataset the --focus results were computed on.",
        show_default="--out",
        rich_help_panel=STEERING,
    ),
]
JudgeModel = Annotated[
    str | None,
    typer.Option(
        "--judge-model",
        help="A model that rates each accepted problem 1-5 on a rubric; below "
        "--min-judge-score it goes to `rejected` with the judge's reason.",
        rich_help_panel=STEERING,
    ),
]
JudgeBaseUrl = Annotated[
    str | None,
    typer.Option(
        "--judge-base-url",
        help="The judge's API root.",
        show_default="--base-url",
        rich_help_panel=STEERING,
    ),
]
MinJudgeScore = Annotated[
    int,
    typer.Option(
        "--min-judge-score", help="The judge's score a problem needs.", rich_help_panel=STEERING
    ),
]
