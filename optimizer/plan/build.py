"""The plan document (``anvis-plan/1``, FORMAT.md §5) and its explanations.

Beyond the fixed fields, a plan carries the instance hash, bound and gap,
usage of every pool, department cap, frame and quota, solver statistics, and
for every unassigned citizen a reason a planner can read and defend. Nothing
time-dependent is written, so the same input gives the same bytes.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from optimizer.engine.data import NO_LIMIT, ProblemData
from optimizer.engine.pairs import RULE_TEXT, candidates, failure_codes
from optimizer.engine.solve import Result

PLAN_FORMAT = "anvis-plan/1"
OVERRIDDEN = "excluded by a planner override (forbid or reserve)"


def _num(x: float):
    x = float(x)
    return int(x) if x.is_integer() else x


def _limit(v) -> int | None:
    return None if int(v) >= NO_LIMIT else int(v)


def make_plan(result: Result) -> dict:
    """The plan of a solve result, as a JSON-ready dict."""
    data, ch = result.data, result.chosen
    inst = data.inst
    amount = inst.parameters.subsidy_amount_kr
    used = _used(data, result)
    assignments = []
    locked = set() if result.locked is None else set(result.locked.citizen.tolist())
    for c, u, sub, score in zip(ch.citizen.tolist(), ch.unit.tolist(), ch.subsidised.tolist(), ch.score.tolist()):
        unit = inst.units[u]
        assignments.append(
            {
                "citizen": inst.citizens[c].id,
                "unit": unit.id,
                "subsidised": bool(sub),
                "effective_rent_kr": _num(unit.rent_kr - amount if sub else unit.rent_kr),
                "score": float(score),
                "priority": inst.citizens[c].priority,
                "department": unit.department,
                "pool": data.pool_list[data.u_pool[u]].id,
            }
        )
        if c in locked:
            assignments[-1]["locked"] = True
    objective = {
        "housed_by_priority": {str(p): n for p, n in result.housed_by_priority.items()},
        "total_score": float(result.total_score),
    }
    if result.value is not None:
        objective["value"] = result.value
    plan = {
        "format": PLAN_FORMAT,
        "instance": inst.name,
        "status": str(result.status),
        "objective": objective,
        "assignments": assignments,
        "unassigned": unassigned_reasons(data, result, used),
        "instance_sha256": inst.sha256,
        "objective_kind": inst.parameters.objective,
        "bound": result.bound,
        "gap": result.gap,
        "usage": _usage(data, used),
        "solver": result.stats,
    }
    if inst.overrides:
        # the plan says which planner decisions it honours, so `anvis check` verifies them
        # even against the instance file the overrides were added to on the command line
        plan["overrides"] = [o.model_dump(exclude_none=True) for o in inst.overrides]
    return plan


def _usage(data: ProblemData, used: dict) -> dict:
    inst = data.inst
    pool_used, dept_used, frame_used, quota_used = (used[k] for k in ("pool", "department", "frame", "quota"))
    return {
        "pools": [
            {
                "id": p.id,
                "municipality": p.municipality,
                "share": p.share,
                "vacancies": p.vacancies,
                "vacancies_before": p.vacancies_before,
                "claimed_before": p.claimed_before,
                "cap": p.cap,
                "used": int(n),
            }
            for p, n in zip(data.pool_list, pool_used)
        ],
        "departments": [
            {"id": d.id, "max_vulnerable": d.max_vulnerable, "used": int(n)}
            for d, n in zip(inst.departments, dept_used)
            if d.max_vulnerable is not None
        ],
        "frames": [
            {"municipality": m.id, "frame": m.subsidy_frame, "used": int(n)}
            for m, n in zip(inst.municipalities, frame_used)
        ],
        "quotas": [{"region": r.id, "quota": r.grant_quota, "used": int(n)} for r, n in zip(inst.regions, quota_used)],
    }


def _used(data: ProblemData, result: Result) -> dict[str, np.ndarray]:
    """Assignments counted against each pool, department cap, frame and quota."""
    ch = result.chosen
    u, sub = ch.unit, ch.subsidised
    vul = data.c_vulnerable[ch.citizen]
    return {
        "pool": np.bincount(data.u_pool[u], minlength=len(data.pool_list)),
        "department": np.bincount(data.u_dept[u][vul], minlength=data.n_departments),
        "frame": np.bincount(data.u_muni[u][sub], minlength=len(data.inst.municipalities)),
        "quota": np.bincount(data.u_region[u][sub], minlength=len(data.inst.regions)),
    }


def _full_caps(data: ProblemData, used: dict, c: int, u: int, subsidised: bool) -> list[str]:
    """The caps that stop citizen c from taking the free unit u in this plan (empty if none)."""
    inst, out = data.inst, []
    checks = [("pool", data.u_pool[u], data.pool_cap, lambda i: f"pool {data.pool_list[i].id!r} share cap")]
    if data.c_vulnerable[c]:
        checks.append(
            (
                "department",
                data.u_dept[u],
                data.dept_cap,
                lambda i: f"department {inst.departments[i].id!r} mixed-city cap",
            )
        )
    if subsidised:
        checks.append(
            (
                "frame",
                data.u_muni[u],
                data.muni_frame,
                lambda i: f"subsidy frame of municipality {inst.municipalities[i].id!r}",
            )
        )
        checks.append(
            ("quota", data.u_region[u], data.region_quota, lambda i: f"grant quota of region {inst.regions[i].id!r}")
        )
    for kind, i, cap, name in checks:
        n = int(used[kind][i])
        if n >= cap[i]:
            out.append(f"{name(i)} full ({n}/{int(cap[i])})")
    return out


def unassigned_reasons(data: ProblemData, result: Result, used: dict | None = None) -> list[dict]:
    """For every unassigned citizen, a code, a readable reason and its details.

    Codes: ``no_eligible_unit`` (rules 2–8 rule out every unit: which rules,
    how often), ``capacity`` (eligible units are free, but a named pool,
    department, frame or quota is full), ``outranked`` (every eligible unit
    went to a more urgent citizen), ``competition`` (eligible units went to
    citizens of equal or lower urgency in a plan that houses more urgent
    citizens or scores higher), ``time_limit`` (a free eligible unit remains:
    only in a plan cut short by a time limit).
    """
    inst, pairs, ch = data.inst, result.pairs, result.chosen
    used = _used(data, result) if used is None else used
    housed = np.zeros(data.n_citizens, bool)
    housed[ch.citizen] = True
    taker = np.full(data.n_units, -1)
    taker[ch.unit] = ch.citizen
    start = np.searchsorted(pairs.citizen, np.arange(data.n_citizens + 1))
    overridden = np.zeros(data.n_citizens, np.int64)
    if result.excluded is not None:
        overridden = np.bincount(result.excluded.citizen, minlength=data.n_citizens)
    out = []
    for c in np.flatnonzero(~housed).tolist():
        cit = inst.citizens[c]
        lo, hi = start[c], start[c + 1]
        entry = {"citizen": cit.id, "priority": cit.priority}
        if lo == hi:
            entry.update(_no_eligible(data, c))
            out.append(entry)
            continue
        units, subs = pairs.unit[lo:hi].tolist(), pairs.subsidised[lo:hi].tolist()
        more_urgent = same_or_less = 0
        blocked: Counter = Counter()
        free = []
        for u, s in zip(units, subs):
            t = taker[u]
            if t >= 0:
                if data.c_prio[t] < cit.priority:
                    more_urgent += 1
                else:
                    same_or_less += 1
                continue
            caps = _full_caps(data, used, c, u, s)
            if caps:
                blocked.update(caps)
            else:
                free.append(inst.units[u].id)
        n = int(hi - lo)
        parts = []
        if overridden[c]:
            parts.append(f"{overridden[c]} more excluded by planner overrides (forbid or reserve)")
        if more_urgent:
            parts.append(f"{more_urgent} went to more urgent citizens")
        if same_or_less:
            parts.append(
                f"{same_or_less} went to citizens of equal or lower urgency in a plan that "
                "houses more urgent citizens or scores higher"
            )
        if blocked:
            parts.append(
                "blocked by a full cap: "
                + "; ".join(f"{k} [{v} unit{'s' * (v > 1)}]" for k, v in sorted(blocked.items()))
            )
        if free:
            code = "time_limit"
            parts.append(f"unit(s) {', '.join(free[:5])} still free: the solve was cut short")
        elif blocked:
            code = "capacity"
        elif same_or_less:
            code = "competition"
        else:
            code = "outranked"
        entry.update(
            {
                "code": code,
                "reason": f"{n} eligible unit{'s' * (n > 1)}: " + "; ".join(parts),
                "details": {
                    "eligible_units": n,
                    "to_more_urgent": more_urgent,
                    "to_equal_or_less_urgent": same_or_less,
                    "blocked_by": dict(sorted(blocked.items())),
                    "free": free,
                },
            }
        )
        if overridden[c]:
            entry["details"]["excluded_by_overrides"] = int(overridden[c])
        out.append(entry)
    return out


def _no_eligible(data: ProblemData, c: int) -> dict:
    inst = data.inst
    muni = inst.municipalities[data.c_muni[c]].id
    codes = np.concatenate(
        [failure_codes(data, ci, ui) for ci, ui in candidates(data, np.array([c]))] or [np.zeros(0, np.int8)]
    )
    if len(codes) == 0:
        return {
            "code": "no_eligible_unit",
            "reason": f"no eligible unit: no vacant unit in municipality {muni!r} this round",
            "details": {"units_in_municipality": 0},
        }
    counts = Counter(codes.tolist())
    # code 0: eligible by the rules, so a forbid or reserve took the unit out
    rules = {RULE_TEXT.get(k, OVERRIDDEN): v for k, v in sorted(counts.items())}
    text = "; ".join(f"{v} {k}" for k, v in rules.items())
    return {
        "code": "no_eligible_unit",
        "reason": f"no eligible unit: of {len(codes)} units in municipality {muni!r}, {text}",
        "details": {"units_in_municipality": len(codes), "ruled_out_by": rules},
    }
