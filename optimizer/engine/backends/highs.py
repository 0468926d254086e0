"""HiGHS through highspy: the whole sparse matrix passed at once.

HiGHS is the one backend with every capability: LP duals and a model that grows by
columns and re-solves from its basis (:class:`HighsColumnSession`, for column
generation), MIP starts and bounds. It runs with one thread and a fixed seed, so its
results are deterministic.
"""

from __future__ import annotations

import time
from typing import ClassVar

import highspy
import numpy as np
import numpy.typing as npt

from optimizer.engine.backends.base import (
    Capabilities,
    FloatArray,
    IndexArray,
    IntArray,
    LpResult,
    MipStart,
    StageResult,
    mip_start,
)
from optimizer.engine.face import face_tolerance
from optimizer.engine.model import Csc, Milp, dot
from optimizer.engine.status import Status

_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kTimeLimit: Status.FEASIBLE,
    highspy.HighsModelStatus.kIterationLimit: Status.FEASIBLE,
    highspy.HighsModelStatus.kSolutionLimit: Status.FEASIBLE,
    highspy.HighsModelStatus.kInterrupt: Status.FEASIBLE,
}

# concurrent sessions: highspy releases the interpreter in `run`, and each thread that runs
# HiGHS gets its own task executor (thread-local since HiGHS 1.2, ERGO-Code/HiGHS#818); the
# scheduler is never reset here (resetting it under a running solve is what is unsafe)
_CAPABILITIES = Capabilities(
    duals=True, warm_start=True, mip_bound=True, deterministic=True, add_columns=True, concurrent_sessions=True
)


# HiGHS's simplex_strategy values: the dual simplex (its default, and what its MIP solves
# use) and the primal (for a session's first LP: HighsSession._cold_lp)
_DUAL, _PRIMAL = 1, 4
_NO_LIMIT = 2**31 - 1  # HiGHS's simplex_iteration_limit: none
#: Iterations per row the primal simplex gets for a session's first LP (HighsSession._cold_lp):
#: the national and hard-national weeks' blocks took 0.16-0.29, hard-city's largest 6.7
PRIMAL_ITERATIONS = 0.5
#: The share of a stage session's columns fixed from which HiGHS gets a model without them
#: (HighsSession._compact): there the dual simplex from no basis beat the last basis over
#: the whole model on every block measured (the national week's largest, 71 % fixed: 10 ms
#: against 17)
COMPACT_SHARE = 0.5
#: A row that columns left out of a compacted model break by more than this stays in it
_FEASIBLE = 1e-9


def _highs() -> highspy.Highs:
    h = highspy.Highs()
    # Presolve off: on these network-like models it finds little and took 38 s of a
    # 40 s stage on a national week (stages without it: under 0.5 s each).
    for key, value in (
        ("output_flag", False),
        ("random_seed", 0),
        ("threads", 1),
        ("mip_rel_gap", 0.0),
        ("presolve", "off"),
    ):
        h.setOptionValue(key, value)
    return h


def _set_time_limit(h: highspy.Highs, time_limit: float | None) -> None:
    h.setOptionValue("time_limit", float(time_limit) if time_limit is not None else highspy.kHighsInf)


def _integral(v: FloatArray) -> bool:
    """Whether LP values are 0/1 (or integer) within 1e-9: rounded, every row sum rounds to the same integer."""
    return bool(np.abs(v - np.rint(v)).max(initial=0.0) <= 1e-9)


def _optimum(v: FloatArray, value: float) -> StageResult:
    """The stage's result for an integral LP optimum ``v`` of objective ``value`` (then the MILP's)."""
    return StageResult(Status.OPTIMAL, np.rint(v).astype(np.int32), value, value, 0)


def _add_row(h: highspy.Highs, cols: IndexArray, vals: FloatArray, lo: float, hi: float) -> None:
    h.addRow(
        float(lo),
        float(hi) if np.isfinite(hi) else highspy.kHighsInf,
        len(cols),
        np.asarray(cols, dtype=np.int32),
        np.asarray(vals, dtype=float),
    )


def _run_mip(
    h: highspy.Highs, time_limit: float | None, start: IntArray | None, abs_gap: float, presolve: bool = False
) -> StageResult:
    """Run a HiGHS MIP from an optional start and map the outcome into a :class:`StageResult`.

    The model's first ``n`` columns are marked integer for the run and continuous again
    after it: the model stays continuous between solves, since changing integrality
    costs the LP its warm start. ``presolve``: HiGHS's presolve for this run.
    """
    n = h.getNumCol()
    idx = np.arange(n, dtype=np.int32)
    h.changeColsIntegrality(n, idx, np.full(n, highspy.HighsVarType.kInteger))
    h.setOptionValue("presolve", "on" if presolve else "off")
    # no root restarts in the presolved band MILPs: HiGHS restarts its root search after
    # fixing columns by reduced cost, and on hard-city's score-stage band (2,008 pairs)
    # the restarted root took 1.6 s against 0.47 s without (at random seeds 1-4: 0.52-0.57
    # s without, 0.55-0.63 s with); on the other MIPs (no presolve) it made no difference
    h.setOptionValue("mip_allow_restart", not presolve)
    try:
        _set_time_limit(h, time_limit)
        h.setOptionValue("mip_abs_gap", float(abs_gap))
        if start is not None:
            sol = highspy.HighsSolution()
            sol.col_value = np.asarray(start, dtype=float).tolist()
            sol.value_valid = True
            h.setSolution(sol)
        h.run()
        status = _STATUS.get(h.getModelStatus(), Status.ERROR)
        info = h.getInfo()
        x = None
        if info.primal_solution_status == 2:  # kSolutionStatusFeasible
            x = np.rint(np.asarray(h.getSolution().col_value)).astype(np.int32)
        elif status == Status.FEASIBLE:
            status = Status.ERROR if start is None else Status.FEASIBLE
        bound = info.mip_dual_bound if status != Status.OPTIMAL else info.objective_function_value
        return StageResult(status, x, float(info.objective_function_value), float(bound), int(info.mip_node_count))
    finally:
        h.changeColsIntegrality(n, idx, np.full(n, highspy.HighsVarType.kContinuous))
        h.setOptionValue("presolve", "off")
        h.setOptionValue("mip_allow_restart", True)


def _model(A: Csc, row_lo: FloatArray, row_hi: FloatArray, col_hi: FloatArray, cost: FloatArray) -> highspy.Highs:
    """A continuous HiGHS model maximising ``cost · x`` subject to ``row_lo ≤ A x ≤ row_hi``, ``0 ≤ x ≤ col_hi``."""
    h = _highs()
    n = len(col_hi)
    # the arrays as such (highspy's passModel of arrays): filling a HighsLp's fields
    # converts every entry through Python (6 ms of a national week's 17,407 columns)
    status = h.passModel(
        n,
        len(row_lo),
        int(A.indptr[-1]),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMaximize),
        0.0,
        np.asarray(cost, dtype=float),
        np.zeros(n),
        np.asarray(col_hi, dtype=float),
        np.asarray(row_lo, dtype=float),
        np.asarray(row_hi, dtype=float),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(float),
        # every column continuous (an empty array would be read as n values): the
        # model stays continuous between solves, as in _run_mip
        np.zeros(n, np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model")
    return h


#: A row added to a stage session: ``(columns, coefficients, lo, hi)``
Row = tuple[IndexArray, FloatArray, float, float]


class HighsSession:
    """A HiGHS model kept open across lexicographic stages.

    After a stage, :meth:`hold_optimum` fixes the columns that every plan keeping its
    optimum has at a bound; where that is most of them, HiGHS gets a model without them
    (:meth:`_compact`). The objective and the rows added reach HiGHS at the next solve, and
    every result is stated over the session's columns.

    Parameters
    ----------
    milp
        The model; its columns are binary unless ``milp.col_hi`` bounds them.
    """

    CAPABILITIES: ClassVar[Capabilities] = _CAPABILITIES

    def __init__(self, milp: Milp) -> None:
        self.n = n = milp.n_cols
        self.milp = milp
        self.col_hi = np.ones(n) if milp.col_hi is None else np.asarray(milp.col_hi, dtype=float)
        self.cost = np.zeros(n)
        self.presolve = False
        self.fixed = np.zeros(n, bool)  # the columns hold_optimum fixed
        self.at = np.zeros(n)  # ... and where (0 elsewhere)
        self.rows: list[Row] = []  # every row add_row added
        # HiGHS's model (None: made at the next solve), its columns among the session's (in
        # its order), whether it has the objective, and how many of the added rows it has
        self.h: highspy.Highs | None = None
        self.cols = np.arange(n, dtype=np.int32)
        self.has_cost = False
        self.has_rows = 0
        # the objective and the reduced costs (of the model's columns) of the last solve's
        # LP optimum, when integral
        self.face: tuple[FloatArray, FloatArray] | None = None
        # no solve yet, and the empty plan is feasible: the first LP may start from it (_cold_lp)
        self.cold = bool(np.all(milp.row_lo <= 0) and np.all(milp.row_hi >= 0))

    def presolve_mips(self) -> None:
        """Let HiGHS presolve this session's MIP solves (its LPs stay without).

        For small models of fixed and free pairs, such as column generation's band of
        one stage (:meth:`~optimizer.engine.methods.pricing.GrowingModel.best_in_band`):
        there presolve took hard-city's score stage MILP from 2.5 s to 0.6 s. On whole
        blocks it does not pay (see :func:`_highs`).
        """
        self.presolve = True

    def set_objective(self, cost: FloatArray) -> None:
        """Make ``cost · x`` the objective to maximise."""
        self.cost = np.asarray(cost, dtype=float)
        self.has_cost = False

    def add_row(self, cols: IndexArray, vals: FloatArray, lo: float, hi: float) -> None:
        """Add the row ``lo ≤ Σ vals · x[cols] ≤ hi``."""
        self.rows.append((np.asarray(cols), np.asarray(vals, dtype=float), float(lo), float(hi)))

    def hold_optimum(self) -> None:
        """Fix the columns that every plan keeping the last solve's optimum has at a bound.

        The caller has added rows that keep that optimum in every later solve. Where it
        was the LP's optimum (integral, hence the MILP's), the columns whose reduced cost
        exceeds the face tolerance (:mod:`optimizer.engine.face`, with the LP's duals and
        no gap) are at that bound in every such plan, and are fixed there: no later
        optimum changes, and the later LPs start with most columns out of reach. Where at
        least :data:`COMPACT_SHARE` of the model's columns, but not all, are then fixed,
        HiGHS gets a model without them (:meth:`_compact`); else their bounds are fixed in
        the model.
        """
        h = self.h
        if self.face is None or h is None:  # no integral LP optimum of the model as it stands
            return
        new, value = self._at_bounds(*self.face)
        if not len(new):
            return
        self.fixed[self.cols[new]] = True
        self.at[self.cols[new]] = value
        fixed = int(self.fixed[self.cols].sum())
        if COMPACT_SHARE * len(self.cols) <= fixed < len(self.cols):  # (HiGHS takes no model of no columns)
            self._compact()
        else:
            h.changeColsBounds(len(new), new, value, value)

    def _compact(self) -> None:
        """Leave the fixed columns out of HiGHS's model: the next solve makes it anew without them.

        The dual simplex from no basis solves that smaller model faster than from the last
        stage's basis the whole one (the national week's largest block: the score stage in
        10 ms rather than 17, over 5,051 columns and 520 rows rather than 17,407 and 1,456).
        """
        self.cols = np.flatnonzero(~self.fixed).astype(np.int32)
        self.h = None
        self.face = None  # (of the model left behind: its columns are not the next model's)

    def model(self) -> highspy.Highs:
        """HiGHS's model as the session stands: made where there is none, else given the new objective and rows."""
        h = self.h
        if h is None:
            h = self.h = self._made(self.cols, self.at)
            self.has_rows = 0
        elif not self.has_cost:
            m = len(self.cols)
            h.changeColsCost(m, np.arange(m, dtype=np.int32), self.cost[self.cols])
        self.has_cost = True
        if self.has_rows < len(self.rows):
            self._add_rows(h, self.rows[self.has_rows :], self.cols, self.at)
            self.has_rows = len(self.rows)
        return h

    def _made(self, cols: IndexArray, at: FloatArray) -> highspy.Highs:
        """A HiGHS model of the milp's columns ``cols`` (ascending), without the rows added.

        The other columns are left out at their values ``at``, and the bounds of each row
        are less what they add to it. A row of those columns only is left out where they
        keep it; one they break stays, empty, so that HiGHS finds the model infeasible.
        """
        milp = self.milp
        cost, col_hi = self.cost[cols], self.col_hi[cols]
        if len(cols) == self.n:
            return _model(milp.A, milp.row_lo, milp.row_hi, col_hi, cost)
        A = milp.A
        value = np.where(self._left_out(cols), at, 0.0)
        used = np.bincount(A.indices, weights=A.data * np.repeat(value, np.diff(A.indptr)), minlength=milp.n_rows)
        sub = A.columns(cols)
        lo, hi = milp.row_lo - used, milp.row_hi - used
        rows = np.flatnonzero((sub.row_counts() > 0) | (lo > _FEASIBLE) | (hi < -_FEASIBLE))
        return _model(sub.take_rows(rows), lo[rows], hi[rows], col_hi, cost)

    def _left_out(self, cols: IndexArray) -> npt.NDArray[np.bool_]:
        """Which of the session's columns a model of its columns ``cols`` leaves out."""
        out = np.ones(self.n, bool)
        out[cols] = False
        return out

    def _add_rows(self, h: highspy.Highs, rows: list[Row], cols: IndexArray, at: FloatArray) -> None:
        """Add rows of the session's columns to a model of its columns ``cols`` (:meth:`_made`) in one call.

        In the model's columns, each row's bounds less what the columns left out (at their
        values ``at``) add to it.
        """
        if not rows:
            return
        pos = None
        if len(cols) < self.n:
            pos = np.full(self.n, -1, np.int32)
            pos[cols] = np.arange(len(cols), dtype=np.int32)
        index, value, lower, upper = [], [], [], []
        for row_cols, vals, lo, hi in rows:
            shift = 0.0
            if pos is None:
                index.append(row_cols)
                value.append(vals)
            else:
                where = pos[row_cols]
                kept = where >= 0
                shift = dot(vals[~kept], at[row_cols[~kept]])
                index.append(where[kept])
                value.append(vals[kept])
            lower.append(lo - shift)
            upper.append(hi - shift)  # HiGHS's infinity is IEEE's
        starts = np.zeros(len(rows), np.int32)
        np.cumsum([len(c) for c in index[:-1]], out=starts[1:])
        h.addRows(
            len(rows),
            np.array(lower, dtype=float),
            np.array(upper, dtype=float),
            int(sum(len(c) for c in index)),
            starts,
            np.concatenate(index).astype(np.int32),
            np.concatenate(value).astype(float),
        )

    def _at_bounds(self, cost: FloatArray, reduced: FloatArray) -> tuple[IndexArray, FloatArray]:
        """The model's columns not fixed yet that reduced costs put at a bound in every LP optimum, and that bound.

        Those whose reduced cost exceeds the face tolerance (:mod:`optimizer.engine.face`,
        no gap, scaled by ``cost``): at the upper bound where it is positive, at 0 where it
        is negative. ``cost`` and ``reduced`` are of the model's columns. A column fixed by
        an earlier stage stays where it is, whatever its reduced cost now.
        """
        tol = face_tolerance(0.0, float(np.abs(cost).max(initial=0.0)))
        cols = np.flatnonzero(~self.fixed[self.cols] & (np.abs(reduced) > tol)).astype(np.int32)
        return cols, np.where(reduced[cols] > 0, self.col_hi[self.cols[cols]], 0.0)

    def solve(self, time_limit: float | None, start: MipStart, abs_gap: float) -> StageResult:
        """The LP's optimum when it is integral, else a MIP solve from ``start`` (made only then)."""
        h = self.model()
        found = self._integral_lp(h, time_limit)
        if found is None:
            plan = mip_start(start)
            found = _run_mip(h, time_limit, None if plan is None else plan[self.cols], abs_gap, self.presolve)
        if len(self.cols) == self.n:
            return found
        # the columns left out, at their values: in the plan, and their part of the objective
        out = self._left_out(self.cols)
        offset = dot(self.cost[out], self.at[out])
        x = None
        if found.x is not None:
            x = np.rint(self.at).astype(found.x.dtype)
            x[self.cols] = found.x
        return StageResult(found.status, x, found.objective + offset, found.bound + offset, found.nodes)

    def _integral_lp(self, h: highspy.Highs, time_limit: float | None) -> StageResult | None:
        """The LP relaxation's optimum when it is integral (then it is the MILP's), else None.

        Assignment-shaped models often have integral LP optima, and the simplex alone is
        several times faster than HiGHS's MIP machinery around it. (The model is kept
        continuous between stages; only a MIP solve marks the columns integer.) The
        session's first LP has no basis to start from: :meth:`_cold_lp` solves it.
        """
        self.face = None
        if self.cold:
            self.cold = False
            return self._cold_lp(h, time_limit)
        return self._warm_lp(h, time_limit)

    def _warm_lp(self, h: highspy.Highs, time_limit: float | None) -> StageResult | None:
        """:meth:`_integral_lp` by the dual simplex, from the basis HiGHS has (if any)."""
        lp = _run_lp(h, time_limit, _DUAL)
        if lp is None or not _integral(lp[0]):
            return None
        self.face = (self.cost[self.cols], lp[1])
        return _optimum(lp[0], lp[2])

    def _cold_lp(self, h: highspy.Highs, time_limit: float | None) -> StageResult | None:
        """:meth:`_integral_lp` from no basis where the empty plan is feasible: the primal simplex first.

        From no basis the dual simplex starts with every column of positive cost at its
        upper bound, far from feasible, and its bound-flipping ratio test then passes over
        thousands of tied breakpoints an iteration (the national week's largest block: 30 ms
        for 125 iterations, 70 % in that test). The primal simplex starts from the empty plan
        and there takes 14 ms. It gets :data:`PRIMAL_ITERATIONS` per row: past them (a
        degenerate model: hard-city's largest block took 8,069 iterations and 1.1 s, the dual
        0.17 s), the dual simplex solves the LP from scratch, as without this step.

        The primal's vertex may be fractional where the dual's would not be (hard-national's
        largest block): then the dual simplex solves the LP over its optimal face, the columns
        whose reduced cost puts them at a bound in every optimum (:mod:`optimizer.engine.face`)
        left out, from scratch (:meth:`_face_lp`; there in 20 ms, the whole LP in 77). An
        integral optimum of the face is one of the LP's, hence the MILP's. The session's model
        stands as it did, and the primal's duals are the face :meth:`hold_optimum` fixes: they
        certify the bound of the whole LP.
        """
        began = time.perf_counter()
        h.setOptionValue("simplex_iteration_limit", int(PRIMAL_ITERATIONS * h.getNumRow()) + 50)
        try:
            lp = _run_lp(h, time_limit, _PRIMAL)
        finally:
            h.setOptionValue("simplex_iteration_limit", _NO_LIMIT)
        left = None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - began))
        if h.getModelStatus() == highspy.HighsModelStatus.kIterationLimit:
            h.clearSolver()
            return self._warm_lp(h, left)
        if lp is None:
            return None
        if not _integral(lp[0]):
            found = self._face_lp(lp[1], left)
            if found is None:
                return None
            lp = (found[0], lp[1], found[1])
        self.face = (self.cost[self.cols], lp[1])
        return _optimum(lp[0], lp[2])

    def _face_lp(self, reduced: FloatArray, time_limit: float | None) -> tuple[FloatArray, float] | None:
        """An integral optimum of the first LP over its optimal face, from no basis: values and objective, else None.

        The face of the reduced costs ``reduced`` (:meth:`_at_bounds`) is a model of the
        columns they leave free (:meth:`_made`), solved by the dual simplex from scratch:
        from the primal's basis the dual would stop at the same fractional vertex. The
        session's model stays as it is. Only for the first LP, whose model has every column.
        """
        assert len(self.cols) == self.n  # no hold before the first LP
        fix, at = self._at_bounds(self.cost, reduced)
        value = self.at.copy()
        value[fix] = at
        free = ~self.fixed
        free[fix] = False
        cols = np.flatnonzero(free).astype(np.int32)
        if not len(cols):  # (a fractional vertex has a column off its bounds, hence free)
            return None
        h = self._made(cols, value)
        self._add_rows(h, self.rows, cols, value)
        face = _run_lp(h, time_limit, _DUAL)
        if face is None or not _integral(face[0]):
            return None
        value[cols] = face[0]
        return value, face[2] + dot(self.cost[~free], value[~free])


def _run_lp(h: highspy.Highs, time_limit: float | None, strategy: int) -> tuple[FloatArray, FloatArray, float] | None:
    """Run the LP by one simplex strategy; its values, reduced costs and objective at an optimum, else None.

    The strategy is the dual again after the run: HiGHS's MIP solves take it as it stands.
    """
    _set_time_limit(h, time_limit)
    if strategy != _DUAL:
        h.setOptionValue("simplex_strategy", strategy)
    try:
        h.run()
    finally:
        if strategy != _DUAL:
            h.setOptionValue("simplex_strategy", _DUAL)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    return np.asarray(sol.col_value), np.asarray(sol.col_dual), float(h.getInfo().objective_function_value)


class HighsColumnSession:
    """A maximising HiGHS model over fixed rows that grows by columns (column generation).

    Parameters
    ----------
    row_hi
        The upper bound of every row; rows start at ``0 ≤ · ≤ row_hi``, with no columns.
    """

    CAPABILITIES: ClassVar[Capabilities] = _CAPABILITIES

    def __init__(self, row_hi: FloatArray) -> None:
        h = _highs()
        n = len(row_hi)
        h.addRows(
            n,
            np.zeros(n),
            np.asarray(row_hi, dtype=float),
            0,
            np.zeros(n, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0),
        )
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h

    @property
    def n_cols(self) -> int:
        """The number of columns in the model."""
        return int(self.h.getNumCol())

    def add_columns(
        self,
        cost: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        starts: IndexArray,
        rows: IndexArray,
        values: FloatArray,
    ) -> None:
        """Append columns, their matrix entries given column-wise (CSC ``starts``, ``rows``, ``values``)."""
        self.h.addCols(
            len(cost),
            np.asarray(cost, dtype=float),
            np.asarray(lower, dtype=float),
            np.asarray(upper, dtype=float),
            len(rows),
            np.asarray(starts, dtype=np.int32),
            np.asarray(rows, dtype=np.int32),
            np.asarray(values, dtype=float),
        )

    def delete_columns(self, cols: IndexArray) -> None:
        """Remove the columns at these positions."""
        self.h.deleteCols(len(cols), np.asarray(cols, dtype=np.int32))

    def set_costs(self, cost: FloatArray) -> None:
        """Set the cost of every column."""
        n = len(cost)
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=float))

    def set_column_bounds(self, cols: IndexArray, lower: FloatArray, upper: FloatArray) -> None:
        """Set the bounds of some columns."""
        self.h.changeColsBounds(
            len(cols), np.asarray(cols, dtype=np.int32), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        )

    def set_row_bounds(self, rows: IndexArray, lower: FloatArray, upper: FloatArray) -> None:
        """Set the bounds of some rows."""
        self.h.changeRowsBounds(
            len(rows), np.asarray(rows, dtype=np.int32), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        )

    def add_row(self, cols: IndexArray, vals: FloatArray, lo: float, hi: float) -> None:
        """Add the row ``lo ≤ Σ vals · x[cols] ≤ hi``."""
        _add_row(self.h, cols, vals, lo, hi)

    def set_cost_perturbation(self, on: bool) -> None:
        """Switch the dual simplex's own cost perturbation on or off."""
        self.h.setOptionValue("dual_simplex_cost_perturbation_multiplier", 1.0 if on else 0.0)

    def solve_lp(self, time_limit: float | None, iteration_limit: int | None) -> LpResult:
        """Solve the LP relaxation (the columns are continuous between MIP solves)."""
        h = self.h
        _set_time_limit(h, time_limit)
        h.setOptionValue("simplex_iteration_limit", _NO_LIMIT if iteration_limit is None else iteration_limit)
        h.run()
        code = h.getModelStatus()
        sol = h.getSolution()
        return LpResult(
            _STATUS.get(code, Status.ERROR),
            code == highspy.HighsModelStatus.kIterationLimit,
            float(h.getInfo().objective_function_value),
            np.asarray(sol.col_value, dtype=float),
            np.asarray(sol.row_dual, dtype=float),
        )

    def solve_mip(self, time_limit: float | None, start: IntArray, abs_gap: float) -> StageResult:
        """Solve with integer columns from a start, to an absolute gap."""
        return _run_mip(self.h, time_limit, start, abs_gap)
