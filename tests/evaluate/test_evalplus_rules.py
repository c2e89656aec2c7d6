"""The judge-side rules of HumanEval+ / MBPP+, checked on the host against numpy and EvalPlus.

The same source runs in the sandbox's judge (pasted whole), so these are the rules the
verdicts come from: the value codec, numpy.allclose without numpy, and EvalPlus's per-input
decision (exact match, special oracles, the float tolerance that sticks once set).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from factory.evaluate.benchmarks import evalplus_rules as rules
from factory.evaluate.benchmarks import load_benchmark

VALUES = [
    None,
    True,
    0,
    -(10**5000),
    1.5,
    float("inf"),
    float("-inf"),
    complex(1, -2),
    "text",
    b"\x00\xff",
    [1, [2.0, "x"]],
    (1, (2,)),
    {1, 2},
    frozenset({"a"}),
    {1: "a", (1, 2): [3]},
    {"k": {"nested": (1.0,)}},
    [],
    (),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_values_cross_with_their_exact_types(value):
    back = rules.decode_json(rules.dumps(value))
    assert back == value and type(back) is type(value)
    if isinstance(value, list | tuple) and value:
        assert [type(x) for x in back] == [type(x) for x in value]


def test_nan_and_subclasses_cross_as_plain_values():
    assert math.isnan(rules.decode_json(rules.dumps(float("nan"))))
    from collections import Counter, namedtuple

    point = namedtuple("Point", "x y")
    assert rules.decode_json(rules.dumps(Counter("aab"))) == {"a": 2, "b": 1}
    assert type(rules.decode_json(rules.dumps(point(1, 2)))) is tuple
    with pytest.raises(TypeError):
        rules.dumps(object())


class _Str(str):
    pass


SCALARS = [None, True, False, 0, -1, 2**63, -(2**12000), 2**12001, 0.0, -0.0, 1e300, 2.5e-320]
SCALARS += [float("nan"), float("inf"), "", 'é\u2028\ud800"\\', _Str("sub"), 7.0, 10**4000]


@pytest.mark.parametrize("value", SCALARS, ids=repr)
def test_lone_scalars_are_written_as_json_writes_their_encoded_form(value):
    # the fast path for lone answers must give the very text the expected-output cache and the
    # answer digests were built from
    import json

    assert rules.dumps(value) == json.dumps(rules.encode(value), separators=(",", ":"))


CLOSE_CASES = [
    (1.0, 1.0 + 1e-7),
    (1.0, 1.0 + 2e-6),
    (1e9, 1e9 + 50),
    ([1.0, 2.0], [1.0, 2.0 + 1e-9]),
    ([1.0, 2.0], [1.0, 2.1]),
    ([[1.0, 2.0]], [[1.0]]),  # broadcasts
    ([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0]),
    ([1, 2], [1, 2]),
    ([True, 2.5], [1.0, 2.5]),
    (float("inf"), float("inf")),
    (float("nan"), float("nan")),
    (complex(1, 1), complex(1, 1 + 1e-9)),
    ([], []),
    (10**9, 10**9 + 1),
]


@pytest.mark.parametrize(("out", "exp"), CLOSE_CASES, ids=repr)
def test_allclose_is_numpys(out, exp):
    assert rules.allclose(out, exp, 1e-07, 1e-6) == bool(np.allclose(out, exp, 1e-07, 1e-6))


@pytest.mark.parametrize(
    ("out", "exp"),
    [
        ("a", "a"),
        ([1.0, "a"], [1.0, "a"]),
        ([None], [None]),
        ([[1.0], [1.0, 2.0]], [1.0]),
        ([2**70], [2**70]),
    ],
    ids=repr,
)
def test_allclose_is_false_where_numpy_raises(out, exp):
    with pytest.raises((TypeError, ValueError)):
        np.allclose(out, exp, 1e-07, 1e-6)
    assert rules.allclose(out, exp, 1e-07, 1e-6) is False


def test_float_tolerance_sticks_once_an_expected_output_is_a_float():
    ok, atol = rules.check_output(0.1 + 0.2, 0.3, [], None, 0)
    assert ok and atol == 1e-6
    # the next input's ints now compare with the tolerance too, as in EvalPlus
    ok, atol = rules.check_output(10**9 + 1, 10**9, [], None, atol)
    assert ok
    assert rules.check_output(10**9 + 1, 10**9, [], None, 0) == (False, 0)
    assert rules.check_output(1, 1.0 + 1e-9, [], None, 1e-6)[0] is False  # types differ
    assert rules.check_output([1.0], [1.0, 2.0], [], None, 1e-6)[0] is False  # lengths differ


def test_special_oracles():
    assert rules.check_output([4, 5], [5, 4], [], "set_eq", 0)[0]
    assert rules.check_output(object(), True, [], "not_none", 0)[0]
    assert not rules.check_output(None, True, [], "not_none", 0)[0]
    assert rules.check_output(False, False, [], "not_none", 0)[0]
    assert rules.check_output(0, 7, [], "zero_ok", 0)[0]
    assert rules.check_output(rules.surface_area_oracle(3, 4), 33, [3, 4], "surface_area", 0)[0]
    assert rules.check_output(6, 1, [123, 256], "digit_distance", 0)[0] == (
        rules.digit_distance_oracle(123, 256) == 6
    )

    def poly(xs, x):
        return sum(c * math.pow(x, i) for i, c in enumerate(xs))

    assert rules.check_output(-0.5, 999, [[1, 2]], "poly_root", 1e-4, poly)[0]
    assert not rules.check_output(0.0, 999, [[1, 2]], "poly_root", 1e-4, poly)[0]


def test_oracles_match_evalplus_own_functions():
    from evalplus.eval import _special_oracle as theirs

    for args in [(3, 4), (5.5, 2), (10, 0), (1, 1)]:
        assert rules.surface_area_oracle(*args) == theirs._surface_Area(*args)
    for args in [(123, 256), (1, 9999), (0, 0), (98765, 12)]:
        assert rules.digit_distance_oracle(*args) == theirs._digit_distance_nums(*args)
    bench = load_benchmark("mbppplus", cache_dir=None)
    by_entry = {plus.entry_point: plus.oracle for plus in bench.plus.values()}
    for entry in theirs.MBPP_OUTPUT_SET_EQ_TASKS:
        assert by_entry.get(entry, "set_eq") == "set_eq"
    for entry in theirs.MBPP_OUTPUT_NOT_NONE_TASKS:
        assert by_entry[entry] == "not_none"


def test_huge_nested_answers_are_digested_from_their_binary_form():
    shared = ["ab", "cd"]
    answer = [tuple(shared) for _ in range(rules.HUGE_ITEMS)]
    rebuilt = [("a" + "b", "c" + "d") for _ in range(rules.HUGE_ITEMS)]  # no string shared
    assert rules.digest_scheme(answer) == "marshal"
    assert rules.digest_scheme(["ab"] * rules.HUGE_ITEMS) == "json"  # flat strs: json at once
    numbers = [float(i) for i in range(rules.HUGE_ITEMS)]  # HumanEval/130: floats and ints
    numbers[::2] = range(0, rules.HUGE_ITEMS, 2)
    assert rules.digest_scheme(numbers) == "marshal"
    found = rules.answer_digest(numbers, "marshal", reference=True)
    assert rules.answer_digest(list(numbers), "marshal") == found
    as_floats = [float(x) for x in numbers]  # equal values, other types: other bytes
    assert rules.answer_digest(as_floats, "marshal")[0] != found[0]
    assert rules.answer_digest([*numbers[:-1], math.nan], "marshal", reference=True) is None
    assert rules.digest_scheme(answer[:10]) == "json"
    digest = rules.answer_digest(answer, "marshal", reference=True)
    assert rules.answer_digest(rebuilt, "marshal") == digest
    as_lists = [list(t) for t in answer]  # unequal in EvalPlus too: other bytes
    assert rules.answer_digest(as_lists, "marshal")[0] != digest[0]
    with_nan = [*answer[:-1], (math.nan,)]
    assert rules.answer_digest(with_nan, "marshal", reference=True) is None  # nan != nan
    assert rules.answer_digest("not a list", "marshal") is None


@pytest.mark.parametrize(
    "text",
    [
        " ".join(str(i) for i in range(20_000)),  # HumanEval/15's kind: written verbatim
        "a" * 5000 + '"' + "b" * 10,
        "a" * 5000 + "\\",
        "a" * 5000 + "\n",
        "a" * 5000 + "\x7f",
        "a" * 5000 + "é",
        "a" * 5000 + "\ud800",
        "short",
    ],
)
def test_a_long_strings_digest_is_its_json_texts_whatever_path_it_takes(text):
    import hashlib

    written = rules.dumps(text)
    expected = (hashlib.sha256(written.encode("utf-8", "surrogatepass")).hexdigest(), len(written))
    found = rules.text_digest(text)
    assert found is None or found == expected
    if "\ud800" not in text:
        assert rules.answer_digest(text) == expected
    verbatim = text.isascii() and text.isprintable() and not {'"', "\\"} & set(text)
    assert (found is not None) == (verbatim and len(text) >= rules.LONG_TEXT)
