"""One variant's outcome: its instance solved and its plan summed up as a scenario result."""

from __future__ import annotations

from typing import Any

import models

__all__ = ["outcome"]


def outcome(inst: models.Instance, backend: str = "auto", time_limit: float | None = None) -> dict[str, Any]:
    """Solve one instance and sum its optimum up as a scenario result (without name and changes).

    Returns
    -------
    dict
        ``status``, ``objective`` (FORMAT.md §4/§5 form), ``subsidised`` assignments,
        ``passed`` turns (``anvis/2``; else ``None``), ``homeless_housed_under_3500_kr``
        (``anvis/2``; else ``None``), ``limits_full`` (ids of the pools, departments,
        frames and quotas whose positive limit the plan uses up) and the instance's
        ``instance_sha256``. The same instance gives the same dict.
    """
    from models.plan import Objective
    from optimizer.engine.solve import solve
    from optimizer.plan.build import version_2_fields
    from optimizer.plan.usage import count_used, plan_usage

    # The plan's figures without the plan: its reasons for every citizen not housed would cost
    # more than the solve itself, and a result needs none of them.
    result = solve(inst, backend=backend, time_limit=time_limit)
    ch = result.chosen
    objective = Objective(
        housed_by_priority={str(p): n for p, n in result.housed_by_priority.items()},
        total_score=float(result.total_score),
        **({} if result.value is None else {"value": result.value}),
    )
    usage = plan_usage(result.data, count_used(result.data, ch.citizen, ch.unit, ch.subsidised))
    v2 = version_2_fields(result) if inst.version == 2 else {}
    full = {
        "pools": [p.id for p in usage.pools if p.cap > 0 and p.used >= p.cap],
        "departments": [
            d.id for d in usage.departments if d.max_vulnerable is not None and 0 < d.max_vulnerable <= d.used
        ],
        "frames": [f.municipality for f in usage.frames if f.frame is not None and 0 < f.frame <= f.used],
        "quotas": [q.region for q in usage.quotas if q.quota is not None and 0 < q.quota <= q.used],
    }
    passed = v2.get("passed")
    return {
        "status": str(result.status),
        "objective": objective.model_dump(mode="json", exclude_unset=True),
        "subsidised": int(ch.subsidised.sum()),
        "passed": len(passed) if isinstance(passed, tuple) else None,
        "homeless_housed_under_3500_kr": v2.get("homeless_housed_under_3500_kr"),
        "limits_full": full,
        "instance_sha256": inst.sha256,
    }
