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

import re
from dataclasses import dataclass, field

import numpy as np

from models import Instance
from optimizer.engine.data import NO_LIMIT, ProblemData
from optimizer.engine.pairs import (
    ELIGIBLE,
    RULE_TEXT,
    SCORE_WEIGHTS,
    candidates,
    default_scores,
    eligible_pairs,
    failure_codes,
    score_parts,
)

#: Weights of the default score's parts (see :func:`optimizer.engine.pairs.default_scores`).
WEIGHTS = SCORE_WEIGHTS
PART_TEXT = {
    "pref": "preference for the department",
    "rent": "share of the rent limit left",
    "rooms": "size fit (smallest unit that fits)",
    "access": "accessible unit not taken from those who need one",
}
SHOWN_IDS = 12  # unit ids listed per group in texts
MAX_CANDIDATES = 10  # single changes re-solved per counterfactual, by default


class UnknownCitizen(LookupError):
    """The asked-about citizen id is not in the instance."""

    def __init__(self, citizen_id: str):
        self.citizen_id = citizen_id
        super().__init__(f"unknown citizen {citizen_id!r}")

    def __str__(self) -> str:
        return self.args[0]


class PlanMismatch(ValueError):
    """The plan names a citizen or unit the instance does not have (another instance's plan)."""


# --------------------------------------------------------------------------- context


@dataclass(eq=False)
class Context:
    """An instance and a plan, compiled once for many explanations.

    Attributes
    ----------
    data
        The instance's arrays.
    plan
        The plan document.
    unit_of
        Per citizen, the index of the assigned unit, or -1.
    taker
        Per unit, the index of the citizen it was assigned to, or -1.
    used
        Assignments counted against each ``pool``, ``department`` (vulnerable
        citizens), ``frame`` (municipality) and ``quota`` (region), as arrays.
    warnings
        Problems with the pair of files (e.g. the plan was made for other content).
    """

    data: ProblemData
    plan: dict
    unit_of: np.ndarray
    taker: np.ndarray
    used: dict
    warnings: list = field(default_factory=list)
    forbidden: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    reserved: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    locked: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    overrides: tuple = ()
    _given: tuple | None = None

    @property
    def inst(self) -> Instance:
        return self.data.inst

    def subsidised(self, c, u):
        """Whether the pair(s) are only affordable with the subsidy (rule 8)."""
        return self.data.u_rent[u] > self.data.c_max_rent[c]

    def overridden(self, ci, ui) -> np.ndarray:
        """Whether a planner override (forbid, or reserve of the unit) excludes each pair."""
        out = self.reserved[ui] if len(self.reserved) else np.zeros(len(ui), bool)
        if len(self.forbidden):
            out = out | np.isin(np.asarray(ci, np.int64) * self.data.n_units + ui, self.forbidden)
        return out

    def given_scores(self):
        """The instance's given scores as sorted keys ``citizen * n_units + unit`` and values."""
        if self._given is None:
            data, given = self.data, self.inst.scores
            if len(given):
                cidx, uidx = data.citizen_index, data.unit_index
                keys = np.fromiter((cidx[c] for c in given.citizen), np.int64, len(given)) * data.n_units + np.fromiter(
                    (uidx[u] for u in given.unit), np.int64, len(given)
                )
                order = np.argsort(keys, kind="stable")
                self._given = (keys[order], np.asarray(given.score, float)[order])
            else:
                self._given = (np.zeros(0, np.int64), np.zeros(0))
        return self._given


def context(inst: Instance, plan: dict) -> Context:
    """Compile an instance and its plan for explanations.

    Parameters
    ----------
    inst
        The validated instance the plan was made for.
    plan
        An ``anvis-plan/1`` document.

    Returns
    -------
    Context

    Raises
    ------
    PlanMismatch
        When the plan assigns a citizen or unit the instance does not have.
    """
    data = ProblemData.build(inst)
    cidx, uidx = data.citizen_index, data.unit_index
    unit_of = np.full(data.n_citizens, -1, np.int64)
    taker = np.full(data.n_units, -1, np.int64)
    for a in plan.get("assignments") or []:
        cid, uid = a.get("citizen"), a.get("unit")
        if cid not in cidx:
            raise PlanMismatch(f"the plan assigns citizen {cid!r}, who is not in the instance")
        if uid not in uidx:
            raise PlanMismatch(f"the plan assigns unit {uid!r}, which is not in the instance")
        unit_of[cidx[cid]] = uidx[uid]
        taker[uidx[uid]] = cidx[cid]
    warnings = []
    sha = plan.get("instance_sha256")
    if sha and sha != inst.sha256:
        warnings.append("the plan was made for other instance content (instance_sha256 differs)")
    overrides = _overrides(inst, plan)
    forbidden = np.unique(
        np.array(
            [
                cidx[o["citizen"]] * data.n_units + uidx[o["unit"]]
                for o in overrides
                if o.get("action") == "forbid" and o.get("citizen") in cidx and o.get("unit") in uidx
            ],
            np.int64,
        )
    )
    reserved = np.zeros(data.n_units, bool)
    reserved[[uidx[o["unit"]] for o in overrides if o.get("action") == "reserve" and o.get("unit") in uidx]] = True
    locked = np.zeros(data.n_citizens, bool)
    for o in overrides:
        if o.get("action") == "lock" and o.get("citizen") in cidx and o.get("unit") in uidx:
            locked[cidx[o["citizen"]]] = unit_of[cidx[o["citizen"]]] == uidx[o["unit"]]
    housed = np.flatnonzero(unit_of >= 0)
    hu = unit_of[housed]
    sub = data.u_rent[hu] > data.c_max_rent[housed]
    vul = data.c_vulnerable[housed]
    used = {
        "pool": np.bincount(data.u_pool[hu], minlength=len(data.pool_list)),
        "department": np.bincount(data.u_dept[hu][vul], minlength=data.n_departments),
        "frame": np.bincount(data.u_muni[hu][sub], minlength=len(inst.municipalities)),
        "quota": np.bincount(data.u_region[hu][sub], minlength=len(inst.regions)),
    }
    return Context(data, plan, unit_of, taker, used, warnings, forbidden, reserved, locked, tuple(overrides))


def _overrides(inst: Instance, plan: dict) -> list[dict]:
    """The planner overrides in force: the instance's, else those the plan says it honours."""
    own = getattr(inst, "overrides", ()) or ()
    if own:
        return [o.model_dump(exclude_none=True) for o in own]
    return [o for o in plan.get("overrides") or [] if isinstance(o, dict)]


def _with_overrides(inst: Instance, ctx: Context) -> Instance:
    """The instance carrying the overrides the plan honours (for re-solving)."""
    if not ctx.overrides or getattr(inst, "overrides", ()):
        return inst
    from models.schema import Override  # the overrides extension

    return inst.replace(overrides=tuple(Override(**o) for o in ctx.overrides))


# --------------------------------------------------------------------------- scores


def _scores(ctx: Context, ci: np.ndarray, ui: np.ndarray, sub: np.ndarray):
    """Scores of eligible pairs and whether each was given in the instance's ``scores``."""
    score = default_scores(ctx.data, ci, ui, sub)
    gk, gv = ctx.given_scores()
    given = np.zeros(len(ci), bool)
    if len(gk) and len(ci):
        keys = ci.astype(np.int64) * ctx.data.n_units + ui
        pos = np.minimum(np.searchsorted(gk, keys), len(gk) - 1)
        given = gk[pos] == keys
        score = np.where(given, gv[pos], score)
    return score, given


# --------------------------------------------------------------------------- helpers


def _num(x):
    x = float(x)
    return int(x) if x.is_integer() else x


def _kr(x) -> str:
    x = float(x)
    return f"{x:,.0f} kr" if x.is_integer() else f"{x:,.2f} kr"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


_SUFFIX = re.compile(r"^(.*?)(0|[1-9]\d*)$")


def compact_ids(ids, limit: int = SHOWN_IDS) -> str:
    """Ids in a short form: three or more with one prefix and consecutive numbers as ``u3..u7``.

    At most ``limit`` items are written, then ``… (+N more)`` counting the ids left out.
    """
    items: list[tuple[str, int]] = []  # (text, number of ids)
    run: list = []  # ids of the current run

    def flush():
        if len(run) >= 3:
            items.append((f"{run[0]}..{run[-1]}", len(run)))
        else:
            items.extend((x, 1) for x in run)
        run.clear()

    prev = None  # (prefix, number) of the last id in the run
    for x in ids:
        m = _SUFFIX.match(x)
        key = (m.group(1), int(m.group(2))) if m else None
        if not (key and prev and key[0] == prev[0] and key[1] == prev[1] + 1):
            flush()
        run.append(x)
        prev = key
    flush()
    text = ", ".join(t for t, _ in items[:limit])
    if len(items) > limit:
        text += f", … (+{sum(n for _, n in items[limit:])} more)"
    return text


def _cap_name(ctx: Context, kind: str, i: int) -> str:
    inst, data = ctx.inst, ctx.data
    if kind == "pool":
        return f"pool {data.pool_list[i].id!r} share cap"
    if kind == "department":
        return f"department {inst.departments[i].id!r} mixed-city cap"
    if kind == "frame":
        return f"subsidy frame of municipality {inst.municipalities[i].id!r}"
    return f"grant quota of region {inst.regions[i].id!r}"


def _cap_limit(ctx: Context, kind: str, i: int) -> int:
    d = ctx.data
    return int({"pool": d.pool_cap, "department": d.dept_cap, "frame": d.muni_frame, "quota": d.region_quota}[kind][i])


def _cap_ids(ctx: Context, kind: str, i: int) -> dict:
    inst, data = ctx.inst, ctx.data
    if kind == "pool":
        return {"pool": data.pool_list[i].id}
    if kind == "department":
        return {"department": inst.departments[i].id}
    if kind == "frame":
        return {"municipality": inst.municipalities[i].id}
    return {"region": inst.regions[i].id}


def blocking_caps(ctx: Context, c: int, u: int, subsidised: bool, move_from: int = -1) -> list[dict]:
    """The full caps that stop citizen ``c`` from taking the free unit ``u`` in the plan.

    Parameters
    ----------
    ctx
        The compiled instance and plan.
    c, u
        Citizen and unit indices.
    subsidised
        Whether the pair needs the subsidy (frames and quotas count it).
    move_from
        The unit ``c`` holds now (-1 if none): moving frees its place in its own
        pool, department, frame and quota.

    Returns
    -------
    list of dict
        ``{"kind", "used", "limit", "text", <id field>}`` per full cap.
    """
    data, used = ctx.data, ctx.used
    moving = move_from >= 0
    sub0 = moving and bool(ctx.subsidised(c, move_from))
    checks = [("pool", int(data.u_pool[u]), moving and data.u_pool[move_from] == data.u_pool[u])]
    if data.c_vulnerable[c]:
        checks.append(("department", int(data.u_dept[u]), moving and data.u_dept[move_from] == data.u_dept[u]))
    if subsidised:
        checks.append(("frame", int(data.u_muni[u]), sub0 and data.u_muni[move_from] == data.u_muni[u]))
        checks.append(("quota", int(data.u_region[u]), sub0 and data.u_region[move_from] == data.u_region[u]))
    out = []
    for kind, i, freed in checks:
        n, cap = int(used[kind][i]), _cap_limit(ctx, kind, i)
        if n - int(bool(freed)) + 1 > cap:
            out.append(
                {
                    "kind": kind,
                    **_cap_ids(ctx, kind, i),
                    "used": n,
                    "limit": cap,
                    "text": f"{_cap_name(ctx, kind, i)} full ({n}/{cap})",
                }
            )
    return out


@dataclass
class _Units:
    """Every unit of one citizen's municipality with the rule verdict, subsidy and score."""

    unit: np.ndarray
    code: np.ndarray
    subsidised: np.ndarray
    score: np.ndarray
    given: np.ndarray
    overridden: np.ndarray  # eligible by the rules, but a planner's forbid or reserve excludes it

    @property
    def eligible(self) -> np.ndarray:
        """Eligible by rules 2–8 and not excluded by an override."""
        return (self.code == ELIGIBLE) & ~self.overridden


def _citizen_units(ctx: Context, c: int) -> _Units:
    data = ctx.data
    got = list(candidates(data, np.array([c])))
    ui = np.concatenate([u for _, u in got]) if got else np.zeros(0, np.int64)
    ui = np.sort(ui)
    ci = np.full(len(ui), c, np.int64)
    code = failure_codes(data, ci, ui)
    ok = code == ELIGIBLE
    sub = ok & ctx.subsidised(ci, ui)
    score = np.zeros(len(ui))
    given = np.zeros(len(ui), bool)
    if ok.any():
        score[ok], given[ok] = _scores(ctx, ci[ok], ui[ok], sub[ok])
    return _Units(ui, code, sub, score, given, ok & ctx.overridden(ci, ui))


def _index_of(ctx: Context, citizen_id: str) -> int:
    c = ctx.data.citizen_index.get(citizen_id)
    if c is None:
        raise UnknownCitizen(citizen_id)
    return c


def _who(ctx: Context, t: int) -> dict:
    return {"citizen": ctx.inst.citizens[t].id, "priority": int(ctx.data.c_prio[t])}


# --------------------------------------------------------------------------- explain one


def explain(
    inst: Instance,
    plan: dict,
    citizen_id: str,
    *,
    counterfactuals: bool = True,
    alternatives: int = 5,
    max_candidates: int = MAX_CANDIDATES,
    backend: str = "auto",
    time_limit: float | None = None,
    ctx: Context | None = None,
) -> dict:
    """Explain one citizen's outcome in a plan.

    Parameters
    ----------
    inst
        The instance the plan was made for.
    plan
        The plan document (``anvis-plan/1``).
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
    c = _index_of(ctx, citizen_id)
    data = ctx.data
    cit = inst.citizens[c]
    units = _citizen_units(ctx, c)
    out = {
        "citizen": cit.id,
        "priority": cit.priority,
        "municipality": cit.municipality,
        "housed": bool(ctx.unit_of[c] >= 0),
        "limits": {
            "max_rent_kr": _num(cit.max_rent_kr),
            "min_rooms": cit.min_rooms,
            "max_rooms": cit.max_rooms,
            "subsidy_eligible": cit.subsidy_eligible,
        },
        "units_in_municipality": len(units.unit),
        "eligible_units": int(units.eligible.sum()),
    }
    if units.overridden.any():
        out["excluded_by_overrides"] = [inst.units[u].id for u in units.unit[units.overridden].tolist()]
    if cit.vulnerable and (data.dept_cap[data.u_dept[units.unit[units.code == ELIGIBLE]]] < NO_LIMIT).any():
        out["limits"]["vulnerable"] = True  # only where a mixed-city cap applies to their units
    if ctx.warnings:
        out["warnings"] = list(ctx.warnings)
    if ctx.unit_of[c] >= 0:
        out.update(_assigned(ctx, c, units, alternatives))
    else:
        out.update(_unassigned(ctx, c, units))
        if counterfactuals:
            from optimizer.explain.counterfactual import counterfactual

            out["counterfactual"] = counterfactual(
                inst, plan, citizen_id, max_candidates=max_candidates, backend=backend, time_limit=time_limit, ctx=ctx
            )
    out["text"] = format_explanation(out)
    return out


def _assigned(ctx: Context, c: int, units: _Units, n_alt: int) -> dict:
    data, inst = ctx.data, ctx.inst
    u = int(ctx.unit_of[c])
    unit = inst.units[u]
    amount = inst.parameters.subsidy_amount_kr
    k = np.flatnonzero(units.unit == u)
    sub = bool(ctx.subsidised(c, u))
    a = {
        "unit": unit.id,
        "department": unit.department,
        "pool": data.pool_list[data.u_pool[u]].id,
        "rooms": unit.rooms,
        "rent_kr": _num(unit.rent_kr),
        "subsidised": sub,
        "effective_rent_kr": _num(unit.rent_kr - amount if sub else unit.rent_kr),
    }
    if len(ctx.locked) and ctx.locked[c]:
        a["locked"] = True
    if len(k) == 0 or units.code[k[0]] != ELIGIBLE:
        code = int(units.code[k[0]]) if len(k) else 0
        a["not_eligible"] = RULE_TEXT.get(code, "unit of another municipality (rule 2)")
        score = 0.0
    else:
        k = int(k[0])
        score = float(units.score[k])
        a["score"] = _num(score)
        if units.given[k]:
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
    plan_score = next(
        (x.get("score") for x in ctx.plan.get("assignments", []) if x.get("citizen") == inst.citizens[c].id), None
    )
    if plan_score is not None and "score" in a and abs(float(plan_score) - score) > 1e-6:
        a["plan_score"] = plan_score
    others = np.flatnonzero(units.eligible & (units.unit != u))
    order = others[np.lexsort((units.unit[others], -units.score[others]))]
    alts = [
        _alternative(ctx, c, u, score, int(units.unit[j]), bool(units.subsidised[j]), float(units.score[j]))
        for j in order[:n_alt]
    ]
    return {"code": "assigned", "assignment": a, "other_eligible_units": len(others), "alternatives": alts}


def _alternative(ctx: Context, c: int, u0: int, score0: float, a: int, sub: bool, score: float) -> dict:
    """Why citizen ``c`` (holding ``u0``) did not get the eligible unit ``a`` instead."""
    inst, data = ctx.inst, ctx.data
    amount = inst.parameters.subsidy_amount_kr
    rent = inst.units[a].rent_kr
    out = {
        "unit": inst.units[a].id,
        "score": _num(score),
        "subsidised": sub,
        "effective_rent_kr": _num(rent - amount if sub else rent),
    }
    t = int(ctx.taker[a])
    if t >= 0:
        out["taken_by"] = _who(ctx, t)
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
            f"free, but scores {'lower' if score < score0 else 'the same'} ({_num(score)} vs {_num(score0)})"
        )
    else:
        out["why"] = "free_higher"
        out["reason"] = "free and scores higher: the plan is not optimal (cut short?)"
    return out


def _unassigned(ctx: Context, c: int, units: _Units) -> dict:
    inst, data = ctx.inst, ctx.data
    ids = [inst.units[u].id for u in units.unit.tolist()]
    excluded = []
    for code in sorted(set(units.code.tolist()) - {ELIGIBLE}):
        sel = np.flatnonzero(units.code == code)
        excluded.append(
            {"rule_code": int(code), "rule": RULE_TEXT[code], "count": len(sel), "units": [ids[j] for j in sel]}
        )
    more, other, free = [], [], []
    overridden = [ids[j] for j in np.flatnonzero(units.overridden).tolist()]
    blocked: dict[str, dict] = {}
    for j in np.flatnonzero(units.eligible).tolist():
        u = int(units.unit[j])
        t = int(ctx.taker[u])
        if t >= 0:
            (more if data.c_prio[t] < data.c_prio[c] else other).append({"unit": ids[j], **_who(ctx, t)})
            continue
        caps = blocking_caps(ctx, c, u, bool(units.subsidised[j]))
        if caps:
            for cap in caps:
                entry = blocked.setdefault(cap["text"], {**{k: v for k, v in cap.items()}, "units": []})
                entry["units"].append(ids[j])
        else:
            free.append(ids[j])
    n = int(units.eligible.sum())
    if n == 0:
        code = "no_eligible_unit"
    elif free:
        code = "time_limit"
    elif blocked:
        code = "capacity"
    elif other:
        code = "competition"
    else:
        code = "outranked"
    return {
        "code": code,
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


def _delta_text(delta: dict) -> str:
    parts = []
    if delta["moved"]:
        parts.append(
            f"{_plural(len(delta['moved']), 'citizen')} move ("
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


def format_explanation(e: dict) -> str:
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
                f"  Rent {_kr(a['rent_kr'])}, subsidised: effective rent {_kr(a['effective_rent_kr'])} "
                f"(rent limit {_kr(lim['max_rent_kr'])})."
            )
        else:
            lines.append(f"  Rent {_kr(a['rent_kr'])}, no subsidy (rent limit {_kr(lim['max_rent_kr'])}).")
        n = e["other_eligible_units"]
        if n == 0:
            lines.append("  No other unit was eligible.")
        else:
            lines.append(f"  {_plural(n, 'other eligible unit')}; the best by score:")
            for alt in e["alternatives"]:
                lines.append(f"    {alt['unit']}  score {alt['score']:g}  {alt['reason']}")
        return "\n".join(lines)
    lines.append(
        f"{head} is not housed ({e['code']}); rent limit {_kr(lim['max_rent_kr'])}, rooms {rooms}"
        f"{', subsidy-eligible' if lim['subsidy_eligible'] else ''}"
        f"{', vulnerable' if lim.get('vulnerable') else ''}."
    )
    n_all, n_el = e["units_in_municipality"], e["eligible_units"]
    if n_all == 0:
        lines.append(f"  No vacant unit in municipality {e['municipality']!r} this round (rule 2).")
    else:
        lines.append(f"  {_plural(n_all, 'unit')} in the municipality this round; {n_el} eligible.")
    for x in e["excluded"]:
        lines.append(f"  {_plural(x['count'], 'unit')}: {x['rule']}: {compact_ids(x['units'])}")
    el = e["eligible"]
    if el.get("overridden"):
        lines.append(
            f"  {_plural(len(el['overridden']), 'unit')}: eligible by the rules, but excluded by a planner "
            f"override (forbid or reserve): {compact_ids(el['overridden'])}"
        )
    if el["to_more_urgent"]:
        lines.append(
            f"  {_plural(len(el['to_more_urgent']), 'eligible unit')} taken by more urgent citizens: "
            + _taken_text(el["to_more_urgent"])
        )
    if el["to_equal_or_less_urgent"]:
        lines.append(
            f"  {_plural(len(el['to_equal_or_less_urgent']), 'eligible unit')} taken by citizens of equal or lower urgency "
            "(the plan houses more urgent citizens or scores higher this way): "
            + _taken_text(el["to_equal_or_less_urgent"])
        )
    for b in el["blocked"]:
        lines.append(
            f"  {_plural(len(b['units']), 'eligible unit')} free but blocked: {b['text']}: {compact_ids(b['units'])}"
        )
    if el["free"]:
        lines.append(
            f"  {_plural(len(el['free']), 'eligible unit')} free and unblocked (the solve was cut short): {compact_ids(el['free'])}"
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


def _taken_text(rows: list, limit: int = 8) -> str:
    text = ", ".join(f"{r['unit']} ({r['citizen']}, priority {r['priority']})" for r in rows[:limit])
    return text + (f", … (+{len(rows) - limit} more)" if len(rows) > limit else "")


# --------------------------------------------------------------------------- all citizens


def explain_all(
    inst: Instance,
    plan: dict,
    counterfactuals: bool = False,
    *,
    max_candidates: int = MAX_CANDIDATES,
    backend: str = "auto",
    time_limit: float | None = None,
) -> dict:
    """A short explanation of every citizen, for the round report.

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
    # unassigned with eligible units: categories per pair
    un = ~housed[pc]
    t = ctx.taker[pu]
    taken = un & (t >= 0)
    more = taken & (data.c_prio[np.where(t >= 0, t, 0)] < data.c_prio[pc])
    same = taken & ~more
    free = un & (t < 0)
    used = ctx.used
    full = {
        "pool": free & (used["pool"][data.u_pool[pu]] >= data.pool_cap[data.u_pool[pu]]),
        "department": free
        & data.c_vulnerable[pc]
        & (used["department"][data.u_dept[pu]] >= data.dept_cap[data.u_dept[pu]]),
        "frame": free & ps & (used["frame"][data.u_muni[pu]] >= data.muni_frame[data.u_muni[pu]]),
        "quota": free & ps & (used["quota"][data.u_region[pu]] >= data.region_quota[data.u_region[pu]]),
    }
    group = {
        "pool": data.u_pool[pu],
        "department": data.u_dept[pu],
        "frame": data.u_muni[pu],
        "quota": data.u_region[pu],
    }
    blocked = np.zeros(len(pc), bool)
    for m in full.values():
        blocked |= m
    n_more = np.bincount(pc[more], minlength=C)
    n_same = np.bincount(pc[same], minlength=C)
    n_blocked = np.bincount(pc[blocked], minlength=C)
    n_free = np.bincount(pc[free & ~blocked], minlength=C)
    caps_of: dict[int, list[str]] = {}
    for kind, m in full.items():
        idx = np.flatnonzero(m)
        if not len(idx):
            continue
        keys = np.unique(pc[idx] * (1 << 32) + group[kind][idx])
        for k in keys.tolist():
            c, i = divmod(k, 1 << 32)
            caps_of.setdefault(c, []).append(
                f"{_cap_name(ctx, kind, i)} ({int(used[kind][i])}/{_cap_limit(ctx, kind, i)})"
            )
    # no eligible unit: rule counts over the municipality's units
    none = np.flatnonzero(~housed & (n_elig == 0))
    rule_counts = np.zeros((C, max(RULE_TEXT) + 1), np.int64)
    if len(none):
        for ci, ui in candidates(data, none):
            codes = failure_codes(data, ci, ui)
            np.add.at(rule_counts, (ci, codes), 1)
    per_muni = np.bincount(data.u_muni, minlength=len(inst.municipalities))
    cf_cache: dict = {}
    out = {}
    for c, cit in enumerate(inst.citizens):
        entry = {"housed": bool(housed[c]), "priority": cit.priority}
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
                + f"; effective rent {_kr(eff)}{', subsidised' if sub else ''})."
            )
            j = int(best[c])
            n_other = int(n_elig[c]) - (0 if np.isnan(s) else 1)
            if j >= 0:
                alt = _alternative(
                    ctx, c, u, 0.0 if np.isnan(s) else float(s), int(pu[j]), bool(ps[j]), float(score[j])
                )
                text += f" Best of {_plural(n_other, 'other eligible unit')}: {alt['unit']} (score {alt['score']:g}), {alt['reason']}."
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
                rules = [
                    f"{int(counts[k])} {RULE_TEXT[k]}" for k in np.argsort(-counts[1:], kind="stable") + 1 if counts[k]
                ]
                if n_over[c]:
                    rules.append(f"{int(n_over[c])} excluded by a planner override (forbid or reserve)")
                text = (
                    f"Not housed: none of the {_plural(n_units, 'unit')} of municipality {cit.municipality!r} "
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
            code = (
                "time_limit"
                if n_free[c]
                else "capacity"
                if n_blocked[c]
                else "competition"
                if n_same[c]
                else "outranked"
            )
            entry["code"] = code
            text = f"Not housed ({code}): {_plural(int(n_elig[c]), 'eligible unit')}: " + "; ".join(parts) + "."
        if counterfactuals and not housed[c]:
            from optimizer.explain.counterfactual import counterfactual

            cf = counterfactual(
                inst,
                plan,
                cit.id,
                max_candidates=max_candidates,
                backend=backend,
                time_limit=time_limit,
                ctx=ctx,
                _cache=cf_cache,
            )
            entry["counterfactual"] = cf
            text += f" Smallest single change: {cf['text']}."
        entry["text"] = text
        out[cit.id] = entry
    return out
