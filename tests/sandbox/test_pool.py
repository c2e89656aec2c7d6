"""The pool's life cycle: every container it starts is removed on exit, exception and
cancellation; containers are recycled; map keeps memory bounded; setup errors are clear."""

from __future__ import annotations

import asyncio

import pytest

from sandbox import (
    DockerUnavailable,
    ImageMissing,
    Limits,
    PoolConfig,
    SandboxError,
    SandboxPool,
    Status,
)
from tests.sandbox.helpers import (
    assert_status,
    bad_job,
    clean_check_job,
    good_job,
    own_containers,
    script_job,
)

pytestmark = pytest.mark.docker

DAEMONS = script_job(
    "daemons",
    "import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        os.setsid()\n"
    "        while True:\n            time.sleep(0.01)\ntime.sleep(0.1)\n",
)
SLEEPER = script_job("sleeper", "import time\ntime.sleep(30)\n", timeout_s=60)


def config(runner_image, **overrides) -> PoolConfig:
    values = {"workers": 2, "image": runner_image, "limits": Limits(timeout_s=20), **overrides}
    return PoolConfig(**values)


def container_ids(docker_client) -> set[str]:
    return {c["Id"] for c in own_containers(docker_client)}


def test_containers_are_removed_on_exit(runner_image, docker_client):
    before = container_ids(docker_client)

    async def go():
        async with SandboxPool(config(runner_image)) as pool:
            assert len(container_ids(docker_client) - before) == 2
            results = [result async for result in pool.map([DAEMONS, DAEMONS, good_job()])]
            assert {r.status for r in results} == {Status.PASSED}

    asyncio.run(go())
    assert container_ids(docker_client) - before == set()


def test_containers_are_removed_when_the_body_raises(runner_image, docker_client):
    before = container_ids(docker_client)

    async def go():
        async with SandboxPool(config(runner_image)) as pool:
            await pool.run(DAEMONS)
            raise RuntimeError("caller failed")

    with pytest.raises(RuntimeError, match="caller failed"):
        asyncio.run(go())
    assert container_ids(docker_client) - before == set()


def test_containers_are_removed_when_cancelled_mid_job(runner_image, docker_client):
    before = container_ids(docker_client)

    async def go():
        async with SandboxPool(config(runner_image)) as pool:
            running = asyncio.create_task(pool.run(SLEEPER))
            await asyncio.sleep(1.5)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
            # The cancelled job's container is replaced; the pool keeps working.
            assert_status(await pool.run(good_job()), Status.PASSED)
            assert_status(await pool.run(clean_check_job()), Status.PASSED)

    asyncio.run(go())
    assert container_ids(docker_client) - before == set()


def test_a_cancelled_map_removes_everything(runner_image, docker_client):
    before = container_ids(docker_client)

    async def go():
        async with SandboxPool(config(runner_image)) as pool:
            async for _ in pool.map([SLEEPER] * 6):
                pass

    async def main():
        task = asyncio.create_task(go())
        await asyncio.sleep(3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert container_ids(docker_client) - before == set()


def test_containers_are_recycled_after_n_jobs(runner_image, docker_client):
    before = container_ids(docker_client)

    async def go():
        seen = []
        async with SandboxPool(config(runner_image, workers=1, recycle_after=2)) as pool:
            for i in range(5):
                assert_status(await pool.run(good_job(f"g{i}")), Status.PASSED)
                seen.append(container_ids(docker_client) - before)
        return seen

    seen = asyncio.run(go())
    # A fresh container after every second job: three different ones over five jobs.
    assert len(set().union(*seen)) >= 3
    assert container_ids(docker_client) - before == set()


def test_map_pulls_jobs_lazily_and_yields_every_result(runner_image):
    pulled, yielded, ahead = [], [], []

    def jobs():
        for i in range(30):
            pulled.append(i)
            ahead.append(len(pulled) - len(yielded))
            yield good_job(f"good-{i}") if i % 3 else bad_job(f"bad-{i}")

    async def go():
        async with SandboxPool(config(runner_image)) as pool:
            async for result in pool.map(jobs(), max_in_flight=4):
                yielded.append(result)

    asyncio.run(go())
    assert sorted(r.id for r in yielded) == sorted(
        f"good-{i}" if i % 3 else f"bad-{i}" for i in range(30)
    )
    for result in yielded:
        assert_status(result, Status.PASSED if result.id.startswith("good") else Status.FAILED)
    assert max(ahead) <= 4 + 1, "never more than max_in_flight jobs held at once"


def test_a_job_may_keep_more_output_than_the_pools_limit(runner_image):
    # A benchmark's reference run prints megabytes of expected outputs in the same pool whose
    # samples keep 64 KiB: the job's own limit, never a sample's, lifts the pool's.
    write = "import sys\nsys.stdout.write('x' * 300_000)\n"
    wide = script_job("wide", write).model_copy(update={"output_limit_bytes": 1 << 20})

    async def go():
        async with SandboxPool(config(runner_image)) as pool:
            return await pool.run(wide), await pool.run(script_job("narrow", write))

    kept, capped = asyncio.run(go())
    assert_status(kept, Status.PASSED)
    assert len(kept.stdout) == 300_000 and not kept.stdout_truncated
    assert capped.stdout_truncated and len(capped.stdout) < 300_000


def test_run_before_start_is_an_error():
    pool = SandboxPool(PoolConfig(workers=1))
    with pytest.raises(SandboxError, match="not started"):
        asyncio.run(pool.run(good_job()))


def test_unreachable_daemon_is_a_clear_error(runner_image):
    async def go():
        async with SandboxPool(config(runner_image, docker_host="unix:///nonexistent.sock")):
            pass

    with pytest.raises(
        DockerUnavailable, match="Docker daemon not reachable at unix:///nonexistent"
    ):
        asyncio.run(go())


def test_missing_image_says_to_build(docker_client):
    async def go():
        async with SandboxPool(PoolConfig(workers=1, image="codefactory-runner:does-not-exist")):
            pass

    with pytest.raises(ImageMissing, match="codefactory sandbox build"):
        asyncio.run(go())
