"""An independent validator of a plan against its instance (FORMAT.md §2, §3, §5).

This module is the second opinion on every plan the engine writes: it re-derives
pools, caps and scores from FORMAT.md with plain loops and imports nothing from
the solver (nor :mod:`models.pools`' pool derivation: only the default pool's id,
which is part of the contract). It reads the plan as the document it is, so a
malformed plan is reported as violations, never raised. Messages name ids only,
never a citizen's other attributes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from models import Instance, Plan, default_pool_id
from models.plan import PLAN_FORMAT, STATUSES
from models.schema import Agreement, Citizen, Department, Unit

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
        ``"unassigned"``, ``"usage"``, ``"override"`` (a lock, forbid or reserve broken);
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
        priority present among the citizens, as strings, most urgent first.
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
    return {"housed_by_priority": housed, "total_score": float(total)}


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


def _pair_rules(inst: Instance, a: Doc, citizen: Citizen, unit: Unit, dept: Department, out: list[Violation]) -> None:
    """Rules 2-8 for one assignment, plus its subsidised flag and effective rent."""
    c, u = f"citizen {citizen.id!r}", f"unit {unit.id!r}"

    def add(rule: str, message: str) -> None:
        out.append(Violation(rule, message))

    if dept.municipality != citizen.municipality:
        add(
            "R2-municipality",
            f"{c} assigned to {u} in municipality {dept.municipality!r} but lives in {citizen.municipality!r}",
        )
    if unit.rooms < citizen.min_rooms or (citizen.max_rooms is not None and unit.rooms > citizen.max_rooms):
        add("R3-rooms", f"{u} ({unit.rooms} rooms) is outside the room range of {c}")
    if unit.kind not in citizen.kinds:
        add("R4-kind", f"{u} is of kind {unit.kind!r}, which {c} does not accept")
    if citizen.needs_accessible and not unit.accessible:
        add("R5-accessible", f"{u} assigned to {c} is not accessible")
    if unit.temporary and not citizen.accepts_temporary:
        add("R6-temporary", f"{u} is temporary, which {c} does not accept")
    if dept.id in citizen.excluded_departments:
        add("R7-excluded-department", f"{u} is in department {dept.id!r}, excluded by {c}")
    if dept.area in citizen.barred_areas:
        add("R7-barred-area", f"{u} is in area {dept.area!r}, barred for {c}")
    params = inst.parameters
    needs_subsidy = unit.rent_kr > citizen.max_rent_kr
    if needs_subsidy:
        low, high = params.subsidy_band_kr
        reasons = []
        if not citizen.subsidy_eligible:
            reasons.append("the citizen is not subsidy eligible")
        if not low <= unit.rent_kr <= high:
            reasons.append(f"rent {unit.rent_kr:g} is outside the band [{low:g}, {high:g}]")
        if unit.rent_kr - params.subsidy_amount_kr > citizen.max_rent_kr:
            reasons.append("it stays unaffordable even with the subsidy")
        if reasons:
            add("R8-affordability", f"{u} is unaffordable for {c} and cannot be subsidised: " + "; ".join(reasons))
    if a["subsidised"] != needs_subsidy:
        add(
            "subsidy",
            f"{c} in {u}: subsidised is {a['subsidised']}, expected {needs_subsidy}"
            f" (a subsidy is used exactly when the rent exceeds the citizen's limit)",
        )
    expected = unit.rent_kr - params.subsidy_amount_kr if a["subsidised"] else unit.rent_kr
    if not _close(a["effective_rent_kr"], expected):
        add("subsidy", f"{c} in {u}: effective_rent_kr is {a['effective_rent_kr']:g}, expected {expected:g}")


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
            and o.get("action") in ("lock", "forbid", "reserve")
            and _is_known(o.get("unit"), units)
            and (o["action"] == "reserve" or _is_known(o.get("citizen"), citizens))
        ):
            out.append(Violation("format", f"{where} is not a lock, forbid or reserve of known ids: {o!r}"))
            continue
        found.append((where, o["action"], o.get("citizen"), o["unit"]))
    return found


def _check_overrides(inst: Instance, plan: Doc, assignments: list[Doc], out: list[Violation]) -> None:
    """Locked pairs are in the plan; forbidden pairs and reserved units are not."""
    unit_of = {a["citizen"]: a["unit"] for a in assignments}
    assigned_units = set(unit_of.values())
    for where, action, citizen, unit in _overrides(inst, plan, out):
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
        elif action == "reserve" and unit in assigned_units:
            out.append(Violation("override", f"{where}: unit {unit!r} is reserved but assigned"))


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
        rent and score), planner overrides, rules 9-12, objective, unassigned, usage.
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
    _check_overrides(inst, plan, assignments, out)
    _check_version_2(inst, plan, assignments, out)
    usage = recompute_usage(inst, assignments)
    _counting_rules(usage, out)
    _check_objective(inst, plan, assignments, out)
    _check_unassigned(inst, plan, seen_citizens, out)
    if "usage" in plan:
        _check_usage(plan["usage"], usage, out)
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
