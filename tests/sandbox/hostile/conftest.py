"""The hostile-job tests' pool: one container, shared by the whole package, checked at the end
for containers left behind."""

from __future__ import annotations

import secrets

import pytest

from sandbox import Limits, PoolConfig
from sandbox.blocking import BlockingPool
from tests.sandbox.helpers import (
    own_containers,
)
from tests.sandbox.hostile.common import CANARY_NAME, POOL_TIMEOUT_S

pytestmark = pytest.mark.docker


@pytest.fixture(scope="package")
def canary():
    """A secret in this process's environment before the pool exists (like an API key)."""
    value = secrets.token_hex(16)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CANARY_NAME, value)
        yield value


@pytest.fixture(scope="package")
def hostile_pool(runner_image, docker_client, canary):
    before = {c["Id"] for c in own_containers(docker_client)}
    # Never recycled for its age: a container is replaced here only when a job made it so.
    config = PoolConfig(
        workers=1,
        image=runner_image,
        limits=Limits(timeout_s=POOL_TIMEOUT_S),
        recycle_after=1_000_000,
    )
    with BlockingPool(config) as pool:
        yield pool
    left = [c["Id"][:12] for c in own_containers(docker_client) if c["Id"] not in before]
    assert left == [], f"containers left behind by the hostile pool: {left}"
