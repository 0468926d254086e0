"""The smallest single change that would have housed a citizen, found by re-solving.

Candidate changes (one more frame or quota slot, a mixed-city cap + 1, a share
point or one claim fewer in the ledger, one more turn in a rotation pool, the
citizen's rent limit + N kr, one room more or fewer) are tried most promising first; each is applied to the instance
and the citizen's block is solved again (:func:`counterfactual`).

Re-solving is restricted to the citizen's independent block (:func:`block_of`).
By FORMAT.md a unit is only ever assigned within its municipality (rule 2), and
pools, departments and frames all belong to one municipality (§2, rules 9, 11,
12); the only link between municipalities is their region's grant quota (rule
10), and only for municipalities that can make a subsidised assignment at all. So
the block is the citizen's municipality, plus, when the quota can bind, the other
municipalities of the region that can use a grant. Both objectives add up over
independent parts, so the block's optimum is the whole optimum restricted to it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from models import Instance, Plan
from models.instance import Scores
from models.pools import Pool, default_pool_id, pool_cap, turns
from models.schema import KINDS, Agreement
from optimizer.engine.data import NO_LIMIT, ProblemData
from optimizer.engine.pairs import ELIGIBLE, NOT_A_TURN, candidates, failure_codes
from optimizer.engine.solve import Result, solve
from optimizer.engine.stages import Progress
from optimizer.explain.context import Context, Units, UnknownCitizen, blocking_caps, citizen_units, context
from optimizer.plan.usage import ID_FIELD
from optimizer.text import kr, number, plural

MAX_CANDIDATES = 10  # single changes re-solved per counterfactual, by default
RENT_CODES = (7, 8, 9)  # failure codes of rule 8 (affordability)
ROOMS_CODE = 1
MAX_RENT_STEPS = 3  # distinct rent-limit increases tried


def block_of(inst: Instance, citizen_id: str, ctx: Context | None = None) -> tuple[set[str], str]:
    """The municipalities whose re-solve decides a citizen's outcome exactly.

    Units go only to citizens of their municipality, and pools, departments and
    frames belong to one municipality, so municipalities interact only through
    their region's grant quota. Municipality *m* can use at most
    ``min(frame, subsidy-eligible citizens, units in the subsidy band)`` quota
    slots (the citizen's own municipality counted with one more frame slot, so
    that every candidate change stays inside the block). When the quota is at
    least the region's sum of these, it cannot bind and the citizen's
    municipality alone is the block; otherwise the block is the municipality and
    every other municipality of the region that can use a slot at all.

    Returns
    -------
    (set of municipality ids, description)
    """
    data = ctx.data if ctx is not None else ProblemData.build(inst)
    c = data.citizen_index.get(citizen_id)
    if c is None:
        raise UnknownCitizen(citizen_id)
    m = int(data.c_muni[c])
    muni = inst.municipalities[m]
    r = next(i for i, x in enumerate(inst.regions) if x.id == muni.region)
    quota = data.region_quota[r]
    if quota >= NO_LIMIT:
        return {muni.id}, f"municipality {muni.id!r}"
    n = len(inst.municipalities)
    low, high = inst.parameters.subsidy_band_kr
    band = np.bincount(data.u_muni[(data.u_rent >= low) & (data.u_rent <= high)], minlength=n)
    eligible = np.bincount(data.c_muni[data.c_subsidy], minlength=n)
    frame = data.muni_frame.copy()
    frame[m] += 1
    usable = np.minimum(np.minimum(frame, eligible), band)
    in_region = np.array([x.region == muni.region for x in inst.municipalities])
    if quota >= usable[in_region].sum():
        return {muni.id}, f"municipality {muni.id!r}"
    others = [inst.municipalities[i].id for i in np.flatnonzero(in_region & (usable > 0)).tolist() if i != m]
    if not others:
        return {muni.id}, f"municipality {muni.id!r}"
    return (
        {muni.id, *others},
        f"municipality {muni.id!r} with the {len(others)} other municipalit{'y' if len(others) == 1 else 'ies'} "
        f"of region {muni.region!r} that can use its grant quota",
    )


def restrict(inst: Instance, municipalities: set[str]) -> Instance:
    """The part of an instance that lies in the given municipalities (and their regions).

    Units, departments, agreements, ledger entries, citizens and scores of other
    municipalities are dropped; parameters are kept. Exact for re-solving when the
    municipalities are an independent block (:func:`block_of`).
    """
    munis = tuple(m for m in inst.municipalities if m.id in municipalities)
    regions = {m.region for m in munis}
    depts = tuple(d for d in inst.departments if d.municipality in municipalities)
    dids = {d.id for d in depts}
    units = tuple(u for u in inst.units if u.department in dids)
    uids = {u.id for u in units}
    agreements = tuple(a for a in inst.agreements if a.municipality in municipalities)
    kinds = KINDS if inst.version == 2 else (None,)  # anvis/2: a default pool per unit kind (FORMAT.md §6)
    pool_ids = {a.id for a in agreements} | {
        default_pool_id(d.municipality, d.organisation, k) for d in depts for k in kinds
    }
    citizens = tuple(x for x in inst.citizens if x.municipality in municipalities)
    cids = {x.id for x in citizens}
    s = inst.scores
    if len(s):
        keep = np.fromiter((a in cids and b in uids for a, b in zip(s.citizen, s.unit, strict=True)), bool, len(s))
        idx = np.flatnonzero(keep).tolist()
        scores = Scores(
            tuple(s.citizen[i] for i in idx), tuple(s.unit[i] for i in idx), np.asarray(s.score)[keep].copy()
        )
    else:
        scores = s
    tables = {
        "regions": tuple(r for r in inst.regions if r.id in regions),
        "municipalities": munis,
        "departments": depts,
        "units": units,
        "agreements": agreements,
        "ledger": tuple(e for e in inst.ledger if e.pool in pool_ids),
        "citizens": citizens,
        "scores": scores,
    }
    if getattr(inst, "overrides", ()):
        tables["overrides"] = tuple(
            o for o in inst.overrides if o.unit in uids and (o.citizen is None or o.citizen in cids)
        )
    return inst.replace(**tables)


def apply_change(inst: Instance, change: dict[str, Any]) -> Instance:
    """The instance with one counterfactual change applied (no re-validation needed).

    Parameters
    ----------
    inst
        The instance (whole, or a block of it from :func:`restrict`).
    change
        A change as found by :func:`counterfactual`: ``kind`` is ``frame``,
        ``quota``, ``department``, ``share``, ``turn`` (a rotation pool's share,
        raised until one more of its vacancies is a turn), ``ledger``, ``rent`` or
        ``rooms``, with its target id and the new value ``to``.

    Returns
    -------
    Instance
    """
    kind, to = change["kind"], change["to"]
    if kind == "frame":
        return inst.replace(
            municipalities=tuple(
                m.model_copy(update={"subsidy_frame": to}) if m.id == change["municipality"] else m
                for m in inst.municipalities
            )
        )
    if kind == "quota":
        return inst.replace(
            regions=tuple(
                r.model_copy(update={"grant_quota": to}) if r.id == change["region"] else r for r in inst.regions
            )
        )
    if kind == "department":
        return inst.replace(
            departments=tuple(
                d.model_copy(update={"max_vulnerable": to}) if d.id == change["department"] else d
                for d in inst.departments
            )
        )
    if kind in ("share", "turn"):
        if change.get("new_agreement") is None:
            return inst.replace(
                agreements=tuple(
                    a.model_copy(update={"share": to}) if a.id == change["pool"] else a for a in inst.agreements
                )
            )
        # a default pool: a new agreement for exactly its units (appended last, it matches
        # only units no other agreement matched), carrying the default pool's ledger entry
        new = Agreement(
            id=change["new_agreement"],
            municipality=change["municipality"],
            organisation=change["organisation"],
            share=to,
            # anvis/2: a default pool holds one unit kind; a share change is of a choice pool (rotation
            # has no cap), one more turn of a rotation pool
            **(
                {"mode": "rotation" if kind == "turn" else "choice", "kinds": (change["unit_kind"],)}
                if "unit_kind" in change
                else {}
            ),
        )
        ledger = tuple(e.model_copy(update={"pool": new.id}) if e.pool == change["pool"] else e for e in inst.ledger)
        return inst.replace(agreements=(*inst.agreements, new), ledger=ledger)
    if kind == "ledger":
        return inst.replace(
            ledger=tuple(
                e.model_copy(update={"claimed_before": to}) if e.pool == change["pool"] else e for e in inst.ledger
            )
        )
    if kind in ("rent", "rooms"):
        key = "max_rent_kr" if kind == "rent" else change["field"]
        return inst.replace(
            citizens=tuple(x.model_copy(update={key: to}) if x.id == change["citizen"] else x for x in inst.citizens)
        )
    raise ValueError(f"unknown change kind {kind!r}")


def _pct(s: float) -> str:
    return f"{100 * s:.4g}%"


def _pool_change(ctx: Context, i: int) -> dict[str, Any] | None:
    """The smallest change of one pool's terms that raises its cap by at least one.

    The share is raised in whole percentage points until the cap grows: the
    agreement's share, or for a default pool a new agreement for its organisation
    in its municipality at the raised share (appended last, it matches exactly the
    units that fell to the default pool, and takes over its ledger entry), which
    leaves every other default pool alone. When one share step adds more than one
    slot (many vacancies in the ledger) and the ledger holds earlier claims, the
    exact cap + 1 is one claim fewer in the ledger (``claimed_before − 1``) instead.
    """
    p: Pool = ctx.data.pool_list[i]
    default = p.id not in {a.id for a in ctx.inst.agreements}
    share = None
    for k in range(1, 101):
        s = min(1.0, round(p.share + k / 100, 10))
        cap = pool_cap(s, p.vacancies_before, p.vacancies, p.claimed_before)
        if cap > p.cap:
            share = (k, s, cap)
            break
        if s >= 1.0:
            break
    if (share and share[2] > p.cap + 1 and p.claimed_before > 0) or (not share and p.claimed_before > 0):
        cap = pool_cap(p.share, p.vacancies_before, p.vacancies, p.claimed_before - 1)
        step = (
            f"; the smallest share step, +{share[0]} point{'s' * (share[0] > 1)}, would give cap {share[2]}"
            if share
            else ""
        )
        return {
            "kind": "ledger",
            "pool": p.id,
            "from": p.claimed_before,
            "to": p.claimed_before - 1,
            "cap_from": p.cap,
            "cap_to": cap,
            "text": f"pool {p.id!r} cap + 1: one claim fewer in its ledger (claimed_before "
            f"{p.claimed_before} → {p.claimed_before - 1}; cap {p.cap} → {cap}{step})",
        }
    if not share:
        return None
    k, s, cap = share
    ch = {"kind": "share", "pool": p.id, "from": p.share, "to": s, "points": k, "cap_from": p.cap, "cap_to": cap}
    pts = f"+{k} point{'s' * (k > 1)}"
    if default:
        ch.update(_new_agreement(ctx, i))
        org, new_id = ch["organisation"], ch["new_agreement"]
        ch["text"] = (
            f"a share of {_pct(s)} instead of the default {_pct(p.share)} for organisation {org!r} "
            f"in municipality {p.municipality!r} (pool {p.id!r}, {pts}; cap {p.cap} → {cap}; "
            f"as new agreement {new_id!r})"
        )
    else:
        ch["text"] = f"share of agreement {p.id!r} {_pct(p.share)} → {_pct(s)} ({pts}; cap {p.cap} → {cap})"
    return ch


def _new_agreement(ctx: Context, i: int) -> dict[str, Any]:
    """The agreement that takes over default pool ``i`` at a changed share (see :func:`apply_change`).

    Appended last, it matches exactly the units that fell to the default pool (its
    organisation in its municipality, and in ``anvis/2`` its unit kind) and takes over
    the pool's ledger entry, leaving every other default pool alone.
    """
    p: Pool = ctx.data.pool_list[i]
    first = int(np.flatnonzero(ctx.data.u_pool == i)[0])
    org = ctx.inst.departments[int(ctx.data.u_dept[first])].organisation
    taken = {a.id for a in ctx.inst.agreements}
    new_id = f"share-{p.municipality}-{org}"
    while new_id in taken:
        new_id += "+"
    out: dict[str, Any] = {"new_agreement": new_id, "municipality": p.municipality, "organisation": org}
    if ctx.inst.version == 2:  # the default pool of one unit kind (FORMAT.md §6 rule 2)
        out["unit_kind"] = ctx.inst.units[first].kind
    return out


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def _turn_change(ctx: Context, i: int, fitting: np.ndarray) -> dict[str, Any] | None:
    """One more turn in rotation pool ``i`` that falls on a unit the citizen fits, by the smallest share step.

    In a rotation pool (FORMAT.md §6 rule 4) the municipality may take only its turns, so
    the lever a negotiator has is the pool's share: it is raised in whole percentage points
    until the pool has more turns this round and one of them is a unit in ``fitting``
    (units the citizen fits in every rule but the turn). A raised share may also move
    other turns; the change says which units are turns before and after. A default pool
    gets a new agreement at the raised share (in rotation mode, see :func:`_new_agreement`).
    The turns are found by :func:`models.pools.turns`, the one place that numbers vacancies.
    """
    data, inst = ctx.data, ctx.inst
    p: Pool = data.pool_list[i]
    members = np.flatnonzero(data.u_pool == i)
    # the pool's units alone, each with its order of vacancy made explicit (a default
    # sequence is the unit's position in the whole instance)
    units = tuple(
        inst.units[u].model_copy(update={"sequence": u if inst.units[u].sequence is None else inst.units[u].sequence})
        for u in members.tolist()
    )
    alone, of_units = inst.replace(units=units), [p.id] * len(units)
    want = np.isin(members, fitting)
    numbered = data.u_vacancy[members] > 0
    before = data.u_turn[members] & numbered
    for k in range(1, 101):
        s = min(1.0, round(p.share + k / 100, 10))
        after = turns(alone, of_units, {p.id: dataclasses.replace(p, share=s)})[1] & numbered
        if (after & want).any() and after.sum() > before.sum():
            break  # (a unit the citizen fits is never a turn before: it would be eligible)
        if s >= 1.0:
            return None
    ids = [inst.units[u].id for u in members.tolist()]
    new = int(np.flatnonzero(after & want)[0])
    unit, vacancy = ids[new], int(data.u_vacancy[members[new]])
    was = [ids[j] for j in np.flatnonzero(before).tolist()]
    now = [ids[j] for j in np.flatnonzero(after).tolist()]
    pts = f"+{k} point{'s' * (k > 1)}"
    ch: dict[str, Any] = {
        "kind": "turn",
        "pool": p.id,
        "turn_unit": unit,
        "vacancy": vacancy,
        "from": p.share,
        "to": s,
        "points": k,
        "turns_from": was,
        "turns_to": now,
    }
    if p.id in {a.id for a in inst.agreements}:
        how = f"share of agreement {p.id!r} {_pct(p.share)} → {_pct(s)} ({pts})"
    else:
        ch.update(_new_agreement(ctx, i), mode="rotation")
        how = (
            f"a share of {_pct(s)} instead of the default {_pct(p.share)} for organisation "
            f"{ch['organisation']!r} in municipality {p.municipality!r} ({pts}; as new agreement "
            f"{ch['new_agreement']!r})"
        )
    ch["text"] = (
        f"one more turn in pool {p.id!r}: {how} makes unit {unit} (vacancy {vacancy} of the pool) "
        f"the municipality's turn (turns this round {len(was)} → {len(now)}: {_ids(was)} → {_ids(now)})"
    )
    return ch


def _rent_steps(ctx: Context, c: int, units: Units) -> list[int]:
    """Smallest whole-krone increases of the rent limit that make some unit newly affordable.

    A unit excluded only by rule 8 becomes eligible at ``rent − limit`` (unsubsidised)
    or, for a subsidy-eligible citizen and a rent within the band, at
    ``rent − subsidy − limit``; an eligible subsidised unit stops needing a frame
    and quota slot at ``rent − limit``.
    """
    data, p = ctx.data, ctx.inst.parameters
    limit = float(data.c_max_rent[c])
    rent = data.u_rent[units.unit]
    need = np.full(len(rent), np.inf)
    only_rent = np.isin(units.code, RENT_CODES)
    need[only_rent] = rent[only_rent] - limit
    low, high = p.subsidy_band_kr
    if data.c_subsidy[c]:
        band = only_rent & (rent >= low) & (rent <= high)
        need[band] = np.minimum(need[band], rent[band] - p.subsidy_amount_kr - limit)
    need[units.subsidised] = rent[units.subsidised] - limit
    need[ctx.overridden(np.full(len(rent), c), units.unit)] = np.inf  # a forbid or reserve stays
    need = need[np.isfinite(need) & (need > 0)]
    steps = sorted({max(1, math.ceil(x - 1e-9)) for x in need.tolist()})
    return steps[:MAX_RENT_STEPS]


def _candidate_changes(ctx: Context, c: int, units: Units) -> list[dict[str, Any]]:
    """Single changes worth re-solving for an unassigned citizen, most promising first.

    Only caps that are full in the plan are candidates (a cap with room left is not
    what stopped anyone), and only where they can matter at all (a frame or quota
    slot where some subsidised pair is possible; a mixed-city slot where a
    vulnerable citizen lives; a pool cap below its vacancies). Tiers, in order:

    0. a cap that is the only thing keeping the citizen from a free eligible unit;
    1. other caps on the citizen's eligible units;
    2. the citizen's own limits: rent limit + N kr (smallest N first), rooms ± 1;
    3. the other full caps of the municipality and region (they can free one of
       the citizen's units by moving its taker elsewhere).

    One more turn in a rotation pool (:func:`_turn_change`) is in tier 1, after the
    caps: it makes a unit the citizen fits in every other rule assignable (one change
    per pool holding such units), also when nothing is eligible for them now.

    Within a tier: frame, quota, department, pool, turn; then by how many of the
    citizen's eligible units the cap covers (for a turn: the citizen's units in the pool).
    """
    inst, data, used = ctx.inst, ctx.data, ctx.used
    cit = inst.citizens[c]
    m = int(data.c_muni[c])
    muni = inst.municipalities[m]
    r = next(i for i, x in enumerate(inst.regions) if x.id == muni.region)
    elig = np.flatnonzero(units.eligible)
    eu, es = units.unit[elig], units.subsidised[elig]
    # caps that alone block a free eligible unit (tier 0)
    sole = set()
    for u, s in zip(eu.tolist(), es.tolist(), strict=True):
        if ctx.taker[u] < 0:
            caps = blocking_caps(ctx, c, u, s)
            if len(caps) == 1:
                sole.add((caps[0]["kind"], caps[0][ID_FIELD[caps[0]["kind"]]]))
    ranked: list[tuple[int, int, int, int, dict[str, Any]]] = []  # (tier, kind order, -covered, index, change)

    def add(kind: str, key: str, covered: int, index: int, change: dict[str, Any]) -> None:
        tier = 0 if (kind, key) in sole else 1 if covered else 3
        ranked.append((tier, ("frame", "quota", "department", "pool").index(kind), -covered, index, change))

    low, high = inst.parameters.subsidy_band_kr
    band = (data.u_rent >= low) & (data.u_rent <= high)
    sub_here = bool((data.c_subsidy & (data.c_muni == m)).any() and (band & (data.u_muni == m)).any())
    n_sub = int(es.sum())
    if used["frame"][m] >= data.muni_frame[m] and (n_sub or sub_here):
        f = int(data.muni_frame[m])
        add(
            "frame",
            muni.id,
            n_sub,
            m,
            {
                "kind": "frame",
                "municipality": muni.id,
                "from": f,
                "to": f + 1,
                "text": f"one more subsidy frame slot for municipality {muni.id!r} (frame {f} → {f + 1})",
            },
        )
    q = data.region_quota[r]
    if q < NO_LIMIT and used["quota"][r] >= q and (n_sub or sub_here):
        rid = inst.regions[r].id
        add(
            "quota",
            rid,
            n_sub,
            r,
            {
                "kind": "quota",
                "region": rid,
                "from": int(q),
                "to": int(q) + 1,
                "text": f"one more grant-quota slot for region {rid!r} (quota {int(q)} → {int(q) + 1})",
            },
        )
    in_muni = np.flatnonzero(data.u_muni == m)
    vulnerable_here = bool((data.c_vulnerable & (data.c_muni == m)).any())
    d_units = np.bincount(data.u_dept[in_muni], minlength=data.n_departments)
    mine_d = (
        np.bincount(data.u_dept[eu], minlength=data.n_departments)
        if cit.vulnerable
        else np.zeros(data.n_departments, int)
    )
    if vulnerable_here:
        for d in np.flatnonzero(
            (d_units > 0) & (used["department"] >= data.dept_cap) & (data.dept_cap < d_units)
        ).tolist():
            cap, did = int(data.dept_cap[d]), inst.departments[d].id
            add(
                "department",
                did,
                int(mine_d[d]),
                d,
                {
                    "kind": "department",
                    "department": did,
                    "from": cap,
                    "to": cap + 1,
                    "text": f"department {did!r} mixed-city cap + 1 (max_vulnerable {cap} → {cap + 1})",
                },
            )
    p_units = np.bincount(data.u_pool[in_muni], minlength=len(data.pool_list))
    mine_p = np.bincount(data.u_pool[eu], minlength=len(data.pool_list))
    for i in np.flatnonzero((p_units > 0) & (used["pool"] >= data.pool_cap)).tolist():
        if data.pool_cap[i] >= data.pool_list[i].vacancies or data.pool_rotation[i]:
            continue  # (a rotation pool's units are turns or not: no share change is offered)
        ch = _pool_change(ctx, i)
        if ch is not None:
            add("pool", data.pool_list[i].id, int(mine_p[i]), i, ch)
    own = []
    for n in _rent_steps(ctx, c, units):
        to = float(cit.max_rent_kr) + n
        own.append(
            {
                "kind": "rent",
                "citizen": cit.id,
                "from": number(cit.max_rent_kr),
                "to": number(to),
                "n_kr": n,
                "text": f"rent limit + {n:,} kr ({kr(cit.max_rent_kr)} → {kr(to)})",
            }
        )
    rooms = data.u_rooms[units.unit[units.code == ROOMS_CODE]]
    rooms = rooms[~ctx.overridden(np.full(len(rooms), c), units.unit[units.code == ROOMS_CODE])]
    if cit.min_rooms > 1 and (rooms == cit.min_rooms - 1).any():
        own.append(
            {
                "kind": "rooms",
                "citizen": cit.id,
                "field": "min_rooms",
                "from": cit.min_rooms,
                "to": cit.min_rooms - 1,
                "text": f"one room fewer accepted (min_rooms {cit.min_rooms} → {cit.min_rooms - 1})",
            }
        )
    if cit.max_rooms is not None and (rooms == cit.max_rooms + 1).any():
        own.append(
            {
                "kind": "rooms",
                "citizen": cit.id,
                "field": "max_rooms",
                "from": cit.max_rooms,
                "to": cit.max_rooms + 1,
                "text": f"one room more accepted (max_rooms {cit.max_rooms} → {cit.max_rooms + 1})",
            }
        )
    if not len(elig):  # a cap change never makes a unit eligible: only a turn or the citizen's limits can
        ranked.clear()
    # one more turn: units the citizen fits in every rule but the rotation (FORMAT.md §6)
    blocked = units.unit[units.code == NOT_A_TURN]
    blocked = blocked[~ctx.overridden(np.full(len(blocked), c), blocked)]
    for i in np.unique(data.u_pool[blocked]).tolist():
        ch = _turn_change(ctx, i, blocked)
        if ch is not None:
            covered = int((data.u_pool[blocked] == i).sum())
            ranked.append((1, 4, -covered, i, ch))
    ranked.extend((2, 0, 0, j, ch) for j, ch in enumerate(own))
    ranked.sort(key=lambda t: t[:4])
    return [t[4] for t in ranked]


def _adds_eligible(block: Instance, change: dict[str, Any], citizen_id: str) -> bool:
    """Whether a change to the citizen's own limits makes a new unit eligible for them."""
    before, after = ProblemData.build(block), ProblemData.build(apply_change(block, change))

    def count(data: ProblemData) -> int:
        c = data.citizen_index[citizen_id]
        got = list(candidates(data, np.array([c])))
        if not got:
            return 0
        ci, ui = np.concatenate([a for a, _ in got]), np.concatenate([b for _, b in got])
        return int((failure_codes(data, ci, ui) == ELIGIBLE).sum())

    return count(after) > count(before)


def _housed_in(result: Result, citizen_id: str) -> tuple[str, bool] | None:
    """(unit id, subsidised) of the citizen in a solve result, or None."""
    inst = result.data.inst
    c = result.data.citizen_index[citizen_id]
    k = np.flatnonzero(result.chosen.citizen == c)
    if len(k) == 0:
        return None
    j = int(k[0])
    return inst.units[int(result.chosen.unit[j])].id, bool(result.chosen.subsidised[j])


def _delta(ctx: Context, block: Instance, result: Result, citizen_id: str) -> dict[str, Any]:
    """Who else changes between the plan and a re-solve of the block (ids and priorities only)."""
    inst = ctx.inst
    before: dict[str, str] = {}
    for x in block.citizens:
        u = ctx.unit_of[ctx.data.citizen_index[x.id]]
        if u >= 0:
            before[x.id] = inst.units[int(u)].id
    after = {
        result.data.inst.citizens[c].id: result.data.inst.units[u].id
        for c, u in zip(result.chosen.citizen.tolist(), result.chosen.unit.tolist(), strict=True)
    }
    prio = {x.id: x.priority for x in block.citizens}
    moved = sorted(x for x in before.keys() & after.keys() if before[x] != after[x] and x != citizen_id)
    out = {
        "newly_housed": [
            {"citizen": x, "priority": prio[x]} for x in sorted(after.keys() - before.keys()) if x != citizen_id
        ],
        "no_longer_housed": [{"citizen": x, "priority": prio[x]} for x in sorted(before.keys() - after.keys())],
        "moved": [{"citizen": x, "from": before[x], "to": after[x]} for x in moved],
    }
    return out


def _within(progress: Progress | None, what: str, k: int, n: int) -> Progress | None:
    """A re-solve's progress as step ``k`` of ``n`` of the search: its messages after ``what``.

    ``n`` 0: the number of steps is not known yet (the block's re-solve, before the
    changes are listed), so no fraction.
    """
    if progress is None:
        return None
    outer = progress

    def inner(message: str, fraction: float | None) -> None:
        outer(f"{what}: {message}", None if fraction is None or n == 0 else (k + fraction) / n)

    return inner


def counterfactual(
    inst: Instance,
    plan: Plan | Mapping[str, Any],
    citizen_id: str,
    *,
    max_candidates: int = MAX_CANDIDATES,
    backend: str = "auto",
    time_limit: float | None = None,
    ctx: Context | None = None,
    cache: dict[Any, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The smallest single change that would have housed an unassigned citizen, by re-solving.

    Candidate changes (:func:`_candidate_changes`), smallest first: one more subsidy
    frame slot, one more grant-quota slot, a department's mixed-city cap + 1, a pool's
    share raised by whole percentage points until its cap grows by one (or one claim
    fewer in its ledger), one more turn in a rotation pool (its share raised by whole
    points until one more of its vacancies, one the citizen fits, is the municipality's
    turn), the citizen's rent limit + N kr (the smallest N that makes
    another unit affordable, possibly with the subsidy), one room more or fewer.
    Each is applied to the citizen's independent block (:func:`block_of`), which is
    re-solved to optimum; the first change under which the citizen is housed is the
    answer. The unchanged block is re-solved first: if that already houses the
    citizen, the plan chose among equally good plans (or was not optimal).

    Parameters
    ----------
    inst, plan, citizen_id
        As for :func:`explain`.
    max_candidates
        At most this many changes are re-solved.
    backend, time_limit
        Passed to :func:`optimizer.engine.solve.solve` for each re-solve.
    ctx
        A reusable :func:`~optimizer.explain.context.context`.
    cache
        Re-solved blocks by municipalities, shared across calls (as :func:`explain_all` does).
    progress
        Told of each re-solve (``change k of n``, the kind of change) and its stages; the
        fraction is of the changes that may be tried. Never the citizen's data. None: silent.

    Returns
    -------
    dict
        ``found`` (the change, the unit the citizen would get, and the plan delta:
        who else is housed, unhoused or moved) or ``None``; ``tried`` (each change
        re-solved, in order); ``scope`` (the block re-solved); ``text``.
    """
    ctx = context(inst, plan) if ctx is None else ctx
    c = ctx.index_of(citizen_id)
    if ctx.unit_of[c] >= 0:
        return {"applies": False, "text": "housed in the plan: no change needed"}
    munis, scope = block_of(inst, citizen_id, ctx)
    key = frozenset(munis)
    cache = {} if cache is None else cache
    if key not in cache:
        block = restrict(ctx.with_overrides(inst), munis)
        inner = _within(progress, "re-solving the block as it is", 0, 0)
        cache[key] = (block, solve(block, backend=backend, time_limit=time_limit, progress=inner))
    block, base = cache[key]
    out = {
        "applies": True,
        "scope": scope,
        "block": {"municipalities": len(munis), "citizens": len(block.citizens), "units": len(block.units)},
    }
    got = _housed_in(base, citizen_id)
    if got is not None:
        out.update(
            found={
                "kind": "none",
                "text": "no change: re-solving the block as it is houses them",
                "unit": got[0],
                "subsidised": got[1],
                "delta": _delta(ctx, block, base, citizen_id),
            },
            tried=[],
            text=(
                f"re-solving {scope} unchanged houses them in {got[0]}: the plan chose "
                f"among equally good plans or was not optimal"
            ),
        )
        return out
    units = citizen_units(ctx, c)
    changes = _candidate_changes(ctx, c, units)
    tried: list[dict[str, Any]] = []
    skipped = 0
    found = None
    most = min(len(changes), max_candidates)
    for ch in changes:
        if len(tried) >= max_candidates:
            skipped += 1
            continue
        if ch["kind"] == "rooms" and not _adds_eligible(block, ch, citizen_id):
            continue
        inner = _within(progress, f"change {len(tried) + 1} of at most {most} ({ch['kind']})", len(tried), most)
        res = solve(apply_change(block, ch), backend=backend, time_limit=time_limit, progress=inner)
        got = _housed_in(res, citizen_id)
        entry = {**ch, "housed": got is not None}
        if str(res.status) != "optimal":
            entry["status"] = str(res.status)
        tried.append(entry)
        if got is not None:
            found = {**ch, "unit": got[0], "subsidised": got[1], "delta": _delta(ctx, block, res, citizen_id)}
            break
    out.update(found=found, tried=tried, not_tried=skipped)
    if found:
        out["text"] = (
            f"{found['text']} houses them in {found['unit']} (re-solved {scope}; {plural(len(tried), 'change')} tried)"
        )
    else:
        n = len(tried)
        more = f"; {skipped} more not tried (--max-candidates)" if skipped else ""
        out["text"] = f"none of the {plural(n, 'single change')} tried would house them (re-solved {scope}{more})"
    return out
