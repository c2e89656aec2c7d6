"""Plain data across the boundary between a trusted judge and an untrusted candidate.

A value crosses only if it is built of exact builtin types: ``None``, ``bool``, ``int``,
``float``, ``complex``, ``str``, ``bytes``, and ``list``, ``tuple``, ``dict``, ``set``,
``frozenset`` of those, and those types themselves (``int`` as an argument). Subclasses never cross (an ``int`` subclass can carry an ``__eq__``
that is always true; the one exception: the standard library's ``Counter``, ``OrderedDict``
and ``defaultdict`` cross as the plain ``dict`` of their items), nor do objects of the candidate's own classes, generators or functions:
encoding them raises :class:`NotPlain`, naming what was found and where.

The encoding is a small tagged binary format of our own, decoded without ever calling code
that the bytes choose (no pickle, no marshal): a tag byte, then a length or a fixed-size
payload (a long list of one scalar type is one block: int64s, float64s, or str lengths and
their text, so a million-item answer costs a few C calls, not a million tagged items).
Decoding is bounded: total size, nesting depth, the size of one integer, and every length is
checked against the bytes that remain, so malformed or hostile bytes raise
:class:`Malformed` and nothing else. Standard library only (this module runs in the image).
"""

from __future__ import annotations

import array
import builtins
import collections
import struct
import sys
from itertools import accumulate as _accumulate

MAX_DEPTH = 100
MAX_INT_BYTES = 1 << 20
MAX_MESSAGE_BYTES = 64 << 20

_LEN = struct.Struct("<I")
_FLOAT = struct.Struct("<d")
_COMPLEX = struct.Struct("<dd")
# The standard library's own dict classes (exactly these, never a subclass of them) cross as
# the plain dict they hold: reference solutions return them (MBPP's Counter answers). Only the
# items cross, so whatever their methods do in the candidate's process, the judge gets a dict.
_STDLIB_DICTS = (collections.Counter, collections.OrderedDict, collections.defaultdict)
# The plain types themselves cross too, by name (MBPP passes ``int`` to a function that drops
# the items of that type): the receiver gets its own builtin class of that name.
_TYPE_NAMES = {
    kind: kind.__name__.encode()
    for kind in (bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)
}
_TYPES_BY_NAME = {name: kind for kind, name in _TYPE_NAMES.items()}
_BUILTIN_KINDS = frozenset(
    {"generator", "function", "builtin_function_or_method", "method", "coroutine",
     "async_generator", "module", "code", "frame", "cell", "NoneType", "ellipsis",
     "NotImplementedType", "method-wrapper", "wrapper_descriptor", "traceback"}
)  # fmt: skip
_CONTAINERS = {list: b"l", tuple: b"t", set: b"S", frozenset: b"z"}
# A long list of one scalar type (the multi-megabyte answers: a million ints, floats or strs)
# crosses as one block, read and written by the array module and the str codec in C:
# ``I`` int64s, ``D`` float64s, ``U`` the str lengths (in characters) then all the text.
FLAT_MIN_ITEMS = 16
_SWAP = sys.byteorder != "little"
_BUILDERS = {ord("l"): list, ord("t"): tuple, ord("S"): set, ord("z"): frozenset}
_FLAT_TAGS = frozenset(b"IDU")


class NotPlain(TypeError):
    """A value that is not plain data (see the module docstring)."""


class Malformed(ValueError):
    """Bytes that are not a valid encoding of plain data within the bounds."""


def describe(value: object) -> str:
    """How a value's type is named in messages: ``a generator object``, ``an object of class
    Foo`` (also for a class defined by code exec'd in a ``{}`` namespace, whose module is
    ``builtins``)..."""
    kind = type(value)
    module = kind.__module__
    name = (
        kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"
    )
    if module == "builtins" and getattr(builtins, kind.__name__, None) is not kind:
        if kind.__name__ in _BUILTIN_KINDS:  # the interpreter's own, not in builtins by name
            return f"a {name} object"  # a generator, a function, a coroutine...
    elif module == "builtins":
        return f"a {name} object"  # a map, a filter, a range...
    return f"an object of class {name}"


def encode(value: object, where: str = "the value") -> bytes:
    """The bytes of ``value``; raises :class:`NotPlain` if any part of it is not plain data,
    naming the part from ``where`` (``"what f returned"``, then ``[0]``, ``['key']``...)."""
    out = bytearray()
    try:
        _encode(value, out, 0)
    except _Found as found:
        path = "".join(reversed(found.path))
        if len(path) > 120:
            path = path[:120] + "..."
        raise NotPlain(f"{where}{path} {found.what}") from None
    if len(out) > MAX_MESSAGE_BYTES:
        raise NotPlain(f"{where} takes {len(out)} bytes, over the {MAX_MESSAGE_BYTES} byte limit")
    return bytes(out)


class _Found(Exception):
    """What is wrong, and where (filled in on the way out, so the common path builds nothing)."""

    def __init__(self, what: str):
        self.what = what
        self.path: list[str] = []


def _encode(value: object, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _Found(f"is nested more than {MAX_DEPTH} levels deep (or refers to itself)")
    kind = type(value)
    if value is None:
        out += b"N"
    elif kind is bool:
        out += b"T" if value else b"F"
    elif kind is int:
        size = (value.bit_length() + 8) // 8  # room for the sign bit
        if size > MAX_INT_BYTES:
            raise _Found(f"is an int of more than {MAX_INT_BYTES * 8} bits")
        out += b"i" + _LEN.pack(size) + value.to_bytes(size, "little", signed=True)
    elif kind is float:
        out += b"f" + _FLOAT.pack(value)
    elif kind is complex:
        out += b"c" + _COMPLEX.pack(value.real, value.imag)
    elif kind is str:
        data = value.encode("utf-8", "surrogatepass")
        out += b"s" + _LEN.pack(len(data)) + data
    elif kind is bytes:
        out += b"b" + _LEN.pack(len(value)) + value
    elif kind is list and len(value) >= FLAT_MIN_ITEMS and _encode_flat(value, out):
        pass
    elif kind in _CONTAINERS:
        out += _CONTAINERS[kind] + _LEN.pack(len(value))
        for index, item in enumerate(value):
            try:
                _encode(item, out, depth + 1)
            except _Found as found:
                found.path.append(f"[{index}]" if kind in (list, tuple) else " (a member)")
                raise
        if len(out) > MAX_MESSAGE_BYTES:
            raise _Found(f"is larger than {MAX_MESSAGE_BYTES} bytes")
    elif kind is dict or kind in _STDLIB_DICTS:
        out += b"d" + _LEN.pack(len(value))
        for key, item in value.items():
            try:
                _encode(key, out, depth + 1)
            except _Found as found:
                found.path.append(" (a key)")
                raise
            try:
                _encode(item, out, depth + 1)
            except _Found as found:
                found.path.append(f"[{key!r}]" if type(key) in (str, int) else "[...]")
                raise
        if len(out) > MAX_MESSAGE_BYTES:
            raise _Found(f"is larger than {MAX_MESSAGE_BYTES} bytes")
    elif kind is type and value in _TYPE_NAMES:
        data = _TYPE_NAMES[value]
        out += b"y" + _LEN.pack(len(data)) + data
    else:
        raise _Found(
            f"is {describe(value)}, not plain data (None, bool, int, float, complex, str, bytes, "
            "or a list, tuple, dict, set or frozenset of those; never a subclass)"
        )


def _encode_flat(value: list, out: bytearray) -> bool:
    """Writes ``value`` as one block if all its items are exact ints that fit 64 bits, exact
    floats or exact strs; returns whether it did."""
    kinds = set(map(type, value))
    if kinds == {int}:
        try:
            block = array.array("q", value)
        except OverflowError:
            return False
        tag = b"I"
    elif kinds == {float}:
        block, tag = array.array("d", value), b"D"
    elif kinds == {str}:
        lengths = array.array("Q", map(len, value))
        if _SWAP:
            lengths.byteswap()
        text = "".join(value).encode("utf-8", "surrogatepass")
        out += b"U" + _LEN.pack(len(value)) + lengths.tobytes() + _LEN.pack(len(text)) + text
        return True
    else:
        return False
    if _SWAP:
        block.byteswap()
    out += tag + _LEN.pack(len(value)) + block.tobytes()
    return True


def _decode_flat(view: memoryview, pos: int, tag: int) -> tuple[list, int]:
    count, pos = _length(view, pos)
    if count * 8 > len(view) - pos:
        raise Malformed(f"a block of {count} items runs past the end of the data")
    block = array.array("d" if tag == 0x44 else "q" if tag == 0x49 else "Q")
    block.frombytes(view[pos : pos + count * 8])
    if _SWAP:
        block.byteswap()
    pos += count * 8
    if tag != 0x55:
        return block.tolist(), pos
    size, pos = _length(view, pos)
    text = str(view[pos : pos + size], "utf-8", "surrogatepass")
    if sum(block) != len(text):
        raise Malformed("a block of strs whose lengths do not add up to its text")
    ends = list(_accumulate(block))
    items = list(map(text.__getitem__, map(slice, [0, *ends[:-1]], ends)))
    return items, pos + size


def encoded_tuple(*parts: bytes) -> bytes:
    """The encoding of a tuple whose items are already encoded (``parts``)."""
    return b"t" + _LEN.pack(len(parts)) + b"".join(parts)


def decode(data: bytes) -> object:
    """The value ``data`` encodes; raises :class:`Malformed` for anything else."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise Malformed(f"{len(data)} bytes, over the {MAX_MESSAGE_BYTES} byte limit")
    view = memoryview(data)
    try:
        value, end = _decode(view, 0, 0)
    except (struct.error, IndexError, UnicodeDecodeError, TypeError) as exc:
        raise Malformed(f"not a valid encoding ({type(exc).__name__})") from None
    if end != len(view):
        raise Malformed(f"{len(view) - end} bytes left after the value")
    return value


def _length(view: memoryview, pos: int) -> tuple[int, int]:
    (size,) = _LEN.unpack_from(view, pos)
    if size > len(view) - pos - 4:
        raise Malformed(f"a length of {size} runs past the end of the data")
    return size, pos + 4


def _decode(view: memoryview, pos: int, depth: int) -> tuple[object, int]:
    if depth > MAX_DEPTH:
        raise Malformed(f"nested more than {MAX_DEPTH} levels deep")
    tag = view[pos]
    pos += 1
    if tag == 0x4E:  # N
        return None, pos
    if tag == 0x54:  # T
        return True, pos
    if tag == 0x46:  # F
        return False, pos
    if tag == 0x69:  # i
        size, pos = _length(view, pos)
        if size > MAX_INT_BYTES:
            raise Malformed(f"an int of {size} bytes, over the {MAX_INT_BYTES} byte limit")
        return int.from_bytes(view[pos : pos + size], "little", signed=True), pos + size
    if tag == 0x66:  # f
        return _FLOAT.unpack_from(view, pos)[0], pos + 8
    if tag == 0x63:  # c
        real, imag = _COMPLEX.unpack_from(view, pos)
        return complex(real, imag), pos + 16
    if tag == 0x73:  # s
        size, pos = _length(view, pos)
        return str(view[pos : pos + size], "utf-8", "surrogatepass"), pos + size
    if tag == 0x62:  # b
        size, pos = _length(view, pos)
        return bytes(view[pos : pos + size]), pos + size
    if tag in _FLAT_TAGS:
        return _decode_flat(view, pos, tag)
    if tag in _BUILDERS:
        count, pos = _length(view, pos)  # every item takes at least one byte
        items = []
        for _ in range(count):
            item, pos = _decode(view, pos, depth + 1)
            items.append(item)
        build = _BUILDERS[tag]
        if build in (set, frozenset):
            _require_hashable(items)
        return (items if build is list else build(items)), pos
    if tag == 0x79:  # y
        size, pos = _length(view, pos)
        name = bytes(view[pos : pos + size])
        if name not in _TYPES_BY_NAME:
            raise Malformed(f"unknown type name {name!r}")
        return _TYPES_BY_NAME[name], pos + size
    if tag == 0x64:  # d
        count, pos = _length(view, pos)
        result = {}
        for _ in range(count):
            key, pos = _decode(view, pos, depth + 1)
            _require_hashable([key])
            result[key], pos = _decode(view, pos, depth + 1)
        return result, pos
    raise Malformed(f"unknown tag {tag:#x}")


def _require_hashable(items: list) -> None:
    for item in items:
        if type(item) in (list, dict, set):
            raise Malformed(f"an unhashable {type(item).__name__} as a set member or dict key")
        if type(item) is tuple:
            _require_hashable(list(item))


def copy_into(target: object, new: object) -> object:
    """Makes ``target`` hold what ``new`` holds, in place where both are the same mutable kind,
    keeping the identity of nested mutable objects where the shapes still match; returns the
    object the caller should keep (``target`` itself, or ``new`` when it could not be kept)."""
    if type(target) is not type(new):
        return new
    if type(target) is list:
        merged = [
            copy_into(target[index], item) if index < len(target) else item
            for index, item in enumerate(new)
        ]
        target[:] = merged
        return target
    if type(target) is dict:
        merged = {
            key: copy_into(target[key], item) if key in target else item
            for key, item in new.items()
        }
        target.clear()
        target.update(merged)
        return target
    if type(target) is set:
        target.clear()
        target.update(new)
        return target
    return new
