"""Solutions that must not pass: trivial stand-ins for the entry point, and an empty module.

Tests that a function returning ``None`` (or ``0``, ``""``, ``[]``) passes check nothing about
its results; a test that passes with solution.py emptied does not even need the solution.
"""

from __future__ import annotations

import ast
import warnings

TRIVIAL_RETURNS = ("None", "0", '""', "[]")
EMPTIED_MODULE = '"""The solution module, emptied: no test may pass against it."""\n'


def trivial_solutions(source: str, entry_point: str) -> dict[str, str]:
    """``{"return None": module, ...}``: the solution with the entry point's body replaced.

    Everything else in the module (imports, helpers, decorators) stays, so only the entry
    point's results change. Empty when the entry point is not a module-level function.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    function = _module_function(tree.body, entry_point)
    if function is None:
        return {}
    data = source.encode("utf-8")
    starts = [0] + [index + 1 for index, byte in enumerate(data) if byte == 0x0A]
    first, last = function.body[0], function.body[-1]
    start = starts[first.lineno - 1] + first.col_offset
    end = starts[last.end_lineno - 1] + last.end_col_offset
    return {
        f"return {value}": (data[:start] + f"return {value}".encode() + data[end:]).decode()
        for value in TRIVIAL_RETURNS
    }


def _module_function(body: list[ast.stmt], name: str) -> ast.FunctionDef | None:
    found = None
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            if statement.name == name:
                found = statement
        elif isinstance(statement, ast.If | ast.Try | ast.With):
            blocks = [statement.body, getattr(statement, "orelse", [])]
            if isinstance(statement, ast.Try):
                blocks += [handler.body for handler in statement.handlers]
                blocks.append(statement.finalbody)
            for block in blocks:
                found = _module_function(block, name) or found
    return found if isinstance(found, ast.FunctionDef) else None
