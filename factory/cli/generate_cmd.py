"""``codefactory generate`` and ``codefactory stats``: make a verified dataset, then size it up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from factory.cli.common import build_config, results, stderr
from factory.cli.options import (
    ApiKey,
    BaseUrl,
    BenchmarkFile,
    Concurrency,
    Count,
    CpuTimeout,
    Decontaminate,
    DedupThreshold,
    ForceConfig,
    GenerateOut,
    Image,
    InFlight,
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
    Quiet,
    Ray,
    RequestTimeout,
    Runtime,
    Seed,
    SemanticDedup,
    Temperature,
    Timeout,
    Topics,
    Workers,
    cluster_config,
    defaults,
    hygiene_config,
    pool_config,
    quality_config,
)
from factory.cli.steer_options import (
    Focus,
    FocusDataset,
    JudgeBaseUrl,
    JudgeModel,
    MinJudgeScore,
    Personas,
    SeedCode,
    SeedColumn,
    SeedReuse,
    SeedStyle,
)
from factory.hygiene.decontam import DecontaminationConfig
from factory.hygiene.dedup import DedupConfig
from factory.pipeline.config import GenerateConfig
from factory.quality.config import QualityConfig

if TYPE_CHECKING:  # the LLM config's package loads the openai client: imported when run
    from factory.hygiene.stage import HygieneConfig
    from factory.llm.config import LLMConfig
    from problems import Taxonomy
    from sandbox.cluster import ClusterConfig

RUN = defaults(GenerateConfig)
QUALITY = defaults(QualityConfig)
DEDUP = defaults(DedupConfig)
DECONTAMINATION = defaults(DecontaminationConfig)


def generate(
    ctx: typer.Context,
    model: ModelName,
    count: Count,
    out: GenerateOut,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    concurrency: Concurrency = None,
    temperature: Temperature = RUN.temperature,
    max_tokens: MaxTokens = RUN.max_tokens,
    request_timeout: RequestTimeout = None,
    max_retries: MaxRetries = None,
    seed: Seed = RUN.seed,
    topics: Topics = None,
    max_repairs: MaxRepairs = RUN.max_repairs,
    max_reasks: MaxReasks = RUN.max_reasks,
    in_flight: InFlight = None,
    force_config: ForceConfig = False,
    quiet: Quiet = False,
    workers: Workers = None,
    timeout: Timeout = RUN.sandbox.limits.timeout_s,
    cpu_timeout: CpuTimeout = RUN.sandbox.limits.cpu_timeout_s,
    memory: Memory = RUN.sandbox.limits.memory_mb,
    runtime: Runtime = None,
    image: Image = None,
    ray: Ray = None,
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
    semantic_dedup: SemanticDedup = False,
    decontaminate: Decontaminate = DECONTAMINATION.enabled,
    mbpp: Mbpp = None,
    benchmark_file: BenchmarkFile = None,
    seed_code: SeedCode = None,
    seed_column: SeedColumn = RUN.seed_column,
    seed_style: SeedStyle = RUN.seed_style,
    seed_reuse: SeedReuse = False,
    personas: Personas = None,
    focus: Focus = None,
    focus_dataset: FocusDataset = None,
    judge_model: JudgeModel = None,
    judge_base_url: JudgeBaseUrl = None,
    min_judge_score: MinJudgeScore = RUN.min_judge_score,
) -> None:
    """Generate verified problems (statement, solution, tests) into a Hugging Face dataset.

    An LLM proposes each problem and writes a solution and, separately, tests; the sandbox
    runs them; failures go back to the LLM with the sandbox's report for repair. Accepted
    problems land in the `train` split; problems that never passed in `failures`, with every
    attempt; passing ones a quality gate turned down in `rejected`; duplicates and benchmark
    copies in `dropped`. Rerunning the same command resumes where a stopped run left off.
    """
    request = generate_request(ctx.params)
    # Heavy imports (datasets, openai) only once the input is known to be good.
    from factory.pipeline.generate import generate as run_generate
    from sandbox.aio import run as run_async

    report = run_async(
        run_generate(
            request.config,
            request.llm,
            request.taxonomy,
            hygiene=request.hygiene,
            quality=request.quality,
            console=None if quiet else stderr,
            cluster=request.cluster,
        )
    )
    unused = {name for name in ("focus_weights", "seed_snippets") if getattr(report, name) is None}
    print(report.model_dump_json(exclude=unused), file=results())
    if report.focus_weights:
        weights = ", ".join(f"{cell} x{weight}" for cell, weight in report.focus_weights.items())
        stderr.print(f"focus weights: {weights}", markup=False, highlight=False)
    stderr.print(
        f"{out}: train {report.splits.get('train', 0)}, failures "
        f"{report.splits.get('failures', 0)}, rejected by the gates "
        f"{report.splits.get('rejected', 0)} — load with datasets.load_from_disk({str(out)!r})"
    )


@dataclass(frozen=True)
class GenerateRequest:
    """Everything ``generate`` is called with, validated."""

    config: GenerateConfig
    llm: LLMConfig
    taxonomy: Taxonomy
    hygiene: HygieneConfig
    quality: QualityConfig
    cluster: ClusterConfig | None = None


def generate_request(params: dict[str, Any]) -> GenerateRequest:
    """Builds the configs from the parsed flags of ``generate`` (by parameter name)."""
    from factory.llm.config import LLMConfig
    from problems import load_taxonomy

    p = params
    config = build_config(
        GenerateConfig,
        out=p["out"],
        count=p["count"],
        max_repairs=p["max_repairs"],
        temperature=p["temperature"],
        max_tokens=p["max_tokens"],
        seed=p["seed"],
        max_reasks=p["max_reasks"],
        in_flight=p["in_flight"],
        force_config=p["force_config"],
        seed_code=p["seed_code"] or [], seed_column=p["seed_column"],
        seed_style=p["seed_style"], seed_reuse=p["seed_reuse"], personas=p["personas"],
        focus=p["focus"], focus_dataset=p["focus_dataset"], judge_model=p["judge_model"],
        judge_base_url=p["judge_base_url"], min_judge_score=p["min_judge_score"],
        sandbox=pool_config(
            p["workers"], p["timeout"], p["memory"], p["runtime"], p["image"],
            cpu_timeout=p["cpu_timeout"], limits=RUN.sandbox.limits,
        ),
    )  # fmt: skip
    llm = LLMConfig.from_flags(
        environ=os.environ,
        base_url=p["base_url"],
        api_key=p["api_key"],
        flag_names={"timeout_s": "--request-timeout"},
        model=p["model"],
        concurrency=p["concurrency"],
        timeout_s=p["request_timeout"],
        max_retries=p["max_retries"],
    )
    return GenerateRequest(
        config=config,
        llm=llm,
        taxonomy=load_taxonomy(p["topics"]),
        hygiene=hygiene_config(
            p["dedup_threshold"], p["no_dedup"], p["decontaminate"], p["mbpp"],
            p["benchmark_file"], p["semantic_dedup"],
        ),
        quality=quality_config(
            p["min_coverage"], p["min_mutation_score"], p["min_tests"], p["min_asserts"],
            p["max_mutants"], p["mutant_timeout"], p["no_gates"], p["no_forgery_gate"],
        ),
        cluster=cluster_config(p["ray"], p["workers"]),
    )  # fmt: skip


def stats(
    directory: Annotated[Path, typer.Argument(help="The --out directory of a generate run.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stats as JSON.")] = False,
    diversity: Annotated[
        bool,
        typer.Option(
            "--diversity",
            help="Also measure the train split's diversity and the solver's pass rates "
            "(semantic measures with the embed extra).",
        ),
    ] = False,
) -> None:
    """Acceptance, first-try pass rate, repairs, failure causes, coverage and tokens of a run."""
    from rich.console import Console

    from factory.dataset.stats import render_stats, stats_for_dir

    result = stats_for_dir(directory)
    training = None
    if diversity:
        from factory.publish.training import collect_training_facts

        training = collect_training_facts(directory)
    if as_json:
        if training is None:
            print(result.model_dump_json(indent=2))
        else:
            import json

            both = {**result.model_dump(mode="json"), **training.model_dump(mode="json")}
            print(json.dumps(both, indent=2))
        return
    render_stats(result, Console())
    if training is not None:
        from factory.publish.training import card_sections

        for section in card_sections(training):
            Console().print(section, markup=False, highlight=False)
