"""``codefactory export`` and ``label``: a dataset in a trainer's format, and a solver model's
pass rate per row (the difficulty signal the exports filter on)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from factory.cli.common import build_config, fail, stderr
from factory.cli.eval_cmd import (
    EVAL_CPU_TIMEOUT_S,
    EVAL_MEMORY_MB,
    EVAL_TIMEOUT_S,
    SampleMaxTokens,
    SampleTemperature,
    _eval_config,
    _Reporter,
)
from factory.cli.options import (
    MODEL,
    ApiKey,
    BaseUrl,
    Concurrency,
    CpuTimeout,
    Memory,
    ModelName,
    Timeout,
    Workers,
)
from factory.training.labels import SOLVER_SAMPLES

Directory = Annotated[
    Path, typer.Argument(help="The --out directory of `codefactory generate`.", show_default=False)
]
Format = Annotated[
    str,
    typer.Option(
        "--format",
        help="sft (TRL conversational), rl (TRL prompt-only + verification_info) or verl.",
    ),
]


def export(
    directory: Directory,
    fmt: Format,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Where to write: *.parquet, *.jsonl, or a directory (save_to_disk).",
            show_default=False,
        ),
    ],
    split: Annotated[str, typer.Option("--split", help="train or rejected.")] = "train",
    min_pass_rate: Annotated[
        float | None,
        typer.Option("--min-pass-rate", help="Keep rows the solver passes at least this often."),
    ] = None,
    max_pass_rate: Annotated[
        float | None,
        typer.Option("--max-pass-rate", help="Keep rows the solver passes at most this often."),
    ] = None,
    with_tests: Annotated[
        bool, typer.Option("--with-tests", help="sft: the tests as a second file in the answer.")
    ] = False,
) -> None:
    """Write DIR's rows in a trainer's format (pass-rate filters need `codefactory label`)."""
    from factory.training.export import ExportConfig, export_training

    _need_dir(directory)
    config = build_config(
        ExportConfig,
        {
            "format": "--format",
            "split": "--split",
            "min_pass_rate": "--min-pass-rate",
            "max_pass_rate": "--max-pass-rate",
            "with_tests": "--with-tests",
        },
        format=fmt,
        out=out,
        split=split,
        min_pass_rate=min_pass_rate,
        max_pass_rate=max_pass_rate,
        with_tests=with_tests,
    )
    result = export_training(directory, config)
    print(result.model_dump_json())
    stderr.print(f"wrote {result.rows} {config.format} rows to {result.out}")


def label(
    directory: Directory,
    base_url: BaseUrl = None,
    model_name: ModelName = None,
    api_key: ApiKey = None,
    concurrency: Concurrency = None,
    n: Annotated[
        int, typer.Option("--n", help="Solver samples per row.", rich_help_panel=MODEL)
    ] = SOLVER_SAMPLES,
    temperature: SampleTemperature = None,
    max_tokens: SampleMaxTokens = None,
    workers: Workers = None,
    timeout: Timeout = EVAL_TIMEOUT_S,
    cpu_timeout: CpuTimeout = EVAL_CPU_TIMEOUT_S,
    memory: Memory = EVAL_MEMORY_MB,
) -> None:
    """Sample a solver model on every train row, judge the samples in the sandbox, and store
    each row's pass rate and difficulty in DIR/label/ (resumable)."""
    from factory.evaluate.model_eval import SamplingConfig
    from factory.llm import LLMConfig
    from factory.training.label import label_dataset
    from sandbox.aio import run as run_async

    _need_dir(directory)
    llm_config = LLMConfig.from_flags(
        environ=os.environ,
        base_url=base_url,
        api_key=api_key,
        model=model_name,
        concurrency=concurrency,
    )
    sampling = build_config(
        SamplingConfig,
        {"n": "--n", "temperature": "--temperature", "max_tokens": "--max-tokens"},
        n=n,
        temperature=temperature,
        max_tokens=max_tokens,
    )
    eval_config = _eval_config("1", workers, (timeout, cpu_timeout), memory)
    reporter = _Reporter()
    with reporter:
        _, labels = run_async(
            label_dataset(
                directory,
                llm_config,
                sampling,
                eval_config,
                progress=reporter,
                generation_progress=reporter,
            )
        )
    counts = {name: 0 for name in ("easy", "medium", "hard", "unjudged")}
    for row in labels:
        counts[row.difficulty or "unjudged"] += 1
    import json

    print(json.dumps({"rows": len(labels), **counts}))


def _need_dir(directory: Path) -> None:
    if not directory.is_dir():
        fail(f"{directory} is not a directory: give the --out directory of `codefactory generate`")
