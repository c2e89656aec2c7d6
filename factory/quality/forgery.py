"""The forgery gate: code that uses what only forging a verdict needs, found before any run.

In generation both sides are untrusted (the LLM wrote the solution and the tests), so pytest
mode runs them in one process, where a sample could forge the report it is judged by. A few
tools have no use in a self-contained solution or its unit tests but every use in forging:
tracing or profiling hooks (``sys.settrace``, ``sys.setprofile``), rewiring inherited file
descriptors (``os.dup2``, ``os.write`` to a descriptor number above 2), ``ctypes``, searching
the heap or walking frames (``gc.get_objects``, ``sys._getframe``, ``inspect.currentframe``,
``f_back``/``f_globals``), reassigning builtins, and reading ``solution.py`` or
``test_solution.py`` as text. A candidate that uses any of them is sent back with the reason,
without sandbox time. The check reads tree-sitter's tree (nothing runs) and follows import
aliases (``import sys as s; s.settrace``, ``from os import dup2``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from factory.quality import tree as ts

NAMES = {
    "sys.settrace": "sets a tracing hook (sys.settrace)",
    "sys.setprofile": "sets a profiling hook (sys.setprofile)",
    "sys.monitoring": "uses the interpreter's monitoring hooks (sys.monitoring)",
    "threading.settrace": "sets a tracing hook (threading.settrace)",
    "threading.setprofile": "sets a profiling hook (threading.setprofile)",
    "threading.settrace_all_threads": "sets a tracing hook (threading.settrace_all_threads)",
    "threading.setprofile_all_threads": "sets a profiling hook (threading.setprofile_all_threads)",
    "os.dup2": "rewires file descriptors (os.dup2)",
    "gc.get_objects": "searches the heap (gc.get_objects)",
    "gc.get_referrers": "searches the heap (gc.get_referrers)",
    "gc.get_referents": "searches the heap (gc.get_referents)",
    "sys._getframe": "walks the call stack (sys._getframe)",
    "sys._current_frames": "walks the call stack (sys._current_frames)",
    "inspect.currentframe": "walks the call stack (inspect.currentframe)",
    "inspect.stack": "walks the call stack (inspect.stack)",
    "inspect.trace": "walks the call stack (inspect.trace)",
    "inspect.getouterframes": "walks the call stack (inspect.getouterframes)",
    "inspect.getsource": "reads source code as text (inspect.getsource)",
    "inspect.getsourcelines": "reads source code as text (inspect.getsourcelines)",
    "linecache.getline": "reads source code as text (linecache.getline)",
    "linecache.getlines": "reads source code as text (linecache.getlines)",
}
MODULES = {"ctypes": "loads ctypes", "_ctypes": "loads ctypes"}
FRAME_ATTRIBUTES = {
    "f_back", "f_globals", "f_locals", "f_builtins", "tb_frame", "gi_frame", "cr_frame", "ag_frame"
}  # fmt: skip
RAW_FD_CALLS = {"os.write", "os.fdopen", "os.dup", "open", "io.open", "os.fstat", "os.lseek"}
DICT_MUTATORS = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"}
SOURCE_FILE = re.compile(r"(^|[/\\])(test_)?solution\.py$")
BUILTINS = ("builtins", "__builtins__")


@dataclass(frozen=True)
class Finding:
    """One use of a forgery tool: which check, where, and a message for the repair."""

    check: str
    line: int
    message: str


def find_forgery(source: str) -> list[Finding]:
    """Every use, in ``source``, of what only forging a verdict needs (see the module)."""
    root = ts.parse(source).root_node
    aliases = _aliases(root)
    findings: list[Finding] = []

    def found(node: Node, check: str, what: str) -> None:
        findings.append(Finding(check, node.start_point[0] + 1, what))

    for node in ts.walk(root):
        kind = node.type
        if kind in ("import_statement", "import_from_statement"):
            for module in _imported_modules(node):
                if module.split(".")[0] in MODULES:
                    found(node, "ctypes", MODULES[module.split(".")[0]])
        elif kind == "string":
            content = ts.text(node).strip("'\"bBrRuUfF")
            if content in MODULES:
                found(node, "ctypes", MODULES[content])
            elif SOURCE_FILE.search(content):
                found(node, "reads_source", f"names {content!r}: reads the code under test as text")
        elif kind == "attribute":
            name = _qualified(node, aliases)
            attribute = ts.text(node.child_by_field_name("attribute"))
            if name in NAMES or any(name.startswith(key + ".") for key in NAMES):
                key = name if name in NAMES else next(k for k in NAMES if name.startswith(k + "."))
                found(node, _check_of(key), NAMES[key])
            elif attribute in FRAME_ATTRIBUTES:
                found(node, "frames", f"walks interpreter frames (.{attribute})")
            elif attribute == "__file__" and node.parent is not None:
                found(node, "reads_source", "reads a module's file (.__file__)")
        elif kind == "identifier" and node.parent is not None and node.parent.type != "attribute":
            name = aliases.get(ts.text(node))
            if name in NAMES and not _is_import_part(node):
                found(node, _check_of(name), NAMES[name])
        elif kind in ("assignment", "augmented_assignment", "delete_statement"):
            for target in _targets(node):
                if _qualified(target, aliases).split(".")[0] in BUILTINS or (
                    target.type == "subscript"
                    and _qualified(target.child_by_field_name("value"), aliases).split(".")[0]
                    in BUILTINS
                ):
                    found(node, "builtins", "reassigns a builtin")
        elif kind == "call":
            _check_call(node, aliases, found)
    return _deduplicated(findings)


def _check_call(node: Node, aliases: dict[str, str], found) -> None:
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    if function is None or arguments is None:
        return
    name = _qualified(function, aliases)
    args = [child for child in arguments.named_children if child.type != "comment"]
    first = args[0] if args else None
    if name in ("setattr", "delattr") and first is not None:
        if _qualified(first, aliases).split(".")[0] in BUILTINS:
            found(node, "builtins", f"reassigns a builtin ({name} on builtins)")
    elif name in RAW_FD_CALLS and first is not None and first.type == "integer":
        try:
            number = int(ts.text(first), 0)
        except ValueError:
            return
        if number > 2:
            found(node, "descriptors", f"uses inherited file descriptor {number} ({name})")
    elif name in ("open", "io.open", "pathlib.Path", "Path") and ts.text(first) == "__file__":
        found(node, "reads_source", f"reads its own file as text ({name}(__file__))")
    head, _, method = name.rpartition(".")
    if method in DICT_MUTATORS and head.split(".")[0] in BUILTINS and "__dict__" in head:
        found(node, "builtins", "reassigns a builtin (through builtins.__dict__)")


def _check_of(name: str) -> str:
    if "trace" in name or "profile" in name or "monitoring" in name:
        return "tracing"
    if name.startswith("os."):
        return "descriptors"
    if name.startswith("gc."):
        return "heap"
    if "getsource" in name or "linecache" in name:
        return "reads_source"
    return "frames"


def _aliases(root: Node) -> dict[str, str]:
    """Local name -> what it refers to, from every import (``import sys as s``: s -> sys)."""
    aliases: dict[str, str] = {}
    for node in ts.walk(root):
        if node.type == "import_statement":
            for child in node.named_children:
                if child.type == "aliased_import":
                    module = ts.text(child.child_by_field_name("name"))
                    aliases[ts.text(child.child_by_field_name("alias"))] = module
                elif child.type == "dotted_name":
                    aliases[ts.text(child).split(".")[0]] = ts.text(child).split(".")[0]
        elif node.type == "import_from_statement":
            module_node = node.child_by_field_name("module_name")
            module = ts.text(module_node) if module_node is not None else ""
            for child in node.named_children:
                if child == module_node:
                    continue
                if child.type == "aliased_import":
                    name = ts.text(child.child_by_field_name("name"))
                    aliases[ts.text(child.child_by_field_name("alias"))] = f"{module}.{name}"
                elif child.type == "dotted_name":
                    aliases[ts.text(child)] = f"{module}.{ts.text(child)}"
    return aliases


def _imported_modules(node: Node) -> list[str]:
    if node.type == "import_from_statement":
        module = node.child_by_field_name("module_name")
        return [ts.text(module)] if module is not None else []
    modules = []
    for child in node.named_children:
        target = child.child_by_field_name("name") if child.type == "aliased_import" else child
        if target is not None:
            modules.append(ts.text(target))
    return modules


def _qualified(node: Node | None, aliases: dict[str, str]) -> str:
    """``a.b.c`` for an attribute chain, its head resolved through the imports."""
    if node is None:
        return ""
    if node.type == "identifier":
        name = ts.text(node)
        return aliases.get(name, name)
    if node.type == "attribute":
        head = _qualified(node.child_by_field_name("object"), aliases)
        return f"{head}.{ts.text(node.child_by_field_name('attribute'))}" if head else ""
    return ""


def _targets(node: Node) -> list[Node]:
    if node.type == "delete_statement":
        return list(node.named_children)
    left = node.child_by_field_name("left")
    if left is None:
        return []
    if left.type in ("pattern_list", "tuple_pattern", "list_pattern"):
        return list(left.named_children)
    return [left]


def _is_import_part(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("import_statement", "import_from_statement"):
            return True
        parent = parent.parent
    return False


def _deduplicated(findings: list[Finding]) -> list[Finding]:
    seen, kept = set(), []
    for finding in findings:
        key = (finding.check, finding.line)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept
