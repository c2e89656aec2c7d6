"""Shared fixtures. Docker tests use the real daemon and the real runner image.

In CI (``CI=true``) a missing daemon, image or MBPP copy fails the run; elsewhere those tests
skip with the reason, so the fast unit tests still run on a laptop without Docker.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parent.parent
SHARED_BENCHMARKS = REPO.parent / "shared" / "benchmarks"

from tests.support.ray_cluster import ray_cluster  # noqa: E402, F401  (the --ray tests' cluster)


def _docker_or_skip():
    from sandbox.docker_client import connect
    from sandbox.errors import DockerUnavailable

    try:
        return connect()
    except DockerUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI needs Docker: {exc}")
        pytest.skip(f"no Docker daemon reachable outside CI: {exc}")


@pytest.fixture(scope="session")
def docker_client():
    client = _docker_or_skip()
    yield client
    client.close()


@pytest.fixture(scope="session")
def runner_image(docker_client) -> str:
    """The runner image for this version of the worker, built once if it is missing."""
    from sandbox.image import build_image

    lock_path = Path(tempfile.gettempdir()) / "codefactory-image-build.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return build_image(docker_client, log=lambda line: None)


@pytest.fixture(scope="session")
def sandbox_pool(runner_image):
    """One pool of two warm containers shared by the whole session (like a real run)."""
    from sandbox import Limits, PoolConfig
    from sandbox.blocking import BlockingPool

    config = PoolConfig(workers=2, image=runner_image, limits=Limits(timeout_s=10))
    with BlockingPool(config) as pool:
        yield pool


def _shared_benchmark(name: str) -> Path:
    """A benchmark file from ``../shared/benchmarks``: required in CI, skipped without it
    elsewhere (MBPP is not on PyPI; users pass their own path)."""
    path = SHARED_BENCHMARKS / name
    if not path.exists():
        if IN_CI:
            pytest.fail(f"CI needs the MBPP copy at {path}")
        pytest.skip(f"MBPP copy not found at {path} outside CI")
    return path


@pytest.fixture
def mbpp_path() -> Path:
    return _shared_benchmark("mbpp.jsonl")


@pytest.fixture
def sanitized_mbpp_path() -> Path:
    return _shared_benchmark("sanitized-mbpp.json")


def pytest_collection_modifyitems(items):
    """Tests on the Ray cluster run last (keeping their order), so its processes live only
    while those tests run and no other test shares the machine with an idle cluster."""
    items.sort(key=lambda item: "ray_cluster" in getattr(item, "fixturenames", ()))
