"""The layout holds: layers import downwards only, no cycles, no private names across modules.

The import graph of ``models`` and ``optimizer`` is read from the source (every
``import`` statement, those inside functions included) and checked with networkx.
Every declared runtime dependency must be imported by the package (a declared
dependency nobody imports is a defect).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "optimizer")

#: Layers from the bottom up: a module may import its own layer and those below it.
#: ``optimizer.check`` is the independent checker: it may import ``models`` only.
LAYERS = [
    ("models",),
    ("optimizer.text", "optimizer.lang"),
    ("optimizer.engine",),
    ("optimizer.plan",),
    ("optimizer.check",),
    ("optimizer.explain",),
    ("optimizer.report",),
    ("optimizer.rounds",),
    ("optimizer.sim",),
    ("optimizer.scenario",),
    ("optimizer.serve",),  # the web app: over rounds, explain and report; the CLI starts it
    ("optimizer.cli",),
    ("optimizer",),  # the package's public surface (optimizer/__init__.py)
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (a module, or the module defining the name)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(mod: str, path: Path, known: dict[str, Path]):
    """Yield ``(target module, imported name or None)`` for each project import in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (target := resolve(alias.name, known)) is not None:
                    yield target, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in known:  # a submodule
                    yield full, None
                elif (target := resolve(base, known)) is not None:
                    yield target, alias.name


def graph() -> nx.DiGraph:
    known = modules()
    g = nx.DiGraph()
    g.add_nodes_from(known)
    for mod, path in known.items():
        for target, name in imports(mod, path, known):
            if target != mod:
                g.add_edge(mod, target)
                g.edges[mod, target].setdefault("names", set()).add(name)
    return g


def layer(mod: str) -> int:
    best = -1, 0
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (mod == prefix or mod.startswith(prefix + ".")) and len(prefix) > best[1]:
                best = i, len(prefix)
    assert best[0] >= 0, f"{mod} belongs to no layer: add it to LAYERS"
    return best[0]


def test_no_import_cycle():
    """No module imports itself through others (lazy imports inside functions count too)."""
    cycles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(graph()))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_layers_import_downwards():
    """Each layer imports only its own layer and those below (models never imports optimizer)."""
    wrong = [
        f"{a} imports {b}"
        for a, b in graph().edges
        if layer(b) > layer(a) and not (a == "optimizer" or a.startswith("optimizer.__"))
    ]
    assert not wrong, "\n".join(sorted(wrong))


def test_checker_is_independent():
    """The checker is a second opinion: it imports nothing of the solver, only ``models``."""
    g = graph()
    outside = sorted(b for b in g.successors("optimizer.check") if not b.startswith("models"))
    assert not outside, f"optimizer.check imports {outside}"


def test_no_private_name_across_modules():
    """A name with a leading underscore is private to its module (and its package's __init__)."""
    g = graph()
    leaks = sorted(
        f"{a} imports {name} from {b}"
        for a, b, data in g.edges(data=True)
        for name in data.get("names", ())
        if name and name.startswith("_") and not name.startswith("__")
    )
    assert not leaks, "\n".join(leaks)


def test_every_layer_is_a_folder():
    """Each layer of ``optimizer`` is a package (a folder), so its room shows in the tree."""
    for prefixes in LAYERS[2:-1]:
        for prefix in prefixes:
            path = ROOT / prefix.replace(".", "/")
            if prefix in ("optimizer.check", "optimizer.serve") or not (path.parent / path.name).exists():
                continue
            assert (path / "__init__.py").is_file(), f"{prefix} should be a package"


#: Distribution name → import name, where they differ.
IMPORT_NAME = {"psycopg[binary]": "psycopg", "pyyaml": "yaml", "dask[distributed]": "dask"}


def declared_dependencies() -> list[str]:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = []
    for spec in project["dependencies"]:
        name = spec.split(";")[0].strip()
        for sep in "<>=!~ ":
            name = name.split(sep)[0]
        names.append(IMPORT_NAME.get(name.lower(), name.lower().replace("-", "_")))
    return names


def imported_top_levels() -> set[str]:
    found = set()
    for path in modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_every_declared_dependency_is_used():
    """Each runtime dependency in pyproject.toml is imported by the package itself.

    psycopg is the exception that proves the rule: SQLAlchemy loads it as the driver
    of ``postgresql://`` ledger URLs, which the next test pins.
    """
    unused = sorted(set(declared_dependencies()) - imported_top_levels() - {"psycopg"})
    assert not unused, f"declared but never imported: {unused}"


def test_postgresql_urls_use_psycopg():
    """``--db postgresql://…`` needs a driver: the declared psycopg is SQLAlchemy's default."""
    from sqlalchemy.engine import make_url

    assert make_url("postgresql://u@localhost/db").get_dialect().driver == "psycopg"


def test_import_graph_sees_lazy_imports():
    """The graph is not blind: it sees a lazy import inside a function (the CLI's solver imports)."""
    g = graph()
    cli = [m for m in g if m.startswith("optimizer.cli")]
    assert any(g.has_edge(m, "optimizer.engine.solve") for m in cli), "CLI modules reach the solver lazily"
    assert sys.modules.get("networkx") is not None
