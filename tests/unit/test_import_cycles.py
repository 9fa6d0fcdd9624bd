"""No import circle inside a distribution, counting imports under
``TYPE_CHECKING`` too: a circle there is still two modules that need each
other, and the next engineer trips on it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = {
    "proto": "switchman.proto",
    "agent": "switchman.agent",
    "controller": "switchman.controller",
    "cli": "switchman.cli",
}


def modules(folder: str, package: str) -> dict[str, Path]:
    base = ROOT / folder / "switchman" / package.split(".")[1]
    out = {}
    for path in base.rglob("*.py"):
        if "_pb2" in path.name:
            continue
        rel = path.relative_to(base).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join([package, *parts])] = path
    return out


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``path`` imports (``from a.b import c``
    counts as a.b.c when that is a module, else a.b)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            for a in node.names:
                full = f"{base}.{a.name}"
                if full in known:
                    out.add(full)
                elif base in known:
                    out.add(base)
    out.discard(name)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def parent_packages(name: str, known: set[str]) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first; those are not
    edges of the circle we look for (a package may re-export its modules)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))} & known


@pytest.mark.parametrize("folder", sorted(DISTRIBUTIONS))
def test_no_import_circle_inside_a_distribution(folder: str) -> None:
    mods = modules(folder, DISTRIBUTIONS[folder])
    known = set(mods)
    graph = {name: imports(path, name, known) - parent_packages(name, known) for name, path in mods.items()}
    assert cycles(graph) == [], "modules that import each other (directly or around a circle)"


def test_the_check_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
