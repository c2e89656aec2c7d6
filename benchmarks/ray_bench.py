"""What running on Ray costs per job, and where the driver stops keeping up.

    .venv/bin/python benchmarks/ray_bench.py [--jobs 200] [--workers 2] [--rounds 2]
                                             [--noop-jobs 4000]

1. **Cost per job.** The same honest pytest jobs (a function and two tests) run through
   the local pool (``SandboxPool``, W containers) and through Ray (``ClusterPool``) with one
   node (W containers) and with two nodes (W/2 each: the same total). The nodes are real Ray
   nodes started on this host (``ray.cluster_utils.Cluster``) sharing its Docker daemon, so
   the total CPU is the same in every configuration and what differs is Ray's own cost: the
   round trip driver -> actor -> pool. Start-up is timed apart; configurations are
   interleaved for ``--rounds`` rounds and the best round counts (other work on the machine
   only ever adds time), the median is shown too, and each Ray run is also compared with
   the local run of its own round (paired), which a load that swings between minutes
   distorts less. "Per job" is the wall time a container spends on one job: wall x
   containers / jobs. Target: Ray on one node within 10% of local.
   Then one job at a time through one container, local and on Ray: the median round trip
   of a job, whose difference is what Ray adds to each job's latency.
2. **The driver's ceiling.** No-op jobs through Ray (an actor that answers at once without
   Docker), on one and on two nodes, each result written to a JSONL file and flushed (what
   ``sandbox run --jobs`` does per result): results per second, and the driver's CPU per job
   (its process time over the run, every thread included).
3. **The store at that rate.** ``RunStore.commit`` of generation rows (one durable SQLite
   transaction each, as the generation loop's single writer does): commits per second.

Every job of part 1 must get its right verdict (half pass, half fail), or the run stops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sandbox import Job, Limits, PoolConfig, SandboxPool, Status  # noqa: E402
from sandbox.cluster import ClusterConfig  # noqa: E402
from sandbox.cluster.dispatch import ClusterPool  # noqa: E402
from sandbox.cluster.node_pool import NoopNodePool  # noqa: E402
from sandbox.image import default_image  # noqa: E402

ADD = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"
TESTS = (
    "from solution import add\n\n\ndef test_small():\n    assert add(1, 2) == 3\n\n\n"
    "def test_negative():\n    assert add(-1, -2) == -3\n"
)


def jobs(n: int, tag: str) -> list[Job]:
    return [Job(id=f"{tag}-{i}", solution=ADD if i % 2 else WRONG, tests=TESTS) for i in range(n)]


def check(results, n: int) -> None:
    assert len(results) == n and len({r.id for r in results}) == n, "not one result per job"
    for r in results:
        want = Status.PASSED if int(r.id.rsplit("-", 1)[1]) % 2 else Status.FAILED
        assert r.status == want, f"{r.id}: {r.status} ({r.error})"


async def timed(pool_cm, batch: list[Job]) -> tuple[float, float]:
    started = time.monotonic()
    async with pool_cm as pool:
        ready = time.monotonic()
        results = [r async for r in pool.map(batch)]
        wall = time.monotonic() - ready
    check(results, len(batch))
    return ready - started, wall


async def one_at_a_time(pool_cm, batch: list[Job]) -> float:
    async with pool_cm as pool:
        times = []
        for job in batch:
            started = time.monotonic()
            await pool.run(job)
            times.append(time.monotonic() - started)
    return statistics.median(times)


def round_trip(args, cluster) -> dict:
    image = default_image()
    medians: dict[str, list[float]] = {"local": [], "ray": []}
    for r in range(args.rounds):
        batch = jobs(args.latency_jobs, f"l{r}")
        local = SandboxPool(PoolConfig(workers=1, image=image))
        medians["local"].append(asyncio.run(one_at_a_time(local, batch)))
        on_ray = ClusterPool(
            PoolConfig(image=image),
            ClusterConfig(address=cluster.address, workers_per_node=1),
            log=lambda _: None,
        )
        medians["ray"].append(asyncio.run(one_at_a_time(on_ray, batch)))
    local, ray_ = min(medians["local"]), min(medians["ray"])
    return {
        "jobs": args.latency_jobs,
        "local_median_ms": round(1000 * local, 1),
        "ray_median_ms": round(1000 * ray_, 1),
        "ray_adds_ms": round(1000 * (ray_ - local), 1),
    }


def cost_per_job(args, cluster, log) -> dict:
    image = default_image()
    limits = Limits(timeout_s=30)
    w = args.workers
    configs = {
        "local": lambda: SandboxPool(PoolConfig(workers=w, image=image, limits=limits)),
        "ray, 1 node": lambda: ClusterPool(
            PoolConfig(image=image, limits=limits),
            ClusterConfig(address=cluster.address, workers_per_node=w),
            log=log,
        ),
        "ray, 2 nodes": lambda: ClusterPool(
            PoolConfig(image=image, limits=limits),
            ClusterConfig(address=cluster.address, workers_per_node=max(1, w // 2)),
            log=log,
        ),
    }
    walls: dict[str, list[float]] = {name: [] for name in configs}
    starts: dict[str, list[float]] = {name: [] for name in configs}

    def run(name: str, r: int) -> None:
        start, wall = asyncio.run(timed(configs[name](), jobs(args.jobs, f"r{r}")))
        starts[name].append(start)
        walls[name].append(wall)
        print(f"  round {r} {name}: {wall:.2f} s for {args.jobs} jobs", file=sys.stderr)

    for r in range(args.rounds):  # one node: the head only
        run("local", r)
        run("ray, 1 node", r)
    extra = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    for r in range(args.rounds):
        run("ray, 2 nodes", r)
        run("local", args.rounds + r)
    cluster.remove_node(extra)
    containers = {"local": w, "ray, 1 node": w, "ray, 2 nodes": 2 * max(1, w // 2)}
    out = {}
    for name, values in walls.items():
        best, median = min(values), statistics.median(values)
        out[name] = {
            "containers": containers[name],
            "per_job_ms_best": round(1000 * best * containers[name] / args.jobs, 2),
            "per_job_ms_median": round(1000 * median * containers[name] / args.jobs, 2),
            "jobs_per_s_best": round(args.jobs / best, 1),
            "start_up_s": round(min(starts[name]), 2),
        }
    local = out["local"]["per_job_ms_best"]
    for name in ("ray, 1 node", "ray, 2 nodes"):
        out[name]["vs_local"] = round(out[name]["per_job_ms_best"] / local, 3)
    # Under a load that swings from minute to minute, the fairer comparison is each Ray run
    # against the local run next to it (same round, a minute apart).
    n = args.rounds
    pairs = {"ray, 1 node": walls["local"][:n], "ray, 2 nodes": walls["local"][n:]}
    for name, locals_ in pairs.items():
        ratios = [ray_ / loc for ray_, loc in zip(walls[name], locals_, strict=True)]
        out[name]["paired_vs_local"] = [round(r, 3) for r in ratios]
        out[name]["paired_vs_local_median"] = round(statistics.median(ratios), 3)
    return out


async def drive_noops(address: str, n: int, sink) -> dict:
    config = PoolConfig(workers=64, image=default_image())
    cluster = ClusterConfig(address=address, workers_per_node=64, redispatch_limit=1)
    async with ClusterPool(config, cluster, log=lambda _: None, node_class=NoopNodePool) as pool:
        nodes = len(pool.nodes)
        cpu0, t0 = time.process_time(), time.monotonic()
        count = 0
        async for result in pool.map(Job(id=f"noop-{i}", solution="", tests="") for i in range(n)):
            sink.write(result.model_dump_json() + "\n")
            sink.flush()
            count += 1
        wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    assert count == n
    return {
        "nodes": nodes,
        "in_flight": pool.capacity if nodes else 0,
        "results_per_s": round(n / wall, 1),
        "driver_cpu_ms_per_job": round(1000 * cpu / n, 3),
    }


def driver_ceiling(args, cluster) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "results.jsonl", "w") as sink:
        out["1 node"] = asyncio.run(drive_noops(cluster.address, args.noop_jobs, sink))
        extra = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        out["2 nodes"] = asyncio.run(drive_noops(cluster.address, args.noop_jobs, sink))
        cluster.remove_node(extra)
    return out


def store_rate(n: int) -> dict:
    from factory.dataset.store import RunStore
    from tests.support.records import FINGERPRINT, record

    rows = [record(slot) for slot in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore.open(Path(tmp) / "out", FINGERPRINT)
        try:
            t0 = time.monotonic()
            for row in rows:
                store.commit(row)
            wall = time.monotonic() - t0
        finally:
            store.close()
    return {
        "rows": n,
        "commits_per_s": round(n / wall, 1),
        "row_bytes": len(rows[0].model_dump_json()),
    }


def machine() -> dict:
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cpus": os.cpu_count(), "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--noop-jobs", type=int, default=4000)
    parser.add_argument("--store-rows", type=int, default=2000)
    parser.add_argument("--latency-jobs", type=int, default=30)
    args = parser.parse_args()

    import ray
    from ray.cluster_utils import Cluster

    load_before = os.getloadavg()
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    events: list[str] = []
    try:
        report = {"machine": machine(), "ray": ray.__version__, "jobs": args.jobs}
        report["cost_per_job"] = cost_per_job(args, cluster, events.append)
        report["round_trip"] = round_trip(args, cluster)
        report["driver_ceiling"] = driver_ceiling(args, cluster)
        report["store"] = store_rate(args.store_rows)
    finally:
        cluster.shutdown()
    report["load_average"] = {"before": load_before, "after": os.getloadavg()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
