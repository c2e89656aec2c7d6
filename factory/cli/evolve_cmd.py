"""``codefactory evolve``: harder variants of a dataset's accepted problems, verified the same way."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from factory.cli.common import build_config, stderr
from factory.cli.options import (
    ApiKey,
    BaseUrl,
    BenchmarkFile,
    Concurrency,
    CpuTimeout,
    Decontaminate,
    DedupThreshold,
    ForceConfig,
    Image,
    MaxMutants,
    MaxReasks,
    MaxRepairs,
    MaxRetries,
    MaxTokens,
    Mbpp,
    Memory,
    MinAsserts,
    MinCoverage,
    MinMutationScore,
    MinTests,
    ModelName,
    MutantTimeout,
    NoDedup,
    NoForgeryGate,
    NoGates,
    RequestTimeout,
    Seed,
    Temperature,
    Timeout,
    Workers,
    defaults,
    hygiene_config,
    pool_config,
    quality_config,
)
from factory.hygiene.decontam import DecontaminationConfig
from factory.hygiene.dedup import DedupConfig
from factory.pipeline.config import GenerateConfig
from factory.quality.config import QualityConfig

EVOLVE = "Evolve"
RUN = defaults(GenerateConfig)
QUALITY = defaults(QualityConfig)
DEDUP = defaults(DedupConfig)
DECONTAMINATION = defaults(DecontaminationConfig)
OPERATOR_NAMES = "constraint, rarer, reasoning, complexity, widen"

Source = Annotated[
    Path, typer.Argument(help="A dataset of `codefactory generate` (its --out directory).")
]
EvolveOut = Annotated[
    Path,
    typer.Option(
        "--out", help="Output directory for the variants (a rerun resumes it).",
        rich_help_panel=EVOLVE,
    ),
]  # fmt: skip
Rounds = Annotated[
    int,
    typer.Option(
        "--rounds", help="Rounds: round k rewrites the variants round k-1 accepted.",
        rich_help_panel=EVOLVE,
    ),
]  # fmt: skip
Operators = Annotated[
    list[str] | None,
    typer.Option(
        "--operators",
        help=f"Operators to draw from (repeatable or comma-separated): {OPERATOR_NAMES}.",
        show_default="all",
        rich_help_panel=EVOLVE,
    ),
]


def evolve(
    source: Source,
    out: EvolveOut,
    model: ModelName,
    rounds: Rounds = 1,
    operators: Operators = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    concurrency: Concurrency = None,
    temperature: Temperature = RUN.temperature,
    max_tokens: MaxTokens = RUN.max_tokens,
    request_timeout: RequestTimeout = None,
    max_retries: MaxRetries = None,
    seed: Seed = RUN.seed,
    max_repairs: MaxRepairs = RUN.max_repairs,
    max_reasks: MaxReasks = RUN.max_reasks,
    workers: Workers = None,
    timeout: Timeout = RUN.sandbox.limits.timeout_s,
    cpu_timeout: CpuTimeout = RUN.sandbox.limits.cpu_timeout_s,
    memory: Memory = RUN.sandbox.limits.memory_mb,
    image: Image = None,
    force_config: ForceConfig = False,
    min_coverage: MinCoverage = QUALITY.min_coverage,
    min_mutation_score: MinMutationScore = QUALITY.min_mutation_score,
    min_tests: MinTests = QUALITY.min_tests,
    min_asserts: MinAsserts = QUALITY.min_asserts,
    max_mutants: MaxMutants = QUALITY.max_mutants,
    mutant_timeout: MutantTimeout = QUALITY.mutant_timeout_s,
    no_gates: NoGates = False,
    no_forgery_gate: NoForgeryGate = False,
    dedup_threshold: DedupThreshold = DEDUP.threshold,
    no_dedup: NoDedup = False,
    decontaminate: Decontaminate = DECONTAMINATION.enabled,
    mbpp: Mbpp = None,
    benchmark_file: BenchmarkFile = None,
) -> None:
    """Rewrite a dataset's accepted problems into harder variants (Evol-Instruct), verified.

    Each variant is solved, tested, run in the sandbox, repaired and gated like any problem;
    it is kept only if it is measurably harder: its statement changed and its parent's
    solution fails its tests. Others land in `dropped` with that reason. Each row records its
    parent, operator and round.
    """
    from factory.llm.config import LLMConfig
    from factory.pipeline.evolve import EvolveConfig, evolve_dataset, load_parents
    from sandbox.aio import run as run_async

    names = [name.strip() for item in operators or [] for name in item.split(",") if name.strip()]
    generate = build_config(
        GenerateConfig, out=out, count=1, max_repairs=max_repairs, temperature=temperature,
        max_tokens=max_tokens, seed=seed, max_reasks=max_reasks, force_config=force_config,
        sandbox=pool_config(
            workers, timeout, memory, None, image, cpu_timeout=cpu_timeout,
            limits=RUN.sandbox.limits,
        ),
    )  # fmt: skip
    config = build_config(
        EvolveConfig,
        {"operators": "--operators", "rounds": "--rounds"},
        source=source,
        generate=generate,
        rounds=rounds,
        operators=names or None,
    )
    load_parents(source)  # a missing or empty dataset is refused before the endpoint is asked
    llm = LLMConfig.from_flags(
        environ=os.environ,
        base_url=base_url,
        api_key=api_key,
        flag_names={"timeout_s": "--request-timeout"},
        model=model,
        concurrency=concurrency,
        timeout_s=request_timeout,
        max_retries=max_retries,
    )
    quality = quality_config(
        min_coverage, min_mutation_score, min_tests, min_asserts, max_mutants, mutant_timeout,
        no_gates, no_forgery_gate,
    )  # fmt: skip
    hygiene = hygiene_config(dedup_threshold, no_dedup, decontaminate, mbpp, benchmark_file)
    report = run_async(evolve_dataset(config, llm, hygiene=hygiene, quality=quality))
    print(report.model_dump_json())
    for line in report.rounds:
        stderr.print(
            f"round {line.round}: {line.parents} parents, {line.accepted} harder variants "
            f"accepted, {line.not_harder} not harder, {line.statement_unchanged} unchanged, "
            f"{line.failed} failed",
            markup=False,
            highlight=False,
        )
