"""Simple per-row features read from the syntax tree: size, cyclomatic complexity, imports,
and how many tests and assertions a test file holds.

Cyclomatic complexity here is McCabe's count, one per function (nested functions and methods
counted on their own): 1, plus one for every ``if``/``elif``, ``for``/``while`` loop, ``except``
clause, conditional expression, comprehension ``for`` and ``if`` clause, ``match`` case, and
boolean operator (``a and b or c`` adds two).
"""

from __future__ import annotations

from tree_sitter import Node, Tree

from factory.quality import tree as ts
from factory.quality.report import CodeFeatures, FunctionComplexity, SuiteFeatures

DECISION_NODES = frozenset(
    {
        "if_statement",
        "elif_clause",
        "for_statement",
        "while_statement",
        "except_clause",
        "except_group_clause",
        "conditional_expression",
        "for_in_clause",
        "if_clause",
        "boolean_operator",
        "case_clause",
    }
)
SCOPE_NODES = frozenset({"function_definition", "class_definition"})
ASSERTION_CALLS = frozenset({"pytest.raises", "raises", "pytest.warns"})


def lines_of_code(source: str) -> int:
    return sum(
        1 for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )


def imports(tree: Tree) -> list[str]:
    found: set[str] = set()
    for node in ts.walk(tree.root_node):
        if node.type == "import_statement":
            for child in node.named_children:
                target = (
                    child.child_by_field_name("name") if child.type == "aliased_import" else child
                )
                if target is not None:
                    found.add(ts.text(target))
        elif node.type == "import_from_statement":
            module = node.child_by_field_name("module_name")
            if module is not None:
                found.add(ts.text(module))
    return sorted(found)


def code_features(source: str, tree: Tree) -> CodeFeatures:
    functions = [
        FunctionComplexity(name=name, line=node.start_point[0] + 1, complexity=complexity(node))
        for name, node in _functions(tree.root_node, prefix="")
    ]
    values = [function.complexity for function in functions]
    return CodeFeatures(
        lines_of_code=lines_of_code(source),
        imports=imports(tree),
        functions=functions,
        max_complexity=max(values, default=0),
        total_complexity=sum(values),
    )


def complexity(function: Node) -> int:
    """McCabe complexity of one function, not counting functions or classes nested in it."""
    count = 1
    stack = list(function.children)
    while stack:
        node = stack.pop()
        if node.type in SCOPE_NODES:
            continue
        if node.type in DECISION_NODES:
            count += 1
        stack.extend(node.children)
    return count


def _functions(node: Node, prefix: str):
    for child in node.children:
        inner = ts.unwrap_decorated(child)
        if inner.type in SCOPE_NODES:
            name = prefix + ts.function_name(inner)
            if inner.type == "function_definition":
                yield name, inner
            body = inner.child_by_field_name("body")
            if body is not None:
                yield from _functions(body, name + ".")
        else:
            yield from _functions(child, prefix)


def suite_features(source: str, tree: Tree, entry_point: str) -> SuiteFeatures:
    names = _test_function_names(tree.root_node)
    return SuiteFeatures(
        lines_of_code=lines_of_code(source),
        imports=imports(tree),
        test_functions=names,
        n_test_functions=len(names),
        n_asserts=count_assertions(tree),
        references_entry_point=any(
            node.type == "identifier" and ts.text(node) == entry_point
            for node in ts.walk(tree.root_node)
        ),
    )


def _test_function_names(root: Node) -> list[str]:
    """Functions pytest collects by default: ``test*`` at module level or in ``Test*`` classes."""
    names = []
    for child in root.children:
        definition = ts.unwrap_decorated(child)
        name = ts.function_name(definition)
        if definition.type == "function_definition" and name.startswith("test"):
            names.append(name)
        elif definition.type == "class_definition" and name.startswith("Test"):
            body = definition.child_by_field_name("body")
            for member in body.children if body is not None else []:
                method = ts.unwrap_decorated(member)
                method_name = ts.function_name(method)
                if method.type == "function_definition" and method_name.startswith("test"):
                    names.append(f"{name}.{method_name}")
    return names


def count_assertions(tree: Tree) -> int:
    count = 0
    for node in ts.walk(tree.root_node):
        if node.type == "assert_statement":
            count += 1
        elif node.type == "call":
            function = node.child_by_field_name("function")
            called = ts.text(function) if function is not None else ""
            if called in ASSERTION_CALLS or called.startswith("self.assert"):
                count += 1
    return count
