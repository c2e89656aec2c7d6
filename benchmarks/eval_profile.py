"""Where the CPU time of evaluating HumanEval samples goes: host, Docker, worker, job.

    python benchmarks/eval_profile.py [--repeat 2] [--workers 2] [--image TAG]

Runs HumanEval's canonical solutions x``--repeat`` through :func:`evaluate_samples` (trusted
mode, the evaluation's own limits) and splits the CPU seconds it cost, each from the kernel's
own count:

- host: this process (the evaluation runner, the pool, pydantic, JSON, the attach streams);
- Docker: ``dockerd`` and ``containerd`` (the containers' shims, which also carry the
  streams, end with their containers and are left out);
- container: each container's cgroup (``cpuacct.usage``), split into the jobs' own processes
  (the sum of ``Result.cpu_s``: the job process, judge and candidate) and the rest, which is
  the worker (watch, clean-up, state checks, replies) and the zygote.

Containers are not recycled during the run, so every container's cgroup is read at its end.
Figures are per sample; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from factory.evaluate.benchmarks.humaneval import HumanEval  # noqa: E402
from factory.evaluate.runner import EVAL_LIMITS, EvalConfig, evaluate_samples  # noqa: E402
from factory.evaluate.samples import canonical_samples  # noqa: E402
from sandbox import PoolConfig  # noqa: E402
from sandbox.docker_client import connect  # noqa: E402
from sandbox.image import build_image  # noqa: E402
from sandbox.pool import SandboxPool  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
CGROUP = "/sys/fs/cgroup/cpuacct/docker/{}/cpuacct.usage"
DOCKER_PROCS = ("dockerd", "containerd")  # the shims end with their containers: not counted


def docker_cpu() -> float:
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                head, _, rest = fh.read().rpartition(b")")
        except OSError:
            continue
        name = head.partition(b"(")[2].decode()
        if name in DOCKER_PROCS:
            fields = rest.split()
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Watched(SandboxPool):
    """The pool, remembering every container's cgroup reading before it is removed."""

    seen: dict[str, float] = {}

    async def _shutdown(self) -> None:
        for container in list(self._live):
            if container.id:
                try:
                    with open(CGROUP.format(container.id)) as fh:
                        Watched.seen[container.id] = int(fh.read()) / 1e9
                except OSError:
                    pass
        await super()._shutdown()


async def profile(args) -> None:
    import factory.evaluate.runner as runner

    bench = HumanEval.load()
    ids = bench.default_task_ids()
    samples = [s for _ in range(args.repeat) for s in canonical_samples(bench, ids)]
    for index, sample in enumerate(samples):
        samples[index] = sample.model_copy(update={"completion_id": index})
    pool = PoolConfig(
        workers=args.workers, image=args.image, limits=EVAL_LIMITS, recycle_after=100_000
    )
    config = EvalConfig(pool=pool, ks=[1], max_batch=args.batch)
    job_cpu = [0.0]
    record = runner._record

    def counting(benchmark, sample, result):
        job_cpu[0] += result.cpu_s
        return record(benchmark, sample, result)

    runner._record = counting
    original = runner.open_pool
    runner.open_pool = lambda config, cluster: Watched(config)
    docker_before, own_before, wall_before = docker_cpu(), own_cpu(), time.monotonic()
    try:
        summary = await evaluate_samples(bench, samples, len(samples), config)
    finally:
        runner.open_pool, runner._record = original, record
    wall = time.monotonic() - wall_before
    docker, host = docker_cpu() - docker_before, own_cpu() - own_before
    container = sum(Watched.seen.values())
    n = len(samples)
    print(
        f"{n} samples, {summary.status_counts['passed']} passed, wall {wall:.2f} s "
        f"(at most {args.batch} samples of a task per job)"
    )

    def row(name: str, seconds: float) -> None:
        print(f"  {name:34s} {seconds:7.2f} CPU s  {1000 * seconds / n:6.2f} ms/sample")

    row("host (this process)", host)
    row("docker (dockerd, containerd)", docker)
    row("containers (cgroups)", container)
    row("  jobs' processes (sum of cpu_s)", job_cpu[0])
    row("  worker and zygote (the rest)", container - job_cpu[0])
    row("total", host + docker + container)
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--image", default=None)
    parser.add_argument("--batch", type=int, default=32, help="samples of a task per job at most")
    args = parser.parse_args()
    args.image = args.image or build_image(connect(), log=lambda line: None)
    asyncio.run(profile(args))


if __name__ == "__main__":
    main()
