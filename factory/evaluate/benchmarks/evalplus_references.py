"""A cold cache's reference runs, in the evaluation's own pool beside the samples they judge.

Computing HumanEval+'s expected outputs first and judging its samples after costs two tails:
the few long references (HumanEval/139, /15) run alone at the end of the first phase while the
other container waits, and a second pool starts. Here the reference runs are queued on the
evaluation's pool first, costliest first (the quick tasks several to a job:
:func:`reference_packs`), and each task's samples are judged as soon as its own reference is
done (:func:`factory.evaluate.runner.evaluate_samples` waits on :meth:`ready`), so the samples
of quick tasks fill the time the long references leave. A reference that fails
stops the run with the same error as a separate computation; the cache is written only once
every reference is in. With ``--ray`` (:func:`load_or_compute`) the same runs go on a local
pool of their own before any sample.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from factory.errors import InputFileError
from factory.evaluate.benchmarks.evalplus_expected import (
    ExpectedOutputs,
    cache_path,
    cost_hints,
    load_cached,
    reference_config,
    reference_order,
    write_cache,
)
from factory.evaluate.benchmarks.evalplus_programs import EvalPlusBenchmark
from factory.evaluate.benchmarks.evalplus_reference_program import (
    read_reference,
    references_job,
)
from sandbox import SandboxPool

PACK_COST_S = 0.5
"""The quick tasks' references share jobs, up to this much of their known cost a job."""
PACK_TASKS = 16
QUICK_S = 0.05
"""The cost of a task the hints leave out: they list the tasks of 0.05 s or more."""


class ReferenceRuns:
    """The reference runs of every task, started on ``pool``; ``bench.expected`` fills up as
    they finish."""

    def __init__(self, bench: EvalPlusBenchmark, pool: Any, pool_config: Any):
        self.bench = bench
        self.path = cache_path(bench, pool_config.image)
        self.started = time.monotonic()
        self.failures: list[str] = []
        self.error: Exception | None = None
        self.changed = asyncio.Event()
        self.saved: asyncio.Task | None = None
        limits = reference_config(pool_config).limits  # the pool's may be the samples'
        bench.expected = ExpectedOutputs(
            benchmark=bench.name, data_sha256=bench.data_sha256, image=pool_config.image, outputs={}
        )
        self.outputs = bench.expected.outputs
        self.runs = [
            asyncio.create_task(self._run(pool, task_ids, limits))
            for task_ids in reference_packs(bench)
        ]

    async def _run(self, pool: Any, task_ids: list[str], limits: Any) -> None:
        """Runs ``task_ids``' references in one job; a task the job left without outputs (one
        of them failed, and the job with it) runs again alone, so that a failure is the
        task's own, said as a job of its own says it."""
        job = references_job(self.bench, task_ids).model_copy(
            update={"memory_mb": limits.memory_mb, "output_limit_bytes": limits.output_limit_bytes}
        )
        try:
            result = await pool.run(job)
        except Exception as exc:  # the pool itself failed (no daemon, say): the run's error
            self.error = self.error or exc
            self.changed.set()
            return
        missing = []
        for task_id in task_ids:
            try:
                self.outputs[task_id] = read_reference(result, task_id)
            except ValueError as exc:
                if len(task_ids) == 1:
                    self.failures.append(f"{task_id}: {exc}")
                else:
                    missing.append(task_id)
        self.changed.set()
        await asyncio.gather(*(self._run(pool, [task_id], limits) for task_id in missing))
        if len(self.outputs) == len(self.bench.tasks) and self.saved is None:
            self.saved = asyncio.create_task(self._save())

    async def _save(self) -> None:
        """Caches the expected outputs as soon as the last reference is in, in a thread beside
        the samples still running (it takes a fifth of a second for HumanEval+), not after
        them; a run stopped later keeps them."""
        self.bench.expected.compute_s = round(time.monotonic() - self.started, 3)
        if self.path is not None:
            await asyncio.to_thread(write_cache, self.path, self.bench.expected)

    def ready(self, task_id: str) -> bool:
        """Whether ``task_id``'s expected outputs are known (its samples can be judged)."""
        return task_id in self.outputs

    async def wait(self) -> None:
        """Returns once another reference has finished; raises if one failed."""
        self._raise_failures()
        await self.changed.wait()
        self.changed.clear()
        self._raise_failures()

    async def finish(self) -> None:
        """Waits for every reference (a task without samples still gets its expected outputs),
        then caches them."""
        await asyncio.gather(*self.runs, return_exceptions=True)
        self._raise_failures()
        if self.saved is None:
            self.saved = asyncio.create_task(self._save())
        await self.saved

    async def close(self) -> None:
        """Stops the runs still going (the evaluation ended early) before the pool closes, so
        none is left to fail on a closed pool."""
        for run in self.runs:
            run.cancel()
        await asyncio.gather(*self.runs, return_exceptions=True)

    def _raise_failures(self) -> None:
        if self.error is not None:
            raise self.error
        if self.failures:
            raise InputFileError(
                f"{self.bench.source}: the reference solution failed in the sandbox for "
                f"{len(self.failures)} task(s), so their expected outputs are unknown: "
                f"{self.failures[0]}"
            )


def reference_packs(bench: EvalPlusBenchmark) -> list[list[str]]:
    """The reference runs, costliest first (:func:`reference_order`): a costly task alone, the
    quick ones (their cost known from the bundled hints, up to ``PACK_COST_S``) together, at
    most ``PACK_TASKS`` a job. Without hints (another data file) each task runs alone."""
    hints = cost_hints(bench.data_sha256)
    packs: list[list[str]] = []
    pack: list[str] = []
    spent = 0.0
    for task_id in reference_order(bench):
        cost = hints.get(task_id, QUICK_S) if hints else None
        if cost is None or cost > PACK_COST_S:
            packs.append([task_id])
            continue
        if pack and (spent + cost > PACK_COST_S or len(pack) >= PACK_TASKS):
            packs.append(pack)
            pack, spent = [], 0.0
        pack.append(task_id)
        spent += cost
    if pack:
        packs.append(pack)
    return packs


async def load_or_compute(bench: EvalPlusBenchmark, pool_config) -> ExpectedOutputs:
    """The expected outputs for ``bench`` in ``pool_config``'s image, from cache or computed
    (and cached) in a pool of their own."""
    loaded = load_cached(bench, pool_config)
    if loaded is not None:
        return loaded
    async with SandboxPool(reference_config(pool_config)) as pool:
        runs = ReferenceRuns(bench, pool, pool_config)
        try:
            await runs.finish()
        finally:
            await runs.close()
    return bench.expected
