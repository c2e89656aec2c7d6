"""The options the commands share, each declared once, and the configs they build.

A command's default for an option is the default of the config it fills, read from that
config (``GenerateConfig`` and its sandbox, ``QualityConfig``, ``EvalConfig``, the hygiene
configs), so ``codefactory generate`` and a Python caller of
``factory.pipeline.generate.generate`` get the same run. Two configs live in modules too slow to import for ``--help`` (the LLM client's
and the model sampler's): their options default to None, which leaves the config's own
default in place, and their help shows that default (``tests/cli`` checks it is the config's).

``generate``'s options are grouped in help panels: model, run, sandbox, quality gates, hygiene.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from factory.cli.common import build_config

MODEL = "Model"
RUN = "Run"
SANDBOX = "Sandbox"
GATES = "Quality gates"
HYGIENE = "Hygiene"


def defaults(model: type[BaseModel]) -> SimpleNamespace:
    """The defaults of ``model``'s fields, by name: the one source of the options' defaults."""
    return SimpleNamespace(
        **{
            name: field.get_default(call_default_factory=True)
            for name, field in model.model_fields.items()
            if not field.is_required()
        }
    )


# ------------------------------------------------------------------ model (the LLM endpoint)
BaseUrl = Annotated[
    list[str] | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible API root (or set OPENAI_BASE_URL); repeat it for replicas of "
        "the same model, which share the requests by load.",
        rich_help_panel=MODEL,
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="API key (or set OPENAI_API_KEY).",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
ModelName = Annotated[
    str | None,
    typer.Option("--model", help="Model name as the server knows it.", rich_help_panel=MODEL),
]
Concurrency = Annotated[
    int | None,
    typer.Option(
        "--concurrency", help="LLM requests in flight.", show_default="8", rich_help_panel=MODEL
    ),
]
Temperature = Annotated[
    float, typer.Option("--temperature", help="Sampling temperature.", rich_help_panel=MODEL)
]
MaxTokens = Annotated[
    int, typer.Option("--max-tokens", help="Token limit per LLM reply.", rich_help_panel=MODEL)
]
RequestTimeout = Annotated[
    float | None,
    typer.Option(
        "--request-timeout",
        help="Seconds per LLM request.",
        show_default="120",
        rich_help_panel=MODEL,
    ),
]
MaxRetries = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        help="Retries per LLM request (rate limits, 5xx, timeouts).",
        show_default="6",
        rich_help_panel=MODEL,
    ),
]

# ------------------------------------------------------------------ sandbox
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        help="Sandbox containers.",
        show_default="twice the CPU count",
        rich_help_panel=SANDBOX,
    ),
]
Timeout = Annotated[
    float,
    typer.Option("--timeout", help="Wall-clock seconds per sandbox run.", rich_help_panel=SANDBOX),
]
Ray = Annotated[
    str | None,
    typer.Option(
        "--ray",
        help="Run the sandbox jobs on a Ray cluster: its address (host:6379) or auto; "
        "--workers is then containers per node.",
        show_default="this machine's Docker, no Ray",
        rich_help_panel=SANDBOX,
    ),
]
CpuTimeout = Annotated[
    float | None,
    typer.Option(
        "--cpu-timeout",
        help="CPU seconds per sandbox run, all its processes together (a busy loop is stopped "
        "by this, whatever the machine's load).",
        show_default="the --timeout",
        rich_help_panel=SANDBOX,
    ),
]
Memory = Annotated[
    int, typer.Option("--memory", help="MiB of memory per container.", rich_help_panel=SANDBOX)
]
Runtime = Annotated[
    str | None,
    typer.Option(
        "--runtime", help="Container runtime, e.g. runsc (gVisor).", rich_help_panel=SANDBOX
    ),
]
Image = Annotated[
    str | None,
    typer.Option(
        "--image",
        help="Runner image.",
        show_default="the one built for this version",
        rich_help_panel=SANDBOX,
    ),
]

# ------------------------------------------------------------------ generate: the run
Count = Annotated[
    int,
    typer.Option(
        "--count",
        help="Problems to finish in --out, every split counted (train, failures, rejected, "
        "dropped); counts across resumed runs.",
        rich_help_panel=RUN,
    ),
]
GenerateOut = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Output directory: the run's store and its Hugging Face dataset.",
        rich_help_panel=RUN,
    ),
]
Seed = Annotated[
    int,
    typer.Option("--seed", help="Seeds the topic plan and every LLM call.", rich_help_panel=RUN),
]
Topics = Annotated[
    Path | None,
    typer.Option(
        "--topics",
        help="Your own taxonomy, TOML or JSON.",
        show_default="the built-in one",
        rich_help_panel=RUN,
    ),
]
MaxRepairs = Annotated[
    int, typer.Option("--max-repairs", help="Repair rounds per problem.", rich_help_panel=RUN)
]
MaxReasks = Annotated[
    int,
    typer.Option(
        "--max-reasks", help="Re-asks per stage when a reply is unusable.", rich_help_panel=RUN
    ),
]
InFlight = Annotated[
    int | None,
    typer.Option(
        "--in-flight",
        help="Problems worked on at once.",
        show_default="from --concurrency and --workers",
        rich_help_panel=RUN,
    ),
]
ForceConfig = Annotated[
    bool,
    typer.Option(
        "--force-config",
        help="Continue an --out made with different settings anyway.",
        rich_help_panel=RUN,
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No live display.", rich_help_panel=RUN)]

# ------------------------------------------------------------------ generate: quality gates
MinCoverage = Annotated[
    float,
    typer.Option(
        "--min-coverage",
        help="Line coverage of the solution its tests must reach.",
        rich_help_panel=GATES,
    ),
]
MinMutationScore = Annotated[
    float,
    typer.Option(
        "--min-mutation-score",
        help="Share of the solution's mutants its tests must kill.",
        rich_help_panel=GATES,
    ),
]
MinTests = Annotated[
    int,
    typer.Option("--min-tests", help="Test functions a test file needs.", rich_help_panel=GATES),
]
MinAsserts = Annotated[
    int,
    typer.Option("--min-asserts", help="Assertions a test file needs.", rich_help_panel=GATES),
]
MaxMutants = Annotated[
    int,
    typer.Option(
        "--max-mutants",
        help="Mutants run per candidate (0: no mutation testing).",
        rich_help_panel=GATES,
    ),
]
MutantTimeout = Annotated[
    float,
    typer.Option(
        "--mutant-timeout",
        help="Seconds at most per mutant run (a timeout counts as killed).",
        rich_help_panel=GATES,
    ),
]
NoForgeryGate = Annotated[
    bool,
    typer.Option(
        "--no-forgery-gate",
        help="Run candidates that use what only forging a verdict needs (sys.settrace, "
        "ctypes, frame walking, reassigned builtins...) instead of sending them back.",
        rich_help_panel=GATES,
    ),
]
NoGates = Annotated[
    bool,
    typer.Option(
        "--no-gates",
        help="Accept every candidate the sandbox passes: no static checks, coverage or mutants.",
        rich_help_panel=GATES,
    ),
]

# ------------------------------------------------------------------ generate: hygiene
DedupThreshold = Annotated[
    float,
    typer.Option(
        "--dedup-threshold",
        help="MinHash Jaccard similarity at which an accepted row counts as a near duplicate.",
        rich_help_panel=HYGIENE,
    ),
]
NoDedup = Annotated[
    bool, typer.Option("--no-dedup", help="Keep duplicate rows.", rich_help_panel=HYGIENE)
]
SemanticDedup = Annotated[
    bool,
    typer.Option(
        "--semantic-dedup",
        help="Also drop rows whose description embedding has cosine >= 0.95 to a kept row's "
        "(needs the embed extra).",
        rich_help_panel=HYGIENE,
    ),
]
Decontaminate = Annotated[
    bool,
    typer.Option(
        "--decontaminate/--no-decontaminate",
        help="Drop rows that copy a HumanEval task (and --mbpp / --benchmark-file tasks).",
        rich_help_panel=HYGIENE,
    ),
]
Mbpp = Annotated[
    list[Path] | None,
    typer.Option(
        "--mbpp",
        help="MBPP copy to decontaminate against (mbpp.jsonl or sanitized-mbpp.json); repeatable.",
        rich_help_panel=HYGIENE,
    ),
]
BenchmarkFile = Annotated[
    list[Path] | None,
    typer.Option(
        "--benchmark-file",
        help="Your own benchmark (JSONL or JSON: task_id, description, solution); repeatable.",
        rich_help_panel=HYGIENE,
    ),
]


# ------------------------------------------------------------------ the configs they build
def pool_config(
    workers: int | None,
    timeout: float | None,
    memory: int | None,
    runtime: str | None = None,
    image: str | None = None,
    *,
    cpu_timeout: float | None = None,
    limits: Any = None,
):
    """The sandbox pool; ``limits`` (a ``Limits``) gives the limits no flag sets."""
    from sandbox import Limits, PoolConfig

    flags = {"timeout_s": "--timeout", "memory_mb": "--memory", "cpu_timeout_s": "--cpu-timeout"}
    base = (limits or Limits()).model_dump()
    given = {"timeout_s": timeout, "memory_mb": memory, "cpu_timeout_s": cpu_timeout}
    limits = build_config(Limits, flags, **{**base, **given})
    return build_config(PoolConfig, workers=workers, limits=limits, runtime=runtime, image=image)


def cluster_config(ray: str | None, workers: int | None):
    """The Ray cluster to run on, or None; says in one line how to install Ray if it is absent."""
    if ray is None:
        return None
    from sandbox.cluster import ClusterConfig, require_ray
    from sandbox.cluster.config import probe

    require_ray()
    cluster = build_config(
        ClusterConfig, {"workers_per_node": "--workers", "address": "--ray"},
        address=ray, workers_per_node=workers,
    )  # fmt: skip
    probe(cluster)
    return cluster


def quality_config(
    min_coverage: float,
    min_mutation_score: float,
    min_tests: int,
    min_asserts: int,
    max_mutants: int,
    mutant_timeout: float,
    no_gates: bool,
    no_forgery_gate: bool = False,
):
    from factory.quality.config import QualityConfig

    return build_config(
        QualityConfig,
        {"mutant_timeout_s": "--mutant-timeout"},
        enabled=not no_gates,
        forgery_gate=not no_forgery_gate,
        min_coverage=min_coverage,
        min_mutation_score=min_mutation_score,
        min_tests=min_tests,
        min_asserts=min_asserts,
        max_mutants=max_mutants,
        mutant_timeout_s=mutant_timeout,
    )


def hygiene_config(
    dedup_threshold: float,
    no_dedup: bool,
    decontaminate: bool,
    mbpp: list[Path] | None,
    benchmark_files: list[Path] | None,
    semantic_dedup: bool = False,
):
    from factory.hygiene.decontam import DecontaminationConfig
    from factory.hygiene.dedup import DedupConfig
    from factory.hygiene.semantic import SemanticDedupConfig
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
    semantic = SemanticDedupConfig(enabled=semantic_dedup)
    return HygieneConfig(dedup=dedup, decontamination=decontamination, semantic=semantic)
