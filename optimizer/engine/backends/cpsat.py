"""OR-Tools CP-SAT: one Boolean per column, the rows as linear constraints.

CP-SAT works in integers only. Caps and hold rows are integral already; the
objective is scaled by ``10**k`` for the smallest ``k ≤ 6`` that makes every
cost integral (within ``1e-9``, relative for large values), so scores with up
to six decimals are solved exactly. Costs with more decimals than that are
rounded at ``10**6``: the solve is then only near-optimal for the true costs,
so a stage that CP-SAT proves optimal for the rounded costs is reported as
:attr:`Status.FEASIBLE`, never ``OPTIMAL``, and its bound is widened by the
rounding error so that it stays a valid upper bound.

The search is deterministic: one worker (CP-SAT is only deterministic with a
single worker) and a fixed random seed. CP-SAT reports no duals and cannot grow
a model by columns, so column generation never runs on it; a start is passed as
solution hints.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from ortools.sat.python import cp_model

from optimizer.engine.backends.base import (
    Capabilities,
    FloatArray,
    IndexArray,
    MipStart,
    StageResult,
    mip_start,
)
from optimizer.engine.model import Milp, dot
from optimizer.engine.status import Status

MAX_DIGITS = 6
_TOL = 1e-9
# CP-SAT checks that no linear expression can overflow int64; stay well inside.
_MAX_SUM = 2**53


def integer_scale(values: np.ndarray) -> tuple[int, np.ndarray, bool]:
    """``(scale, integers, exact)``: ``values × scale`` as integers.

    ``scale`` is ``10**k`` for the smallest ``k ≤ 6`` with every scaled value
    within 1e-9 of an integer (``exact``); otherwise ``10**6`` with the values
    rounded (``exact`` is False).
    """
    v = np.asarray(values, dtype=float)
    for k in range(MAX_DIGITS + 1):
        s = 10**k
        w = v * s
        r = np.rint(w)
        if np.all(np.abs(w - r) <= _TOL * np.maximum(1.0, np.abs(w))):
            return s, r.astype(np.int64), True
    s = 10**MAX_DIGITS
    return s, np.rint(v * s).astype(np.int64), False


_STATUS = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
}


class CpSatSession:
    """A CP-SAT model kept open across lexicographic stages.

    Parameters
    ----------
    milp
        The model; its constraint coefficients must be integers.
    """

    # deterministic: one worker and a fixed seed (with more workers CP-SAT is not);
    # warm start: the start is given as solution hints; mip_bound: the best objective bound;
    # concurrent sessions: each has its own model and solver, and CpSolver.solve releases the
    # interpreter while it searches (measured: a Python loop in another thread keeps its speed)
    CAPABILITIES: ClassVar[Capabilities] = Capabilities(
        duals=False, warm_start=True, mip_bound=True, deterministic=True, add_columns=False, concurrent_sessions=True
    )

    def __init__(self, milp: Milp) -> None:
        self.n = milp.n_cols
        model = cp_model.CpModel()
        self.vars = [model.new_bool_var(f"x{i}") for i in range(self.n)]
        self.model = model
        self.cost = np.zeros(self.n)
        self.scale = 1
        self.exact = True
        self.slack = 0.0  # most the rounded objective can differ from the true one (true units)
        data = milp.A.data
        s, ints, exact = integer_scale(data) if len(data) else (1, np.zeros(0, np.int64), True)
        if s != 1 or not exact:
            raise ValueError("CP-SAT backend: constraint coefficients must be integers")
        ones = bool(np.all(ints == 1))
        xs = self.vars
        for cols, vals, lo, hi in milp.rows():
            terms = [xs[j] for j in cols.tolist()]
            expr = (
                cp_model.LinearExpr.sum(terms)
                if ones
                else cp_model.LinearExpr.weighted_sum(terms, np.rint(vals).astype(np.int64).tolist())
            )
            model.add_linear_constraint(expr, _lower(lo), _upper(hi))

    def set_objective(self, cost: FloatArray) -> None:
        """Make ``cost · x`` the objective to maximise (scaled to integers)."""
        cost = np.asarray(cost, dtype=float)
        s, ints, exact = integer_scale(cost)
        if np.abs(ints).sum() > _MAX_SUM:
            raise ValueError("CP-SAT backend: objective coefficients too large to scale to integers")
        self.cost, self.scale, self.exact = cost, s, exact
        self.slack = 0.0 if exact else float(np.abs(cost - ints / s).sum())
        self.model.clear_objective()  # type: ignore[no-untyped-call]  # (OR-Tools leaves it unannotated)
        self.model.maximize(cp_model.LinearExpr.weighted_sum(self.vars, ints.tolist()))

    def add_row(self, cols: IndexArray, vals: FloatArray, lo: float, hi: float) -> None:
        """Add the row ``lo ≤ Σ vals · x[cols] ≤ hi`` (coefficients with at most six decimals)."""
        cols = np.asarray(cols, dtype=np.int64)
        s, ints, exact = integer_scale(vals) if len(cols) else (1, np.zeros(0, np.int64), True)
        if not exact:
            raise ValueError("CP-SAT backend: row coefficients need at most 6 decimals")
        lo_s = float(lo) * s if np.isfinite(lo) else lo
        hi_s = float(hi) * s if np.isfinite(hi) else hi
        expr = cp_model.LinearExpr.weighted_sum([self.vars[j] for j in cols.tolist()], ints.tolist())
        self.model.add_linear_constraint(expr, _lower(lo_s), _upper(hi_s))

    def hold_optimum(self) -> None:
        """Nothing: this backend solves each stage's model whole."""

    def solve(self, time_limit: float | None, start: MipStart, abs_gap: float) -> StageResult:
        """Solve from optional hints; stop at an absolute gap below ``abs_gap``."""
        start = mip_start(start)
        model = self.model
        model.clear_hints()  # type: ignore[no-untyped-call]  # (OR-Tools leaves it unannotated)
        if start is not None:
            for var, value in zip(self.vars, np.rint(np.asarray(start)).astype(int).tolist(), strict=True):
                model.add_hint(var, bool(value))
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.num_workers = 1
        p.random_seed = 0
        p.relative_gap_limit = 0.0
        # the scaled objective is an integer, so a gap below 1 proves optimality;
        # stop at integer gaps strictly below abs_gap (scaled), at least at gap 0
        p.absolute_gap_limit = max(0.0, math.ceil(abs_gap * self.scale - 1e-9) - 0.5)
        if time_limit is not None:
            p.max_time_in_seconds = max(0.0, float(time_limit))
        code = solver.solve(model)
        status = _STATUS.get(code, Status.ERROR)
        x = None
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            x = np.fromiter(solver.response_proto.solution, dtype=np.int64, count=-1)[: self.n].astype(np.int8)
            if self.exact:
                objective = solver.objective_value / self.scale
            else:
                objective = dot(self.cost, x)
                status = Status.FEASIBLE  # optimal only for the rounded costs
        else:
            objective = float("nan")
            if code == cp_model.UNKNOWN and start is not None:
                status = Status.FEASIBLE  # no better solution found in time; the driver keeps its start
        if x is not None:
            bound = solver.best_objective_bound / self.scale + self.slack
        elif code == cp_model.INFEASIBLE:
            bound = float("-inf")
        else:
            # stopped before any solution (often still in presolve): CP-SAT then
            # reports a bound of 0, which is no bound at all
            bound = float("inf")
        return StageResult(status, x, objective, bound, int(solver.num_branches))


def _lower(v: float) -> int:
    if not np.isfinite(v):
        return cp_model.INT_MIN
    return math.ceil(v - _TOL * max(1.0, abs(v)))


def _upper(v: float) -> int:
    if not np.isfinite(v):
        return cp_model.INT_MAX
    return math.floor(v + _TOL * max(1.0, abs(v)))
