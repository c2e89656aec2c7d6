"""Every import points down the declared layers, no module imports itself through others, and
the dataset row imports without tree-sitter (a reader of the dataset needs only pydantic)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Bottom first: a package may import only from the packages before it (and from itself).
LAYERS = [
    "factory.errors",
    "factory.atomic",
    "factory.out_dir",
    "problems",
    "factory.quality",
    "factory.records",
    "factory.run_fingerprint",
    "factory.prompts",
    "factory.llm",
    "factory.evaluate",
    "factory.stages",
    "factory.hygiene",
    "factory.dataset",
    "factory.grounding",
    "factory.pipeline",
    "factory.training",
    "factory.publish",
    "factory.cli",
]
OURS = ("factory", "problems", "sandbox")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module of ours that ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name.split(".")[0] in OURS)
    return found


def _graph(*packages: str) -> dict[str, set[str]]:
    paths = [path for package in packages for path in (REPO / package).rglob("*.py")]
    modules = {_module_name(path): path for path in paths}
    graph = {}
    for name, path in modules.items():
        # ``from a.b import c`` names module a.b.c when there is one, else a name in a.b
        graph[name] = {target for target in _imports(path) if target in modules} - {name}
    return graph


def _layer(module: str) -> int | None:
    for index, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return index
    return None


def test_every_package_of_factory_has_a_layer():
    graph = _graph("factory", "problems")
    assert [name for name in graph if name != "factory" and _layer(name) is None] == []


def test_no_import_climbs_a_layer():
    climbs = [
        f"{source} -> {target}"
        for source, targets in _graph("factory", "problems").items()
        for target in targets
        if _layer(target) is not None and _layer(source) is not None
        if _layer(target) > _layer(source)
    ]
    assert climbs == []


def test_sandbox_never_imports_factory():
    graph = _graph("sandbox", "factory", "problems")
    outward = [
        f"{source} -> {target}"
        for source, targets in graph.items()
        if source.startswith("sandbox")
        for target in targets
        if not target.startswith("sandbox")
    ]
    assert outward == []


def test_no_import_cycle_between_modules():
    graph = _graph("factory", "problems", "sandbox")
    # a package imports its own modules to re-export them: that edge is not a dependency back
    edges = {
        source: {target for target in targets if not target.startswith(source + ".")}
        for source, targets in graph.items()
    }
    state: dict[str, int] = defaultdict(int)  # 0 unseen, 1 on the stack, 2 done
    cycles = []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state[target] == 1:
                cycles.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif state[target] == 0:
                visit(target, [*stack, target])
        state[module] = 2

    for module in sorted(edges):
        if state[module] == 0:
            visit(module, [module])
    assert cycles == []


def test_the_dataset_row_imports_without_tree_sitter():
    script = textwrap.dedent(
        """
        import sys

        class NoTreeSitter:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tree_sitter", "tree_sitter_python"):
                    raise ImportError(f"{name} is blocked")
                return None

        sys.meta_path.insert(0, NoTreeSitter())
        import factory.records
        import factory.dataset.features
        from factory.quality import QualityReport

        assert "tree_sitter" not in sys.modules
        factory.dataset.features.features_for(factory.records.ProblemRecord)
        print(factory.records.ProblemRecord.__name__, QualityReport.__name__)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ProblemRecord", "QualityReport"]


def test_no_test_module_imports_another():
    """Shared test code lives in ``tests/support`` (or a package's helpers), so running one test
    file never runs another's module-level code, and each file can move on its own."""
    offenders = []
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_"):
                    offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert offenders == []
