"""CPU-time limits: verdicts that do not depend on the number of workers or on machine load.

A busy loop is stopped when the CPU time of all its processes reaches the budget, however much
wall-clock time that takes on a loaded machine; a slow but correct solution passes at 1 worker
and at 2 with CPU hogs running beside the containers; code that sleeps is stopped by the
wall-clock limit. The result says which limit ended each job and how much CPU it used. The same
holds for the variants of one job (the quality gates' mutants): a slow mutant that passes within
its budget (a few times what the real solution costs where the mutants run) passes beside the
hogs too, and one that loops is stopped at that budget.
"""

from __future__ import annotations

import multiprocessing
import time

import pytest

from sandbox import Job, Limits, PoolConfig, Status, Variant
from sandbox.blocking import BlockingPool

pytestmark = pytest.mark.docker

CPU_S = 1.0
# Generous: on a machine shared with other work a loop may get a tenth of a core, and its CPU
# budget, not this, must be what stops it. The sleeper has a wall-clock limit of its own.
WALL_S = 120.0
SLEEPER_WALL_S = 3.0
TESTS = "from solution import work\n\n\ndef test_work():\n    assert work(3) == 9\n"
SOLUTIONS = {
    "busy_loop": "def work(x):\n    while True:\n        x += 1\n",
    # two processes share the budget: the sum of their CPU time is what counts
    "forked_loops": (
        "import os\n\n\ndef work(x):\n    os.fork()\n    while True:\n        x += 1\n"
    ),
    # about 0.4 s of CPU, well inside the budget even at a fraction of a core
    "slow_but_correct": (
        "def work(x):\n    total = sum(i * i for i in range(3_000_000))\n"
        "    return x * x + total * 0\n"
    ),
    "correct": "def work(x):\n    return x * x\n",
    "wrong": "def work(x):\n    return x + x + 1\n",
    "sleeps": "import time\n\n\ndef work(x):\n    time.sleep(60)\n    return x * x\n",
}
EXPECTED = {
    "busy_loop": (Status.TIMEOUT, "cpu"),
    "forked_loops": (Status.TIMEOUT, "cpu"),
    "slow_but_correct": (Status.PASSED, None),
    "correct": (Status.PASSED, None),
    "wrong": (Status.FAILED, None),
    "sleeps": (Status.TIMEOUT, "wall"),
}


def _hog(stop) -> None:
    while not stop.is_set():
        pass


def _verdicts(image: str, workers: int) -> dict:
    limits = Limits(timeout_s=WALL_S, cpu_timeout_s=CPU_S)
    jobs = [
        Job(
            id=name,
            solution=code,
            tests=TESTS,
            timeout_s=SLEEPER_WALL_S if name == "sleeps" else None,
        )
        for name, code in SOLUTIONS.items()
    ]
    with BlockingPool(PoolConfig(workers=workers, image=image, limits=limits)) as pool:
        return {result.id: result for result in pool.run_many(jobs)}


def test_same_verdicts_at_one_worker_and_at_two_beside_cpu_hogs(runner_image):
    alone = _verdicts(runner_image, 1)
    stop = multiprocessing.Event()
    hogs = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True) for _ in range(2)]
    for hog in hogs:
        hog.start()
    try:
        started = time.monotonic()
        loaded = _verdicts(runner_image, 2)
        loaded_wall = time.monotonic() - started
    finally:
        stop.set()
        for hog in hogs:
            hog.join(timeout=10)
    for name, (status, limit) in EXPECTED.items():
        for run in (alone, loaded):
            result = run[name]
            assert (result.status, result.limit) == (status, limit), (name, result.error)
    for run in (alone, loaded):
        for name in ("busy_loop", "forked_loops"):
            # stopped at its budget: the kernel's count, a poll interval or two past it
            assert CPU_S <= run[name].cpu_s < CPU_S + 0.5, (name, run[name].cpu_s)
            assert "CPU-time budget" in run[name].error
        assert run["slow_but_correct"].cpu_s > 0.1
        assert run["sleeps"].cpu_s < 0.5
        assert f"the {SLEEPER_WALL_S:g} s time limit" in run["sleeps"].error
    assert loaded_wall < WALL_S


# About 0.06 s of CPU for the real solution's tests; the slow variant does 2.5 times the work.
VARIANT_WORK = (
    "def work(x):\n    total = sum(i * i for i in range({n}))\n    return x * x + total * 0\n"
)
VARIANT_FACTOR = 5.0


def _variant_verdicts(image: str, workers: int) -> list:
    job = Job(
        id="variants",
        solution=VARIANT_WORK.format(n=600_000),
        tests=TESTS,
        coverage=True,
        timeout_s=WALL_S,
        variants=[
            Variant(
                id=name,
                solution=code,
                cpu_factor=VARIANT_FACTOR,
                cpu_floor_s=0.05,
                cpu_timeout_s=10,
                timeout_s=WALL_S,
            )
            for name, code in (
                ("slow_but_correct", VARIANT_WORK.format(n=1_500_000)),
                ("wrong", SOLUTIONS["wrong"]),
                ("busy_loop", SOLUTIONS["busy_loop"]),
            )
        ],
    )
    jobs = [job.model_copy(update={"id": f"variants-{i}"}) for i in range(workers)]
    limits = Limits(timeout_s=WALL_S, cpu_timeout_s=WALL_S)
    with BlockingPool(PoolConfig(workers=workers, image=image, limits=limits)) as pool:
        return list(pool.run_many(jobs))


def test_variant_budgets_give_the_same_verdicts_beside_cpu_hogs(runner_image):
    alone = _variant_verdicts(runner_image, 1)
    stop = multiprocessing.Event()
    hogs = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True) for _ in range(2)]
    for hog in hogs:
        hog.start()
    try:
        loaded = _variant_verdicts(runner_image, 2)
    finally:
        stop.set()
        for hog in hogs:
            hog.join(timeout=10)
    for result in alone + loaded:
        assert result.status == Status.PASSED, result.error
        by_id = {variant.id: variant for variant in result.variants}
        outcomes = {name: (v.status, v.limit) for name, v in by_id.items()}
        assert outcomes == {
            "slow_but_correct": (Status.PASSED, None),
            "wrong": (Status.FAILED, None),
            "busy_loop": (Status.TIMEOUT, "cpu"),
        }, {name: v.error for name, v in by_id.items()}
        budget = by_id["busy_loop"].cpu_budget_s
        assert by_id["slow_but_correct"].cpu_budget_s == budget
        # a few times the real solution's run where the variants run, not its session under
        # coverage (which traces every line the generator runs, several times the cost)
        assert 0.05 < budget < VARIANT_FACTOR * result.cpu_s, (budget, result.cpu_s)
        assert budget <= by_id["busy_loop"].cpu_s < budget + 0.5
