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
from optimizer import lang as L
from optimizer.engine.data import NO_LIMIT, ProblemData
from optimizer.engine.pairs import (
    ELIGIBLE,
    NOT_A_TURN,
    PLAN_RULE_TEXT,
    RULE_TEXT,
    SCORE_WEIGHTS,
    candidates,
    eligible_pairs,
    failure_codes,
    score_parts,
)
from optimizer.engine.stages import Progress
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
    reason_code,
    reason_codes,
)
from optimizer.plan.usage import CAP_KINDS, ID_FIELD, cap_id, group_of, limits
from optimizer.text import compact_ids, number

__all__ = [
    "MAX_CANDIDATES",
    "PART_TEXT",
    "WEIGHTS",
    "PlanMismatch",
    "UnknownCitizen",
    "cap_words",
    "change_words",
    "compact_ids",
    "context",
    "counterfactual_words",
    "explain",
    "explain_all",
    "format_explanation",
    "rule_words",
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
    lang: str = L.DEFAULT_LANG,
    progress: Progress | None = None,
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
    lang
        The language of ``"text"`` (:func:`format_explanation`): ``"da"`` or ``"en"``.
        The other fields are the same in both (the ``reason`` of an alternative is English).
    progress
        Told how the counterfactual search goes (:func:`counterfactual`); None: silent.

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
        out.update(_assigned(ctx, c, units, alternatives, lang))
    else:
        out.update(_unassigned(ctx, c, units, lang))
        if counterfactuals:
            out["counterfactual"] = counterfactual(
                inst,
                plan,
                citizen_id,
                max_candidates=max_candidates,
                backend=backend,
                time_limit=time_limit,
                ctx=ctx,
                progress=progress,
            )
    out["text"] = format_explanation(out, lang)
    return out


def _assigned(ctx: Context, c: int, units: Units, n_alt: int, lang: str) -> dict[str, Any]:
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
            turn_text(data, u, lang)
            if code == NOT_A_TURN
            else rule_words(code, lang) or L.say("rule.other_municipality", lang)
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


def _unassigned(ctx: Context, c: int, units: Units, lang: str) -> dict[str, Any]:
    inst, data = ctx.inst, ctx.data
    ids = [inst.units[u].id for u in units.unit.tolist()]
    excluded = []
    for code in sorted(set(units.code.tolist()) - {ELIGIBLE}):
        sel = np.flatnonzero(units.code == code)
        excluded.append(
            {"rule_code": int(code), "rule": RULE_TEXT[code], "count": len(sel), "units": [ids[j] for j in sel]}
        )
        if code == NOT_A_TURN:  # which vacancy of which pool each unit is (FORMAT.md §6)
            excluded[-1]["turns"] = {ids[j]: turn_text(data, int(units.unit[j]), lang) for j in sel.tolist()}
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


def rule_words(code: int, lang: str = L.DEFAULT_LANG, *, plan: bool = False) -> str:
    """A failure code's rule in words: the caseworker's (default) or the plan's and report's wording."""
    if lang == "en":
        return (PLAN_RULE_TEXT if plan else RULE_TEXT).get(code, OVERRIDDEN if plan else "")
    if code not in L.RULES_DA:
        return L.say("rule.overridden", lang) if plan else ""
    return L.RULES_DA[code][1 if plan else 0]


def cap_words(cap: Mapping[str, Any], lang: str = L.DEFAULT_LANG, *, full: bool = True) -> str:
    """A full cap of :func:`~optimizer.explain.context.blocking_caps` in words (English: its ``text``)."""
    if lang == "en":
        return str(cap["text"])
    name = L.say(f"cap.{cap['kind']}", lang, id=repr(cap[ID_FIELD[cap["kind"]]]))
    return L.say("cap.full" if full else "cap.use", lang, name=name, used=cap["used"], limit=cap["limit"])


def _unnamed_full(lang: str) -> str:
    """A full cap the report may not name (it would state an attribute), as the plan's reasons word it."""
    return f"{UNNAMED_CAP} full" if lang == "en" else L.say("cap.unnamed_full", lang)


def _alt_reason(alt: Mapping[str, Any], own: float, lang: str, report: bool = False) -> str:
    """Why an assigned citizen did not get the alternative ``alt`` (of :func:`_alternative`), in ``lang``.

    ``report`` leaves unnamed every cap but a pool's (a mixed-city cap, frame or quota would
    say the citizen is vulnerable or needs the subsidy); a taker's comparison
    (``alt["decided"]``, from :func:`explain_all`) is used when present.
    """
    why = alt["why"]
    if why in ("taken_more_urgent", "taken_other"):
        who = alt["taken_by"]
        if why == "taken_more_urgent":
            return L.say("alt.more_urgent", lang, **who)
        decided = alt.get("decided")
        if decided is None:
            return L.say("alt.other", lang, **who)
        key, theirs = decided
        return L.say(key, lang, theirs=L.short(theirs, lang), ours=L.short(alt["score"], lang), **who)
    if why == "cap_full":
        texts = [cap_words(x, lang) if x["kind"] == "pool" or not report else _unnamed_full(lang) for x in alt["caps"]]
        return L.say("alt.cap", lang, caps="; ".join(dict.fromkeys(texts)))
    if why == "lower_score":
        key = "alt.lower" if alt["score"] < own else "alt.same"
        return L.say(key, lang, score=L.short(alt["score"], lang), own=L.short(own, lang))
    return L.say("alt.higher", lang)


def _decided(t: int, ours: float, own_score: np.ndarray, n_elig: np.ndarray) -> tuple[str, float] | None:
    """The comparison that gave taker ``t`` the unit a citizen scoring ``ours`` there wanted.

    The phrase key and the taker's own score there: it was the taker's only eligible
    unit, or the taker scores higher there, or (the taker scores no higher) the plan as a
    whole does better this way. ``None`` when the taker's score is unknown (a locked pair).
    """
    theirs = float(own_score[t])
    if np.isnan(theirs):
        return None
    if n_elig[t] == 1:
        return ("alt.other_only", theirs)
    return ("alt.other_better" if theirs > ours else "alt.other_worse", theirs)


def _pct(s: float, lang: str) -> str:
    """A share in per cent as the engine writes it (``26.5%``); Danish ``26,5 %``."""
    text = L.short(100 * s, lang, ".4g")
    return f"{text} %" if lang == "da" else f"{text}%"


def change_words(ch: Mapping[str, Any], lang: str = L.DEFAULT_LANG) -> str:
    """A candidate change of :func:`~optimizer.explain.counterfactual.counterfactual` in words.

    English is the change's own ``text`` (the engine's wording); Danish is written
    from the change's fields (``kind``, ``from``, ``to``, ...), so both say the same.
    """
    if lang == "en":
        return str(ch["text"])
    kind = ch["kind"]

    def q(key: str) -> str:
        return repr(ch[key])

    def points() -> str:
        return L.say("cf.points", lang, k=ch["points"])

    if kind in ("frame", "quota", "department"):
        field = {"frame": "municipality", "quota": "region", "department": "department"}[kind]
        return L.say(f"cf.{kind}", lang, **{field: q(field)}, frm=ch["from"], to=ch["to"])
    if kind == "ledger":
        return L.say(
            "cf.ledger", lang, pool=q("pool"), frm=ch["from"], to=ch["to"], cap_from=ch["cap_from"], cap_to=ch["cap_to"]
        )
    if kind == "share":
        fields = {"pool": q("pool"), "frm": _pct(ch["from"], lang), "to": _pct(ch["to"], lang), "points": points()}
        fields |= {"cap_from": ch["cap_from"], "cap_to": ch["cap_to"]}
        if "new_agreement" in ch:
            more = {"organisation": q("organisation"), "municipality": q("municipality"), "new": q("new_agreement")}
            return L.say("cf.share_default", lang, **fields, **more)
        return L.say("cf.share", lang, **fields)
    if kind == "turn":
        frm, to = _pct(ch["from"], lang), _pct(ch["to"], lang)
        if "new_agreement" in ch:
            how = L.say(
                "cf.turn_default",
                lang,
                frm=frm,
                to=to,
                points=points(),
                organisation=q("organisation"),
                municipality=q("municipality"),
                new=q("new_agreement"),
            )
        else:
            how = L.say("cf.turn_share", lang, pool=q("pool"), frm=frm, to=to, points=points())
        was, now = ch["turns_from"], ch["turns_to"]
        none = L.say("cf.none_ids", lang)
        return L.say(
            "cf.turn",
            lang,
            pool=q("pool"),
            how=how,
            unit=ch["turn_unit"],
            vacancy=ch["vacancy"],
            n_from=len(was),
            n_to=len(now),
            was=", ".join(was) or none,
            now=", ".join(now) or none,
        )
    if kind == "rent":
        return L.say("cf.rent", lang, n=L.kr(ch["n_kr"], lang), frm=L.kr(ch["from"], lang), to=L.kr(ch["to"], lang))
    if kind == "rooms":
        return L.say(f"cf.{ch['field']}", lang, frm=ch["from"], to=ch["to"])
    if kind == "none":
        return L.say("cf.none", lang)
    return str(ch.get("text", kind))


def counterfactual_words(cf: Mapping[str, Any], lang: str = L.DEFAULT_LANG) -> str:
    """The conclusion of a counterfactual in words (English: its own ``text``; Danish: from its fields)."""
    if lang == "en":
        return str(cf["text"])
    if not cf.get("applies"):
        return L.say("cf.housed", lang)
    scope = L.plural(cf["block"]["municipalities"], "municipality", lang)
    found = cf.get("found")
    if found and found["kind"] == "none":
        return L.say("cf.unchanged", lang, scope=scope, unit=found["unit"])
    n = len(cf.get("tried", []))
    if found:
        tried = L.plural(n, "change", lang)
        return L.say("cf.found", lang, change=change_words(found, lang), unit=found["unit"], scope=scope, n=tried)
    skipped = cf.get("not_tried", 0)
    more = L.say("cf.not_tried", lang, n=skipped) if skipped else ""
    return L.say("cf.not_found", lang, n=L.plural(n, "single_change", lang), scope=scope, more=more)


def _delta_text(delta: dict[str, Any], lang: str = L.DEFAULT_LANG) -> str:
    parts = []

    def who(rows: list[dict[str, Any]]) -> str:
        return ", ".join(L.say("ex.delta_who", lang, citizen=x["citizen"], priority=x["priority"]) for x in rows[:6])

    if delta["moved"]:
        moves = ", ".join(f"{m['citizen']} {m['from']}→{m['to']}" for m in delta["moved"][:6])
        moves += ", …" if len(delta["moved"]) > 6 else ""
        parts.append(L.say("ex.delta_moved", lang, n=L.plural(len(delta["moved"]), "citizen", lang), moves=moves))
    if delta["newly_housed"]:
        parts.append(L.say("ex.delta_new", lang, who=who(delta["newly_housed"])))
    if delta["no_longer_housed"]:
        parts.append(L.say("ex.delta_gone", lang, who=who(delta["no_longer_housed"])))
    return "; ".join(parts) if parts else L.say("ex.delta_none", lang)


def format_explanation(e: dict[str, Any], lang: str = L.DEFAULT_LANG) -> str:
    """The explanation of :func:`explain` in words, several lines, in ``lang`` (``"da"`` or ``"en"``).

    Codes are said in words (a reason code in Danish by its meaning); numbers, kroner
    and scores are written the language's way. A counterfactual's own description is
    the engine's (English).
    """
    head = L.say("ex.head", lang, citizen=e["citizen"], priority=e["priority"], municipality=repr(e["municipality"]))
    t = L.TEXT[lang]  # a known language: say() raised otherwise
    lim = e["limits"]
    rooms = f"{lim['min_rooms']}–{lim['max_rooms']}" if lim["max_rooms"] is not None else f"{lim['min_rooms']}+"
    lines = [L.say("ex.warning", lang, w=w) for w in e.get("warnings", [])]

    def n_units(n: int, noun: str = "unit") -> str:
        return L.plural(n, noun, lang)

    if e["housed"]:
        a = e["assignment"]
        lines.append(
            L.say(
                "ex.housed",
                lang,
                head=head,
                unit=a["unit"],
                department=repr(a["department"]),
                pool=repr(a["pool"]),
                rooms=a["rooms"],
                locked=t["ex.locked"] if a.get("locked") else "",
            )
        )
        if "not_eligible" in a:
            lines.append(L.say("ex.not_eligible", lang, why=a["not_eligible"]))
        elif a["score_source"] == "given in scores":
            lines.append(L.say("ex.score_given", lang, score=L.short(a["score"], lang)))
        else:
            parts = " + ".join(
                f"{p['weight']:.2f}·{L.say('part.' + k, lang)} {p['value']:.2f}" for k, p in a["parts"].items()
            )
            if lang == "da":
                parts = parts.replace(".", ",")
            lines.append(L.say("ex.score_parts", lang, score=L.short(a["score"], lang), parts=parts))
        rent, eff, limit = (L.kr(x, lang) for x in (a["rent_kr"], a["effective_rent_kr"], lim["max_rent_kr"]))
        key = "ex.rent_sub" if a["subsidised"] else "ex.rent"
        lines.append(L.say(key, lang, rent=rent, eff=eff, limit=limit))
        n = e["other_eligible_units"]
        if n == 0:
            lines.append(t["ex.no_other"])
        else:
            lines.append(L.say("ex.others", lang, n=n_units(n, "other_eligible_unit")))
            own = float(a.get("score", 0.0))
            for alt in e["alternatives"]:
                reason = alt["reason"] if lang == "en" else _alt_reason(alt, own, lang)
                lines.append(L.say("ex.alt", lang, unit=alt["unit"], score=L.short(alt["score"], lang), reason=reason))
        return "\n".join(lines)
    code = e["code"] if lang == "en" else t.get(f"reason.{e['code']}", e["code"])
    lines.append(
        L.say(
            "ex.not_housed",
            lang,
            head=head,
            code=code,
            limit=L.kr(lim["max_rent_kr"], lang),
            rooms=rooms,
            sub=t["ex.sub"] if lim["subsidy_eligible"] else "",
            vul=t["ex.vul"] if lim.get("vulnerable") else "",
        )
    )
    n_all, n_el = e["units_in_municipality"], e["eligible_units"]
    if n_all == 0:
        lines.append(L.say("ex.no_units", lang, municipality=repr(e["municipality"])))
    else:
        lines.append(L.say("ex.units", lang, n=n_units(n_all), eligible=L.number(n_el, lang)))
    for x in e["excluded"]:
        rule = x["rule"] if lang == "en" else rule_words(x["rule_code"], lang)
        lines.append(L.say("ex.excluded", lang, n=n_units(x["count"]), rule=rule, ids=L.ids(x["units"], lang)))
        lines.extend(f"    {unit}: {text}" for unit, text in x.get("turns", {}).items())
    el = e["eligible"]
    if el.get("overridden"):
        lines.append(L.say("ex.overridden", lang, n=n_units(len(el["overridden"])), ids=L.ids(el["overridden"], lang)))
    if el["to_more_urgent"]:
        lines.append(
            L.say(
                "ex.to_more_urgent",
                lang,
                n=n_units(len(el["to_more_urgent"]), "eligible_unit"),
                taken=_taken_text(el["to_more_urgent"], lang=lang),
            )
        )
    if el["to_equal_or_less_urgent"]:
        lines.append(
            L.say(
                "ex.to_other",
                lang,
                n=n_units(len(el["to_equal_or_less_urgent"]), "eligible_unit"),
                taken=_taken_text(el["to_equal_or_less_urgent"], lang=lang),
            )
        )
    for b in el["blocked"]:
        lines.append(
            L.say(
                "ex.blocked",
                lang,
                n=n_units(len(b["units"]), "eligible_free"),
                cap=cap_words(b, lang),
                ids=L.ids(b["units"], lang),
            )
        )
    if el["free"]:
        lines.append(L.say("ex.free", lang, n=n_units(len(el["free"]), "eligible_free"), ids=L.ids(el["free"], lang)))
    cf = e.get("counterfactual")
    if cf and cf.get("applies"):
        lines.append(L.say("ex.cf", lang, text=counterfactual_words(cf, lang)))
        if cf.get("found") and cf["found"].get("delta") is not None:
            lines.append(L.say("ex.cf_delta", lang, delta=_delta_text(cf["found"]["delta"], lang)))
        for tried in cf.get("tried", []):
            if not tried["housed"]:
                lines.append(L.say("ex.cf_tried", lang, text=change_words(tried, lang)))
    return "\n".join(lines)


def turn_text(data: ProblemData, u: int, lang: str = "en") -> str:
    """Why a unit of a rotation pool may not be assigned (FORMAT.md §6 rule 4).

    For example "not the municipality's turn in pool 'P': vacancy 6 of the pool,
    turns are every 4th" (``lang="da"``: "ikke kommunens tur i pulje 'P': ledig
    bolig nr. 6 i puljen, turene er hver 4.").
    """
    pool = data.pool_list[data.u_pool[u]]
    head = L.say("turn.head", lang, pool=repr(pool.id), vacancy=int(data.u_vacancy[u]))
    if pool.share <= 0:
        return L.say("turn.none", lang, head=head)
    every = 1 / pool.share
    if abs(every - round(every)) < 1e-9:
        n = round(every)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return L.say("turn.every", lang, head=head, n=n, suffix=suffix)
    return L.say("turn.share", lang, head=head, share=L.short(pool.share, lang))


def _taken_text(rows: list[dict[str, Any]], limit: int = 8, lang: str = L.DEFAULT_LANG) -> str:
    text = ", ".join(L.say("ex.taken", lang, **r) for r in rows[:limit])
    return text + (L.say("ex.more", lang, n=L.number(len(rows) - limit, lang)) if len(rows) > limit else "")


# --------------------------------------------------------------------------- all citizens


def explain_all(
    inst: Instance,
    plan: Plan | Mapping[str, Any],
    counterfactuals: bool = False,
    *,
    max_candidates: int = MAX_CANDIDATES,
    backend: str = "auto",
    time_limit: float | None = None,
    lang: str = L.DEFAULT_LANG,
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
    lang
        The language of the texts, ``"da"`` or ``"en"``.

    Returns
    -------
    dict
        Citizen id → ``{"text", "housed", "code", ...}`` for every citizen, in
        instance order; housed citizens also have ``unit``. ``why`` is the text
        without what the report's row already shows (the assignment, or "not
        housed" and the reason code). A housed citizen's text
        names the deciding comparison for their best other unit: who took it and why
        (more urgent; it was the taker's only eligible unit; the taker scores higher
        there; or the plan as a whole), a full cap, or a lower score.
    """
    L.say("all.only", lang)  # an unknown language fails here, before any work
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
            # the report names no attribute: a pool by id, any other cap unnamed
            if lang == "en":
                text = plan_cap_text(data, ctx.used, kind, i, full=False)
            elif kind == "pool":
                name = L.say("cap.pool", lang, id=repr(cap_id(data, kind, i)))
                text = L.say("cap.use", lang, name=name, used=int(ctx.used[kind][i]), limit=int(limits(data, kind)[i]))
            else:
                text = L.say("cap.unnamed", lang)
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
            text = L.say(
                "all.housed",
                lang,
                unit=inst.units[u].id,
                department=repr(inst.units[u].department),
                score="" if np.isnan(s) else L.say("all.score", lang, score=L.short(s, lang)),
                eff=L.kr(eff, lang),
                sub=L.say("all.sub", lang) if sub else "",
            )
            j = int(best[c])
            n_other = int(n_elig[c]) - (0 if np.isnan(s) else 1)
            if j >= 0:
                own = 0.0 if np.isnan(s) else float(s)
                alt = _alternative(ctx, c, u, own, int(pu[j]), bool(ps[j]), float(score[j]))
                if alt["why"] == "taken_other":
                    alt["decided"] = _decided(int(ctx.taker[pu[j]]), float(score[j]), own_score, n_elig)
                why = L.say(
                    "all.best",
                    lang,
                    n=L.plural(n_other, "other_eligible_unit", lang),
                    unit=alt["unit"],
                    score=L.short(alt["score"], lang),
                    reason=_alt_reason(alt, own, lang, report=True),
                )
                entry["best_alternative"] = {k: v for k, v in alt.items() if k in ("unit", "score", "why", "taken_by")}
            else:
                why = L.say("all.only", lang)
            text += why
        elif n_elig[c] == 0:
            entry["code"] = "no_eligible_unit"
            n_units = int(per_muni[data.c_muni[c]])
            if n_units == 0:
                why = L.say("all.no_units", lang, municipality=repr(cit.municipality))
            else:
                counts = rule_counts[c]
                by_text: dict[str, int] = {}  # units per rule wording, grouped as plans group them
                for k in range(1, len(counts)):
                    if counts[k]:
                        words = rule_words(k, lang, plan=True)
                        by_text[words] = by_text.get(words, 0) + int(counts[k])
                rules = [
                    L.say("all.rule_count", lang, n=L.number(n, lang), rule=words)
                    for words, n in sorted(by_text.items(), key=lambda kv: -kv[1])
                ]
                if n_over[c]:
                    rules.append(L.say("all.rule_count", lang, n=int(n_over[c]), rule=rule_words(0, lang, plan=True)))
                why = L.say(
                    "all.none_eligible",
                    lang,
                    n=L.plural(n_units, "unit", lang),
                    municipality=repr(cit.municipality),
                    rules="; ".join(rules),
                )
            text = L.say("all.not_housed_plain", lang, why=why)
        else:
            parts = []
            for key, n in (
                ("all.overridden", n_over[c]),
                ("all.more_urgent", n_more[c]),
                ("all.same", n_same[c]),
                ("all.blocked", n_blocked[c]),
                ("all.free", n_free[c]),
            ):
                if n:
                    caps = "; ".join(sorted(caps_of.get(c, []))) if key == "all.blocked" else ""
                    count = L.plural(int(n), "free", lang) if key in ("all.blocked", "all.free") else L.number(n, lang)
                    parts.append(L.say(key, lang, n=count, caps=caps))
            code = str(reason_of[c])
            entry["code"] = code
            why = L.say("all.eligible", lang, n=L.plural(int(n_elig[c]), "eligible_unit", lang), parts="; ".join(parts))
            short = code if lang == "en" else L.TEXT[lang].get(f"reason.short.{code}", code)
            text = L.say("all.not_housed", lang, code=short, why=why)
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
            more = L.say("all.cf", lang, text=counterfactual_words(cf, lang))
            text, why = text + more, why + more
        entry["text"] = text
        # The report's row shows the assignment, or the reason code in words: its "why" is the rest.
        entry["why"] = why.strip()
        out[cit.id] = entry
    return out
