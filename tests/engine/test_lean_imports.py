"""The solve's own versions of what it took from scipy's heavy modules give scipy's results.

Independent blocks by vectorised components (not ``scipy.sparse.csgraph``), and LAPJV
loaded from its extension module (not through ``scipy.optimize``); see
``tests/cli/test_imports.py`` for what a solve imports.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from optimizer.engine.model import connected


def scipy_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    graph = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def same_partition(x: np.ndarray, y: np.ndarray) -> bool:
    """Two labellings name the same components (a bijection between labels)."""
    pairs = np.unique(np.stack([x, y]), axis=1)
    return len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


@pytest.mark.parametrize("seed", range(40))
def test_connected_equals_scipy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    m = int(rng.integers(0, 2 * n))
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    ours = connected(n, a, b)
    assert same_partition(ours, scipy_labels(n, a, b))
    # each label is the smallest node of its component
    assert all(ours[i] == np.flatnonzero(ours == ours[i]).min() for i in range(n))


@pytest.mark.parametrize("n", [1, 2, 1000])
def test_connected_paths_stars_and_isolated_nodes(n):
    path = connected(n, np.arange(n - 1)[::-1], np.arange(1, n)[::-1])  # one long path, largest end first
    assert (path == 0).all()
    star = connected(n, np.full(n - 1, n - 1), np.arange(n - 1))
    assert (star == 0).all()
    assert (connected(n, np.zeros(0, int), np.zeros(0, int)) == np.arange(n)).all()


def csgraph_blocks(milp) -> list[np.ndarray]:
    """The blocks as they were computed before (scipy's connected components of columns and rows)."""
    n = milp.n_cols + milp.n_rows
    A = milp.A.scipy().tocoo()
    label = scipy_labels(n, A.col, milp.n_cols + A.row)[: milp.n_cols]
    order = np.argsort(label, kind="stable")
    cuts = np.flatnonzero(np.diff(label[order])) + 1
    return sorted(np.split(order, cuts), key=lambda b: int(b[0])) if milp.n_cols else []


@pytest.mark.parametrize(
    ("preset", "seed", "scale"),
    [
        ("national-week", 0, 0.2),
        ("national-week", 3, 0.05),
        ("city-week", 1, 0.5),
        ("hard-national", 0, 0.1),
        ("tiny", 0, 1.0),
    ],
)
def test_blocks_are_those_of_scipys_components(preset, seed, scale):
    import models
    from optimizer.engine.data import ProblemData
    from optimizer.engine.model import build
    from optimizer.engine.pairs import eligible_pairs
    from optimizer.sim.generate import generate

    data = ProblemData.build(models.from_dict(generate(preset, seed=seed, scale=scale)))
    milp = build(data, eligible_pairs(data))
    ours, theirs = milp.blocks(), csgraph_blocks(milp)
    assert len(ours) == len(theirs) and all(np.array_equal(x, y) for x, y in zip(ours, theirs, strict=True))
    if preset == "national-week":
        assert len(ours) > 1  # the check compares a real split


def test_lapjv_is_scipys_linear_sum_assignment():
    from scipy.optimize import linear_sum_assignment

    from optimizer.engine.methods.matching import lapjv

    rng = np.random.default_rng(0)
    for shape in [(1, 1), (5, 3), (3, 5), (40, 40)]:
        w = rng.integers(0, 5, shape).astype(float)  # many ties: the same code breaks them alike
        for maximize in (True, False):
            ours, theirs = lapjv()(w, maximize=maximize), linear_sum_assignment(w, maximize=maximize)
            assert all(np.array_equal(x, y) for x, y in zip(ours, theirs, strict=True))


@pytest.mark.parametrize("seed", range(30))
def test_sorted_set_and_member_of_are_numpys_unique_and_isin(seed):
    from optimizer.engine.data import member_of, sorted_set

    rng = np.random.default_rng(seed)
    dtype = [np.int8, np.int32, np.int64, np.intp][seed % 4]
    hi = [5, 100, 10**9][seed % 3] if dtype != np.int8 else 100
    x = rng.integers(-hi, hi, int(rng.integers(0, 50))).astype(dtype)
    keys = rng.integers(-hi, hi, int(rng.integers(0, 20))).astype([np.int32, np.int64][seed % 2])
    if seed % 5 == 0:
        keys = x[: len(x) // 2]  # many members
    ours = sorted_set(x)
    assert ours.dtype == np.unique(x).dtype and np.array_equal(ours, np.unique(x))
    hit = member_of(x, keys)
    assert hit.dtype == bool and np.array_equal(hit, np.isin(x, keys))
    if seed % 5 == 0 and len(x) > 1:
        assert hit.any()  # the comparison sees members


def test_member_of_empty_keys_and_values():
    from optimizer.engine.data import member_of, sorted_set

    empty = np.zeros(0, np.int64)
    assert member_of(np.arange(3), empty).tolist() == [False] * 3
    assert member_of(empty, np.arange(3)).shape == (0,)
    assert sorted_set(empty).shape == (0,) and sorted_set(np.array([3, 3, 1])).tolist() == [1, 3]


def test_lapjv_falls_back_to_the_ordinary_import(monkeypatch):
    import sys

    from scipy.optimize import linear_sum_assignment

    from optimizer.engine.methods import matching

    monkeypatch.delitem(sys.modules, "scipy.optimize._lsap")
    monkeypatch.setattr(matching, "EXTENSION_SUFFIXES", [])  # the module is not found where expected
    assert matching.lapjv() is linear_sum_assignment


def test_a_solve_loads_neither_scipy_optimize_nor_csgraph(tmp_path):
    """A fresh solve of an instance whose blocks take LAPJV (dense) imports neither module."""
    import json
    import subprocess
    import sys

    import models
    from optimizer.sim.generate import generate

    path = tmp_path / "i.json"
    models.save(models.from_dict(generate("national-week", seed=0, scale=0.2)), path)
    code = f"""
import json, sys
import models
from optimizer.engine.solve import solve
r = solve(models.load({str(path)!r}))
heavy = ("scipy", "scipy.optimize", "scipy.sparse.csgraph", "scipy.linalg", "numpy.ma")
print(json.dumps([r.stats["matching_blocks"], "scipy.optimize._lsap" in sys.modules,
                  sorted(m for m in sys.modules if m in heavy)]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    matched, lsap, heavy = json.loads(out.stdout)
    # not even scipy's __init__ (LAPJV's folder comes from its spec), nor numpy.ma (which
    # numpy's plain unique and isin import: the engine uses sorted_set and member_of)
    assert matched > 0 and lsap and heavy == []


def test_the_benchmark_national_week_loads_no_ortools_nor_numpy_ma(tmp_path):
    """``anvis solve`` of the process benchmark's national week (full scale, anvis/1) loads neither.

    Its one sparse matching block is small (24 citizens x 6 units), which LAPJV takes
    (``SMALL_CELLS``); importing OR-Tools' graph module for it cost 0.035 s of the process.
    NumPy's plain ``unique`` imports ``numpy.ma`` (0.013 s); the engine and the plan's
    reasons use ``sorted_set``.
    """
    import json
    import subprocess
    import sys

    import models
    from optimizer.sim.generate import generate

    path = tmp_path / "nw.json"
    models.save(models.from_dict(generate("national-week", seed=0, format="anvis/1")), path)
    code = f"""
import json, sys
sys.argv = ["anvis", "solve", {str(path)!r}, "-o", {str(tmp_path / "nw.plan.json")!r}, "-q"]
from optimizer.cli import main
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
print(json.dumps(sorted(m for m in sys.modules if m == "numpy.ma" or m.startswith(("ortools", "numpy.ma.")))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    plan = json.loads((tmp_path / "nw.plan.json").read_text())
    assert plan["solver"]["matching_blocks"] > 0
