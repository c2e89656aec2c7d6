"""What the hostile-job tests share: the follow-up checks, the case record and job builders.

Every hostile job runs in the package's one-container pool (``conftest.py``), so the follow-up
jobs (a right answer, a wrong answer and a check that no process, file or IPC object survived)
run in the container the hostile job just used, or in its replacement if the pool had to
replace it; they must need no retry.

Isolation probes are jobs that reach their end (pass) only if every attempt to break out was
refused in the expected way; their assertion message says what got through otherwise.
"""

from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass

from sandbox import Job, Result, Status
from tests.sandbox.helpers import (
    ADD_TESTS,
    WRONG_ADD,
    assert_pool_honest,
    assert_status,
)

SLACK_S = 5.0  # a correctness bound (the job was stopped), not a performance target
POOL_TIMEOUT_S = 10.0
OUTPUT_LIMIT = 64 * 1024
CANARY_NAME = "CODEFACTORY_CANARY_SECRET"
JOB_ENV_NAMES = {"PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "TMPDIR"}
CONTAINER_ENV_NAMES = {
    *("PATH", "HOSTNAME", "PYTHONDONTWRITEBYTECODE", "LANG", "HOME"),
    "CODEFACTORY_JOB_UID",  # the jobs' uid in this container (not a secret)
}


def code(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


# Job code that finds the zygote, the process that forks every job (see sandbox/runner/zygote.py).
FIND_ZYGOTE = code(
    """
    import os

    def zygote_pid():
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and open(f"/proc/{entry}/comm").read() == "cf-zygote\\n":
                    return int(entry)
            except OSError:
                pass
        raise AssertionError("no zygote found")
    """
)


def wrong(job_id: str, solution_prefix: str = "", tests_prefix: str = "", **kwargs) -> Job:
    """A wrong solution (add subtracts) dressed up with a trick that must not make it pass."""
    return Job(
        id=job_id,
        solution=code(solution_prefix) + WRONG_ADD,
        tests=code(tests_prefix) + ADD_TESTS,
        **kwargs,
    )


def run_case(pool, job: Job, *expected: Status) -> Result:
    """Runs ``job``, checks its verdict and the time it took, then the pool's honesty."""
    limit = job.timeout_s or POOL_TIMEOUT_S
    started = time.monotonic()
    result = pool.run(job)
    elapsed = time.monotonic() - started
    assert_status(result, *expected)
    assert elapsed <= limit + SLACK_S, f"{job.id} took {elapsed:.1f} s (limit {limit:g} s)"
    assert_pool_honest(pool)
    return result


@dataclass
class Case:
    job: Job
    expected: tuple[Status, ...]
    then: Job | None = None  # a job run right after the case, in the same pool
    then_expected: Status = Status.PASSED
    error_contains: str = ""  # where the reason for the verdict matters


CONFTEST_MAKING_EVERYTHING_PASS = code(
    """
    import pytest

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        outcome = yield
        report = outcome.get_result()
        report.outcome = "passed"
        report.longrepr = None
    """
)

FAKE_PASSING_JUNIT = (
    '<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="0" failures="0" '
    'skipped="0" tests="2"><testcase classname="test_solution" name="test_small"/>'
    '<testcase classname="test_solution" name="test_negative"/></testsuite></testsuites>'
)


def check_case(pool, case: Case) -> Result:
    """Runs one :class:`Case` and the job that follows it, if any."""
    result = run_case(pool, case.job, *case.expected)
    assert case.error_contains in result.error
    if case.then is not None:
        assert_status(pool.run(case.then), case.then_expected)
    return result


# Where a job runs: the start time of the container's PID 1, with the inode of its PID namespace
# (the kernel reuses such inodes once a container is gone).
WHICH_CONTAINER = (
    "import os\nprint('container', os.readlink('/proc/self/ns/pid')"
    " + open('/proc/1/stat').read().rpartition(')')[2].split()[19])\n"
)
