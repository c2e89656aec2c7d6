"""Per-job cost of the sandbox pool against a bare subprocess and against ``docker run``.

    .venv/bin/python benchmarks/sandbox_bench.py [--jobs 200] [--workers N] [--docker-jobs 24]

The same two small jobs (a pytest job: a function and two tests; a script job: the function
and two asserts) are run, for each mode, by:

1. the pool: ``SandboxPool.map`` with N warm containers (N = CPU count by default) and with 1,
   full isolation (no network, read-only root, caps dropped, memory/pid/CPU limits). Start-up
   is timed separately, not charged to the jobs.
2. a bare subprocess per job, no isolation at all (the floor): a temporary directory with the
   files, then ``python -I -m pytest -q -p no:cacheprovider`` (third-party plugin autoload
   off) or ``python -I program.py``, with the same parallelism N (a thread pool of
   subprocesses), using the interpreter that runs this script.
3. ``docker run --rm`` per job with the runner image and roughly the same isolation flags,
   parallelism N (the naive way), on fewer jobs (it is slow).

Every run must pass every job. Configurations are interleaved for ``--rounds`` rounds, and the
best round counts (other work on the machine only ever adds time); the median is shown too.
"Per job" is the wall time a worker slot spends on one job: wall x parallelism / jobs.
Targets: the pool at least as fast per job as the bare subprocess, and at least 10x faster
than ``docker run``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sandbox import Job, Limits, PoolConfig, SandboxPool  # noqa: E402
from sandbox.docker_client import connect, require_image  # noqa: E402
from sandbox.image import default_image  # noqa: E402
from sandbox.runner.identity import JOB_UID  # noqa: E402

SOLUTION = "def add(a, b):\n    return a + b\n"
PYTEST_TESTS = (
    "from solution import add\n\n\n"
    "def test_small():\n    assert add(1, 2) == 3\n\n\n"
    "def test_negative():\n    assert add(-1, -2) == -3\n"
)
SCRIPT_TESTS = "assert add(1, 2) == 3\nassert add(-1, -2) == -3\n"
MODES = ("pytest", "script")

# What `docker run` gets: close to the pool's isolation (see sandbox/container.py).
DOCKER_RUN_FLAGS = [
    "--rm",
    "-i",
    "--network=none",
    "--read-only",
    "--tmpfs=/work:rw,nosuid,nodev,noexec,size=256m,mode=1777",
    "--tmpfs=/tmp:rw,nosuid,nodev,noexec,size=64m,mode=1777",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges:true",
    "--memory=512m",
    "--memory-swap=512m",
    "--pids-limit=256",
    "--cpus=1",
    f"--user={JOB_UID}:{JOB_UID}",  # a jobs' uid, not root (each pool container picks its own)
    "--workdir=/work",
    "--entrypoint=/opt/venv/bin/python",
]
# Reads {name: text} as JSON on stdin, writes the files into /work and runs the command.
DOCKER_BOOTSTRAP = (
    "import json, os, sys; files = json.load(sys.stdin); "
    "[open(name, 'w').write(text) for name, text in files.items()]; "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def job(mode: str, index: int) -> Job:
    tests = PYTEST_TESTS if mode == "pytest" else SCRIPT_TESTS
    return Job(id=f"{mode}-{index}", solution=SOLUTION, tests=tests, mode=mode)


def files_and_command(mode: str) -> tuple[dict[str, str], list[str]]:
    """The files and the command line a non-pool runner needs for one job of ``mode``."""
    if mode == "pytest":
        files = {"solution.py": SOLUTION, "test_solution.py": PYTEST_TESTS}
        return files, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_solution.py"]
    return {"program.py": SOLUTION + "\n\n" + SCRIPT_TESTS}, ["program.py"]


# ----------------------------------------------------------------------------- the runners


def run_pool(mode: str, n: int, workers: int, image: str) -> tuple[float, float, int]:
    """Returns (seconds for the jobs, seconds to start the pool, jobs passed)."""

    async def go() -> tuple[float, float, int]:
        config = PoolConfig(workers=workers, image=image, limits=Limits(timeout_s=30))
        started = time.perf_counter()
        async with SandboxPool(config) as pool:
            ready = time.perf_counter()
            passed = 0
            async for result in pool.map(job(mode, i) for i in range(n)):
                passed += result.passed
            done = time.perf_counter()
        return done - ready, ready - started, passed

    return asyncio.run(go())


# The floor should be as fast as a bare run can be: no third-party pytest plugins (the
# container has none either); -I like the worker (no user site, no PYTHON* variables), with
# the current directory put back for `from solution import ...` by pytest's rootdir handling.
BARE_ENV = {"PATH": os.environ.get("PATH", ""), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def run_bare(mode: str, n: int, workers: int) -> tuple[float, int]:
    files, command = files_and_command(mode)

    def one(_: int) -> bool:
        with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
            for name, text in files.items():
                Path(tmp, name).write_text(text)
            done = subprocess.run(
                [sys.executable, "-I", *command],
                cwd=tmp,
                capture_output=True,
                timeout=60,
                env=BARE_ENV,
            )
            return done.returncode == 0

    return _timed_parallel(one, n, workers)


def run_docker(mode: str, n: int, workers: int, image: str) -> tuple[float, int]:
    files, command = files_and_command(mode)
    payload = json.dumps(files)
    argv = ["docker", "run", *DOCKER_RUN_FLAGS, image, "-c", DOCKER_BOOTSTRAP, *command]

    def one(_: int) -> bool:
        done = subprocess.run(argv, input=payload, capture_output=True, text=True, timeout=120)
        return done.returncode == 0

    return _timed_parallel(one, n, workers)


def _timed_parallel(fn: Callable[[int], bool], n: int, workers: int) -> tuple[float, int]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        passed = sum(executor.map(fn, range(n)))
    return time.perf_counter() - started, passed


# ----------------------------------------------------------------------------- reporting


@dataclass
class Measure:
    name: str
    jobs: int
    parallel: int
    walls: list[float] = field(default_factory=list)

    def add(self, seconds: float, passed: int) -> None:
        if passed != self.jobs:
            sys.exit(f"{self.name}: only {passed} of {self.jobs} jobs passed")
        self.walls.append(seconds)

    @property
    def best(self) -> float:
        return min(self.walls)

    def jobs_per_s(self) -> float:
        return self.jobs / self.best

    def ms_per_job(self, wall: float | None = None) -> float:
        """Wall time one worker slot spends per job."""
        return 1000 * (wall if wall is not None else self.best) * self.parallel / self.jobs


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kib / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    try:
        docker = connect().version()
        docker_version = f"Docker {docker['Version']}"
    except Exception as exc:
        docker_version = f"Docker unavailable ({exc})"
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram}, Linux {platform.release()}, "
        f"{docker_version}, Python {platform.python_version()}"
    )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs per mode (pool, bare)")
    parser.add_argument("--docker-jobs", type=int, default=24, help="jobs per mode, docker run")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best of)")
    parser.add_argument("--image", default=None, help="runner image [default: this version's]")
    args = parser.parse_args()

    image = args.image or default_image()
    require_image(connect(), image)
    if shutil.which("docker") is None:
        sys.exit("the docker command line is needed for the docker run baseline")
    n, nd, w = args.jobs, args.docker_jobs, args.workers
    print(f"machine: {machine()}")
    print(f"load average at start: {load()}")
    print(f"jobs per mode: {n} (docker run: {nd}); parallelism: {w}; rounds: {args.rounds}")

    results: dict[str, dict[str, Measure]] = {}
    startups: list[float] = []
    for mode in MODES:
        results[mode] = {
            "pool": Measure(f"pool, {w} containers", n, w),
            "pool1": Measure("pool, 1 container", n, 1),
            "bare": Measure(f"bare subprocess, {w} at once", n, w),
            "docker": Measure(f"docker run --rm, {w} at once", nd, w),
        }
    for round_ in range(1, args.rounds + 1):
        for mode in MODES:
            m = results[mode]
            seconds, startup, passed = run_pool(mode, n, w, image)
            m["pool"].add(seconds, passed)
            startups.append(startup)
            seconds, _, passed = run_pool(mode, n, 1, image)
            m["pool1"].add(seconds, passed)
            m["bare"].add(*run_bare(mode, n, w))
            m["docker"].add(*run_docker(mode, nd, w, image))
            print(
                f"round {round_} {mode:6}: "
                + ", ".join(f"{x.name} {x.walls[-1]:.2f} s" for x in m.values()),
                flush=True,
            )
    print(f"load average at end: {load()}")
    print(f"pool start-up ({w} containers, not charged to jobs): best {min(startups):.2f} s")
    print()
    header = f"{'mode':7} {'runner':34} {'jobs':>5} {'jobs/s':>8} {'ms/job':>8} {'median':>8}"
    print(header)
    print("-" * len(header))
    for mode in MODES:
        for measure in results[mode].values():
            median = measure.ms_per_job(statistics.median(measure.walls))
            print(
                f"{mode:7} {measure.name:34} {measure.jobs:>5} {measure.jobs_per_s():>8.1f} "
                f"{measure.ms_per_job():>8.1f} {median:>8.1f}"
            )
    print()
    print("ms/job: wall time a worker slot spends per job (wall x parallelism / jobs), best round")
    for mode in MODES:
        m = results[mode]
        vs_bare = m["bare"].ms_per_job() / m["pool"].ms_per_job()
        vs_docker = m["docker"].ms_per_job() / m["pool"].ms_per_job()
        print(
            f"{mode}: pool is {vs_bare:.1f}x the speed of a bare subprocess "
            f"(target >= 1.0: {'met' if vs_bare >= 1 else 'MISSED'}), "
            f"{vs_docker:.1f}x the speed of docker run "
            f"(target >= 10: {'met' if vs_docker >= 10 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
