"""Every status end to end, through the real daemon and the real runner image."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from docker.errors import NotFound

from sandbox import Job, Limits, PoolConfig, Status
from sandbox.blocking import BlockingPool
from tests.sandbox.helpers import (
    ADD,
    ADD_TESTS,
    SCRIPT_TESTS,
    WRONG_ADD,
    assert_status,
    bad_job,
    good_job,
    own_containers,
    script_job,
)

pytestmark = pytest.mark.docker

RUNNER_NAMES = ("job.py", "cleanup.py", "zygote.py", "worker.py")


def test_passed_with_per_test_outcomes(sandbox_pool):
    result = sandbox_pool.run(good_job())
    assert_status(result, Status.PASSED)
    assert [(t.name, t.outcome) for t in result.tests] == [
        ("test_solution.py::test_small", "passed"),
        ("test_solution.py::test_negative", "passed"),
    ]
    assert (result.n_tests, result.n_passed, result.error) == (2, 2, "")
    assert result.sandbox_attempts == 1


def test_failed_names_each_test_and_its_assertion(sandbox_pool):
    tests = ADD_TESTS + "\n\ndef test_zero():\n    assert add(0, 0) == 0\n"
    result = sandbox_pool.run(Job(id="wrong", solution=WRONG_ADD, tests=tests))
    assert_status(result, Status.FAILED)
    outcomes = {t.name.split("::")[1]: t for t in result.tests}
    assert {name: t.outcome for name, t in outcomes.items()} == {
        "test_small": "failed",
        "test_negative": "failed",
        "test_zero": "passed",
    }
    small = outcomes["test_small"]
    assert "assert -1 == 3" in small.message
    assert "add(1, 2)" in small.traceback
    assert result.n_passed == 1
    assert result.error == "2 of 3 tests failed: test_small, test_negative"
    feedback = result.feedback()
    assert "test_small: failed: assert -1 == 3" in feedback


def test_error_when_the_solution_raises_at_import(sandbox_pool):
    job = Job(
        id="import-error", solution="import numpy_that_does_not_exist\n" + ADD, tests=ADD_TESTS
    )
    result = sandbox_pool.run(job)
    assert_status(result, Status.ERROR)
    assert "collection failed" in result.error
    assert "ModuleNotFoundError" in result.error


def test_error_when_a_fixture_fails(sandbox_pool):
    tests = (
        "import pytest\nfrom solution import add\n\n"
        "@pytest.fixture\ndef data():\n    raise RuntimeError('broken fixture')\n\n"
        "def test_uses(data):\n    assert add(1, 2) == 3\n"
    )
    result = sandbox_pool.run(Job(id="fixture", solution=ADD, tests=tests))
    assert_status(result, Status.ERROR)
    assert [t.outcome for t in result.tests] == ["error"]
    assert "broken fixture" in result.tests[0].message


@pytest.mark.parametrize(
    ("solution", "tests", "mode", "where"),
    [
        ("def add(a, b)\n    return a + b\n", ADD_TESTS, "pytest", "solution.py"),
        (ADD, "from solution import add\ndef test_x(:\n    pass\n", "pytest", "test_solution.py"),
        ("def add(a, b)\n    return a + b\n", SCRIPT_TESTS, "script", "program.py"),
        ("x = " + "-" * 1_000_000 + "1\n" + ADD, ADD_TESTS, "pytest", "solution.py"),
    ],
    ids=["solution", "tests", "script", "too deeply nested"],
)
def test_syntax_error(sandbox_pool, solution, tests, mode, where):
    result = sandbox_pool.run(Job(id="syntax", solution=solution, tests=tests, mode=mode))
    assert_status(result, Status.SYNTAX_ERROR)
    assert f"syntax error in {where}" in result.error


def test_timeout_names_the_running_test(sandbox_pool):
    tests = ADD_TESTS + "\n\ndef test_slow():\n    import time\n    time.sleep(60)\n"
    started = time.monotonic()
    result = sandbox_pool.run(Job(id="slow", solution=ADD, tests=tests, timeout_s=2))
    assert time.monotonic() - started < 2 + 5
    assert_status(result, Status.TIMEOUT)
    assert result.error == "exceeded the 2 s time limit while running test_solution.py::test_slow"


def test_oom(sandbox_pool):
    program = "blocks = []\nwhile True:\n    blocks.append(bytearray(8 * 2**20))\n"
    result = sandbox_pool.run(script_job("memory", program, memory_mb=128, timeout_s=10))
    assert_status(result, Status.OOM)
    assert result.duration_s < 10


def test_script_mode_pass_and_fail(sandbox_pool):
    passed = sandbox_pool.run(Job(id="s1", solution=ADD, tests=SCRIPT_TESTS, mode="script"))
    assert_status(passed, Status.PASSED)
    assert passed.tests == []
    failed = sandbox_pool.run(Job(id="s2", solution=WRONG_ADD, tests=SCRIPT_TESTS, mode="script"))
    assert_status(failed, Status.FAILED)
    assert "AssertionError" in failed.error
    errored = sandbox_pool.run(script_job("s3", "def f(x):\n    return x.nope\nf(1)\n"))
    assert_status(errored, Status.ERROR)
    assert "AttributeError" in errored.error


def test_extra_files_are_available_to_the_job(sandbox_pool):
    job = Job(
        id="files",
        solution="import json\n\ndef load():\n    return json.load(open('data/input.json'))\n",
        tests="from solution import load\n\ndef test_load():\n    assert load() == {'a': 1}\n",
        files={"data/input.json": '{"a": 1}'},
    )
    assert_status(sandbox_pool.run(job), Status.PASSED)


def test_a_job_imports_its_own_modules_named_like_the_runners(sandbox_pool):
    """The in-container runner is split into modules; a job's own ``job.py``, ``cleanup.py``
    or ``zygote.py`` is what it imports, in both modes."""
    files = {name: f"ORIGIN = 'the job'\nNAME = {name!r}\n" for name in RUNNER_NAMES}
    check = "".join(f"import {name[:-3]}\n" for name in RUNNER_NAMES) + "".join(
        f"assert {name[:-3]}.ORIGIN == 'the job', {name[:-3]}.__file__\n" for name in RUNNER_NAMES
    )
    as_test = "def test_own_modules():\n" + "".join(f"    {line}\n" for line in check.splitlines())
    pytest_job = Job(id="own-modules", solution=ADD, tests=as_test, files=files)
    assert_status(sandbox_pool.run(pytest_job), Status.PASSED)
    script = Job(id="own-modules-script", solution="", tests=check, mode="script", files=files)
    assert_status(sandbox_pool.run(script), Status.PASSED)


def test_many_jobs_in_parallel_keep_their_ids_and_verdicts(sandbox_pool):
    jobs = [good_job(f"good-{i}") if i % 2 else bad_job(f"bad-{i}") for i in range(12)]
    results = sandbox_pool.run_many(jobs)
    assert [r.id for r in results] == [j.id for j in jobs]
    for result in results:
        assert_status(result, Status.PASSED if result.id.startswith("good") else Status.FAILED)


# ------------------------------------------------------------------------------------------
# sandbox_error: only for our own infrastructure failing, retried once on a fresh container.
# ------------------------------------------------------------------------------------------

SLOW_PASS_TESTS = ADD_TESTS + "\n\ndef test_takes_a_while():\n    import time\n    time.sleep(3)\n"


@pytest.fixture
def solo_pool(runner_image, docker_client):
    """A one-container pool, and a way to find its running containers among the session's."""
    before = {c["Id"] for c in own_containers(docker_client)}
    config = PoolConfig(workers=1, image=runner_image, limits=Limits(timeout_s=20))
    with BlockingPool(config) as pool:
        pool.new_containers = lambda: [
            c["Id"]
            for c in own_containers(docker_client)
            if c["Id"] not in before and c["State"] == "running"
        ]
        pool.docker = docker_client
        yield pool


def remove_containers_behind_the_pools_back(
    pool, how_many: int, delay_s: float
) -> threading.Thread:
    """Force-removes the pool's container ``delay_s`` after each of ``how_many`` is running."""

    def killer():
        removed: set[str] = set()
        deadline = time.monotonic() + 60
        while len(removed) < how_many and time.monotonic() < deadline:
            live = [c for c in pool.new_containers() if c not in removed]
            if not live:
                time.sleep(0.05)
                continue
            time.sleep(delay_s)  # well into the job the pool is running in it
            for container_id in live:
                with contextlib.suppress(NotFound):
                    pool.docker.api.remove_container(container_id, force=True)
                removed.add(container_id)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    return thread


def test_lost_container_is_retried_once_on_a_fresh_one(solo_pool):
    killer = remove_containers_behind_the_pools_back(solo_pool, how_many=1, delay_s=1.0)
    result = solo_pool.run(Job(id="retried", solution=ADD, tests=SLOW_PASS_TESTS))
    killer.join(timeout=30)
    assert_status(result, Status.PASSED)
    assert result.sandbox_attempts == 2
    assert_status(solo_pool.run(good_job()), Status.PASSED)


def test_sandbox_error_when_the_retry_is_lost_too(solo_pool):
    killer = remove_containers_behind_the_pools_back(solo_pool, how_many=2, delay_s=1.0)
    result = solo_pool.run(Job(id="doomed", solution=ADD, tests=SLOW_PASS_TESTS))
    killer.join(timeout=30)
    assert_status(result, Status.SANDBOX_ERROR)
    assert result.sandbox_attempts == 2
    assert result.error.startswith("sandbox failed twice: WorkerLost")
    # The pool replaced the container in the background and goes on giving honest verdicts.
    assert_status(solo_pool.run(good_job()), Status.PASSED)
    assert_status(solo_pool.run(bad_job()), Status.FAILED)
