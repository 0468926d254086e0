"""The plan of a solve result (``anvis-plan/1``, FORMAT.md §5).

Beyond the fixed fields, a plan carries the instance hash, bound and gap,
usage of every pool, department cap, frame and quota, solver statistics, and
for every unassigned citizen a reason a planner can read and defend
(:mod:`optimizer.plan.reasons`). Nothing time-dependent is written, so the same
input gives the same bytes.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from models.plan import HOMELESS_RENT_KR, PLAN_FORMAT, Assignment, Objective, Plan, PlanStatus, Solver
from models.schema import Override
from optimizer.engine.solve import Result
from optimizer.plan.reasons import unassigned_reasons
from optimizer.plan.records import construct
from optimizer.plan.usage import count_used, plan_usage
from optimizer.text import number


def make_plan(result: Result) -> Plan:
    """The plan of a solve result.

    Parameters
    ----------
    result
        What :func:`optimizer.engine.solve.solve` returned.

    Returns
    -------
    Plan
        ``plan.to_dict()`` is the JSON document to write (:func:`models.write_plan`).
    """
    data, ch = result.data, result.chosen
    inst = data.inst
    amount = inst.parameters.subsidy_amount_kr
    used = count_used(data, ch.citizen, ch.unit, ch.subsidised)
    locked = set() if result.locked is None else set(result.locked.citizen.tolist())
    rows = []
    for c, u, sub, score in zip(
        ch.citizen.tolist(), ch.unit.tolist(), ch.subsidised.tolist(), ch.score.tolist(), strict=True
    ):
        unit = inst.units[u]
        record: dict[str, Any] = {
            "citizen": inst.citizens[c].id,
            "unit": unit.id,
            "subsidised": bool(sub),
            "effective_rent_kr": number(unit.rent_kr - amount if sub else unit.rent_kr),
            "score": float(score),
            "priority": inst.citizens[c].priority,
            "department": unit.department,
            "pool": data.pool_list[data.u_pool[u]].id,
        }
        if c in locked:
            record["locked"] = True
        rows.append(record)
    objective = Objective(
        housed_by_priority={str(p): n for p, n in result.housed_by_priority.items()},
        total_score=float(result.total_score),
        **({} if result.value is None else {"value": result.value}),
    )
    extra: dict[str, object] = {}
    if inst.version == 2:
        extra.update(version_2_fields(result))
    if inst.overrides:
        # the plan says which planner decisions it honours, so `anvis check` verifies them
        # even against the instance file the overrides were added to on the command line
        extra["overrides"] = tuple(Override.model_validate(o.model_dump(exclude_none=True)) for o in inst.overrides)
    return Plan(
        format=PLAN_FORMAT,
        instance=inst.name,
        status=cast(PlanStatus, str(result.status)),
        objective=objective,
        assignments=tuple(construct(Assignment, rows)),  # validated data: no check per record
        unassigned=unassigned_reasons(data, result, used),
        instance_sha256=inst.sha256,
        objective_kind=inst.parameters.objective,
        bound=result.bound,
        gap=result.gap,
        usage=plan_usage(data, used),
        solver=Solver.model_validate(result.stats),
        **extra,
    )


def version_2_fields(result: Result) -> dict[str, object]:
    """The fields a plan of an ``anvis/2`` instance adds (FORMAT.md §6).

    Returns
    -------
    dict
        ``passed``: the turns and offered units the plan leaves unassigned, in the
        order of ``units``; ``homeless_housed_under_3500_kr``: homeless citizens
        housed at an effective rent under 3,500 kr.
    """
    data, ch = result.data, result.chosen
    inst = data.inst
    assigned = np.zeros(data.n_units, dtype=bool)
    assigned[ch.unit] = True
    passed = tuple(inst.units[u].id for u in np.flatnonzero(data.u_turn & ~assigned).tolist())
    rent = data.u_rent[ch.unit] - np.where(ch.subsidised, inst.parameters.subsidy_amount_kr, 0)
    homeless = np.fromiter((inst.citizens[c].homeless for c in ch.citizen.tolist()), bool, len(ch.citizen))
    return {"passed": passed, "homeless_housed_under_3500_kr": int((homeless & (rent < HOMELESS_RENT_KR)).sum())}
