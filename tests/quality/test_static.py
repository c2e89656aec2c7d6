"""Static checks: syntax errors located, entry point and parameters, features by hand."""

from __future__ import annotations

import pytest

from factory.quality.features import code_features
from factory.quality.static import MAX_SOURCE_CHARS, check_static, declared_parameters
from factory.quality.tree import parse

TESTS = "from solution import f\n\ndef test_f():\n    assert f([1], 1) == 1\n"


def test_clean_candidate_passes_with_features():
    solution = (
        "import math\nfrom collections import Counter\n\n# note\ndef f(xs, k):\n    return k\n"
    )
    report = check_static(solution, TESTS, "f", "def f(xs: list[int], k: int) -> int")
    assert report.passed and report.issues == []
    assert report.entry_point_found
    assert report.parameters == ["xs", "k"] == report.declared_parameters
    assert report.solution.lines_of_code == 4
    assert report.solution.imports == ["collections", "math"]
    assert report.tests.imports == ["solution"]
    assert report.tests.test_functions == ["test_f"]


def test_syntax_error_in_solution_is_located():
    solution = "def f(xs, k):\n    total = (1 +\n    return total\n"
    report = check_static(solution, TESTS, "f", "def f(xs, k)")
    assert not report.passed
    [problem] = report.syntax_errors
    assert (problem.file, problem.line, problem.column) == ("solution", 2, 13)
    assert "never closed" in problem.message
    assert report.target == "solution"
    assert "line 2, column 13" in report.feedback()


def test_syntax_tree_sitter_accepts_but_python_rejects_is_caught():
    """tree-sitter's grammar still knows Python 2 print statements; CPython decides."""
    tests = 'from solution import f\n\ndef test_f():\n    print "hello"\n'
    report = check_static("def f(xs, k):\n    return 1\n", tests, "f", "")
    assert not report.passed
    [problem] = report.syntax_errors
    assert (problem.file, problem.line) == ("tests", 4)
    assert report.target == "tests"


def test_bad_indentation_located():
    solution = "def f(xs, k):\n    x = 1\n      return x\n"
    [problem] = check_static(solution, TESTS, "f", "").syntax_errors
    assert problem.line == 3 and "indent" in problem.message


def test_missing_entry_point():
    report = check_static("def g(xs, k):\n    return 1\n", TESTS, "f", "def f(xs, k)")
    assert not report.passed and not report.entry_point_found
    assert [issue.check for issue in report.issues] == ["entry_point"]
    assert "does not define 'f' at module level" in report.issues[0].message


@pytest.mark.parametrize(
    "solution",
    [
        "class C:\n    def f(self, xs, k):\n        return 1\n",
        "def outer():\n    def f(xs, k):\n        return 1\n    return f\n",
    ],
    ids=["method", "nested"],
)
def test_entry_point_not_at_module_level(solution):
    report = check_static(solution, TESTS, "f", "def f(xs, k)")
    assert [issue.check for issue in report.issues] == ["entry_point"]


@pytest.mark.parametrize(
    "solution",
    [
        "import functools\n\n@functools.cache\ndef f(xs, k):\n    return 1\n",
        "try:\n    import fastf\nexcept ImportError:\n    def f(xs, k):\n        return 1\n",
        "if True:\n    def f(xs, k):\n        return 1\n",
    ],
    ids=["decorated", "in-try", "in-if"],
)
def test_entry_point_found_in_module_level_blocks(solution):
    report = check_static(solution, TESTS, "f", "def f(xs, k)")
    assert report.passed, report.issues
    assert report.parameters == ["xs", "k"]


def test_entry_point_bound_by_assignment_is_found_without_parameter_check():
    report = check_static("def _impl(a):\n    return a\n\nf = _impl\n", TESTS, "f", "def f(xs, k)")
    assert report.passed
    assert report.parameters is None and "parameters unchecked" in report.notes[0]


@pytest.mark.parametrize(
    ("header", "signature", "problem"),
    [
        ("def f(xs, n):", "def f(xs: list[int], k: int) -> int", "parameter 'k' is missing"),
        ("def f(xs):", "def f(xs, k)", "parameter 'k' is missing"),
        ("def f(k, xs):", "def f(xs, k)", "parameter 'xs' is not in position 1"),
        ("def f(xs, k, extra):", "def f(xs, k)", "extra parameter 'extra' has no default"),
        ("def f(xs, *, k):", "def f(xs, k)", "parameter 'k' is keyword_only, declared positional"),
        ("def f(xs, k):", "def f(xs, *args)", "it lacks *args"),
    ],
)
def test_wrong_parameters_rejected(header, signature, problem):
    report = check_static(f"{header}\n    return 1\n", TESTS, "f", signature)
    assert [issue.check for issue in report.issues] == ["parameters"]
    assert problem in report.issues[0].message
    assert report.target == "solution"


@pytest.mark.parametrize(
    ("header", "signature"),
    [
        ("def f(xs: list[int], k: int = 3) -> int:", "def f(xs: list[int], k: int) -> int"),
        ("def f(xs, k, memo=None):", "f(xs, k)"),
        ("def f(xs, k, *rest, **options):", "def f(xs, k):"),
        ("def f(xs, k):", "def f(xs, k)"),
    ],
)
def test_compatible_parameters_accepted(header, signature):
    report = check_static(f"{header}\n    return 1\n", TESTS, "f", signature)
    assert report.passed, report.issues


def test_unparseable_signature_only_noted():
    report = check_static("def f(xs, k):\n    return 1\n", TESTS, "f", "takes a list ((")
    assert report.passed
    assert "could not be parsed" in report.notes[0]


@pytest.mark.parametrize(
    "signature",
    [
        "def f(xs: list[int], k: int) -> int",
        "def f(xs: list[int], k: int) -> int:",
        "f(xs, k)",
        'def f(xs: list[int], k: int) -> int:\n    """Sum of the first k items."""',
        "def f(xs: list[int],\n      k: int) -> int:\n    ...",
    ],
)
def test_signature_forms_read(signature):
    assert [param.name for param in declared_parameters(signature)] == ["xs", "k"]


def test_declared_parameter_kinds():
    params = declared_parameters("def f(a, /, b: int = 1, *args, c, d=2, **kw) -> None")
    assert [(p.name, p.kind, p.has_default) for p in params] == [
        ("a", "positional", False),
        ("b", "positional", True),
        ("args", "var_positional", False),
        ("c", "keyword_only", False),
        ("d", "keyword_only", True),
        ("kw", "var_keyword", False),
    ]


def test_tests_that_never_use_the_entry_point_rejected():
    tests = "def test_nothing():\n    assert 1 + 1 == 2\n"
    report = check_static("def f(xs, k):\n    return 1\n", tests, "f", "")
    assert [issue.check for issue in report.issues] == ["tests_use_entry_point"]
    assert report.target == "tests"


def test_oversized_source_rejected_without_parsing():
    huge = "x = 1\n" * (MAX_SOURCE_CHARS // 6 + 1)
    report = check_static(huge, TESTS, "f", "")
    assert report.issues[0].check == "size" and report.solution is None


COMPLEX = """
def g(xs, k):
    total = 0
    for x in xs:                      # +1
        if x > k and x % 2:           # +1 if, +1 and
            total += x
        elif x < 0 or x == k:         # +1 elif, +1 or
            total -= 1
    while total > 100:                # +1
        total //= 2
    try:
        r = [y for y in xs if y]      # +1 for clause, +1 if clause
    except ValueError:                # +1
        r = []
    return total if r else -total     # +1


def outer(a):
    def inner(b):
        return b if b else 0          # inner: 2
    return inner(a) or 1              # outer: 2


class C:
    def m(self, x):
        match x:
            case 1:
                return "one"
            case _:
                return "other"        # C.m: 1 + 2 cases


def plain():
    return 1
"""


def test_cyclomatic_complexity_by_hand():
    features = code_features(COMPLEX, parse(COMPLEX))
    by_name = {function.name: function.complexity for function in features.functions}
    assert by_name == {"g": 11, "outer": 2, "outer.inner": 2, "C.m": 3, "plain": 1}
    assert features.max_complexity == 11
    assert features.total_complexity == 19
    assert [function.line for function in features.functions] == [2, 18, 19, 25, 33]


def test_test_functions_and_assertions_counted():
    tests = """
import pytest
from solution import f

def helper(x):
    assert x is not None

def test_one():
    assert f([1], 1) == 1
    assert f([], 1) == 0

@pytest.mark.parametrize("k", [1, 2])
def test_two(k):
    with pytest.raises(ValueError):
        f(None, k)

class TestGroup:
    def test_three(self):
        self.assertEqual(f([2], 1), 2)

    def not_a_test(self):
        pass

class Helpers:
    def test_ignored(self):
        assert True
"""
    report = check_static("def f(xs, k):\n    return 1\n", tests, "f", "")
    assert report.tests.test_functions == ["test_one", "test_two", "TestGroup.test_three"]
    assert report.tests.n_test_functions == 3
    # helper's assert, two in test_one, pytest.raises, self.assertEqual, Helpers' assert
    assert report.tests.n_asserts == 6
    assert report.tests.imports == ["pytest", "solution"]
