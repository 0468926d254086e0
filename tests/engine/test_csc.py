"""The engine's own sparse matrix (``model.Csc``) holds exactly the arrays SciPy's would.

The model used to be SciPy's ``csc_matrix``; HiGHS takes its arrays as they are, so the
same arrays (values, order and index type) keep every solve, and so every plan, the same.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import models
from optimizer.engine.data import ProblemData
from optimizer.engine.model import Csc, build
from optimizer.engine.pairs import eligible_pairs
from optimizer.sim.generate import generate


def same(ours: Csc, theirs: sp.spmatrix) -> None:
    """``ours`` has the arrays of SciPy's CSC form of ``theirs``, rows ascending in each column."""
    m = theirs.tocsc()
    m.sort_indices()
    assert ours.shape == m.shape
    for name in ("indptr", "indices", "data"):
        a, b = getattr(ours, name), getattr(m, name)
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b), name


def random_entries(rng, n_rows, n_cols, share):
    """Distinct (row, column) positions in random order."""
    cells = np.flatnonzero(rng.random(n_rows * n_cols) < share)
    rng.shuffle(cells)
    return cells // n_cols, cells % n_cols


@pytest.mark.parametrize("seed", range(4))
def test_from_entries_is_scipys_csc(seed):
    rng = np.random.default_rng(seed)
    n_rows, n_cols = rng.integers(1, 30, 2)
    r, c = random_entries(rng, n_rows, n_cols, 0.3)
    same(Csc.from_entries(r, c, (n_rows, n_cols)), sp.csc_matrix((np.ones(len(r)), (r, c)), shape=(n_rows, n_cols)))
    # entries in runs of ascending columns (as the model lays them out) take the linear path
    key = np.lexsort((c, r))
    r2, c2 = r[key], c[key]
    same(Csc.from_entries(r2, c2, (n_rows, n_cols)), sp.csc_matrix((np.ones(len(r)), (r2, c2)), shape=(n_rows, n_cols)))


def test_from_entries_of_nothing():
    empty = np.zeros(0, np.int64)
    same(Csc.from_entries(empty, empty, (0, 3)), sp.csc_matrix((0, 3)))
    same(Csc.from_entries(empty, empty, (2, 0)), sp.csc_matrix((2, 0)))


@pytest.mark.parametrize("seed", range(4))
def test_columns_rows_and_transpose_are_scipys(seed):
    rng = np.random.default_rng(seed)
    n_rows, n_cols = rng.integers(2, 40, 2)
    r, c = random_entries(rng, n_rows, n_cols, 0.25)
    theirs = sp.csc_matrix((np.ones(len(r)), (r, c)), shape=(n_rows, n_cols))
    theirs.sort_indices()
    ours = Csc.from_entries(r, c, (n_rows, n_cols))
    cols = rng.permutation(n_cols)[: rng.integers(0, n_cols + 1)]
    same(ours.columns(cols), theirs[:, cols])
    same(ours[:, cols], theirs[:, cols])
    mask = rng.random(n_cols) < 0.5
    same(ours.columns(mask), theirs[:, np.flatnonzero(mask)])
    rows = np.flatnonzero(rng.random(n_rows) < 0.5)
    same(ours.take_rows(rows), theirs[rows, :])
    assert np.array_equal(ours.row_counts(), np.diff(theirs.tocsr().indptr))
    csr = theirs.tocsr()
    csr.sort_indices()
    indptr, indices, data = ours.by_rows()
    assert np.array_equal(indptr, csr.indptr) and np.array_equal(indices, csr.indices)
    assert np.array_equal(data, csr.data)
    x = rng.integers(0, 2, n_cols)
    assert np.array_equal(ours @ x, theirs @ x)
    assert (ours.T.tocsr() - theirs.T.tocsr()).nnz == 0 and ours.T.shape == (n_cols, n_rows)
    same(ours, ours.scipy())
    same(Csc.from_scipy(theirs.tocoo()), theirs)
    with pytest.raises(TypeError, match="by columns only"):
        ours[rows, :]


@pytest.mark.parametrize(
    ("preset", "seed", "scale"), [("national-week", 0, 0.2), ("hard-national", 0, 0.1), ("hard-city", 1, 0.05)]
)
def test_the_model_and_its_restrictions_are_those_scipy_built(preset, seed, scale):
    """``build`` and ``Milp.restrict`` give the arrays of the SciPy code they replace."""
    data = ProblemData.build(models.from_dict(generate(preset, seed=seed, scale=scale)))
    milp = build(data, eligible_pairs(data))
    assert milp.side_rows > 0  # pool, department, frame or quota rows are laid out after the others
    ours = milp.A
    # the entries as build lays them out: every row's columns, row by row
    indptr, indices, _ = ours.by_rows()
    rows = np.repeat(np.arange(milp.n_rows), np.diff(indptr))
    theirs = sp.csc_matrix((np.ones(len(rows)), (rows, indices)), shape=(milp.n_rows, milp.n_cols))
    theirs.sort_indices()
    same(ours, theirs)
    rng = np.random.default_rng(seed)
    for cols in (rng.permutation(milp.n_cols)[: milp.n_cols // 3], *milp.blocks()[:3]):
        sub = milp.restrict(cols)
        old = theirs[:, cols]
        old_rows = np.flatnonzero(np.diff(old.tocsr().indptr))
        assert np.array_equal(sub.parent_rows, old_rows)
        same(sub.A, old[old_rows, :].tocsc())
        assert np.array_equal(sub.row_hi, milp.row_hi[old_rows])


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_distinct_is_np_unique_with_inverse(dtype):
    from optimizer.engine.methods.matching import distinct

    rng = np.random.default_rng(0)
    for n, high in [(0, 1), (1, 1), (50, 7), (1000, 5000), (640, 3)]:
        x = rng.integers(0, high, n).astype(dtype)
        values, inverse = distinct(x)
        want_values, want_inverse = np.unique(x, return_inverse=True)
        assert values.dtype == want_values.dtype and np.array_equal(values, want_values)
        assert np.array_equal(inverse, want_inverse) and np.array_equal(values[inverse], x)
