"""The forgery gate: what only forging a verdict needs is found statically, honest code is not."""

from __future__ import annotations

import textwrap

import pytest

from factory.pipeline.generate import _precheck_for
from factory.pipeline.quality_gates import forgery_precheck
from factory.quality.config import QualityConfig
from factory.quality.forgery import find_forgery
from sandbox import Status

FORGERIES = {
    "settrace": ("import sys\nsys.settrace(lambda *a: None)\n", "tracing"),
    "setprofile-aliased": ("import sys as s\ns.setprofile(None)\n", "tracing"),
    "settrace-imported": ("from sys import settrace as st\nst(None)\n", "tracing"),
    "threading-settrace": ("import threading\nthreading.settrace(print)\n", "tracing"),
    "dup2": ("import os\nos.dup2(os.open('/dev/null', os.O_WRONLY), 3)\n", "descriptors"),
    "dup2-imported": ("from os import dup2\ndup2(5, 3)\n", "descriptors"),
    "write-fd-3": ("import os\nos.write(3, b'{}')\n", "descriptors"),
    "fdopen-fd-3": ("import os\nos.fdopen(3, 'w')\n", "descriptors"),
    "open-fd-3": ("open(3, 'w').write('x')\n", "descriptors"),
    "ctypes": ("import ctypes\nctypes.CDLL(None)\n", "ctypes"),
    "ctypes-from": ("from ctypes import pythonapi\n", "ctypes"),
    "ctypes-dunder-import": ("lib = __import__('ctypes')\n", "ctypes"),
    "ctypes-importlib": ("import importlib\nimportlib.import_module('ctypes')\n", "ctypes"),
    "gc-get-objects": ("import gc\nw = [o for o in gc.get_objects()]\n", "heap"),
    "gc-referrers": ("import gc\ngc.get_referrers(1)\n", "heap"),
    "getframe": ("import sys\nsys._getframe(1)\n", "frames"),
    "currentframe": ("import inspect\ninspect.currentframe()\n", "frames"),
    "inspect-stack": ("import inspect\ninspect.stack()\n", "frames"),
    "f-back": ("def f(frame):\n    return frame.f_back.f_globals\n", "frames"),
    "traceback-frame": (
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    e.__traceback__.tb_frame\n",
        "frames",
    ),
    "builtins-attribute": ("import builtins\nbuiltins.abs = lambda x: 0\n", "builtins"),
    "builtins-aliased": ("import builtins as b\nb.len = lambda x: 3\n", "builtins"),
    "dunder-builtins-item": ("__builtins__['abs'] = lambda x: 0\n", "builtins"),
    "setattr-builtins": ("import builtins\nsetattr(builtins, 'print', None)\n", "builtins"),
    "builtins-dict-update": (
        "import builtins\nbuiltins.__dict__.update(abs=lambda x: 0)\n",
        "builtins",
    ),
    "reads-test-file": ("text = open('test_solution.py').read()\n", "reads_source"),
    "reads-solution-path": (
        "from pathlib import Path\nPath('/work/run/solution.py').read_text()\n",
        "reads_source",
    ),
    "reads-own-file": ("from pathlib import Path\nPath(__file__).read_text()\n", "reads_source"),
    "module-file": ("import solution\nopen(solution.__file__).read()\n", "reads_source"),
    "getsource": ("import inspect\ninspect.getsource(inspect)\n", "reads_source"),
}

HONEST = {
    "recursion-limit": "import sys\nsys.setrecursionlimit(10000)\nprint('x', file=sys.stderr)\n",
    "stdin": "import sys\ndata = sys.stdin.read()\n",
    "signature": "import inspect\n\ndef f(a, b):\n    pass\n\nassert inspect.signature(f)\n",
    "gc-collect": "import gc\ngc.collect()\n",
    "write-stdout": "import os\nos.write(1, b'hello')\nos.write(2, b'err')\n",
    "os-path": "import os\npath = os.path.join('a', 'b')\nos.makedirs('out', exist_ok=True)\n",
    "frame-variable": "def show(frame):\n    return frame['x']\n",
    "reads-builtins": "import builtins\nbuiltins.print(builtins.len([1]))\n",
    "shadows-a-builtin": "def solve(list_):\n    max = 0\n    for x in list_:\n        max = x\n    return max\n",
    "from-solution": "from solution import add\nimport solution\n\ndef test_add():\n    assert solution.add(1, 2) == add(1, 2)\n",
    "pytest-tests": textwrap.dedent(
        """
        import pytest

        from solution import parse


        @pytest.mark.parametrize("text", ["1", "2"])
        def test_parse(text, tmp_path, capsys, monkeypatch):
            monkeypatch.setenv("X", "1")
            (tmp_path / "data.txt").write_text(text)
            assert parse(text) == int(text)
        """
    ),
    "mentions-solution-in-text": "MESSAGE = 'see the solution in solution_notes.md'\n",
    "dict-update": "config = {}\nconfig.update(a=1)\n",
    "threading": "import threading\nthreading.Thread(target=print).start()\n",
}


@pytest.mark.parametrize("case", FORGERIES, ids=list(FORGERIES))
def test_forgery_tools_are_found(case):
    source, check = FORGERIES[case]
    findings = find_forgery(source)
    assert [f.check for f in findings][:1] == [check], findings
    assert findings[0].line >= 1 and findings[0].message


@pytest.mark.parametrize("case", HONEST, ids=list(HONEST))
def test_honest_code_is_not_flagged(case):
    assert find_forgery(HONEST[case]) == []


def test_the_gate_rejects_with_the_reason_before_any_sandbox_run():
    tests = "from solution import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    honest = "def add(a, b):\n    return a + b\n"
    assert forgery_precheck(honest, tests) is None
    forged = "import sys\nsys.settrace(lambda *a: None)\n" + honest
    precheck = forgery_precheck(forged, tests)
    assert precheck is not None
    verdict, rejection = precheck
    assert rejection.gate == "forgery"
    assert (rejection.reason, rejection.side) == ("tracing", "solution")
    assert verdict.status == Status.ERROR and verdict.sandbox_attempts == 0
    assert "sys.settrace" in verdict.error and "line 2" in verdict.error
    on_tests = forgery_precheck(honest, "import gc\nobjects = gc.get_objects()\n" + tests)
    assert on_tests is not None
    assert on_tests[1].side == "tests" and on_tests[1].reason == "heap"


def test_the_gate_is_on_by_default_also_without_the_other_gates_and_can_be_switched_off():
    assert QualityConfig().forgery_gate is True
    assert _precheck_for(None, False) is not None
    assert _precheck_for(QualityConfig(enabled=False), False) is not None
    assert _precheck_for(QualityConfig(enabled=False, forgery_gate=False), False) is None
    only_static = _precheck_for(QualityConfig(forgery_gate=False), True)
    assert only_static is not None and only_static.keywords == {"static": True, "forgery": False}
