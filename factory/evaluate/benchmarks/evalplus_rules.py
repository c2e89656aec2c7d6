"""HumanEval+ / MBPP+ comparison rules, as EvalPlus applies them, in judge-side source text.

This module is imported on the host (to encode inputs and expected outputs, and by the tests)
and its source text is also placed, unchanged, at the top of every judge program that runs in
the sandbox, so the judge and the host share one implementation. It uses the standard library
only and has no ``from __future__`` import (it is pasted into a larger program).

- Values cross as JSON with tags for what JSON cannot say (tuples, sets, complex, non-finite
  floats, bytes, dicts with any key, integers too long for ``str()``), so an expected
  ``(1, 2)`` stays a tuple and an input ``{1: "a"}`` keeps its int key.
- :func:`check_output` is EvalPlus's per-input decision: exact equality first, then the
  task's special oracle, then the float tolerance (``atol`` becomes 1e-6 once an expected
  output is a float or a list or tuple of floats and the task's own ``atol`` is 0, and stays so
  for the rest of that run of inputs), then a ``numpy.allclose``-style comparison with
  rtol 1e-07 for values of the same type and length. :func:`allclose` reproduces numpy's
  result on plain Python values (numpy is not in the sandbox): where numpy would raise (strings,
  ``None``, ragged lists, integers beyond 64 bits) the values are not close.
"""

import hashlib
import json
import marshal
import math

_TAGS = ("$tuple", "$set", "$frozenset", "$complex", "$float", "$bytes", "$dict", "$int")
_SAFE_DIGITS = 4000  # below Python's default int/str conversion limit (4300 digits)


_JSON_ITEMS = ({str}, {bool}, {type(None)}, {int}, {float}, {int, float})


def encode(value):
    """A JSON-ready form of a plain value; subclasses are encoded as their builtin base."""
    if value is None or isinstance(value, bool | str):
        return value
    if type(value) is list and set(map(type, value)) in _JSON_ITEMS and _json_ready(value):
        return value  # a flat list JSON writes as it is (most inputs): no item-by-item copy
    if isinstance(value, int):
        if value.bit_length() > _SAFE_DIGITS * 3:
            return {"$int": format(value, "x")}
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return {"$float": repr(float(value))}
    if isinstance(value, complex):
        return {"$complex": [encode(value.real), encode(value.imag)]}
    if isinstance(value, bytes | bytearray):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, frozenset):
        return {"$frozenset": [encode(item) for item in value]}
    if isinstance(value, set):
        return {"$set": [encode(item) for item in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode(key), encode(item)] for key, item in value.items()]}
    raise TypeError(f"cannot encode a value of type {type(value).__name__}")


def _json_ready(items):
    """Whether a flat list of one of :data:`_JSON_ITEMS` needs no tag: its numbers finite and
    within a float's range (so no int is too long for ``str()``)."""
    if not items or type(items[0]) not in (int, float):
        return True
    try:
        return all(map(math.isfinite, items))
    except OverflowError:
        return False


def _decode_tagged(obj):
    if len(obj) != 1:
        return obj  # a record around encoded values (every encoded dict is tagged)
    ((tag, data),) = obj.items()
    if tag == "$tuple":
        return tuple(data)
    if tag == "$set":
        return set(data)
    if tag == "$frozenset":
        return frozenset(data)
    if tag == "$complex":
        return complex(data[0], data[1])
    if tag == "$float":
        return float(data)
    if tag == "$bytes":
        return bytes.fromhex(data)
    if tag == "$dict":
        return {key: item for key, item in data}
    if tag == "$int":
        negative = data.startswith("-")
        number = int(data[1:] if negative else data, 16)
        return -number if negative else number
    return obj


def decode_json(text):
    """Reads values written by :func:`dumps` (json's C parser, tags resolved bottom-up)."""
    return json.loads(text, object_hook=_decode_tagged)


_COMPACT = json.JSONEncoder(separators=(",", ":")).encode
_SAFE_BITS = _SAFE_DIGITS * 3


def dumps(value):
    """The JSON text of :func:`encode`'s form (a flat list of exact strs or finite numbers, the
    multi-megabyte answers, goes to json's C encoder as it is). A lone str, bool, None, int or
    finite float (most answers) is written as json writes it, without building an encoder:
    the reference run writes a text for each of its 124,000 answers."""
    kind = type(value)
    if kind is str:
        return json.encoder.encode_basestring_ascii(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is int and value.bit_length() <= _SAFE_BITS:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    return _COMPACT(encode(value))


HUGE_ITEMS = 10_000
"""A nested list this long (MBPP+'s Mbpp/255 returns 1.6 million tuples) is digested from its
binary form, slice by slice: its JSON form would take gigabytes and minutes to build."""
_SLICE = 5_000


def digest_scheme(value):
    """``"marshal"`` for a huge list, else ``"json"`` (see :func:`answer_digest`). A huge flat
    list of strs stays ``"json"`` (json's C encoder writes it at once, and a str's marshal
    form depends on whether it is interned); one of numbers does not: HumanEval/130's million
    floats take ten times longer to write as text (each float's repr) than as binary."""
    if type(value) is not list or len(value) < HUGE_ITEMS:
        return "json"
    if set(map(type, value[:_SLICE])) == {str} and set(map(type, value)) == {str}:
        return "json"
    return "marshal"


def _may_hold_floats(data):
    """Whether marshal's bytes (format 2) may hold a float or a complex (type codes ``g`` and
    ``y``; the letters in a string give a false alarm, never a miss): only those can be a NaN,
    which is not equal to itself."""
    return b"g" in data or b"y" in data


LONG_TEXT = 4096
_VERBATIM = bytes(range(0x20, 0x7F)).replace(b'"', b"").replace(b"\\", b"")
"""The bytes json writes as they are in a string: printable ASCII but the quote and backslash."""


def text_digest(value):
    """(sha256, length) of :func:`dumps`'s text of a long str that json writes verbatim between
    quotes, without building that text (escaping HumanEval/15's 7 MB answers took twice as long
    as their sha256); None for any other value."""
    if type(value) is not str or len(value) < LONG_TEXT or not value.isascii():
        return None
    data = value.encode("ascii")
    if data.translate(None, _VERBATIM):
        return None
    digest = hashlib.sha256(b'"')
    digest.update(data)
    digest.update(b'"')
    return digest.hexdigest(), len(data) + 2


def answer_digest(value, scheme="json", reference=False):
    """(sha256 of the answer's bytes, their length), or None when they cannot stand for the
    value. ``json``: :func:`dumps`'s text. ``marshal``: ``marshal`` (format 2: no references,
    so sharing does not matter) of consecutive slices of a list, the same bytes only for the
    same items of the same builtin types in the same order. For the ``reference``, each slice
    must also read back equal to itself, which a NaN (not equal to itself) fails: its digest
    is refused, so a match is equality. A mismatch proves nothing: the answer is then
    compared as a value."""
    digest = hashlib.sha256()
    if scheme == "marshal":
        if type(value) is not list:
            return None
        size = 0
        for start in range(0, len(value), _SLICE):
            part = value[start : start + _SLICE]
            data = marshal.dumps(part, 2)
            if reference and _may_hold_floats(data) and marshal.loads(data) != part:
                return None
            digest.update(data)
            size += len(data)
        return digest.hexdigest(), size
    found = text_digest(value)
    if found is not None:
        return found
    text = dumps(value)
    digest.update(text.encode("utf-8"))
    return digest.hexdigest(), len(text)


def shorten(value, limit=200):
    """A repr cut to ``limit`` characters, saying how long it was."""
    try:
        text = repr(value)
    except Exception as exc:  # a repr that fails is itself worth showing
        text = f"<unprintable {type(value).__name__}: {type(exc).__name__}>"
    if len(text) <= limit:
        return text
    return text[: limit - 40] + f"... ({len(text)} characters)"


def is_floats(value):
    """EvalPlus's test for a float answer: a float, or a non-empty list or tuple of floats."""
    if isinstance(value, float):
        return True
    if isinstance(value, list | tuple) and value:
        return all(isinstance(item, float) for item in value)
    return False


class _NotNumeric(Exception):
    """numpy would raise on these values: they are not close."""


_INT64 = (-(2**63), 2**63)


def _as_array(value):
    """(shape, flat elements) of a nested list/tuple of numbers, as numpy.asarray builds it."""
    if isinstance(value, list | tuple):
        parts = [_as_array(item) for item in value]
        shapes = {shape for shape, _ in parts}
        if len(shapes) > 1:
            raise _NotNumeric("ragged")
        inner = parts[0][0] if parts else ()
        return (len(value), *inner), [x for _, flat in parts for x in flat]
    if isinstance(value, bool | int | float | complex):
        return (), [value]
    raise _NotNumeric(type(value).__name__)


def _array_elements(flat):
    """Elements as numpy holds them: ints become floats next to floats, and must fit 64 bits."""
    ints = [x for x in flat if isinstance(x, int) and not isinstance(x, bool)]
    if ints:
        low, high = min(ints), max(ints)
        if low < _INT64[0] or high >= 2**64 or (high >= _INT64[1] and low < 0):
            raise _NotNumeric("integer beyond 64 bits")
    if any(isinstance(x, complex) for x in flat):
        return [complex(x) for x in flat]
    if any(isinstance(x, float) for x in flat) or (ints and any(x >= _INT64[1] for x in ints)):
        return [float(x) for x in flat]
    return [int(x) for x in flat]


def _broadcast(shape_x, shape_y):
    rank = max(len(shape_x), len(shape_y))
    x = (1,) * (rank - len(shape_x)) + tuple(shape_x)
    y = (1,) * (rank - len(shape_y)) + tuple(shape_y)
    out = []
    for a, b in zip(x, y, strict=True):
        if a != b and 1 not in (a, b):
            raise _NotNumeric("shapes do not broadcast")
        out.append(b if a == 1 else a)
    return x, y, tuple(out)


def _strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return list(reversed(strides))


def _pairs(shape_x, flat_x, shape_y, flat_y):
    x, y, out = _broadcast(shape_x, shape_y)
    if not out:
        yield flat_x[0], flat_y[0]
        return
    sx, sy = _strides(x), _strides(y)
    total = 1
    for size in out:
        total *= size
    for linear in range(total):
        ix = iy = 0
        rest = linear
        for axis in range(len(out) - 1, -1, -1):
            rest, pos = divmod(rest, out[axis])
            if x[axis] != 1:
                ix += pos * sx[axis]
            if y[axis] != 1:
                iy += pos * sy[axis]
        yield flat_x[ix], flat_y[iy]


def _finite(value):
    if isinstance(value, complex):
        return math.isfinite(value.real) and math.isfinite(value.imag)
    return math.isfinite(value)


def _close(x, y, rtol, atol):
    if isinstance(y, int) and not isinstance(y, complex):
        y = float(y)
    try:
        near = abs(x - y) <= atol + rtol * abs(y) and _finite(y)
    except OverflowError:
        raise _NotNumeric("overflow") from None
    return near or x == y


def allclose(out, exp, rtol=1e-07, atol=1e-08):
    """``numpy.allclose(out, exp, rtol, atol)`` for plain values; False where numpy raises."""
    try:
        scalar_types = bool | int | float | complex
        if isinstance(out, scalar_types) and isinstance(exp, scalar_types):
            return bool(_close(out, exp, rtol, atol))
        shape_x, flat_x = _as_array(out)
        shape_y, flat_y = _as_array(exp)
        flat_x, flat_y = _array_elements(flat_x), _array_elements(flat_y)
        if any(isinstance(v, complex) for v in flat_x + flat_y):
            flat_x, flat_y = [complex(v) for v in flat_x], [complex(v) for v in flat_y]
        elif any(isinstance(v, float) for v in flat_x + flat_y):
            flat_x, flat_y = [float(v) for v in flat_x], [float(v) for v in flat_y]
        return all(_close(a, b, rtol, atol) for a, b in _pairs(shape_x, flat_x, shape_y, flat_y))
    except (_NotNumeric, TypeError, ValueError, OverflowError):
        return False


def surface_area_oracle(base_edge, height):
    """MBPP+ 581's oracle: the pyramid's height is perpendicular to the base."""
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant) / 2)


def digit_distance_oracle(num1, num2):
    """MBPP+ 558's oracle: both numbers are padded with zeros to the same length."""
    left, right = str(num1), str(num2)
    width = max(len(left), len(right))
    left, right = left.zfill(width), right.zfill(width)
    return sum(abs(int(a) - int(b)) for a, b in zip(left, right, strict=True))


def check_output(out, exp, inp, rule, atol, poly=None):
    """EvalPlus's verdict on one output: (passed, the atol carried to the next input).

    ``rule`` is the task's special oracle (None for plain comparison); exceptions raised while
    comparing (an unhashable output for a set comparison, say) mean the output is wrong.
    """
    exact = out == exp
    if rule == "always":
        exact = True
    elif rule == "zero_ok":
        exact = exact or out == 0
    elif rule == "surface_area":
        exact = exact or abs(out - surface_area_oracle(*inp)) <= atol
    elif rule == "digit_distance":
        exact = exact or out == digit_distance_oracle(*inp)
    elif rule == "set_eq":
        exact = set(out) == set(exp)
    elif rule == "not_none":
        exact = out == exp if isinstance(out, bool) else exp == (out is not None)
    elif rule == "poly_root":
        return abs(poly(*inp, out)) <= atol, atol
    if atol == 0 and is_floats(exp):
        atol = 1e-6
    if not exact and atol != 0:
        if type(out) is not type(exp):
            return False, atol
        if isinstance(exp, list | tuple) and len(out) != len(exp):
            return False, atol
        return allclose(out, exp, 1e-07, atol), atol
    return bool(exact), atol
