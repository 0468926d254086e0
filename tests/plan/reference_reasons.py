"""The plan's reasons and usage as they were built record by record before issue 12: the reference.

Kept verbatim (but for the names) from ``optimizer/plan/reasons.py`` and ``usage.py`` at ede7fa6,
so that ``tests/plan/test_reasons_columns.py`` can compare the records built from columns with them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.plan import DepartmentUsage, FrameUsage, PoolUsage, QuotaUsage, Unassigned, Usage
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import NOT_A_TURN, Pairs, candidates, failure_codes
from optimizer.engine.solve import Result
from optimizer.plan.reasons import Fates, fates, plan_cap_text, plan_rule_counts, reason_codes
from optimizer.plan.usage import CAP_KINDS, IntArray, Used, group_of
from optimizer.text import plural


def reference_unassigned_reasons(data: ProblemData, result: Result, used: Used) -> tuple[Unassigned, ...]:
    """For every citizen a solve result leaves unhoused, a code, a readable reason and its details.

    Parameters
    ----------
    data
        The instance's arrays.
    result
        The solve result (its eligible pairs, chosen pairs and override exclusions).
    used
        The result's usage of every cap (:func:`optimizer.plan.usage.count_used`).
    """
    inst, pairs, ch = data.inst, result.pairs, result.chosen
    n_cit = data.n_citizens
    housed = np.zeros(n_cit, bool)
    housed[ch.citizen] = True
    taker = np.full(data.n_units, -1, np.int64)
    taker[ch.unit] = ch.citizen
    overridden = np.zeros(n_cit, np.int64)
    if result.excluded is not None:
        overridden = np.bincount(result.excluded.citizen, minlength=n_cit)
    unhoused = np.flatnonzero(~housed)
    mine: Pairs = pairs.take(~housed[pairs.citizen])
    f = fates(data, used, taker, mine.citizen.astype(np.int64), mine.unit.astype(np.int64), mine.subsidised)
    start = np.searchsorted(f.citizen, np.arange(n_cit + 1))
    # per-citizen counts of the pairs' fates, all at once
    n_elig = np.diff(start)
    n_more = np.bincount(f.citizen[f.more_urgent], minlength=n_cit)
    n_same = np.bincount(f.citizen[f.same_or_less], minlength=n_cit)
    n_free = np.bincount(f.citizen[f.free], minlength=n_cit)
    blocked = reference_blocked_by(data, used, f)
    n_blocked = np.zeros(n_cit, np.int64)
    for c, caps in blocked.items():
        n_blocked[c] = len(caps)
    codes = reason_codes(n_elig, n_free, n_blocked, n_same).tolist()
    lacking = unhoused[n_elig[unhoused] == 0]
    lacking_reasons = dict(zip(lacking.tolist(), reference_no_eligible_all(data, lacking), strict=True))
    out = []
    for c in unhoused.tolist():
        cit = inst.citizens[c]
        if c in lacking_reasons:
            out.append(Unassigned.model_construct(citizen=cit.id, priority=cit.priority, **lacking_reasons[c]))
            continue
        lo, hi = int(start[c]), int(start[c + 1])
        more_urgent, same_or_less, n = int(n_more[c]), int(n_same[c]), hi - lo
        caps = blocked.get(c, {})
        free = [inst.units[u].id for u in f.unit[lo:hi][f.free[lo:hi]].tolist()] if n_free[c] else []
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
        if caps:
            parts.append("blocked by a full cap: " + "; ".join(f"{k} [{plural(v, 'unit')}]" for k, v in caps.items()))
        if free:
            parts.append(f"unit(s) {', '.join(free[:5])} still free: the solve was cut short")
        details: dict[str, Any] = {
            "eligible_units": n,
            "to_more_urgent": more_urgent,
            "to_equal_or_less_urgent": same_or_less,
            "blocked_by": dict(caps),
            "free": free,
        }
        if overridden[c]:
            details["excluded_by_overrides"] = int(overridden[c])
        out.append(
            Unassigned.model_construct(  # built from validated data: no check per record (43 µs each)
                citizen=cit.id,
                priority=cit.priority,
                code=codes[c],
                reason=f"{plural(n, 'eligible unit')}: " + "; ".join(parts),
                details=details,
            )
        )
    return tuple(out)


def reference_blocked_by(data: ProblemData, used: Used, f: Fates) -> dict[int, dict[str, int]]:
    """Per citizen with blocked pairs: the full caps blocking them, as plans name them, sorted -> units.

    A unit counts once under each name (several unnamed caps of one unit are one
    :data:`UNNAMED_CAP`), so pairs and names are made unique before counting.
    """
    texts: dict[str, int] = {}
    pair_parts, text_parts = [], []
    for kind in CAP_KINDS:
        idx = np.flatnonzero(f.full[kind])
        groups, inverse = np.unique(group_of(data, kind, f.unit[idx]), return_inverse=True)
        ids = [texts.setdefault(plan_cap_text(data, used, kind, g), len(texts)) for g in groups.tolist()]
        pair_parts.append(idx)
        text_parts.append(np.asarray(ids, np.int64)[inverse.ravel()])
    if not texts:
        return {}
    # each text id's position among the sorted texts, so that counting in key order sorts by name
    names = sorted(texts)
    position = {t: i for i, t in enumerate(names)}
    rank = np.array([position[t] for t in texts], np.int64)
    per_pair = np.unique(np.concatenate(pair_parts) * len(texts) + rank[np.concatenate(text_parts)])
    cit = f.citizen[per_pair // len(texts)]
    keys, counts = np.unique(cit * len(texts) + per_pair % len(texts), return_counts=True)
    out: dict[int, dict[str, int]] = {}
    for key, n in zip(keys.tolist(), counts.tolist(), strict=True):
        out.setdefault(key // len(texts), {})[names[key % len(texts)]] = n
    return out


def reference_no_eligible_all(data: ProblemData, citizens: IntArray) -> list[dict[str, Any]]:
    """:func:`no_eligible` of several citizens (ascending indices) at once, one pass over their candidates."""
    inst = data.inst
    k = NOT_A_TURN + 1  # failure codes are 0..NOT_A_TURN
    cits = np.asarray(citizens, np.int64)
    # counted chunk by chunk: the candidate pairs of many citizens can outgrow memory
    counts = np.zeros(len(cits) * k, np.int64)
    for ci, ui in candidates(data, cits):
        at = np.searchsorted(cits, ci)
        counts += np.bincount(at * k + failure_codes(data, ci, ui), minlength=len(counts))
    per = counts.reshape(len(cits), k)
    out = []
    for c, row in zip(cits.tolist(), per.tolist(), strict=True):
        muni = inst.municipalities[data.c_muni[c]].id
        counted = {code: n for code, n in enumerate(row) if n}  # in ascending code order
        if not counted:
            out.append(
                {
                    "code": "no_eligible_unit",
                    "reason": f"no eligible unit: no vacant unit in municipality {muni!r} this round",
                    "details": {"units_in_municipality": 0},
                }
            )
            continue
        total = sum(counted.values())
        rules = plan_rule_counts(counted)
        text = "; ".join(f"{n} {rule}" for rule, n in rules.items())
        out.append(
            {
                "code": "no_eligible_unit",
                "reason": f"no eligible unit: of {plural(total, 'unit')} in municipality {muni!r}, {text}",
                "details": {"units_in_municipality": total, "ruled_out_by": rules},
            }
        )
    return out


def reference_plan_usage(data: ProblemData, used: Used) -> Usage:
    """The plan's ``usage`` section: every pool, capped department, frame and quota with its use."""
    inst = data.inst
    return Usage(
        pools=tuple(
            PoolUsage(
                id=p.id,
                municipality=p.municipality,
                share=p.share,
                vacancies=p.vacancies,
                vacancies_before=p.vacancies_before,
                claimed_before=p.claimed_before,
                cap=p.cap,
                used=int(n),
            )
            for p, n in zip(data.pool_list, used.pool.tolist(), strict=True)
        ),
        departments=tuple(
            DepartmentUsage(id=d.id, max_vulnerable=d.max_vulnerable, used=int(n))
            for d, n in zip(inst.departments, used.department.tolist(), strict=True)
            if d.max_vulnerable is not None
        ),
        frames=tuple(
            FrameUsage(municipality=m.id, frame=m.subsidy_frame, used=int(n))
            for m, n in zip(inst.municipalities, used.frame.tolist(), strict=True)
        ),
        quotas=tuple(
            QuotaUsage(region=r.id, quota=r.grant_quota, used=int(n))
            for r, n in zip(inst.regions, used.quota.tolist(), strict=True)
        ),
    )
