"""Why a citizen got their unit, or why not, and the smallest change that would house them.

``anvis explain INSTANCE PLAN CITIZEN`` and the per-citizen texts of a round
report. The plan says *what*; this module says *why*, from the instance's rules
(FORMAT.md §3), the plan's assignments and its usage of every cap:

- an **assigned** citizen: the unit, its score and score parts (or "given in
  scores"), effective rent and subsidy, against the citizen's best other eligible
  units and why each went elsewhere (taken by a more urgent citizen; taken by
  another because the plan as a whole houses more or scores higher; a full pool,
  department, frame or quota; or a lower score);
- an **unassigned** citizen: for every unit of their municipality the first rule
  that excludes it (grouped by rule), and for the eligible units who took each one
  (id and priority) or which full cap blocked it;
- a **counterfactual**: the smallest single change that would have housed them,
  found by re-solving (:mod:`optimizer.explain.counterfactual`), never guessed.

Only ids and priorities of other citizens are ever shown; of the asked-about
citizen only what the explanation needs (rent limit, rooms, subsidy eligibility,
vulnerability where a mixed-city cap is named).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from models import Instance, Plan
from optimizer.engine.data import NO_LIMIT, ProblemData
from optimizer.engine.pairs import (
    ELIGIBLE,
    NOT_A_TURN,
    RULE_TEXT,
    SCORE_WEIGHTS,
    candidates,
    eligible_pairs,
    failure_codes,
    score_parts,
)
from optimizer.explain.context import (
    Context,
    PlanMismatch,
    Units,
    UnknownCitizen,
    blocking_caps,
    citizen_units,
    context,
)
from optimizer.explain.counterfactual import MAX_CANDIDATES, counterfactual
from optimizer.plan.reasons import (
    OVERRIDDEN,
    UNNAMED_CAP,
    fates,
    plan_cap_text,
    plan_rule_counts,
    reason_code,
    reason_codes,
)
from optimizer.plan.usage import CAP_KINDS, group_of
from optimizer.text import compact_ids, kr, number, plural

__all__ = [
    "MAX_CANDIDATES",
    "PART_TEXT",
    "WEIGHTS",
    "PlanMismatch",
    "UnknownCitizen",
    "compact_ids",
    "context",
    "explain",
    "explain_all",
    "format_explanation",
]

#: Weights of the default score's parts (see :func:`optimizer.engine.pairs.default_scores`).
WEIGHTS = SCORE_WEIGHTS
PART_TEXT = {
    "pref": "preference for the department",
    "rent": "share of the rent limit left",
    "rooms": "size fit (smallest unit that fits)",
    "access": "accessible unit not taken from those who need one",
}


# --------------------------------------------------------------------------- explain one


def explain(
    inst: Instance,
    plan: Plan | Mapping[str, Any],
    citizen_id: str,
    *,
    counterfactuals: bool = True,
    alternatives: int = 5,
    max_candidates: int = MAX_CANDIDATES,
    backend: str = "auto",
    time_limit: float | None = None,
    ctx: Context | None = None,
) -> dict[str, Any]:
    """Explain one citizen's outcome in a plan.

    Parameters
    ----------
    inst
        The instance the plan was made for.
    plan
        The plan: a :class:`models.Plan`, or its ``anvis-plan/1`` document.
    citizen_id
        The citizen to explain.
    counterfactuals
        For an unassigned citizen, search the smallest single change that would
        have housed them, by re-solving (:func:`counterfactual`).
    alternatives
        How many of an assigned citizen's other eligible units to compare (best by score).
    max_candidates, backend, time_limit
        Passed to :func:`counterfactual`.
    ctx
        A :func:`context` of ``inst`` and ``plan`` to reuse (built when ``None``).

    Returns
    -------
    dict
        JSON-ready; ``"text"`` holds the explanation in words.

    Raises
    ------
    UnknownCitizen
        When ``citizen_id`` is not in the instance.
    PlanMismatch
        When the plan names citizens or units the instance does not have.
    """
    ctx = context(inst, plan) if ctx is None else ctx
    c = ctx.index_of(citizen_id)
    data = ctx.data
    cit = inst.citizens[c]
    units = citizen_units(ctx, c)
    limits: dict[str, Any] = {
        "max_rent_kr": number(cit.max_rent_kr),
        "min_rooms": cit.min_rooms,
        "max_rooms": cit.max_rooms,
        "subsidy_eligible": cit.subsidy_eligible,
    }
    out: dict[str, Any] = {
        "citizen": cit.id,
        "priority": cit.priority,
        "municipality": cit.municipality,
        "housed": bool(ctx.unit_of[c] >= 0),
        "limits": limits,
        "units_in_municipality": len(units.unit),
        "eligible_units": int(units.eligible.sum()),
    }
    if units.overridden.any():
        out["excluded_by_overrides"] = [inst.units[u].id for u in units.unit[units.overridden].tolist()]
    if cit.vulnerable and (data.dept_cap[data.u_dept[units.unit[units.code == ELIGIBLE]]] < NO_LIMIT).any():
        limits["vulnerable"] = True  # only where a mixed-city cap applies to their units
    if ctx.warnings:
        out["warnings"] = list(ctx.warnings)
    if ctx.unit_of[c] >= 0:
        out.update(_assigned(ctx, c, units, alternatives))
    else:
        out.update(_unassigned(ctx, c, units))
        if counterfactuals:
            out["counterfactual"] = counterfactual(
                inst, plan, citizen_id, max_candidates=max_candidates, backend=backend, time_limit=time_limit, ctx=ctx
            )
    out["text"] = format_explanation(out)
    return out


def _assigned(ctx: Context, c: int, units: Units, n_alt: int) -> dict[str, Any]:
    data, inst = ctx.data, ctx.inst
    u = int(ctx.unit_of[c])
    unit = inst.units[u]
    amount = inst.parameters.subsidy_amount_kr
    k = np.flatnonzero(units.unit == u)
    sub = bool(ctx.subsidised(c, u))
    a: dict[str, Any] = {
        "unit": unit.id,
        "department": unit.department,
        "pool": data.pool_list[data.u_pool[u]].id,
        "rooms": unit.rooms,
        "rent_kr": number(unit.rent_kr),
        "subsidised": sub,
        "effective_rent_kr": number(unit.rent_kr - amount if sub else unit.rent_kr),
    }
    if len(ctx.locked) and ctx.locked[c]:
        a["locked"] = True
    if len(k) == 0 or units.code[k[0]] != ELIGIBLE:
        code = int(units.code[k[0]]) if len(k) else 0
        a["not_eligible"] = (
            turn_text(data, u) if code == NOT_A_TURN else RULE_TEXT.get(code, "unit of another municipality (rule 2)")
        )
        score = 0.0
    else:
        j = int(k[0])
        score = float(units.score[j])
        a["score"] = number(score)
        if units.given[j]:
            a["score_source"] = "given in scores"
        else:
            a["score_source"] = "default"
            parts = score_parts(data, np.array([c]), np.array([u]), np.array([sub]))
            a["parts"] = {
                name: {
                    "value": round(float(v[0]), 4),
                    "weight": WEIGHTS[name],
                    "meaning": PART_TEXT[name],
                    "points": round(100 * WEIGHTS[name] * float(v[0]), 2),
                }
                for name, v in parts.items()
            }
    plan_score = next((x.score for x in ctx.plan.assignments if x.citizen == inst.citizens[c].id), None)
    if plan_score is not None and "score" in a and abs(float(plan_score) - score) > 1e-6:
        a["plan_score"] = plan_score
    others = np.flatnonzero(units.eligible & (units.unit != u))
    order = others[np.lexsort((units.unit[others], -units.score[others]))]
    alts = [
        _alternative(ctx, c, u, score, int(units.unit[j]), bool(units.subsidised[j]), float(units.score[j]))
        for j in order[:n_alt]
    ]
    return {"code": "assigned", "assignment": a, "other_eligible_units": len(others), "alternatives": alts}


def _alternative(ctx: Context, c: int, u0: int, score0: float, a: int, sub: bool, score: float) -> dict[str, Any]:
    """Why citizen ``c`` (holding ``u0``) did not get the eligible unit ``a`` instead."""
    inst, data = ctx.inst, ctx.data
    amount = inst.parameters.subsidy_amount_kr
    rent = inst.units[a].rent_kr
    out: dict[str, Any] = {
        "unit": inst.units[a].id,
        "score": number(score),
        "subsidised": sub,
        "effective_rent_kr": number(rent - amount if sub else rent),
    }
    t = int(ctx.taker[a])
    if t >= 0:
        out["taken_by"] = ctx.who(t)
        if data.c_prio[t] < data.c_prio[c]:
            out["why"] = "taken_more_urgent"
            out["reason"] = f"taken by {inst.citizens[t].id} (priority {int(data.c_prio[t])}, more urgent)"
        else:
            out["why"] = "taken_other"
            out["reason"] = (
                f"taken by {inst.citizens[t].id} (priority {int(data.c_prio[t])}): the plan as a "
                f"whole houses more citizens or scores higher this way"
            )
        return out
    caps = blocking_caps(ctx, c, a, sub, move_from=u0)
    if caps:
        out["why"] = "cap_full"
        out["caps"] = caps
        out["reason"] = "free, but " + "; ".join(x["text"] for x in caps)
    elif score <= score0:
        out["why"] = "lower_score"
        out["reason"] = (
            f"free, but scores {'lower' if score < score0 else 'the same'} ({number(score)} vs {number(score0)})"
        )
    else:
        out["why"] = "free_higher"
        out["reason"] = "free and scores higher: the plan is not optimal (cut short?)"
    return out


def _unassigned(ctx: Context, c: int, units: Units) -> dict[str, Any]:
    inst, data = ctx.inst, ctx.data
    ids = [inst.units[u].id for u in units.unit.tolist()]
    excluded = []
    for code in sorted(set(units.code.tolist()) - {ELIGIBLE}):
        sel = np.flatnonzero(units.code == code)
        excluded.append(
            {"rule_code": int(code), "rule": RULE_TEXT[code], "count": len(sel), "units": [ids[j] for j in sel]}
        )
        if code == NOT_A_TURN:  # which vacancy of which pool each unit is (FORMAT.md §6)
            excluded[-1]["turns"] = {ids[j]: turn_text(data, int(units.unit[j])) for j in sel.tolist()}
    more: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    free: list[str] = []
    overridden = [ids[j] for j in np.flatnonzero(units.overridden).tolist()]
    blocked: dict[str, dict[str, Any]] = {}
    for j in np.flatnonzero(units.eligible).tolist():
        u = int(units.unit[j])
        t = int(ctx.taker[u])
        if t >= 0:
            (more if data.c_prio[t] < data.c_prio[c] else other).append({"unit": ids[j], **ctx.who(t)})
            continue
        caps = blocking_caps(ctx, c, u, bool(units.subsidised[j]))
        if caps:
            for cap in caps:
                entry = blocked.setdefault(cap["text"], {**dict(cap.items()), "units": []})
                entry["units"].append(ids[j])
        else:
            free.append(ids[j])
    return {
        "code": reason_code(int(units.eligible.sum()), len(free), len(blocked), len(other)),
        "excluded": excluded,
        "eligible": {
            "overridden": overridden,
            "to_more_urgent": more,
            "to_equal_or_less_urgent": other,
            "blocked": sorted(blocked.values(), key=lambda b: (-len(b["units"]), b["text"])),
            "free": free,
        },
    }


# --------------------------------------------------------------------------- text


def _delta_text(delta: dict[str, Any]) -> str:
    parts = []
    if delta["moved"]:
        parts.append(
            f"{plural(len(delta['moved']), 'citizen')} move ("
            + ", ".join(f"{m['citizen']} {m['from']}→{m['to']}" for m in delta["moved"][:6])
            + (", …" if len(delta["moved"]) > 6 else "")
            + ")"
        )
    if delta["newly_housed"]:
        parts.append(
            "also housed: " + ", ".join(f"{x['citizen']} (priority {x['priority']})" for x in delta["newly_housed"][:6])
        )
    if delta["no_longer_housed"]:
        parts.append(
            "no longer housed: "
            + ", ".join(f"{x['citizen']} (priority {x['priority']})" for x in delta["no_longer_housed"][:6])
        )
    return "; ".join(parts) if parts else "nobody else changes"


def format_explanation(e: dict[str, Any]) -> str:
    """The explanation of :func:`explain` in words, several lines."""
    lim = e["limits"]
    rooms = f"{lim['min_rooms']}–{lim['max_rooms']}" if lim["max_rooms"] is not None else f"{lim['min_rooms']}+"
    head = f"Citizen {e['citizen']} (priority {e['priority']}, municipality {e['municipality']!r})"
    lines = []
    for w in e.get("warnings", []):
        lines.append(f"warning: {w}")
    if e["housed"]:
        a = e["assignment"]
        lines.append(
            f"{head} is housed in unit {a['unit']} (department {a['department']!r}, pool {a['pool']!r}, "
            f"{a['rooms']} rooms){', locked by the planner' if a.get('locked') else ''}."
        )
        if "not_eligible" in a:
            lines.append(f"  The plan's unit is not eligible for this citizen: {a['not_eligible']}.")
        elif a["score_source"] == "given in scores":
            lines.append(f"  Score {a['score']:g}: given in scores.")
        else:
            parts = " + ".join(f"{p['weight']:.2f}·{k} {p['value']:.2f}" for k, p in a["parts"].items())
            lines.append(f"  Score {a['score']:g} = 100 × ({parts})")
        if a["subsidised"]:
            lines.append(
                f"  Rent {kr(a['rent_kr'])}, subsidised: effective rent {kr(a['effective_rent_kr'])} "
                f"(rent limit {kr(lim['max_rent_kr'])})."
            )
        else:
            lines.append(f"  Rent {kr(a['rent_kr'])}, no subsidy (rent limit {kr(lim['max_rent_kr'])}).")
        n = e["other_eligible_units"]
        if n == 0:
            lines.append("  No other unit was eligible.")
        else:
            lines.append(f"  {plural(n, 'other eligible unit')}; the best by score:")
            for alt in e["alternatives"]:
                lines.append(f"    {alt['unit']}  score {alt['score']:g}  {alt['reason']}")
        return "\n".join(lines)
    lines.append(
        f"{head} is not housed ({e['code']}); rent limit {kr(lim['max_rent_kr'])}, rooms {rooms}"
        f"{', subsidy-eligible' if lim['subsidy_eligible'] else ''}"
        f"{', vulnerable' if lim.get('vulnerable') else ''}."
    )
    n_all, n_el = e["units_in_municipality"], e["eligible_units"]
    if n_all == 0:
        lines.append(f"  No vacant unit in municipality {e['municipality']!r} this round (rule 2).")
    else:
        lines.append(f"  {plural(n_all, 'unit')} in the municipality this round; {n_el} eligible.")
    for x in e["excluded"]:
        lines.append(f"  {plural(x['count'], 'unit')}: {x['rule']}: {compact_ids(x['units'])}")
        lines.extend(f"    {unit}: {text}" for unit, text in x.get("turns", {}).items())
    el = e["eligible"]
    if el.get("overridden"):
        lines.append(
            f"  {plural(len(el['overridden']), 'unit')}: eligible by the rules, but excluded by a planner "
            f"override (forbid or reserve): {compact_ids(el['overridden'])}"
        )
    if el["to_more_urgent"]:
        lines.append(
            f"  {plural(len(el['to_more_urgent']), 'eligible unit')} taken by more urgent citizens: "
            + _taken_text(el["to_more_urgent"])
        )
    if el["to_equal_or_less_urgent"]:
        lines.append(
            f"  {plural(len(el['to_equal_or_less_urgent']), 'eligible unit')} taken by citizens of equal or "
            "lower urgency "
            "(the plan houses more urgent citizens or scores higher this way): "
            + _taken_text(el["to_equal_or_less_urgent"])
        )
    for b in el["blocked"]:
        lines.append(
            f"  {plural(len(b['units']), 'eligible unit')} free but blocked: {b['text']}: {compact_ids(b['units'])}"
        )
    if el["free"]:
        lines.append(
            f"  {plural(len(el['free']), 'eligible unit')} free and unblocked (the solve was cut short): "
            f"{compact_ids(el['free'])}"
        )
    cf = e.get("counterfactual")
    if cf and cf.get("applies"):
        lines.append(f"  Smallest single change: {cf['text']}.")
        if cf.get("found") and cf["found"].get("delta") is not None:
            lines.append(f"    Plan delta: {_delta_text(cf['found']['delta'])}.")
        for t in cf.get("tried", []):
            if not t["housed"]:
                lines.append(f"    tried, not housed: {t['text']}")
    return "\n".join(lines)


def turn_text(data: ProblemData, u: int) -> str:
    """Why a unit of a rotation pool may not be assigned (FORMAT.md §6 rule 4).

    For example "not the municipality's turn in pool 'P': vacancy 6 of the pool,
    turns are every 4th".
    """
    pool = data.pool_list[data.u_pool[u]]
    head = f"not the municipality's turn in pool {pool.id!r}: vacancy {int(data.u_vacancy[u])} of the pool"
    if pool.share <= 0:
        return f"{head}, which has no turns (share 0)"
    every = 1 / pool.share
    if abs(every - round(every)) < 1e-9:
        n = round(every)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{head}, turns are every {n}{suffix}"
    return f"{head}, turns are a share {pool.share:g} of the vacancies"


def _taken_text(rows: list[dict[str, Any]], limit: int = 8) -> str:
    text = ", ".join(f"{r['unit']} ({r['citizen']}, priority {r['priority']})" for r in rows[:limit])
    return text + (f", … (+{len(rows) - limit} more)" if len(rows) > limit else "")


# --------------------------------------------------------------------------- all citizens


def explain_all(
    inst: Instance,
    plan: Plan | Mapping[str, Any],
    counterfactuals: bool = False,
    *,
    max_candidates: int = MAX_CANDIDATES,
    backend: str = "auto",
    time_limit: float | None = None,
) -> dict[str, Any]:
    """A short explanation of every citizen, for the round report.

    Like a plan's reasons, the texts name rules, units and caps, never the citizen's
    own attributes: rules in the plan's wording
    (:data:`~optimizer.engine.pairs.PLAN_RULE_TEXT`), and a mixed-city cap, subsidy
    frame or grant quota only as another limit on the units
    (:func:`~optimizer.plan.reasons.plan_cap_text`), since naming one would say the
    citizen is vulnerable or needs the subsidy. Only the counterfactuals, which are
    the caseworker's, state a rent limit or room range.

    Vectorised over all eligible pairs (no citizen × unit loops); with
    ``counterfactuals`` each unassigned citizen's smallest change is also searched
    by re-solving (slow: one block re-solve per candidate change).

    Parameters
    ----------
    inst, plan
        The instance and its plan.
    counterfactuals
        Also run :func:`counterfactual` for every unassigned citizen.
    max_candidates, backend, time_limit
        Passed to :func:`counterfactual`.

    Returns
    -------
    dict
        Citizen id → ``{"text", "housed", "code", ...}`` for every citizen, in
        instance order; housed citizens also have ``unit``.
    """
    ctx = context(inst, plan)
    data = ctx.data
    C = data.n_citizens
    pairs = eligible_pairs(data)
    pc, pu, ps, score = pairs.citizen.astype(np.int64), pairs.unit.astype(np.int64), pairs.subsidised, pairs.score
    ov = ctx.overridden(pc, pu)
    n_over = np.bincount(pc[ov], minlength=C)
    pc, pu, ps, score = pc[~ov], pu[~ov], ps[~ov], score[~ov]
    n_elig = np.bincount(pc, minlength=C)
    unit_of = ctx.unit_of
    housed = unit_of >= 0
    amount = inst.parameters.subsidy_amount_kr
    # assigned: own pair's score, best other eligible unit
    own = housed[pc] & (pu == unit_of[pc])
    own_score = np.full(C, np.nan)
    own_score[pc[own]] = score[own]
    other = housed[pc] & ~own
    oi = np.flatnonzero(other)
    oi = oi[np.lexsort((pu[oi], -score[oi], pc[oi]))]
    first = oi[np.unique(pc[oi], return_index=True)[1]] if len(oi) else oi
    best = np.full(C, -1, np.int64)
    best[pc[first]] = first
    # unassigned with eligible units: what became of each pair (the plan's reason chain)
    un = ~housed[pc]
    f = fates(data, ctx.used, ctx.taker, pc[un], pu[un], ps[un])
    n_more = np.bincount(f.citizen[f.more_urgent], minlength=C)
    n_same = np.bincount(f.citizen[f.same_or_less], minlength=C)
    n_blocked = np.bincount(f.citizen[f.blocked], minlength=C)
    n_free = np.bincount(f.citizen[f.free], minlength=C)
    reason_of = reason_codes(n_elig, n_free, n_blocked, n_same)
    caps_of: dict[int, list[str]] = {}
    for kind in CAP_KINDS:
        idx = np.flatnonzero(f.full[kind])
        if not len(idx):
            continue
        keys = np.unique(f.citizen[idx] * (1 << 32) + group_of(data, kind, f.unit[idx]))
        for k in keys.tolist():
            c, i = divmod(k, 1 << 32)
            text = plan_cap_text(data, ctx.used, kind, i, full=False)  # the report names no attribute
            if text not in caps_of.setdefault(c, []):
                caps_of[c].append(text)
    # no eligible unit: rule counts over the municipality's units
    none = np.flatnonzero(~housed & (n_elig == 0))
    rule_counts = np.zeros((C, max(RULE_TEXT) + 1), np.int64)
    if len(none):
        for ci, ui in candidates(data, none):
            codes = failure_codes(data, ci, ui)
            np.add.at(rule_counts, (ci, codes), 1)
    per_muni = np.bincount(data.u_muni, minlength=len(inst.municipalities))
    cf_cache: dict[Any, Any] = {}
    out = {}
    for c, cit in enumerate(inst.citizens):
        entry: dict[str, Any] = {"housed": bool(housed[c]), "priority": cit.priority}
        if housed[c]:
            u = int(unit_of[c])
            sub = bool(data.u_rent[u] > data.c_max_rent[c])
            eff = data.u_rent[u] - (amount if sub else 0)
            s = own_score[c]
            entry.update(code="assigned", unit=inst.units[u].id)
            if len(ctx.locked) and ctx.locked[c]:
                entry["locked"] = True
            text = (
                f"Housed in {inst.units[u].id} (department {inst.units[u].department!r}"
                + ("" if np.isnan(s) else f", score {s:g}")
                + f"; effective rent {kr(eff)}{', subsidised' if sub else ''})."
            )
            j = int(best[c])
            n_other = int(n_elig[c]) - (0 if np.isnan(s) else 1)
            if j >= 0:
                alt = _alternative(
                    ctx, c, u, 0.0 if np.isnan(s) else float(s), int(pu[j]), bool(ps[j]), float(score[j])
                )
                if alt["why"] == "cap_full":  # the report names no cap that states an attribute
                    texts = [x["text"] if x["kind"] == "pool" else f"{UNNAMED_CAP} full" for x in alt["caps"]]
                    alt["reason"] = "free, but " + "; ".join(dict.fromkeys(texts))
                text += (
                    f" Best of {plural(n_other, 'other eligible unit')}: {alt['unit']} "
                    f"(score {alt['score']:g}), {alt['reason']}."
                )
                entry["best_alternative"] = {k: v for k, v in alt.items() if k in ("unit", "score", "why", "taken_by")}
            else:
                text += " No other unit was eligible."
        elif n_elig[c] == 0:
            entry["code"] = "no_eligible_unit"
            n_units = int(per_muni[data.c_muni[c]])
            if n_units == 0:
                text = f"Not housed: no vacant unit in municipality {cit.municipality!r} this round."
            else:
                counts = rule_counts[c]
                by_text = plan_rule_counts({int(k): int(counts[k]) for k in range(1, len(counts)) if counts[k]})
                rules = [f"{n} {text}" for text, n in sorted(by_text.items(), key=lambda kv: -kv[1])]
                if n_over[c]:
                    rules.append(f"{int(n_over[c])} {OVERRIDDEN}")
                text = (
                    f"Not housed: none of the {plural(n_units, 'unit')} of municipality {cit.municipality!r} "
                    f"is eligible: " + "; ".join(rules) + "."
                )
        else:
            parts = []
            if n_over[c]:
                parts.append(f"{n_over[c]} more excluded by planner overrides")
            if n_more[c]:
                parts.append(f"{n_more[c]} taken by more urgent citizens")
            if n_same[c]:
                parts.append(f"{n_same[c]} taken by citizens of equal or lower urgency")
            if n_blocked[c]:
                parts.append(f"{n_blocked[c]} free but blocked by a full cap: " + "; ".join(sorted(caps_of.get(c, []))))
            if n_free[c]:
                parts.append(f"{n_free[c]} free (the solve was cut short)")
            code = str(reason_of[c])
            entry["code"] = code
            text = f"Not housed ({code}): {plural(int(n_elig[c]), 'eligible unit')}: " + "; ".join(parts) + "."
        if counterfactuals and not housed[c]:
            cf = counterfactual(
                inst,
                plan,
                cit.id,
                max_candidates=max_candidates,
                backend=backend,
                time_limit=time_limit,
                ctx=ctx,
                cache=cf_cache,
            )
            entry["counterfactual"] = cf
            text += f" Smallest single change: {cf['text']}."
        entry["text"] = text
        out[cit.id] = entry
    return out
