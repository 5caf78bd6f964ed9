"""The import graph: every arrow points down, and no module imports itself back.

Layers, bottom to top: ``lab`` (shared runtime) → ``encryption`` → ``ingestion`` →
``poisoning_detection`` / ``securefl`` → ``course``. A part may import the layers
below it, never above; nothing imports ``course``. Read from the source (AST), so a
lazy import inside a function counts as much as one at the top.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from lab.paths import REPO_ROOT

PACKAGES = {  # import name -> folder
    "lab": "lab",
    "encryption": "encryption",
    "ingestion": "ingestion",
    "poisoning_detection": "poisoning-detection",
    "securefl": "federated-learning/securefl",
    "course": "course",
}
ALLOWED: dict[str, set[str]] = {
    "lab": set(),
    "encryption": {"lab"},
    "ingestion": {"lab", "encryption"},
    "poisoning_detection": {"lab", "encryption", "ingestion"},
    "securefl": {"lab", "encryption", "ingestion"},
    "course": {"lab", "encryption", "ingestion", "poisoning_detection", "securefl"},
}


def _module_name(package: str, folder: Path, path: Path) -> str:
    parts = list(path.relative_to(folder).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (absolute imports only; the code uses no relative ones)."""
    modules: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        root = REPO_ROOT / folder
        for path in root.rglob("*.py"):
            modules[_module_name(package, root, path)] = path
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
        graph.setdefault(name, set())
    return graph


GRAPH = _graph()


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_a_part_imports_only_the_layers_below_it(package: str) -> None:
    upward = sorted(
        f"{src} -> {dst}"
        for src, dsts in GRAPH.items() if src.split(".")[0] == package
        for dst in dsts
        if dst.split(".")[0] != package and dst.split(".")[0] not in ALLOWED[package]
    )
    assert not upward, f"{package} imports a layer above it or beside it: {upward}"


def test_no_import_cycle_between_modules() -> None:
    """Tarjan's strongly connected components over the module graph: every component is one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_graph_is_read() -> None:
    """Guards the two tests above against passing on an empty graph."""
    assert "encryption.envelope" in GRAPH and "encryption.envelope" in GRAPH["encryption.cli"]
    assert "course.scenario.run" in GRAPH and any(d.startswith("ingestion") for d in GRAPH["course.scenario.run"])


def test_layers_cover_every_python_folder() -> None:
    """A new top-level code folder must be placed in a layer before it can import anything."""
    skip = {"tests", "data", "scripts", "node_modules", "models", "docs", "diagrams", "infra", "reports"}
    folders = {p.parent.relative_to(REPO_ROOT).parts[0] for p in REPO_ROOT.glob("*/**/*.py")
               if not p.relative_to(REPO_ROOT).parts[0].startswith(".")}
    known = {Path(f).parts[0] for f in PACKAGES.values()} | skip
    assert folders <= known, f"unlayered code folders: {sorted(folders - known)}"
