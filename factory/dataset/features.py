"""Hugging Face ``Features`` derived from the pydantic record, so the schema has one source.

Every split gets the same explicit schema (an empty ``failures`` split included), and a field
added to :class:`factory.records.ProblemRecord` (say a new quality metric) appears in the
exported dataset with no change here.
"""

from __future__ import annotations

import types
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from datasets import Features, List, Value
from pydantic import BaseModel

_SCALARS = {bool: "bool", str: "string", int: "int64", float: "float64"}  # bool before int


def features_for(model: type[BaseModel]) -> Features:
    return Features(_struct(model))


def _struct(model: type[BaseModel]) -> dict[str, Any]:
    return {name: _feature(field.annotation) for name, field in model.model_fields.items()}


def _feature(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unions other than Optional[X] have no Arrow type: {annotation}")
        return _feature(inner[0])
    if origin is Literal:
        values = get_args(annotation)
        kinds = {type(value) for value in values}
        if len(kinds) != 1 or kinds.pop() not in _SCALARS:
            raise TypeError(f"Literal values must share one scalar type: {annotation}")
        return Value(_SCALARS[type(values[0])])
    if origin in (list, tuple):
        args = [arg for arg in get_args(annotation) if arg is not Ellipsis]
        if len(set(args)) != 1:
            raise TypeError(f"only homogeneous lists have an Arrow type: {annotation}")
        return List(_feature(args[0]))
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return _struct(annotation)
        if issubclass(annotation, Enum):
            return Value("string")
        for python_type, arrow_type in _SCALARS.items():
            if issubclass(annotation, python_type):
                return Value(arrow_type)
    raise TypeError(f"no Arrow type for {annotation!r}: use scalars, lists and sub-models")
