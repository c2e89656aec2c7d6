"""Getting this version's runner image onto a node: present, loaded from the driver, or built.

The tag carries the hash of the runner's files (:func:`sandbox.image.default_image`), so a
node can only ever run the worker the driver runs. Loading streams the driver's ``docker save``
archive in chunks, so neither side holds the whole image in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from docker.errors import DockerException, ImageNotFound

from sandbox.docker_client import connect
from sandbox.errors import DockerUnavailable

CHUNK_BYTES = 8 << 20


def image_state(client, image: str) -> dict[str, Any]:
    try:
        found = client.images.get(image)
    except ImageNotFound:
        return {"state": "missing", "detail": f"{image} is not on this node"}
    except DockerException as exc:
        return {"state": "no_docker", "detail": f"Docker daemon failed: {exc}"}
    return {"state": "ready", "detail": f"{image} present", "image_id": found.id}


def driver_image_chunks(image: str) -> Iterator[bytes] | None:
    """The driver's ``docker save`` of ``image`` in chunks, or None if the driver lacks it."""
    try:
        client = connect(timeout_s=600)
    except DockerUnavailable:
        return None
    try:
        client.images.get(image)
    except (ImageNotFound, DockerException):
        client.close()
        return None

    def chunks() -> Iterator[bytes]:
        try:
            yield from client.api.get_image(image, chunk_size=CHUNK_BYTES)
        finally:
            client.close()

    return chunks()


def load_image_file(client, path: str, image: str) -> dict[str, Any]:
    """Loads a ``docker save`` archive; ready only if ``image`` is then present."""
    try:
        with open(path, "rb") as archive:
            for _ in client.api.load_image(archive):
                pass
    except DockerException as exc:
        return {"state": "failed", "detail": f"docker load failed: {exc}"}
    state = image_state(client, image)
    if state["state"] != "ready":
        return {"state": "failed", "detail": f"the archive loaded but {image} is still missing"}
    return {**state, "detail": f"loaded {image} from the driver"}
