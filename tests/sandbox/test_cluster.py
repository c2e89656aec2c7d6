"""``sandbox run --jobs --ray`` and the cluster pool on a real Ray cluster (head + nodes on
this host, one shared Docker daemon, containers kept apart by node labels).

Verdicts must be the ones the local pool gives; a node that dies mid-run must cost no job and
no container; a node that joins mid-run must get work; Ctrl-C on the driver must leave no
container on any node.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time

import pytest

from sandbox import Job, Limits, PoolConfig, Status
from tests.sandbox.helpers import ADD, ADD_TESTS, WRONG_ADD, script_job, wait_until

pytestmark = pytest.mark.docker

CLI = [sys.executable, "-m", "factory.cli.main"]
# Hostile jobs whose verdicts the cluster must give exactly as the local pool does (the
# hostile suite in tests/sandbox/hostile/ covers each class in depth, on the local pool).
HOSTILE_CASES = {
    "busy-loop": (
        Job(id="busy-loop", solution="while True:\n    pass\n", tests="", mode="script",
            cpu_timeout_s=2),
        {Status.TIMEOUT},
    ),
    "fork-bomb": (
        script_job("fork-bomb", "import os\nwhile True:\n    try:\n        os.fork()\n"
                   "    except OSError:\n        pass\n", cpu_timeout_s=3, timeout_s=10),
        {Status.TIMEOUT, Status.ERROR},
    ),
    "memory-bomb": (
        script_job("memory-bomb", "blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 24))\n"),
        {Status.OOM},
    ),
    "prints-a-fake-summary-and-exits": (
        Job(id="prints-a-fake-summary-and-exits",
            solution="import os\nprint('2 passed in 0.01s')\nos._exit(0)\n" + WRONG_ADD,
            tests=ADD_TESTS),
        {Status.ERROR, Status.FAILED},
    ),
    "skips-every-test": (
        Job(id="skips-every-test", solution=WRONG_ADD,
            tests="import pytest\npytest.skip('no', allow_module_level=True)\n" + ADD_TESTS),
        {Status.ERROR, Status.FAILED},
    ),
    "segfaults-the-job": (
        script_job("segfaults-the-job", "import ctypes\nctypes.string_at(0)\n"),
        {Status.ERROR},
    ),
    "signals-pid-1-and-everyone": (
        script_job("signals-pid-1-and-everyone",
                   "import os, signal\nfor sig in (signal.SIGTERM, signal.SIGKILL):\n"
                   "    try:\n        os.kill(1, sig)\n        os.kill(-1, sig)\n"
                   "    except OSError:\n        pass\nraise SystemExit(0)\n"),
        {Status.ERROR, Status.FAILED},
    ),
}  # fmt: skip
HOSTILE_IDS = list(HOSTILE_CASES)
HONEST = 200


def honest_jobs(n: int) -> list[Job]:
    return [
        Job(id=f"honest-{i}", solution=ADD if i % 2 else WRONG_ADD, tests=ADD_TESTS)
        for i in range(n)
    ]


def expected_status(job_id: str) -> set[Status]:
    if job_id in HOSTILE_CASES:
        return HOSTILE_CASES[job_id][1]
    return {Status.PASSED} if int(job_id.rsplit("-", 1)[1]) % 2 else {Status.FAILED}


def write_jobs(path, jobs) -> None:
    path.write_text("".join(job.model_dump_json() + "\n" for job in jobs))


def run_cli(*args, timeout_s: float = 300):
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout_s
    )


def read_results(path) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        assert row["id"] not in results, f"two results for {row['id']}"
        results[row["id"]] = row
    return results


def test_without_ray_installed_one_line_and_exit_2(tmp_path):
    jobs = tmp_path / "jobs.jsonl"
    write_jobs(jobs, honest_jobs(1))
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from factory.cli.main import main\n"
        f"sys.argv = ['codefactory', 'sandbox', 'run', '--jobs', {str(jobs)!r}, '--ray', 'auto']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'codefactory[ray]'" in lines[0], done.stderr


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("127.0.0.1:1", "cannot reach the Ray cluster at 127.0.0.1:1"),
        ("nowhere", "invalid --ray (got 'nowhere'): give the head's host:port"),
    ],
)
def test_a_bad_cluster_address_is_one_line_and_exit_2(tmp_path, address, fragment):
    jobs = tmp_path / "jobs.jsonl"
    write_jobs(jobs, honest_jobs(1))
    done = run_cli("sandbox", "run", "--jobs", jobs, "--ray", address, timeout_s=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], done.stderr


def test_jobs_file_on_the_cluster_same_verdicts_as_the_local_pool(
    ray_cluster, runner_image, docker_client, tmp_path
):
    hostile = [HOSTILE_CASES[job_id][0] for job_id in HOSTILE_IDS]
    jobs = tmp_path / "jobs.jsonl"
    write_jobs(jobs, [*hostile, *honest_jobs(HONEST)])
    local_jobs = tmp_path / "hostile.jsonl"
    write_jobs(local_jobs, hostile)

    on_ray = run_cli(
        "sandbox", "run", "--jobs", jobs, "--out", tmp_path / "ray.jsonl", "--ray",
        ray_cluster.address, "--workers", 2, "--timeout", 30, "--image", runner_image,
    )  # fmt: skip
    assert on_ray.returncode == 0, on_ray.stderr
    local = run_cli(
        "sandbox", "run", "--jobs", local_jobs, "--out", tmp_path / "local.jsonl",
        "--workers", 2, "--timeout", 30, "--image", runner_image,
    )  # fmt: skip
    assert local.returncode == 0, local.stderr

    results = read_results(tmp_path / "ray.jsonl")
    assert len(results) == len(hostile) + HONEST
    for job_id, row in results.items():
        assert Status(row["status"]) in expected_status(job_id), (job_id, row["error"])
        assert row["passed"] == (row["status"] == "passed")
    local_results = read_results(tmp_path / "local.jsonl")
    assert {k: v["status"] for k, v in local_results.items()} == {
        k: results[k]["status"] for k in local_results
    }
    # Each node with Docker took work; the one without was reported and skipped.
    warm = [line for line in on_ray.stderr.splitlines() if "containers warm" in line]
    assert len(warm) == len(ray_cluster.docker_nodes), on_ray.stderr
    no_docker = ray_cluster.no_docker_node.node_id[:8]
    assert any(
        f"node {no_docker}" in line and "skipped" in line and "Docker daemon not reachable" in line
        for line in on_ray.stderr.splitlines()
    ), on_ray.stderr
    assert ray_cluster.containers(docker_client) == []


def sleepy_job(job_id: str, seconds: float, passes: bool) -> Job:
    program = f"import time\ntime.sleep({seconds})\nassert {passes}\n"
    return script_job(job_id, program, timeout_s=20)


@pytest.mark.parametrize(
    ("stop", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_stopping_the_driver_leaves_no_container_on_any_node(
    ray_cluster, runner_image, docker_client, tmp_path, stop, status
):
    jobs = tmp_path / "slow.jsonl"
    write_jobs(jobs, [sleepy_job(f"slow-{i}", 4, True) for i in range(40)])
    driver = subprocess.Popen(
        [*CLI, "sandbox", "run", "--jobs", str(jobs), "--out", str(tmp_path / "out.jsonl"),
         "--ray", ray_cluster.address, "--workers", "2", "--image", runner_image],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        expected = WORKERS = 2 * len(ray_cluster.docker_nodes)
        assert wait_until(lambda: len(ray_cluster.containers(docker_client)) >= expected, 120), (
            f"never saw {WORKERS} containers"
        )
        time.sleep(1.0)  # jobs in flight on every node
        driver.send_signal(stop)
        _, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == status, err
    assert "Traceback" not in err, err
    assert wait_until(lambda: ray_cluster.containers(docker_client) == [], 30), [
        c["Labels"] for c in ray_cluster.containers(docker_client)
    ]


def test_a_node_joins_and_another_dies_mid_run(ray_cluster, runner_image, docker_client):
    """Exactly one result per job with the right verdict; the new node takes jobs; the dead
    node's containers remove themselves, the survivors' are removed at the end."""
    from sandbox.cluster import ClusterConfig, open_pool

    jobs = [sleepy_job(f"job-{i}", 0.3, i % 3 != 0) for i in range(120)]
    config = PoolConfig(image=runner_image, limits=Limits(timeout_s=20))
    cluster = ClusterConfig(address=ray_cluster.address, workers_per_node=2, join_poll_s=0.5)
    victim = ray_cluster.docker_nodes[-1]
    events: list[str] = []

    async def go():
        results = {}
        async with open_pool(config, cluster, log=events.append) as pool:
            joined = None
            async for result in pool.map(jobs):
                assert result.id not in results, f"two results for {result.id}"
                results[result.id] = result
                if len(results) == 15:
                    joined = ray_cluster.add_docker_node()  # Ray wants the main thread
                if joined is not None and victim in ray_cluster.docker_nodes:
                    newcomer = pool.nodes.get(joined.node_id)
                    if newcomer is not None and newcomer.done >= 2:
                        assert pool.nodes[victim.node_id].in_flight > 0
                        ray_cluster.remove(victim)
            return results, pool, joined

    results, pool, joined = asyncio.run(go())
    assert sorted(results) == sorted(job.id for job in jobs)
    for job in jobs:
        want = Status.FAILED if int(job.id.split("-")[1]) % 3 == 0 else Status.PASSED
        assert results[job.id].status == want, (job.id, results[job.id].error)
    assert pool.nodes[joined.node_id].done > 0
    assert not pool.nodes[victim.node_id].alive and pool.redispatched > 0
    assert any("lost" in line for line in events), events
    assert wait_until(lambda: ray_cluster.containers(docker_client) == [], 30), [
        c["Labels"] for c in ray_cluster.containers(docker_client)
    ]


def test_jobs_are_pulled_only_as_the_cluster_has_room(ray_cluster, runner_image):
    """Backpressure: however long the job source, the driver holds at most the cluster's
    capacity (two jobs per container per node) beyond what it has handed back."""
    from sandbox.cluster import ClusterConfig
    from sandbox.cluster.dispatch import ClusterPool
    from sandbox.cluster.node_pool import NoopNodePool

    pulled = 0

    def source(n: int):
        nonlocal pulled
        for i in range(n):
            pulled += 1
            yield Job(id=f"noop-{i}", solution="", tests="")

    cluster = ClusterConfig(address=ray_cluster.address, workers_per_node=3, redispatch_limit=1)

    async def go():
        ahead, seen = 0, 0
        config = PoolConfig(image=runner_image)
        async with ClusterPool(
            config, cluster, log=lambda _: None, node_class=NoopNodePool
        ) as pool:
            capacity = pool.capacity
            async for _ in pool.map(source(2000)):
                seen += 1
                ahead = max(ahead, pulled - seen)
        return capacity, ahead, seen

    capacity, ahead, seen = asyncio.run(go())
    assert seen == 2000
    assert capacity == 3 * 2 * len(ray_cluster.docker_nodes) + 6  # the no-Docker node counts
    assert ahead <= capacity
