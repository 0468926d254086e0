"""The log of the lexicographic stages: one entry per stage, written into plans.

Both stage drivers (:func:`optimizer.engine.solve.solve` over one backend session,
and column generation in :mod:`optimizer.engine.methods.pricing`) log their stages
here, so that an entry has one format whichever way the stage was solved.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.engine.backends.base import StageResult
from optimizer.engine.status import Status

#: One stage's entry in a plan's solver statistics (JSON values).
StageEntry = dict[str, Any]
#: An objective stage: its name, cost per column and absolute gap.
Objective = tuple[str, npt.NDArray[np.float64], float]
#: What a stage driver returns: the solution (a value per column), status, stage log, bound and gap.
StagesResult = tuple[npt.NDArray[np.integer], Status, list[StageEntry], float | None, float | None]


def count_stage(priorities: list[int]) -> str:
    """The name of the stage that maximises the numbers housed of ``priorities`` (packed in one objective)."""
    return "housed priority " + ",".join(map(str, priorities))


def clean(v: float) -> float | None:
    """Round away solver noise so plans are stable (12 significant digits); None if not finite."""
    return float(f"{v:.12g}") if np.isfinite(v) else None


def stage_log(
    name: str,
    res: StageResult | None,
    value: float,
    rounds: int | None = None,
    columns: int | None = None,
    status: Status | None = None,
) -> StageEntry:
    """The log entry of one stage.

    Parameters
    ----------
    name
        The stage's name (``"housed priority 1,2"``, ``"total score"``, ...).
    res
        The backend's result of the stage, or None when the stage was solved by other
        means (column generation): then it counts as optimal, with bound ``value``.
    value
        The objective value of the plan the stage ends with.
    rounds, columns
        Pricing rounds and columns used, for a stage solved by column generation.
    status
        The stage's status when it is not ``res``'s (column generation stopped early).

    Returns
    -------
    dict
        ``stage``, ``status``, ``objective``, ``bound``, then ``nodes`` when there is a
        result and ``pricing_rounds``, ``columns_used`` when there are rounds.
    """
    if status is None:
        status = res.status if res is not None else Status.OPTIMAL
    entry: StageEntry = {
        "stage": name,
        "status": str(status),
        "objective": clean(value),
        "bound": clean(res.bound) if res is not None and res.status != Status.OPTIMAL else clean(value),
    }
    if res is not None:
        entry["nodes"] = res.nodes
    if rounds is not None:
        entry.update(pricing_rounds=rounds, columns_used=columns)
    return entry
