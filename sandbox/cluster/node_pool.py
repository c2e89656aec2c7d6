"""The actor that owns one node's sandbox pool, over that node's own Docker daemon.

Placed on its node by the driver (node affinity). It answers in plain data, never with an
exception for anything a job does: Ray retries failed actor calls, and a job's crash, hang or
hostility is already a verdict in the :class:`~sandbox.models.Result`. An exception out of
:meth:`NodePool.run` can only mean the node itself is unusable, and the driver then re-runs
the job elsewhere. Containers are started with ``stdin_once`` and ``auto_remove``: if this
process dies with its node, each container's worker reads end-of-file and Docker removes it.
"""

from __future__ import annotations

import os
import socket
import tempfile
from typing import Any

from sandbox.cluster.image_sync import image_state, load_image_file
from sandbox.docker_client import connect
from sandbox.errors import SandboxError
from sandbox.image import build_image, runner_hash
from sandbox.models import Job
from sandbox.pool import PoolConfig, SandboxPool

NODE_LABEL = "codefactory.node"
RUN_LABEL = "codefactory.run"


class NodePool:
    """One node's pool; the driver calls ``prepare``, maybe ``load_*``/``build``, ``start``."""

    def __init__(self, node_id: str):
        self.node_id = node_id
        self.pool: SandboxPool | None = None
        self._client = None
        self._upload: Any = None
        self._log: list[str] = []

    async def prepare(self, driver_hash: str, image: str) -> dict[str, Any]:
        """What this node is and whether it can take jobs: ``state`` is ready, missing,
        no_docker or mismatch (another version of the runner is installed here)."""
        info = {
            "node_id": self.node_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "cpus": os.cpu_count() or 1,
        }
        if runner_hash() != driver_hash:
            return {
                **info,
                "state": "mismatch",
                "detail": f"this node's codefactory has runner {runner_hash()}, the driver's "
                f"{driver_hash}: install the driver's version here",
            }
        try:
            self._client = connect()
        except SandboxError as exc:
            return {**info, "state": "no_docker", "detail": str(exc)}
        return {**info, **image_state(self._client, image)}

    async def load_begin(self) -> None:
        self._upload = tempfile.NamedTemporaryFile(prefix="codefactory-image-", suffix=".tar")

    async def load_chunk(self, chunk: bytes) -> None:
        self._upload.write(chunk)

    async def load_end(self, image: str) -> dict[str, Any]:
        """Loads the uploaded ``docker save`` archive into this node's daemon."""
        upload, self._upload = self._upload, None
        with upload:
            upload.flush()
            return load_image_file(self._client, upload.name, image)

    async def build(self) -> dict[str, Any]:
        """Builds the runner image here (offline when no registry answers)."""
        lines: list[str] = []
        try:
            tag = build_image(self._client, log=lines.append)
        except SandboxError as exc:
            return {"state": "failed", "detail": str(exc), "log": lines[-20:]}
        return {"state": "ready", "detail": f"built {tag}", "log": lines[-5:]}

    async def start(self, config: dict[str, Any]) -> dict[str, Any]:
        """Starts the warm containers; returns the image id they run."""
        pool = SandboxPool(PoolConfig.model_validate(config))
        await pool.__aenter__()
        self.pool = pool
        return {"image_id": pool.image_id, "workers": pool.config.workers}

    async def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """One job's result as plain data; raises only if this node's pool is unusable."""
        if self.pool is None:
            raise SandboxError(f"node {self.node_id[:12]}: the pool is not started")
        result = await self.pool.run(Job.model_validate(job))
        return result.model_dump(mode="json")

    async def stop(self) -> None:
        """Removes every container this node's pool started."""
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.__aexit__(None, None, None)


class NoopNodePool(NodePool):
    """A node that answers every job at once without Docker: measures the driver alone.

    Its results say ``sandbox_error`` ("not run"), so nothing measured with it can pass for
    a verdict; only ``benchmarks/ray_bench.py`` uses it.
    """

    async def prepare(self, driver_hash: str, image: str) -> dict[str, Any]:
        return {"node_id": self.node_id, "host": socket.gethostname(), "pid": os.getpid(),
                "cpus": os.cpu_count() or 1, "state": "ready", "detail": "no-op"}  # fmt: skip

    async def start(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"image_id": "", "workers": PoolConfig.model_validate(config).workers}

    async def run(self, job: dict[str, Any]) -> dict[str, Any]:
        return {"id": job["id"], "status": "sandbox_error", "passed": False, "error": "not run"}

    async def stop(self) -> None:
        return None
