"""The house rules: no import cycles, dependencies one way, every module importable on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "qa", "tui", "eval", "newsdesk")
LAYER = {"index": 0, "qa": 1, "tui": 2, "eval": 2, "newsdesk": 3}
"""``index`` <- ``qa`` <- ``tui``, ``eval`` <- ``newsdesk`` (the CLI composes them all)."""


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules ``path`` imports anywhere (functions included, ``TYPE_CHECKING`` blocks not)."""
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.add(sub if sub in modules else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in out if m in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_no_import_cycles() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_dependencies_point_one_way() -> None:
    wrong = [
        f"{a} imports {b}"
        for a, targets in _graph().items()
        for b in targets
        if LAYER[b.split(".")[0]] > LAYER[a.split(".")[0]]
        or (LAYER[b.split(".")[0]] == LAYER[a.split(".")[0]] and a.split(".")[0] != b.split(".")[0])
    ]
    assert not wrong, wrong


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    def attempt(name: str) -> tuple[str, str] | None:
        done = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=ROOT)
        return None if done.returncode == 0 else (name, done.stderr.strip().splitlines()[-1])

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(attempt, sorted(_modules())) if f is not None]
    assert not failures, failures


def _third_party_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_faiss_lives_behind_the_storage_seam() -> None:
    """Only the local vector backend imports faiss; everything else goes through index.storage."""
    users = sorted(name for name, path in _modules().items() if "faiss" in _third_party_imports(path))
    assert users == ["index.store.vectors"]


def test_consumers_read_indexes_through_the_seam() -> None:
    """qa, eval, tui and the CLI never name the local implementation's IndexData."""
    offenders = [
        name
        for name, path in _modules().items()
        if name.split(".")[0] in ("qa", "eval", "tui", "newsdesk") and "IndexData" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
