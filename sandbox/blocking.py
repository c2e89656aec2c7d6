"""A synchronous face for the pool, for callers without an event loop (scripts, notebooks,
test fixtures): the pool lives on its own loop in a background thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

from sandbox.models import Job, Result
from sandbox.pool import PoolConfig, SandboxPool


class BlockingPool:
    """``with BlockingPool(cfg) as pool: pool.run(job)``; removes its containers on exit."""

    def __init__(self, config: PoolConfig | None = None):
        self.pool = SandboxPool(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="sandbox-loop"
        )

    def __enter__(self) -> BlockingPool:
        self._thread.start()
        try:
            self.submit(self.pool.__aenter__())
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.submit(self.pool.__aexit__(None, None, None))
        finally:
            self._stop()

    def run(self, job: Job) -> Result:
        return self.submit(self.pool.run(job))

    def run_batch(self, job: Job) -> list[Result]:
        """One result per candidate of ``job`` (see :meth:`SandboxPool.run_batch`)."""
        return self.submit(self.pool.run_batch(job))

    def run_many(self, jobs: Iterable[Job]) -> list[Result]:
        """Runs jobs in parallel; results come back in the order of ``jobs``."""

        async def gather() -> list[Result]:
            return await asyncio.gather(*(self.pool.run(job) for job in jobs))

        return self.submit(gather())

    def submit(self, coro):
        """Runs a coroutine on the pool's loop (it may use ``self.pool``) and returns its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
