"""A verifiable reward for RL trainers: each completion run against its row's tests in the
sandbox pool.

:class:`SandboxReward` has TRL's reward-function signature, ``reward(completions, **columns)
-> list[float | None]``: ``completions`` are strings or chat messages (the last assistant
turn is read), and the ``verification_info`` column of a ``codefactory export --format rl``
dataset says what to run. The job for each completion is the one ``codefactory eval dataset``
builds for a sample of that row (:meth:`DatasetBenchmark.build_job`), so rewards and
evaluation use the same judge.

Three promises a trainer can build on:

- **a warm pool across calls**: the containers start on the first call and are reused until
  :meth:`close` (or the end of the process); the pool lives on its own event loop in a
  background thread, so the reward is called from a plain synchronous training loop, or from
  a thread that already runs an event loop, alike;
- **untrusted behaviour never raises**: a completion that is not code, does not parse, crashes,
  loops, exhausts memory or tries to forge its verdict gets the reward its tests give it
  (0 when none pass), from the sandbox's own accounting;
- **infrastructure failure is never a 0**: a ``sandbox_error`` result or a pool that fails is
  retried (the pool restarted between tries); if it still fails, the completion's reward is
  ``None`` (TRL skips None rewards for that sample) or, with ``on_failure="raise"``,
  :class:`RewardInfrastructureError` is raised naming what failed.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Literal

from factory.evaluate.benchmarks.dataset import DatasetBenchmark, task_for_row
from factory.llm.parsing import extract_code
from sandbox import Job, Limits, PoolConfig, Result, Status
from sandbox.blocking import BlockingPool

log = logging.getLogger(__name__)

REWARD_LIMITS = Limits(timeout_s=10.0)  # as `eval`: a looping completion costs 10 s, not 30


class RewardInfrastructureError(RuntimeError):
    """The sandbox could not judge a completion after every retry (not the completion's fault)."""


class SandboxReward:
    """``reward = SandboxReward(); GRPOTrainer(..., reward_funcs=reward)``.

    Args:
        pool: the sandbox pool (workers, image, per-job limits).
        binary: 1.0 only when every test passes (default: the fraction of tests passed).
        retries: tries after the first for a job the infrastructure failed.
        on_failure: ``"none"`` gives such a completion ``None``; ``"raise"`` raises
            :class:`RewardInfrastructureError`.
    """

    __name__ = "sandbox_reward"  # trainers log a reward function under its __name__

    def __init__(
        self,
        pool: PoolConfig | None = None,
        *,
        binary: bool = False,
        retries: int = 2,
        retry_wait_s: float = 1.0,
        on_failure: Literal["none", "raise"] = "none",
    ) -> None:
        self.pool_config = pool or PoolConfig(limits=REWARD_LIMITS)
        self.binary = binary
        self.retries = retries
        self.retry_wait_s = retry_wait_s
        self.on_failure = on_failure
        self._pool: BlockingPool | None = None
        self.pool_starts = 0  # 1 for the reward's whole life, unless the pool had to be restarted
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._benchmark = DatasetBenchmark([])
        atexit.register(self.close)

    def __call__(
        self, completions: Sequence[Any], verification_info: Sequence[dict] | None = None, **_: Any
    ) -> list[float | None]:
        if verification_info is None:
            raise TypeError(
                "SandboxReward needs the `verification_info` column of a "
                "`codefactory export --format rl` dataset"
            )
        if len(verification_info) != len(completions):
            raise ValueError(
                f"{len(completions)} completions but {len(verification_info)} verification_info"
            )
        jobs = [self._job(c, info) for c, info in zip(completions, verification_info, strict=True)]
        rewards: list[float | None] = [0.0 if job is None else None for job in jobs]
        pending = {i: job for i, job in enumerate(jobs) if job is not None}
        failure = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.retry_wait_s)
            results, failure = self._run(list(pending.values()))
            for (index, _job), result in zip(list(pending.items()), results, strict=True):
                if result is not None and result.status != Status.SANDBOX_ERROR:
                    rewards[index] = self._score(result)
                    del pending[index]
                elif result is not None:
                    failure = f"sandbox_error: {result.error}"
            if not pending:
                return rewards
            log.warning("reward: %d job(s) not judged (%s); retrying", len(pending), failure)
        if self.on_failure == "raise":
            raise RewardInfrastructureError(
                f"the sandbox could not judge {len(pending)} of {len(jobs)} completions after "
                f"{self.retries + 1} tries: {failure}"
            )
        return rewards

    def close(self) -> None:
        """Stops the pool and removes its containers (also done at exit)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            try:
                pool.__exit__(None, None, None)
            except Exception as exc:  # the pool is going anyway
                log.warning("reward: stopping the sandbox pool: %s", exc)

    def __enter__(self) -> SandboxReward:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _job(self, completion: Any, info: dict) -> Job | None:
        """The sandbox job for one completion; None when it holds no code to run (reward 0)."""
        code = extract_code(_completion_text(completion))
        if not code.strip():
            return None
        task = task_for_row(
            {"id": "reward", "tests": info["test_code"], "entry_point": info.get("entry_point")}
        )
        try:
            return self._benchmark.build_job(
                task, code, f"reward-{next(self._ids)}", self.pool_config.limits.timeout_s
            )
        except ValueError:  # text a job cannot carry: the completion's own doing
            return None

    def _run(self, jobs: list[Job]) -> tuple[list[Result | None], str]:
        """Each job's result, None where the pool failed; the pool is restarted after a failure."""
        try:
            pool = self._started()
        except Exception as exc:
            return [None] * len(jobs), f"starting the sandbox pool: {exc}"

        async def run_all() -> list[Result | BaseException]:
            return await asyncio.gather(
                *(pool.pool.run(job) for job in jobs), return_exceptions=True
            )

        try:
            outcomes = pool.submit(run_all())
        except Exception as exc:
            outcomes = [exc] * len(jobs)
        results = [None if isinstance(o, BaseException) else o for o in outcomes]
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            self.close()
            return results, f"{type(errors[0]).__name__}: {errors[0]}"
        return results, ""

    def _started(self) -> BlockingPool:
        with self._lock:
            if self._pool is None:
                self._pool = BlockingPool(self.pool_config).__enter__()
                self.pool_starts += 1
            return self._pool

    def _score(self, result: Result) -> float:
        if self.binary or result.n_tests == 0:
            return 1.0 if result.passed else 0.0
        if result.status not in (Status.PASSED, Status.FAILED):
            return 0.0  # the run did not end normally: its partial tallies are not a verdict
        return result.n_passed / result.n_tests


def _completion_text(completion: Any) -> str:
    """A completion's text: a string, or the last assistant turn of chat messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    if isinstance(completion, Sequence):
        turns = [m for m in completion if isinstance(m, dict)]
        assistant = [m for m in turns if m.get("role") == "assistant"] or turns
        return str(assistant[-1].get("content") or "") if assistant else ""
    return ""
