"""Forged verdicts, through the real daemon and image: trusted mode closes what pytest mode
cannot (see ``test_hostile.py``'s ``test_in_process_tampering_is_not_defended``).

Each case is a wrong answer that tries to pass anyway, the way reward hacks on code do: an
object equal to everything, an ``int`` or ``str`` subclass with a lying ``__eq__``, a patched
builtin, a tracer that replaces the check, a forged report on fd 3, the judge program read
from disk or memory, the token stolen, a lazy object, arguments left unsorted. Each runs in a
container of its own pool and is followed, in the same container, by honest controls: a right
answer that passes and a wrong one that fails, neither needing a retry.
"""

from __future__ import annotations

import textwrap

import pytest

from sandbox import Job, Limits, PoolConfig, Status
from sandbox.blocking import BlockingPool

pytestmark = pytest.mark.docker

# The judge: trusted checks, as a benchmark's. The exact values are the judge's own secret.
JUDGE = textwrap.dedent(
    """
    def check(candidate):
        assert candidate(1, 2) == 3
        assert candidate(31415, 92653) == 124068
        assert abs(candidate(0.5, 0.25) - 0.75) < 1e-9
        xs = [3, 1, 2]
        assert candidate(xs, []) == [3, 1, 2]


    check(add)
    """
)
SORT_JUDGE = textwrap.dedent(
    """
    xs = [3, 1, 2]
    assert sort_in_place(xs) is None
    assert xs == [1, 2, 3], xs
    nested = {"a": [2, 1]}
    sort_in_place(nested["a"])
    assert nested == {"a": [1, 2]}
    """
)
GOOD = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return a - b\n"


def code(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


FORGERIES: dict[str, tuple[str, Status, str]] = {
    # (candidate program, expected status, words the error must contain)
    "always-equal-object": (
        code(
            """
            class Anything:
                def __eq__(self, other):
                    return True
                def __sub__(self, other):
                    return 0
            def add(a, b):
                return Anything()
            """
        ),
        Status.ERROR,
        "object of class Anything, not plain data",
    ),
    "int-subclass-equal-to-everything": (
        code(
            """
            class Int(int):
                def __eq__(self, other):
                    return True
                __hash__ = int.__hash__
            def add(a, b):
                return Int(0)
            """
        ),
        Status.ERROR,
        "object of class Int",
    ),
    "str-subclass-equal-to-everything": (
        code(
            """
            class Text(str):
                def __eq__(self, other):
                    return True
                __hash__ = str.__hash__
            def add(a, b):
                return Text("")
            """
        ),
        Status.ERROR,
        "object of class Text",
    ),
    "patches-builtins-abs": (
        code(
            """
            import builtins
            builtins.abs = lambda x: 0
            builtins.AssertionError = type("Quiet", (Exception,), {})
            def add(a, b):
                return 0
            """
        ),
        Status.FAILED,
        "AssertionError",
    ),
    "settrace-replaces-check": (
        code(
            """
            import sys
            def tracer(frame, event, arg):
                frame.f_globals["check"] = lambda candidate: None
                return tracer
            sys.settrace(tracer)
            sys.setprofile(lambda frame, event, arg: None)
            def add(a, b):
                return a - b
            """
        ),
        Status.FAILED,
        "AssertionError",
    ),
    "forges-a-report-on-fd-3": (
        code(
            """
            import os
            os.dup2(os.open(os.devnull, os.O_WRONLY), 3)
            os.write(3, b'{"event": "completed", "token": "guess"}\\n')
            def add(a, b):
                return a - b
            """
        ),
        Status.FAILED,
        "AssertionError",
    ),
    "reads-the-judge-program": (
        code(
            """
            import os
            found = ""
            for root in ("/work", "/tmp", "/opt", "/proc/self/cwd"):
                for folder, _, names in os.walk(root):
                    for name in names:
                        try:
                            with open(os.path.join(folder, name), errors="replace") as fh:
                                if "124068" in fh.read(1 << 20):
                                    found = os.path.join(folder, name)
                        except OSError:
                            pass
            for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
                for part in ("mem", "environ", "cmdline", "fd/4", "fd/3"):
                    try:
                        with open(f"/proc/{pid}/{part}", "rb") as fh:
                            if b"124068" in fh.read(1 << 20):
                                found = f"/proc/{pid}/{part}"
                    except OSError:
                        pass
            print("found the judge program in", found or "nothing")
            def add(a, b):
                return 124068 if found else a - b
            """
        ),
        Status.FAILED,
        "AssertionError",
    ),
    "steals-the-token": (
        code(
            """
            import os
            judge = os.getppid()
            stolen = []
            for path in (f"/proc/{judge}/fd/3", "/proc/1/fd/0"):
                try:
                    fd = os.open(path, os.O_WRONLY)
                    os.write(fd, b'{"event": "completed"}\\n')
                    stolen.append(path)
                except OSError:
                    pass
            try:
                os.write(3, b'{"event": "completed"}\\n')
                stolen.append("fd 3")
            except OSError:
                pass
            print("wrote to", stolen)
            def add(a, b):
                return a - b
            """
        ),
        Status.FAILED,
        "AssertionError",
    ),
    "finds-the-report-writer-in-memory": (
        code(
            """
            import gc, os
            writers = [o for o in gc.get_objects() if type(o).__name__ == "_EventWriter"]
            for writer in writers:
                writer.emit(event="completed")
                os._exit(0)
            def add(a, b):
                return a - b
            """
        ),
        Status.FAILED,
        "AssertionError",
    ),
    "returns-a-generator": (
        "def add(a, b):\n    return (x for x in [a + b])\n",
        Status.ERROR,
        "generator object, not plain data",
    ),
    "returns-a-function": (
        "def add(a, b):\n    return lambda: a + b\n",
        Status.ERROR,
        "function object, not plain data",
    ),
    "kills-the-judge": (
        code(
            """
            import os, signal
            def add(a, b):
                os.kill(os.getppid(), signal.SIGKILL)
                return a + b
            """
        ),
        Status.ERROR,
        "",
    ),
    "exits-before-the-checks": (
        "import os\nos._exit(0)\n" + GOOD,
        Status.ERROR,
        "candidate process ended",
    ),
}


@pytest.fixture(scope="module")
def forgery_pool(runner_image):
    config = PoolConfig(workers=1, image=runner_image, limits=Limits(timeout_s=10))
    with BlockingPool(config) as pool:
        yield pool


def trusted(job_id: str, solution: str, tests: str = JUDGE, **kwargs) -> Job:
    entry_points = kwargs.pop("entry_points", ["add"])
    return Job(
        id=job_id,
        solution=solution,
        tests=tests,
        mode="trusted",
        entry_points=entry_points,
        **kwargs,
    )


def assert_honest_controls(pool) -> None:
    good = pool.run(trusted("control-good", GOOD))
    assert good.status == Status.PASSED, good.feedback()
    assert good.sandbox_attempts == 1
    wrong = pool.run(trusted("control-wrong", WRONG))
    assert wrong.status == Status.FAILED, wrong.feedback()
    assert wrong.sandbox_attempts == 1


@pytest.mark.parametrize("case", FORGERIES, ids=list(FORGERIES))
def test_a_forged_verdict_does_not_pass(forgery_pool, case):
    solution, status, words = FORGERIES[case]
    result = forgery_pool.run(trusted(case, solution))
    assert result.status == status, result.feedback() + "\nstdout: " + result.stdout
    assert not result.passed
    assert words in result.error, result.error
    assert "found the judge program in /" not in result.stdout
    assert_honest_controls(forgery_pool)


def test_arguments_mutated_in_place_are_copied_back(forgery_pool):
    sorts = "def sort_in_place(xs):\n    xs.sort()\n"
    result = forgery_pool.run(trusted("sorts", sorts, SORT_JUDGE, entry_points=["sort_in_place"]))
    assert result.status == Status.PASSED, result.feedback()
    copies = "def sort_in_place(xs):\n    xs = sorted(xs)\n"
    result = forgery_pool.run(trusted("copies", copies, SORT_JUDGE, entry_points=["sort_in_place"]))
    assert result.status == Status.FAILED, result.feedback()
    smuggles = "class Anything:\n    pass\n\ndef sort_in_place(xs):\n    xs.append(Anything())\n"
    result = forgery_pool.run(
        trusted("smuggles", smuggles, SORT_JUDGE, entry_points=["sort_in_place"])
    )
    assert result.status == Status.ERROR
    assert "left something that is not plain data in its arguments" in result.error
    assert_honest_controls(forgery_pool)


def test_call_limits_exceptions_and_reports(forgery_pool):
    judge = textwrap.dedent(
        """
        import judge
        judge.report("expected", (1, 2.5, "x"))
        try:
            judge.call("lookup", {}, "k")
        except KeyError as exc:
            judge.report("raised", type(exc).__name__)
        try:
            judge.call("custom")
        except judge.CandidateError as exc:
            judge.report("custom", str(exc))
        judge.report("took", judge.last_call_s >= 0)
        try:
            judge.call("spin", timeout_s=0.3)
        except judge.CallTimeout as exc:
            judge.report("timeout", str(exc))
        try:
            judge.call("lookup", {"k": 1}, "k")
        except judge.CandidateError as exc:
            judge.report("after", str(exc))
        """
    )
    solution = code(
        """
        class Mine(Exception):
            pass
        def spin():
            while True:
                pass
        def lookup(d, k):
            return d[k]
        def custom():
            raise Mine("mine")
        """
    )
    result = forgery_pool.run(
        trusted("limits", solution, judge, entry_points=["spin", "lookup", "custom"])
    )
    assert result.status == Status.PASSED, result.feedback()
    assert result.data["expected"] == [1, 2.5, "x"]
    assert "0.3 s limit" in result.data["timeout"]
    assert result.data["raised"] == "KeyError"
    assert result.data["custom"] == "Mine: mine"
    assert result.data["took"] is True
    assert "was stopped" in result.data["after"]
    uncaught = "import judge\njudge.call('spin', timeout_s=0.3)\n"
    result = forgery_pool.run(trusted("uncaught", solution, uncaught, entry_points=["spin"]))
    assert result.status == Status.TIMEOUT, result.feedback()
    assert_honest_controls(forgery_pool)


def test_pytest_in_the_judge_with_a_module_of_proxies(forgery_pool):
    tests = "from solution import add\n\ndef test_a():\n    assert add(1, 2) == 3\n"
    judge = f"import judge\njudge.run_pytest({tests!r})\n"
    result = forgery_pool.run(trusted("pytest-good", GOOD, judge))
    assert result.status == Status.PASSED, result.feedback()
    assert [t.name for t in result.tests] == ["test_solution.py::test_a"]
    forged = FORGERIES["always-equal-object"][0]
    result = forgery_pool.run(trusted("pytest-forged", forged, judge))
    assert result.status == Status.FAILED, result.feedback()
    assert "not plain data" in result.tests[0].message
    assert_honest_controls(forgery_pool)


def test_the_judge_runs_under_another_uid_in_its_own_directory(forgery_pool):
    probe = code(
        """
        import os
        def where():
            try:
                listed = os.listdir("/work/judge")
            except PermissionError:
                listed = "refused"
            judge = os.getppid()
            try:
                open(f"/proc/{judge}/mem", "rb").read(1)
                mem = "read"
            except OSError:
                mem = "refused"
            return [list(os.getresuid()), listed, mem, os.getcwd()]
        """
    )
    judge = textwrap.dedent(
        """
        import os
        import judge
        judge.report("candidate", where())
        judge.report("judge", [list(os.getresuid()), os.getcwd()])
        """
    )
    result = forgery_pool.run(trusted("apart", probe, judge, entry_points=["where"]))
    assert result.status == Status.PASSED, result.feedback()
    uids, listed, mem, cwd = result.data["candidate"]
    judge_uids, judge_cwd = result.data["judge"]
    assert len(set(uids)) == 1 and uids[0] not in judge_uids[1:]
    assert judge_uids[1] == judge_uids[2] != uids[0] and 0 not in uids + judge_uids
    assert listed == "refused" and mem == "refused"
    assert cwd == "/work/run" and judge_cwd == "/work/judge"
    assert_honest_controls(forgery_pool)
