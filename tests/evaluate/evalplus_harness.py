"""Runs the real ``evalplus`` package's evaluator on a samples file, as its users run it.

EvalPlus is run in a child process (its evaluator starts a process pool and a watchdog thread
that lingers up to 20 s), pointed at our local data file with ``HUMANEVAL_OVERRIDE_PATH`` /
``MBPP_OVERRIDE_PATH`` (so it downloads nothing) and at its own cache directory through
``XDG_CACHE_HOME`` (an empty one = a cold run that computes the expected outputs). The
per-input floor is passed as ``min_time_limit=4.0``, EvalPlus's current default (the last PyPI
release, 0.3.1, still defaults to 1 s). Used by the agreement tests and ``eval_bench.py``;
:func:`run_ours` scores the same files with our own evaluator, the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MIN_TIME_LIMIT_S = 4.0

_DRIVER = """
import json, os, sys, time
from evalplus.evaluate import evaluate
dataset, samples, parallel, floor = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
started = time.perf_counter()
evaluate(dataset=dataset, samples=samples, parallel=parallel, min_time_limit=floor)
print(json.dumps({"seconds": time.perf_counter() - started}))
sys.stdout.flush()
os._exit(0)
"""


def write_samples(path: Path, samples: list[dict]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
    return path


def run_evalplus(
    dataset: str,
    data: Path,
    samples: Path,
    cache_home: Path,
    parallel: int = 2,
    timeout_s: float = 1800,
) -> tuple[dict[tuple[str, int], dict], float]:
    """Verdicts per (task_id, completion index in file order) and evaluate()'s wall time."""
    env = dict(os.environ)
    env["HUMANEVAL_OVERRIDE_PATH" if dataset == "humaneval" else "MBPP_OVERRIDE_PATH"] = str(data)
    env["XDG_CACHE_HOME"] = str(cache_home)
    env["TOKENIZERS_PARALLELISM"] = "false"
    results = samples.with_name(samples.name.replace(".jsonl", "_eval_results.json"))
    results.unlink(missing_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _DRIVER,
            dataset,
            str(samples),
            str(parallel),
            str(MIN_TIME_LIMIT_S),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if done.returncode != 0:
        raise RuntimeError(f"evalplus failed ({done.returncode}): {done.stderr[-2000:]}")
    seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    report = json.loads(results.read_text(encoding="utf-8"))
    verdicts: dict[tuple[str, int], dict] = {}
    for task_id, rows in report["eval"].items():
        for index, row in enumerate(rows):
            verdicts[(task_id, index)] = row
    return verdicts, seconds


def run_ours(name: str, samples_path: Path, runner_image: str, tmp_path: Path, data=None):
    """Our evaluation of ``samples_path`` (cold cache under ``tmp_path``, 2 containers, the
    per-input floor evalplus gets): the summary and the result rows by (task, completion)."""
    from factory.evaluate.benchmarks import load_benchmark
    from factory.evaluate.benchmarks.evalplus_expected import EVALPLUS_MEMORY_MB
    from factory.evaluate.runner import EvalConfig, evaluate_file
    from sandbox import Limits, PoolConfig
    from sandbox.aio import run

    bench = load_benchmark(name, data=data, cache_dir=tmp_path / "cache")
    limits = Limits(timeout_s=MIN_TIME_LIMIT_S, memory_mb=EVALPLUS_MEMORY_MB)
    config = EvalConfig(pool=PoolConfig(workers=2, image=runner_image, limits=limits), ks=[1])
    out = tmp_path / f"{name}-results.jsonl"
    summary = run(evaluate_file(bench, samples_path, config, out))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    return summary, {(r["task_id"], r["completion_id"]): r for r in lines}
