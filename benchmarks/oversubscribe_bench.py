"""Does a pool with more containers than cores help? Jobs per second at 1x, 2x and 4x the CPU
count, on jobs that sleep more than they compute and on jobs that only compute.

    .venv/bin/python benchmarks/oversubscribe_bench.py [--jobs 48] [--rounds 2]

Two kinds of pytest job, the same tests for each: ``sleepy`` sleeps 0.3 s and computes about
30 ms (a job waiting on I/O or on time.sleep, as some real tests do); ``busy`` computes about
0.3 s (most model samples and the quality gates' variants: CPU-bound). Each pool size is timed
on the same jobs, pool start-up excluded; the configurations are interleaved for ``--rounds``
rounds and the best round counts (other work on the machine only ever adds time). Prints jobs
per second and the speed-up over a pool of CPU-count containers, the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.eval_bench import load, machine  # noqa: E402
from sandbox import Job, Limits, PoolConfig, SandboxPool  # noqa: E402

KINDS = {
    "sleepy": (
        "import time\n\n\ndef work(x):\n    time.sleep(0.3)\n"
        "    sum(i * i for i in range(300_000))\n    return x * x\n"
    ),
    "busy": "def work(x):\n    sum(i * i for i in range(3_000_000))\n    return x * x\n",
}
TESTS = "from solution import work\n\n\ndef test_work():\n    assert work(3) == 9\n"


async def rate(kind: str, jobs: int, workers: int, image: str) -> float:
    config = PoolConfig(workers=workers, image=image, limits=Limits(timeout_s=60))
    batch = [Job(id=f"{kind}-{i}", solution=KINDS[kind], tests=TESTS) for i in range(jobs)]
    async with SandboxPool(config) as pool:
        started = time.perf_counter()
        async for result in pool.map(batch, max_in_flight=workers * 2):
            assert result.passed, result.error
        return jobs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from benchmarks.pipeline_bench import ensure_image

    image = ensure_image()
    cpus = os.cpu_count() or 1
    sizes = [cpus, 2 * cpus, 4 * cpus]
    print(f"machine: {machine()}")
    print(f"load average at start: {load()}")
    best: dict[tuple[str, int], float] = {}
    for round_ in range(1, args.rounds + 1):
        for kind in KINDS:
            for workers in sizes:
                value = asyncio.run(rate(kind, args.jobs, workers, image))
                best[kind, workers] = max(best.get((kind, workers), 0.0), value)
                print(f"round {round_}: {kind}, {workers} containers: {value:.2f} jobs/s")
    print(f"load average at end: {load()}")
    for kind in KINDS:
        base = best[kind, cpus]
        figures = ", ".join(
            f"{workers} containers {best[kind, workers]:.2f} jobs/s "
            f"({best[kind, workers] / base:.2f}x)"
            for workers in sizes
        )
        print(f"{kind}: {figures}")


if __name__ == "__main__":
    main()
