"""Trivial stand-ins keep everything but the entry point's body."""

from __future__ import annotations

from factory.quality.hollow import trivial_solutions

SOLUTION = '''import math

HELPER_LIMIT = 3


@staticmethod_like
def area(r):  # the entry point
    """Area of a circle."""
    if r < 0:
        raise ValueError("negative")
    return math.pi * r * r  # trailing


def helper():
    return area(1)
'''


def test_body_replaced_and_rest_kept():
    variants = trivial_solutions(SOLUTION, "area")
    assert list(variants) == ["return None", "return 0", 'return ""', "return []"]
    none = variants["return None"]
    assert (
        "@staticmethod_like\ndef area(r):  # the entry point\n    return None  # trailing\n" in none
    )
    assert "HELPER_LIMIT = 3" in none and "def helper():\n    return area(1)" in none
    assert "raise ValueError" not in none
    for code in variants.values():
        compile(code, "solution.py", "exec")


def test_one_line_function():
    assert trivial_solutions("def f(x): return x * 2\n", "f")["return 0"] == "def f(x): return 0\n"


def test_not_applicable_without_a_module_level_function():
    assert trivial_solutions("class f:\n    pass\n", "f") == {}
    assert trivial_solutions("def g():\n    pass\n", "f") == {}
    assert trivial_solutions("def f(:\n", "f") == {}
