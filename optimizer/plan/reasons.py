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

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.plan import Unassigned
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import PLAN_RULE_TEXT, Pairs, candidates, failure_codes
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
    housed = np.zeros(data.n_citizens, bool)
    housed[ch.citizen] = True
    taker = np.full(data.n_units, -1, np.int64)
    taker[ch.unit] = ch.citizen
    overridden = np.zeros(data.n_citizens, np.int64)
    if result.excluded is not None:
        overridden = np.bincount(result.excluded.citizen, minlength=data.n_citizens)
    unhoused = np.flatnonzero(~housed)
    mine: Pairs = pairs.take(~housed[pairs.citizen])
    f = fates(data, used, taker, mine.citizen.astype(np.int64), mine.unit.astype(np.int64), mine.subsidised)
    start = np.searchsorted(f.citizen, np.arange(data.n_citizens + 1))
    # the blocking cap texts of every blocked pair, as (pair, text), in cap-kind order
    cap_texts: list[list[str]] = [[] for _ in range(len(f.citizen))]
    for kind in CAP_KINDS:
        idx = np.flatnonzero(f.full[kind])
        groups = group_of(data, kind, f.unit[idx])
        names: dict[int, str] = {}
        for j, g in zip(idx.tolist(), groups.tolist(), strict=True):
            if g not in names:
                names[g] = plan_cap_text(data, used, kind, g)
            if names[g] not in cap_texts[j]:  # a unit counts once under the unnamed caps
                cap_texts[j].append(names[g])
    out = []
    for c in unhoused.tolist():
        cit = inst.citizens[c]
        lo, hi = int(start[c]), int(start[c + 1])
        if lo == hi:
            out.append(Unassigned(citizen=cit.id, priority=cit.priority, **no_eligible(data, c)))
            continue
        more_urgent = int(f.more_urgent[lo:hi].sum())
        same_or_less = int(f.same_or_less[lo:hi].sum())
        blocked: Counter[str] = Counter()
        for j in np.flatnonzero(f.blocked[lo:hi]).tolist():
            blocked.update(cap_texts[lo + j])
        free = [inst.units[u].id for u in f.unit[lo:hi][f.free[lo:hi]].tolist()]
        n = hi - lo
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
                "blocked by a full cap: " + "; ".join(f"{k} [{plural(v, 'unit')}]" for k, v in sorted(blocked.items()))
            )
        if free:
            parts.append(f"unit(s) {', '.join(free[:5])} still free: the solve was cut short")
        details: dict[str, Any] = {
            "eligible_units": n,
            "to_more_urgent": more_urgent,
            "to_equal_or_less_urgent": same_or_less,
            "blocked_by": dict(sorted(blocked.items())),
            "free": free,
        }
        if overridden[c]:
            details["excluded_by_overrides"] = int(overridden[c])
        out.append(
            Unassigned(
                citizen=cit.id,
                priority=cit.priority,
                code=reason_code(n, len(free), len(blocked), same_or_less),
                reason=f"{plural(n, 'eligible unit')}: " + "; ".join(parts),
                details=details,
            )
        )
    return tuple(out)


def no_eligible(data: ProblemData, c: int) -> dict[str, Any]:
    """``code``, ``reason`` and ``details`` of a citizen no unit is eligible for: which rules, how often."""
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
    rules = plan_rule_counts(dict(sorted(Counter(codes.tolist()).items())))
    text = "; ".join(f"{v} {k}" for k, v in rules.items())
    return {
        "code": "no_eligible_unit",
        "reason": f"no eligible unit: of {plural(len(codes), 'unit')} in municipality {muni!r}, {text}",
        "details": {"units_in_municipality": len(codes), "ruled_out_by": rules},
    }
