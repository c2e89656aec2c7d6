"""A real Ray cluster on this host for the ``--ray`` tests: a head and more nodes.

Every node shares this host's one Docker daemon; each node's pool labels its containers with
the node's id (``codefactory.node``), which keeps them apart and lets a test check that none is
left behind. One extra node is given an unreachable Docker daemon: it must be reported and
skipped. Sized for CI's two cores: one CPU per node, two containers per node.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


WORKERS_PER_NODE = 2
NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


@dataclass
class RayCluster:
    cluster: object
    docker_nodes: list = field(default_factory=list)  # the Ray Node handles with a daemon
    no_docker_node: object = None
    every_node_id: set[str] = field(default_factory=set)

    @property
    def address(self) -> str:
        return self.cluster.address

    def add_docker_node(self):
        node = self.cluster.add_node(num_cpus=1)
        self.cluster.wait_for_nodes()
        self.docker_nodes.append(node)
        self.every_node_id.add(node.node_id)
        return node

    def remove(self, node) -> None:
        self.cluster.remove_node(node, allow_graceful=False)
        self.docker_nodes.remove(node)

    def containers(self, docker_client) -> list[dict]:
        """Sandbox containers (any state) of any node this cluster ever had."""
        found = docker_client.api.containers(all=True, filters={"label": ["codefactory.node"]})
        return [c for c in found if c["Labels"].get("codefactory.node") in self.every_node_id]


@pytest.fixture(scope="session")
def ray_cluster(runner_image):
    try:
        from ray.cluster_utils import Cluster
    except ImportError:
        if IN_CI:
            pytest.fail("CI needs Ray: scripts/setup.sh installs codefactory[ray]")
        pytest.skip("Ray is not installed (pip install 'codefactory[ray]')")
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    handle = RayCluster(cluster)
    handle.docker_nodes.append(cluster.head_node)
    handle.every_node_id.add(cluster.head_node.node_id)
    handle.add_docker_node()
    handle.no_docker_node = cluster.add_node(num_cpus=1, env_vars=NO_DOCKER)
    handle.every_node_id.add(handle.no_docker_node.node_id)
    cluster.wait_for_nodes()
    try:
        yield handle
    finally:
        cluster.shutdown()
