"""The driver's side of a cluster run: a pool with :class:`~sandbox.pool.SandboxPool`'s face
whose containers are spread over every node of a Ray cluster.

- **Placement**: one pool actor per alive node (:mod:`sandbox.cluster.placement`); a watcher
  polls Ray's node table, so a node that joins mid-run gets a pool and work, and a node that
  leaves is noticed even when it holds no job.
- **Backpressure**: each node holds at most ``in_flight_per_container`` jobs per container;
  ``map`` pulls jobs from its iterable only while the cluster has room, so the driver's memory
  stays flat whatever the number of jobs.
- **Faults**: a job whose node (or actor) dies is re-run on another node; a ``sandbox_error``
  is re-run on a node that has not tried it yet. Each ``run`` returns exactly one result, and a
  result from a node that was lost is never returned. Only after ``redispatch_limit`` tries does
  a ``sandbox_error`` stand (it is infrastructure, never counted as the job's answer).
- **Stopping**: ``__aexit__`` (also on Ctrl-C, SIGTERM, cancellation) asks every live node to
  remove its containers, then kills the actors; a dead node's containers remove themselves
  (their worker reads end-of-file on stdin and Docker's ``auto_remove`` does the rest).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable

from sandbox.cluster.config import ClusterConfig, probe
from sandbox.cluster.node_pool import NodePool
from sandbox.cluster.placement import Node, Placer, alive_nodes
from sandbox.errors import SandboxError
from sandbox.models import Job, Result, Status
from sandbox.pool import PoolConfig, _aiter


def _stderr(line: str) -> None:
    print(f"ray: {line}", file=sys.stderr, flush=True)


class ClusterPool:
    """``async with ClusterPool(pool_config, cluster_config) as pool``; see the module doc."""

    def __init__(
        self,
        config: PoolConfig,
        cluster: ClusterConfig,
        log: Callable[[str], None] | None = None,
        node_class: type = NodePool,
    ):
        self.config = config
        self.cluster = cluster
        self.log = log or _stderr
        self.node_class = node_class
        self.image_id: str | None = None
        self.run_label = cluster.run_label or uuid.uuid4().hex[:12]
        self.nodes: dict[str, Node] = {}
        self.redispatched = 0
        self.nodes_lost = 0
        self._placer: Placer | None = None
        self._placing: dict[str, asyncio.Task] = {}
        self._changed: asyncio.Condition | None = None
        self._watcher: asyncio.Task | None = None
        self._owns_ray = False
        self._closing = False

    # ---------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> ClusterPool:
        self._changed = asyncio.Condition()
        self._connect()
        try:
            self._placer = Placer(
                self.config, self.cluster, self.run_label, self.log, self.node_class
            )
            await self._place_new(await asyncio.to_thread(alive_nodes))
            if not self._alive():
                raise SandboxError(self._no_node_message())
            self._watcher = asyncio.create_task(self._watch())
        except BaseException:
            await asyncio.shield(self._shutdown())
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        await asyncio.shield(self._shutdown())

    def _connect(self) -> None:
        import ray

        if ray.is_initialized():
            return
        probe(self.cluster)
        # ray.init installs its own SIGTERM handler (sys.exit); keep ours, which unwinds the
        # run through cancellation so every node's pool is stopped.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGTERM) if main else None
        try:
            ray.init(
                address=self.cluster.address,
                log_to_driver=False,
                logging_level="WARNING",
                configure_logging=False,
            )
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise SandboxError(
                f"cannot connect to the Ray cluster at {self.cluster.address!r} ({exc}): start "
                "one with `ray start --head` and pass its address (host:6379) or auto"
            ) from None
        finally:
            if main and previous is not None:
                signal.signal(signal.SIGTERM, previous)
        self._owns_ray = True

    async def _shutdown(self) -> None:
        import ray

        self._closing = True
        tasks = [self._watcher, *self._placing.values()]
        for task in tasks:
            if task is not None:
                task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)
        live = [node for node in self.nodes.values() if node.alive]
        stops = [node.actor.stop.remote() for node in live]
        if stops:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(
                    asyncio.gather(*stops, return_exceptions=True), self.cluster.stop_timeout_s
                )
        for node in self.nodes.values():
            with contextlib.suppress(Exception):
                ray.kill(node.actor, no_restart=True)
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()
        if self._owns_ray:
            self._owns_ray = False
            with contextlib.suppress(Exception):
                ray.shutdown()

    # ---------------------------------------------------------------- nodes
    def _alive(self) -> list[Node]:
        return [node for node in self.nodes.values() if node.alive]

    @property
    def workers(self) -> int:
        """Containers warm over the cluster's alive nodes."""
        return sum(node.workers for node in self._alive())

    @property
    def capacity(self) -> int:
        """Jobs the cluster holds at once right now (at least 1, so ``map`` makes progress)."""
        return max(1, sum(node.capacity for node in self._alive()))

    async def _place_new(self, infos: list[dict]) -> None:
        skipped = self._placer.skipped
        fresh = [
            info
            for info in infos
            if info["NodeID"] not in self.nodes
            and info["NodeID"] not in skipped
            and info["NodeID"] not in self._placing
        ]
        tasks = [asyncio.create_task(self._place_one(info)) for info in fresh]
        for info, task in zip(fresh, tasks, strict=True):
            self._placing[info["NodeID"]] = task
        if tasks:
            await asyncio.gather(*tasks)

    async def _place_one(self, info: dict) -> None:
        try:
            node = await self._placer.place(info)
        finally:
            self._placing.pop(info["NodeID"], None)
        if node is None:
            return
        if self._closing:
            self.nodes[node.node_id] = node  # so the shutdown stops it
            return
        self.image_id = self.image_id or node.image_id
        async with self._changed:
            self.nodes[node.node_id] = node
            self._changed.notify_all()

    async def _watch(self) -> None:
        """Finds nodes that joined (places their pools) and nodes that died."""
        while True:
            await asyncio.sleep(self.cluster.join_poll_s)
            try:
                infos = await asyncio.to_thread(alive_nodes)
            except Exception as exc:  # the cluster's control plane hiccuped: look again later
                self.log(f"cannot read the node table: {exc}")
                continue
            alive_ids = {info["NodeID"] for info in infos}
            for node in self._alive():
                if node.node_id not in alive_ids:
                    await self._lose(node, "the node left the cluster")
            fresh = [info for info in infos if info["NodeID"] not in self._placing]
            for info in fresh:
                if info["NodeID"] in self.nodes or info["NodeID"] in self._placer.skipped:
                    continue
                self.log(f"node {info['NodeID'][:8]} joined: placing a pool")
                task = asyncio.create_task(self._place_one(info))
                self._placing[info["NodeID"]] = task

    async def _lose(self, node: Node, reason: str) -> None:
        import ray

        if not node.alive:
            return
        node.alive = False
        self.nodes_lost += 1
        self.log(
            f"node {node.name} lost ({reason}): its {node.in_flight} job(s) in flight "
            "are re-run on other nodes"
        )
        with contextlib.suppress(Exception):
            ray.kill(node.actor, no_restart=True)
        async with self._changed:
            self._changed.notify_all()

    def _no_node_message(self) -> str:
        skipped = "; ".join(
            f"{node_id[:8]}: {why}" for node_id, why in self._placer.skipped.items()
        )
        return "no node of the Ray cluster can run sandbox jobs" + (
            f" ({skipped})" if skipped else ""
        )

    async def _acquire(self, exclude: set[str]) -> Node | None:
        """The least loaded node with room; None when only nodes in ``exclude`` are left."""
        deadline: float | None = None
        async with self._changed:
            while True:
                if self._closing:
                    raise SandboxError("the cluster pool is shut down")
                alive = self._alive()
                usable = [node for node in alive if node.node_id not in exclude]
                if alive and not usable:
                    return None
                room = [node for node in usable if node.in_flight < node.capacity]
                if room:
                    node = min(room, key=lambda n: (n.in_flight / n.capacity, -n.capacity))
                    node.in_flight += 1
                    return node
                timeout = None
                if not alive:
                    now = time.monotonic()
                    deadline = deadline or now + self.cluster.no_node_wait_s
                    timeout = deadline - now
                    if timeout <= 0:
                        raise SandboxError(self._no_node_message() + ": every node was lost")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)

    async def _release(self, node: Node) -> None:
        node.in_flight -= 1
        async with self._changed:
            self._changed.notify_all()

    # ---------------------------------------------------------------- running jobs
    async def run(self, job: Job) -> Result:
        """Runs one job somewhere in the cluster; exactly one result, see the module doc."""
        import ray

        if self._changed is None:
            raise SandboxError("the pool is not started: use `async with ClusterPool(...)`")
        payload = job.model_dump(mode="json")
        tried: set[str] = set()
        last: Result | None = None
        for attempt in range(1, self.cluster.redispatch_limit + 1):
            node = await self._acquire(tried)
            if node is None:
                break
            tried.add(node.node_id)
            ref = node.actor.run.remote(payload)
            try:
                raw = await ref
            except ray.exceptions.RayError as exc:
                await self._lose(node, _cause(exc))
                last = _lost_result(job, attempt, node, exc)
                self.redispatched += 1
                continue
            except BaseException:
                with contextlib.suppress(Exception):
                    ray.cancel(ref)
                raise
            finally:
                await self._release(node)
            if not node.alive:
                # The node was declared lost while this call was out: its answer is not
                # trusted (it may be a sandbox_error caused by the loss itself).
                last = _lost_result(job, attempt, node, None)
                self.redispatched += 1
                continue
            node.done += 1
            result = Result.model_validate(raw)
            if result.status != Status.SANDBOX_ERROR:
                return result
            last = result
            self.redispatched += 1
        assert last is not None
        return last

    async def map(
        self, jobs: Iterable[Job] | AsyncIterable[Job], max_in_flight: int | None = None
    ) -> AsyncIterator[Result]:
        """Runs ``jobs``, yielding results as they finish; pulls jobs only as room frees up."""
        iterator = _aiter(jobs)
        pending: set[asyncio.Task[Result]] = set()
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < (max_in_flight or self.capacity):
                    try:
                        job = await anext(iterator)
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    pending.add(asyncio.create_task(self.run(job)))
                if not pending:
                    return
                done, pending = await asyncio.wait(
                    pending, timeout=self.cluster.join_poll_s, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    yield task.result()
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


def _cause(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:300]


def _lost_result(job: Job, attempt: int, node: Node, exc: BaseException | None) -> Result:
    why = _cause(exc) if exc is not None else "the node was lost during the job"
    return Result(
        id=job.id,
        status=Status.SANDBOX_ERROR,
        passed=False,
        error=f"node {node.name} was lost while running this job ({why}); tried on "
        f"{attempt} node(s)",
        sandbox_attempts=attempt,
    )
