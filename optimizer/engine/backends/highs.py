"""HiGHS through highspy: the whole sparse matrix passed at once."""

from __future__ import annotations

import highspy
import numpy as np

from optimizer.engine.backends import StageResult
from optimizer.engine.model import Milp
from optimizer.engine.status import Status

_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kTimeLimit: Status.FEASIBLE,
    highspy.HighsModelStatus.kIterationLimit: Status.FEASIBLE,
    highspy.HighsModelStatus.kSolutionLimit: Status.FEASIBLE,
    highspy.HighsModelStatus.kInterrupt: Status.FEASIBLE,
}


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


class HighsSession:
    """A HiGHS model kept open across lexicographic stages."""

    def __init__(self, milp: Milp):
        self.n = milp.n_cols
        h = _highs()
        lp = highspy.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = milp.n_rows
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.zeros(self.n)
        lp.col_upper_ = np.ones(self.n) if milp.col_hi is None else np.asarray(milp.col_hi, dtype=float)
        lp.row_lower_ = np.asarray(milp.row_lo, dtype=float)
        lp.row_upper_ = milp.row_hi.astype(float)
        A = milp.A
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(float)
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.num_row_ = milp.n_rows
        lp.sense_ = highspy.ObjSense.kMaximize
        h.passModel(lp)
        self.h = h

    @staticmethod
    def empty(row_hi: np.ndarray) -> highspy.Highs:
        """A maximising HiGHS model with rows ``≤ row_hi`` and no columns yet."""
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
        return h

    def set_objective(self, cost: np.ndarray) -> None:
        self.h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), np.asarray(cost, dtype=float))

    def add_row(self, cols, vals, lo, hi) -> None:
        self.h.addRow(
            float(lo),
            float(hi) if np.isfinite(hi) else highspy.kHighsInf,
            len(cols),
            np.asarray(cols, dtype=np.int32),
            np.asarray(vals, dtype=float),
        )

    def solve(self, time_limit, start, abs_gap) -> StageResult:
        found = self._integral_lp(time_limit)
        if found is not None:
            return found
        h, idx = self.h, np.arange(self.n, dtype=np.int32)
        h.changeColsIntegrality(self.n, idx, np.full(self.n, highspy.HighsVarType.kInteger))
        try:
            return run_mip(h, time_limit, start, abs_gap)
        finally:
            h.changeColsIntegrality(self.n, idx, np.full(self.n, highspy.HighsVarType.kContinuous))

    def _integral_lp(self, time_limit) -> StageResult | None:
        """The LP relaxation's optimum when it is integral (then it is the MILP's), else None.

        Assignment-shaped models often have integral LP optima, and the simplex alone is
        several times faster than HiGHS's MIP machinery around it. (The model is kept
        continuous between stages; only a MIP solve marks the columns integer.)
        """
        h = self.h
        set_time_limit(h, time_limit)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        v = np.asarray(h.getSolution().col_value)
        x = np.rint(v)
        # within 1e-9 of 0/1, every row sum rounds to the same integer, so x keeps every row
        if np.abs(v - x).max(initial=0.0) > 1e-9:
            return None
        value = h.getInfo().objective_function_value
        return StageResult(Status.OPTIMAL, x.astype(np.int32), value, value, 0)


def set_time_limit(h: highspy.Highs, time_limit: float | None) -> None:
    h.setOptionValue("time_limit", float(time_limit) if time_limit is not None else highspy.kHighsInf)


def run_mip(h: highspy.Highs, time_limit, start, abs_gap) -> StageResult:
    """Run a HiGHS MIP from an optional start and map the outcome into a :class:`StageResult`."""
    set_time_limit(h, time_limit)
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
    return StageResult(status, x, info.objective_function_value, bound, int(info.mip_node_count))
