"""Memory: a job finds nothing of earlier jobs in its own memory."""

from __future__ import annotations

import re
import secrets

import pytest

from sandbox import Job, Limits, PoolConfig, Status
from sandbox.blocking import BlockingPool
from tests.sandbox.helpers import (
    ADD,
    ADD_TESTS,
    assert_status,
    script_job,
)
from tests.sandbox.hostile.common import (
    POOL_TIMEOUT_S,
    WHICH_CONTAINER,
    code,
)

pytestmark = pytest.mark.docker


# Job code that counts, in the job process's own memory, the places where ``first`` is
# directly followed by ``second``. A marker is always written as two halves, so the only
# whole copies are the ones the process really holds.
COUNT_IN_OWN_MEMORY = code(
    """
    def count_in_own_memory(first, second):
        first, second = first.encode(), second.encode()
        found = 0
        with open("/proc/self/mem", "rb", 0) as mem:
            for line in open("/proc/self/maps").read().splitlines():
                span, perms = line.split()[:2]
                start, end = (int(x, 16) for x in span.split("-"))
                if not perms.startswith("r") or end - start > 2**28:
                    continue
                try:
                    mem.seek(start)
                    chunk = mem.read(end - start)
                except (OSError, ValueError, OverflowError):
                    continue
                at = chunk.find(first)
                while at >= 0:
                    after = at + len(first)
                    found += chunk[after : after + len(second)] == second
                    at = chunk.find(first, at + 1)
        return found
    """
)


def test_a_job_finds_nothing_of_earlier_jobs_in_its_memory(runner_image):
    """Jobs are forked from a zygote that never saw job data, not from the worker that reads
    every request and drains every output: a job scanning its own memory finds no trace of an
    earlier job's solution, tests or output, in the same container."""
    halves = {
        where: (secrets.token_hex(8), secrets.token_hex(8))
        for where in ("solution", "tests", "stdout", "script", "control")
    }
    whole = {where: first + second for where, (first, second) in halves.items()}
    earlier = Job(
        id="earlier-pytest-job",
        solution=f"MARK = {whole['solution']!r}\n" + ADD,
        tests=f"MARK = {whole['tests']!r}\n"
        + ADD_TESTS
        + f"\n\ndef test_prints():\n    print({whole['stdout'][::-1]!r}[::-1])\n"
        + f"\n\ndef test_where():\n    {WHICH_CONTAINER.splitlines()[0]}\n"
        + f"    {WHICH_CONTAINER.splitlines()[1]}\n",
    )
    earlier_script = script_job(
        "earlier-script-job", f"MARK = {whole['script']!r}\nprint(MARK)\n" + WHICH_CONTAINER
    )
    scanner = script_job(
        "scans-its-own-memory",
        WHICH_CONTAINER
        + COUNT_IN_OWN_MEMORY
        + f"halves = {halves!r}\n"
        + "control = ''.join(halves['control'])  # a whole copy this process does hold\n"
        + "for where, (first, second) in sorted(halves.items()):\n"
        + "    print('found', where, count_in_own_memory(first, second))\n",
    )
    config = PoolConfig(workers=1, image=runner_image, limits=Limits(timeout_s=POOL_TIMEOUT_S))
    with BlockingPool(config) as pool:
        runs = [pool.run(earlier), pool.run(earlier_script), pool.run(scanner)]
    for result in runs:
        assert_status(result, Status.PASSED)
    assert whole["stdout"] in runs[0].stdout and whole["script"] in runs[1].stdout
    containers = {re.search(r"container (\S+)", r.stdout).group(1) for r in runs}
    assert len(containers) == 1, f"the jobs ran in different containers: {containers}"
    found = {where: int(n) for where, n in re.findall(r"^found (\w+) (\d+)$", runs[2].stdout, re.M)}
    assert found.pop("control") >= 1, "the scan does not see this process's own memory"
    assert found == {"solution": 0, "tests": 0, "stdout": 0, "script": 0}, (
        f"copies of earlier jobs' text in a later job's memory: {found}"
    )
