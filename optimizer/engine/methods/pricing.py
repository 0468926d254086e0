"""Exact column generation for blocks with millions of eligible pairs.

A year of vacancies in a large city has about two million eligible pairs, far
more than any one plan can use. Each stage is solved on a restricted set of
pairs and proven optimal for the full set by LP duality:

1. Solve the LP relaxation on the restricted set; price every pair with its
   reduced cost ``d = c − Aᵀy``. Add the best pairs with ``d > 0`` and repeat
   until none is left: the restricted LP value ``z_LP`` is then the LP bound of
   the full model. (Pairs left out with a small ``d > 0`` are covered by raising
   their citizens' row duals, which adds the largest such ``d`` per citizen to
   the bound: a Lagrangian bound over every pair.)
2. Round the LP: keep its integral values and solve a small MILP over the rest
   (value ``z``). If ``z_LP − z`` is within the stage's tolerance, ``z`` is optimal
   for the full model.
3. Otherwise one MILP over the band: every pair with ``|d| ≤ z_LP − z``, priced
   in or not, the others fixed at the bound their reduced cost points to. A plan
   better than ``z`` lies in the band, since any plan x has
   ``c·x ≤ z_LP + Σ_{d_j<0} d_j x_j − Σ_{d_j>0} d_j (1 − x_j)`` (less row slack
   penalties), so that MILP's optimum is the full model's. (Repeating the pricing
   until no pair is left in the band instead took 10 MILPs on hard-city's score
   stage, 27 s, against one MILP over a band of 1,654 pairs.)

One backend model (a :class:`~optimizer.engine.backends.base.ColumnSession`)
holds every row of the block from the start and grows by columns, so each LP
re-solve starts from the previous basis. Integral stages first price a
tie-broken cost (:func:`tie_break`) that keeps those re-solves short, and fall
back to their plain cost when that does not prove the optimum. This needs a
backend with duals and added columns (``Capabilities.column_generation``):
HiGHS.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from optimizer.engine.backends import open_column_session, open_session
from optimizer.engine.backends.base import ColumnSession, StageResult
from optimizer.engine.data import ProblemData, sorted_set
from optimizer.engine.face import face_tolerance
from optimizer.engine.methods.greedy import greedy
from optimizer.engine.model import CITIZEN, Milp, dot
from optimizer.engine.stages import Objective, StageEntry, StagesResult, clean, count_stage, stage_log
from optimizer.engine.status import Status

if TYPE_CHECKING:
    import scipy.sparse as sp  # the sparse algebra comes through Milp.A, which imports it when used

#: Column (pair) indices of a block.
Columns = npt.NDArray[np.int64]
#: One float per column of a block (costs, reduced costs), or per row (duals).
Floats = npt.NDArray[np.float64]
#: A 0/1 plan: one entry per column of a block.
Plan = npt.NDArray[np.int8]

START_PER_CITIZEN = 12  # best-scoring pairs of each citizen in the first restricted set
START_PER_UNIT = 4  # most urgent, best-scoring citizens of each unit
ADD_PER_CITIZEN = 25  # pairs with positive reduced cost added per citizen and round
MIN_COLUMNS = 150_000  # blocks at least this large are priced rather than solved whole
# and so are dense blocks at least this large: a citizen with 40 eligible pairs or more
# uses few of them (hard-city: 155 per citizen, 13,542 of 139,542 pairs priced in; its
# stage LPs are fractional, and a MILP over the priced pairs is ~20x faster than over
# all); at 22 per citizen (hard-national's largest block) pricing was slower
MIN_DENSE_COLUMNS = 10_000
DENSE_PAIRS_PER_CITIZEN = 40
TOL = 1e-7
TIE_BUDGET = 0.25  # most the tie-break (see tie_break) adds to any plan's value
TIED_ADD_MIN = 1e-3  # with the tie-break, pairs enter only above this reduced cost
TIED_ITERATIONS = (8, 10_000)  # a tie-broken LP may take 8 iterations per row + 10,000 (then: plain cost)
RANK_TABLE = 1 << 16  # _ranks counts in a table when the values span at most this more than their number
COMPLETIONS_KEPT = 4  # completions remembered by GrowingModel._complete


def _top(key_group: npt.NDArray[np.integer], order: Columns, k: int) -> Columns:
    """The first k entries of each group in ``order`` (groups of ``key_group``)."""
    g = key_group[order]
    # each entry's place in its group: its index less that of the group's first entry
    # (a running maximum over the group starts: linear, where a binary search is not)
    at = np.arange(len(g))
    starts = np.zeros(len(g), np.int64)
    starts[1:] = np.where(g[1:] != g[:-1], at[1:], 0)
    top: Columns = order[at - np.maximum.accumulate(starts) < k]
    return top


def _ranks(values: npt.NDArray[np.generic]) -> npt.NDArray[np.int64]:
    """The rank of each value among the distinct values (equal values, equal ranks)."""
    v = np.asarray(values)
    if v.size and (np.issubdtype(v.dtype, np.integer) or (np.isfinite(v).all() and np.array_equal(v, np.floor(v)))):
        lo, hi = v.min(), v.max()
        if float(hi) - float(lo) <= v.size + RANK_TABLE:
            # integral values in a modest range (default scores 0-100, priorities): a
            # presence table and its running count rank them in linear time, as the
            # sort of np.unique would (city-year's 1.9 million scores: 0.06 -> 0.01 s CPU)
            at = (v - lo).astype(np.int64)
            present = np.zeros(int(hi - lo) + 1, bool)
            present[at] = True
            table = np.cumsum(present, dtype=np.int64) - 1
            counted: npt.NDArray[np.int64] = table[at]
            return counted
    _, rank = np.unique(v, return_inverse=True)
    ranks: npt.NDArray[np.int64] = rank.ravel().astype(np.int64)
    return ranks


def _stable_order(*keys: npt.NDArray[np.generic]) -> Columns:
    """The indices that sort by ``keys[0]``, ties by ``keys[1]`` and so on, then by index.

    As ``np.lexsort(keys[::-1])``, by one stable sort per key from the last; an integer
    key of non-negative values below 2**16 is sorted as ``uint16``, which NumPy sorts by
    radix in linear time (city-year's initial columns: 0.31 -> 0.12 s CPU).
    """
    order: Columns | None = None
    for key in reversed(keys):
        k = key if order is None else key[order]
        if np.issubdtype(k.dtype, np.integer) and k.size and k.min() >= 0 and k.max() < 1 << 16:
            k = k.astype(np.uint16)
        step = np.argsort(k, kind="stable")
        order = step if order is None else order[step]
    assert order is not None  # at least one key
    return order


def dense(milp: Milp) -> bool:
    """Whether a block has so many eligible pairs per citizen that pricing pays at any size.

    That is ``DENSE_PAIRS_PER_CITIZEN`` pairs per citizen or more, in at least
    ``MIN_DENSE_COLUMNS`` columns. (Blocks of ``MIN_COLUMNS`` are priced anyway.)
    """
    citizens = len(sorted_set(milp.pairs.citizen))
    return milp.n_cols >= max(MIN_DENSE_COLUMNS, DENSE_PAIRS_PER_CITIZEN * citizens)


def initial_columns(data: ProblemData, milp: Milp) -> Columns:
    """Each citizen's best-scoring pairs and each unit's most urgent candidates."""
    p = milp.pairs
    # pairs come sorted by citizen, then unit (Pairs), so sorting by (citizen, score rank)
    # and by (unit, priority rank, score rank), ties by index, orders them as
    # lexsort((unit, -score, citizen)) and lexsort((citizen, -score, priority, unit)) would
    rank = _ranks(-p.score)
    by_citizen = _stable_order(p.citizen, rank)
    by_unit = _stable_order(p.unit, _ranks(data.c_prio[p.citizen]), rank)
    return sorted_set(
        np.concatenate([_top(p.citizen, by_citizen, START_PER_CITIZEN), _top(p.unit, by_unit, START_PER_UNIT)])
    )


class GrowingModel:
    """A backend model over all rows of a block whose columns are added as needed.

    Parameters
    ----------
    milp
        The block.
    prio
        The priority of each column's citizen.
    backend
        A backend that can run column generation (see :func:`open_column_session`).
    """

    def __init__(self, milp: Milp, prio: npt.NDArray[np.int64], backend: str = "highs") -> None:
        self.milp, self.prio, self.backend = milp, prio, backend
        self.session: ColumnSession = open_column_session(backend, milp.row_hi)
        self.cols: Columns = np.zeros(0, np.int64)  # block columns in model order
        self.lp_x: Floats = np.zeros(0)  # column values of the last LP, in model order
        self.stopped_by_iterations = False  # whether the last LP stopped on its iteration limit
        self.holds: list[int] = []  # priority of each hold row, in row order
        self.hold_at_least: list[float] = []
        # the optimal faces of earlier stages: columns fixed at 0 (never priced again)
        # or at 1, and rows held at their level
        self.citizen_row = np.full(int(milp.pairs.citizen.max(initial=-1)) + 1, -1, np.int64)
        is_c = np.flatnonzero(milp.row_kind == CITIZEN)
        self.citizen_row[milp.row_group[is_c]] = is_c
        self.dead = np.zeros(milp.n_cols, bool)
        self.one = np.zeros(milp.n_cols, bool)
        self.row_lo: Floats = np.asarray(milp.row_lo, dtype=float).copy()
        self.row_hi: Floats = np.asarray(milp.row_hi, dtype=float).copy()
        self.kept: list[tuple[Floats, float]] = []  # (objective, value) of every earlier stage
        # the last completions (see _complete), by a digest of everything they depend on
        self.completed: dict[bytes, tuple[Plan | None, StageResult | None]] = {}

    def add(self, new: Columns, cost: Floats) -> None:
        """Add the block's columns ``new`` to the model, at their costs in ``cost`` (one per block column)."""
        A = self.milp.A[:, new]
        extra_rows, extra_cols = [], []
        for k, p in enumerate(self.holds):
            hit = np.flatnonzero(self.prio[new] == p)
            extra_rows.append(np.full(len(hit), self.milp.n_rows + k))
            extra_cols.append(hit)
        rows = np.concatenate([A.indices, *extra_rows]).astype(np.int32)
        colid = np.concatenate([np.repeat(np.arange(len(new)), np.diff(A.indptr)), *extra_cols])
        order = np.lexsort((rows, colid))
        starts = np.searchsorted(colid[order], np.arange(len(new))).astype(np.int32)
        # columns stay continuous: only a MIP solve makes them integer (see mip), since
        # changing integrality costs the LP its warm start
        self.session.add_columns(
            cost[new].astype(float),
            self.one[new].astype(float),
            np.ones(len(new)),
            starts,
            rows[order],
            np.ones(len(order)),
        )
        self.cols = np.concatenate([self.cols, new])

    def hold(self, p: int, at_least: float) -> None:
        """Add a hold row: at least ``at_least`` citizens of priority ``p`` housed."""
        nz = np.flatnonzero(self.prio[self.cols] == p).astype(np.int32)
        self.session.add_row(nz, np.ones(len(nz)), at_least, np.inf)
        self.holds.append(p)
        self.hold_at_least.append(at_least)

    def fix_face(self, d: Floats, y: Floats, x: Plan, gap: float, scale: float) -> None:
        """Restrict every later stage to the plans that keep this stage's optimum.

        ``y`` are duals of the stage's LP over the whole block (every unpriced pair has
        reduced cost ≤ 0), so its value ``z_LP`` bounds every plan, and a plan keeping the
        optimum ``cost·x`` has its columns and rows fixed as :mod:`optimizer.engine.face`
        proves, for ``gap = z_LP − cost·x``. Unlike a hold row (which makes the LP highly
        degenerate), this shrinks the model: fixed-out pairs are never priced again. ``d``
        are the reduced costs of every pair under ``y``; ``scale`` is the largest cost (for
        the tolerance).
        """
        tol = face_tolerance(gap, scale)
        # columns fixed by an earlier stage stay fixed (their reduced costs no longer matter)
        free = ~self.dead & ~self.one
        self.dead |= free & (d < -tol)
        self.one |= free & (d > tol)
        # fixed-out columns leave the model: the LPs of later stages stay small
        gone = np.flatnonzero(self.dead[self.cols]).astype(np.int32)
        self.session.delete_columns(gone)
        self.cols = self.cols[~self.dead[self.cols]]
        n = len(self.cols)
        self.session.set_column_bounds(np.arange(n, dtype=np.int32), self.one[self.cols].astype(float), np.ones(n))
        level = self.milp.A @ x.astype(float)
        tight = np.flatnonzero(np.abs(y[: self.milp.n_rows]) > tol).astype(np.int32)
        self.session.set_row_bounds(tight, level[tight], level[tight])
        self.row_lo[tight] = self.row_hi[tight] = level[tight]

    def set_objective(self, cost: Floats) -> None:
        """Set the model's costs from ``cost`` (one per block column)."""
        self.session.set_costs(cost[self.cols].astype(float))

    def lp(self, time_limit: float | None, iteration_limit: int | None = None) -> tuple[float, Floats] | None:
        """Solve the restricted LP: its value and row duals, or None when it stops early.

        ``self.stopped_by_iterations`` tells an iteration limit from the rest.
        """
        res = self.session.solve_lp(time_limit, iteration_limit)
        self.stopped_by_iterations = res.iteration_limit
        self.lp_x = res.x
        return (res.value, res.duals) if res.status == Status.OPTIMAL else None

    def round_lp(
        self,
        cost: Floats,
        abs_gap: float,
        target: float,
        band: Columns,
        time_limit: float | None,
        widen: bool = True,
        current: Plan | None = None,
    ) -> Plan | None:
        """Keep most of the LP's values and solve a small MILP over the rest.

        First only the fractional columns are free. When that finds no plan worth
        ``target``, the columns of ``band`` are freed too: the caller passes those whose
        reduced cost is too small to rule them out of such a plan (every other column
        takes its LP value in every plan worth ``target``), unless ``widen`` is false (the
        caller has a better way on than a wide completion) or ``current`` (a plan that
        keeps every earlier optimum, the caller's incumbent) is worth ``target`` already:
        then that is returned. Returns the first plan that reaches ``target``, else the
        best found (None if none).
        """
        v = self.lp_x
        frac = self.cols[(v > 1e-9) & (v < 1 - 1e-9)]
        at_lp: Plan = np.zeros(self.milp.n_cols, np.int8)
        at_lp[self.cols[v > 1 - 1e-9]] = 1
        best = None
        for free in (frac, sorted_set(np.concatenate([frac, band]))):
            x, _ = self._complete(cost, at_lp, free, abs_gap, time_limit)
            if x is not None and not self.keeps(x):
                # the completion traded an earlier stage's optimum for this one: complete
                # again under those optima as rows (else the stage falls through to a band
                # MILP as wide as that trade; city-year anvis/2: minutes)
                x, _ = self._complete(cost, at_lp, free, abs_gap, time_limit, exact=True)
            if x is not None and (best is None or dot(cost, x) > dot(cost, best)):
                best = x
            if best is not None and dot(cost, best) >= target:
                break
            if current is not None and dot(cost, current) >= target and self.keeps(current):
                # the incumbent reaches the bound (hard-city's priority-3 stage: 0 of a
                # bound 0.12): the wide completion would only find another such plan
                # (0.13 s CPU there)
                return current
            if not widen:
                break
        return best

    def best_in_band(
        self,
        cost: Floats,
        d: Floats,
        bound: float,
        start: Plan,
        abs_gap: float,
        scale: float,
        time_limit: float | None,
    ) -> tuple[Plan | None, StageResult | None, Columns]:
        """The best plan of the block, by one MILP over the pairs that can be in a plan better than ``start``.

        ``d`` are the reduced costs of every pair under duals whose Lagrangian bound over
        the whole block is ``bound``. By the penalty argument of :mod:`optimizer.engine.face`, a plan
        worth at least ``cost·start = bound − gap`` has every pair with ``d_j < −gap`` at 0
        and every pair with ``d_j > gap`` at 1, so the best completion of those values
        over the band ``|d_j| ≤ gap`` (priced in or not) is the block's optimum; the band
        is small when ``start`` is good. Returns the plan (None if the MILP found none),
        the MILP's result (None when the band is empty) and the band.
        """
        gap = face_tolerance(max(0.0, bound - dot(cost, start)), scale)
        live = ~self.dead
        fixed: Plan = (live & (self.one | (d > gap))).astype(np.int8)
        inside = live & ~self.one & (np.abs(d) <= gap)
        # a start off a fixed value would mean round-off beyond the tolerance: free those pairs too
        inside |= live & ~self.one & (start != fixed)
        fixed[inside] = 0
        band = np.flatnonzero(inside)
        x, res = self._complete(cost, fixed, band, abs_gap, time_limit, start, exact=True)
        return x, res, band

    def _complete(
        self,
        cost: Floats,
        fixed: Plan,
        free: Columns,
        abs_gap: float,
        time_limit: float | None,
        start: Plan | None = None,
        exact: bool = False,
    ) -> tuple[Plan | None, StageResult | None]:
        """The values of ``fixed`` outside ``free``, the best completion inside.

        ``exact``: the completion keeps the earlier stages' optima (else it may not: a
        rounding heuristic checks its plan afterwards). Returns the plan (None if none
        was found) and the residual MILP's result (None when nothing is free).
        """
        x: Plan = fixed.copy()
        free = free[~self.one[free]]  # pairs an earlier stage fixed at 1 stay at 1
        x[free] = 0
        if len(free) == 0:
            return x, None
        # an integral stage that falls back from the tie-break to its plain cost often
        # re-solves to the same LP optimum and so asks for the same completions again
        # (hard-city's score stage: two MILPs, 0.19 s CPU): answer those from the last ones
        key = self._completion_key(cost, x, free, abs_gap, start, exact)
        if key in self.completed:
            done, res = self.completed[key]
            return (None if done is None else done.copy()), res
        found, res = self._solve_completion(cost, x, free, abs_gap, time_limit, start, exact)
        if res is None or res.status in (Status.OPTIMAL, Status.INFEASIBLE):  # not one cut short by time
            if len(self.completed) >= COMPLETIONS_KEPT:
                self.completed.pop(next(iter(self.completed)))
            self.completed[key] = (None if found is None else found.copy()), res
        return found, res

    def _completion_key(
        self, cost: Floats, x: Plan, free: Columns, abs_gap: float, start: Plan | None, exact: bool
    ) -> bytes:
        """A digest of every input of a completion: its arguments, the rows and the earlier optima."""
        h = hashlib.blake2b(digest_size=20)
        for a in (cost, x, free, self.row_lo, self.row_hi, self.one):
            h.update(np.ascontiguousarray(a).tobytes())
            h.update(b"|")
        h.update(repr((abs_gap, exact, self.holds, self.hold_at_least)).encode())
        h.update(b"-" if start is None else np.ascontiguousarray(start[free]).tobytes())
        for kept_cost, kept_value in self.kept:
            h.update(np.ascontiguousarray(kept_cost).tobytes())
            h.update(repr(kept_value).encode())
        return h.digest()

    def _solve_completion(
        self,
        cost: Floats,
        x: Plan,
        free: Columns,
        abs_gap: float,
        time_limit: float | None,
        start: Plan | None,
        exact: bool,
    ) -> tuple[Plan | None, StageResult | None]:
        """The residual MILP of :meth:`_complete`: ``x`` is 0 on ``free``, which holds no pair fixed at 1."""
        used = self.milp.A @ x
        sub = self.milp.restrict(free)
        rows = sub.parent_rows
        assert rows is not None  # a restricted model knows its parent's rows
        residual = Milp(
            sub.pairs,
            sub.A,
            self.row_lo[rows] - used[rows],
            self.row_hi[rows] - used[rows],
            sub.row_kind,
            sub.row_group,
        )
        session = open_session(self.backend, residual)
        if exact and hasattr(session, "presolve_mips"):
            session.presolve_mips()  # a small model of fixed and free pairs (HiGHS: 4x faster)
        for p, h in zip(self.holds, self.hold_at_least, strict=True):
            nz = np.flatnonzero(self.prio[free] == p)
            session.add_row(nz, np.ones(len(nz)), h - x[self.prio == p].sum(), np.inf)
        # the optimal faces of earlier stages hold in every plan that keeps their optima,
        # not conversely: an exact completion has their values as rows
        for kept_cost, kept_value in self.kept if exact else ():
            nz = np.flatnonzero(kept_cost[free])
            session.add_row(nz, kept_cost[free][nz], kept_value - dot(kept_cost, x), np.inf)
        session.set_objective(cost[free])
        res = session.solve(time_limit, None if start is None else start[free], abs_gap)
        if res.x is None:
            return None, res
        x[free] = res.x
        return x, res

    def keeps(self, x: Plan) -> bool:
        """Whether a plan keeps every earlier stage's optimum."""
        return all(abs(dot(c, x) - v) <= 1e-6 for c, v in self.kept)

    def mip(self, time_limit: float | None, start: Plan, abs_gap: float) -> tuple[Status, Plan | None, float, int]:
        """Solve the restricted MILP from ``start``: status, plan (None if none), bound and nodes."""
        res = self.session.solve_mip(time_limit, start[self.cols], abs_gap)
        x = None
        if res.x is not None:
            x = np.zeros_like(start)
            x[self.cols] = res.x
        return res.status, x, float(res.bound), res.nodes

    def all_reduced_costs(self, cost: Floats, y: Floats, AT: sp.csr_matrix) -> Floats:
        """Reduced costs of every pair of the block under the duals ``y`` (hold rows included)."""
        d: Floats = cost - AT @ y[: self.milp.n_rows]
        for p, yh in zip(self.holds, y[self.milp.n_rows :], strict=True):
            d[self.prio == p] -= yh
        return d

    def lagrange(self, d: Floats, y: Floats) -> tuple[float, Floats]:
        """Duals for the whole block from the restricted LP's duals ``y``.

        ``d`` holds the reduced costs of the pairs outside the model (−inf for the rest).
        Raising a citizen's row dual by the largest positive reduced cost among its pairs
        makes them all non-positive and keeps the pairs inside dual feasible (their bound
        duals only gain slack), at a cost of that amount; a pair of a citizen without a row
        costs its own reduced cost. Returns the total cost, to add to the LP value, and the
        raised duals.
        """
        pos = np.flatnonzero(d > 0)
        if len(pos) == 0:
            return 0.0, y
        c = self.milp.pairs.citizen[pos]
        row = self.citizen_row[c]
        best = np.zeros(len(self.citizen_row))
        np.maximum.at(best, c, d[pos])
        with_row = sorted_set(c[row >= 0])
        y = y.copy()
        y[self.citizen_row[with_row]] += best[with_row]
        return float(best[with_row].sum() + d[pos[row < 0]].sum()), y

    def reduced_costs(self, cost: Floats, y: Floats, AT: sp.csr_matrix) -> Floats:
        """Reduced costs of the pairs that may still enter (others: −inf)."""
        d = self.all_reduced_costs(cost, y, AT)
        d[self.cols] = -np.inf
        d[self.dead] = -np.inf
        return d


def tie_break(milp: Milp) -> Floats | None:
    """A small positive cost per pair that gives an integral stage's LP one clear optimum.

    A count objective gives every pair of a citizen the same cost, so its LP has a huge
    optimal face. HiGHS's dual simplex perturbs costs at the start of every solve; on
    such a face that turned each re-solve after adding columns into a walk as long as a
    fresh solve (city-year: 20,000-45,000 iterations for a few hundred new pairs). The
    tie-break (the pair's score, then a fixed pseudo-random fraction) makes the optimum
    nearly unique, so HiGHS's own perturbation can be switched off and a re-solve only
    pivots the new pairs in (tens to a few thousand iterations).

    Exactness does not rest on its size: the stage's cost is at most the tie-broken
    cost, so the tie-broken LP bound is an upper bound of the stage; a plan within the
    stage's gap of it is optimal, and otherwise the stage goes on with its plain cost.
    The scale (no plan gains more than ``TIE_BUDGET``) makes that fallback rare.
    None for aggregated models, where a column stands for several pairs.
    """
    if milp.col_hi is not None or milp.n_cols == 0:
        return None
    p = milp.pairs
    most = min(len(sorted_set(p.citizen)), len(sorted_set(p.unit)))  # pairs in any plan
    s = p.score.astype(float)
    s = (s - s.min() + 1) / (s.max() - s.min() + 1)
    with np.errstate(over="ignore"):
        mixed = p.citizen.astype(np.uint64) * np.uint64(2654435761) + p.unit.astype(np.uint64) * np.uint64(40503)
    jitter = (mixed % np.uint64(1000)).astype(float) / 1000.0
    tie: Floats = TIE_BUDGET / most * (0.5 * s + 0.25 * (1 + jitter))
    return tie


def _best_per_citizen(milp: Milp, d: Floats, candidates: Columns) -> Columns:
    order = candidates[_stable_order(milp.pairs.citizen[candidates], -d[candidates])]
    return np.sort(_top(milp.pairs.citizen, order, ADD_PER_CITIZEN))


def priced_stages(
    data: ProblemData,
    milp: Milp,
    objectives: list[Objective],
    deadline: float | None,
    fix_faces: bool = True,
    backend: str = "highs",
    groups: list[list[int]] | None = None,
    start: Plan | None = None,
) -> StagesResult:
    """Run the objective stages by column generation.

    Parameters
    ----------
    data
        The problem.
    milp
        The block, with at least one column.
    objectives
        ``(name, cost, abs_gap)`` of every stage, in order.
    deadline
        ``time.perf_counter()`` by which to stop, or None.
    fix_faces
        Keep earlier optima by :meth:`GrowingModel.fix_face` where it applies (else by
        hold rows). Should a stage's plan ever lose an earlier optimum (a reduced cost
        misjudged within the tolerances), the block is solved again with hold rows only.
    backend
        A backend with the capability for column generation.
    groups
        The priorities of each count stage, for the first ``len(groups)`` objectives
        (:func:`optimizer.engine.solve.count_groups`). A stage of several priorities that its
        rounded LP (only its fractional pairs freed) does not prove is solved as one
        stage per priority instead (the same lexicographic optimum): its band MILP would
        span trades of a more urgent citizen for less urgent ones.
    start
        A feasible 0/1 plan of the block (a warm start): its pairs join the first
        restricted set, and it is the first plan where it is at least as good as the
        greedy one in the first objective.

    Returns
    -------
    tuple
        ``(x, status, stage log, bound, gap)``, as the plain stage driver of
        :mod:`optimizer.engine.solve` returns them.
    """
    prio = data.c_prio[milp.pairs.citizen]
    first = initial_columns(data, milp)
    x: Plan = np.zeros(milp.n_cols, np.int8)
    x[first] = greedy(data, milp.restrict(first))
    if start is not None:
        first = sorted_set(np.concatenate([first, np.flatnonzero(start)]))
        if objectives[0][1][start > 0].sum() >= objectives[0][1][x > 0].sum():  # (no BLAS: see solve._stages)
            x = start.astype(np.int8)
    model = GrowingModel(milp, prio, backend)
    model.add(first, objectives[0][1])
    AT = milp.A.T.tocsr()
    log: list[StageEntry] = []
    bound = None
    tie = tie_break(milp)
    levels = groups or []
    todo = [(objective, levels[k] if k < len(levels) else []) for k, objective in enumerate(objectives)]
    k = -1
    while k < len(todo) - 1:
        k += 1
        (name, cost, abs_gap), group = todo[k]
        # integral stages first price a tie-broken cost ≥ cost (see tie_break)
        tied = tie is not None and abs_gap >= 0.5
        lp_cost = cost + tie if tied and tie is not None else cost
        _price_with(model, lp_cost, tied)
        rounds = 0
        milp_band = None  # the pairs of the stage's MILP, when it had one
        split = False
        while True:
            rounds += 1
            limit = TIED_ITERATIONS[0] * milp.n_rows + TIED_ITERATIONS[1] if tied else None
            lp = model.lp(_left(deadline), limit)
            if lp is None and tied and model.stopped_by_iterations:
                # the tie-broken LP stalls: go on from its basis with the plain cost
                tied, lp_cost = False, cost
                _price_with(model, lp_cost, tied)
                continue
            if lp is None and fix_faces and model.kept and (deadline is None or time.perf_counter() < deadline):
                # the LP failed for another reason than time: solve again with hold rows only
                return priced_stages(
                    data, milp, objectives, deadline, fix_faces=False, backend=backend, groups=groups, start=start
                )
            if lp is None:  # out of time: the current plan, unproven
                log.append(stage_log(name, None, dot(cost, x), rounds, len(model.cols), Status.FEASIBLE))
                return x, Status.FEASIBLE, log, None, None
            z_lp, y = lp
            d = model.reduced_costs(lp_cost, y, AT)
            # pairs whose reduced cost only the tie-break makes positive would make the
            # dual simplex shift costs; the Lagrangian bound below covers them instead
            new = np.flatnonzero(d > (TIED_ADD_MIN if tied else TOL))
            if len(new):
                model.add(_best_per_citizen(milp, d, new), lp_cost)
                continue
            extra, y = model.lagrange(d, y)
            z_lp += extra  # now a bound over every pair of the block
            lp_plan = np.zeros(milp.n_cols)
            lp_plan[model.cols] = model.lp_x
            if any(dot(c, lp_plan) < v - 1e-6 for c, v in model.kept) and hold_kept(model, x):
                continue  # the LP drops an earlier optimum: no rounding of it keeps them (see below)
            target = _optimal_above(z_lp, abs_gap)
            # a plan worth target keeps every pair whose |reduced cost| exceeds z_lp - target
            # at its LP value (the penalty argument of optimizer.engine.face)
            d_all = model.all_reduced_costs(lp_cost, y, AT)  # every pair, under the raised duals
            band = model.cols[np.abs(d_all[model.cols]) <= z_lp - target + TOL]
            # a packed stage (several priorities) goes on per priority rather than by a
            # completion over its band: its LP may trade half a more urgent citizen for
            # many less urgent ones (city-year anvis/2: 356.5 of priority 2 against 127
            # of priority 3, a bound 463 above the optimum), which no completion closes,
            # and that MILP spans most of the block (15 s for nothing); see the split below
            found = model.round_lp(cost, abs_gap, target, band, _left(deadline), len(group) < 2, x)
            rounded = found is not None and _feasible(milp, found, model)
            if found is not None and rounded and dot(cost, found) >= target:
                x = found
                break
            if found is not None and not model.keeps(found) and hold_kept(model, x):
                # the LP's optimum trades an earlier stage's optimum away (the optimal faces
                # are only fixed where reduced costs are clear): hold each earlier priority's
                # count as a row and solve again (else the band MILP below would span that
                # trade: city-year anvis/2, minutes)
                continue
            if len(group) > 1:
                # the LP trades part of a more urgent citizen for many less urgent ones
                # (city-year anvis/2: half a priority-2 citizen for 127 of priority 3): a
                # band MILP over the packed cost would span such trades, nearly the whole
                # block; one stage per priority keeps each band to a citizen or two
                todo[k : k + 1] = [((count_stage([p]), (prio == p).astype(float), abs_gap), [p]) for p in group]
                k -= 1
                split = True
                break
            if tied:  # not proven with the tie-break: go on with the plain cost
                tied, lp_cost = False, cost
                _price_with(model, lp_cost, tied)
                continue
            if found is not None and rounded and dot(cost, found) > dot(cost, x):
                x = found  # the rounded LP: a better start, so a narrower band below
            scale = float(np.abs(lp_cost).max(initial=0.0))
            best, res, milp_band = model.best_in_band(cost, d_all, z_lp, x, abs_gap, scale, _left(deadline))
            ok = best is not None and _feasible(milp, best, model)
            if not ok and (res is None or res.status in (Status.OPTIMAL, Status.INFEASIBLE)):
                # only round-off beyond the tolerance could make the band miss the start's
                # plans: then the MILP over the whole block (every reduced cost taken as 0)
                every = np.zeros(milp.n_cols)
                best, res, milp_band = model.best_in_band(cost, every, z_lp, x, abs_gap, scale, _left(deadline))
                ok = best is not None and _feasible(milp, best, model)
            if best is not None and ok and dot(cost, best) >= dot(cost, x) - 1e-9:
                x = best
            model.add(np.setdiff1d(milp_band, model.cols), lp_cost)  # later stages price from x's pairs
            value = dot(cost, x)
            if not ok or (res is not None and res.status != Status.OPTIMAL):
                fixed = x.copy()
                fixed[milp_band] = 0
                b = z_lp if res is None else min(z_lp, dot(cost, fixed) + res.bound)
                b = max(b, value)
                entry = stage_log(name, None, value, rounds, len(model.cols), Status.FEASIBLE)
                entry |= {"bound": clean(b), "nodes": 0 if res is None else res.nodes, "milp_band": len(milp_band)}
                log.append(entry)
                if not np.isfinite(b):
                    return x, Status.FEASIBLE, log, None, None
                return x, Status.FEASIBLE, log, b, (b - value) / max(abs(b), 1e-9)
            break
        if split:
            continue
        value = dot(cost, x)
        if not model.keeps(x):
            return priced_stages(
                data, milp, objectives, deadline, fix_faces=False, backend=backend, groups=groups, start=start
            )
        log.append(stage_log(name, None, value, rounds, len(model.cols)))
        if milp_band is not None:
            log[-1]["milp_band"] = len(milp_band)
        if tie is not None and abs_gap >= 0.5:  # integral stage: started tie-broken
            log[-1]["tie_break"] = "proved" if tied else "fell back to plain cost"
        bound = value
        if k < len(todo) - 1:
            if fix_faces:
                model.fix_face(d_all, y, x, max(0.0, z_lp - value), float(np.abs(lp_cost).max(initial=0.0)))
                model.kept.append((cost, value))
                log[-1]["kept_by"] = "optimal face"
            else:
                log[-1]["kept_by"] = "hold rows"
                for p in sorted_set(prio[cost > 0]):
                    model.hold(int(p), float(x[prio == p].sum()))
    return x, Status.OPTIMAL, log, bound, 0.0


def hold_kept(model: GrowingModel, x: Plan) -> bool:
    """Add a hold row for each priority of an earlier count stage not held yet, at its count in ``x``.

    ``x`` keeps every earlier stage's optimum. Returns whether a row was added.
    """
    new = [
        int(p)
        for cost, _ in model.kept
        for p in sorted_set(model.prio[cost > 0]).tolist()
        if int(p) not in model.holds and np.all(cost[model.prio == p] == cost[model.prio == p][0])
    ]
    for p in new:
        model.hold(p, float(x[model.prio == p].sum()))
    return bool(new)


def _optimal_above(bound: float, abs_gap: float) -> float:
    """The value from which a plan is optimal under an upper ``bound``.

    That is the bound less the stage's gap, or for an integral objective (gap 0.5) the
    bound rounded down (kept a hair above, so that round-off in the bound cannot pass a
    plan one short).
    """
    if abs_gap >= 0.5:
        return float(np.floor(bound + 1e-4))
    return bound - abs_gap


def _price_with(model: GrowingModel, lp_cost: Floats, tied: bool) -> None:
    """Set the LP's cost, with the solver's own cost perturbation only without the tie-break.

    With the tie-break, HiGHS's random perturbation (up to ~1e-3 on these costs) swamps
    it, and made one re-solve take 230 s.
    """
    model.set_objective(lp_cost)
    model.session.set_cost_perturbation(not tied)


def _feasible(milp: Milp, x: Plan, model: GrowingModel) -> bool:
    """Whether a 0/1 vector satisfies every row of the block and keeps every earlier optimum.

    (Guards the shortcuts.)
    """
    holds = all(x[model.prio == p].sum() >= h - 1e-9 for p, h in zip(model.holds, model.hold_at_least, strict=True))
    return holds and model.keeps(x) and bool(np.all(milp.A @ x <= milp.row_hi + 1e-9))


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.perf_counter())
