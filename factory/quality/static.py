"""Static checks that run before any sandbox time is spent.

``check_static`` parses the solution and the tests with tree-sitter, rejects syntax errors with
their line and column, checks that the entry point is defined at module level with the
parameters the problem declares, and records simple features from the tree-sitter tree.
Whether the code is valid Python is decided by ``compile()`` (bytecode is built, nothing runs),
because the sandbox runs the same CPython version and tree-sitter's grammar is more lenient
(it accepts Python 2 ``print`` statements and ``return`` outside a function).
"""

from __future__ import annotations

import warnings

from tree_sitter import Node, Tree

from factory.quality import tree as ts
from factory.quality.features import code_features, suite_features
from factory.quality.report import Side, StaticIssue, StaticReport, SyntaxProblem

MAX_SOURCE_CHARS = 200_000
COMPOUND_BLOCKS = frozenset(
    {"if_statement", "elif_clause", "else_clause", "try_statement", "except_clause",
     "finally_clause", "with_statement", "block"}
)  # fmt: skip


BINDING_STATEMENTS = frozenset(
    {"expression_statement", "import_statement", "import_from_statement"}
)


def check_static(solution: str, tests: str, entry_point: str, signature: str = "") -> StaticReport:
    """Checks a candidate without running it; fast (no sandbox, no subprocess)."""
    issues: list[StaticIssue] = []
    syntax: list[SyntaxProblem] = []
    report = StaticReport(passed=False)
    trees: dict[Side, Tree] = {}
    for side, source in (("solution", solution), ("tests", tests)):
        if len(source) > MAX_SOURCE_CHARS:
            issues.append(
                StaticIssue(
                    target=side,
                    check="size",
                    message=f"the {side} is {len(source)} characters long; "
                    f"keep it under {MAX_SOURCE_CHARS}",
                )
            )
            continue
        tree = ts.parse(source)
        problem = _syntax_problem(side, source, tree)
        if problem is not None:
            syntax.append(problem)
            issues.append(StaticIssue(target=side, check="syntax", message=str(problem)))
            continue
        trees[side] = tree

    if "solution" in trees:
        report.solution = code_features(solution, trees["solution"])
        issues += _check_entry_point(report, trees["solution"], entry_point, signature)
    if "tests" in trees:
        report.tests = suite_features(tests, trees["tests"], entry_point)
        if not report.tests.references_entry_point:
            issues.append(
                StaticIssue(
                    target="tests",
                    check="tests_use_entry_point",
                    message=f"the tests never mention {entry_point!r}: import it with "
                    f"`from solution import {entry_point}` and call it",
                )
            )
    report.issues = issues
    report.syntax_errors = syntax
    report.passed = not issues
    return report


def _syntax_problem(side: Side, source: str, tree: Tree) -> SyntaxProblem | None:
    """CPython decides (the sandbox runs the same version); tree-sitter locates what it cannot."""
    site = ts.first_error(source, tree)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like are the code's own
            compile(source, f"{side}.py", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return SyntaxProblem(
            file=side,
            line=exc.lineno or (site.line if site else 1),
            column=exc.offset or (site.column if site else 1),
            message=exc.msg or (site.message if site else "invalid syntax"),
        )
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        line, col = (site.line, site.column) if site else (1, 1)
        return SyntaxProblem(
            file=side, line=line, column=col, message=f"{type(exc).__name__}: {exc}"
        )
    return None


def _check_entry_point(
    report: StaticReport, tree: Tree, entry_point: str, signature: str
) -> list[StaticIssue]:
    binding = _module_binding(tree.root_node, entry_point)
    if binding is None:
        return [
            StaticIssue(
                target="solution",
                check="entry_point",
                message=f"the solution does not define {entry_point!r} at module level: "
                f"define `def {entry_point}(...)` at the top level of the module",
            )
        ]
    report.entry_point_found = True
    if binding.type == "class_definition":
        report.notes.append(f"{entry_point!r} is a class; its parameters were not checked")
        return []
    if binding.type != "function_definition":
        report.notes.append(
            f"{entry_point!r} is bound by assignment or import; parameters unchecked"
        )
        return []
    actual = ts.parameters(binding)
    report.parameters = [param.name for param in actual]
    declared = declared_parameters(signature)
    if declared is None:
        if signature.strip():
            report.notes.append(f"the declared signature {signature!r} could not be parsed")
        return []
    report.declared_parameters = [param.name for param in declared]
    problem = compare_parameters(actual, declared)
    if problem is None:
        return []
    return [
        StaticIssue(
            target="solution",
            check="parameters",
            message=f"{entry_point}({_show(actual)}) does not match the declared signature "
            f"`{signature.strip()}`: {problem}",
        )
    ]


def _module_binding(root: Node, name: str) -> Node | None:
    """The last module-level definition, assignment or import binding ``name``.

    Looks inside module-level ``if``/``try``/``with`` blocks (conditional definitions), not
    inside functions or classes.
    """
    found = None
    for child in root.children:
        node = ts.unwrap_decorated(child)
        if node.type in ("function_definition", "class_definition"):
            if ts.function_name(node) == name:
                found = node
        elif node.type in COMPOUND_BLOCKS:
            inner = _module_binding(node, name)
            found = inner or found
        elif node.type in BINDING_STATEMENTS and _binds(node, name):
            found = node
    return found


def _binds(statement: Node, name: str) -> bool:
    """Whether a module-level assignment or import statement binds ``name``."""
    if statement.type == "expression_statement":
        return any(
            node.type == "assignment"
            and (left := node.child_by_field_name("left")) is not None
            and ts.text(left) == name
            for node in statement.named_children
        )
    module = statement.child_by_field_name("module_name")
    for child in statement.named_children:
        if child == module:
            continue
        if child.type == "aliased_import":
            alias = child.child_by_field_name("alias")
            bound = ts.text(alias) if alias is not None else ""
        elif statement.type == "import_statement":
            bound = ts.text(child).split(".")[0]
        else:
            bound = ts.text(child).split(".")[-1]
        if bound == name:
            return True
    return False


def declared_parameters(signature: str) -> list[ts.Param] | None:
    """The parameters of a signature such as ``def f(xs: list[int], k: int) -> int``.

    Also accepts the header without ``def``, with or without its colon, or followed by a
    docstring or body; None when no function definition can be read from it.
    """
    text = signature.strip()
    if not text:
        return None
    if not text.startswith(("def ", "async def ", "@")):
        text = "def " + text
    header = text.rstrip(":").rstrip()
    for candidate in (header + ":\n    pass\n", text + "\n", text + "\n    pass\n"):
        tree = ts.parse(candidate)
        if tree.root_node.has_error:
            continue
        for node in tree.root_node.named_children:
            definition = ts.unwrap_decorated(node)
            if definition.type == "function_definition":
                return ts.parameters(definition)
    return None


def compare_parameters(actual: list[ts.Param], declared: list[ts.Param]) -> str | None:
    """Why ``actual`` cannot be called the way ``declared`` promises, or None if it can.

    Declared parameters must appear with the same names, kinds and order; the implementation
    may add parameters only if they have defaults (or are ``*args``/``**kwargs``).
    """
    by_name = {param.name: param for param in actual}
    for position, param in enumerate(declared):
        if param.kind in ("var_positional", "var_keyword"):
            if not any(other.kind == param.kind for other in actual):
                star = "*" if param.kind == "var_positional" else "**"
                return f"it lacks {star}{param.name}"
            continue
        if param.name not in by_name:
            return f"parameter {param.name!r} is missing"
        if by_name[param.name].kind != param.kind:
            return f"parameter {param.name!r} is {by_name[param.name].kind}, declared {param.kind}"
        if param.kind == "positional":
            positional = [p.name for p in actual if p.kind == "positional"]
            if positional.index(param.name) != position:
                return f"parameter {param.name!r} is not in position {position + 1}"
    declared_names = {param.name for param in declared}
    for param in actual:
        if param.name in declared_names or param.kind in ("var_positional", "var_keyword"):
            continue
        if not param.has_default:
            return f"extra parameter {param.name!r} has no default"
    return None


def _show(params: list[ts.Param]) -> str:
    prefix = {"var_positional": "*", "var_keyword": "**"}
    return ", ".join(prefix.get(param.kind, "") + param.name for param in params)
