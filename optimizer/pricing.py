"""Exact column generation for blocks with millions of eligible pairs.

A year of vacancies in a large city has about two million eligible pairs, far
more than any one plan can use. Each stage is solved on a restricted set of
pairs and proven optimal for the full set by LP duality:

1. Solve the LP relaxation on the restricted set; price every pair with its
   reduced cost ``d = c − Aᵀy``. Add the best pairs with ``d > 0`` and repeat
   until none is left: the restricted LP value ``z_LP`` is then the LP bound of
   the full model.
2. Solve the MILP on the restricted set (value ``z``). If ``z_LP − z`` is within
   the stage's tolerance, ``z`` is optimal for the full model.
3. Otherwise add every pair with ``d ≥ −(z_LP − z)`` and solve again: a pair
   with a lower reduced cost lies in no plan better than ``z``, since any plan
   x has ``c·x ≤ z_LP + Σ_{d_j<0} d_j x_j``.

One HiGHS model holds every row of the block from the start and grows by
columns, so each LP re-solve starts from the previous basis. Only HiGHS gives
the duals this needs.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from optimizer.data import ProblemData
from optimizer.greedy import greedy
from optimizer.model import Milp
from optimizer.status import Status
from optimizer.backends.highs import HighsSession, run_mip, set_time_limit

START_PER_CITIZEN = 12   # best-scoring pairs of each citizen in the first restricted set
START_PER_UNIT = 4       # most urgent, best-scoring citizens of each unit
ADD_PER_CITIZEN = 25     # pairs with positive reduced cost added per citizen and round
MIN_COLUMNS = 150_000    # blocks at least this large are priced rather than solved whole
TOL = 1e-7
FACE_TOL = 1e-6  # relative to the largest cost: reduced costs and duals this close to 0 count as 0


def _top(key_group: np.ndarray, order: np.ndarray, k: int) -> np.ndarray:
    """The first k entries of each group in ``order`` (groups of ``key_group``)."""
    g = key_group[order]
    first = np.searchsorted(g, g, side="left")
    return order[np.arange(len(order)) - first < k]


def initial_columns(data: ProblemData, milp: Milp) -> np.ndarray:
    """Each citizen's best-scoring pairs and each unit's most urgent candidates."""
    p = milp.pairs
    by_citizen = np.lexsort((p.unit, -p.score, p.citizen))
    by_unit = np.lexsort((p.citizen, -p.score, data.c_prio[p.citizen], p.unit))
    return np.union1d(_top(p.citizen, by_citizen, START_PER_CITIZEN), _top(p.unit, by_unit, START_PER_UNIT))


class _Growing:
    """A HiGHS model over all rows of a block whose columns are added as needed."""

    def __init__(self, milp: Milp, prio: np.ndarray):
        self.milp, self.prio = milp, prio
        self.h = HighsSession.empty(milp.row_hi)
        self.cols = np.zeros(0, np.int64)     # block columns in model order
        self.holds: list[int] = []            # priority of each hold row, in row order
        self.hold_at_least: list[float] = []
        # the optimal faces of earlier stages: columns fixed at 0 (never priced again)
        # or at 1, and rows held at their level
        self.dead = np.zeros(milp.n_cols, bool)
        self.one = np.zeros(milp.n_cols, bool)
        self.row_lo = np.asarray(milp.row_lo, dtype=float).copy()
        self.kept: list[tuple[np.ndarray, float]] = []  # (objective, value) of every earlier stage

    def add(self, new: np.ndarray, cost: np.ndarray) -> None:
        A = self.milp.A[:, new]
        extra_rows, extra_cols = [], []
        for k, p in enumerate(self.holds):
            hit = np.flatnonzero(self.prio[new] == p)
            extra_rows.append(np.full(len(hit), self.milp.n_rows + k))
            extra_cols.append(hit)
        rows = np.concatenate([A.indices] + extra_rows).astype(np.int32)
        colid = np.concatenate([np.repeat(np.arange(len(new)), np.diff(A.indptr))] + extra_cols)
        order = np.lexsort((rows, colid))
        starts = np.searchsorted(colid[order], np.arange(len(new))).astype(np.int32)
        n = len(new)
        # columns stay continuous: only a MIP solve marks them integer (see mip), since
        # changing integrality costs the LP its warm start
        self.h.addCols(n, cost[new].astype(float), self.one[new].astype(float), np.ones(n), len(order), starts,
                       rows[order], np.ones(len(order)))
        self.cols = np.concatenate([self.cols, new])

    def hold(self, p: int, at_least: float) -> None:
        nz = np.flatnonzero(self.prio[self.cols] == p).astype(np.int32)
        self.h.addRow(at_least, highspy.kHighsInf, len(nz), nz, np.ones(len(nz)))
        self.holds.append(p)
        self.hold_at_least.append(at_least)

    def fix_face(self, cost: np.ndarray, y: np.ndarray, AT, value: float) -> None:
        """Restrict every later stage to this stage's optimal LP face, instead of a hold row.

        With ``y`` dual optimal for the whole block, a plan is optimal for this stage's
        LP exactly when it obeys complementary slackness: columns with reduced cost
        below 0 are 0, above 0 are 1, and rows with a non-zero dual stay at their level.
        When the stage's plan reaches the LP bound, the optimal plans of the stage are
        exactly the integer plans of that face. Unlike a hold row (which makes the LP
        highly degenerate), this shrinks the model: fixed-out pairs are never priced again.
        """
        sol = self.h.getSolution()
        d = self._reduced(cost, y, AT)
        tol = FACE_TOL * max(1.0, float(np.abs(cost).max(initial=0.0)))
        # columns fixed by an earlier stage stay fixed (their reduced costs no longer matter)
        free = ~self.dead & ~self.one
        self.dead |= free & (d < -tol)
        self.one |= free & (d > tol)
        # fixed-out columns leave the model: the LPs of later stages stay small
        gone = np.flatnonzero(self.dead[self.cols]).astype(np.int32)
        self.h.deleteCols(len(gone), gone)
        self.cols = self.cols[~self.dead[self.cols]]
        n = len(self.cols)
        idx = np.arange(n, dtype=np.int32)
        self.h.changeColsBounds(n, idx, self.one[self.cols].astype(float), np.ones(n))
        level = np.rint(np.asarray(sol.row_value))
        tight = np.flatnonzero(np.abs(y) > tol).astype(np.int32)
        self.h.changeRowsBounds(len(tight), tight, level[tight], level[tight])
        orig = tight[tight < self.milp.n_rows]
        self.row_lo[orig] = level[orig]
        self.kept.append((cost, value))

    def set_objective(self, cost: np.ndarray) -> None:
        n = len(self.cols)
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), cost[self.cols].astype(float))

    def lp(self, time_limit):
        h = self.h
        set_time_limit(h, time_limit)
        h.run()
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        sol = h.getSolution()
        z, y = h.getInfo().objective_function_value, np.asarray(sol.row_dual)
        self.lp_x = np.asarray(sol.col_value)
        return (z, y) if ok else (None, None)

    def round_lp(self, cost: np.ndarray, abs_gap: float, time_limit) -> np.ndarray | None:
        """Keep the LP's integral values and solve a small MILP over its fractional columns.

        A plan found so that reaches the LP bound is optimal; None when the small MILP
        fails (the caller then solves the whole restricted MILP).
        """
        v = self.lp_x
        x = np.zeros(self.milp.n_cols, np.int8)
        one = self.cols[v > 1 - 1e-9]
        x[one] = 1
        frac = self.cols[(v > 1e-9) & (v < 1 - 1e-9)]
        if len(frac) == 0:
            return x
        used = self.milp.A @ x
        sub = self.milp.restrict(frac)
        residual = Milp(sub.pairs, sub.A, self.row_lo[sub.parent_rows] - used[sub.parent_rows],
                        sub.row_hi - used[sub.parent_rows], sub.row_kind, sub.row_group)
        session = HighsSession(residual)
        for p, h in zip(self.holds, self.hold_at_least):
            nz = np.flatnonzero(self.prio[frac] == p)
            session.add_row(nz, np.ones(len(nz)), h - x[self.prio == p].sum(), np.inf)
        session.set_objective(cost[frac])
        res = session.solve(time_limit, None, abs_gap)
        if res.x is None:
            return None
        x[frac] = res.x
        return x

    def mip(self, time_limit, start: np.ndarray, abs_gap: float):
        h, n = self.h, len(self.cols)
        idx = np.arange(n, dtype=np.int32)
        h.changeColsIntegrality(n, idx, np.full(n, highspy.HighsVarType.kInteger))
        try:
            res = run_mip(h, time_limit, start[self.cols], abs_gap)
        finally:
            h.changeColsIntegrality(n, idx, np.full(n, highspy.HighsVarType.kContinuous))
        x = None
        if res.x is not None:
            x = np.zeros_like(start)
            x[self.cols] = res.x
        return res.status, x, float(res.bound), res.nodes

    def _reduced(self, cost: np.ndarray, y: np.ndarray, AT) -> np.ndarray:
        d = cost - AT @ y[:self.milp.n_rows]
        for p, yh in zip(self.holds, y[self.milp.n_rows:]):
            d[self.prio == p] -= yh
        return d

    def reduced_costs(self, cost: np.ndarray, y: np.ndarray, AT) -> np.ndarray:
        """Reduced costs of the pairs that may still enter (others: −inf)."""
        d = self._reduced(cost, y, AT)
        d[self.cols] = -np.inf
        d[self.dead] = -np.inf
        return d


def _best_per_citizen(milp: Milp, d: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    order = candidates[np.lexsort((-d[candidates], milp.pairs.citizen[candidates]))]
    return np.sort(_top(milp.pairs.citizen, order, ADD_PER_CITIZEN))


def priced_stages(data: ProblemData, milp: Milp, objectives, deadline, log_stage, fix_faces: bool = True):
    """Run the objective stages by column generation; same contract as ``solve._stages``.

    Later stages keep earlier optima by :meth:`_Growing.fix_face` where it applies. Should
    a stage's plan ever lose an earlier optimum (a reduced cost misjudged within the
    tolerances), the block is solved again with hold rows only.
    """
    prio = data.c_prio[milp.pairs.citizen]
    start = initial_columns(data, milp)
    x = np.zeros(milp.n_cols, np.int8)
    x[start] = greedy(data, milp.restrict(start))
    model = _Growing(milp, prio)
    model.add(start, objectives[0][1])
    AT = milp.A.T.tocsr()
    log, bound = [], None
    for k, (name, cost, abs_gap) in enumerate(objectives):
        model.set_objective(cost)
        rounds = 0
        while True:
            rounds += 1
            z_lp, y = model.lp(_left(deadline))
            if z_lp is None and fix_faces and model.kept and (deadline is None or time.perf_counter() < deadline):
                # the LP failed for another reason than time: solve again with hold rows only
                return priced_stages(data, milp, objectives, deadline, log_stage, fix_faces=False)
            if z_lp is None:  # out of time: the current plan, unproven
                log.append(log_stage(name, None, float(cost @ x), rounds, len(model.cols)) | {"status": "feasible"})
                return x, Status.FEASIBLE, log, None, None
            d = model.reduced_costs(cost, y, AT)
            new = np.flatnonzero(d > TOL)
            if len(new):
                model.add(_best_per_citizen(milp, d, new), cost)
                continue
            found = model.round_lp(cost, abs_gap, _left(deadline))
            if found is not None and _feasible(milp, found, model) and cost @ found >= z_lp - abs_gap:
                x = found
                break
            status, found, b, nodes = model.mip(_left(deadline), x, abs_gap)
            if found is not None and cost @ found >= cost @ x - 1e-9:
                x = found
            value = float(cost @ x)
            if status != Status.OPTIMAL:
                log.append(log_stage(name, None, value, rounds, len(model.cols)) | {"status": "feasible", "nodes": nodes})
                b = max(b, value)
                if not np.isfinite(b):
                    return x, Status.FEASIBLE, log, None, None
                return x, Status.FEASIBLE, log, b, (b - value) / max(abs(b), 1e-9)
            slack = z_lp - value
            more = np.flatnonzero(d >= -slack - TOL) if slack > abs_gap else np.zeros(0, np.int64)
            if len(more) == 0:
                break
            model.add(more, cost)  # then the MILP once more, now provably over every useful pair
        value = float(cost @ x)
        if not all(abs(float(c @ x) - v) <= 1e-6 for c, v in model.kept):
            return priced_stages(data, milp, objectives, deadline, log_stage, fix_faces=False)
        log.append(log_stage(name, None, value, rounds, len(model.cols)))
        bound = value
        if k < len(objectives) - 1:
            if abs(z_lp - value) <= 1e-6 and fix_faces:
                model.fix_face(cost, y, AT, value)
                log[-1]["kept_by"] = "optimal face"
            else:  # the optimum lies below the LP bound: hold its counts with rows
                log[-1]["kept_by"] = "hold rows"
                for p in np.unique(prio[cost > 0]):
                    model.hold(int(p), float(x[prio == p].sum()))
    return x, Status.OPTIMAL, log, bound, 0.0


def _feasible(milp: Milp, x: np.ndarray, model: "_Growing") -> bool:
    """Whether a 0/1 vector satisfies every row of the block and keeps every earlier stage's
    optimum (guards the shortcuts)."""
    holds = all(x[model.prio == p].sum() >= h - 1e-9 for p, h in zip(model.holds, model.hold_at_least))
    kept = all(abs(float(c @ x) - v) <= 1e-6 for c, v in model.kept)
    return holds and kept and bool(np.all(milp.A @ x <= milp.row_hi + 1e-9))


def _left(deadline):
    return None if deadline is None else max(0.0, deadline - time.perf_counter())
