"""Writes the bundled HumanEval+ / MBPP+ cost hints: each task's reference run, in CPU seconds.

    .venv/bin/python benchmarks/evalplus_costs.py [--workers 2]

A cold evaluation runs every task's reference once (the expected outputs) before it knows what
any task costs; in the order of the file, HumanEval+'s few long references (HumanEval/139's
huge factorials, /15's 7 MB strings) start last and run alone at the end. These hints, one
number per task measured here in the sandbox, let the reference runs and the samples start
with the costly tasks. They order work only: no limit or verdict depends on them, so a hint
measured on another machine orders nearly as well. Tasks under 0.05 s are left out.
The file is keyed by each data file's sha256 and records the machine it was measured on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from eval_bench import machine, runner_image  # noqa: E402

from factory.evaluate.benchmarks import load_benchmark  # noqa: E402
from factory.evaluate.benchmarks.evalplus_expected import (  # noqa: E402
    COSTS_FILE,
    reference_config,
)
from factory.evaluate.benchmarks.evalplus_reference_program import reference_job  # noqa: E402
from sandbox import Limits, PoolConfig, SandboxPool  # noqa: E402


async def measure(name: str, image: str, workers: int) -> tuple[str, dict[str, float]]:
    bench = load_benchmark(name)
    config = reference_config(PoolConfig(workers=workers, image=image, limits=Limits()))
    seconds: dict[str, float] = {}
    async with SandboxPool(config) as pool:
        async for result in pool.map(reference_job(bench, task_id) for task_id in bench.tasks):
            if not result.passed:
                raise SystemExit(f"{result.id}: {result.status.value} {result.error[:200]}")
            seconds[result.id.split(":", 1)[1]] = round(result.cpu_s, 3)
    return bench.data_sha256, {task: cost for task, cost in seconds.items() if cost >= 0.05}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    image = runner_image()
    hints = {"machine": machine(), "image": image}
    for name in ("humanevalplus", "mbppplus"):
        digest, seconds = asyncio.run(measure(name, image, args.workers))
        hints[digest] = {"benchmark": name, "cpu_seconds": dict(sorted(seconds.items()))}
        top = sorted(seconds.items(), key=lambda item: -item[1])[:5]
        print(f"{name}: {len(seconds)} tasks of 0.05 s or more; the costliest: {top}")
    COSTS_FILE.write_text(json.dumps(hints, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {COSTS_FILE}")


if __name__ == "__main__":
    main()
