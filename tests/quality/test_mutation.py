"""Mutant generation: each operator, determinism, even sampling, and robustness on MBPP."""

from __future__ import annotations

import ast
import json
import warnings

import pytest

from factory.quality.mutation import OPERATORS, generate_mutants


def _shape(source: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MBPP code has invalid escapes in plain strings
        return ast.dump(ast.parse(source))


def _mutant_shapes(source: str, operator: str) -> set[str]:
    return {_shape(m.source) for m in generate_mutants(source, 1000) if m.operator == operator}


@pytest.mark.parametrize(
    ("operator", "source", "expected"),
    [
        ("compare", "def f(a, b):\n    return a < b\n", "def f(a, b):\n    return a <= b\n"),
        ("compare", "def f(a, b):\n    return a < b\n", "def f(a, b):\n    return a > b\n"),
        ("compare", "def f(a, b):\n    return a == b\n", "def f(a, b):\n    return a != b\n"),
        ("compare", "def f(a, b):\n    return a in b\n", "def f(a, b):\n    return a not in b\n"),
        ("arithmetic", "def f(a, b):\n    return a + b\n", "def f(a, b):\n    return a - b\n"),
        ("arithmetic", "def f(a, b):\n    return a * b\n", "def f(a, b):\n    return a + b\n"),
        ("arithmetic", "def f(a, b):\n    return a // b\n", "def f(a, b):\n    return a / b\n"),
        (
            "arithmetic",
            "def f(a, t):\n    t += a\n    return t\n",
            "def f(a, t):\n    t -= a\n    return t\n",
        ),
        ("arithmetic", "def f(a):\n    return -a\n", "def f(a):\n    return a\n"),
        ("boolean", "def f(a, b):\n    return a and b\n", "def f(a, b):\n    return a or b\n"),
        ("boolean", "def f(a):\n    return not a\n", "def f(a):\n    return a\n"),
        ("constant", "def f(a):\n    return a + 1\n", "def f(a):\n    return a + 2\n"),
        ("constant", "def f(a):\n    return a + 1\n", "def f(a):\n    return a + 0\n"),
        ("constant", "def f(a):\n    return True\n", "def f(a):\n    return False\n"),
        ("constant", "def f(a):\n    return a + 'x'\n", "def f(a):\n    return a + ''\n"),
        ("return_value", "def f(a, b):\n    return a + b\n", "def f(a, b):\n    return None\n"),
        (
            "drop_statement",
            "def f(xs, a):\n    xs.append(a)\n    return xs\n",
            "def f(xs, a):\n    pass\n    return xs\n",
        ),
        (
            "drop_statement",
            "def f(n):\n    lo = 0\n    lo = lo + n\n    return lo\n",
            "def f(n):\n    lo = 0\n    pass\n    return lo\n",
        ),
        (
            "negate_condition",
            "def f(a):\n    if a > 0:\n        return 1\n    return 2\n",
            "def f(a):\n    if not a > 0:\n        return 1\n    return 2\n",
        ),
        (
            "negate_condition",
            "def f(a):\n    return [x for x in a if x]\n",
            "def f(a):\n    return [x for x in a if not x]\n",
        ),
        (
            "off_by_one",
            "def f(n):\n    return list(range(n))\n",
            "def f(n):\n    return list(range(n + 1))\n",
        ),
        (
            "off_by_one",
            "def f(xs, i, j):\n    return xs[i:j]\n",
            "def f(xs, i, j):\n    return xs[i - 1:j]\n",
        ),
        (
            "off_by_one",
            "def f(xs, i, j):\n    return xs[i:j]\n",
            "def f(xs, i, j):\n    return xs[i:j + 1]\n",
        ),
        ("builtin_swap", "def f(xs):\n    return min(xs)\n", "def f(xs):\n    return max(xs)\n"),
        ("builtin_swap", "def f(xs):\n    return any(xs)\n", "def f(xs):\n    return all(xs)\n"),
    ],
)
def test_operator_produces_expected_mutant(operator, source, expected):
    assert _shape(expected) in _mutant_shapes(source, operator)


def test_every_operator_is_exercised_by_the_cases_above():
    [mark] = test_operator_produces_expected_mutant.pytestmark
    assert {case[0] for case in mark.args[1]} == set(OPERATORS)


def test_first_assignment_is_not_dropped():
    """Dropping ``lo = 0`` only causes a NameError that any test kills."""
    source = "def f(n):\n    lo = 0\n    return lo + n\n"
    assert _mutant_shapes(source, "drop_statement") == set()


def test_mutant_changes_one_place_and_keeps_comments():
    source = "def f(a, b):\n    # compare them\n    if a < b:  # strictly\n        return a\n    return b\n"
    for mutant in generate_mutants(source, 100):
        assert "# compare them" in mutant.source and "# strictly" in mutant.source
        changed = [
            (old, new)
            for old, new in zip(source.splitlines(), mutant.source.splitlines(), strict=True)
            if old != new
        ]
        assert len(changed) == 1
        assert mutant.diff.splitlines()[0].startswith("- ")


def test_docstrings_annotations_and_fstrings_untouched():
    source = 'def f(x: int = 1) -> "label":\n    """Doubles x."""\n    return f"{x + 1}"\n'
    mutants = generate_mutants(source, 100)
    for mutant in mutants:
        assert '"""Doubles x."""' in mutant.source
        assert '-> "label"' in mutant.source
        assert 'f"{x + 1}"' in mutant.source or mutant.operator == "return_value"
    assert {m.mutated for m in mutants} == {"2", "0", "return None"}


def test_identical_mutants_kept_once():
    """Removing the ``not`` (boolean) and negating the condition give the same program."""
    source = "def f(x):\n    if not x:\n        return 1\n    return 2\n"
    shapes = [_shape(m.source) for m in generate_mutants(source, 100)]
    assert len(shapes) == len(set(shapes))
    assert _shape(source) not in shapes
    assert _shape("def f(x):\n    if x:\n        return 1\n    return 2\n") in shapes


RICH = """
def score(xs, k):
    total = 0
    for i in range(len(xs)):
        if xs[i] > k and xs[i] % 2 == 0:
            total += xs[i] * 2
        elif not xs[i]:
            total = total - 1
    best = max(xs[1:], default=0)
    return total + best
"""


def test_deterministic_by_seed():
    first = [m.source for m in generate_mutants(RICH, 12, seed=7)]
    again = [m.source for m in generate_mutants(RICH, 12, seed=7)]
    other = [m.source for m in generate_mutants(RICH, 12, seed=8)]
    assert first == again
    assert first != other
    assert len(first) == 12


def test_sampled_evenly_across_operators():
    mutants = generate_mutants(RICH, len(OPERATORS), seed=3)
    assert sorted(m.operator for m in mutants) == sorted(OPERATORS)


def test_cap_respected_and_zero_allowed():
    assert len(generate_mutants(RICH, 5)) == 5
    assert generate_mutants(RICH, 0) == []
    everything = generate_mutants(RICH, 10_000)
    assert 30 < len(everything) < 10_000
    assert [m.index for m in everything] == list(range(len(everything)))


def test_equivalence_hints():
    source = (
        "import logging\n\n"
        "def f(x):\n"
        "    unused = x * 2\n"
        "    logging.info('x is %s', x + 1)\n"
        "    return x\n"
    )
    hints = {m.description: m.equivalence_hint for m in generate_mutants(source, 100)}
    assert hints["line 4: `x * 2` -> `x + 2` (arithmetic)"] == (
        "it only changes a variable that is never read"
    )
    assert "logged output" in hints["line 5: `x + 1` -> `x - 1` (arithmetic)"]
    assert hints["line 6: `return x` -> `return None` (return_value)"] == ""


def test_every_mbpp_solution_yields_valid_distinct_mutants(mbpp_path):
    """Robustness on 974 real solutions: every mutant compiles, differs, and is reproducible."""
    lines = mbpp_path.read_text().splitlines()
    tasks = [json.loads(line) for line in lines if line.strip()]
    total = 0
    for task in tasks:
        code = task["code"]
        try:
            original = _shape(code)
        except SyntaxError:
            continue
        mutants = generate_mutants(code, 30, seed=task["task_id"])
        shapes = [_shape(m.source) for m in mutants]
        assert len(mutants) <= 30
        assert original not in shapes, task["task_id"]
        assert len(set(shapes)) == len(shapes), task["task_id"]
        assert all(m.diff for m in mutants), task["task_id"]
        total += len(mutants)
    assert total > 10 * len(tasks)
    sample = tasks[10]["code"]
    assert [m.source for m in generate_mutants(sample, 30, seed=1)] == [
        m.source for m in generate_mutants(sample, 30, seed=1)
    ]


def test_mutants_the_compiler_folds_away_are_recorded_not_run():
    # `2 ** 2` -> `2 * 2` compiles to the original's constant 4: equivalent. `3 + 1` -> `4 + 1`
    # and `3 + 1` -> `3 + 2` both compile to 5: the second is a duplicate.
    source = "def f(x):\n    y = 2 ** 2\n    z = 3 + 1\n    return x * y * z\n"
    skipped = []
    mutants = generate_mutants(source, max_mutants=30, seed=0, skipped=skipped)
    kinds = sorted(mutant.equivalence_hint.split(":")[0] for mutant in skipped)
    assert kinds == ["duplicate", "duplicate", "equivalent"]
    assert any(m.original == "2 ** 2" and m.mutated == "2 * 2" for m in skipped)
    sources = [mutant.source for mutant in mutants]
    assert all(m.source not in sources for m in skipped)  # none of them is run
    assert len(set(sources)) == len(sources)
    # without the list the same mutants come out, and the skipped ones do not take a place
    assert [m.source for m in generate_mutants(source, 30, 0)] == sources
