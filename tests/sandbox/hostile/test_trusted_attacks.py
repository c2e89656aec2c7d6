"""Attacks on trusted mode from the candidate's side that reach past the call protocol: files
the judge's own pytest would read, exceptions that end a judge's loop early, the judge's
process itself.

Each case is a wrong answer (``add`` subtracts, or a candidate that breaks the rules) that must
not pass; it runs in the hostile pool's one container and is followed there by honest trusted
controls that need no retry, then by the pool's own controls.
"""

from __future__ import annotations

import pytest

from sandbox import Job, Status
from tests.sandbox.hostile.common import code, run_case

pytestmark = pytest.mark.docker

GOOD = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"
PYTEST_TESTS = "from solution import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"
PYTEST_JUDGE = f"import judge\njudge.run_pytest({PYTEST_TESTS!r})\n"

# A plugin that turns every report into a pass, for a pytest session that would load it.
PASSING_PLUGIN = code(
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


def _writes(files: dict[str, str]) -> str:
    """Candidate code that writes ``files`` (absolute paths) when its program runs."""
    lines = ["import os"]
    for path, text in files.items():
        lines.append(f"os.makedirs(os.path.dirname({path!r}), exist_ok=True)")
        lines.append(f"open({path!r}, 'w').write({text!r})")
    return "\n".join(lines) + "\n"


INI = "[pytest]\naddopts = -p cf_evil_plugin\npythonpath = /work/run /tmp\n"
PLANTED_CONFIG: dict[str, dict[str, str]] = {
    "conftest-in-work": {"/work/conftest.py": PASSING_PLUGIN},
    "pytest-ini-in-work": {
        "/work/pytest.ini": INI,
        "/work/conftest.py": PASSING_PLUGIN,
        "/work/run/cf_evil_plugin.py": PASSING_PLUGIN,
    },
    "pyproject-in-work": {
        "/work/pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p cf_evil_plugin"\n'
        'pythonpath = ["/work/run"]\n',
        "/work/conftest.py": PASSING_PLUGIN,
        "/work/run/cf_evil_plugin.py": PASSING_PLUGIN,
    },
    "tox-ini-in-work": {
        "/work/tox.ini": INI.replace("[pytest]", "[pytest]"),
        "/work/run/cf_evil_plugin.py": PASSING_PLUGIN,
    },
    "setup-cfg-in-work": {
        "/work/setup.cfg": INI.replace("[pytest]", "[tool:pytest]"),
        "/work/run/cf_evil_plugin.py": PASSING_PLUGIN,
    },
    "plugin-in-tmp": {
        "/work/pytest.ini": "[pytest]\naddopts = -p cf_evil_plugin\npythonpath = /tmp\n",
        "/tmp/cf_evil_plugin.py": PASSING_PLUGIN,
        "/work/conftest.py": PASSING_PLUGIN,
    },
}


def trusted(job_id: str, solution: str, tests: str, entry_points=("add",)) -> Job:
    return Job(
        id=job_id, solution=solution, tests=tests, mode="trusted", entry_points=list(entry_points)
    )


def assert_trusted_controls(pool) -> None:
    for job, expected in (
        (trusted("control-good", GOOD, PYTEST_JUDGE), Status.PASSED),
        (trusted("control-wrong", WRONG, PYTEST_JUDGE), Status.FAILED),
    ):
        result = pool.run(job)
        assert result.status == expected, result.feedback()
        assert result.sandbox_attempts == 1


@pytest.mark.parametrize("case", PLANTED_CONFIG, ids=list(PLANTED_CONFIG))
def test_config_planted_for_the_judges_pytest_is_not_read(hostile_pool, case):
    solution = _writes(PLANTED_CONFIG[case]) + WRONG
    result = run_case(hostile_pool, trusted(case, solution, PYTEST_JUDGE), Status.FAILED)
    assert not result.passed
    assert_trusted_controls(hostile_pool)


# Judges that call the candidate from inside an iterator protocol: a StopIteration raised by
# the candidate would end the judge's loop early, as if every case had been checked.
LOOPING_JUDGES = {
    "map": "for out, exp in zip(map(add, [1, 5], [2, 5]), [3, 10]):\n    assert out == exp\n",
    "iter-sentinel": "cases = iter([(1, 2, 3), (5, 5, 10)])\n"
    "for out in iter(lambda: add(*next(cases)[:2]), None):\n    assert out in (3, 10)\n    break\n",
}
STOPS = code(
    """
    def add(a, b):
        raise StopIteration
    """
)


@pytest.mark.parametrize("case", LOOPING_JUDGES, ids=list(LOOPING_JUDGES))
def test_stop_iteration_from_the_candidate_does_not_end_a_judges_loop(hostile_pool, case):
    result = run_case(hostile_pool, trusted(case, STOPS, LOOPING_JUDGES[case]), Status.ERROR)
    assert "StopIteration" in result.error, result.error
    good = hostile_pool.run(trusted("loop-good", GOOD, LOOPING_JUDGES[case]))
    assert good.status == Status.PASSED and good.sandbox_attempts == 1, good.feedback()
    assert_trusted_controls(hostile_pool)


def test_modules_planted_by_the_candidate_are_not_imported_by_the_judge(hostile_pool):
    planted = "import os\nos.environ['CF_PLANTED'] = 'imported'\n"
    places = ["/work/run", "/work", "/tmp", "/dev/shm"]
    solution = _writes({f"{place}/cf_planted.py": planted for place in places}) + GOOD
    judge = code(
        """
        import os, sys
        try:
            import cf_planted
        except ImportError:
            pass
        assert "CF_PLANTED" not in os.environ, sys.path
        assert add(1, 2) == 3
        """
    )
    run_case(hostile_pool, trusted("planted-module", solution, judge), Status.PASSED)
    assert_trusted_controls(hostile_pool)


# What a candidate can do to its values, the judge's process or the channel between them.
# Each is a wrong answer or a broken one: it must not pass, and whatever it causes is its own
# verdict (never a sandbox error).
JUDGE = "assert add(1, 2) == 3\nassert add(2, 2) == 4\nxs = [1]\nassert add(xs, []) == [1]\n"
CANDIDATE_ATTACKS: dict[str, tuple[str, tuple[Status, ...]]] = {
    "thread-mutates-the-arguments-after-returning": (
        code(
            """
            import threading
            def add(a, b):
                if isinstance(a, list):
                    def churn():
                        while True:
                            a.append(0); a.pop()
                    threading.Thread(target=churn, daemon=True).start()
                    return a
                return a - b
            """
        ),
        (Status.FAILED, Status.ERROR),
    ),
    "value-nested-a-million-deep": (
        "def add(a, b):\n    v = []\n    for _ in range(10**6):\n        v = [v]\n    return v\n",
        (Status.ERROR,),
    ),
    "value-refers-to-itself": (
        "def add(a, b):\n    v = []\n    v.append(v)\n    return v\n",
        (Status.ERROR,),
    ),
    "an-int-of-three-million-bits": (
        "import sys\nsys.set_int_max_str_digits(0)\ndef add(a, b):\n    return 1 << 3_000_000\n",
        (Status.FAILED, Status.ERROR),
    ),
    "set-of-colliding-hashes": (
        code(
            """
            def add(a, b):
                m = (1 << 61) - 1
                return {i * m for i in range(1, 60_000)}
            """
        ),
        (Status.FAILED, Status.ERROR, Status.TIMEOUT),
    ),
    "nan-for-every-answer": ("def add(a, b):\n    return float('nan')\n", (Status.FAILED,)),
    "stops-the-judge": (
        "import os, signal\ndef add(a, b):\n    os.kill(os.getppid(), signal.SIGSTOP)\n"
        "    return a + b\n",
        (Status.TIMEOUT,),
    ),
    "interrupts-the-judge": (
        code(
            """
            import os, signal
            def add(a, b):
                for sig in (signal.SIGINT, signal.SIGUSR1, signal.SIGALRM, signal.SIGPIPE):
                    os.kill(os.getppid(), sig)
                return a - b
            """
        ),
        (Status.FAILED, Status.ERROR),
    ),
    "raw-bytes-on-the-socket": (
        code(
            """
            import os, socket, struct
            def add(a, b):
                for fd in range(3, 64):
                    try:
                        s = socket.socket(fileno=os.dup(fd))
                    except OSError:
                        continue
                    s.sendall(struct.pack("<I", 9) + b"t\\x01\\x00\\x00\\x00s\\xff\\xff\\xff")
                    s.sendall(struct.pack("<I", 0xFFFFFFF0))
                return a - b
            """
        ),
        (Status.FAILED, Status.ERROR),
    ),
    "ok-reply-forged-before-the-call": (
        code(
            """
            import os, socket, struct
            def _ok(value):
                # ("ok", value, None) in the codec: tuple of 3, str "ok", the value, None
                return b"t\\x03\\x00\\x00\\x00" + b"s\\x02\\x00\\x00\\x00ok" + value + b"N"
            def add(a, b):
                three = b"i\\x01\\x00\\x00\\x00\\x03"
                for fd in range(3, 64):
                    try:
                        s = socket.socket(fileno=os.dup(fd))
                    except OSError:
                        continue
                    for _ in range(8):  # answers for the calls to come, ahead of them
                        data = _ok(three)
                        s.sendall(struct.pack("<I", len(data)) + data)
                return a - b
            """
        ),
        (Status.FAILED, Status.ERROR),
    ),
}


@pytest.mark.parametrize("case", CANDIDATE_ATTACKS, ids=list(CANDIDATE_ATTACKS))
def test_a_candidates_attack_on_values_or_the_judge_is_its_own_verdict(hostile_pool, case):
    solution, expected = CANDIDATE_ATTACKS[case]
    job = Job(
        id=case, solution=solution, tests=JUDGE, mode="trusted", entry_points=["add"], timeout_s=4
    )
    result = run_case(hostile_pool, job, *expected)
    assert not result.passed
    assert result.sandbox_attempts == 1
    assert_trusted_controls(hostile_pool)
