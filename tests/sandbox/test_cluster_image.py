"""A node whose Docker daemon lacks the runner image gets it from the driver's own image.

The node is a real Ray node pointed at a private Docker daemon (its own socket, data root,
exec root and containerd namespace; started and stopped here, the shared daemon untouched):
its pool actor finds the image missing, the driver streams ``docker save`` to it, the node
loads it, says so, and judges jobs with it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time

import docker
import pytest

from sandbox import Limits, PoolConfig, Status
from tests.sandbox.helpers import bad_job, good_job, wait_until
from tests.support.ray_cluster import IN_CI

pytestmark = pytest.mark.docker


@pytest.fixture
def private_daemon():
    if shutil.which("dockerd") is None or os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI needs dockerd and root to start a private daemon")
        pytest.skip("a private Docker daemon needs dockerd and root")
    root = tempfile.mkdtemp(prefix="cf-node-docker-")
    sock = f"unix://{root}/docker.sock"
    log = open(f"{root}/log", "w")
    # its own network namespace: a dockerd with --bridge=none deletes the host's docker0
    daemon = subprocess.Popen(
        ["unshare", "--net", "--", "dockerd", "--data-root", f"{root}/data", "--exec-root", f"{root}/exec",
         "--pidfile", f"{root}/docker.pid", "-H", sock, "--bridge=none", "--iptables=false",
         "--ip-masq=false", "--ip-forward=false", "--containerd-namespace", "cf-node",
         "--containerd-plugins-namespace", "cf-node-plugins"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    client = None
    try:
        assert wait_until(lambda: _pings(sock), 60), open(f"{root}/log").read()[-2000:]
        client = docker.DockerClient(base_url=sock, timeout=300)
        yield sock, client
    finally:
        if client is not None:
            client.close()
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _pings(sock: str) -> bool:
    try:
        client = docker.DockerClient(base_url=sock, timeout=5)
    except docker.errors.DockerException:
        return False
    try:
        return client.ping()
    finally:
        client.close()


def test_a_node_without_the_image_loads_the_drivers_and_takes_jobs(
    ray_cluster, runner_image, docker_client, private_daemon
):
    from sandbox.cluster import ClusterConfig, open_pool

    sock, node_client = private_daemon
    node = ray_cluster.cluster.add_node(num_cpus=1, env_vars={"DOCKER_HOST": sock})
    ray_cluster.cluster.wait_for_nodes()
    events: list[str] = []
    config = PoolConfig(image=runner_image, limits=Limits(timeout_s=20))
    cluster = ClusterConfig(address=ray_cluster.address, workers_per_node=1)
    jobs = [good_job(f"good-{i}") for i in range(12)] + [bad_job(f"bad-{i}") for i in range(12)]

    async def go():
        async with open_pool(config, cluster, log=events.append) as pool:
            results = [r async for r in pool.map(jobs)]
            return results, pool.nodes[node.node_id].done

    try:
        started = time.monotonic()
        results, done_there = asyncio.run(go())
        took = time.monotonic() - started
    finally:
        ray_cluster.cluster.remove_node(node, allow_graceful=False)
    short = node.node_id[:8]
    mine = [line for line in events if line.startswith(f"node {short}")]
    assert any("loading it from the driver's image" in line for line in mine), events
    assert any(f"loaded {runner_image} from the driver" in line for line in mine), events
    assert done_there > 0, (events, took)
    assert {r.id: r.status for r in results} == {
        job.id: Status.PASSED if job.id.startswith("good") else Status.FAILED for job in jobs
    }
    assert node_client.images.get(runner_image).id == docker_client.images.get(runner_image).id
    assert node_client.api.containers(all=True) == []
