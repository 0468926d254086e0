"""COIN-OR CBC through PuLP (the CBC binary bundled with PuLP).

The PuLP problem is built once; each stage replaces its objective and the
driver's hold rows are added as constraints. PuLP writes the model to an MPS
file and runs CBC as a subprocess for every solve; those files go into a
private temporary directory that is removed after the solve, so nothing is
left behind in the working directory (PuLP's own default falls back to the
working directory when ``$TMPDIR`` is not writable, and leaves its files
behind when CBC fails).

The problem is posed to CBC as the minimisation of ``-cost``: with a
maximisation model (PuLP passes ``-max``) and a MIP start, CBC puts its
cutoff on the wrong side of the start and can return the start as "optimal"
when better solutions exist (coin-or/Cbc#296; seen here with the bundled CBC
2.10.3 on a stage with negative costs).

CBC through PuLP does not report its best bound: :attr:`StageResult.bound` is
the objective when the stage is proven optimal, else ``float('inf')`` (no
bound known). Nor does it report duals of a MILP, or grow a model by columns:
column generation never runs on CBC.
"""

from __future__ import annotations

import tempfile
import threading
import warnings
from typing import ClassVar

import numpy as np
import pulp

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

# held while the warning filters are changed (catch_warnings is not thread-safe)
_WARNING_FILTERS = threading.Lock()

_SOL_STATUS = {
    pulp.LpSolutionOptimal: Status.OPTIMAL,
    pulp.LpSolutionIntegerFeasible: Status.FEASIBLE,
    pulp.LpSolutionInfeasible: Status.INFEASIBLE,
    pulp.LpSolutionUnbounded: Status.ERROR,
}


class CbcSession:
    """A PuLP problem kept open across lexicographic stages, solved by CBC.

    Parameters
    ----------
    milp
        The model.
    """

    # warm start: a MIP start (PuLP's warmStart); deterministic: one thread; no bound,
    # no duals of a MILP, and every solve writes the whole model anew (no added columns);
    # concurrent sessions: each solve's files are in a directory of its own (PuLP names them
    # by uuid4 besides), CBC runs as a subprocess, and the one piece of process-wide state
    # touched, the warning filters, is changed under a lock (see `solve`)
    CAPABILITIES: ClassVar[Capabilities] = Capabilities(
        duals=False, warm_start=True, mip_bound=False, deterministic=True, add_columns=False, concurrent_sessions=True
    )

    def __init__(self, milp: Milp) -> None:
        self.n = milp.n_cols
        self.prob = pulp.LpProblem("anvis", pulp.LpMinimize)  # of -cost: see the module docstring
        # PuLP 3 creates variables through the problem (plain LpVariable is deprecated there)
        new_var = getattr(self.prob, "add_variable", None) or pulp.LpVariable
        self.vars = [new_var(f"x{i}", 0, 1, pulp.LpBinary) for i in range(self.n)]
        self.cost = np.zeros(self.n)
        for cols, vals, lo, hi in milp.rows():
            self._add(cols.tolist(), vals.tolist(), lo, hi)
        self.set_objective(self.cost)

    def _add(self, cols: list[int], vals: list[float], lo: float, hi: float) -> None:
        """Rows ``lo ≤ Σ vals·x[cols] ≤ hi``; a side is left out where the 0/1 bounds imply it."""
        least = sum(v for v in vals if v < 0)
        most = sum(v for v in vals if v > 0)
        xs = self.vars
        terms = [(xs[j], v) for j, v in zip(cols, vals, strict=True)]
        has_lo = np.isfinite(lo) and lo > least
        has_hi = np.isfinite(hi) and hi < most
        if has_lo and has_hi and lo == hi:
            self.prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintEQ, rhs=lo))
            return
        if has_lo:
            self.prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintGE, rhs=lo))
        if has_hi:
            self.prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintLE, rhs=hi))

    def set_objective(self, cost: FloatArray) -> None:
        """Make ``cost · x`` the objective to maximise (posed as minimising ``-cost``)."""
        # every column stays in the objective (zero cost included) so that every
        # variable is written to CBC and read back from it
        self.cost = np.asarray(cost, dtype=float)
        self.prob.setObjective(pulp.LpAffineExpression(list(zip(self.vars, (-self.cost).tolist(), strict=True))))

    def add_row(self, cols: IndexArray, vals: FloatArray, lo: float, hi: float) -> None:
        """Add the row ``lo ≤ Σ vals · x[cols] ≤ hi``."""
        self._add(
            np.asarray(cols, dtype=np.int64).tolist(), np.asarray(vals, dtype=float).tolist(), float(lo), float(hi)
        )

    def hold_optimum(self) -> None:
        """Nothing: this backend solves each stage's model whole."""

    def solve(self, time_limit: float | None, start: MipStart, abs_gap: float) -> StageResult:
        """Solve with CBC from an optional MIP start, to an absolute gap."""
        start = mip_start(start)
        if start is not None:
            for var, value in zip(self.vars, np.rint(np.asarray(start)).astype(int).tolist(), strict=True):
                var.setInitialValue(value)
        # catch_warnings swaps the process-wide warning filters: one session at a time
        # (sessions of other blocks may be solving in other threads)
        with _WARNING_FILTERS, warnings.catch_warnings():
            # PuLP 3 deprecates its bundled CBC in favour of a separately installed one
            warnings.filterwarnings("ignore", message="PULP_CBC_CMD is deprecated", category=DeprecationWarning)
            solver = pulp.PULP_CBC_CMD(
                msg=False,
                timeLimit=None if time_limit is None else max(float(time_limit), 0.0),
                gapRel=0,
                gapAbs=float(abs_gap),
                threads=1,
                warmStart=start is not None,
            )
        try:
            with tempfile.TemporaryDirectory(prefix="anvis-cbc-") as tmp:
                solver.tmpDir = tmp
                self.prob.solve(solver)
        except pulp.PulpSolverError:
            failed = Status.FEASIBLE if start is not None else Status.ERROR
            return StageResult(failed, None, float("nan"), float("inf"))
        # sol_status, not prob.status: PuLP sets prob.status to "Optimal" also when
        # CBC stopped on the time limit with a solution ("Stopped on time - objective value")
        status: Status | None = _SOL_STATUS.get(self.prob.sol_status)
        x = None
        objective = float("nan")
        if status in (Status.OPTIMAL, Status.FEASIBLE):
            x = np.array([0 if v.varValue is None else round(v.varValue) for v in self.vars], dtype=np.int8)
            objective = dot(self.cost, x)
        elif status is None:  # no solution found (a time limit) or an undefined status
            status = Status.FEASIBLE if start is not None else Status.ERROR
        bound = objective if status == Status.OPTIMAL else float("inf")
        return StageResult(status, x, objective, bound)
