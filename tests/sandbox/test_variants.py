"""Variants in one job: each runs in a fresh child with its own CPU budget, and no variant sees
what an earlier one left (files, processes); a variant on a line never executed is not run; a
variant asked to stop at its first failing test runs no test after it.

Wall-clock limits are generous: on a machine shared with other work a loop may get a small
fraction of a core, and its CPU budget, not the clock, must be what stops it."""

from __future__ import annotations

import pytest

from sandbox import Job, Status, Variant

pytestmark = pytest.mark.docker

SOLUTION = "def f(x):\n    if x > 100:\n        return 0\n    return x + 1\n"
TESTS = (
    "import os\n\nfrom solution import f\n\n\n"
    "def test_f():\n    assert f(1) == 2\n\n\n"
    "def test_clean():\n"
    "    assert not os.path.exists('/tmp/left-behind'), 'an earlier variant left a file'\n"
    "    assert not os.path.exists('left-behind'), 'an earlier variant left a file'\n"
    "    mine = {os.getpid(), os.getppid()}\n"
    "    others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in mine]\n"
    "    stats = [open(f'/proc/{p}/stat').read() for p in others]\n"
    "    # a killed orphan stays a zombie of PID 1 until the job ends: dead, it holds nothing\n"
    "    names = [s.split('(')[1].split(')')[0] for s in stats if s.split(')')[1].split()[0] != 'Z']\n"
    "    assert 'sleep-forever' not in names, names\n"
)
MESSY = (
    "import os, subprocess, sys\n"
    "open('/tmp/left-behind', 'w').close()\n"
    "open('left-behind', 'w').close()\n"
    "subprocess.Popen([sys.executable, '-c', 'import ctypes, time; "
    'ctypes.CDLL(None).prctl(15, b"sleep-forever", 0, 0, 0); time.sleep(600)\'],'
    " start_new_session=True)\n" + SOLUTION
)
LOOPS = "def f(x):\n    while True:\n        x += 1\n"


def test_variants_are_isolated_budgeted_and_skipped_by_coverage(sandbox_pool):
    job = Job(
        id="variants",
        solution=SOLUTION,
        tests=TESTS,
        coverage=True,
        timeout_s=180,
        variants=[
            Variant(id="messy", solution=MESSY),
            Variant(id="after-messy", solution=SOLUTION),
            Variant(id="loops", solution=LOOPS, cpu_floor_s=0.5, cpu_factor=1, timeout_s=60),
            Variant(id="unexecuted", solution=SOLUTION.replace("0", "1"), line=3),
            Variant(id="wrong", solution=SOLUTION.replace("x + 1", "x + 2")),
            Variant(
                id="wrong-stops",
                solution=SOLUTION.replace("x + 1", "x + 2"),
                stop_at_first_failure=True,
            ),
        ],
    )
    result = sandbox_pool.run(job)
    assert result.status == Status.PASSED, result.error
    assert result.coverage is not None and 3 in result.coverage.missing_lines
    by_id = {variant.id: variant for variant in result.variants}
    assert list(by_id) == ["messy", "after-messy", "loops", "wrong", "wrong-stops"]
    assert result.skipped_variants == ["unexecuted"]
    assert by_id["messy"].status == Status.FAILED  # it sees what it left itself...
    # ...and the next variant sees none of it
    assert by_id["after-messy"].status == Status.PASSED, by_id["after-messy"].feedback()
    loops = by_id["loops"]
    assert (loops.status, loops.limit) == (Status.TIMEOUT, "cpu"), loops.error
    assert 0.5 <= loops.cpu_s < 1.0
    assert by_id["wrong"].status == Status.FAILED
    assert [t.name.split("::")[-1] for t in by_id["wrong"].tests if t.outcome == "failed"] == [
        "test_f"
    ]
    assert [t.name.split("::")[-1] for t in by_id["wrong"].tests] == ["test_f", "test_clean"]
    # a mutant's session ends at its first failing test: the same verdict, one test run
    stops = by_id["wrong-stops"]
    assert stops.status == Status.FAILED
    assert [(t.name.split("::")[-1], t.outcome) for t in stops.tests] == [("test_f", "failed")]


def test_variants_of_a_job_with_files_of_its_own_run_a_session_each(sandbox_pool):
    """A job's own files (a helper module here, a conftest.py or an ini file elsewhere) are
    pytest's inputs too: each variant gets a session of its own, with the same results."""
    tests = "from helper import ONE\nfrom solution import f\n\n\n"
    tests += "def test_f():\n    assert f(1) == 1 + ONE\n\n\ndef test_g():\n    assert f(2) == 3\n"
    wrong = SOLUTION.replace("x + 1", "x + 2")
    job = Job(
        id="variants-files",
        solution=SOLUTION,
        tests=tests,
        files={"helper.py": "ONE = 1\n"},
        timeout_s=120,
        variants=[
            Variant(id="wrong", solution=wrong),
            Variant(id="wrong-stops", solution=wrong, stop_at_first_failure=True),
            Variant(id="same", solution=SOLUTION, stop_at_first_failure=True),
        ],
    )
    result = sandbox_pool.run(job)
    assert result.status == Status.PASSED, result.error
    by_id = {variant.id: variant for variant in result.variants}
    outcomes = {
        name: [(t.name.split("::")[-1], t.outcome) for t in by_id[name].tests] for name in by_id
    }
    assert outcomes == {
        "wrong": [("test_f", "failed"), ("test_g", "failed")],
        "wrong-stops": [("test_f", "failed")],
        "same": [("test_f", "passed"), ("test_g", "passed")],
    }
    assert by_id["same"].status == Status.PASSED
