"""Settings of a cluster run, validated once at the edge like every other config."""

from __future__ import annotations

import socket

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.errors import SandboxError

RAY_MISSING = (
    "--ray needs Ray, which is not installed: install it with `pip install 'codefactory[ray]'` "
    "(on the driver and on every node)"
)


class RayMissing(SandboxError):
    """``--ray`` was asked for but the ``ray`` extra is not installed."""


def require_ray() -> None:
    """Raises :class:`RayMissing` (one line saying how to install it) when Ray is absent."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise RayMissing(RAY_MISSING) from None


class ClusterConfig(BaseModel):
    """Where the cluster is and how each node's pool is sized."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = Field(
        min_length=1, description="Ray address (host:port, ray://...) or auto (RAY_ADDRESS)"
    )
    workers_per_node: int | None = Field(
        None, ge=1, le=256, description="containers per node (default: the node's CPU count)"
    )
    in_flight_per_container: int = Field(
        2, ge=1, le=16, description="jobs queued per container, hiding the round trip"
    )
    join_poll_s: float = Field(2.0, gt=0, le=600, description="how often to look for new nodes")
    no_node_wait_s: float = Field(
        60.0, ge=0, le=3600, description="how long jobs wait for a node when none is left"
    )
    redispatch_limit: int = Field(
        3, ge=1, le=100, description="nodes a job may be tried on before its error stands"
    )
    stop_timeout_s: float = Field(60.0, gt=0, description="how long a node gets to clean up")
    run_label: str = Field("", description="label value shared by every container of this run")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip()
        if value == "auto" or value.startswith("ray://"):
            return value
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("give the head's host:port (such as 10.0.0.1:6379), ray://... or auto")
        return value

    @property
    def gcs_endpoint(self) -> tuple[str, int] | None:
        """(host, port) to probe before connecting; None for auto and ray:// addresses."""
        if self.address == "auto" or self.address.startswith("ray://"):
            return None
        host, _, port = self.address.rpartition(":")
        return host.strip("[]"), int(port)


PROBE_TIMEOUT_S = 5.0


def probe(cluster: ClusterConfig) -> None:
    """Fails in seconds, not minutes, when nothing listens at the head's address (Ray itself
    keeps retrying a dead address for minutes). Needs no Ray: the CLI calls it at the edge."""
    endpoint = cluster.gcs_endpoint
    if endpoint is None:
        return
    try:
        socket.create_connection(endpoint, timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        raise SandboxError(
            f"cannot reach the Ray cluster at {cluster.address} ({exc.strerror or exc}): start "
            f"its head with `ray start --head --port {endpoint[1]}`, or check the address"
        ) from None
