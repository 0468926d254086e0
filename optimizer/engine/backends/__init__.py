"""The registry of solver backends.

The backends' interface (:class:`~optimizer.engine.backends.base.Session`,
:class:`~optimizer.engine.backends.base.Capabilities`, ...) lives in
:mod:`optimizer.engine.backends.base`. A backend module is imported only when it
is first used, so that one solver library is not loaded for another's solve.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from optimizer.engine.backends.base import Capabilities, ColumnSession, Session
from optimizer.engine.model import Milp

BACKENDS = ("highs", "cpsat", "cbc")


def _session_class(name: str) -> tuple[Callable[[Milp], Session], Capabilities]:
    if name == "highs":
        from optimizer.engine.backends.highs import HighsSession

        return HighsSession, HighsSession.CAPABILITIES
    if name == "cpsat":
        from optimizer.engine.backends.cpsat import CpSatSession

        return CpSatSession, CpSatSession.CAPABILITIES
    if name == "cbc":
        from optimizer.engine.backends.cbc import CbcSession

        return CbcSession, CbcSession.CAPABILITIES
    raise ValueError(f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})")


def open_session(name: str, milp: Milp) -> Session:
    """Open a session of the named backend on a model.

    Raises
    ------
    ValueError
        For an unknown backend.
    """
    session, _ = _session_class(name)
    return session(milp)


def capabilities(name: str) -> Capabilities:
    """What the named backend can do.

    Raises
    ------
    ValueError
        For an unknown backend.
    """
    return _session_class(name)[1]


def open_column_session(name: str, row_hi: npt.NDArray[np.float64]) -> ColumnSession:
    """Open an empty column session of the named backend: rows ``0 ≤ · ≤ row_hi``, no columns yet.

    Raises
    ------
    ValueError
        For an unknown backend, or one without the capability for column generation.
    """
    if not capabilities(name).column_generation:
        raise ValueError(f"backend {name!r} cannot run column generation (it needs duals and added columns)")
    if name == "highs":
        from optimizer.engine.backends.highs import HighsColumnSession

        return HighsColumnSession(row_hi)
    raise ValueError(f"backend {name!r} declares column generation but has no column session")
