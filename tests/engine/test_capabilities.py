"""Backends declare their capabilities; column generation runs only where they allow it.

Also the shape of the backend package: the registry imports backend modules lazily,
and backend modules import the interface from ``base``, never from the registry.
"""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import models
from optimizer.engine import solve as solve_mod
from optimizer.engine.backends import BACKENDS, capabilities, open_column_session, open_session
from optimizer.engine.backends.base import Capabilities, ColumnSession
from optimizer.engine.data import ProblemData
from optimizer.engine.model import build
from optimizer.engine.pairs import eligible_pairs
from optimizer.engine.status import Status
from optimizer.sim.generate import generate

from conftest import solved

BACKEND_DIR = Path(solve_mod.__file__).parent / "backends"


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_declares_its_capabilities(name):
    """Each backend's session class declares its own frozen ``CAPABILITIES``; the registry reports them."""
    data = ProblemData.build(models.from_dict(generate("tiny", seed=0)))
    session = open_session(name, build(data, eligible_pairs(data)))
    declared = type(session).__dict__.get("CAPABILITIES")
    assert isinstance(declared, Capabilities)
    assert capabilities(name) == declared
    with pytest.raises(dataclasses.FrozenInstanceError):
        declared.duals = not declared.duals


def test_declared_capabilities_are_what_the_backends_offer():
    """HiGHS alone gives duals and added columns; CBC through PuLP reports no bound; all are deterministic."""
    assert capabilities("highs").column_generation
    assert not capabilities("cpsat").column_generation
    assert not capabilities("cbc").column_generation
    assert capabilities("cpsat").mip_bound and not capabilities("cbc").mip_bound
    assert all(capabilities(b).deterministic and capabilities(b).warm_start for b in BACKENDS)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend 'gurobi'"):
        capabilities("gurobi")


@pytest.mark.parametrize("name", ["cpsat", "cbc"])
def test_column_session_needs_the_capability(name):
    with pytest.raises(ValueError, match="cannot run column generation"):
        open_column_session(name, np.ones(2))


def test_highs_column_session_grows_solves_lp_and_mip():
    """The column interface pricing uses: add columns, LP with duals, MIP from a start, delete columns.

    Two rows ``x0 + x1 ≤ 1`` and ``x0 + x2 ≤ 1``, costs (3, 2, 2): the LP and MIP optimum is
    x = (0, 1, 1) at 4, with duals that price x0 at 3 − (y0 + y1) ≤ 0.
    """
    session: ColumnSession = open_column_session("highs", np.ones(2))
    assert session.n_cols == 0
    # columns in CSC form: x0 in rows 0 and 1, x1 in row 0, x2 in row 1
    session.add_columns(
        np.array([3.0, 2.0, 2.0]),
        np.zeros(3),
        np.ones(3),
        np.array([0, 2, 3]),
        np.array([0, 1, 0, 1]),
        np.ones(4),
    )
    assert session.n_cols == 3
    lp = session.solve_lp(None, None)
    assert lp.status == Status.OPTIMAL and not lp.iteration_limit
    assert lp.value == pytest.approx(4.0)
    np.testing.assert_allclose(lp.x, [0.0, 1.0, 1.0], atol=1e-9)
    assert 3.0 - lp.duals.sum() <= 1e-9  # x0 does not price in
    mip = session.solve_mip(None, np.array([1, 0, 0], np.int8), 0.5)
    assert mip.status == Status.OPTIMAL and mip.objective == pytest.approx(4.0)
    assert mip.x is not None and mip.x.tolist() == [0, 1, 1]
    # the model is continuous again after the MIP, and shrinks by deleted columns
    session.delete_columns(np.array([1]))
    assert session.n_cols == 2
    session.set_costs(np.array([3.0, 2.0]))
    assert session.solve_lp(None, None).value == pytest.approx(3.0)
    session.set_row_bounds(np.array([1]), np.zeros(1), np.zeros(1))  # x0 + x2 = 0
    assert session.solve_lp(None, None).value == pytest.approx(0.0)


def _forbid_pricing(*args, **kwargs):
    raise AssertionError("column generation ran on a backend without the capability")


@pytest.mark.parametrize("name", ["cpsat", "cbc"])
def test_backends_without_the_capability_never_get_column_generation(monkeypatch, name):
    """With every block large enough for column generation, CP-SAT and CBC still solve whole models."""
    doc = generate("small", seed=1, scale=0.5)
    monkeypatch.setattr(solve_mod, "MIN_COLUMNS", 1)
    monkeypatch.setattr(solve_mod, "priced_stages", _forbid_pricing)
    plan = solved(doc, backend=name)
    assert plan["status"] == "optimal"
    assert [b["backend"] for b in plan["solver"]["milp_blocks"]] == [name] * len(plan["solver"]["milp_blocks"])


def test_column_generation_follows_the_declared_capability(monkeypatch):
    """HiGHS gets column generation on large blocks; declared without duals, it no longer
    does, and reaches the same optimum."""
    doc = generate("small", seed=1, scale=0.5)
    monkeypatch.setattr(solve_mod, "MIN_COLUMNS", 1)
    priced = solved(doc, backend="highs")
    blocks = priced["solver"]["milp_blocks"]
    assert blocks and all(b["backend"] == "highs+pricing" for b in blocks)
    no_duals = dataclasses.replace(capabilities("highs"), duals=False)
    monkeypatch.setattr(solve_mod, "capabilities", lambda name: no_duals)
    monkeypatch.setattr(solve_mod, "priced_stages", _forbid_pricing)
    plain = solved(doc, backend="highs")
    assert [b["backend"] for b in plain["solver"]["milp_blocks"]] == ["highs"] * len(blocks)
    assert plain["objective"] == priced["objective"]


def test_registry_imports_backends_lazily():
    """Importing the registry loads no backend module (nor its solver library)."""
    code = (
        "import sys, optimizer.engine.backends; "
        "print(sorted(m for m in sys.modules if m.startswith('optimizer.engine.backends.') "
        "or m in ('highspy', 'pulp', 'ortools.sat.python.cp_model')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "['optimizer.engine.backends.base']"


@pytest.mark.parametrize("module", ["base", *BACKENDS])
def test_backend_modules_import_from_base_not_the_registry(module):
    """No import cycle: backend modules (and base) never import the package ``__init__``."""
    tree = ast.parse((BACKEND_DIR / f"{module}.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert "optimizer.engine.backends" not in imported
    if module != "base":
        assert "optimizer.engine.backends.base" in imported
