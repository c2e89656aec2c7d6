"""The plain-data codec of trusted mode: what crosses, what does not, and hostile bytes."""

from __future__ import annotations

import collections
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "sandbox" / "runner"))
import plain

VALUES = [
    None, True, False, 0, -1, 2**200, -(2**64), 1.5, float("inf"), -0.0, 1 + 2j, "", "é\ud800",
    b"\x00\xff", [], (), {}, set(), frozenset(), [1, (2, [3])], {1: "a", (1, 2): {"b": b"c"}},
    {frozenset({1}), (1, "x")}, int, str, [dict, tuple],
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_plain_values_cross_with_their_exact_types(value):
    back = plain.decode(plain.encode(value))
    assert back == value and type(back) is type(value)


FLAT = [
    list(range(-50, 50)),
    [2**63 - 1, -(2**63)] * 10,
    [2**63, *range(20)],  # beyond int64: item by item
    [0.5, -0.0, float("inf"), 1e308] * 5,
    ["", "a", "é\ud800", "\udc00", "xyz" * 100] * 4,
    [True] * 20,
    [1] * 19 + [1.0],
    [1] * 19 + [True],
    [[1, 2]] * 20,
]


@pytest.mark.parametrize("value", FLAT, ids=[repr(v)[:30] for v in FLAT])
def test_long_lists_of_one_type_cross_as_blocks_with_their_exact_types(value):
    back = plain.decode(plain.encode(value))
    assert type(back) is list and len(back) == len(value)
    assert [(type(a), repr(a)) for a in back] == [(type(b), repr(b)) for b in value]


def test_a_block_is_smaller_than_tagged_items():
    ints = list(range(1000))
    assert plain.encode(ints)[:1] == b"I" and len(plain.encode(ints)) == 5 + 8000
    assert plain.encode(["a"] * 100)[:1] == b"U" and plain.encode([1.5] * 100)[:1] == b"D"
    assert plain.encode(list(range(10)))[:1] == b"l"  # short lists stay item by item


def test_nan_crosses():
    back = plain.decode(plain.encode(float("nan")))
    assert back != back


class Anything:
    def __eq__(self, other):
        return True


class Int(int):
    pass


def _generator():
    yield 1


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (Anything(), "the value is an object of class tests.sandbox.test_plain.Anything"),
        (Int(3), "test_plain.Int, not plain data"),
        ([1, {"k": (_generator(),)}], "the value[1]['k'][0] is a generator object"),
        (len, "builtin_function_or_method object"),
        (range(3), "a range object"),
        (collections.deque([1]), "collections.deque"),
        (object, "a type object"),
    ],
)
def test_anything_else_is_refused_saying_what_and_where(value, words):
    with pytest.raises(plain.NotPlain, match=None) as caught:
        plain.encode(value)
    assert words in str(caught.value)


def test_the_standard_librarys_dicts_cross_as_dicts():
    for value in (collections.Counter("aab"), collections.OrderedDict(a=1)):
        back = plain.decode(plain.encode(value))
        assert type(back) is dict and back == dict(value)
    assert plain.decode(plain.encode(collections.defaultdict(list, a=[1]))) == {"a": [1]}


def test_cycles_and_depth_are_bounded():
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(plain.NotPlain, match="nested more than"):
        plain.encode(cyclic)
    deep = b"l\x01\x00\x00\x00" * (plain.MAX_DEPTH + 5) + b"N"
    with pytest.raises(plain.Malformed, match="nested more than"):
        plain.decode(deep)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"q",
        b"N extra",
        b"s\xff\xff\xff\x7f",
        b"l\xff\xff\xff\xff",
        b"i" + struct.pack("<I", plain.MAX_INT_BYTES + 1) + b"\x00" * (plain.MAX_INT_BYTES + 1),
        b"S\x01\x00\x00\x00l\x00\x00\x00\x00",
        b"d\x01\x00\x00\x00d\x00\x00\x00\x00N",
        b"y\x06\x00\x00\x00object",
        b"s\x01\x00\x00\x00\xff",
        b"f\x00\x00",
        b"I\x05\x00\x00\x00" + b"\x00" * 39,  # a block of int64s cut short
        b"D\xff\xff\xff\x0f" + b"\x00" * 64,
        b"U\x02\x00\x00\x00" + struct.pack("<QQ", 1, 1) + b"\x01\x00\x00\x00a",  # 2 != 1
        b"U\x01\x00\x00\x00" + struct.pack("<Q", 1) + b"\x01\x00\x00\x00\xff",
        b"U\x01\x00\x00\x00" + struct.pack("<Q", 1) + b"\x05\x00\x00\x00a",
    ],
)
def test_hostile_bytes_are_malformed_and_nothing_else(data):
    with pytest.raises(plain.Malformed):
        plain.decode(data)


def test_arguments_are_copied_back_in_place():
    inner = [3, 1]
    outer = {"xs": inner, "n": 1}
    kept = plain.copy_into(outer, {"xs": [1, 3], "n": 2, "new": set()})
    assert kept is outer and outer["xs"] is inner and inner == [1, 3]
    assert outer == {"xs": [1, 3], "n": 2, "new": set()}
    items = {1, 2}
    assert plain.copy_into(items, {3}) is items and items == {3}
    assert plain.copy_into([1], (1,)) == (1,)
