"""Connecting to the Docker daemon, with errors that say how to fix the setup."""

from __future__ import annotations

import docker
from docker.errors import DockerException, ImageNotFound

from sandbox.errors import DockerUnavailable, ImageMissing

START_HINT = (
    "start it (as root: `dockerd &`, or `systemctl start docker`), or point DOCKER_HOST at a "
    "running daemon; on Debian install it first with `apt-get install docker.io`"
)
LABEL = "codefactory.sandbox"


def connect(base_url: str | None = None, timeout_s: float = 60.0) -> docker.DockerClient:
    """Returns a client for a daemon that answers a ping, or raises DockerUnavailable."""
    try:
        if base_url:
            client = docker.DockerClient(base_url=base_url, timeout=int(timeout_s))
        else:
            client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except DockerException as exc:
        where = base_url or "the default socket (DOCKER_HOST or unix:///var/run/docker.sock)"
        raise DockerUnavailable(f"Docker daemon not reachable at {where}: {START_HINT}") from exc
    return client


def require_image(client: docker.DockerClient, image: str) -> str:
    """Returns the image id of ``image`` or raises ImageMissing with the command to build it."""
    try:
        return client.images.get(image).id
    except ImageNotFound as exc:
        raise ImageMissing(
            f"runner image {image} is not built: run `codefactory sandbox build` "
            "(add --offline where no image registry is reachable)"
        ) from exc


def prune_containers(client: docker.DockerClient, include_live_owners: bool = False) -> int:
    """Removes sandbox containers whose owning process is gone (all of them if asked)."""

    removed = 0
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        owner = container.labels.get("codefactory.owner_pid", "")
        if not include_live_owners and owner.isdigit() and _alive(int(owner)):
            continue
        try:
            container.remove(force=True)
            removed += 1
        except DockerException:
            pass
    return removed


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
