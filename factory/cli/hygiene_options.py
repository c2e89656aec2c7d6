"""``generate``'s dedup and decontamination flags, and the config they build."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from factory.cli.common import build_config

DedupThreshold = Annotated[
    float,
    typer.Option(
        "--dedup-threshold",
        help="MinHash Jaccard similarity at which an accepted row counts as a near duplicate.",
    ),
]
NoDedup = Annotated[bool, typer.Option("--no-dedup", help="Keep duplicate rows.")]
Decontaminate = Annotated[
    bool,
    typer.Option(
        "--decontaminate/--no-decontaminate",
        help="Drop rows that copy a HumanEval task (and --mbpp / --benchmark-file tasks).",
    ),
]
Mbpp = Annotated[
    list[Path] | None,
    typer.Option(
        "--mbpp",
        help="MBPP copy to decontaminate against (mbpp.jsonl or sanitized-mbpp.json); repeatable.",
    ),
]
BenchmarkFile = Annotated[
    list[Path] | None,
    typer.Option(
        "--benchmark-file",
        help="Your own benchmark (JSONL or JSON: task_id, description, solution); repeatable.",
    ),
]


def hygiene_config(
    dedup_threshold: float,
    no_dedup: bool,
    decontaminate: bool,
    mbpp: list[Path] | None,
    benchmark_files: list[Path] | None,
):
    from factory.hygiene.decontam import DecontaminationConfig
    from factory.hygiene.dedup import DedupConfig
    from factory.hygiene.stage import HygieneConfig

    dedup = build_config(
        DedupConfig,
        {"threshold": "--dedup-threshold"},
        enabled=not no_dedup,
        threshold=dedup_threshold,
    )
    decontamination = build_config(
        DecontaminationConfig,
        {"mbpp": "--mbpp", "benchmark_files": "--benchmark-file"},
        enabled=decontaminate,
        mbpp=mbpp or [],
        benchmark_files=benchmark_files or [],
    )
    return HygieneConfig(dedup=dedup, decontamination=decontamination)
