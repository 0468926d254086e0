"""Solver backends behind one interface.

A backend opens a :class:`Session` on a :class:`~optimizer.engine.model.Milp`; the
lexicographic driver then sets objectives, adds rows and solves, stage after
stage. Each backend maps its own status codes into :class:`~optimizer.engine.status.Status`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from optimizer.engine.model import Milp
from optimizer.engine.status import Status


@dataclass(frozen=True)
class StageResult:
    """What one solve of one objective returned.

    ``x`` is the 0/1 value of every column (``None`` if the solver found no
    solution); ``bound`` the proven upper bound on the objective.
    """

    status: Status
    x: np.ndarray | None
    objective: float
    bound: float
    nodes: int = 0


class Session(Protocol):
    """An open model that keeps its rows between stages."""

    def set_objective(self, cost: np.ndarray) -> None: ...

    def add_row(self, cols: np.ndarray, vals: np.ndarray, lo: float, hi: float) -> None: ...

    def solve(self, time_limit: float | None, start: np.ndarray | None, abs_gap: float) -> StageResult: ...


BACKENDS = ("highs", "cpsat", "cbc")


def open_session(name: str, milp: Milp) -> Session:
    """Open a session of the named backend on a model."""
    if name == "highs":
        from optimizer.engine.backends.highs import HighsSession

        return HighsSession(milp)
    if name == "cpsat":
        from optimizer.engine.backends.cpsat import CpSatSession

        return CpSatSession(milp)
    if name == "cbc":
        from optimizer.engine.backends.cbc import CbcSession

        return CbcSession(milp)
    raise ValueError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")
