"""One variant's outcome: its instance solved and its plan summed up as a scenario result."""

from __future__ import annotations

from typing import Any

import models

__all__ = ["outcome"]


def outcome(inst: models.Instance, backend: str = "auto", time_limit: float | None = None) -> dict[str, Any]:
    """Solve one instance and sum its plan up as a scenario result (without name and changes).

    Returns
    -------
    dict
        ``status``, ``objective`` (FORMAT.md §4/§5 form), ``subsidised`` assignments,
        ``passed`` turns (``anvis/2``; else ``None``), ``homeless_housed_under_3500_kr``
        (``anvis/2``; else ``None``), ``limits_full`` (ids of the pools, departments,
        frames and quotas whose positive limit the plan uses up) and the instance's
        ``instance_sha256``. The same instance gives the same dict.
    """
    from optimizer.engine.solve import solve
    from optimizer.plan.build import make_plan

    plan = make_plan(solve(inst, backend=backend, time_limit=time_limit))
    doc = plan.to_dict()
    usage = plan.usage
    full: dict[str, list[str]] = {"pools": [], "departments": [], "frames": [], "quotas": []}
    if usage is not None:
        full["pools"] = [p.id for p in usage.pools if p.cap > 0 and p.used >= p.cap]
        full["departments"] = [
            d.id for d in usage.departments if d.max_vulnerable is not None and 0 < d.max_vulnerable <= d.used
        ]
        full["frames"] = [f.municipality for f in usage.frames if f.frame is not None and 0 < f.frame <= f.used]
        full["quotas"] = [q.region for q in usage.quotas if q.quota is not None and 0 < q.quota <= q.used]
    return {
        "status": doc["status"],
        "objective": doc["objective"],
        "subsidised": sum(a.subsidised for a in plan.assignments),
        "passed": None if plan.passed is None else len(plan.passed),
        "homeless_housed_under_3500_kr": plan.homeless_housed_under_3500_kr,
        "limits_full": full,
        "instance_sha256": inst.sha256,
    }
