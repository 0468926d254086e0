"""A starting plan for a solve: given pairs made a feasible incumbent of the model.

A start (:data:`Start`) names assignments by ids, so that the optimum of one
instance can start the solve of another that differs in a limit (``anvis prices``
re-solves a block with a limit one more or one fewer from the block's optimum).
:func:`start_columns` turns it into a 0/1 value per column of the model and
**repairs** it: pairs that are not columns (not eligible, forbidden, locked, or of a
locked citizen or unit) are left out, and where the rest break a row (a citizen or
unit twice, a cap, frame or quota exceeded, net of locked pairs), the least valuable
of the row's pairs are dropped until it holds. Every row has coefficients of 1 and a
lower bound of 0, so dropping pairs never breaks another row: the repaired start is
feasible, and a solver given it starts from a valid plan. Whether a start was given,
repaired or not, never decides the optimum's value; it only saves the solver work.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from models import Plan
from optimizer.engine.data import ProblemData, member_of
from optimizer.engine.model import Milp
from optimizer.engine.pairs import Pairs

#: A starting plan: the (citizen id, unit id) of each of its assignments.
Start = frozenset[tuple[str, str]]


def start_of(plan: Plan | Iterable[tuple[str, str]]) -> Start:
    """The start a plan (or any (citizen id, unit id) pairs) gives.

    Parameters
    ----------
    plan
        A :class:`~models.Plan` (its assignments, locked ones included), or pairs of ids.

    Returns
    -------
    Start
    """
    if isinstance(plan, Plan):
        return frozenset((a.citizen, a.unit) for a in plan.assignments)
    return frozenset((str(c), str(u)) for c, u in plan)


def start_columns(data: ProblemData, milp: Milp, start: Start) -> npt.NDArray[np.int8]:
    """The start as a feasible 0/1 value per column of ``milp`` (see the module docstring).

    Parameters
    ----------
    data
        The problem the model was built from (caps net of locked pairs).
    milp
        The model (binary columns).
    start
        The pairs to start from; ids the instance does not know are left out.

    Returns
    -------
    numpy.ndarray
        One 0/1 entry per column, satisfying every row of ``milp``.
    """
    x = np.zeros(milp.n_cols, np.int8)
    if not start or milp.n_cols == 0:
        return x
    c_index, u_index = data.citizen_index, data.unit_index
    known = [(c_index[c], u_index[u]) for c, u in sorted(start) if c in c_index and u in u_index]
    if not known:
        return x
    n_units = max(data.n_units, 1)
    wanted = np.array([c * n_units + u for c, u in known], np.int64)
    p = milp.pairs
    x[member_of(p.citizen.astype(np.int64) * n_units + p.unit, wanted)] = 1
    x = repaired(data, milp, x)
    level = activity(milp, x)
    if np.any(level > milp.row_hi + 1e-9) or np.any(level < milp.row_lo - 1e-9):
        # rows the repair cannot mend (a model with other coefficients or lower bounds):
        # no start rather than an infeasible one, which a stage driver could keep
        return np.zeros(milp.n_cols, np.int8)
    return x


def repaired(data: ProblemData, milp: Milp, x: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """``x`` with the least valuable pairs of each broken row dropped until every row holds.

    Least valuable: of the least urgent priority, then the lowest score, then the last
    column (a fixed order, so the repair is deterministic). One pass suffices: the rows
    have coefficients of 1 and lower bounds of 0, so a pair dropped for one row only
    frees room in the others.
    """
    x = x.copy()
    A = milp.A
    entry_row, entry_col = A.indices, entry_columns(milp)
    over = activity(milp, x) - milp.row_hi
    bad = np.flatnonzero(over > 1e-9)
    if len(bad) == 0:
        return x
    hit = member_of(entry_row, bad) & (x[entry_col] > 0) & (A.data != 0)
    rows, cols = entry_row[hit].astype(np.int64), entry_col[hit].astype(np.int64)
    prio = data.c_prio[milp.pairs.citizen[cols]]
    # within each broken row: least urgent (largest priority number) first, then lowest score, then last column
    order = np.lexsort((-cols, milp.pairs.score[cols], -prio, rows))
    rows, cols = rows[order], cols[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    excess = np.ceil(over[rows] - 1e-9).astype(np.int64)
    x[cols[rank < excess]] = 0
    return x


def entry_columns(milp: Milp) -> npt.NDArray[np.int64]:
    """The column of each stored entry of ``milp.A`` (in its CSC order)."""
    return np.repeat(np.arange(milp.A.shape[1]), np.diff(milp.A.indptr))


def activity(milp: Milp, x: npt.NDArray[np.integer]) -> npt.NDArray[np.float64]:
    """Each row's ``A @ x``, summed without SciPy.

    A start is checked on the solve path, which imports no ``scipy.sparse``.
    """
    # (bincount with weights gives floats; its stubs say integers)
    return np.asarray(
        np.bincount(milp.A.indices, weights=milp.A.data * x[entry_columns(milp)], minlength=milp.A.shape[0]),
        np.float64,
    )


def chosen_start(data: ProblemData, chosen: Pairs) -> Start:
    """The start of a solve's chosen pairs (indices into ``data``'s instance) by ids."""
    citizens, units = data.inst.citizens, data.inst.units
    return frozenset(
        (citizens[c].id, units[u].id) for c, u in zip(chosen.citizen.tolist(), chosen.unit.tolist(), strict=True)
    )
