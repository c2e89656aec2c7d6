"""Running sandbox jobs over a Ray cluster: one warm pool per node, fed by the driver.

    async with open_pool(PoolConfig(...), ClusterConfig(address="auto")) as pool:
        result = await pool.run(job)
        async for result in pool.map(jobs):
            ...

:func:`open_pool` returns a plain :class:`~sandbox.pool.SandboxPool` when no cluster is asked
for, so callers have one code path; Ray is imported only when a cluster is.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.cluster.config import RAY_MISSING, ClusterConfig, require_ray
from sandbox.pool import PoolConfig, SandboxPool

__all__ = ["RAY_MISSING", "ClusterConfig", "open_pool", "require_ray"]


def open_pool(
    config: PoolConfig,
    cluster: ClusterConfig | None = None,
    log: Callable[[str], None] | None = None,
):
    """The pool to run ``config``'s jobs in: local, or one per node of ``cluster``."""
    if cluster is None:
        return SandboxPool(config)
    require_ray()
    from sandbox.cluster.dispatch import ClusterPool

    return ClusterPool(config, cluster, log=log)
