"""The allocation MILP over eligible pairs (FORMAT.md §3, rules 1 and 9–12).

One binary per eligible pair. Rows are added only where they can bind: a
citizen with one eligible unit needs no row, nor does a pool with fewer
reachable units than its cap. Pairs that a zero cap forbids outright are
dropped before the model is built. The result is a backend-neutral sparse
matrix (:class:`Csc`, the engine's own arrays) that each backend takes whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from optimizer.engine.data import NO_LIMIT, ProblemData, member_of, sorted_set
from optimizer.engine.pairs import Pairs

if TYPE_CHECKING:
    import scipy.sparse as sp

# Row kinds, in the order rows are laid out.
CITIZEN, UNIT, POOL, DEPARTMENT, FRAME, QUOTA = range(6)
KIND_NAMES = ("citizen", "unit", "pool", "department", "frame", "quota")

Index = npt.NDArray[np.integer]


@dataclass(frozen=True, eq=False)
class Csc:
    """A sparse matrix in compressed sparse column form, as SciPy's ``csc_matrix`` keeps it.

    The engine's own type, so that a solve that needs no sparse algebra does not import
    ``scipy.sparse`` (whose array-API layer imports much of numpy on start-up: about a
    tenth of a small solve's process). Column ``j`` holds the entries
    ``data[indptr[j]:indptr[j + 1]]`` in the rows ``indices[indptr[j]:indptr[j + 1]]``,
    rows ascending. What the pricing and aggregation methods need beyond slicing columns
    comes from SciPy (:meth:`scipy`), imported then.

    Attributes
    ----------
    indptr, indices, data
        The arrays of SciPy's CSC format (int32 indices when they fit, as SciPy's).
    shape
        ``(rows, columns)``.
    """

    indptr: npt.NDArray[np.integer]
    indices: npt.NDArray[np.integer]
    data: npt.NDArray[np.float64]
    shape: tuple[int, int]

    @classmethod
    def from_entries(cls, rows: Index, cols: Index, shape: tuple[int, int]) -> Csc:
        """The 0/1 matrix with a one at each ``(rows[k], cols[k])`` (no pair twice).

        The same arrays as ``csc_matrix((ones, (rows, cols)), shape)`` after ``sort_indices()``.
        """
        n_rows, n_cols = int(shape[0]), int(shape[1])
        dtype = _index_dtype(len(rows), n_rows, n_cols)
        rows, cols = np.asarray(rows), np.asarray(cols)
        # The model's entries come as a few runs of ascending columns, one per row kind, with
        # rows ascending across kinds: a stable sort by column (linear on few runs) then
        # leaves rows ascending in each column. Otherwise sort by both.
        order = np.argsort(cols, kind="stable")
        r, c = rows[order], cols[order]
        if not np.all((r[1:] > r[:-1]) | (c[1:] != c[:-1])):
            order = np.lexsort((rows, cols))
        indptr = np.zeros(n_cols + 1, dtype)
        np.cumsum(np.bincount(cols, minlength=n_cols), out=indptr[1:])
        return cls(indptr, rows[order].astype(dtype), np.ones(len(rows)), (n_rows, n_cols))

    @classmethod
    def from_scipy(cls, matrix: Any) -> Csc:
        """The arrays of a SciPy sparse matrix (converted to CSC, indices sorted)."""
        m = matrix.tocsc()
        m.sort_indices()
        return cls(m.indptr, m.indices, np.asarray(m.data, dtype=float), (int(m.shape[0]), int(m.shape[1])))

    @property
    def nnz(self) -> int:
        """The number of stored entries."""
        return len(self.indices)

    def scipy(self) -> sp.csc_matrix:
        """The same matrix as SciPy's ``csc_matrix`` (sharing the arrays; imports ``scipy.sparse``)."""
        import scipy.sparse as sp

        return sp.csc_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    @property
    def T(self) -> sp.csr_matrix:
        """The transpose, as SciPy's ``csr_matrix`` of the same arrays."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape[::-1])

    def __matmul__(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``A @ x`` by SciPy (the pricing and aggregation methods')."""
        result: npt.NDArray[np.float64] = self.scipy() @ x
        return result

    def __getitem__(self, key: tuple[slice, Index]) -> Csc:
        """``A[:, cols]``: the columns ``cols``, in that order."""
        whole, cols = key
        if not (isinstance(whole, slice) and whole == slice(None)):
            raise TypeError("a Csc matrix is sliced by columns only: A[:, cols]")
        return self.columns(cols)

    def columns(self, cols: Index) -> Csc:
        """The columns ``cols``, in that order (entries in their order within each column)."""
        cols = np.asarray(cols)
        if cols.dtype == bool:
            cols = np.flatnonzero(cols)
        start = self.indptr[:-1][cols]
        counts = self.indptr[1:][cols] - start
        indptr = np.zeros(len(cols) + 1, self.indptr.dtype)
        np.cumsum(counts, out=indptr[1:])
        # position of every kept entry: its column's start plus its rank within the column
        at = np.repeat(start - indptr[:-1], counts) + np.arange(int(indptr[-1]))
        return Csc(indptr, self.indices[at], self.data[at], (self.shape[0], len(cols)))

    def row_counts(self) -> npt.NDArray[np.int64]:
        """The number of entries in each row."""
        counts: npt.NDArray[np.int64] = np.bincount(self.indices, minlength=self.shape[0])
        return counts

    def take_rows(self, rows: Index) -> Csc:
        """The rows ``rows`` (ascending, distinct), renumbered ``0..len(rows)-1``."""
        new = np.full(self.shape[0], -1, np.int64)
        new[rows] = np.arange(len(rows))
        at = new[self.indices]
        keep = at >= 0
        kept_before = np.zeros(self.nnz + 1, np.int64)
        np.cumsum(keep, out=kept_before[1:])
        indptr = kept_before[self.indptr].astype(self.indptr.dtype)
        return Csc(indptr, at[keep].astype(self.indices.dtype), self.data[keep], (len(rows), self.shape[1]))

    def by_rows(self) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.integer], npt.NDArray[np.float64]]:
        """The CSR arrays ``(indptr, indices, data)`` of the same matrix, columns ascending in each row."""
        order = np.argsort(self.indices, kind="stable")  # entries come by column, so columns ascend
        cols = np.repeat(np.arange(self.shape[1], dtype=self.indices.dtype), np.diff(self.indptr))
        indptr = np.zeros(self.shape[0] + 1, self.indptr.dtype)
        np.cumsum(self.row_counts(), out=indptr[1:])
        return indptr, cols[order], self.data[order]


def dot(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """The inner product of two vectors (an objective's value ``cost @ x``), without BLAS.

    ``a @ b`` on float vectors is BLAS's ``ddot``: above 10,000 entries OpenBLAS hands it
    to its worker threads, which then spin for a while beside the solver and cost a
    solve a quarter more CPU (a busy machine's core). This is an elementwise product and
    NumPy's pairwise sum: as fast at these sizes, never threaded, and the same float
    whatever the machine's BLAS or thread count.

    Parameters
    ----------
    a, b
        Vectors of equal length (``b`` may be integer, e.g. a 0/1 plan).

    Returns
    -------
    float
    """
    return float(np.add.reduce(np.multiply(a, b, dtype=np.float64)))


def _index_dtype(*sizes: int) -> type[np.integer]:
    """SciPy's choice of index type: int32 when every index and count fits."""
    return np.int32 if max(sizes, default=0) <= np.iinfo(np.int32).max else np.int64


@dataclass(frozen=True)
class Milp:
    """maximise ``cost · x`` subject to ``row_lo ≤ A x ≤ row_hi``, x binary.

    Attributes
    ----------
    pairs
        The pairs the columns stand for (``pairs.take(i)`` is column i).
    A
        Constraint matrix, one column per pair.
    row_lo, row_hi
        Row bounds.
    row_kind, row_group
        What each row limits: a kind from ``KIND_NAMES`` and the index of the
        citizen, unit, pool, department, municipality or region.
    parent_rows
        Of a restricted model (:meth:`restrict`): the index of each row in the parent.
    col_hi
        Column upper bounds; None: binary columns.
    multiplicity
        Of an aggregated model: the class size of each representative citizen and unit.
    """

    pairs: Pairs
    A: Csc
    row_lo: npt.NDArray[np.float64]
    row_hi: npt.NDArray[np.float64]
    row_kind: npt.NDArray[np.int8]
    row_group: npt.NDArray[np.int64]
    parent_rows: npt.NDArray[np.int64] | None = None
    col_hi: npt.NDArray[np.float64] | None = None
    multiplicity: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None

    @property
    def n_cols(self) -> int:
        """The number of columns (pairs)."""
        return len(self.pairs)

    @property
    def n_rows(self) -> int:
        """The number of rows."""
        return len(self.row_hi)

    def restrict(self, cols: npt.NDArray[np.integer]) -> Milp:
        """The sub-model of some columns and every row that touches them."""
        sub = self.A.columns(cols)
        rows = np.flatnonzero(sub.row_counts())
        return Milp(
            self.pairs.take(cols),
            sub.take_rows(rows),
            self.row_lo[rows],
            self.row_hi[rows],
            self.row_kind[rows],
            self.row_group[rows],
            rows,
            None if self.col_hi is None else self.col_hi[cols],
            self.multiplicity,
        )

    def rows(self) -> Iterator[tuple[npt.NDArray[np.integer], npt.NDArray[np.float64], float, float]]:
        """Yield ``(columns, coefficients, lo, hi)`` of every non-empty row, in order.

        For backends that build their model row by row.
        """
        indptr, indices, data = self.A.by_rows()
        for r in range(self.n_rows):
            a, b = indptr[r], indptr[r + 1]
            if a < b:
                yield indices[a:b], data[a:b], float(self.row_lo[r]), float(self.row_hi[r])

    def blocks(self) -> list[npt.NDArray[np.int64]]:
        """Column sets of the independent blocks: no row links two blocks.

        Solving each block on its own is exact for both objectives: the counts of
        each priority and the score add up over blocks, so the lexicographic (and
        weighted) optimum of the whole is the union of the blocks' optima.
        """
        A = self.A
        counts = np.diff(A.indptr)
        # One row of each column stands for it (a column without rows stands alone, as
        # node n_rows + j); the column's other rows are linked to that one.
        n = self.n_rows + self.n_cols
        first = np.arange(self.n_rows, n, dtype=np.int32 if n < 2**31 else np.int64)  # 4-byte nodes halve the memory
        has = counts > 0
        first[has] = A.indices[A.indptr[:-1][has]]
        label = connected(n, np.repeat(first, counts), A.indices)[first]
        order = np.argsort(label, kind="stable")
        cuts = np.flatnonzero(np.diff(label[order])) + 1
        # blocks in order of their first column, so results do not depend on labelling
        return sorted(np.split(order, cuts), key=lambda b: int(b[0])) if self.n_cols else []

    @property
    def side_rows(self) -> int:
        """Rows beyond the assignment rows (pools, departments, frames, quotas)."""
        return int((self.row_kind >= POOL).sum())


def connected(n: int, a: npt.NDArray[np.integer], b: npt.NDArray[np.integer]) -> npt.NDArray[np.integer]:
    """The component of each of ``n`` nodes linked by the edges ``a[k]``-``b[k]``: its smallest node.

    Vectorised hooking and pointer jumping (no ``scipy.sparse.csgraph``, whose import
    loads ``scipy.linalg``: a fifth of a small solve's process). Every node points to a
    smaller node or itself, so the pointers form a forest; each round hooks the larger
    root of every edge whose ends lie in different trees under the smaller, then points
    every node at its root. The roots decrease every round until no edge joins two trees.
    """
    parent: npt.NDArray[np.integer] = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
    a, b = np.asarray(a), np.asarray(b)
    while True:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            return parent
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]  # edges within one tree stay so
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up


def usable(data: ProblemData, pairs: Pairs) -> npt.NDArray[np.bool_]:
    """Mask of pairs that no zero cap forbids (pool, mixed-city, frame or quota)."""
    ok = data.pool_cap[data.u_pool[pairs.unit]] > 0
    ok &= ~(data.c_vulnerable[pairs.citizen] & (data.dept_cap[data.u_dept[pairs.unit]] == 0))
    sub = pairs.subsidised
    ok &= ~(sub & (data.muni_frame[data.u_muni[pairs.unit]] == 0))
    ok &= ~(sub & (data.region_quota[data.u_region[pairs.unit]] == 0))
    return ok


def _distinct(group: npt.NDArray[np.integer], member: npt.NDArray[np.integer], n_groups: int) -> npt.NDArray[np.int64]:
    """How many distinct members each group has."""
    if len(group) == 0:
        return np.zeros(n_groups, np.int64)
    key = sorted_set(group.astype(np.int64) * (int(member.max()) + 1) + member)
    counts: npt.NDArray[np.int64] = np.bincount(key // (int(member.max()) + 1), minlength=n_groups)
    return counts


def _group_rows(group: Index, cols: Index, cap: npt.NDArray[np.int64], pairs: Pairs) -> tuple[Index, Index, Index]:
    """Rows ``Σ x[cols in group g] ≤ cap[g]`` for the groups where that can bind."""
    n = len(cap)
    can_fill = np.minimum(_distinct(group, pairs.citizen[cols], n), _distinct(group, pairs.unit[cols], n))
    binding = np.flatnonzero((can_fill > cap) & (cap < NO_LIMIT))
    keep = member_of(group, binding)
    return group[keep], cols[keep], binding


def build(data: ProblemData, pairs: Pairs) -> Milp:
    """The MILP of an instance's usable pairs, without objective (the solver sets it)."""
    ok = usable(data, pairs)
    if not ok.all():  # else the pairs as they are (nothing writes into them): no copy
        pairs = pairs.take(ok)
    # 4-byte column and row numbers where they fit halve the model's temporaries (assign800:
    # 1.3 million entries); a column has at most 6 rows and a row at least one column, so
    # both stay below 6 × columns. The matrix's own index type is chosen as SciPy would (Csc).
    index = np.int32 if 6 * len(pairs) < 2**31 else np.int64
    cols = np.arange(len(pairs), dtype=index)
    ci, ui, sub = pairs.citizen, pairs.unit, pairs.subsidised
    # (kind, group per entry, column per entry, groups with a row, their caps)
    blocks: list[tuple[int, Index, Index, Index, npt.NDArray[np.int64]]] = []

    def once(kind: int, members: Index, n: int) -> None:
        count = np.bincount(members, minlength=n)
        keep = count[members] > 1
        rows = np.flatnonzero(count > 1)
        blocks.append((kind, members[keep], cols[keep], rows, np.ones(len(rows), np.int64)))

    once(CITIZEN, ci, data.n_citizens)
    once(UNIT, ui, data.n_units)
    for kind, group, mask, cap in (
        (POOL, data.u_pool[ui], None, data.pool_cap),
        (DEPARTMENT, data.u_dept[ui], data.c_vulnerable[ci], data.dept_cap),
        (FRAME, data.u_muni[ui], sub, data.muni_frame),
        (QUOTA, data.u_region[ui], sub, data.region_quota),
    ):
        in_g, in_c = (group, cols) if mask is None else (group[mask], cols[mask])
        row_g, row_c, rows = _group_rows(in_g, in_c, cap, pairs)
        blocks.append((kind, row_g, row_c, rows, cap[rows]))

    row_of = 0
    entries_r: list[Index] = []
    entries_c: list[Index] = []
    hi: list[npt.NDArray[np.float64]] = []
    kinds: list[npt.NDArray[np.int8]] = []
    groups: list[npt.NDArray[np.int64]] = []
    for kind, g, c, rows, caps in blocks:
        # number the rows of this block, then map each entry's group to its row
        # (every group with a row has entries, so rows ⊆ g)
        local = np.full(int(g.max(initial=-1)) + 1, -1, index)
        local[rows] = np.arange(len(rows))
        entries_r.append(row_of + local[g])
        entries_c.append(c)
        hi.append(caps.astype(float))
        kinds.append(np.full(len(rows), kind, np.int8))
        groups.append(rows.astype(np.int64))
        row_of += len(rows)
    r = np.concatenate(entries_r) if entries_r else np.zeros(0, np.int64)
    c = np.concatenate(entries_c) if entries_c else np.zeros(0, np.int64)
    A = Csc.from_entries(r, c, (row_of, len(pairs)))
    row_hi = np.concatenate(hi) if hi else np.zeros(0)
    return Milp(
        pairs,
        A,
        np.zeros(row_of),
        row_hi,
        np.concatenate(kinds) if kinds else np.zeros(0, np.int8),
        np.concatenate(groups) if groups else np.zeros(0, np.int64),
    )
