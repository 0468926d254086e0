"""The explain package's layout: no private names across modules, no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import optimizer

ROOT = Path(optimizer.__file__).parent
MINE = [
    *sorted((ROOT / "explain").glob("*.py")),
    *sorted((ROOT / "plan").glob("*.py")),
    ROOT / "check.py",
    ROOT / "text.py",
    ROOT.parent / "models" / "plan.py",
]


def imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every ``from module import name`` in a file, function-level ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.module or "", a.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for a in node.names
    ]


@pytest.mark.parametrize("path", MINE, ids=lambda p: p.name)
def test_no_private_name_is_imported_from_another_module(path):
    """A leading underscore means "this module only": nobody imports one."""
    private = [f"{m}.{n}" for m, n in imports(path) if n.startswith("_") and m != "__future__"]
    assert private == [], private


def test_counterfactual_does_not_import_citizen():
    """citizen uses counterfactual, which builds on context alone: no cycle."""
    modules = {m for m, _ in imports(ROOT / "explain" / "counterfactual.py")}
    assert "optimizer.explain.citizen" not in modules
    assert {m for m, _ in imports(ROOT / "explain" / "context.py")} & {
        "optimizer.explain.citizen",
        "optimizer.explain.counterfactual",
    } == set()
