"""The normalised form: equal for renamed or reformatted copies, different for other programs."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import json.decoder
import textwrap
import tokenize

import pytest

from factory.hygiene import normalise
from factory.hygiene.normalise import (
    code_ngrams,
    docstring_of,
    normalised_code,
    normalised_functions,
    words,
)

ORIGINAL = '''
from typing import List


def total_positive(values: List[int]) -> int:
    """Sum of the positive values."""
    total: int = 0  # running sum
    for value in values:
        if value > 0:
            total += value
    return total
'''

SAME_PROGRAM = """
def f(xs):
    acc = 0
    for x in xs:
        if (x > 0): acc += x
    return acc
"""


def test_names_comments_docstrings_annotations_and_layout_do_not_count():
    assert normalised_code(ORIGINAL) == normalised_code(SAME_PROGRAM)


@pytest.mark.parametrize(
    "other",
    [
        SAME_PROGRAM.replace("x > 0", "x >= 0"),
        SAME_PROGRAM.replace("acc += x", "acc += xs"),
        SAME_PROGRAM.replace("return acc", "return abs(acc)"),
    ],
)
def test_a_changed_operator_binding_or_call_is_another_program(other):
    assert normalised_code(ORIGINAL) != normalised_code(other)


def test_names_from_outside_the_code_are_kept():
    largest = "import heapq\ndef top(nums, n):\n    return heapq.nlargest(n, nums)\n"
    smallest = largest.replace("nlargest", "nsmallest")
    assert normalised_code(largest) != normalised_code(smallest)
    assert "heapq . nlargest" in normalised_code(largest)


def test_a_rebound_builtin_is_the_authors_name():
    assert normalised_code("def f(list):\n    return list[0]\n") == normalised_code(
        "def f(items):\n    return items[0]\n"
    )


def test_names_inside_f_strings_are_renamed_too():
    assert normalised_code("def f(a):\n    return f'<{a}>'\n") == normalised_code(
        "def g(b):\n    return f'<{b}>'\n"
    )


def test_each_function_is_normalised_on_its_own():
    module = "import math\n\ndef helper(q):\n    return q * 2\n\n" + SAME_PROGRAM
    assert normalised_functions(module)["f"] == normalised_code(SAME_PROGRAM)


def test_code_that_does_not_parse_still_has_a_form():
    assert normalised_code("def f(:\n  return a  # note") == "def v0 ( : return v1"


def test_code_ngrams_keep_names_and_drop_docstrings():
    grams = code_ngrams(ORIGINAL, 4)
    assert ("for", "value", "in", "values") in grams
    assert not any("Sum" in token for gram in grams for token in gram)


def test_docstring_and_words():
    assert docstring_of(ORIGINAL, "total_positive") == "Sum of the positive values."
    assert words("Don't  stop: 2 Numbers!") == ["don", "t", "stop", "2", "numbers"]


def _tokenize_module(source: str, structure: bool) -> list[str]:
    """What ``tokenize`` itself gives (the path plain code no longer takes)."""
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if structure and token.type in normalise.STRUCTURE_MARKS:
            tokens.append(normalise.STRUCTURE_MARKS[token.type])
        elif token.type not in normalise.SKIPPED_TOKENS:
            tokens.append(token.string)
    return tokens


TRICKY = '''
class A(Base, metaclass=M):
    x = 1

    @property
    def f(self, *args, b=0x1F, **kw) -> None:
        """Kept out."""
        s = rb'\\d+' + b"\\x00" + \'\'\'it's "quoted"\'\'\' + """one ' line"""
        t = f"{self.x!r:>{b}}" + 1_000.5e-3j.__class__.__name__
        u = [i async for i in g()] if (y := x) else {**kw, 'k': ...}
        while not u:
            try:
                del u[1:2, ::3]
            except* (E, F) as e:
                raise X from e
        return lambda q, /, *, r=@m: q @ r
'''.replace("@m", "2")


@pytest.mark.parametrize("module", [ast, json.decoder, textwrap, tokenize, dataclasses])
def test_plain_code_tokenises_as_tokenize_does(module):
    """The fast path gives tokenize's exact tokens on what the normalisation tokenises
    (ast.unparse of stripped modules), so dedup's keys and the diversity numbers stay."""
    tree = normalise._parse(inspect.getsource(module))
    for source in (ast.unparse(tree), ast.unparse(normalise._parse(TRICKY))):
        for structure in (True, False):
            fast = normalise._plain_tokens(source, structure)
            assert fast is not None and fast == _tokenize_module(source, structure)


@pytest.mark.parametrize(
    "source",
    [
        "x = 1  # a comment\n",
        "x = (1,\n     2)\n",
        "x = '''two\nlines'''\n",
        "if x:\n\ty = 1\n",
        "x = 1 + \\\n    2\n",
        "if x:\n        y\n    z\n",
        "x = 'open\n",
        "x = $\n",
    ],
)
def test_code_that_is_not_plain_goes_through_tokenize(source):
    assert normalise._plain_tokens(source, True) is None
    assert normalise._raw_tokens(source, structure=True)  # tokenize still has a form for it
