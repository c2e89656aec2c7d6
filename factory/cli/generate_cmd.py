"""``codefactory generate`` and ``codefactory stats``: make a verified dataset, then size it up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from factory.cli.common import build_config, stderr
from factory.cli.hygiene_options import (
    BenchmarkFile,
    Decontaminate,
    DedupThreshold,
    Mbpp,
    NoDedup,
    hygiene_config,
)
from factory.cli.quality_options import (
    MaxMutants,
    MinAsserts,
    MinCoverage,
    MinMutationScore,
    MinTests,
    MutantTimeout,
    NoGates,
    quality_config,
)
from factory.cli.sandbox_cmd import Image, Memory, Runtime, Workers

BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible API root (or set OPENAI_BASE_URL)."),
]
Model = Annotated[str, typer.Option("--model", help="Model name as the server knows it.")]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", help="API key (or set OPENAI_API_KEY).", show_default=False),
]
Count = Annotated[
    int, typer.Option("--count", help="Problems to finish in --out (train + failures).")
]
Out = Annotated[Path, typer.Option("--out", help="Output directory: store and HF dataset.")]
Concurrency = Annotated[int, typer.Option("--concurrency", help="LLM requests in flight.")]
MaxRepairs = Annotated[int, typer.Option("--max-repairs", help="Repair rounds per problem.")]
Temperature = Annotated[float, typer.Option("--temperature", help="Sampling temperature.")]
MaxTokens = Annotated[int, typer.Option("--max-tokens", help="Token limit per LLM reply.")]
Seed = Annotated[int, typer.Option("--seed", help="Seeds the topic plan and every LLM call.")]
Topics = Annotated[
    Path | None,
    typer.Option("--topics", help="Your own taxonomy, TOML or JSON (default: the built-in one)."),
]
JobTimeout = Annotated[
    float, typer.Option("--timeout", help="Sandbox wall-clock seconds per test run.")
]
JobCpuTimeout = Annotated[
    float | None,
    typer.Option("--cpu-timeout", help="Sandbox CPU seconds per test run (default: --timeout)."),
]
RequestTimeout = Annotated[
    float | None, typer.Option("--request-timeout", help="Seconds per LLM request (default: 120).")
]
MaxRetries = Annotated[
    int | None, typer.Option("--max-retries", help="Retries per LLM request (default: 6).")
]
MaxReasks = Annotated[
    int, typer.Option("--max-reasks", help="Re-asks per stage when a reply is unusable.")
]
InFlight = Annotated[
    int | None,
    typer.Option(
        "--in-flight",
        help="Problems worked on at once (default: from --concurrency and --workers).",
    ),
]
ForceConfig = Annotated[
    bool,
    typer.Option("--force-config", help="Continue an --out made with different settings anyway."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No live display.")]


def generate(
    model: Model,
    count: Count,
    out: Out,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    concurrency: Concurrency = 8,
    max_repairs: MaxRepairs = 3,
    temperature: Temperature = 0.8,
    max_tokens: MaxTokens = 2048,
    seed: Seed = 0,
    topics: Topics = None,
    workers: Workers = None,
    timeout: JobTimeout = 10.0,
    cpu_timeout: JobCpuTimeout = None,
    memory: Memory = None,
    runtime: Runtime = None,
    image: Image = None,
    request_timeout: RequestTimeout = None,
    max_retries: MaxRetries = None,
    max_reasks: MaxReasks = 2,
    in_flight: InFlight = None,
    force_config: ForceConfig = False,
    quiet: Quiet = False,
    dedup_threshold: DedupThreshold = 0.85,
    no_dedup: NoDedup = False,
    decontaminate: Decontaminate = True,
    mbpp: Mbpp = None,
    benchmark_file: BenchmarkFile = None,
    min_coverage: MinCoverage = 0.9,
    min_mutation_score: MinMutationScore = 0.7,
    min_tests: MinTests = 3,
    min_asserts: MinAsserts = 3,
    max_mutants: MaxMutants = 30,
    mutant_timeout: MutantTimeout = 5.0,
    no_gates: NoGates = False,
) -> None:
    """Generate verified problems (statement, solution, tests) into a Hugging Face dataset.

    An LLM proposes each problem and writes a solution and, separately, tests; the sandbox
    runs them; failures go back to the LLM with the sandbox's report for repair. Accepted
    problems land in the `train` split, the rest in `failures` with every attempt. Rerunning
    the same command resumes where a stopped run left off.
    """
    from factory.cli.sandbox_cmd import pool_config
    from factory.llm.config import LLMConfig
    from factory.pipeline.config import FLAG_NAMES, GenerateConfig
    from problems import load_taxonomy

    config = build_config(
        GenerateConfig,
        FLAG_NAMES,
        out=out,
        count=count,
        max_repairs=max_repairs,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
        max_reasks=max_reasks,
        in_flight=in_flight,
        force_config=force_config,
    )
    llm_config = LLMConfig.from_flags(
        environ=os.environ,
        base_url=base_url,
        api_key=api_key,
        flag_names={"timeout_s": "--request-timeout"},
        model=model,
        concurrency=concurrency,
        timeout_s=request_timeout,
        max_retries=max_retries,
    )
    pools = pool_config(workers, timeout, memory, runtime, image, cpu_timeout)
    taxonomy = load_taxonomy(topics)
    hygiene = hygiene_config(dedup_threshold, no_dedup, decontaminate, mbpp, benchmark_file)
    quality = quality_config(
        min_coverage, min_mutation_score, min_tests, min_asserts, max_mutants, mutant_timeout,
        no_gates,
    )  # fmt: skip

    # Heavy imports (datasets, openai) only once the input is known to be good.
    from factory.pipeline.generate import generate as run_generate
    from sandbox.aio import run as run_async

    report = run_async(
        run_generate(
            config,
            llm_config,
            pools,
            taxonomy,
            hygiene=hygiene,
            quality=quality,
            console=None if quiet else stderr,
        )
    )
    print(report.model_dump_json())
    stderr.print(
        f"{out}: train {report.splits.get('train', 0)}, failures "
        f"{report.splits.get('failures', 0)}, rejected by the gates "
        f"{report.splits.get('rejected', 0)} — load with datasets.load_from_disk({str(out)!r})"
    )


def stats(
    directory: Annotated[Path, typer.Argument(help="The --out directory of a generate run.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stats as JSON.")] = False,
) -> None:
    """Acceptance, first-try pass rate, repairs, failure causes, coverage and tokens of a run."""
    from rich.console import Console

    from factory.dataset.stats import render_stats, stats_for_dir

    result = stats_for_dir(directory)
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        render_stats(result, Console())
