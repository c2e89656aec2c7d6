"""MBPP+ inputs as its functions take them: the release stores JSON, some tasks want tuples.

MBPP+ keeps every input as JSON, so tuples, sets and complex numbers arrive as lists and
strings. EvalPlus turns them back task by task before running anything (``mbpp_deserialize_
inputs`` in its ``data/mbpp.py``); the table below applies the same conversions to the same
tasks, and is the only place those per-task rules live. HumanEval+ inputs are used as stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Args = list[Any]


def _each_arg_tuple(args: Args) -> Args:
    return [tuple(arg) for arg in args]


def _each_arg_list_of_tuples(args: Args) -> Args:
    return [[tuple(item) for item in arg] for arg in args]


def _first_list_of_tuples(args: Args) -> Args:
    return [[tuple(item) for item in args[0]], args[1]]


def _second_tuple(args: Args) -> Args:
    return [args[0], tuple(args[1])]


def _first_list_of_sets(args: Args) -> Args:
    # An empty list becomes an empty dict, exactly as EvalPlus builds it (``{}``).
    return [[set(item) if isinstance(item, list) and item else {} for item in args[0]]]


def _float_and_complex(args: Args) -> Args:
    return (float(args[0]), complex(args[1]))  # a tuple of arguments, as EvalPlus makes it


def _first_tuple(args: Args) -> Args:
    return [tuple(args[0]), *args[1:]]


def _each_arg_tuple_of_tuples(args: Args) -> Args:
    return [tuple(tuple(item) for item in arg) for arg in args]


def _first_tuple_of_items(args: Args) -> Args:
    items = [tuple(item) if isinstance(item, list) else item for item in args[0]]
    return [tuple(items)]


def _dict_values_tuples(args: Args) -> Args:
    return [{key: tuple(value) for key, value in args[0].items()}, *args[1:]]


def _complex_arg(args: Args) -> Args:
    return [complex(args[0])]


def _all_lists_tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_all_lists_tuples(item) for item in value)
    return value


RULES: dict[Callable[[Args], Any], tuple[int, ...]] = {
    _each_arg_tuple: (
        *(2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596),
        *(616, 630, 726, 740, 744, 809),
    ),
    _each_arg_list_of_tuples: (
        *(63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780),
    ),
    _first_list_of_tuples: (75, 413, 444, 753),
    _second_tuple: (106, 750),
    _first_list_of_sets: (115,),
    _float_and_complex: (124,),
    _first_tuple: (250, 405, 446, 617, 720, 763, 808, 307),
    _each_arg_tuple_of_tuples: (259, 401, 445),
    _first_tuple_of_items: (278,),
    _dict_values_tuples: (722,),
    _complex_arg: (252,),
    _all_lists_tuples: (580, 615, 791),
}
"""Which MBPP+ task numbers take which conversion of their stored arguments."""

_BY_TASK = {number: rule for rule, numbers in RULES.items() for number in numbers}


def mbpp_plus_inputs(task_number: int, inputs: list[Args]) -> list[Any]:
    """The arguments MBPP+ task ``task_number`` is called with, from its stored inputs."""
    rule = _BY_TASK.get(task_number)
    return inputs if rule is None else [rule(args) for args in inputs]
