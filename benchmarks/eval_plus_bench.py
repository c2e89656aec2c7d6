"""HumanEval+ / MBPP+ wall time, codefactory against the ``evalplus`` package, in one run.

    .venv/bin/python benchmarks/eval_bench.py --benchmark humanevalplus [--workers N] [--rounds 3]
    .venv/bin/python benchmarks/eval_bench.py --benchmark mbppplus --rounds 1

Two sample sets: the reference solutions (one per task) and a realistic mix (one sample per
task drawn from ``tests/evaluate/evalplus_samples.py``'s mix: right, right only on the base
inputs, wrong, crashing, not compiling, looping). Each set is scored cold (empty caches: both
harnesses compute the expected outputs) and then warm (cached), by codefactory (trusted-mode
sandbox jobs, N containers) and by ``evalplus.evaluate`` as the package ships it (a child
process, ``parallel`` = N, ``min_time_limit`` 4 s, reading the same data file through its
override variable). Verdicts of both on the mix are compared sample by sample. Target:
codefactory at most 0.5x evalplus's wall time, cold and warm. Each of ``--rounds`` rounds runs
all of it again from empty caches, the two harnesses one after the other, so both see the same
moments of the machine; the figure is the median of the rounds' ratios (the machine's speed
moves a run's time by several percent, more than most changes under test).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.evaluate.evalplus_harness import run_evalplus, write_samples  # noqa: E402
from tests.evaluate.evalplus_samples import realistic_samples  # noqa: E402

FILES = {"humanevalplus": "HumanEvalPlus.jsonl.gz", "mbppplus": "MbppPlus.jsonl.gz"}
DATASETS = {"humanevalplus": "humaneval", "mbppplus": "mbpp"}


def run_plus(args, machine, load, runner_image) -> None:
    name = args.benchmark
    raw = (resources.files("factory.evaluate.benchmarks") / "data" / FILES[name]).read_bytes()
    records = [json.loads(line) for line in gzip.decompress(raw).decode().splitlines()]
    print(f"machine: {machine()}")
    print(f"load average at start: {load()}")
    image = runner_image()
    print(f"runner image: {image}; {len(records)} tasks")
    with tempfile.TemporaryDirectory(prefix="eval-plus-bench-") as tmp:
        tmp_path = Path(tmp)
        data = tmp_path / FILES[name].removesuffix(".gz")
        data.write_bytes(gzip.decompress(raw))
        sets = {
            "canonical": [
                {"task_id": r["task_id"], "solution": r["prompt"] + r["canonical_solution"]}
                for r in records
            ],
            "realistic": [
                {"task_id": task_id, "solution": solution}
                for task_id, _, solution in realistic_samples(
                    {
                        r["task_id"]: (r["prompt"] + r["canonical_solution"], r["entry_point"])
                        for r in records
                    },
                    per_task=1,
                )
            ],
        }
        figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for round_ in range(1, args.rounds + 1):
            for label, samples in sets.items():
                path = write_samples(tmp_path / f"{label}.jsonl", samples)
                ours_cache = tmp_path / f"ours-{label}-{round_}"
                theirs_cache = tmp_path / f"theirs-{label}-{round_}"
                for temperature in ("cold", "warm"):
                    seconds, ours = time_codefactory(name, path, ours_cache, args.workers, image)
                    print(
                        f"round {round_} {label} {temperature}: codefactory {seconds:.1f} s, "
                        f"{summary(ours)}"
                    )
                    theirs, their_seconds = run_evalplus(
                        DATASETS[name], data, path, theirs_cache, parallel=args.workers
                    )
                    print(
                        f"round {round_} {label} {temperature}: evalplus    {their_seconds:.1f} s, "
                        f"{summary_theirs(theirs)}"
                    )
                    differing = compare(ours, theirs)
                    print(
                        f"round {round_} {label} {temperature}: samples whose verdicts differ: "
                        f"{differing}"
                    )
                    figures.setdefault((label, temperature), []).append((seconds, their_seconds))
        print(f"load average at end: {load()}")
        for (label, temperature), runs in figures.items():
            ratios = [seconds / their_seconds for seconds, their_seconds in runs]
            ratio = statistics.median(ratios)
            verdict = "met" if ratio <= 0.5 else "missed"
            each = ", ".join(f"{a:.1f}/{b:.1f} s" for a, b in runs)
            print(
                f"{label:9} {temperature}: codefactory/evalplus {each}; ratios "
                f"{' '.join(f'{r:.2f}' for r in ratios)}, median {ratio:.2f} "
                f"(target <= 0.50: {verdict})"
            )


def time_codefactory(name, samples, cache_dir, workers, image):
    from factory.evaluate.benchmarks import load_benchmark
    from factory.evaluate.benchmarks.evalplus_expected import EVALPLUS_MEMORY_MB
    from factory.evaluate.runner import EvalConfig, evaluate_file
    from sandbox import Limits, PoolConfig

    bench = load_benchmark(name, cache_dir=cache_dir)
    config = EvalConfig(
        pool=PoolConfig(
            workers=workers,
            image=image,
            limits=Limits(timeout_s=4.0, memory_mb=EVALPLUS_MEMORY_MB),
        ),
        ks=[1],
    )
    out = samples.with_name(samples.stem + f"-{name}-ours.jsonl")
    started = time.perf_counter()
    asyncio.run(evaluate_file(bench, samples, config, out))
    seconds = time.perf_counter() - started
    numbering: dict[str, int] = {}
    results = {}
    for line in out.read_text().splitlines():
        row = json.loads(line)
        results[(row["task_id"], row["completion_id"])] = row
        numbering[row["task_id"]] = numbering.get(row["task_id"], 0) + 1
    return seconds, results


def summary(ours) -> str:
    n = len(ours)
    base = sum(r.get("base_status") == "pass" for r in ours.values())
    plus = sum(r["passed"] for r in ours.values())
    return f"base {base}/{n} ({base / n:.3f}), plus {plus}/{n} ({plus / n:.3f})"


def summary_theirs(theirs) -> str:
    n = len(theirs)
    base = sum(r["base_status"] == "pass" for r in theirs.values())
    plus = sum(r["base_status"] == r["plus_status"] == "pass" for r in theirs.values())
    return f"base {base}/{n} ({base / n:.3f}), plus {plus}/{n} ({plus / n:.3f})"


def compare(ours, theirs) -> str:
    differing = []
    for key, row in ours.items():
        mine = (row.get("base_status") == "pass", row["passed"])
        other = theirs[key]
        them = (
            other["base_status"] == "pass",
            other["base_status"] == other["plus_status"] == "pass",
        )
        if mine != them:
            differing.append(key[0])
    return f"{len(differing)} {sorted(set(differing))[:10]}"
