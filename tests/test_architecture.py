"""Dependency direction: rest_compat -> app and workers -> app, never the other way."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_app_never_imports_the_surfaces_or_workers() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & {"rest_compat", "workers"})
        for path in (ROOT / "app").rglob("*.py")
        if _imports(path) & {"rest_compat", "workers"} and "cli.py" not in path.name
    }
    assert offenders == {}


def test_rest_declarations_hold_no_handler_functions() -> None:
    for path in (ROOT / "rest_compat" / "endpoints").glob("*.py"):
        tree = ast.parse(path.read_text())
        functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        assert functions == [], f"{path.name} defines {functions}: declare endpoints as data"
