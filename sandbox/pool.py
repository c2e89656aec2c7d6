"""A pool of warm sandbox containers that runs jobs in parallel.

    async with SandboxPool(PoolConfig(workers=4)) as pool:
        result = await pool.run(job)
        async for result in pool.map(jobs):   # any iterable, consumed lazily
            ...

Each container runs one job at a time; a job never starts a container. A container whose
worker is lost is replaced and the job retried once on the fresh one (``sandbox_error`` only if
that fails too); one whose job starved it past the deadline is replaced and the job reported as
a timeout; every container is recycled after ``recycle_after`` jobs. ``__aexit__`` removes every
container the pool started, on success, exception or cancellation (Ctrl-C, SIGTERM through
:func:`sandbox.aio.run`), and Docker removes them by itself if this process is killed outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, ConfigDict, Field

from sandbox.container import WorkerContainer
from sandbox.docker_client import connect, require_image
from sandbox.errors import DockerUnavailable, SandboxError, WorkerLost, WorkerOverdue
from sandbox.image import default_image
from sandbox.models import Job, Limits, Result, Status
from sandbox.runner.protocol import MalformedReply
from sandbox.verdict import classify, classify_batch

OVERDUE_GRACE_S = 20.0
BATCH_SLACK_S = 5.0
PING_TIMEOUT_S = 5.0
PING_EVERY_S = 0.5


class PoolConfig(BaseModel):
    """Everything a pool needs, validated once at the edge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Twice the CPU count: measured (benchmarks/oversubscribe_bench.py), jobs that sleep more
    # than they compute run 3x faster at twice as many containers as cores, and CPU-time limits
    # keep every verdict independent of how many containers share the cores.
    workers: int = Field(default_factory=lambda: 2 * (os.cpu_count() or 1), ge=1, le=256)
    image: str = Field(default_factory=default_image)
    limits: Limits = Field(default_factory=Limits)
    runtime: str | None = Field(None, description="container runtime, e.g. runsc for gVisor")
    recycle_after: int = Field(200, ge=1, description="jobs per container before it is replaced")
    docker_host: str | None = None
    start_timeout_s: float = Field(60.0, gt=0)
    daemon_wait_s: float = Field(
        60.0,
        ge=0,
        description="how long a run waits for a Docker daemon that stopped answering (a "
        "restart) before it stops with one clear error",
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="extra Docker labels on every container (a node's name)"
    )


class SandboxPool:
    """Warm containers, one job each at a time; see the module docstring."""

    def __init__(self, config: PoolConfig | None = None):
        self.config = config or PoolConfig()
        self.image_id: str | None = None
        self._client = None
        self._idle: asyncio.Queue[WorkerContainer | None] | None = None
        self._live: set[WorkerContainer] = set()
        self._executor = ThreadPoolExecutor(
            max_workers=self.config.workers * 2 + 2, thread_name_prefix="sandbox"
        )
        self._background: set[asyncio.Task] = set()
        self._broken = ""
        # Set when shutdown begins: from then on no container is started or handed out, so a
        # job still unwinding (say, its container removed under it) cannot start a new one
        # that the shutdown would never see.
        self._closing = False
        # A Docker daemon that stopped answering mid-run: one waiter for every job and
        # replacement that noticed; containers started before it came back are not used again.
        self._daemon_waiter: asyncio.Task | None = None
        self._epoch = 0

    # ---------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> SandboxPool:
        try:
            self._client = await self._call(connect, self.config.docker_host)
            self.image_id = await self._call(require_image, self._client, self.config.image)
            self._idle = asyncio.Queue()
            started = await asyncio.gather(
                *(self._start_container() for _ in range(self.config.workers))
            )
            for container in started:
                self._idle.put_nowait(container)
        except BaseException:
            await self._shutdown()
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._closing = True
        if self._idle is not None:
            self._idle.put_nowait(None)  # jobs waiting for a container stop waiting
        for task in list(self._background):
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*self._background, return_exceptions=True)
        containers = list(self._live)
        self._live.clear()
        loop = asyncio.get_running_loop()
        # Removal must finish even if we are being cancelled: shield it.
        removal = asyncio.gather(
            *(loop.run_in_executor(self._executor, c.remove) for c in containers)
        )
        with contextlib.suppress(BaseException):
            await asyncio.shield(removal)
        if not removal.done():
            for container in containers:
                container.remove()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()

    async def _call(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _start_container(self) -> WorkerContainer:
        """Starts one container; if the daemon stopped answering meanwhile, waits for it (see
        :meth:`_wait_for_daemon`) and starts one on the daemon that came back."""
        while True:
            container = WorkerContainer(
                self._client,
                self.config.image,
                self.config.limits,
                runtime=self.config.runtime,
                labels=self.config.labels,
            )
            container.epoch = self._epoch
            self._live.add(container)
            try:
                await self._call(container.start, self.config.start_timeout_s)
                if self._closing:
                    raise SandboxError(self._unusable())
                return container
            except WorkerLost:
                await asyncio.shield(self._remove_soon(container))
                if self._closing or not await self._wait_for_daemon():
                    raise
            except BaseException:
                await asyncio.shield(self._remove_soon(container))
                raise

    def _retire(self, container: WorkerContainer, *, keep: bool = False) -> asyncio.Task:
        """Removes a container and starts its replacement in the background.

        The replacement joins the idle queue, unless ``keep``: then the caller awaits the task
        to get the fresh container for itself (used to retry a job on a fresh container).
        If no replacement can be started the pool is broken: a ``None`` in the idle queue makes
        every waiting and later ``run`` raise instead of waiting forever.
        """
        removal = self._remove_soon(container)

        async def replace() -> WorkerContainer | None:
            await asyncio.shield(removal)
            if self._closing:
                return None
            failures = 0
            while not self._closing:
                try:
                    fresh = await self._start_container()  # waits out a daemon restart
                except DockerUnavailable:
                    return None  # the daemon did not come back: the wait marked the pool broken
                except SandboxError as exc:
                    failures += 1
                    if failures == 3:
                        self._broken = f"cannot start a replacement container: {exc}"
                        self._idle.put_nowait(None)
                        return None
                    await asyncio.sleep(1.0)
                    continue
                if not keep:
                    self._idle.put_nowait(fresh)
                return fresh
            return None

        task = asyncio.create_task(replace())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def _remove_soon(self, container: WorkerContainer) -> asyncio.Future:
        """Removes ``container`` in a worker thread; it stays in ``_live`` until that is done.

        So a removal that never ran (its task cancelled, the pool shutting down) still happens
        in ``_shutdown``, which removes whatever is left in ``_live``.
        """
        removal = asyncio.get_running_loop().run_in_executor(self._executor, container.remove)

        def forget(future: asyncio.Future) -> None:
            if not future.cancelled() and future.exception() is None:
                self._live.discard(container)

        removal.add_done_callback(forget)
        return removal

    async def _take(self) -> WorkerContainer:
        while True:
            container = await self._idle.get()
            if container is None:
                self._idle.put_nowait(None)
                raise SandboxError(self._unusable())
            if container.epoch == self._epoch:
                return container
            self._retire(container)  # started before the daemon restarted: gone with it

    # ---------------------------------------------------------------- the daemon going away
    async def _wait_for_daemon(self) -> bool:
        """Returns ``False`` at once if the daemon answers; else waits for it to answer again
        (one wait shared by every caller, said on stderr) and returns ``True``, or raises
        :class:`DockerUnavailable` once ``daemon_wait_s`` has passed without an answer."""
        if self._daemon_waiter is None:
            if await self._daemon_answers():
                return False
            self._daemon_waiter = asyncio.create_task(self._await_daemon())
            self._background.add(self._daemon_waiter)
        waiter = self._daemon_waiter
        # A wait that failed stays: every later caller gets its DockerUnavailable at once.
        await asyncio.shield(waiter)
        if self._daemon_waiter is waiter:
            self._daemon_waiter = None
        return True

    async def _daemon_answers(self) -> bool:
        try:
            await asyncio.wait_for(self._call(self._client.api.ping), PING_TIMEOUT_S)
        except Exception:  # any failure to answer: refused, reset, timed out, a 5xx
            return False
        return True

    async def _await_daemon(self) -> None:
        where = self.config.docker_host or "the default socket"
        limit = self.config.daemon_wait_s
        print(
            f"sandbox: the Docker daemon at {where} stopped answering; waiting up to "
            f"{limit:g} s for it to come back",
            file=sys.stderr,
            flush=True,
        )
        started = time.monotonic()
        while not await self._daemon_answers():
            if time.monotonic() - started >= limit:
                message = (
                    f"the Docker daemon at {where} stopped answering mid-run and was not back "
                    f"within {limit:g} s: start it again (everything finished so far is saved) "
                    "and rerun, or raise the wait"
                )
                self._broken = message
                self._idle.put_nowait(None)
                raise DockerUnavailable(message)
            await asyncio.sleep(PING_EVERY_S)
        self._epoch += 1  # every container started before this is gone with the old daemon
        print(
            f"sandbox: the Docker daemon is back after {time.monotonic() - started:.1f} s; "
            "starting new containers and running the interrupted jobs again",
            file=sys.stderr,
            flush=True,
        )

    def _unusable(self) -> str:
        if self._broken:
            return f"the sandbox pool is broken: {self._broken}"
        return "the sandbox pool is shut down"

    # ---------------------------------------------------------------- running jobs
    async def run(self, job: Job) -> Result:
        """Runs one job and returns its verdict; untrusted behaviour never raises."""
        if self._idle is None:
            raise SandboxError("the pool is not started: use `async with SandboxPool(...)`")
        if job.candidates:
            raise ValueError(f"job {job.id} has candidates, one result each: use run_batch")
        limits = self.config.limits
        timeout_s = job.timeout_s or limits.timeout_s
        payload = job.model_dump(mode="json")
        payload["timeout_s"] = timeout_s
        payload["cpu_timeout_s"] = job.cpu_timeout_s or limits.cpu_timeout_s or timeout_s
        output_limit = job.output_limit_bytes or limits.output_limit_bytes
        payload["output_limit_bytes"] = output_limit
        memory_mb = job.memory_mb or limits.memory_mb
        last_error = ""
        container = await self._take()
        attempt = 0
        while attempt < 2:
            attempt += 1
            started = time.time()
            try:
                if memory_mb != container.memory_mb:  # else set_memory would not touch Docker
                    await self._call(container.set_memory, memory_mb)
                raw = await self._call(
                    container.request, {"op": "run", "job": payload}, timeout_s + OVERDUE_GRACE_S
                )
                if raw["op"] != "result":
                    raise MalformedReply(f"a {raw['op']} reply to a run request")
            except MalformedReply as exc:
                self._retire(container)
                return _malformed_result(job, attempt, str(exc))
            except WorkerOverdue as exc:
                self._retire(container)
                return Result(
                    id=job.id,
                    status=Status.TIMEOUT,
                    passed=False,
                    error=f"exceeded the {timeout_s:g} s time limit and starved the "
                    f"sandbox worker ({exc}); the container was replaced",
                    duration_s=timeout_s,
                    limit="wall",
                    sandbox_attempts=attempt,
                )
            except Exception as exc:  # our infrastructure, never the job's verdict
                if isinstance(exc, WorkerLost) and await self._wait_for_daemon():
                    # The daemon restarted under the job: not the job's doing, and no attempt
                    # of its own spent. It runs again on a container of the new daemon.
                    self._retire(container)
                    attempt -= 1
                    container = await self._take()
                    continue
                if isinstance(exc, WorkerLost) and await self._call(
                    container.was_oom_killed, started
                ):
                    self._retire(container)
                    return _worker_oom_result(job, attempt, time.time() - started)
                last_error = f"{type(exc).__name__}: {exc}"
                if attempt == 2:
                    self._retire(container)
                    break
                fresh = await self._retire(container, keep=True)
                if fresh is None:
                    raise SandboxError(self._unusable()) from exc
                container = fresh
                continue
            except BaseException:
                self._retire(container)  # cancelled mid-job: the container's state is unknown
                raise
            container.jobs_run += 1
            # "dirty": the worker could not clean up after this job; the verdict stands, but the
            # container must not serve another job.
            if container.jobs_run >= self.config.recycle_after or raw["dirty"]:
                self._retire(container)
            else:
                self._idle.put_nowait(container)
            try:
                result = classify(job, raw, timeout_s, output_limit)
            except Exception as exc:  # whatever the job made of its report: its own verdict
                return _malformed_result(job, attempt, f"{type(exc).__name__}: {exc}")
            result.sandbox_attempts = attempt
            return result
        return Result(
            id=job.id,
            status=Status.SANDBOX_ERROR,
            passed=False,
            error=f"sandbox failed twice: {last_error}",
            sandbox_attempts=2,
        )

    async def run_batch(self, job: Job) -> list[Result]:
        """Runs a job with :attr:`Job.candidates` and returns one verdict per candidate (the
        job's own first), each the one a job of its own would get (``trusted_batch.py``).

        The batch takes one container, for at most the sum of its candidates' limits. A
        candidate it did not settle, and every candidate of a batch whose run failed in any
        way, runs again as a job of its own through :meth:`run`, with all of its handling.
        """
        singles = job.singles()
        if len(singles) == 1:
            return [await self.run(job)]
        if self._idle is None:
            raise SandboxError("the pool is not started: use `async with SandboxPool(...)`")
        limits = self.config.limits
        timeout_s = job.timeout_s or limits.timeout_s
        cpu_s = job.cpu_timeout_s or limits.cpu_timeout_s or timeout_s
        payload = job.model_dump(mode="json")
        payload["sample_timeout_s"] = timeout_s
        payload["sample_cpu_timeout_s"] = cpu_s
        # The worker's limits are the whole batch's: a backstop for a judge stopped or killed
        # by its candidate; each candidate's own are enforced inside the job.
        payload["timeout_s"] = timeout_s * len(singles) + BATCH_SLACK_S
        payload["cpu_timeout_s"] = cpu_s * len(singles) + BATCH_SLACK_S
        output_limit = job.output_limit_bytes or limits.output_limit_bytes
        payload["output_limit_bytes"] = output_limit
        memory_mb = job.memory_mb or limits.memory_mb
        results: list[Result | None] = [None] * len(singles)
        container = await self._take()
        try:
            if memory_mb != container.memory_mb:
                await self._call(container.set_memory, memory_mb)
            raw = await self._call(
                container.request,
                {"op": "run", "job": payload},
                payload["timeout_s"] + OVERDUE_GRACE_S,
            )
            if raw["op"] != "result":
                raise MalformedReply(f"a {raw['op']} reply to a run request")
        except Exception:  # whatever it was, every candidate runs again on its own
            self._retire(container)
        except BaseException:
            self._retire(container)
            raise
        else:
            container.jobs_run += 1  # one job for the worker, however many candidates
            if container.jobs_run >= self.config.recycle_after or raw["dirty"]:
                self._retire(container)
            else:
                self._idle.put_nowait(container)
            try:
                results = classify_batch(job, raw, timeout_s, output_limit)
            except Exception:
                pass
        again = [index for index, result in enumerate(results) if result is None]
        if again:
            redone = await asyncio.gather(*(self.run(singles[index]) for index in again))
            for index, result in zip(again, redone, strict=True):
                results[index] = result
        return results  # type: ignore[return-value]

    async def _run_any(self, job: Job) -> list[Result]:
        return await self.run_batch(job) if job.candidates else [await self.run(job)]

    async def map(
        self, jobs: Iterable[Job] | AsyncIterable[Job], max_in_flight: int | None = None
    ) -> AsyncIterator[Result]:
        """Runs ``jobs`` and yields results as they finish (not in input order); a job with
        candidates (:meth:`run_batch`) yields one result per candidate.

        Jobs are pulled from the iterable only as slots free up, so memory stays bounded by
        ``max_in_flight`` (default: twice the number of containers) whatever the batch size.
        """
        limit = max_in_flight or self.config.workers * 2
        iterator = _aiter(jobs)
        pending: set[asyncio.Task[Result]] = set()
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < limit:
                    try:
                        job = await anext(iterator)
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    pending.add(asyncio.create_task(self._run_any(job)))
                if not pending:
                    return
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    for result in task.result():
                        yield result
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


def _worker_oom_result(job: Job, attempt: int, duration_s: float) -> Result:
    """The verdict when the memory a job held outside its own processes (files in the tmpfs
    work directories, kernel buffers) made the kernel kill the worker itself.

    Docker's own record of an out-of-memory event in the container is the evidence, not
    anything the job said. Retrying would only repeat it, and calling it ``sandbox_error``
    would let such a job escape being counted as wrong.
    """
    return Result(
        id=job.id,
        status=Status.OOM,
        passed=False,
        error="the job exhausted the container's memory and the sandbox worker was killed; "
        "the container was replaced",
        duration_s=round(duration_s, 6),
        sandbox_attempts=attempt,
    )


def _malformed_result(job: Job, attempt: int, why: str) -> Result:
    """The verdict on a job whose report cannot be read: only the job's own process can
    write to its report channel, so what is malformed there is the job's doing, and no
    verdict but ``error`` can rest on it."""
    return Result(
        id=job.id,
        status=Status.ERROR,
        passed=False,
        error=f"the sandbox's report on this job is malformed ({why}); no verdict can rest on it",
        sandbox_attempts=attempt,
    )


async def _aiter(jobs: Iterable[Job] | AsyncIterable[Job]) -> AsyncIterator[Job]:
    if isinstance(jobs, AsyncIterable):
        async for job in jobs:
            yield job
    else:
        for job in jobs:
            yield job
