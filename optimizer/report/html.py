"""The round report: one self-contained HTML page a planner reads without the terminal.

The page is built from the instance and the typed plan (:class:`models.Plan`)
alone. Counts, loads and rents are re-derived from the instance's tables and the
plan's assignments (the same way ``anvis check`` does), so any well-formed
``anvis-plan/1`` plan can be reported on, not only one anvis wrote, and the
figures cannot disagree with the instance.

Plots are inline SVG drawn by matplotlib's object-oriented API (no pyplot, no
figure registry). The page fetches nothing and names no URL: no external styles,
fonts, images or links; its one inline script sorts and searches the tables
(the page reads fully without it). The HTML is rendered by Jinja2 with
autoescaping on, because every id on the page is user data. The same instance,
plan and language give the same bytes.

Language: Danish by default, English with ``lang="en"``; every word comes from
:mod:`optimizer.lang`, numbers and amounts in the language's format
(``3.690 kr.``). The print style is A4: every section prints (a closed
``<details>`` opens on paper), long tables repeat their header row on each page.

Personal data: a citizen appears by id with their priority, their assignment
and the plan's reason or explanation; no other attribute of a citizen is
printed per citizen (vulnerability enters only department totals, homelessness only
the count of homeless citizens housed under 3,500 kr of an ``anvis/2`` plan).
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

import jinja2
import matplotlib as mpl
import matplotlib.style
import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

import models
from models.plan import HOMELESS_RENT_KR
from optimizer import lang as L
from optimizer.engine.data import NO_LIMIT, ProblemData
from optimizer.plan.usage import count_used

__all__ = ["PLOT_RC", "ReportError", "inline_svg", "plan_warnings", "render_report"]

#: At most this many departments in the mixed-city plot (the full list is a table).
MAX_DEPARTMENTS_PLOTTED = 40
#: At most this many frames and quotas in their plot.
MAX_LIMITS_PLOTTED = 60
#: At most this many problems listed when a plan does not fit its instance.
MAX_PROBLEMS = 20

# Colour-blind-safe (Okabe-Ito) so that "full" reads as full for every planner.
BLUE, ORANGE, VERMILION, GREY, YELLOW = "#0072B2", "#E69F00", "#D55E00", "#BBBBBB", "#F0E442"

# Text stays text (searchable, small, and escaped by matplotlib's SVG writer);
# "$" in an id must never be read as mathtext.
#: The matplotlib settings every plot is drawn under (``mpl.style.use(["default", PLOT_RC])``),
#: in the report and in the scenario comparison.
PLOT_RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}


class ReportError(ValueError):
    """A plan does not fit its instance well enough to report on.

    Attributes
    ----------
    problems
        One readable line per problem (unknown ids, a citizen or unit twice).
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def plan_warnings(inst: models.Instance, plan: models.Plan, *, lang: str = "en") -> list[str]:
    """Reasons to doubt that the plan was made for this instance.

    Parameters
    ----------
    inst
        The instance the report is made against.
    plan
        The plan.
    lang
        ``"en"`` (default: the terminal's warnings) or ``"da"`` (the page's).

    Returns
    -------
    list of str
        Empty when the plan names this instance's hash (or no hash at all) and
        this instance's name; otherwise one sentence per mismatch.
    """
    out = []
    sha = plan.instance_sha256
    if sha is not None and sha != inst.sha256:
        out.append(L.say("warn.sha", lang, plan=sha[:12], inst=inst.sha256[:12]))
    if plan.instance != inst.name:
        out.append(L.say("warn.name", lang, plan=repr(plan.instance), inst=repr(inst.name)))
    return out


def render_report(
    inst: models.Instance,
    plan: models.Plan,
    explanations: Mapping[str, Any] | None = None,
    *,
    round_info: Mapping[str, Any] | None = None,
    overrides: Sequence[Mapping[str, Any]] | None = None,
    lang: str = L.DEFAULT_LANG,
) -> str:
    """The round report of a plan as one self-contained HTML page.

    Parameters
    ----------
    inst
        The validated instance the plan was made for.
    plan
        An ``anvis-plan/1`` plan (FORMAT.md §5), e.g. :meth:`models.Plan.from_dict`
        of a plan file; the fields the engine adds are shown when present.
    explanations
        Optional mapping of citizen id to an explanation: a string, or a dict
        whose ``"why"`` (else ``"text"``) is shown, as
        :func:`~optimizer.explain.citizen.explain_all` gives them. Rendered in a "Why" column; ids not in the
        instance are ignored.
    round_info
        The ledger's round the plan belongs to, when it comes from one: keys ``id``,
        ``status``, ``committed_by``, ``committed_at`` and ``opened_at`` (ISO 8601
        times; a missing or ``None`` value shows as "–"). The header names them.
    overrides
        The planner's overrides of the round, each ``{"kind": "lock" | "forbid" |
        "reserve" | "hold", "citizen": id | None, "unit": id | None, "note": str |
        None, "effect": {"moved": [ids], "lost": [ids], "priority_lost": {"1": n}}}``
        (``effect`` may be missing: not computed). Listed in a section "Overrides"
        with their note and what each cost. ``None`` leaves the section out; an
        empty sequence says there were none.
    lang
        ``"da"`` (default) or ``"en"``: the language of every heading, sentence,
        number and date on the page.

    Returns
    -------
    str
        The HTML page, summary first: header (with the round, when given),
        plain-language summary, the overrides (when given), tables per priority
        and per afdeling, four inline SVG plots (housed by priority, rents
        before and after subsidy, mixed-city load, frames and quotas), then the
        sortable, searchable tables of assignments and citizens not housed, pool
        usage and mixed-city caps; for an ``anvis/2`` instance also the turns of
        each rotation pool used and passed, and the homeless citizens housed
        under 3,500 kr (FORMAT.md §6). Byte-identical for equal input.

    Raises
    ------
    ReportError
        When ``assignments`` names a citizen or unit the instance lacks, or a
        citizen or unit twice.
    """
    L.say("report.title", lang)  # an unknown language fails here, before any work
    t = L.TEXT[lang]
    f = _facts(inst, plan)
    known = {c.id for c in inst.citizens}
    why = {c: text for c, text in _why(explanations).items() if c in known}
    plots = _plots(f, lang)

    def num(x: Any) -> str:
        return L.number(x, lang)

    rows = f["assignments"]
    assigned = [
        {
            "citizen": c,
            "unit": u,
            "department": d,
            "priority": p,
            "rent": L.amount(r, lang),
            "effective": L.amount(e, lang),
            "subsidised": t["yes"] if s else t["no"],
            "score": "–" if math.isnan(sc) else L.decimal(sc, lang),
            "why": why.get(c, ""),
        }
        for c, u, d, p, r, e, s, sc in zip(
            rows.citizen,
            rows.unit,
            rows.department,
            rows.priority.tolist(),
            rows.rent_kr.tolist(),
            rows.effective_rent_kr.tolist(),
            rows.subsidised.tolist(),
            rows.score.tolist(),
            strict=True,
        )
    ]
    waiting = f["unassigned"]
    english = lang == "en"
    # Danish words the plan's counts (L.plan_reason); a reason without details stays the plan's English.
    worded = {} if english else {u.citizen: L.plan_reason(u.model_dump(), lang) for u in plan.unassigned}
    unassigned = [
        {
            "citizen": c,
            "priority": p,
            # English shows the plan's code and reason as written; Danish explains the code in
            # words (the plan's reason text is English machine text, FORMAT.md §5).
            "code": code if english else t.get(f"reason.short.{code}", code),
            "code_title": code,
            "reason": worded.get(c, reason),
            "reason_en": english or worded.get(c, reason) == reason,
            "why": why.get(c, ""),
        }
        for c, p, code, reason in zip(
            waiting.citizen, waiting.priority.tolist(), waiting.code, waiting.reason, strict=True
        )
    ]
    d = f["departments"]
    dept_candidates = int(((d.used > 0) | d.full).sum())
    obj = plan.objective
    limits_total, limits_shown = len(f["limits"]), min(len(f["limits"]), MAX_LIMITS_PLOTTED)
    dept_shown = min(dept_candidates, MAX_DEPARTMENTS_PLOTTED)
    caption_dept = t["cap.dept"]
    if dept_candidates:
        caption_dept += L.say("cap.dept_shown", lang, shown=num(dept_shown), n=num(dept_candidates))
        caption_dept += (t["cap.dept_all"] if dept_shown < dept_candidates else "") + "."
    caption_lim = t["cap.lim"]
    if limits_shown < limits_total:
        caption_lim += L.say("cap.lim_shown", lang, shown=num(limits_shown), n=num(limits_total))
    caption_lim += "."
    pools = [
        {**p, "share": _share(p["share"], lang), "vacancies": num(p["vacancies"]), "cap": num(p["cap"])}
        for p in f["pools"].to_dict("records")
    ]
    rotation = None
    if f["version"] == 2:
        rotation = [{**p, "share": _share(p["share"], lang)} for p in f["rotation"].to_dict("records")]
    by_priority = [
        {
            "priority": p,
            "citizens": num(c),
            "housed": num(h),
            "not_housed": num(c - h),
            "share": L.percent(h / c, lang) if c else "–",
        }
        for p, c, h in zip(
            f["by_priority"].priority.tolist(),
            f["by_priority"].citizens.tolist(),
            f["by_priority"].housed.tolist(),
            strict=True,
        )
    ]
    by_department = [
        {
            **r,
            "area": t.get(f"area.{r['area']}", r["area"]),
            "cap": "–" if r["cap"] >= NO_LIMIT else num(r["cap"]),
        }
        for r in f["by_department"].to_dict("records")
    ]
    mixed = [{**r, "area": t.get(f"area.{r['area']}", r["area"])} for r in f["departments"].to_dict("records")]
    status = plan.status
    return _template().render(
        lang=lang,
        t=t,
        num=num,
        title=L.say("report.title", lang, name=inst.name),
        inst=inst,
        plan_instance=plan.instance,
        status=status,
        status_words=t.get(f"status.{status}", status),
        sha=plan.instance_sha256 or inst.sha256,
        objective=L.say(
            "report.objective_text",
            lang,
            kind=_objective_words(
                inst.parameters.objective if plan.objective_kind is None else plan.objective_kind, lang
            ),
            housed=", ".join(L.say("ov.priority_part", lang, p=k, n=num(v)) for k, v in obj.housed_by_priority.items())
            or "–",
            score=L.decimal(obj.total_score, lang) if _is_number(obj.total_score) else "–",
        )
        + (L.say("report.weighted", lang, value=L.decimal(obj.value, lang)) if _is_number(obj.value) else ""),
        bound=L.decimal(plan.bound, lang) if _is_number(plan.bound) else "–",
        gap=f"{L.decimal(100 * plan.gap, lang, 3)} %" if _is_number(plan.gap) else "–",
        warnings=plan_warnings(inst, plan, lang=lang) + _recount_warnings(plan, f, lang),
        summary=_summary(plan, f, lang),
        plots=plots,
        caption_dept=caption_dept,
        caption_lim=caption_lim,
        assigned=assigned,
        unassigned=unassigned,
        with_why=bool(why),
        # Danish pages show the plan's English reason text only when there is no explanation.
        show_reason=english or not why,
        pools=pools,
        n_pools_full=int(f["pools"].full.sum()),
        rotation=rotation,
        by_priority=by_priority,
        by_department=by_department,
        departments=mixed,
        n_departments_full=int(f["departments"].full.sum()),
        version=_version(),
        round_info=_round_rows(round_info, lang),
        overrides=None if overrides is None else [_override_row(o, lang) for o in overrides],
    )


def _objective_words(kind: str, lang: str) -> str:
    return L.TEXT[lang].get(f"objective.{kind}", kind)


def _share(text: str, lang: str) -> str:
    """A pool's share as the facts write it (``0.25``), with the language's decimal mark."""
    return text.replace(".", ",") if lang == "da" else text


# --- facts: the instance and the plan as tables ------------------------------------


def _facts(inst: models.Instance, plan: models.Plan) -> dict[str, Any]:
    """Every table and count the page shows, aggregated with numpy and pandas."""
    amount = inst.parameters.subsidy_amount_kr
    cit_ids = pd.Index([c.id for c in inst.citizens])
    unit_ids = pd.Index([u.id for u in inst.units])
    dept_ids = pd.Index([d.id for d in inst.departments])
    muni_ids = pd.Index([m.id for m in inst.municipalities])
    region_ids = pd.Index([r.id for r in inst.regions])
    c_prio = np.array([c.priority for c in inst.citizens], dtype=np.int64)
    u_rent = np.array([u.rent_kr for u in inst.units], dtype=float)
    u_dept = dept_ids.get_indexer([u.department for u in inst.units])
    unit_pool = models.unit_pools(inst)
    pools = models.pools(inst, unit_pool)
    pool_ids = pd.Index(list(pools))

    cids, uids, ci, ui = _assignment_ids(plan, cit_ids, unit_ids)
    subs = np.array([a.subsidised for a in plan.assignments], dtype=bool)
    # A non-finite score (JSON allows NaN) shows as "–", like a missing one.
    scores = [a.score if _is_number(a.score) else math.nan for a in plan.assignments]
    data = ProblemData.build(inst)
    used = count_used(data, ci, ui, subs)  # the one count of every cap
    rent = u_rent[ui]
    effective = rent - amount * subs
    asg = pd.DataFrame(
        {
            "citizen": cids,
            "unit": uids,
            "department": dept_ids[u_dept[ui]].tolist() if len(ui) else [],
            "priority": c_prio[ci],
            "rent_kr": rent,
            "effective_rent_kr": effective,
            "subsidised": subs,
            "score": np.asarray(scores, dtype=float),
        }
    )
    asg = asg.sort_values(["priority", "citizen"], key=_natural, kind="stable").reset_index(drop=True)

    housed = np.zeros(len(cit_ids), bool)
    housed[ci] = True
    priorities = np.array(inst.priorities, dtype=np.int64)
    p_idx = np.searchsorted(priorities, c_prio)
    by_priority = pd.DataFrame(
        {
            "priority": priorities,
            "citizens": np.bincount(p_idx, minlength=len(priorities)),
            "housed": np.bincount(p_idx[housed], minlength=len(priorities)),
        }
    )
    by_priority["not_housed"] = by_priority.citizens - by_priority.housed

    reasons = _reasons(plan)
    left = np.flatnonzero(~housed)
    left_ids = cit_ids[left].tolist()
    waiting = (
        pd.DataFrame(
            {
                "citizen": left_ids,
                "priority": c_prio[left],
                "code": [reasons.get(c, ("", ""))[0] for c in left_ids],
                "reason": [reasons.get(c, ("", ""))[1] for c in left_ids],
            }
        )
        .sort_values(["priority", "citizen"], key=_natural, kind="stable")
        .reset_index(drop=True)
    )

    dept_cap = np.array(
        [NO_LIMIT if d.max_vulnerable is None else d.max_vulnerable for d in inst.departments], dtype=np.int64
    )
    dept_used = used.department
    departments = pd.DataFrame(
        {
            "id": dept_ids.tolist(),
            "municipality": [d.municipality for d in inst.departments],
            "area": [d.area for d in inst.departments],
            "cap": dept_cap,
            "used": dept_used,
        }
    )
    departments = departments[departments.cap < NO_LIMIT].copy()
    departments["left"] = (departments.cap - departments.used).clip(lower=0)
    departments["full"] = departments.used >= departments.cap
    # Most loaded first: placements, then how full, then id, so the plot's cut is stable.
    departments["fill"] = np.where(
        departments.cap > 0,
        departments.used / departments.cap.clip(lower=1),
        np.where(departments.used > 0, np.inf, 1.0),
    )
    departments = departments.sort_values(
        ["used", "fill", "id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)

    frame_used, quota_used = used.frame, used.quota
    frames = pd.DataFrame(
        {
            "kind": "frame",
            "id": muni_ids.tolist(),
            "name": [m.name for m in inst.municipalities],
            "cap": [m.subsidy_frame for m in inst.municipalities],
            "used": frame_used,
        }
    )
    frames = frames[(frames.cap > 0) | (frames.used > 0)]
    quotas = pd.DataFrame(
        {
            "kind": "quota",
            "id": region_ids.tolist(),
            "name": [r.name for r in inst.regions],
            "cap": [NO_LIMIT if r.grant_quota is None else r.grant_quota for r in inst.regions],
            "used": quota_used,
        }
    )
    quotas = quotas[quotas.cap < NO_LIMIT]
    limits = pd.concat([quotas, frames], ignore_index=True)
    limits["cap"] = limits.cap.astype(np.int64)
    limits["used"] = limits.used.astype(np.int64)
    limits["left"] = (limits.cap - limits.used).clip(lower=0)
    limits["full"] = limits.used >= limits.cap

    pool_used = used.pool
    pool_table = pd.DataFrame(
        {
            "id": pool_ids.tolist(),
            "municipality": [p.municipality for p in pools.values()],
            "share": [f"{p.share:.4g}" for p in pools.values()],
            "vacancies": [p.vacancies for p in pools.values()],
            "before": [f"{p.claimed_before}/{p.vacancies_before}" for p in pools.values()],
            "cap": [p.cap for p in pools.values()],
            "used": pool_used,
        }
    )
    pool_table["left"] = (pool_table.cap - pool_table.used).clip(lower=0)
    pool_table["full"] = pool_table.used >= pool_table.cap

    n_dept = len(dept_ids)
    by_department = pd.DataFrame(
        {
            "id": dept_ids.tolist(),
            "organisation": [d.organisation for d in inst.departments],
            "municipality": [d.municipality for d in inst.departments],
            "area": [d.area for d in inst.departments],
            "vacant": np.bincount(u_dept, minlength=n_dept),
            "housed": np.bincount(u_dept[ui], minlength=n_dept),
            "subsidised": np.bincount(u_dept[ui[subs]], minlength=n_dept),
            "vulnerable": dept_used,
            "cap": dept_cap,
        }
    )
    by_department = by_department[(by_department.vacant > 0) | (by_department.housed > 0)]
    by_department = by_department.sort_values("id", key=_natural, kind="stable").reset_index(drop=True)

    rotation, passed = _rotation(data, ui)
    homeless = np.fromiter((c.homeless for c in inst.citizens), bool, len(inst.citizens))
    return {
        "assignments": asg,
        "unassigned": waiting,
        "by_priority": by_priority,
        "departments": departments,
        "by_department": by_department,
        "limits": limits,
        "pools": pool_table,
        "rotation": rotation,
        "passed": passed,
        # FORMAT.md §6 rule 7: homeless citizens housed at an effective rent under 3,500 kr
        "homeless": int((homeless[ci] & (effective < HOMELESS_RENT_KR)).sum()),
        "version": inst.version,
        "band": tuple(inst.parameters.subsidy_band_kr),
        "amount": amount,
    }


def _rotation(data: ProblemData, ui: np.ndarray) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Per rotation pool (FORMAT.md §6 rule 4): its turns this round, offered units held, used and passed.

    A turn or an offered unit may be assigned; one the plan leaves unassigned is
    passed back to the organisation. Also returns the passed units' ids in the
    order of ``units`` (what the plan's ``passed`` should say).
    """
    n_pools = len(data.pool_list)
    assigned = np.zeros(data.n_units, bool)
    assigned[ui] = True
    may = data.u_turn & data.pool_rotation[data.u_pool]
    offered = may & (data.u_vacancy == 0)  # offered units are not numbered
    passed = tuple(data.inst.units[u].id for u in np.flatnonzero(may & ~assigned).tolist())

    def per_pool(mask: np.ndarray) -> np.ndarray:
        return np.bincount(data.u_pool[mask], minlength=n_pools)

    table = pd.DataFrame(
        {
            "id": [p.id for p in data.pool_list],
            "municipality": [p.municipality for p in data.pool_list],
            "share": [f"{p.share:.4g}" for p in data.pool_list],
            "vacancies": per_pool(data.u_vacancy > 0),
            "turns": per_pool(may & ~offered),
            "offered": per_pool(offered),
            "used": per_pool(may & assigned),
            "passed": per_pool(may & ~assigned),
        }
    )
    return table[data.pool_rotation].reset_index(drop=True), passed


def _recount_warnings(plan: models.Plan, f: dict[str, Any], lang: str) -> list[str]:
    """Where an anvis/2 plan's own ``passed`` or homeless figure differs from the page's recount."""
    out = []
    if plan.passed is not None and tuple(plan.passed) != f["passed"]:
        out.append(
            L.say(
                "warn.passed",
                lang,
                plan=L.plural(len(plan.passed), "unit", lang),
                recount=L.number(len(f["passed"]), lang),
            )
        )
    h = plan.homeless_housed_under_3500_kr
    if h is not None and h != f["homeless"]:
        out.append(
            L.say(
                "warn.homeless",
                lang,
                plan=L.number(h, lang),
                limit=L.kr(HOMELESS_RENT_KR, lang),
                recount=L.number(f["homeless"], lang),
            )
        )
    return out


def _assignment_ids(
    plan: models.Plan, cit_ids: pd.Index, unit_ids: pd.Index
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """The ids of the plan's citizens and units and their positions in the instance.

    Raises
    ------
    ReportError
        Listing every unknown id and every citizen or unit assigned twice.
    """
    cids = [a.citizen for a in plan.assignments]
    uids = [a.unit for a in plan.assignments]
    ci, ui = cit_ids.get_indexer(cids), unit_ids.get_indexer(uids)
    problems = [f"assignments[{i}].citizen: unknown citizen {cids[i]!r}" for i in np.flatnonzero(ci < 0).tolist()]
    problems += [f"assignments[{i}].unit: unknown unit {uids[i]!r}" for i in np.flatnonzero(ui < 0).tolist()]
    for name, ids in (("citizen", pd.Series(cids, dtype=object)), ("unit", pd.Series(uids, dtype=object))):
        twice = ids[ids.duplicated().to_numpy()].unique().tolist()
        problems += [f"assignments: {name} {x!r} assigned more than once" for x in twice]
    if problems:
        more = len(problems) - MAX_PROBLEMS
        raise ReportError(problems[:MAX_PROBLEMS] + ([f"… and {more} more"] if more > 0 else []))
    return cids, uids, ci, ui


def _reasons(plan: models.Plan) -> dict[str, tuple[str, str]]:
    """Citizen id -> (code, reason) from the plan's ``unassigned`` list."""
    return {u.citizen: (u.code or "", u.reason) for u in plan.unassigned}


def _why(explanations: Mapping[str, Any] | None) -> dict[str, str]:
    """Citizen id -> explanation text; a dict contributes its ``"why"``, else its ``"text"``."""
    out = {}
    for cid, e in (explanations or {}).items():
        text = (e.get("why") or e.get("text", "")) if isinstance(e, Mapping) else e
        if text is not None and str(text):
            out[str(cid)] = str(text)
    return out


def _round_rows(info: Mapping[str, Any] | None, lang: str) -> list[tuple[str, str]] | None:
    """The header's (label, value) rows for the ledger round, in ``lang``."""
    if info is None:
        return None

    def value(key: str) -> str:
        v = info.get(key)
        return "–" if v is None or v == "" else str(v)

    status = value("status")
    when = info.get("committed_at")
    return [
        (L.say("round.round", lang), value("id")),
        (L.say("round.status", lang), L.TEXT[lang].get(f"round.status.{status}", status)),
        (L.say("round.committed_by", lang), value("committed_by")),
        (
            L.say("round.committed_at", lang),
            L.say("round.not_committed", lang) if not when else L.datetime(str(when), lang),
        ),
        (
            L.say("round.opened_at", lang),
            "–" if not info.get("opened_at") else L.datetime(str(info["opened_at"]), lang),
        ),
    ]


def _override_row(o: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """One override as the table shows it: kind in words, ids, note and its cost in words."""
    kind = str(o.get("kind", ""))
    effect = o.get("effect")
    if effect is None:
        cost = [L.say("ov.unknown_effect", lang)]
    else:
        moved = [str(x) for x in effect.get("moved") or ()]
        lost = [str(x) for x in effect.get("lost") or ()]
        by_prio = {str(k): int(v) for k, v in (effect.get("priority_lost") or {}).items() if int(v)}
        cost = []
        if moved:
            cost.append(L.say("ov.moved", lang, n=L.plural(len(moved), "citizen", lang), ids=L.ids(moved, lang)))
        if lost:
            cost.append(L.say("ov.lost", lang, n=L.plural(len(lost), "citizen", lang), ids=L.ids(lost, lang)))
        if by_prio:
            parts = ", ".join(
                L.say("ov.priority_part", lang, p=p, n=L.number(n, lang))
                for p, n in sorted(by_prio.items(), key=lambda kv: _natural_key(kv[0]))
            )
            cost.append(L.say("ov.priority_lost", lang, parts=parts))
        if not cost:
            cost.append(L.say("ov.no_effect", lang))
    return {
        "kind": L.TEXT[lang].get(f"ov.kind.{kind}", kind),
        "citizen": "–" if o.get("citizen") is None else str(o["citizen"]),
        "unit": "–" if o.get("unit") is None else str(o["unit"]),
        "note": "" if o.get("note") is None else str(o["note"]),
        "effect": "; ".join(cost),
        "costly": bool(effect and (effect.get("moved") or effect.get("lost"))),
    }


# --- plain-language summary ------------------------------------------------------------


def _summary(plan: models.Plan, f: dict[str, Any], lang: str) -> dict[str, Any]:
    """Sentences for planners: who was housed, what the subsidy did, which limits are full."""
    bp, asg = f["by_priority"], f["assignments"]
    n, h = int(bp.citizens.sum()), int(bp.housed.sum())

    def num(x: Any) -> str:
        return L.number(x, lang)

    lines = [L.say("sum.housed", lang, h=num(h), n=num(n)) + (f" ({L.percent(h / n, lang)})." if n else ".")]
    for p, c, k in zip(bp.priority.tolist(), bp.citizens.tolist(), bp.housed.tolist(), strict=True):
        most = L.say("sum.most_urgent", lang) if p == bp.priority.iloc[0] and len(bp) > 1 else ""
        lines.append(L.say("sum.priority", lang, p=p, most=most, k=num(k), n=num(c)))
    n_sub = int(asg.subsidised.sum())
    if len(asg):
        lines.append(
            L.say(
                "sum.rent",
                lang,
                rent=L.kr(round(asg.rent_kr.mean()), lang),
                after=L.kr(round(asg.effective_rent_kr.mean()), lang),
                n=L.plural(n_sub, "assignment_uses", lang),
                amount=L.kr(f["amount"], lang),
            )
        )
    d = f["departments"]
    if len(d):
        lines.append(L.say("sum.mixed", lang, full=num(d.full.sum()), n=num(len(d)), used=num((d.used > 0).sum())))
    lim = f["limits"]
    for kind in ("frame", "quota"):
        part = lim[lim.kind == kind]
        if len(part):
            lines.append(
                L.say(
                    f"sum.{kind}s",
                    lang,
                    full=num(part.full.sum()),
                    n=num(len(part)),
                    used=num(part.used.sum()),
                    left=num(part.left.sum()),
                )
            )
    pools = f["pools"]
    if len(pools):
        lines.append(
            L.say(
                "sum.pools",
                lang,
                full=num(pools.full.sum()),
                n=num(len(pools)),
                used=num(pools.used.sum()),
                cap=num(pools.cap.sum()),
            )
        )
    if f["version"] == 2:  # FORMAT.md §6: the turns and the homeless target of seed 004
        rot = f["rotation"]
        if len(rot):
            may, offered = int(rot.turns.sum() + rot.offered.sum()), int(rot.offered.sum())
            lines.append(
                L.say(
                    "sum.rotation",
                    lang,
                    may=L.plural(may, "turn", lang),
                    pools=L.plural(len(rot), "rotation_pool", lang),
                    offered=num(offered),
                    used=num(rot.used.sum()),
                    passed=num(rot.passed.sum()),
                )
            )
        lines.append(
            L.say(
                "sum.homeless",
                lang,
                h=L.plural(f["homeless"], "homeless_citizen", lang),
                limit=L.kr(HOMELESS_RENT_KR, lang),
            )
        )
    codes = f["unassigned"].code.value_counts()
    t = L.TEXT[lang]
    reasons = [{"n": num(codes[k]), "code": k or "none", "text": t.get(f"reason.{k}", k)} for k in sorted(codes.index)]
    return {"status": t.get(f"status_text.{plan.status}", ""), "lines": lines, "reasons": reasons}


# --- plots -----------------------------------------------------------------------------


def _plots(f: dict[str, Any], lang: str) -> dict[str, Markup]:
    """The four plots as inline SVG, drawn under fixed defaults whatever the user's matplotlibrc."""
    with mpl.rc_context():
        # rc_context restores every rcParam on exit, so resetting to defaults here is local
        # (to this call, not to other threads: matplotlib's rcParams are process-wide).
        mpl.style.use(["default", PLOT_RC])
        figures = {
            "departments": _plot_departments(f["departments"], lang),
            "rent": _plot_rent(f, lang),
            "priority": _plot_priority(f["by_priority"], lang),
            "limits": _plot_limits(f["limits"], lang),
        }
        return {name: inline_svg(fig, name) for name, fig in figures.items()}


def inline_svg(fig: Figure, name: str) -> Markup:
    """A figure as an ``<svg>`` element: no XML prolog, no date, ids stable and unique on the page."""
    buf = io.StringIO()
    # A fixed salt makes matplotlib's clip-path and marker ids deterministic; one salt per
    # plot keeps them distinct when four SVGs share the page's id namespace.
    with mpl.rc_context({"svg.hashsalt": f"anvis-report-{name}"}):
        FigureCanvasSVG(fig)
        # No RDF metadata block: its Dublin Core and licence URLs would be the page's only links out.
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # Inline in HTML the parser gives <svg> its namespace (and xlink:href its own), so the
    # namespace declarations go too: the page names no URL at all.
    text = _XMLNS.sub("", text, count=2)
    # Group ids ("axes_1", ...) are counted per figure; prefix them so they stay unique on
    # the page. matplotlib escapes "<" in every text and attribute it writes, so this
    # matches only real tags, never an id that is data.
    text = text.replace('<g id="', f'<g id="{name}-')
    return Markup(text)


_XMLNS = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')


def _empty(fig: Figure, title: str, message: str) -> Figure:
    ax = fig.add_subplot()
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555555", wrap=True)
    ax.set_axis_off()
    return fig


def _axis_numbers(axis: Any, lang: str) -> None:
    """Tick labels in the language's digits (``3.500`` in Danish), whatever the locale."""
    axis.set_major_formatter(FuncFormatter(lambda x, _: L.decimal(x, lang)))


def _label(text: str, width: int = 32) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _plot_departments(d: pd.DataFrame, lang: str) -> Figure:
    t = L.TEXT[lang]
    shown = d[(d.used > 0) | d.full].head(MAX_DEPARTMENTS_PLOTTED)

    def bars(ax: Axes, y: np.ndarray) -> None:
        ax.barh(y, shown.cap, height=0.8, color="none", edgecolor="#666666", linewidth=0.8)
        ax.barh(y, shown.used, height=0.5, color=np.where(shown.full, VERMILION, BLUE))

    return _used_against_cap(
        t["plot.dept.title"],
        shown.id.tolist(),
        shown.used,
        shown.cap,
        bars,
        xlabel=t["plot.dept.x"],
        empty=t["plot.dept.empty"],
        legend=[
            Patch(facecolor=BLUE, label=t["plot.dept.placed"]),
            Patch(facecolor=VERMILION, label=t["plot.dept.full"]),
            Patch(facecolor="none", edgecolor="#666666", label=t["plot.dept.cap"]),
        ],
        lang=lang,
    )


def _plot_rent(f: dict[str, Any], lang: str) -> Figure:
    t = L.TEXT[lang]
    title = t["plot.rent.title"]
    asg = f["assignments"]
    fig = Figure(figsize=(7.5, 3.2), layout="constrained")
    if len(asg) == 0:
        return _empty(fig, title, t["plot.rent.empty"])
    ax = fig.add_subplot()
    before, after = asg.rent_kr.to_numpy(), asg.effective_rent_kr.to_numpy()
    lo, hi = f["band"]
    # Round 250 kr bins (wider for a wide spread, at most ~40) read better than numpy's automatic edges.
    start = 250 * math.floor(min(before.min(), after.min()) / 250)
    stop = 250 * (math.floor(max(before.max(), after.max()) / 250) + 1)
    step = 250 * max(1, math.ceil((stop - start) / 250 / 40))
    edges = np.arange(start, stop + step, step).tolist()
    band = L.say("plot.rent.band", lang, lo=L.amount(lo, lang), hi=L.amount(hi, lang))
    ax.axvspan(lo, hi, color=YELLOW, alpha=0.35, lw=0, label=band)
    ax.hist(before, bins=edges, histtype="stepfilled", color=GREY, label=t["plot.rent.before"])
    ax.hist(after, bins=edges, histtype="step", color=BLUE, linewidth=1.8, label=t["plot.rent.after"])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _axis_numbers(ax.xaxis, lang)
    ax.set_xlabel(t["plot.rent.x"])
    ax.set_ylabel(t["plot.rent.y"])
    ax.set_title(title, loc="left")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8)
    return fig


def _plot_priority(bp: pd.DataFrame, lang: str) -> Figure:
    t = L.TEXT[lang]
    title = t["plot.prio.title"]
    fig = Figure(figsize=(7.5, 3.0), layout="constrained")
    if len(bp) == 0:
        return _empty(fig, title, t["plot.prio.empty"])
    ax = fig.add_subplot()
    x = np.arange(len(bp))
    ax.bar(x, bp.housed, color=BLUE, label=t["plot.prio.housed"])
    waiting = ax.bar(x, bp.not_housed, bottom=bp.housed, color=GREY, label=t["plot.prio.not_housed"])
    # Above the bar, not inside it: a few housed among thousands leaves no room for a label.
    ax.bar_label(
        waiting,
        labels=[
            L.say("plot.prio.bar", lang, h=L.number(h, lang), n=L.number(n, lang))
            for h, n in zip(bp.housed, bp.citizens, strict=True)
        ],
        padding=2,
        fontsize=8,
    )
    ax.margins(y=0.12)
    ax.set_xticks(x, labels=[str(p) for p in bp.priority])
    ax.set_xlabel(t["plot.prio.x"])
    ax.set_ylabel(t["plot.prio.y"])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _axis_numbers(ax.yaxis, lang)
    ax.set_title(title, loc="left")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    return fig


def _plot_limits(lim: pd.DataFrame, lang: str) -> Figure:
    t = L.TEXT[lang]
    if len(lim) > MAX_LIMITS_PLOTTED:
        lim = lim.sort_values(["used", "id"], ascending=[False, True], kind="stable").head(MAX_LIMITS_PLOTTED)
    within = np.minimum(lim.used, lim.cap)
    over = (lim.used - lim.cap).clip(lower=0)

    def bars(ax: Axes, y: np.ndarray) -> None:
        ax.barh(y, within, color=ORANGE, label=t["plot.lim.used"])
        ax.barh(y, lim.left, left=within, color=GREY, label=t["plot.lim.left"])
        if over.any():
            ax.barh(y, over, left=within, color=VERMILION, label=t["plot.lim.over"])

    return _used_against_cap(
        t["plot.lim.title"],
        [
            f"{t['plot.lim.' + k]} {i}" + (f" {nm}" if nm else "")
            for k, i, nm in zip(lim.kind, lim.id, lim.name, strict=True)
        ],
        lim.used,
        lim.cap,
        bars,
        xlabel=t["plot.lim.x"],
        empty=t["plot.lim.empty"],
        lang=lang,
    )


def _used_against_cap(
    title: str,
    labels: list[str],
    used: pd.Series,
    cap: pd.Series,
    bars: Callable[[Axes, np.ndarray], None],
    xlabel: str,
    empty: str,
    legend: list[Patch] | None = None,
    lang: str = L.DEFAULT_LANG,
) -> Figure:
    """One horizontal bar row per label, drawn by ``bars``, each row annotated "used/cap".

    The shape of the mixed-city and the frames-and-quotas plots; ``legend`` gives the
    legend's entries when the bars' own labels do not say enough.
    """
    n = len(labels)
    fig = Figure(figsize=(7.5, 1.4 + 0.2 * max(n, 2)), layout="constrained")
    if n == 0:
        return _empty(fig, title, empty)
    ax = fig.add_subplot()
    y = np.arange(n)
    bars(ax, y)
    ax.set_yticks(y, labels=[_label(s) for s in labels])
    ax.set_ylim(n - 0.5, -0.5)  # first row on top
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # A cap of 0 draws no bar at all, so every row also says "used/cap" in words.
    for yi, u, c in zip(y.tolist(), used.tolist(), cap.tolist(), strict=True):
        ax.annotate(
            f"{L.number(u, lang)}/{L.number(c, lang)}",
            (max(u, c), yi),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            color="#333333",
        )
    ax.set_xlim(0, max(1, int(cap.max()), int(used.max())) * 1.08)
    _axis_numbers(ax.xaxis, lang)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    if legend is None:
        fig.legend(loc="outside lower center", ncols=3, fontsize=8)
    else:
        fig.legend(handles=legend, loc="outside lower center", ncols=3, fontsize=8)
    return fig


# --- small helpers -----------------------------------------------------------------------


def _natural(col: pd.Series) -> pd.Series:
    """Sort key for an id column: ``c2`` before ``c10``, as a planner counts."""
    if not pd.api.types.is_string_dtype(col):  # ids are "str" (pandas 3) or object
        return col
    # Splitting on digit runs always alternates text, number, text, ..., so tuples compare cleanly.
    return col.map(lambda s: tuple(int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(s))))


_DIGITS = re.compile(r"(\d+)")


def _natural_key(s: str) -> tuple[Any, ...]:
    return tuple(int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(s)))


def _is_number(x: object) -> TypeGuard[int | float]:
    """Whether ``x`` is a finite JSON number (not a bool)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("anvis")
    except PackageNotFoundError:
        return "unknown"


#: The page's template, installed with the package (``[tool.setuptools.package-data]``).
TEMPLATE = "report.html.j2"

# Autoescaping is on for every template, whatever its name: every id on the page is user data.
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("optimizer.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    return _ENV.get_template(TEMPLATE)


# Public names for the other pages that draw their plots the same way (the scenario comparison).
