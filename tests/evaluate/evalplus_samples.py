"""Samples for HumanEval+ / MBPP+ made from the reference solutions by rule.

There are no model outputs on this machine, so the mixes are built the way real ones go wrong:
each kind wraps the task's reference solution (``prompt + canonical_solution``) and rebinds the
entry point.

- ``good``: the reference itself;
- ``edge_bug``: right on ordinary inputs, wrong on edge cases (an empty or one-item argument, a
  zero or negative number): the classic sample that passes the base tests and fails the plus ones;
- ``wrong``: every answer off (a number +1, a string with a character more, a list cut short);
- ``crash``: raises on every call; ``edge_crash``: raises on edge cases only;
- ``hang``: loops forever on edge cases (stopped by the per-input limit);
- ``float_close``: float answers off by a relative 3e-8 (within EvalPlus's rtol 1e-07: passes);
- ``float_far``: float answers off by a relative 1e-4 (beyond the tolerance: fails);
- ``syntax``: a program that does not compile.
"""

from __future__ import annotations

import random

_HELPERS = """

def _cf_edge(args):
    for arg in args:
        if isinstance(arg, (str, list, tuple, dict, set)) and len(arg) <= 1:
            return True
        if isinstance(arg, (int, float)) and not isinstance(arg, bool) and arg <= 0:
            return True
    return False


def _cf_off(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.0
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, (list, tuple)):
        return type(value)(list(value)[:-1]) if value else type(value)([0])
    if value is None:
        return 0
    return None


def _cf_scale(value, factor):
    if isinstance(value, float):
        return value * factor
    if isinstance(value, list) and value and all(isinstance(v, float) for v in value):
        return [v * factor for v in value]
    if isinstance(value, tuple) and value and all(isinstance(v, float) for v in value):
        return tuple(v * factor for v in value)
    return value
"""

_WRAPPERS = {
    "edge_bug": "    result = _cf_original(*args)\n    return _cf_off(result) if _cf_edge(args) else result\n",
    "wrong": "    return _cf_off(_cf_original(*args))\n",
    "crash": "    raise ValueError('not implemented')\n",
    "edge_crash": (
        "    if _cf_edge(args):\n        raise IndexError('list index out of range')\n"
        "    return _cf_original(*args)\n"
    ),
    "hang": (
        "    if _cf_edge(args):\n        while True:\n            pass\n    return _cf_original(*args)\n"
    ),
    "float_close": "    return _cf_scale(_cf_original(*args), 1 + 3e-8)\n",
    "float_far": "    return _cf_scale(_cf_original(*args), 1 + 1e-4)\n",
}

KINDS = ("good", "syntax", *_WRAPPERS)


def make_solution(reference: str, entry_point: str, kind: str) -> str:
    """A whole program of the given kind for a task with this reference and entry point."""
    if kind == "good":
        return reference
    if kind == "syntax":
        return reference.replace("def ", "def (", 1)
    return (
        reference
        + _HELPERS
        + f"\n_cf_original = {entry_point}\n\n\ndef {entry_point}(*args):\n"
        + _WRAPPERS[kind]
    )


REALISTIC_MIX = {
    "good": 0.62,
    "edge_bug": 0.10,
    "wrong": 0.12,
    "crash": 0.05,
    "edge_crash": 0.05,
    "syntax": 0.03,
    "hang": 0.02,
    "float_close": 0.01,
}
"""About what a strong instruct model's samples look like: most right, a tenth right only on
the base inputs, the rest wrong, crashing, not compiling or, rarely, looping."""


def realistic_samples(tasks: dict[str, tuple[str, str]], per_task: int, seed: int = 0):
    """``per_task`` samples per task drawn from :data:`REALISTIC_MIX`; ``tasks`` maps a task id
    to (reference program, entry point). Yields (task_id, kind, solution)."""
    rng = random.Random(seed)
    kinds, weights = zip(*REALISTIC_MIX.items(), strict=True)
    for task_id, (reference, entry) in tasks.items():
        for kind in rng.choices(kinds, weights, k=per_task):
            yield task_id, kind, make_solution(reference, entry, kind)
