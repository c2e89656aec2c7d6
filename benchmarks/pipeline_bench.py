"""Throughput of the generation loop against an endpoint with fixed latency, and its bounds.

    .venv/bin/python benchmarks/pipeline_bench.py [--count 200] [--latency 0.5]
        [--concurrency 32] [--workers 2] [--gates | --no-gates] [--mix seeds|add]

A scripted OpenAI-compatible server (in a child process, so its bookkeeping does not count
against the host's memory) answers every call ``--latency`` seconds after the request arrived,
with a valid reply. ``--mix seeds`` (the default) serves the taxonomy's seed problems in turn
(``problems/seeds``: loops, recursion, string parsing, nested data; each with its pytest file
and its reference code as the model's answer); ``--mix add`` serves one trivial function. Each
problem costs three calls (problem, solution, tests), plus one per repair when the quality
gates reject the tests (the server answers a repair with the same tests). ``codefactory``'s
real loop runs ``--count`` problems through the real openai client, the real Docker sandbox
pool, the quality gates (on by default, as in ``generate``) and the durable store.

"Achieved" is the loop: from the first problem started to the last one committed. The run's
total, printed next to it, adds the one-off costs around the loop (endpoint check, pool
start-up and teardown, export of the dataset).

Two bounds are measured in the same run:

- LLM-bound: calls x latency / concurrency, the time the endpoint alone needs;
- sandbox-bound: the container-seconds the run's sandbox work needs, divided by the number of
  containers. Without gates: runs / (jobs per second of the same pool on jobs like the run's,
  measured just before and just after it). With gates: each problem of the mix is measured
  alone on one container before the run (its plain test run, and its gates as the loop runs
  them: one job), times the problems of each kind. Other load on the machine moves this
  figure, so the measurements and the load average are shown.

With gates the script also prints, per seed problem, the gates' cost in container-seconds
against one plain test run of the same row (target: at most 5x), and the same gates run the
old way, one sandbox job per variant under wall-clock limits, as the baseline.

The ideal is the larger (a loop cannot beat its slowest resource); the target is at least 90%
of it, which holds only if LLM calls and sandbox runs overlap. A third figure separates the
loop's own overhead from the cost of HTTP on this machine: the bare LLM client making the same
number of calls at the same concurrency, with no loop around it. Also printed: CPU time of the
host process and of the scripted server, the host's peak RSS, and its RSS at each quarter of
the run (flat memory means flat figures).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import re
import resource
import tempfile
import time
from pathlib import Path

MODEL = "bench-model"
TITLE = re.compile(r"Bench problem (\d+)\b")


def serve(latency: float, mix: str, connection) -> None:
    """Child process: the scripted endpoint; reports its counters (and CPU time) on request."""
    import itertools
    import json
    import threading
    from collections import Counter

    from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply
    from problems.loader import load_seeds

    seeds = load_seeds()

    counter = itertools.count(1)
    lock = threading.Lock()
    stages: Counter[str] = Counter()

    def respond(request: dict) -> ScriptedReply:
        stage = request["response_format"]["json_schema"]["name"]
        with lock:
            stages[stage] += 1
        if mix == "seeds":
            return ScriptedReply(content=json.dumps(seed_reply(request, stage)), delay_s=latency)
        if stage == "problem":
            with lock:
                n = next(counter)
            body = {
                "title": f"Bench problem {n}",
                "description": f"Return the integer x plus {n}, for any integer x; nothing else.",
                "entry_point": "add_n",
                "signature": "def add_n(x: int) -> int:",
                "difficulty": "easy",
                "topic": "math",
            }
        else:
            text = "\n".join(message["content"] for message in request["messages"])
            n = int(TITLE.search(text).group(1))
            if stage == "solution":
                body = {"code": f"def add_n(x: int) -> int:\n    return x + {n}\n"}
            else:
                body = {
                    "code": "from solution import add_n\n\n\ndef test_add():\n"
                    f"    assert add_n(1) == {1 + n}\n    assert add_n(-{n}) == 0\n"
                }
        return ScriptedReply(content=json.dumps(body), delay_s=latency)

    def seed_reply(request: dict, stage: str) -> dict:
        if stage == "problem":
            with lock:
                n = next(counter)
            seed = seeds[n % len(seeds)]
            return {
                "title": f"Bench problem {n}: {seed.title}",
                "description": seed.description,
                "entry_point": seed.entry_point,
                "signature": seed.signature,
                "difficulty": seed.difficulty.value,
                "topic": seed.topic,
            }
        text = "\n".join(message["content"] for message in request["messages"])
        seed = seeds[int(TITLE.search(text).group(1)) % len(seeds)]
        if stage == "solution":
            return {"code": seed.solution}
        if stage == "tests":
            return {"code": seed.tests}
        return {"target": "tests", "code": seed.tests, "explanation": "the tests are as meant"}

    with ScriptedLLMServer(respond, models=[MODEL]) as server:
        connection.send(server.base_url)
        while True:
            command = connection.recv()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            with lock:
                connection.send(
                    {
                        "stages": dict(stages),
                        "max_in_flight": server.max_in_flight,
                        "cpu_s": usage.ru_utime + usage.ru_stime,
                    }
                )
            if command == "stop":
                return


async def client_alone(base_url: str, calls: int, concurrency: int) -> float:
    """Seconds for the LLM client alone to make ``calls`` calls like the loop's."""
    from factory.llm import LLMClient, LLMConfig
    from factory.prompts import load_prompts
    from factory.records import Stage
    from factory.stages.base import response_format
    from factory.stages.propose import ProblemDraft

    messages = load_prompts().messages(
        "problem", difficulty="easy", topic="math", subtopic="primes", topic_description="",
        difficulty_guide="easy", examples="{}", avoid_titles="(none yet)",
    )  # fmt: skip
    config = LLMConfig(base_url=base_url, model=MODEL, concurrency=concurrency)
    async with LLMClient(config) as llm:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                llm.complete(messages, response_format=response_format(Stage.PROBLEM, ProblemDraft))
                for _ in range(calls)
            )
        )
        return time.perf_counter() - started


def ensure_image() -> str:
    """Builds the runner image for this version of the worker if missing (a no-op otherwise),
    under the lock the test suite uses, so concurrent builds do not collide."""
    import fcntl

    from sandbox.docker_client import connect
    from sandbox.image import build_image

    with open(Path(tempfile.gettempdir()) / "codefactory-image-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return build_image(connect(), log=lambda line: None)


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def sandbox_rate(pool_config, jobs: int = 60) -> float:
    """Jobs per second of a pool like the run's, on jobs like the run's (start-up excluded)."""
    from sandbox import Job, SandboxPool

    batch = [
        Job(
            id=f"calibrate-{i}",
            solution=f"def add_n(x: int) -> int:\n    return x + {i}\n",
            tests=f"from solution import add_n\n\n\ndef test_add():\n    assert add_n(1) == {1 + i}\n",
        )
        for i in range(jobs)
    ]
    async with SandboxPool(pool_config) as pool:
        async for _ in pool.map(batch[: pool_config.workers]):  # warm-up
            pass
        started = time.perf_counter()
        async for result in pool.map(batch):
            assert result.passed, result.feedback()
        return jobs / (time.perf_counter() - started)


async def gate_costs(image: str, repeats: int) -> list[dict]:
    """Per seed problem, alone on one container: container-seconds of its plain test run, of its
    gates in one job (as the loop runs them) and of its gates one job per variant (the old
    way), best of ``repeats``; with the runs each made."""
    from factory.quality import QualityConfig
    from factory.quality.assess import assess
    from problems.loader import load_seeds
    from sandbox import Job, Limits, PoolConfig, SandboxPool

    rows = []
    config = PoolConfig(workers=1, image=image, limits=Limits(timeout_s=10))
    async with SandboxPool(config) as pool:
        recorder = _Recorder(pool)
        for seed in load_seeds():
            problem = {"entry_point": seed.entry_point, "signature": seed.signature}
            row = {"seed": seed.id, "plain_s": [], "one_job_s": [], "per_variant_s": []}
            row.update(plain_cpu_s=[], one_job_cpu_s=[], per_variant_cpu_s=[])
            for _ in range(repeats):
                started = time.perf_counter()
                result = await pool.run(Job(id=seed.id, solution=seed.solution, tests=seed.tests))
                row["plain_s"].append(time.perf_counter() - started)
                row["plain_cpu_s"].append(result.cpu_s)
                assert result.passed, (seed.id, result.error)
                for key, one_job in (("one_job_s", True), ("per_variant_s", False)):
                    started = time.perf_counter()
                    recorder.cpu_s = 0.0
                    report = await assess(
                        recorder, problem, seed.solution, seed.tests, QualityConfig(),
                        one_job=one_job,
                    )  # fmt: skip
                    row[key].append(time.perf_counter() - started)
                    row[key.replace("_s", "_cpu_s")].append(recorder.cpu_s)
                    row[f"{key}_runs"] = report.sandbox_runs
                    row["passed"] = report.passed
            rows.append({k: min(v) if isinstance(v, list) else v for k, v in row.items()})
    return rows


class _Recorder:
    """A pool for ``assess`` that adds up the CPU time the kernel accounted to each session
    (the job's own solution and every variant, as each job's result reports it)."""

    def __init__(self, pool):
        self.config = pool.config
        self._pool = pool
        self.cpu_s = 0.0

    async def map(self, jobs, max_in_flight=None):
        async for result in self._pool.map(jobs, max_in_flight):
            self.cpu_s += result.cpu_s + sum(variant.cpu_s for variant in result.variants)
            yield result


async def run_pipeline(args, base_url: str, out: Path, samples: list) -> tuple:
    from factory.llm import LLMConfig
    from factory.pipeline.config import GenerateConfig
    from factory.pipeline.generate import generate
    from factory.quality import QualityConfig
    from sandbox import Limits, PoolConfig

    image = await asyncio.to_thread(ensure_image)
    pool_config = PoolConfig(workers=args.workers, image=image, limits=Limits(timeout_s=10))
    measure = args.gates and args.mix == "seeds" and args.cost_repeats > 0
    costs = await gate_costs(image, args.cost_repeats) if measure else []
    rate_before = await sandbox_rate(pool_config)
    config = GenerateConfig(
        out=out, count=args.count, in_flight=args.in_flight, sandbox=pool_config
    )
    llm_config = LLMConfig(base_url=base_url, model=MODEL, concurrency=args.concurrency)

    async def sample_memory() -> None:
        marks = [args.count * q // 4 for q in (1, 2, 3)]
        store = out / "state" / "store.sqlite"
        while marks:
            done = _committed(store)
            if done >= marks[0]:
                samples.append((marks.pop(0), rss_mib()))
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample_memory())
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    quality = QualityConfig(enabled=args.gates)
    report = await generate(config, llm_config, quality=quality)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    total = time.perf_counter() - started
    report.this_run["host_cpu_s"] = (
        cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    )
    sampler.cancel()
    samples.append((args.count, rss_mib()))
    # Other load on the machine moves the sandbox's speed: measure before and after.
    rate_after = await sandbox_rate(pool_config)
    return report, total, (rate_before, rate_after), costs


def _committed(store: Path) -> int:
    import sqlite3

    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=0.5) as db:
            return db.execute("SELECT COUNT(*) FROM slots").fetchone()[0]
    except sqlite3.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per LLM reply")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="sandbox containers")
    parser.add_argument(
        "--in-flight", type=int, default=None, help="problems at once [default: generate's]"
    )
    parser.add_argument(
        "--gates",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the quality gates, on by default as in generate",
    )
    parser.add_argument("--mix", choices=("seeds", "add"), default="seeds")
    parser.add_argument(
        "--cost-repeats", type=int, default=2, help="runs of each seed's gate-cost measurement"
    )
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(args.latency, args.mix, child), daemon=True
    )
    server.start()
    base_url = parent.recv()
    samples: list[tuple[int, float]] = []
    parent.send("stats")
    before = parent.recv()
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        report, total, rates, costs = asyncio.run(
            run_pipeline(args, base_url, Path(tmp) / "out", samples)
        )
    parent.send("stats")
    served = parent.recv()
    calls = sum(served["stages"].values())
    # The same number of calls through the bare client: what this client, server and machine
    # can do at best, with no loop around them.
    alone_s = asyncio.run(client_alone(base_url, calls, args.concurrency))
    parent.send("stop")
    parent.recv()
    server.join(timeout=10)

    loop_s = report.this_run["elapsed_s"]
    runs = report.this_run["sandbox_runs"]
    llm_bound = calls * args.latency / args.concurrency
    rate = sum(rates) / len(rates)
    sandbox_bound = runs / rate
    if costs:  # the gates' jobs are not like the calibration's: count container-seconds
        per_problem = sum(c["plain_s"] + c["one_job_s"] for c in costs) / len(costs)
        sandbox_bound = args.count * per_problem / args.workers
    ideal = max(llm_bound, sandbox_bound)
    per_min = args.count * 60 / loop_s
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average before/after: "
        f"{load_before:.2f}/{os.getloadavg()[0]:.2f}"
    )
    print(
        f"problems: {args.count} ({report.splits}), LLM latency {args.latency:g} s, "
        f"concurrency {args.concurrency}, sandbox workers {args.workers}"
    )
    print(
        f"LLM calls: {calls} {served['stages']}; most in flight at the server: "
        f"{served['max_in_flight']}"
    )
    print(
        f"LLM-bound ideal:     {llm_bound:7.2f} s = {calls} calls x {args.latency:g} s / "
        f"{args.concurrency} -> {args.count * 60 / llm_bound:7.1f} problems/min"
    )
    if costs:
        print(
            f"sandbox-bound ideal: {sandbox_bound:7.2f} s = {args.count} problems x "
            f"{per_problem:.2f} container-s (plain run + gates, measured per seed alone) / "
            f"{args.workers} containers -> {args.count * 60 / sandbox_bound:7.1f} problems/min"
        )
    else:
        print(
            f"sandbox-bound ideal: {sandbox_bound:7.2f} s = {runs} runs / {rate:.2f} runs/s "
            f"-> {args.count * 60 / sandbox_bound:7.1f} problems/min (pool measured on the "
            f"same jobs: {rates[0]:.2f} runs/s before the run, {rates[1]:.2f} after)"
        )
    binding = "LLM" if llm_bound >= sandbox_bound else "sandbox"
    print(
        f"achieved:            {loop_s:7.2f} s loop ({total:.2f} s with endpoint check, pool "
        f"start-up and teardown, export) -> {per_min:7.1f} problems/min"
    )
    print(
        f"LLM client alone:    {alone_s:7.2f} s for the same {calls} calls at concurrency "
        f"{args.concurrency}, no loop ({llm_bound / alone_s:.1%} of the LLM-bound ideal)"
    )
    print(
        f"efficiency: {ideal / loop_s:.1%} of the ideal ({binding}-bound; target >= 90%); "
        f"{max(alone_s, sandbox_bound) / loop_s:.1%} of the client-alone baseline"
    )
    print(
        f"CPU during the run: host process {report.this_run['host_cpu_s']:.1f} s, scripted "
        f"server {served['cpu_s'] - before['cpu_s']:.1f} s, over {total:.1f} s on "
        f"{os.cpu_count()} CPUs"
    )
    print(f"sandbox runs (plain and gates): {runs}; rows: {report.splits}")
    if costs:
        print(
            f"gates per accepted row, alone on one container (best of {args.cost_repeats}), "
            "container-seconds:"
        )
        for c in costs:
            print(
                f"  {c['seed']}: plain run {c['plain_s']:.2f} s; gates in one job "
                f"{c['one_job_s']:.2f} s ({c['one_job_s'] / c['plain_s']:.1f}x the plain run, "
                f"{c['one_job_s_runs']} sessions); one job per variant {c['per_variant_s']:.2f} s "
                f"({c['per_variant_s'] / c['plain_s']:.1f}x, {c['per_variant_s_runs']} jobs); "
                f"gates {'passed' if c['passed'] else 'rejected'}"
            )
        print("  the same in CPU seconds (the kernel's accounting of each session):")
        for c in costs:
            print(
                f"  {c['seed']}: plain run {c['plain_cpu_s']:.3f} s; gates in one job "
                f"{c['one_job_cpu_s']:.3f} s ({c['one_job_cpu_s'] / c['plain_cpu_s']:.1f}x); "
                f"one job per variant {c['per_variant_cpu_s']:.3f} s "
                f"({c['per_variant_cpu_s'] / c['plain_cpu_s']:.1f}x)"
            )
        # Per accepted row: a seed the static checks reject costs its plain run and no gates.
        kept = [c for c in costs if c["passed"]] or costs
        cpu = sum(c["one_job_cpu_s"] for c in kept) / sum(c["plain_cpu_s"] for c in kept)
        print(f"  the {len(kept)} accepted seeds, CPU: gates {cpu:.1f}x a plain run in one job")
        ratio = sum(c["one_job_s"] for c in kept) / sum(c["plain_s"] for c in kept)
        old = sum(c["per_variant_s"] for c in kept) / sum(c["plain_s"] for c in kept)
        print(
            f"  the {len(kept)} accepted seeds: gates {ratio:.1f}x a plain run in one job "
            f"(target <= 5x), {old:.1f}x one job per variant"
        )
    print(
        f"host peak RSS: {peak:.0f} MiB; RSS at "
        + ", ".join(f"{done} done: {mib:.0f} MiB" for done, mib in samples)
    )


if __name__ == "__main__":
    main()
