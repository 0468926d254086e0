"""Why a citizen is not housed: the one reason chain of plans, explanations and reports.

Every eligible unit of an unhoused citizen met one fate in the plan: it went to
a more urgent citizen, to one of equal or lower urgency, it is free but a full
cap (:mod:`optimizer.plan.usage`) blocks it, or it is free and unblocked (only
in a plan cut short). The reason code follows from the counts, in this order:

``no_eligible_unit``
    rules 2–8 (or planner overrides) rule out every unit;
``time_limit``
    a free eligible unit remains: only in a plan cut short by a time limit;
``capacity``
    eligible units are free, but a named pool, department, frame or quota is full;
``competition``
    eligible units went to citizens of equal or lower urgency in a plan that
    houses more urgent citizens or scores higher;
``outranked``
    every eligible unit went to a more urgent citizen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.plan import Unassigned
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import NOT_A_TURN, PLAN_RULE_TEXT, Pairs, candidates, failure_codes
from optimizer.engine.solve import Result
from optimizer.plan.usage import (
    CAP_KINDS,
    BoolArray,
    CapKind,
    IntArray,
    Used,
    cap_text,
    full_mask,
    group_of,
)
from optimizer.text import plural

#: Reason codes, in the order the chain tries them.
CODES = ("no_eligible_unit", "time_limit", "capacity", "competition", "outranked")
OVERRIDDEN = "excluded by a planner override (forbid or reserve)"
#: A full cap in a plan or report when naming it would state a citizen's attribute: a
#: department's mixed-city cap binds only vulnerable citizens, a subsidy frame or grant
#: quota only those who need the subsidy. Pool share caps bind everyone and are named.
UNNAMED_CAP = "a limit on the units"


def plan_cap_text(data: ProblemData, used: Used, kind: CapKind, i: int, full: bool = True) -> str:
    """A cap as plans and reports name it: a pool by id and use, any other cap unnamed (``full`` adds "full").

    See :data:`UNNAMED_CAP`; ``anvis explain`` names every cap (:func:`~optimizer.plan.usage.cap_text`).
    """
    return cap_text(data, used, kind, i, full) if kind == "pool" else UNNAMED_CAP + " full" * full


def plan_rule_counts(counts: Mapping[int, int]) -> dict[str, int]:
    """Units per failure code as plans and reports count them: per rule wording, in the given order.

    Parameters
    ----------
    counts
        Failure code (:func:`~optimizer.engine.pairs.failure_codes`; 0: eligible by
        the rules, so a planner's forbid or reserve took the unit out) -> units.
    """
    out: dict[str, int] = {}
    for code, n in counts.items():
        text = PLAN_RULE_TEXT.get(code, OVERRIDDEN)
        out[text] = out.get(text, 0) + int(n)
    return out


def reason_codes(n_eligible: IntArray, n_free: IntArray, n_blocked: IntArray, n_same: IntArray) -> NDArray[np.str_]:
    """The reason code of each unhoused citizen from the fates of their eligible units (vectorised).

    Parameters
    ----------
    n_eligible
        Eligible units (not excluded by an override).
    n_free
        Of those, free in the plan and not blocked by a full cap.
    n_blocked
        Free, but blocked by a full cap.
    n_same
        Taken by citizens of equal or lower urgency.
    """
    return np.select(
        [np.asarray(n_eligible) == 0, np.asarray(n_free) > 0, np.asarray(n_blocked) > 0, np.asarray(n_same) > 0],
        list(CODES[:4]),
        CODES[4],
    )


def reason_code(n_eligible: int, n_free: int, n_blocked: int, n_same: int) -> str:
    """The reason code of one unhoused citizen (see :func:`reason_codes`)."""
    return str(reason_codes(np.array([n_eligible]), np.array([n_free]), np.array([n_blocked]), np.array([n_same]))[0])


@dataclass(frozen=True, eq=False)
class Fates:
    """What became of each eligible pair of a plan's unhoused citizens.

    Attributes
    ----------
    citizen, unit, subsidised
        The pairs.
    taker
        The citizen each pair's unit went to, or -1.
    more_urgent, same_or_less
        Taken by a more urgent citizen; by one of equal or lower urgency.
    full
        Per cap kind: the unit is free but a full cap of that kind blocks the pair.
    blocked
        Free, blocked by at least one full cap.
    free
        Free and unblocked.
    """

    citizen: IntArray
    unit: IntArray
    subsidised: BoolArray
    taker: IntArray
    more_urgent: BoolArray
    same_or_less: BoolArray
    full: dict[CapKind, BoolArray]
    blocked: BoolArray
    free: BoolArray


def fates(data: ProblemData, used: Used, taker: IntArray, citizen: IntArray, unit: IntArray, sub: BoolArray) -> Fates:
    """Classify eligible pairs of unhoused citizens (vectorised).

    Parameters
    ----------
    data, used
        The instance's arrays and the plan's usage of every cap.
    taker
        Per unit, the citizen the plan gives it to, or -1.
    citizen, unit, sub
        The pairs and whether each needs the subsidy.
    """
    t = taker[unit]
    taken = t >= 0
    more = taken & (data.c_prio[np.where(taken, t, 0)] < data.c_prio[citizen])
    free = ~taken
    full = {kind: free & full_mask(data, used, kind, citizen, unit, sub) for kind in CAP_KINDS}
    blocked = np.zeros(len(citizen), bool)
    for m in full.values():
        blocked |= m
    return Fates(citizen, unit, sub, t, more, taken & ~more, full, blocked, free & ~blocked)


def unassigned_reasons(data: ProblemData, result: Result, used: Used) -> tuple[Unassigned, ...]:
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
    blocked = blocked_by(data, used, f)
    n_blocked = np.zeros(n_cit, np.int64)
    for c, caps in blocked.items():
        n_blocked[c] = len(caps)
    codes = reason_codes(n_elig, n_free, n_blocked, n_same).tolist()
    lacking = unhoused[n_elig[unhoused] == 0]
    lacking_reasons = dict(zip(lacking.tolist(), no_eligible_all(data, lacking), strict=True))
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


def blocked_by(data: ProblemData, used: Used, f: Fates) -> dict[int, dict[str, int]]:
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


def no_eligible_all(data: ProblemData, citizens: IntArray) -> list[dict[str, Any]]:
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


def no_eligible(data: ProblemData, c: int) -> dict[str, Any]:
    """``code``, ``reason`` and ``details`` of a citizen no unit is eligible for: which rules, how often."""
    return no_eligible_all(data, np.array([c]))[0]
