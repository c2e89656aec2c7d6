"""Several candidates judged in one trusted-mode job (``Job.candidates``): every verdict is the
one a job of its own gives, nothing a candidate does reaches the next one, and what the batch
cannot account for runs again on its own.

Each case runs the same candidates as one batch and as jobs of their own, in the session's
pool, and compares the verdicts; the hostile ones also say which candidates had to run again.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from sandbox import Job, Status
from tests.sandbox.helpers import assert_pool_honest

pytestmark = pytest.mark.docker

JUDGE = "assert add(1, 2) == 3\nassert add(-1, 1) == 0\n"
GOOD = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"


def code(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


# A candidate's own check that nothing of an earlier candidate is left: no process of its uid
# but itself, no file in the scratch places, no System V object; then a right answer.
CLEAN_GOOD = code(
    """
    import os

    def _others():
        mine = os.getuid()
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    uids = open(f"/proc/{entry}/status").read().split("Uid:")[1].split()[:4]
                except (OSError, IndexError):
                    continue
                if all(int(uid) == mine for uid in uids):
                    found.append(entry)
        return found

    def add(a, b):
        left = [p for p in ("/tmp", "/dev/shm") for n in os.listdir(p)]
        left += [n for n in os.listdir(".")]
        for table in ("shm", "sem", "msg"):
            left += open(f"/proc/sysvipc/{table}").read().splitlines()[1:]
        assert not left and not _others(), (left, _others())
        return a + b
    """
)
LITTERS = code(
    """
    import ctypes, os, subprocess, time
    for path in ("/tmp/left", "/dev/shm/left", "left", "/work/left"):
        open(path, "w").write("x")
    libc = ctypes.CDLL(None)
    libc.shmget(0x1234, 4096, 0o1666)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(60)
        os._exit(0)

    def add(a, b):
        return a + b
    """
)
LOOPS = "def add(a, b):\n    while True:\n        pass\n"
EXITS = "import os\n\ndef add(a, b):\n    os._exit(3)\n"
FIND_JUDGE = code(
    """
    import os

    def judge_pid():
        for entry in os.listdir("/proc"):
            try:
                uids = open(f"/proc/{entry}/status").read().split("Uid:")[1].split()[:2]
            except (OSError, IndexError):
                continue
            if uids[0] != uids[1]:  # the judge: the jobs' uid as its real one only
                return int(entry)
    """
)
KILLS_JUDGE = FIND_JUDGE + "os.kill(judge_pid(), 9)\n\ndef add(a, b):\n    return a + b\n"
RENICES_JUDGE = (
    FIND_JUDGE
    + "os.setpriority(os.PRIO_PROCESS, judge_pid(), 19)\n\ndef add(a, b):\n    return a + b\n"
)
NOT_PLAIN = "class Yes:\n    def __eq__(self, other):\n        return True\n\ndef add(a, b):\n    return Yes()\n"
RAISES = "def add(a, b):\n    raise ValueError('no')\n"
SYNTAX = "def add(a, b)\n    return a + b\n"


def _job(job_id: str, solution: str, cpu_timeout_s: float = 1.0) -> Job:
    return Job(
        id=job_id,
        solution=solution,
        tests=JUDGE,
        mode="trusted",
        entry_points=["add"],
        timeout_s=10.0,
        cpu_timeout_s=cpu_timeout_s,
    )


def _verdict(result) -> tuple:
    return (result.status, result.passed, result.error, result.limit)


def _run_both(pool, solutions: list[str]) -> tuple[list, list, list[str]]:
    """The batch's results, the results of jobs of their own, and the candidates the batch
    ran again on their own."""
    jobs = [_job(f"c{index}", solution) for index, solution in enumerate(solutions)]
    again: list[str] = []
    run = pool.pool.run

    async def counting(job):
        again.append(job.id)
        return await run(job)

    pool.pool.run = counting
    try:
        batch = pool.run_batch(Job.batched(jobs))
    finally:
        del pool.pool.run
    alone = pool.run_many(jobs)
    assert [result.id for result in batch] == [job.id for job in jobs]
    return batch, alone, again


def test_each_candidate_gets_the_verdict_of_a_job_of_its_own(sandbox_pool):
    solutions = [GOOD, WRONG, RAISES, SYNTAX, NOT_PLAIN, LOOPS, GOOD]
    batch, alone, again = _run_both(sandbox_pool, solutions)
    assert [_verdict(r) for r in batch] == [_verdict(r) for r in alone]
    assert [r.status for r in batch] == [
        Status.PASSED,
        Status.FAILED,
        Status.ERROR,
        Status.SYNTAX_ERROR,
        Status.ERROR,
        Status.TIMEOUT,
        Status.PASSED,
    ]
    assert batch[5].limit == "cpu" and batch[5].cpu_s >= 1.0
    assert again == []  # the batch settled every one, the looping one by its own budget


def test_nothing_a_candidate_leaves_reaches_the_next(sandbox_pool):
    batch, alone, again = _run_both(sandbox_pool, [CLEAN_GOOD, LITTERS, CLEAN_GOOD, CLEAN_GOOD])
    assert [r.status for r in batch] == [Status.PASSED] * 4, [r.error for r in batch]
    assert [_verdict(r) for r in batch] == [_verdict(r) for r in alone]
    assert again == []
    assert_pool_honest(sandbox_pool)


def test_what_the_batch_cannot_account_for_runs_again_on_its_own(sandbox_pool):
    solutions = [GOOD, EXITS, WRONG, KILLS_JUDGE, CLEAN_GOOD, RENICES_JUDGE, WRONG, CLEAN_GOOD]
    batch, alone, again = _run_both(sandbox_pool, solutions)
    assert [_verdict(r) for r in batch] == [_verdict(r) for r in alone]
    assert [r.status for r in batch][:3] == [Status.PASSED, Status.ERROR, Status.FAILED]
    # the candidate that ended by itself; the one that killed the judge and all after it
    # (the batch ended with it)
    assert again == ["c1", "c3", "c4", "c5", "c6", "c7"]
    assert_pool_honest(sandbox_pool)


def test_a_changed_judge_stops_the_batch_after_that_candidate(sandbox_pool):
    solutions = [GOOD, RENICES_JUDGE, WRONG, CLEAN_GOOD]
    batch, alone, again = _run_both(sandbox_pool, solutions)
    assert [_verdict(r) for r in batch] == [_verdict(r) for r in alone]
    assert [r.status for r in batch] == [Status.PASSED, Status.PASSED, Status.FAILED, Status.PASSED]
    assert again == ["c2", "c3"]
    assert_pool_honest(sandbox_pool)


def test_candidates_of_other_tasks_are_judged_by_their_own_checks(sandbox_pool):
    mul = _job("m0", "def mul(a, b):\n    return a * b\n").model_copy(
        update={"tests": "assert mul(2, 3) == 6\n", "entry_points": ["mul"]}
    )
    # a candidate of the first task that also defines mul: its judge never calls it
    jobs = [_job("a0", GOOD + "def mul(a, b):\n    return 0\n"), mul, _job("a1", WRONG)]
    batch = sandbox_pool.run_batch(Job.batched(jobs))
    alone = sandbox_pool.run_many(jobs)
    assert [r.status for r in batch] == [Status.PASSED, Status.PASSED, Status.FAILED]
    assert [_verdict(r) for r in batch] == [_verdict(r) for r in alone]


def test_one_judge_program_reads_each_candidates_own_judge_data(sandbox_pool):
    # one judge text for every task, each task's cases in its judge data (judge.data)
    judge = code(
        """
        import json, judge
        for a, b, expected in json.loads(judge.data):
            assert add(a, b) == expected, (a, b, expected)
        """
    )

    def job(job_id, solution, cases):
        return _job(job_id, solution).model_copy(
            update={"tests": judge, "judge_data": json.dumps(cases)}
        )

    jobs = [
        job("d0", GOOD, [[1, 2, 3], [2, 2, 4]]),
        job("d1", WRONG, [[1, 2, 3]]),
        job("d2", WRONG, [[5, 0, 5]]),  # a - b is right on its own task's cases
        job("d3", GOOD, [[1, 1, 3]]),  # a task whose data says otherwise
    ]
    batched = Job.batched(jobs)
    assert all(c.tests is None for c in batched.candidates)  # the judge program ships once
    assert [c.judge_data is not None for c in batched.candidates] == [True, True, True]
    batch = sandbox_pool.run_batch(batched)
    alone = sandbox_pool.run_many(jobs)
    assert [r.status for r in batch] == [Status.PASSED, Status.FAILED, Status.PASSED, Status.FAILED]
    assert [_verdict(r) for r in batch] == [_verdict(r) for r in alone]
    with pytest.raises(ValueError, match="cannot be judged in the same job"):
        Job.batched([jobs[0], _job("plain", GOOD)])  # a candidate without data gets none
    with pytest.raises(ValueError, match="judge_data is for trusted-mode jobs"):
        Job(id="s", solution="", tests="pass", mode="script", judge_data="{}")
