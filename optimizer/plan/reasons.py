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
from operator import attrgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.plan import Unassigned
from optimizer.engine.data import ProblemData, sorted_set, unique_rows
from optimizer.engine.pairs import NOT_A_TURN, PLAN_RULE_TEXT, Pairs, candidates, failure_codes
from optimizer.engine.solve import Result
from optimizer.plan.records import construct, dict_rows
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

    The counts of every citizen are taken at once over the eligible pairs; a reason's
    text is written once per distinct set of counts (:func:`reason_text`), as is each
    set of blocking caps; the records are filled from columns (a national week leaves
    5,700 citizens unhoused: a Python pass of each citizen's own took 0.04 s).
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
    caps, caps_of = blocking_caps(data, used, f)
    n_blocked = np.array([len(c) for c in caps], np.int64)[caps_of]
    codes = reason_codes(n_elig, n_free, n_blocked, n_same)

    lacking = unhoused[n_elig[unhoused] == 0]
    lacking_reasons, lacking_details = no_eligible_columns(data, lacking)
    others = unhoused[n_elig[unhoused] > 0]
    # a citizen with free units (a plan cut short) names them: a text of its own
    own = np.where(n_free[others] > 0, others, -1)
    signature = np.column_stack(
        [n_elig[others], overridden[others], n_more[others], n_same[others], caps_of[others], own]
    )
    first, which = unique_rows(signature.T)
    distinct = signature[first]
    blocked = {k: blocked_text(caps[k]) for k in set(distinct[:, 4].tolist())}  # a set of caps: one text
    texts = []
    for n, ov, more, same, k, c in distinct.tolist():
        free = [] if c < 0 else free_units(data, f, start, c)
        texts.append(reason_text(n, ov, more, same, blocked[k], free))
    free_of: list[tuple[str, ...]] = [()] * len(others)  # only a plan cut short has any
    for i in np.flatnonzero(own >= 0).tolist():
        free_of[i] = tuple(free_units(data, f, start, int(others[i])))
    details = dict_rows(
        DETAIL_KEYS,
        n_elig[others].tolist(),
        n_more[others].tolist(),
        n_same[others].tolist(),
        map(dict, map(caps.__getitem__, caps_of[others].tolist())),  # each record its own dict
        map(list, free_of),
    )
    for i in np.flatnonzero(overridden[others] > 0).tolist():
        details[i]["excluded_by_overrides"] = int(overridden[others[i]])

    # both groups in citizen order, merged into the order of ``unhoused``
    order = np.argsort(np.concatenate([lacking, others]), kind="stable").tolist()
    reasons = list(map([*lacking_reasons, *map(texts.__getitem__, which.tolist())].__getitem__, order))
    details = list(map([*lacking_details, *details].__getitem__, order))
    citizens = list(map(inst.citizens.__getitem__, unhoused.tolist()))
    columns = (
        map(attrgetter("id"), citizens),
        map(attrgetter("priority"), citizens),
        codes[unhoused].tolist(),  # no eligible unit: the chain's first code
        reasons,
        details,
    )
    return tuple(construct(Unassigned, dict_rows(UNASSIGNED_FIELDS, *columns), UNASSIGNED_FIELDS))


#: The keys of a reason's details, in the order plans write them (``excluded_by_overrides`` last, when any).
DETAIL_KEYS = ("eligible_units", "to_more_urgent", "to_equal_or_less_urgent", "blocked_by", "free")
#: An unassigned record's fields, in the order of :class:`~models.plan.Unassigned`.
UNASSIGNED_FIELDS = ("citizen", "priority", "code", "reason", "details")


def reason_text(n: int, overridden: int, more_urgent: int, same_or_less: int, blocked: str, free: list[str]) -> str:
    """The reason of an unhoused citizen with eligible units, from the fates of those units.

    Parameters
    ----------
    n
        Eligible units.
    overridden
        Units more excluded by planner overrides.
    more_urgent, same_or_less
        Units taken by more urgent citizens; by citizens of equal or lower urgency.
    blocked
        The full caps blocking free units (:func:`blocked_text`; empty if none).
    free
        The ids of free, unblocked units (a plan cut short).
    """
    parts = []
    if overridden:
        parts.append(f"{overridden} more excluded by planner overrides (forbid or reserve)")
    if more_urgent:
        parts.append(f"{more_urgent} went to more urgent citizens")
    if same_or_less:
        parts.append(
            f"{same_or_less} went to citizens of equal or lower urgency in a plan that "
            "houses more urgent citizens or scores higher"
        )
    if blocked:
        parts.append(blocked)
    if free:
        parts.append(f"unit(s) {', '.join(free[:5])} still free: the solve was cut short")
    return f"{plural(n, 'eligible unit')}: " + "; ".join(parts)


def blocked_text(caps: Mapping[str, int]) -> str:
    """The part of a reason naming the full caps that block free units (empty if none).

    Parameters
    ----------
    caps
        The caps as plans name them, sorted by name -> units.
    """
    if not caps:
        return ""
    return "blocked by a full cap: " + "; ".join(f"{k} [{plural(v, 'unit')}]" for k, v in caps.items())


def free_units(data: ProblemData, f: Fates, start: IntArray, c: int) -> list[str]:
    """The ids of citizen ``c``'s eligible units that are free and unblocked, in pair order."""
    lo, hi = int(start[c]), int(start[c + 1])
    return [data.inst.units[u].id for u in f.unit[lo:hi][f.free[lo:hi]].tolist()]


def blocking_caps(data: ProblemData, used: Used, f: Fates) -> tuple[list[dict[str, int]], IntArray]:
    """The distinct sets of full caps blocking a citizen's pairs, and each citizen's set.

    Returns
    -------
    caps
        Each distinct set as plans name its caps, sorted by name -> units; ``caps[0]``
        is the empty set.
    caps_of
        Per citizen (every citizen of ``data``), the index of its set in ``caps``.

    A unit counts once under each name (several unnamed caps of one unit are one
    :data:`UNNAMED_CAP`), so pairs and names are made unique before counting.
    """
    n_cit = data.n_citizens
    texts: dict[str, int] = {}
    pair_parts, text_parts = [], []
    for kind in CAP_KINDS:
        idx = np.flatnonzero(f.full[kind])
        groups, inverse = np.unique(group_of(data, kind, f.unit[idx]), return_inverse=True)
        ids = [texts.setdefault(plan_cap_text(data, used, kind, g), len(texts)) for g in groups.tolist()]
        pair_parts.append(idx)
        text_parts.append(np.asarray(ids, np.int64)[inverse.ravel()])
    empty: list[dict[str, int]] = [{}]
    if not texts:
        return empty, np.zeros(n_cit, np.int64)
    # each text id's position among the sorted texts, so that counting in key order sorts by name
    names = sorted(texts)
    position = {t: i for i, t in enumerate(names)}
    m = len(texts)
    rank = np.array([position[t] for t in texts], np.int64)
    # sorted_set: the plain np.unique would import numpy.ma (0.013 s of a national week's process)
    per_pair = sorted_set(np.concatenate(pair_parts) * m + rank[np.concatenate(text_parts)])
    cit = f.citizen[per_pair // m]
    keys, counts = np.unique(cit * m + per_pair % m, return_counts=True)
    # one row per citizen with blocked pairs: its (name, units) entries in name order, padded
    who, name = keys // m, keys % m
    first = np.searchsorted(who, who, side="left")
    width = int((np.arange(len(who)) - first).max()) + 1
    rows, row_of = np.unique(who, return_inverse=True)
    table = np.full((len(rows), 2 * width), -1, np.int64)
    at = np.arange(len(who)) - first
    table[row_of, 2 * at] = name
    table[row_of, 2 * at + 1] = counts
    first, which = unique_rows(table.T)
    distinct = table[first]
    caps = empty + [
        {names[k]: v for k, v in zip(row[::2], row[1::2], strict=True) if k >= 0} for row in distinct.tolist()
    ]
    caps_of = np.zeros(n_cit, np.int64)
    caps_of[rows] = which + 1
    return caps, caps_of


def blocked_by(data: ProblemData, used: Used, f: Fates) -> dict[int, dict[str, int]]:
    """Per citizen with blocked pairs: the full caps blocking them, as plans name them, sorted -> units."""
    caps, caps_of = blocking_caps(data, used, f)
    return {c: dict(caps[k]) for c, k in enumerate(caps_of.tolist()) if k}


def no_eligible_all(data: ProblemData, citizens: IntArray) -> list[dict[str, Any]]:
    """:func:`no_eligible` of several citizens (ascending indices) at once, one pass over their candidates."""
    texts, details = no_eligible_columns(data, citizens)
    return [{"code": "no_eligible_unit", "reason": t, "details": d} for t, d in zip(texts, details, strict=True)]


def no_eligible_columns(data: ProblemData, citizens: IntArray) -> tuple[list[str], list[dict[str, Any]]]:
    """The reasons and details of :func:`no_eligible_all`, as two columns.

    Each distinct (municipality, units ruled out per rule) is written once; every
    citizen gets its own details (dicts of its own).
    """
    inst = data.inst
    k = NOT_A_TURN + 1  # failure codes are 0..NOT_A_TURN
    cits = np.asarray(citizens, np.int64)
    if not len(cits):
        return [], []
    # counted chunk by chunk: the candidate pairs of many citizens can outgrow memory
    counts = np.zeros(len(cits) * k, np.int64)
    for ci, ui in candidates(data, cits):
        at = np.searchsorted(cits, ci)
        counts += np.bincount(at * k + failure_codes(data, ci, ui), minlength=len(counts))
    per = counts.reshape(len(cits), k)
    table = np.column_stack([data.c_muni[cits], per])
    first, which = unique_rows(table.T)
    distinct = table[first]
    texts: list[str] = []
    totals: list[int] = []
    rules_of: list[dict[str, int]] = []
    for muni_index, *row in distinct.tolist():
        muni = inst.municipalities[muni_index].id
        counted = {code: n for code, n in enumerate(row) if n}  # in ascending code order
        total = sum(counted.values())
        rules = plan_rule_counts(counted)
        totals.append(total)
        rules_of.append(rules)
        if not counted:
            texts.append(f"no eligible unit: no vacant unit in municipality {muni!r} this round")
            continue
        text = "; ".join(f"{n} {rule}" for rule, n in rules.items())
        texts.append(f"no eligible unit: of {plural(total, 'unit')} in municipality {muni!r}, {text}")
    each = which.tolist()
    details = dict_rows(
        ("units_in_municipality", "ruled_out_by"),
        map(totals.__getitem__, each),
        map(dict, map(rules_of.__getitem__, each)),
    )
    for i in np.flatnonzero(np.asarray(totals, np.int64)[which] == 0).tolist():
        details[i] = {"units_in_municipality": 0}  # no unit, no rules
    return list(map(texts.__getitem__, each)), details


def no_eligible(data: ProblemData, c: int) -> dict[str, Any]:
    """``code``, ``reason`` and ``details`` of a citizen no unit is eligible for: which rules, how often."""
    return no_eligible_all(data, np.array([c]))[0]
