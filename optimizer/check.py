"""An independent validator of a plan against its instance (FORMAT.md §2, §3, §5).

This module is the second opinion on every plan the engine writes: it re-derives
pools, caps and scores from FORMAT.md with plain loops and imports nothing from
the solver (nor :mod:`models.pools`' pool derivation: only the default pool's id,
which is part of the contract). It reads the plan as the document it is, so a
malformed plan is reported as violations, never raised. Messages name ids only,
never a citizen's other attributes.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np

from models import Instance, Plan, default_pool_id
from models.plan import PLAN_FORMAT, STATUSES
from models.schema import KINDS, Agreement, Citizen, Department, Override, Unit

Doc = dict[str, Any]  # a JSON object of the plan as read, not yet known to be well formed

TOL = 1e-6


@dataclass(frozen=True)
class Violation:
    """One way a plan breaks the contract.

    Attributes
    ----------
    rule
        A short tag: ``"R1-citizen-twice"`` … ``"R12-mixed-city"`` for the rules of
        FORMAT.md §3, or ``"format"``, ``"subsidy"``, ``"score"``, ``"objective"``,
        ``"unassigned"``, ``"usage"``, ``"override"`` (a lock, forbid or reserve broken),
        ``"instance"`` (the plan's ``instance_sha256`` is another instance's),
        ``"assignment"`` (an assignment's ``priority``, ``department``, ``pool`` or
        ``locked`` differs from the instance), ``"status"`` (the status contradicts
        the plan), ``"bound"`` (an optimal plan's bound below its objective),
        ``"privacy"`` (a reason states a citizen's attribute);
        for anvis/2 also ``"rotation"`` (a unit that is not a turn), ``"passed"`` and
        ``"homeless"`` (FORMAT.md §6).
    message
        One readable line naming the ids involved.
    """

    rule: str
    message: str


def format_violations(violations: Iterable[Violation]) -> list[str]:
    """One ``"<rule>: <message>"`` line per violation, in the given order."""
    return [f"{v.rule}: {v.message}" for v in violations]


# --- pools and caps (FORMAT.md §2) ------------------------------------------------


def _agreement_matches(ag: Agreement, unit: Unit, dept: Department) -> bool:
    """Whether the unit lies in the agreement's municipality and passes its non-null filters."""
    return (
        ag.municipality == dept.municipality
        and (ag.organisation is None or ag.organisation == dept.organisation)
        and (ag.max_rent_kr is None or ag.max_rent_kr >= unit.rent_kr)
        and (ag.rooms is None or unit.rooms in ag.rooms)
        and (ag.departments is None or unit.department in ag.departments)
        and (ag.kinds is None or unit.kind in ag.kinds)  # anvis/2 filters (FORMAT.md §6 rule 2)
        and (ag.units is None or unit.id in ag.units)
    )


def pool_of_units(inst: Instance) -> dict[str, str]:
    """The pool id of every unit: the first matching agreement, else the default pool.

    In anvis/2 there is a default pool per unit kind (FORMAT.md §6 rule 2).
    """
    departments = {d.id: d for d in inst.departments}
    result = {}
    for unit in inst.units:
        dept = departments[unit.department]
        result[unit.id] = default_pool_id(dept.municipality, dept.organisation, *_kind_part(inst, unit))
        for ag in inst.agreements:
            if _agreement_matches(ag, unit, dept):
                result[unit.id] = ag.id
                break
    return result


def _pool_cap(inst: Instance, pool_id: str, vacancies: int) -> int:
    """cap(P) = max(0, floor(share * (Vb + V) + 1e-9) - Cb) for the pool ``pool_id``."""
    share = next((ag.share for ag in inst.agreements if ag.id == pool_id), inst.parameters.default_share)
    entry = next((e for e in inst.ledger if e.pool == pool_id), None)
    before, claimed = (entry.vacancies_before, entry.claimed_before) if entry else (0, 0)
    return max(0, math.floor(share * (before + vacancies) + 1e-9) - claimed)


def pool_caps(inst: Instance) -> dict[str, int]:
    """cap(P) of every pool that has at least one unit in the instance.

    A rotation pool of anvis/2 has no share cap; its "cap" is the number of units
    that may be assigned, its turns and offered units (FORMAT.md §6 rule 4).
    """
    vacancies: dict[str, int] = {}
    for pool in pool_of_units(inst).values():
        vacancies[pool] = vacancies.get(pool, 0) + 1
    caps = {pool: _pool_cap(inst, pool, v) for pool, v in vacancies.items()}
    caps.update(_rotation_caps(inst))
    return caps


# --- scores ----------------------------------------------------------------------


def _default_raw(inst: Instance, citizen: Citizen, unit: Unit) -> float:
    """The documented match-quality score before rounding."""
    eff_rent = unit.rent_kr - inst.parameters.subsidy_amount_kr if unit.rent_kr > citizen.max_rent_kr else unit.rent_kr
    pref = 0.0
    if citizen.preferences:
        wmax = max(p.weight for p in citizen.preferences)
        w = max([p.weight for p in citizen.preferences if p.department == unit.department], default=0.0)
        if wmax > 0:
            pref = w / wmax
    rent = (citizen.max_rent_kr - eff_rent) / citizen.max_rent_kr if citizen.max_rent_kr > 0 else 1.0
    rent = min(1.0, max(0.0, rent))
    # Pairs with too few rooms are ineligible (rule 3); the surplus is clamped at 0
    # only so that the function is defined for every pair.
    rooms = 1.0 / (1 + max(0, unit.rooms - citizen.min_rooms))
    access = 0.0 if (unit.accessible and not citizen.needs_accessible) else 1.0
    return 100 * (0.45 * pref + 0.25 * rent + 0.20 * rooms + 0.10 * access)


def default_score(inst: Instance, citizen: Citizen, unit: Unit) -> float:
    """The engine's default match-quality score of a pair, an integer 0..100 as float.

    Parameters
    ----------
    inst : models.Instance
    citizen : models.schema.Citizen
    unit : models.schema.Unit

    Returns
    -------
    float
        ``floor(raw + 0.5)`` of the weighted sum of preference, rent, rooms and
        accessibility terms (see the module's brief in FORMAT.md §4).
    """
    return float(math.floor(_default_raw(inst, citizen, unit) + 0.5))


def _accepted_scores(inst: Instance, table: dict[tuple[str, str], float], citizen: Citizen, unit: Unit) -> list[float]:
    """The pair's score, then the other rounding when the default score is at a .5 tie."""
    if (citizen.id, unit.id) in table:
        return [table[(citizen.id, unit.id)]]
    raw = _default_raw(inst, citizen, unit)
    score, low = float(math.floor(raw + 0.5)), math.floor(raw)
    if abs(raw - low - 0.5) <= TOL:  # the vectorised engine may round either way
        return [score, float(low + 1 if score == low else low)]
    return [score]


def _score_table(inst: Instance) -> dict[tuple[str, str], float]:
    s = inst.scores
    return {(c, u): float(v) for c, u, v in zip(s.citizen, s.unit, s.score.tolist(), strict=True)}


def _close(a: float, b: float) -> bool:
    return bool(abs(a - b) <= TOL)


def recompute_objective(inst: Instance, assignments: list[Any]) -> Doc:
    """The objective (FORMAT.md §5) of a list of assignments, from the instance.

    Each assignment's score is its ``scores`` entry or :func:`default_score`; where
    the default score sits on a .5 rounding tie, the assignment's own ``score`` is
    used if it is one of the two roundings. Entries that are not objects naming a
    known citizen and unit are skipped.

    Returns
    -------
    dict
        ``{"housed_by_priority": {"1": n, ...}, "total_score": float}`` with every
        priority present among the citizens, as strings, most urgent first; with
        the ``weighted`` objective also ``"value"``: Σ (priority weight + score).
    """
    citizens = {c.id: c for c in inst.citizens}
    units = {u.id: u for u in inst.units}
    table = _score_table(inst)
    housed = {str(p): 0 for p in sorted({c.priority for c in inst.citizens})}
    total = 0.0
    for a in assignments:
        if not (isinstance(a, dict) and _is_known(a.get("citizen"), citizens) and _is_known(a.get("unit"), units)):
            continue
        citizen, unit = citizens[a["citizen"]], units[a["unit"]]
        housed[str(citizen.priority)] += 1
        accepted, given = _accepted_scores(inst, table, citizen, unit), a.get("score")
        total += next((s for s in accepted if _is_number(given) and _close(given, s)), accepted[0])
    out: Doc = {"housed_by_priority": housed, "total_score": float(total)}
    weights = inst.parameters.priority_weights
    if inst.parameters.objective == "weighted" and weights is not None:
        out["value"] = float(sum(weights[p] * n for p, n in housed.items()) + total)
    return out


# --- the plan ----------------------------------------------------------------------


def _is_number(x: Any) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _is_known(name: Any, ids: Iterable[str]) -> TypeGuard[str]:
    """Whether ``name`` is an id string among ``ids`` (safe for any JSON value)."""
    return isinstance(name, str) and name in ids


def _adder(out: list[Violation], rule: str) -> Callable[[str], None]:
    """A function that records one violation of ``rule`` with the given message."""
    return lambda message: out.append(Violation(rule, message))


def _well_formed(inst: Instance, plan: Doc, out: list[Violation]) -> list[Doc]:
    """Check the plan's fixed fields; return the assignments fit for the rule checks."""
    bad = _adder(out, "format")
    if plan.get("format") != PLAN_FORMAT:
        bad(f"format is {plan.get('format')!r}, expected {PLAN_FORMAT!r}")
    if plan.get("status") not in STATUSES:
        bad(f"status {plan.get('status')!r} is not one of {', '.join(STATUSES)}")
    if plan.get("instance") != inst.name:
        bad(f"plan is for instance {plan.get('instance')!r}, not {inst.name!r}")
    assignments = plan.get("assignments")
    if not isinstance(assignments, list):
        bad("assignments is missing or not a list")
        return []
    citizens = {c.id for c in inst.citizens}
    units = {u.id for u in inst.units}
    good = []
    for i, a in enumerate(assignments):
        if not isinstance(a, dict):
            bad(f"assignments[{i}] is not an object")
            continue
        problems = []  # (field, what is wrong): reported at the field's path
        if not _is_known(a.get("citizen"), citizens):
            problems.append(("citizen", f"unknown citizen {a.get('citizen')!r}"))
        if not _is_known(a.get("unit"), units):
            problems.append(("unit", f"unknown unit {a.get('unit')!r}"))
        if not isinstance(a.get("subsidised"), bool):
            problems.append(("subsidised", "missing or not true/false"))
        for key in ("effective_rent_kr", "score"):
            if not _is_number(a.get(key)):
                problems.append((key, "missing or not a number"))
        for key, what in problems:
            bad(f"assignments[{i}].{key}: {what}")
        if not problems:
            good.append(a)
    return good


def broken_rules(inst: Instance, citizen: Citizen, unit: Unit, dept: Department) -> list[tuple[str, str]]:
    """The rules 2-8 (FORMAT.md §3) that the pair breaks, as ``(rule tag, message)``; empty if eligible."""
    c, u = f"citizen {citizen.id!r}", f"unit {unit.id!r}"
    out = []
    if dept.municipality != citizen.municipality:
        out.append(
            (
                "R2-municipality",
                f"{c} assigned to {u} in municipality {dept.municipality!r} but lives in {citizen.municipality!r}",
            )
        )
    if unit.rooms < citizen.min_rooms or (citizen.max_rooms is not None and unit.rooms > citizen.max_rooms):
        out.append(("R3-rooms", f"{u} ({unit.rooms} rooms) is outside the room range of {c}"))
    if unit.kind not in citizen.kinds:
        out.append(("R4-kind", f"{u} is of kind {unit.kind!r}, which {c} does not accept"))
    if citizen.needs_accessible and not unit.accessible:
        out.append(("R5-accessible", f"{u} assigned to {c} is not accessible"))
    if unit.temporary and not citizen.accepts_temporary:
        out.append(("R6-temporary", f"{u} is temporary, which {c} does not accept"))
    if dept.id in citizen.excluded_departments:
        out.append(("R7-excluded-department", f"{u} is in department {dept.id!r}, excluded by {c}"))
    if dept.area in citizen.barred_areas:
        out.append(("R7-barred-area", f"{u} is in area {dept.area!r}, barred for {c}"))
    params = inst.parameters
    if unit.rent_kr > citizen.max_rent_kr:
        low, high = params.subsidy_band_kr
        reasons = []
        if not citizen.subsidy_eligible:
            reasons.append("the citizen is not subsidy eligible")
        if not low <= unit.rent_kr <= high:
            reasons.append(f"rent {unit.rent_kr:g} is outside the band [{low:g}, {high:g}]")
        if unit.rent_kr - params.subsidy_amount_kr > citizen.max_rent_kr:
            reasons.append("it stays unaffordable even with the subsidy")
        if reasons:
            out.append(
                ("R8-affordability", f"{u} is unaffordable for {c} and cannot be subsidised: " + "; ".join(reasons))
            )
    return out


def _pair_rules(inst: Instance, a: Doc, citizen: Citizen, unit: Unit, dept: Department, out: list[Violation]) -> None:
    """Rules 2-8 for one assignment, plus its subsidised flag and effective rent."""
    c, u = f"citizen {citizen.id!r}", f"unit {unit.id!r}"
    out.extend(Violation(rule, message) for rule, message in broken_rules(inst, citizen, unit, dept))
    params = inst.parameters
    needs_subsidy = unit.rent_kr > citizen.max_rent_kr
    if a["subsidised"] != needs_subsidy:
        out.append(
            Violation(
                "subsidy",
                f"{c} in {u}: subsidised is {a['subsidised']}, expected {needs_subsidy}"
                f" (a subsidy is used exactly when the rent exceeds the citizen's limit)",
            )
        )
    expected = unit.rent_kr - params.subsidy_amount_kr if a["subsidised"] else unit.rent_kr
    if not _close(a["effective_rent_kr"], expected):
        out.append(
            Violation("subsidy", f"{c} in {u}: effective_rent_kr is {a['effective_rent_kr']:g}, expected {expected:g}")
        )


# Per usage section: id key, limit key, rule (9-12), and the noun and what is counted.
SECTIONS = {
    "frames": ("municipality", "frame", "R9-frame", "municipality", "subsidised assignments"),
    "quotas": ("region", "quota", "R10-quota", "region", "subsidised assignments"),
    "pools": ("id", "cap", "R11-share", "pool", "assignments"),
    "departments": ("id", "max_vulnerable", "R12-mixed-city", "department", "vulnerable citizens"),
}


def recompute_usage(inst: Instance, assignments: list[Any]) -> dict[str, list[Doc]]:
    """What the assignments use of every frame, quota, pool and department.

    An assignment counts as subsidised when the unit's rent exceeds the citizen's
    limit (rule 8), whatever its ``subsidised`` flag says. Entries that are not
    objects naming a known citizen and unit are skipped.

    Returns
    -------
    dict
        The plan's ``usage`` layout: ``{"pools": [{"id", "cap", "used"}],
        "departments": [{"id", "max_vulnerable", "used"}], "frames":
        [{"municipality", "frame", "used"}], "quotas": [{"region", "quota", "used"}]}``.
        Pools are those of the units, then agreements and ledger pools without units.
        ``None`` limits are unlimited.
    """
    citizens = {c.id: c for c in inst.citizens}
    units = {u.id: u for u in inst.units}
    departments = {d.id: d for d in inst.departments}
    region_of = {m.id: m.region for m in inst.municipalities}
    pool_of = pool_of_units(inst)
    caps = pool_caps(inst)
    for pool in [ag.id for ag in inst.agreements] + [e.pool for e in inst.ledger]:
        if pool not in caps:
            caps[pool] = 0 if pool_mode(inst, pool) == "rotation" else _pool_cap(inst, pool, 0)
    used: dict[str, dict[str, int]] = {section: {} for section in SECTIONS}

    def count(section: str, name: str) -> None:
        used[section][name] = used[section].get(name, 0) + 1

    for a in assignments:
        if not (isinstance(a, dict) and _is_known(a.get("citizen"), citizens) and _is_known(a.get("unit"), units)):
            continue
        citizen, unit = citizens[a["citizen"]], units[a["unit"]]
        dept = departments[unit.department]
        count("pools", pool_of[unit.id])
        if citizen.vulnerable:
            count("departments", dept.id)
        if unit.rent_kr > citizen.max_rent_kr:
            count("frames", dept.municipality)
            count("quotas", region_of[dept.municipality])
    limits: dict[str, list[tuple[str, int | None]]] = {
        "frames": [(m.id, m.subsidy_frame) for m in inst.municipalities],
        "quotas": [(r.id, r.grant_quota) for r in inst.regions],
        "pools": list(caps.items()),
        "departments": [(d.id, d.max_vulnerable) for d in inst.departments],
    }
    return {
        section: [{key: name, limit: lim, "used": used[section].get(name, 0)} for name, lim in limits[section]]
        for section, (key, limit, *_) in SECTIONS.items()
    }


def _counting_rules(usage: dict[str, list[Doc]], out: list[Violation]) -> None:
    """Rules 9-12: frames, quotas, share caps, mixed city."""
    for section, (key, limit, rule, noun, what) in SECTIONS.items():
        for e in usage[section]:
            if e[limit] is not None and e["used"] > e[limit]:
                out.append(Violation(rule, f"{noun} {e[key]!r} has {e['used']} {what}, {limit} {e[limit]}"))


def _check_usage(plan_usage: Any, usage: dict[str, list[Doc]], out: list[Violation]) -> None:
    """Compare the plan's optional ``usage`` section with the recomputation."""
    bad = _adder(out, "usage")
    if not isinstance(plan_usage, dict):
        bad("usage is not an object")
        return
    for section, (key, limit, *_) in SECTIONS.items():
        entries = plan_usage.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            bad(f"usage.{section} is not a list")
            continue
        mine = {e[key]: e for e in usage[section]}
        for e in entries:
            name = e.get(key) if isinstance(e, dict) else None
            if not _is_known(name, mine):
                bad(f"usage.{section} names unknown {key} {name!r}")
                continue
            for field in ("used", limit):
                required = field == "used" or section == "pools"
                if (required or field in e) and e.get(field) != mine[name][field]:
                    bad(f"usage.{section} {name!r}: {field} is {e.get(field)!r}, recomputed {mine[name][field]!r}")


def _check_objective(inst: Instance, plan: Doc, assignments: list[Doc], out: list[Violation]) -> None:
    expected = recompute_objective(inst, assignments)
    got = plan.get("objective")
    bad = _adder(out, "objective")
    if not isinstance(got, dict):
        bad("objective is missing or not an object")
        return
    housed = got.get("housed_by_priority")
    if not isinstance(housed, dict) or set(housed) != set(expected["housed_by_priority"]):
        bad(
            f"housed_by_priority must list priorities {sorted(expected['housed_by_priority'], key=int)}, got {housed!r}"
        )
    else:
        for p, n in expected["housed_by_priority"].items():
            if housed[p] != n or isinstance(housed[p], bool):
                bad(f"housed_by_priority[{p!r}] is {housed[p]!r}, recomputed {n}")
    total, want = got.get("total_score"), expected["total_score"]
    if not _is_number(total) or abs(total - want) > TOL * max(1.0, abs(want)):
        bad(f"total_score is {total!r}, recomputed {want:g}")
    value = got.get("value")
    if "value" in expected and value is not None and not (_is_number(value) and _close_rel(value, expected["value"])):
        bad(f"value is {value!r}, recomputed {expected['value']:g}")


def _close_rel(a: float, b: float) -> bool:
    return bool(abs(a - b) <= TOL * max(1.0, abs(b)))


def _check_unassigned(inst: Instance, plan: Doc, assigned: set[str], out: list[Violation]) -> None:
    bad = _adder(out, "unassigned")
    entries = plan.get("unassigned")
    if not isinstance(entries, list):
        bad("unassigned is missing or not a list")
        return
    known = {c.id for c in inst.citizens}
    seen: set[str] = set()
    for i, e in enumerate(entries):
        cid = e.get("citizen") if isinstance(e, dict) else None
        if not _is_known(cid, known):
            bad(f"unassigned[{i}] names unknown citizen {cid!r}")
            continue
        if cid in seen:
            bad(f"citizen {cid!r} is listed twice as unassigned")
        if cid in assigned:
            bad(f"citizen {cid!r} is listed as unassigned but is assigned")
        reason = e.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            bad(f"unassigned citizen {cid!r} has no reason")
        seen.add(cid)
    for c in inst.citizens:
        if c.id not in assigned and c.id not in seen:
            bad(f"citizen {c.id!r} is neither assigned nor listed as unassigned")


#: Overrides that take a unit out of the round: a reserve, and a hold (an offered turn the
#: municipality keeps for the next round, anvis/2); the word for each in messages.
UNIT_ACTIONS = {"reserve": "reserved", "hold": "held"}


def _overrides(inst: Instance, plan: Doc, out: list[Violation]) -> list[tuple[str, str, str | None, str]]:
    """(where, action, citizen, unit) of the instance's overrides and those the plan states."""
    found = [(f"overrides[{i}]", o.action, o.citizen, o.unit) for i, o in enumerate(getattr(inst, "overrides", ()))]
    stated = plan.get("overrides", [])
    if not isinstance(stated, list):
        out.append(Violation("format", "overrides is not a list"))
        return found
    citizens, units = {c.id for c in inst.citizens}, {u.id for u in inst.units}
    for i, o in enumerate(stated):
        where = f"plan overrides[{i}]"
        if not (
            isinstance(o, dict)
            and o.get("action") in ("lock", "forbid", *UNIT_ACTIONS)
            and _is_known(o.get("unit"), units)
            and (o["action"] in UNIT_ACTIONS or _is_known(o.get("citizen"), citizens))
        ):
            out.append(Violation("format", f"{where} is not a lock, forbid, reserve or hold of known ids: {o!r}"))
            continue
        found.append((where, o["action"], o.get("citizen"), o["unit"]))
    return found


def _check_overrides(
    assignments: list[Doc], overrides: list[tuple[str, str, str | None, str]], out: list[Violation]
) -> None:
    """Locked pairs are in the plan; forbidden pairs and reserved units are not."""
    unit_of = {a["citizen"]: a["unit"] for a in assignments}
    assigned_units = set(unit_of.values())
    for where, action, citizen, unit in overrides:
        if action == "lock" and unit_of.get(citizen) != unit:
            out.append(
                Violation(
                    "override",
                    f"{where}: citizen {citizen!r} is locked to unit {unit!r} "
                    f"but the plan gives them {unit_of.get(citizen) or 'no unit'}",
                )
            )
        elif action == "forbid" and unit_of.get(citizen) == unit:
            out.append(Violation("override", f"{where}: citizen {citizen!r} gets unit {unit!r}, which is forbidden"))
        elif action in UNIT_ACTIONS and unit in assigned_units:
            out.append(Violation("override", f"{where}: unit {unit!r} is {UNIT_ACTIONS[action]} but assigned"))


# --- what the plan says about itself -----------------------------------------------------

#: Words that state a citizen's own attributes. A plan names rules, units and caps only
#: (README "The plan"); ``anvis explain``, the caseworker's tool, is where these belong.
REVEALING = (
    "needs accessible",
    "subsidy-eligible",
    "subsidy eligible",
    "eligible for subsidy",
    "vulnerable",
    "mixed-city",
    "subsidy frame",
    "grant quota",
    "homeless",
    "max_rent",
    "rent limit",
    "temporary",
    "barred",
    "for the citizen",
    "citizen's",
    "citizen needs",
    "citizen does not",
    "citizen not",
)
_QUOTED = re.compile(r"'[^']*'")


def revealing_words(text: str) -> list[str]:
    """The words of :data:`REVEALING` in ``text``, quoted ids left out (an id is data, not a statement)."""
    bare = _QUOTED.sub("''", text).lower()
    return [w for w in REVEALING if w in bare]


def _check_instance_hash(inst: Instance, plan: Doc, out: list[Violation]) -> None:
    """``instance_sha256``, when given, is the instance's (with the overrides the plan states, if any)."""
    sha = plan.get("instance_sha256")
    if sha is None:
        return
    accepted = {inst.sha256}
    stated = plan.get("overrides")
    if isinstance(stated, list) and stated:
        # overrides given on the command line are in the plan, not in the instance file
        with contextlib.suppress(ValueError, TypeError):  # a malformed override is a format violation
            accepted.add(inst.replace(overrides=tuple(Override.model_validate(o) for o in stated)).sha256)
    if sha not in accepted:
        out.append(Violation("instance", f"instance_sha256 {sha!r} is not this instance's ({inst.sha256})"))


def _check_assignment_fields(
    inst: Instance, assignments: list[Doc], locks: set[tuple[str, str]], out: list[Violation]
) -> None:
    """An assignment's ``priority``, ``department``, ``pool`` and ``locked``, where written, are the instance's."""
    citizens = {c.id: c for c in inst.citizens}
    units = {u.id: u for u in inst.units}
    pool_of = pool_of_units(inst)
    bad = _adder(out, "assignment")
    for a in assignments:
        cid, uid = a["citizen"], a["unit"]
        expected = {"priority": citizens[cid].priority, "department": units[uid].department, "pool": pool_of[uid]}
        for key, want in expected.items():
            if key in a and (a[key] != want or isinstance(a[key], bool)):
                bad(f"citizen {cid!r} in unit {uid!r}: {key} is {a[key]!r}, the instance says {want!r}")
        # an engine-written assignment (it has a priority) marks exactly the locked pairs
        if ("locked" in a or "priority" in a) and (a.get("locked") is True) != ((cid, uid) in locks):
            want_lock = "a planner's lock" if (cid, uid) in locks else "no lock"
            bad(f"citizen {cid!r} in unit {uid!r}: locked is {a.get('locked')!r}, but the pair has {want_lock}")


def _unit_columns(
    units: list[Unit],
    departments: Mapping[str, Department],
    rotation: Mapping[str, tuple[int, bool]],
    subsidy_kinds: Collection[str],
) -> dict[str, np.ndarray]:
    """The rule-relevant fields of units (one municipality's), as columns for :func:`_eligible_mask`.

    ``rotation`` is :func:`rotation_units` (units of rotation pools that may be assigned:
    turns and offered ones); ``subsidy_kinds`` the kinds a subsidy may go to (FORMAT.md §6).
    """
    return {
        "assignable": np.array([rotation.get(u.id, (0, True))[1] for u in units], bool),
        "subsidy_kind": np.array([u.kind in subsidy_kinds for u in units], bool),
        "rooms": np.array([u.rooms for u in units], np.int64),
        "kind": np.array([u.kind for u in units], object),
        "accessible": np.array([u.accessible for u in units], bool),
        "temporary": np.array([u.temporary for u in units], bool),
        "department": np.array([u.department for u in units], object),
        "area": np.array([departments[u.department].area for u in units], object),
        "rent": np.array([u.rent_kr for u in units], np.float64),
    }


def _eligible_mask(inst: Instance, citizen: Citizen, units: Mapping[str, np.ndarray]) -> np.ndarray:
    """Rules 3-8 of FORMAT.md §3 for one citizen against a municipality's units, all at once.

    The same rules as :func:`broken_rules` (one pair, with messages), on columns: a
    city's year of vacancies times its waiting list is millions of pairs.
    """
    low, high = inst.parameters.subsidy_band_kr
    amount = inst.parameters.subsidy_amount_kr
    rooms, rent = units["rooms"], units["rent"]
    ok = rooms >= citizen.min_rooms
    if citizen.max_rooms is not None:
        ok &= rooms <= citizen.max_rooms
    ok &= np.isin(units["kind"], list(citizen.kinds))
    if citizen.needs_accessible:
        ok &= units["accessible"]
    if not citizen.accepts_temporary:
        ok &= ~units["temporary"]
    if citizen.excluded_departments:
        ok &= ~np.isin(units["department"], list(citizen.excluded_departments))
    if citizen.barred_areas:
        ok &= ~np.isin(units["area"], list(citizen.barred_areas))
    dear = rent > citizen.max_rent_kr
    subsidy = citizen.subsidy_eligible & (rent >= low) & (rent <= high) & (rent - amount <= citizen.max_rent_kr)
    subsidy &= units["subsidy_kind"]
    # A unit of a rotation pool that is neither a turn nor offered is no unit of this round's (§6 rule 4).
    return np.asarray(ok & (~dear | subsidy) & units["assignable"], bool)


def unassigned_facts(
    inst: Instance,
    assignments: list[Doc],
    excluded: set[tuple[str | None, str]],
) -> dict[str, Doc]:
    """What became of every eligible unit of each citizen the assignments leave unhoused (README "The plan").

    Parameters
    ----------
    inst
        The instance.
    assignments
        Well-formed assignments naming known ids (declined offers included: the
        plan's reasons were given for the plan as offered).
    excluded
        ``(citizen, unit)`` pairs a forbid excludes and ``(None, unit)`` for reserved units.

    Returns
    -------
    dict
        Citizen id -> ``{"code", "municipality", "units_in_municipality", "eligible_units",
        "to_more_urgent", "to_equal_or_less_urgent", "blocked", "excluded_by_overrides",
        "free"}``. The code is the first of: ``no_eligible_unit`` (no unit passes
        rules 2-8 and the overrides), ``time_limit`` (an eligible unit is free and no
        full cap blocks it), ``capacity`` (a free eligible unit is blocked by a full
        pool, mixed-city cap, frame or quota), ``competition`` (an eligible unit went to
        a citizen of equal or lower urgency), ``outranked``.
    """
    citizens = {c.id: c for c in inst.citizens}
    departments = {d.id: d for d in inst.departments}
    region_of = {m.id: m.region for m in inst.municipalities}
    pool_of = pool_of_units(inst)
    taker = {a["unit"]: citizens[a["citizen"]] for a in assignments}
    housed = {a["citizen"] for a in assignments}
    usage = recompute_usage(inst, assignments)
    full: dict[str, set[str]] = {}
    for section, (key, limit, *_) in SECTIONS.items():
        full[section] = {e[key] for e in usage[section] if e[limit] is not None and e["used"] >= e[limit]}
    by_muni: dict[str, list[Unit]] = {}
    for unit in inst.units:
        by_muni.setdefault(departments[unit.department].municipality, []).append(unit)
    rotation = rotation_units(inst)
    kinds = inst.parameters.subsidy_kinds if inst.body.format == "anvis/2" else KINDS
    tables = {m: _unit_columns(units, departments, rotation, kinds) for m, units in by_muni.items()}
    out = {}
    for citizen in inst.citizens:
        if citizen.id in housed:
            continue
        muni_units = by_muni.get(citizen.municipality, [])
        facts: Doc = {"municipality": citizen.municipality, "units_in_municipality": len(muni_units), "free": []}
        n = more = same = blocked = over = 0
        if not muni_units:
            facts.update(code="no_eligible_unit", eligible_units=0, to_more_urgent=0, to_equal_or_less_urgent=0)
            out[citizen.id] = {**facts, "blocked": 0, "excluded_by_overrides": 0}
            continue
        for k in np.flatnonzero(_eligible_mask(inst, citizen, tables[citizen.municipality])).tolist():
            unit = muni_units[k]
            dept = departments[unit.department]
            if (citizen.id, unit.id) in excluded or (None, unit.id) in excluded:
                over += 1
                continue
            n += 1
            other = taker.get(unit.id)
            if other is not None:
                more, same = (more + 1, same) if other.priority < citizen.priority else (more, same + 1)
                continue
            subsidised = unit.rent_kr > citizen.max_rent_kr
            if (
                pool_of[unit.id] in full["pools"]
                or (citizen.vulnerable and dept.id in full["departments"])
                or (
                    subsidised
                    and (dept.municipality in full["frames"] or region_of[dept.municipality] in full["quotas"])
                )
            ):
                blocked += 1
            else:
                facts["free"].append(unit.id)
        code = (
            "no_eligible_unit"
            if n == 0
            else "time_limit"
            if facts["free"]
            else "capacity"
            if blocked
            else "competition"
            if same
            else "outranked"
        )
        facts.update(
            code=code,
            eligible_units=n,
            to_more_urgent=more,
            to_equal_or_less_urgent=same,
            blocked=blocked,
            excluded_by_overrides=over,
        )
        out[citizen.id] = facts
    return out


def _declined(plan: Doc, assignments: list[Doc], known: Mapping[str, Any]) -> list[Doc]:
    """The plan's ``declined`` offers (a round's refused pairs) that name known, unassigned ids."""
    raw = plan.get("declined", [])
    housed = {a["citizen"] for a in assignments}
    return [
        d
        for d in (raw if isinstance(raw, list) else [])
        if isinstance(d, dict)
        and _is_known(d.get("citizen"), known["citizens"])
        and _is_known(d.get("unit"), known["units"])
        and d["citizen"] not in housed
    ]


def _check_reasons(plan: Doc, facts: dict[str, Doc], declined: dict[str, str], out: list[Violation]) -> None:
    """Unassigned codes, counts and reasons agree with the recomputed facts and state no attribute."""
    entries = plan.get("unassigned")
    bad = _adder(out, "unassigned")
    for e in entries if isinstance(entries, list) else []:
        cid = e.get("citizen") if isinstance(e, dict) else None
        if not (_is_known(cid, facts) or _is_known(cid, declined)):
            continue
        code, reason, details = e.get("code"), e.get("reason"), e.get("details")
        # JSON quotes strings with ", so only the ids a text quotes with ' are left out
        texts = [reason if isinstance(reason, str) else repr(reason), json.dumps(details, default=str)]
        words = list(dict.fromkeys(w for t in texts for w in revealing_words(t)))
        if words:
            out.append(Violation("privacy", f"unassigned citizen {cid!r}: the reason states {', '.join(words)}"))
        if code is None:
            continue  # FORMAT.md asks for a reason only; a code is anvis' own, checked where given
        if cid in declined:
            if code != "declined":
                bad(f"citizen {cid!r} declined unit {declined[cid]!r}, but the code is {code!r}")
            continue
        f = facts[cid]
        if code != f["code"]:
            bad(f"citizen {cid!r}: code is {code!r}, recomputed {f['code']!r}")
            continue
        n = f["eligible_units"]
        if code == "no_eligible_unit":
            m, muni = f["units_in_municipality"], f["municipality"]
            head = (
                "no eligible unit: no vacant unit"
                if m == 0
                else f"no eligible unit: of {m} unit{'s' * (m != 1)} in municipality {muni!r}, "
            )
        else:
            head = f"{n} eligible unit{'s' * (n != 1)}:"
        if not (isinstance(reason, str) and reason.startswith(head)):
            bad(f"citizen {cid!r}: reason {reason!r} does not begin {head.strip()!r}")
        if isinstance(details, dict):
            for key in ("units_in_municipality", "eligible_units", "to_more_urgent", "to_equal_or_less_urgent", "free"):
                if key in details and details[key] != f[key]:
                    bad(f"citizen {cid!r}: details.{key} is {details[key]!r}, recomputed {f[key]!r}")
            if details.get("excluded_by_overrides", 0) != f["excluded_by_overrides"] and code != "no_eligible_unit":
                bad(
                    f"citizen {cid!r}: details.excluded_by_overrides is {details.get('excluded_by_overrides', 0)!r}, "
                    f"recomputed {f['excluded_by_overrides']!r}"
                )
            ruled = details.get("ruled_out_by")
            want = f["units_in_municipality"]
            if isinstance(ruled, dict) and sum(v for v in ruled.values() if _is_number(v)) != want:
                bad(f"citizen {cid!r}: details.ruled_out_by counts {ruled!r}, not {want} units")


def _check_status(
    inst: Instance, plan: Doc, assignments: list[Doc], facts: dict[str, Doc], out: list[Violation]
) -> None:
    """The status agrees with the plan.

    No assignments unless a plan was found; an optimal plan leaves no eligible unit free
    for an unhoused citizen, and has a bound not below its objective and no gap.
    """
    status, raw = plan.get("status"), plan.get("assignments")
    if status in ("infeasible", "error") and isinstance(raw, list) and raw:
        out.append(Violation("status", f"status is {status!r} but the plan has {len(raw)} assignments"))
    if status != "optimal":
        return
    citizens = {c.id: c for c in inst.citizens}
    # a better plan is the plan plus one pair: a claim that means something only of an otherwise valid plan
    valid = not out
    units = {u.id: u for u in inst.units}
    weights = inst.parameters.priority_weights if inst.parameters.objective == "weighted" else None
    table = _score_table(inst)
    better = []  # (citizen, free unit) pairs that would improve the plan
    for cid, f in facts.items() if valid else ():
        for uid in f["free"]:
            gain = 1.0  # lexicographic: one more citizen housed at their priority, nobody less
            if weights is not None:
                gain = (
                    weights[str(citizens[cid].priority)] + _accepted_scores(inst, table, citizens[cid], units[uid])[0]
                )
            if gain > 0:
                better.append((cid, uid))
                break
    if better:
        (cid, uid), more = better[0], len(better) - 1
        out.append(
            Violation(
                "status",
                f"status is 'optimal' but unhoused citizen {cid!r} could take the free unit {uid!r} with no cap "
                f"full{f' (and {more} more citizens could too)' if more else ''}: a better plan exists",
            )
        )
    expected = recompute_objective(inst, assignments)
    objective: float = expected["value"] if "value" in expected else expected["total_score"]
    bound, gap = plan.get("bound"), plan.get("gap")
    if bound is not None and (not _is_number(bound) or bound < objective - TOL * max(1.0, abs(objective))):
        out.append(Violation("bound", f"bound {bound!r} is below the objective {objective:g}"))
    if gap is not None and (not _is_number(gap) or gap > TOL):
        out.append(Violation("status", f"status is 'optimal' but the gap is {gap!r}"))


def check_plan(inst: Instance, plan: Plan | Mapping[str, Any] | Any) -> list[Violation]:
    """Every way ``plan`` breaks FORMAT.md for ``inst``; ``[]`` means the plan is valid.

    Parameters
    ----------
    inst : models.Instance
    plan : Plan or dict
        A :class:`models.Plan`, or an ``anvis-plan/1`` document as read (e.g. by
        :func:`models.read_plan`), which may be malformed in any way.

    Returns
    -------
    list of Violation
        In the order: format, rules 1-8 per assignment (with subsidy flag, effective
        rent and score), planner overrides, instance hash, assignment fields, rules
        9-12, objective, unassigned, usage, unassigned codes and reasons (and any
        attribute of a citizen they state), status, bound.
    """
    if isinstance(plan, Plan):
        plan = plan.to_dict()
    if not isinstance(plan, dict):
        return [Violation("format", "a plan must be a JSON object")]
    out: list[Violation] = []
    assignments = _well_formed(inst, plan, out)
    citizens = {c.id: c for c in inst.citizens}
    units = {u.id: u for u in inst.units}
    departments = {d.id: d for d in inst.departments}
    table = _score_table(inst)
    seen_citizens: set[str] = set()
    seen_units: set[str] = set()
    for a in assignments:
        citizen, unit = citizens[a["citizen"]], units[a["unit"]]
        if citizen.id in seen_citizens:
            out.append(Violation("R1-citizen-twice", f"citizen {citizen.id!r} is assigned more than once"))
        if unit.id in seen_units:
            out.append(Violation("R1-unit-twice", f"unit {unit.id!r} is assigned more than once"))
        seen_citizens.add(citizen.id)
        seen_units.add(unit.id)
        _pair_rules(inst, a, citizen, unit, departments[unit.department], out)
        accepted = _accepted_scores(inst, table, citizen, unit)
        if not any(_close(a["score"], s) for s in accepted):
            want = " or ".join(f"{s:g}" for s in accepted)
            out.append(
                Violation("score", f"citizen {citizen.id!r} in unit {unit.id!r}: score {a['score']:g}, expected {want}")
            )
    overrides = _overrides(inst, plan, out)
    _check_overrides(assignments, overrides, out)
    _check_instance_hash(inst, plan, out)
    locks = {(c, u) for _, action, c, u in overrides if action == "lock" and c is not None}
    _check_assignment_fields(inst, assignments, locks, out)
    _check_version_2(inst, plan, assignments, out)
    usage = recompute_usage(inst, assignments)
    _counting_rules(usage, out)
    _check_objective(inst, plan, assignments, out)
    _check_unassigned(inst, plan, seen_citizens, out)
    if "usage" in plan:
        _check_usage(plan["usage"], usage, out)
    # the reasons were given for the plan as solved: offers declined in a round still count as taken
    declined = _declined(plan, assignments, {"citizens": citizens, "units": units})
    excluded = {(c if action == "forbid" else None, u) for _, action, c, u in overrides if action != "lock"}
    facts = unassigned_facts(inst, assignments + declined, excluded)
    _check_reasons(plan, facts, {d["citizen"]: d["unit"] for d in declined}, out)
    _check_status(inst, plan, assignments, facts, out)
    return out


# --- anvis/2: rotation, subsidy kinds, passed units, homeless (FORMAT.md §6) ------------


def _kind_part(inst: Instance, unit: Unit) -> list[str]:
    """The kind that ends a default pool id in anvis/2 (none in anvis/1)."""
    return [unit.kind] if inst.body.format == "anvis/2" else []


def pool_mode(inst: Instance, pool: str) -> str:
    """A pool's mode, ``"rotation"`` or ``"choice"``.

    Every pool of anvis/1 is a choice pool (rule 11); in anvis/2 an agreement's
    ``mode``, else ``parameters.default_mode`` (FORMAT.md §6 rule 1).
    """
    if inst.body.format != "anvis/2":
        return "choice"
    for ag in inst.agreements:
        if ag.id == pool:
            return ag.mode
    return inst.parameters.default_mode


def rotation_units(inst: Instance) -> dict[str, tuple[int, bool]]:
    """Every unit of a rotation pool: its vacancy number k and whether it may be assigned.

    FORMAT.md §6 rule 4: k is 0 for an ``offered`` unit; a unit may be assigned when
    it is a turn or ``offered``.
    """
    pool_of = pool_of_units(inst)
    shares = {ag.id: ag.share for ag in inst.agreements}
    before = {e.pool: e.vacancies_before for e in inst.ledger}
    members: dict[str, list[tuple[int, int, Unit]]] = {}
    out: dict[str, tuple[int, bool]] = {}
    for position, unit in enumerate(inst.units):
        pool = pool_of[unit.id]
        if pool_mode(inst, pool) != "rotation":
            continue
        if unit.offered:
            out[unit.id] = (0, True)
        else:
            sequence = position if unit.sequence is None else unit.sequence
            members.setdefault(pool, []).append((sequence, position, unit))
    for pool, units in members.items():
        share = shares.get(pool, inst.parameters.default_share)
        k = before.get(pool, 0)
        for _, _, unit in sorted(units, key=lambda m: (m[0], m[1])):
            k += 1
            out[unit.id] = (k, math.floor(share * k + 1e-9) > math.floor(share * (k - 1) + 1e-9))
    return out


def _rotation_caps(inst: Instance) -> dict[str, int]:
    """The units of each rotation pool that may be assigned: its turns and offered units."""
    pool_of = pool_of_units(inst)
    caps: dict[str, int] = {}
    for unit_id, (_, may) in rotation_units(inst).items():
        caps[pool_of[unit_id]] = caps.get(pool_of[unit_id], 0) + may
    return caps


def _check_version_2(inst: Instance, plan: Doc, assignments: list[Doc], out: list[Violation]) -> None:
    """The rules of anvis/2 (FORMAT.md §6) beyond §3.

    Only turns and offered units of rotation pools are assigned, a subsidy only on
    units of ``subsidy_kinds``, and the plan's ``passed`` and
    ``homeless_housed_under_3500_kr`` are right.
    """
    if inst.body.format != "anvis/2":
        return
    units = {u.id: u for u in inst.units}
    citizens = {c.id: c for c in inst.citizens}
    pool_of = pool_of_units(inst)
    rotation = rotation_units(inst)
    share = {ag.id: ag.share for ag in inst.agreements}
    homeless = 0
    for a in assignments:
        unit, citizen = units[a["unit"]], citizens[a["citizen"]]
        k, may = rotation.get(unit.id, (0, True))
        if not may:
            pool = pool_of[unit.id]
            out.append(
                Violation(
                    "rotation",
                    f"unit {unit.id!r} is vacancy {k} of rotation pool {pool!r} (share "
                    f"{share.get(pool, inst.parameters.default_share):g}), not a turn: it may not be assigned",
                )
            )
        subsidised = unit.rent_kr > citizen.max_rent_kr
        if subsidised and unit.kind not in inst.parameters.subsidy_kinds:
            out.append(
                Violation(
                    "R8-affordability",
                    f"unit {unit.id!r} is unaffordable for citizen {citizen.id!r} and cannot be subsidised: "
                    f"kind {unit.kind!r} is not among subsidy_kinds",
                )
            )
        rent = unit.rent_kr - inst.parameters.subsidy_amount_kr if subsidised else unit.rent_kr
        homeless += citizen.homeless and rent < 3500
    assigned = {a["unit"] for a in assignments}
    passed = [u.id for u in inst.units if rotation.get(u.id, (0, False))[1] and u.id not in assigned]
    bad = _adder(out, "passed")
    if plan.get("passed") != passed:
        bad(f"passed is {plan.get('passed')!r}, expected {passed!r} (turns and offered units left unassigned)")
    got = plan.get("homeless_housed_under_3500_kr")
    if got != homeless or isinstance(got, bool):
        _adder(out, "homeless")(f"homeless_housed_under_3500_kr is {got!r}, recomputed {homeless}")
