"""Placing one pool actor on each alive node and getting it ready to take jobs.

Nodes are found in Ray's own node table, so a node joins with a plain ``ray start
--address ...`` and codefactory places its pool (node affinity, never soft: a pool must drive
its own node's Docker daemon). Each step is reported on the way: the image present, loaded
from the driver or built, the containers warm; or why the node is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.cluster.config import ClusterConfig
from sandbox.cluster.image_sync import driver_image_chunks
from sandbox.cluster.node_pool import NODE_LABEL, RUN_LABEL, NodePool
from sandbox.image import runner_hash
from sandbox.pool import PoolConfig


@dataclass(eq=False)
class Node:
    """A node whose pool takes jobs, and how many of them it holds right now."""

    node_id: str
    host: str
    actor: Any
    workers: int
    capacity: int
    in_flight: int = 0
    done: int = 0
    image_id: str = ""
    alive: bool = True
    jobs: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"{self.node_id[:8]} ({self.host})"


def alive_nodes() -> list[dict[str, Any]]:
    """Ray's table of nodes that are alive now (a blocking call to the cluster)."""
    import ray

    return [node for node in ray.nodes() if node.get("Alive")]


class Placer:
    """Starts and readies pool actors; ``place`` returns a Node or None (skipped, reported)."""

    def __init__(
        self,
        pool: PoolConfig,
        cluster: ClusterConfig,
        run_label: str,
        log: Callable[[str], None],
        node_class: type = NodePool,
    ):
        import ray

        self.pool = pool
        self.cluster = cluster
        self.run_label = run_label
        self.log = log
        self.actor_class = ray.remote(node_class)
        self.skipped: dict[str, str] = {}

    async def place(self, info: dict[str, Any]) -> Node | None:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        node_id = info["NodeID"]
        short = f"{node_id[:8]} ({info.get('NodeManagerAddress', '?')})"
        actor = self.actor_class.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
            num_cpus=0,
            max_restarts=0,
            max_task_retries=0,
            max_concurrency=1000,
        ).remote(node_id)
        try:
            report = await actor.prepare.remote(runner_hash(), self.pool.image)
            if report["state"] == "missing":
                report = await self._bring_image(actor, short)
            if report["state"] != "ready":
                return self._skip(actor, node_id, short, report["detail"])
            workers = self.cluster.workers_per_node or int(
                info.get("Resources", {}).get("CPU") or report.get("cpus") or 1
            )
            labels = {**self.pool.labels, NODE_LABEL: node_id, RUN_LABEL: self.run_label}
            # Each node drives its own daemon (its DOCKER_HOST or default socket), never the
            # driver's.
            config = self.pool.model_copy(
                update={"workers": workers, "labels": labels, "docker_host": None}
            )
            started = await actor.start.remote(config.model_dump(mode="json"))
        except ray.exceptions.RayError as exc:
            return self._skip(actor, node_id, short, _first_line(exc))
        except BaseException:  # cancelled (the run stops): the half-ready pool must not stay
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)
            raise
        self.log(f"node {short}: {report['detail']}, {workers} containers warm")
        return Node(
            node_id=node_id,
            host=report.get("host", "?"),
            actor=actor,
            workers=workers,
            capacity=workers * self.cluster.in_flight_per_container,
            image_id=started.get("image_id") or "",
        )

    async def _bring_image(self, actor, short: str) -> dict[str, Any]:
        image = self.pool.image
        chunks = await asyncio.to_thread(driver_image_chunks, image)
        if chunks is None:
            self.log(f"node {short}: {image} missing, building it there (offline if need be)")
            return await actor.build.remote()
        self.log(f"node {short}: {image} missing, loading it from the driver's image")
        await actor.load_begin.remote()
        sent = 0
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            await actor.load_chunk.remote(chunk)
            sent += len(chunk)
        self.log(f"node {short}: sent {sent / 1e6:.0f} MB, loading")
        return await actor.load_end.remote(image)

    def _skip(self, actor, node_id: str, short: str, reason: str) -> None:
        import ray

        self.skipped[node_id] = reason
        self.log(f"node {short} skipped: {reason}")
        try:
            ray.kill(actor, no_restart=True)
        except Exception:
            pass
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return next((line for line in reversed(text) if line.strip()), type(exc).__name__)[:300]
