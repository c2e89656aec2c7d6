"""Mutants of a solution, made from its syntax tree.

Each mutant changes exactly one place: the node's source span is replaced by the unparsed,
mutated node (in parentheses when it is an expression), so the rest of the file, comments
included, stays byte for byte and the change reads as a one-line diff. Candidates that do not
compile, or whose syntax tree equals the original's or an earlier mutant's, are skipped.
So are those whose compiled code equals the original's (the compiler folded the change away:
*equivalent*) or an earlier mutant's (*duplicate*): trivial compiler equivalence, decided
before anything runs. They do not count towards the cap and are handed back apart
(``skipped``), so a report can say how many there were.

Selection is deterministic for a given seed and solution: candidates are grouped by operator,
each group is shuffled by a generator seeded from both, and mutants are taken round-robin
across operators up to the cap, so no single operator dominates a large function.
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
import random
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

OPERATORS = (
    "arithmetic",
    "boolean",
    "builtin_swap",
    "compare",
    "constant",
    "drop_statement",
    "negate_condition",
    "off_by_one",
    "return_value",
)
COMPARE_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
ARITHMETIC_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitOr,
}
BUILTIN_SWAPS = {"min": "max", "max": "min", "any": "all", "all": "any"}
LOGGING_CALLS = ("print", "warnings.warn")
LOGGING_PREFIXES = ("logging.", "logger.", "log.")


@dataclass(frozen=True)
class Mutant:
    """One single-place change to the solution."""

    index: int
    operator: str
    line: int
    original: str
    mutated: str
    source: str
    diff: str = ""
    equivalence_hint: str = ""

    @property
    def description(self) -> str:
        return f"line {self.line}: `{self.original}` -> `{self.mutated}` ({self.operator})"


@dataclass(frozen=True)
class _Candidate:
    """A change not yet applied: ``replacement`` is a shallow copy or a new node that shares
    the original's children (never mutated), and is only unparsed."""

    operator: str
    node: ast.AST
    replacement: ast.AST
    statement: bool = False


def generate_mutants(
    source: str, max_mutants: int = 30, seed: int = 0, skipped: list[Mutant] | None = None
) -> list[Mutant]:
    """Up to ``max_mutants`` distinct, compilable mutants of ``source``, evenly across operators.

    ``skipped``, when given, receives the mutants left out because their compiled code equals
    the original's or an earlier mutant's (``equivalence_hint`` says which).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(source)
    _annotate_parents(tree)
    groups: dict[str, list[_Candidate]] = {name: [] for name in OPERATORS}
    for candidate in _candidates(tree):
        groups[candidate.operator].append(candidate)
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    rng = random.Random(f"{seed}:{digest}")
    for name in OPERATORS:
        rng.shuffle(groups[name])
    seen = {ast.dump(tree)}
    compiled = {_fingerprint(source): "equivalent"}
    spans = _LineOffsets(source)
    mutants: list[Mutant] = []
    queues = [groups[name] for name in OPERATORS if groups[name]]
    while queues and len(mutants) < max_mutants:
        for queue in list(queues):
            if len(mutants) >= max_mutants:
                break
            mutant = None
            while queue and mutant is None:  # one valid mutant per operator per round
                mutant = _realise(queue.pop(), spans, seen, len(mutants))
                if mutant is not None:
                    mutant = _unless_same_code(mutant, compiled, skipped)
            if mutant is not None:
                mutants.append(mutant)
            if not queue:
                queues.remove(queue)
    return mutants


def _unless_same_code(
    mutant: Mutant, compiled: dict[bytes, str], skipped: list[Mutant] | None
) -> Mutant | None:
    """``mutant``, or None when its bytecode was seen (recorded in ``skipped`` as
    equivalent to the original or duplicate of an earlier mutant)."""
    fingerprint = _fingerprint(mutant.source)
    kind = compiled.get(fingerprint)
    if kind is None:
        compiled[fingerprint] = "duplicate"
        return mutant
    if skipped is not None:
        why = (
            "its compiled code is the original's"
            if kind == "equivalent"
            else "its compiled code is an earlier mutant's"
        )
        skipped.append(replace(mutant, index=-1, equivalence_hint=f"{kind}: {why}"))
    return None


def _fingerprint(source: str) -> bytes:
    """What the interpreter executes of ``source``, without positions or the file name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = compile(source, "solution.py", "exec", dont_inherit=True)
    return hashlib.sha256(repr(_code_key(code)).encode()).digest()


def _code_key(code: types.CodeType) -> tuple:
    consts = tuple(
        _code_key(const)
        if isinstance(const, types.CodeType)
        else (type(const).__name__, repr(const))
        for const in code.co_consts
    )
    return (
        code.co_code,
        consts,
        code.co_names,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_flags,
        code.co_exceptiontable,
        code.co_name,
    )


# ------------------------------------------------------------------------- candidate sites


def _candidates(tree: ast.Module) -> Iterator[_Candidate]:
    for node in ast.walk(tree):
        if _skipped(node):
            continue
        for make in _MAKERS:
            yield from make(node)


def _skipped(node: ast.AST) -> bool:
    """Nodes in annotations (no effect on behaviour) or in f-strings (whose inner positions
    Python 3.11 reports wrongly)."""
    if getattr(node, "_in_annotation", False):
        return True
    parent = getattr(node, "_parent", None)
    while parent is not None:
        if isinstance(parent, ast.JoinedStr):
            return True
        parent = getattr(parent, "_parent", None)
    return False


def _compare(node: ast.AST) -> Iterator[_Candidate]:
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            for swap in COMPARE_SWAPS.get(type(op), ()):
                mutated = copy.copy(node)
                mutated.ops = [*node.ops[:position], swap(), *node.ops[position + 1 :]]
                yield _Candidate("compare", node, mutated)


def _arithmetic(node: ast.AST) -> Iterator[_Candidate]:
    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in ARITHMETIC_SWAPS:
        mutated = copy.copy(node)
        mutated.op = ARITHMETIC_SWAPS[type(node.op)]()
        yield _Candidate("arithmetic", node, mutated, statement=isinstance(node, ast.AugAssign))
    elif (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and not isinstance(node.operand, ast.Constant)  # -1 is the constant operator's job
    ):
        yield _Candidate("arithmetic", node, node.operand)


def _boolean(node: ast.AST) -> Iterator[_Candidate]:
    if isinstance(node, ast.BoolOp):
        mutated = copy.copy(node)
        mutated.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield _Candidate("boolean", node, mutated)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield _Candidate("boolean", node, node.operand)


def _constant(node: ast.AST) -> Iterator[_Candidate]:
    if not isinstance(node, ast.Constant) or _is_docstring(node):
        return
    value = node.value
    if isinstance(value, bool):
        yield _Candidate("constant", node, ast.Constant(not value))
    elif isinstance(value, int):
        yield _Candidate("constant", node, ast.Constant(value + 1))
        yield _Candidate("constant", node, ast.Constant(value - 1))
    elif isinstance(value, str):
        yield _Candidate("constant", node, ast.Constant("" if value else "x"))


def _return_value(node: ast.AST) -> Iterator[_Candidate]:
    returns_something = isinstance(node, ast.Return) and node.value is not None
    if returns_something and not (
        isinstance(node.value, ast.Constant) and node.value.value is None
    ):
        yield _Candidate("return_value", node, ast.Return(ast.Constant(None)), statement=True)


def _drop_statement(node: ast.AST) -> Iterator[_Candidate]:
    droppable = isinstance(node, ast.AugAssign | ast.Break | ast.Continue | ast.Raise)
    if isinstance(node, ast.Expr):
        droppable = not isinstance(node.value, ast.Constant)  # keep docstrings and `...`
    elif isinstance(node, ast.Assign):
        droppable = _is_update(node)
    if droppable:
        yield _Candidate("drop_statement", node, ast.Pass(), statement=True)


def _negate_condition(node: ast.AST) -> Iterator[_Candidate]:
    tests: list[ast.expr] = []
    if isinstance(node, ast.If | ast.While | ast.IfExp):
        tests.append(node.test)
    elif isinstance(node, ast.comprehension):
        tests.extend(node.ifs)
    for test in tests:
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            yield _Candidate("negate_condition", test, test.operand)
        else:
            yield _Candidate("negate_condition", test, ast.UnaryOp(ast.Not(), test))


def _off_by_one(node: ast.AST) -> Iterator[_Candidate]:
    bounds: list[ast.expr] = []
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and 1 <= len(node.args) <= 3
        and not node.keywords
    ):
        bounds.append(node.args[0] if len(node.args) == 1 else node.args[1])
        if len(node.args) >= 2:
            bounds.append(node.args[0])
    elif isinstance(node, ast.Slice):
        bounds.extend(bound for bound in (node.lower, node.upper) if bound is not None)
    for bound in bounds:
        if isinstance(bound, ast.Constant):
            continue  # shifting a literal bound is the constant operator's job
        for op in (ast.Add(), ast.Sub()):
            shifted = ast.BinOp(bound, op, ast.Constant(1))
            yield _Candidate("off_by_one", bound, shifted)


def _builtin_swap(node: ast.AST) -> Iterator[_Candidate]:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        other = BUILTIN_SWAPS.get(node.func.id)
        if other is not None:
            yield _Candidate("builtin_swap", node.func, ast.Name(other, ast.Load()))


_MAKERS: tuple[Callable[[ast.AST], Iterator[_Candidate]], ...] = (
    _compare,
    _arithmetic,
    _boolean,
    _constant,
    _return_value,
    _drop_statement,
    _negate_condition,
    _off_by_one,
    _builtin_swap,
)


# ------------------------------------------------------------------------- building one mutant


class _LineOffsets:
    """Maps ast (line, UTF-8 byte column) positions to offsets in the encoded source."""

    def __init__(self, source: str):
        self.data = source.encode("utf-8")
        self.starts = [0]
        for index, byte in enumerate(self.data):
            if byte == 0x0A:
                self.starts.append(index + 1)

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column


def _realise(
    candidate: _Candidate, spans: _LineOffsets, seen: set[str], index: int
) -> Mutant | None:
    node = candidate.node
    if getattr(node, "end_lineno", None) is None:
        return None
    replacement = ast.unparse(candidate.replacement)
    text = f"({replacement})" if _needs_parentheses(candidate) else replacement
    start = spans.offset(node.lineno, node.col_offset)
    end = spans.offset(node.end_lineno, node.end_col_offset)
    mutated_source = (spans.data[:start] + text.encode() + spans.data[end:]).decode("utf-8")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like are the code's own
            compile(mutated_source, "solution.py", "exec", dont_inherit=True)
            dumped = ast.dump(ast.parse(mutated_source))
    except (SyntaxError, ValueError, RecursionError):
        return None
    if dumped in seen:
        return None
    seen.add(dumped)
    return Mutant(
        index=index,
        operator=candidate.operator,
        line=node.lineno,
        original=_one_line(ast.unparse(node)),
        mutated=_one_line(replacement),
        source=mutated_source,
        diff=line_diff(spans.data.decode("utf-8"), mutated_source),
        equivalence_hint=_equivalence_hint(node),
    )


def line_diff(before: str, after: str, max_lines: int = 8) -> str:
    """The changed lines as ``-``/``+`` pairs, without file headers or context."""
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
        if line[:1] in "-+" and not line.startswith(("---", "+++"))
    ]
    if len(changed) > max_lines:
        changed = [*changed[:max_lines], "..."]
    return "\n".join(line[0] + " " + line[1:].strip() for line in changed)


def _needs_parentheses(candidate: _Candidate) -> bool:
    """Whether the replacement text must be parenthesised to keep the intended precedence."""
    new = candidate.replacement
    if candidate.statement or isinstance(new, ast.Name):
        return False
    if isinstance(new, ast.Constant) and not (
        isinstance(new.value, int | float) and not isinstance(new.value, bool) and new.value < 0
    ):
        return False
    parent = getattr(candidate.node, "_parent", None)
    whole_expression = isinstance(parent, ast.If | ast.While | ast.Return | ast.Assign | ast.Expr)
    return not whole_expression or isinstance(new, ast.Tuple | ast.NamedExpr | ast.Yield)


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# ------------------------------------------------------------------------- tree helpers


def _annotate_parents(tree: ast.AST) -> None:
    for parent in ast.walk(tree):
        annotations: list[ast.AST] = []
        if isinstance(parent, ast.arg | ast.AnnAssign) and parent.annotation is not None:
            annotations.append(parent.annotation)
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef) and parent.returns:
            annotations.append(parent.returns)
        for annotation in annotations:
            for inner in ast.walk(annotation):
                inner._in_annotation = True  # type: ignore[attr-defined]
        for child in ast.iter_child_nodes(parent):
            child._parent = parent  # type: ignore[attr-defined]


def _is_docstring(node: ast.Constant) -> bool:
    expr = getattr(node, "_parent", None)
    holder = getattr(expr, "_parent", None)
    return (
        isinstance(expr, ast.Expr)
        and isinstance(holder, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and bool(holder.body)
        and holder.body[0] is expr
    )


def _is_update(node: ast.Assign) -> bool:
    """An assignment that updates state (``dp[i] = ...``, ``lo = mid + 1`` after ``lo = 0``).

    Dropping a first assignment only makes a NameError any test kills, which says nothing
    about the tests.
    """
    if all(isinstance(target, ast.Subscript | ast.Attribute) for target in node.targets):
        return True
    names = {target.id for target in node.targets if isinstance(target, ast.Name)}
    scope = getattr(node, "_parent", None)
    while scope is not None and not isinstance(
        scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
    ):
        scope = getattr(scope, "_parent", None)
    if scope is None or not names:
        return False
    for other in ast.walk(scope):
        if other is node or not isinstance(other, ast.Assign | ast.AugAssign | ast.AnnAssign):
            continue
        targets = other.targets if isinstance(other, ast.Assign) else [other.target]
        if other.lineno < node.lineno and any(
            isinstance(target, ast.Name) and target.id in names for target in targets
        ):
            return True
    return False


def _equivalence_hint(node: ast.AST) -> str:
    """Why a surviving mutant of ``node`` may be equivalent to the original, or ``""``."""
    current = node
    while current is not None:
        call = current.value if isinstance(current, ast.Expr) else current
        if isinstance(call, ast.Call) and _is_logging(call):
            return "it only changes printed or logged output"
        if isinstance(current, ast.Assert):
            return "it only changes an internal assertion of the solution"
        if isinstance(current, ast.Assign) and _never_read(current):
            return "it only changes a variable that is never read"
        if isinstance(current, ast.If) and _is_main_guard(current.test):
            return "it is in the `if __name__ == '__main__'` block, which tests never run"
        current = getattr(current, "_parent", None)
    return ""


def _is_logging(call: ast.Call) -> bool:
    called = ast.unparse(call.func)
    return called in LOGGING_CALLS or called.startswith(LOGGING_PREFIXES)


def _never_read(assign: ast.Assign) -> bool:
    names = {target.id for target in assign.targets if isinstance(target, ast.Name)}
    if not names or len(names) != len(assign.targets):
        return False
    scope = getattr(assign, "_parent", None)
    while scope is not None and not isinstance(
        scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
    ):
        scope = getattr(scope, "_parent", None)
    if scope is None or isinstance(scope, ast.Module):
        return False  # module globals may be read by anyone importing the module
    return not any(
        isinstance(other, ast.Name) and other.id in names and isinstance(other.ctx, ast.Load)
        for other in ast.walk(scope)
    )


def _is_main_guard(test: ast.expr) -> bool:
    return isinstance(test, ast.Compare) and "__name__" in ast.unparse(test)
