"""What every solver backend offers: the types of the backend interface.

A backend opens a :class:`Session` on a :class:`~optimizer.engine.model.Milp`; the
lexicographic driver then sets objectives, adds rows and solves, stage after
stage. A backend that can also grow an LP by columns and report its duals opens a
:class:`ColumnSession`, which column generation (:mod:`optimizer.engine.methods.pricing`)
works on. Each backend declares what it can do in a :class:`Capabilities`, and maps
its own status codes into :class:`~optimizer.engine.status.Status`.

This module imports no backend, so that the registry (the package) and the backend
modules both import from here and never from each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from optimizer.engine.status import Status

#: A vector of floats (costs, bounds, values, duals).
FloatArray = npt.NDArray[np.float64]
#: A vector of column or row indices.
IndexArray = npt.NDArray[np.integer]
#: A solution: one integral value per column.
IntArray = npt.NDArray[np.integer]
#: A MIP start for :meth:`Session.solve`: the plan itself, a function that makes it (called
#: only by a backend that uses it, and only when it does), or none.
MipStart = IntArray | Callable[[], IntArray] | None


def mip_start(start: MipStart) -> IntArray | None:
    """The plan of a :data:`MipStart`: a function start is called here."""
    return start() if callable(start) else start


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, as it is configured in anvis.

    Attributes
    ----------
    duals
        Reports row duals of an LP (the MILP's relaxation).
    warm_start
        Takes a start solution (a MIP start or a solution hint); a solve's ``start``
        reaches only backends where this is true (others keep the greedy start, which
        they may ignore).
    mip_bound
        Reports a proven bound on the objective when a solve stops early.
    deterministic
        The same model gives the same solution on every run (as configured: fixed
        seeds, one thread or worker).
    add_columns
        Can grow a model by columns and re-solve it from the previous basis.
    concurrent_sessions
        Sessions on different models may be solved at once, each in its own thread,
        with the same results as one after another: the solver keeps no state shared
        between sessions, and it releases the interpreter while it solves (so that
        solving at once saves time). One session is only ever used by one thread.
    """

    duals: bool
    warm_start: bool
    mip_bound: bool
    deterministic: bool
    add_columns: bool
    concurrent_sessions: bool

    @property
    def column_generation(self) -> bool:
        """Whether column generation can run on the backend: it prices with duals and adds columns."""
        return self.duals and self.add_columns


@dataclass(frozen=True)
class StageResult:
    """What one solve of one objective returned.

    Attributes
    ----------
    status
        The outcome, in the one status vocabulary.
    x
        The integral value of every column; ``None`` if the solver found no solution.
    objective
        The solution's objective value (NaN without a solution).
    bound
        The proven upper bound on the objective (``inf`` when none is known).
    nodes
        Branch-and-bound nodes (or branches) the solver explored.
    """

    status: Status
    x: IntArray | None
    objective: float
    bound: float
    nodes: int = 0


@dataclass(frozen=True)
class LpResult:
    """What one solve of an LP relaxation returned.

    Attributes
    ----------
    status
        ``OPTIMAL`` when the LP was solved to optimality; otherwise how it stopped.
    iteration_limit
        Whether it stopped on the iteration limit (rather than time or a failure).
    value
        The objective value at the last iterate (meaningful when optimal).
    x
        The value of every column at the last iterate.
    duals
        The dual value of every row at the last iterate.
    """

    status: Status
    iteration_limit: bool
    value: float
    x: FloatArray
    duals: FloatArray


class Session(Protocol):
    """An open model that keeps its rows between stages."""

    CAPABILITIES: ClassVar[Capabilities]

    def set_objective(self, cost: FloatArray) -> None:
        """Make ``cost · x`` the objective to maximise."""

    def add_row(self, cols: IndexArray, vals: FloatArray, lo: float, hi: float) -> None:
        """Add the row ``lo ≤ Σ vals · x[cols] ≤ hi``."""

    def solve(self, time_limit: float | None, start: MipStart, abs_gap: float) -> StageResult:
        """Solve the model as it stands, from an optional start, to an absolute gap.

        A start given as a function is made only if the backend uses it for this solve
        (HiGHS: only when the LP's optimum is not integral and a MIP runs).
        """

    def hold_optimum(self) -> None:
        """Learn that every later solve keeps the last solve's optimum.

        The caller has added rows that keep it. A backend may narrow the model by what
        that implies, without changing any later optimum (HiGHS fixes the columns that
        complementary slackness puts at a bound, and leaves them out of its model where
        they are most of it); others do nothing.
        """


class ColumnSession(Protocol):
    """A maximising LP (or MILP) over fixed rows whose columns are added as needed.

    Columns are continuous in ``[lower, upper]`` for :meth:`solve_lp`; :meth:`solve_mip`
    solves them as integers and leaves them continuous again, so that the next LP starts
    from the previous basis. Column positions are those of the model: appended in the
    order added, shifted down by deletions.
    """

    CAPABILITIES: ClassVar[Capabilities]

    @property
    def n_cols(self) -> int:
        """The number of columns in the model."""

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

    def delete_columns(self, cols: IndexArray) -> None:
        """Remove the columns at these positions."""

    def set_costs(self, cost: FloatArray) -> None:
        """Set the cost of every column."""

    def set_column_bounds(self, cols: IndexArray, lower: FloatArray, upper: FloatArray) -> None:
        """Set the bounds of some columns."""

    def set_row_bounds(self, rows: IndexArray, lower: FloatArray, upper: FloatArray) -> None:
        """Set the bounds of some rows."""

    def add_row(self, cols: IndexArray, vals: FloatArray, lo: float, hi: float) -> None:
        """Add the row ``lo ≤ Σ vals · x[cols] ≤ hi``."""

    def set_cost_perturbation(self, on: bool) -> None:
        """Let the LP solver perturb costs against degeneracy, or not."""

    def solve_lp(self, time_limit: float | None, iteration_limit: int | None) -> LpResult:
        """Solve the LP relaxation, with optional time and iteration limits."""

    def solve_mip(self, time_limit: float | None, start: IntArray, abs_gap: float) -> StageResult:
        """Solve the model with integer columns from a start, to an absolute gap."""
