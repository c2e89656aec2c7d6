"""Tree-sitter plumbing shared by the static checks: parsing, error location, parameters.

Tree-sitter parses untrusted code without executing or even compiling it, in microseconds,
and keeps going past errors, so it can say where the first one is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Literal

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Tree

ParamKind = Literal["positional", "var_positional", "keyword_only", "var_keyword"]


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_python.language()))


def parse(source: str) -> Tree:
    return _parser().parse(source.encode("utf-8"))


def text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (included), depth-first in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def column(source_line: bytes, byte_column: int) -> int:
    """A 1-based character column from tree-sitter's 0-based byte column."""
    return len(source_line[:byte_column].decode("utf-8", errors="replace")) + 1


@dataclass(frozen=True)
class ErrorSite:
    line: int
    column: int
    message: str


def first_error(source: str, tree: Tree) -> ErrorSite | None:
    """The earliest ERROR or MISSING node, or a Python 2 ``print``/``exec`` statement."""
    if not tree.root_node.has_error and not _has_python2_statement(tree.root_node):
        return None
    lines = source.encode("utf-8").splitlines() or [b""]
    for node in walk(tree.root_node):
        if node.is_missing:
            message = f"missing {node.type!r}"
        elif node.is_error:
            snippet = text(node).strip().splitlines()
            near = snippet[0][:40] if snippet else ""
            message = f"invalid syntax near {near!r}" if near else "invalid syntax"
        elif node.type in ("print_statement", "exec_statement"):
            message = f"Python 2 {node.type.split('_')[0]} statement"
        else:
            continue
        row, byte_col = node.start_point
        line = lines[row] if row < len(lines) else b""
        return ErrorSite(line=row + 1, column=column(line, byte_col), message=message)
    return None


def _has_python2_statement(root: Node) -> bool:
    return any(node.type in ("print_statement", "exec_statement") for node in walk(root))


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    has_default: bool = False


def parameters(function: Node) -> list[Param]:
    """The parameters of a ``function_definition`` node, with their kinds."""
    params_node = function.child_by_field_name("parameters")
    if params_node is None:
        return []
    result: list[Param] = []
    kind: ParamKind = "positional"
    for child in params_node.named_children:
        node = child
        if child.type == "typed_parameter":  # `x: int`, `*args: int`, `**kw: int`
            node = child.named_children[0]
        if child.type == "keyword_separator":
            kind = "keyword_only"
        elif node.type == "list_splat_pattern":
            result.append(Param(_pattern_name(node), "var_positional"))
            kind = "keyword_only"
        elif node.type == "dictionary_splat_pattern":
            result.append(Param(_pattern_name(node), "var_keyword"))
        elif node.type == "identifier":
            result.append(Param(text(node), kind))
        elif child.type in ("default_parameter", "typed_default_parameter"):
            name = child.child_by_field_name("name")
            result.append(Param(text(name) if name else "?", kind, has_default=True))
    return result


def _pattern_name(node: Node) -> str:
    names = [text(child) for child in node.named_children if child.type == "identifier"]
    return names[0] if names else ""


def function_name(definition: Node) -> str:
    name = definition.child_by_field_name("name")
    return text(name) if name is not None else ""


def unwrap_decorated(node: Node) -> Node:
    """The class or function inside a ``decorated_definition``, else the node itself."""
    if node.type == "decorated_definition":
        inner = node.child_by_field_name("definition")
        if inner is not None:
            return inner
    return node
