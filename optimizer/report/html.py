"""The round report: one self-contained HTML page a planner reads without the terminal.

The page is built from the instance and the typed plan (:class:`models.Plan`)
alone. Counts, loads and rents are re-derived from the instance's tables and the
plan's assignments (the same way ``anvis check`` does), so any well-formed
``anvis-plan/1`` plan can be reported on, not only one anvis wrote, and the
figures cannot disagree with the instance.

Plots are inline SVG drawn by matplotlib's object-oriented API (no pyplot, no
figure registry); the page has no scripts, external styles, fonts or links.
The HTML is rendered by Jinja2 with autoescaping on, because every id on the
page is user data. The same instance and plan give the same bytes.

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
from collections.abc import Callable, Mapping
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
from matplotlib.ticker import MaxNLocator

import models
from models.plan import HOMELESS_RENT_KR
from optimizer.engine.data import NO_LIMIT, ProblemData
from optimizer.plan.usage import count_used
from optimizer.text import amount, number

__all__ = ["ReportError", "plan_warnings", "render_report"]

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
_RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}

REASON_TEXT = {
    "no_eligible_unit": "no vacant unit this round fits their needs, rent limit and the rules",
    "capacity": "suitable units were free, but a share cap, mixed-city cap, subsidy frame or grant quota was full",
    "outranked": "every suitable unit went to a more urgent citizen",
    "competition": "suitable units went to citizens of equal or lower urgency, in a plan that houses "
    "more urgent citizens or fits better overall",
    "time_limit": "a suitable unit is still free: the solve was cut short by its time limit",
    "": "no reason given in the plan",
}

STATUS_TEXT = {
    "optimal": "The plan is proven optimal: no plan obeying the rules houses more urgent citizens or fits them better.",
    "feasible": "The plan obeys every rule but is not proven best: the solve stopped at its time limit.",
    "infeasible": "No plan obeys every rule (planner locks or overrides conflict).",
    "error": "The solver failed; this plan houses no one.",
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


def plan_warnings(inst: models.Instance, plan: models.Plan) -> list[str]:
    """Reasons to doubt that the plan was made for this instance.

    Parameters
    ----------
    inst
        The instance the report is made against.
    plan
        The plan.

    Returns
    -------
    list of str
        Empty when the plan names this instance's hash (or no hash at all) and
        this instance's name; otherwise one sentence per mismatch.
    """
    out = []
    sha = plan.instance_sha256
    if sha is not None and sha != inst.sha256:
        out.append(
            f"the plan was made for instance sha256 {sha[:12]}…, not this instance "
            f"({inst.sha256[:12]}…); loads and caps below are this instance's"
        )
    if plan.instance != inst.name:
        out.append(f"the plan names instance {plan.instance!r}, this instance is {inst.name!r}")
    return out


def render_report(inst: models.Instance, plan: models.Plan, explanations: Mapping[str, Any] | None = None) -> str:
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
        whose ``"text"`` is shown. Rendered in a "Why" column; ids not in the
        instance are ignored.

    Returns
    -------
    str
        The HTML page: header, plain-language summary, four inline SVG plots
        (mixed-city load, rents before and after subsidy, housed by priority,
        frames and quotas), and tables of assignments, citizens not housed,
        pool usage and mixed-city caps; for an ``anvis/2`` instance also the turns
        of each rotation pool used and passed, and the homeless citizens housed
        under 3,500 kr (FORMAT.md §6). Byte-identical for equal input.

    Raises
    ------
    ReportError
        When ``assignments`` names a citizen or unit the instance lacks, or a
        citizen or unit twice.
    """
    f = _facts(inst, plan)
    known = {c.id for c in inst.citizens}
    why = {c: text for c, text in _why(explanations).items() if c in known}
    plots = _plots(f)
    rows = f["assignments"]
    assigned = [
        {
            "citizen": c,
            "unit": u,
            "department": d,
            "priority": p,
            "rent": amount(r),
            "effective": amount(e),
            "subsidised": s,
            "score": "–" if math.isnan(sc) else number(sc, 2),
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
    unassigned = [
        {"citizen": c, "priority": p, "code": code, "reason": reason, "why": why.get(c, "")}
        for c, p, code, reason in zip(
            waiting.citizen, waiting.priority.tolist(), waiting.code, waiting.reason, strict=True
        )
    ]
    d = f["departments"]
    dept_candidates = int(((d.used > 0) | d.full).sum())
    obj = plan.objective
    return _template().render(
        title=f"anvis round report: {inst.name}",
        inst=inst,
        plan_instance=plan.instance,
        status=plan.status,
        sha=plan.instance_sha256 or inst.sha256,
        objective_kind=inst.parameters.objective if plan.objective_kind is None else plan.objective_kind,
        housed_by_priority=", ".join(f"priority {k}: {v}" for k, v in obj.housed_by_priority.items()) or "–",
        total_score=number(obj.total_score, 2) if _is_number(obj.total_score) else "–",
        value=number(obj.value, 2) if _is_number(obj.value) else None,
        bound=number(plan.bound, 2) if _is_number(plan.bound) else "–",
        gap=f"{100 * plan.gap:.3g} %" if _is_number(plan.gap) else "–",
        warnings=plan_warnings(inst, plan) + _recount_warnings(plan, f),
        summary=_summary(inst, plan, f),
        plots=plots,
        assigned=assigned,
        unassigned=unassigned,
        with_why=bool(why),
        pools=f["pools"].to_dict("records"),
        n_pools_full=int(f["pools"].full.sum()),
        rotation=f["rotation"].to_dict("records") if f["version"] == 2 else None,
        departments=f["departments"].to_dict("records"),
        n_departments_full=int(f["departments"].full.sum()),
        dept_candidates=dept_candidates,
        dept_shown=min(dept_candidates, MAX_DEPARTMENTS_PLOTTED),
        limits_total=len(f["limits"]),
        limits_shown=min(len(f["limits"]), MAX_LIMITS_PLOTTED),
        version=_version(),
    )


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

    rotation, passed = _rotation(data, ui)
    homeless = np.fromiter((c.homeless for c in inst.citizens), bool, len(inst.citizens))
    return {
        "assignments": asg,
        "unassigned": waiting,
        "by_priority": by_priority,
        "departments": departments,
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


def _recount_warnings(plan: models.Plan, f: dict[str, Any]) -> list[str]:
    """Where an anvis/2 plan's own ``passed`` or homeless figure differs from the page's recount."""
    out = []
    if plan.passed is not None and tuple(plan.passed) != f["passed"]:
        out.append(
            f"the plan says it passes {len(plan.passed):,} units, the recount from its assignments "
            f"passes {len(f['passed']):,} (the page shows the recount)"
        )
    h = plan.homeless_housed_under_3500_kr
    if h is not None and h != f["homeless"]:
        out.append(
            f"the plan says it houses {h:,} homeless citizens under {amount(HOMELESS_RENT_KR)} kr, "
            f"the recount from its assignments {f['homeless']:,} (the page shows the recount)"
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
    """Citizen id -> explanation text; a dict contributes its ``"text"``."""
    out = {}
    for cid, e in (explanations or {}).items():
        text = e.get("text", "") if isinstance(e, Mapping) else e
        if text is not None and str(text):
            out[str(cid)] = str(text)
    return out


# --- plain-language summary ------------------------------------------------------------


def _summary(inst: models.Instance, plan: models.Plan, f: dict[str, Any]) -> dict[str, Any]:
    """Sentences for planners: who was housed, what the subsidy did, which limits are full."""
    bp, asg = f["by_priority"], f["assignments"]
    n, h = int(bp.citizens.sum()), int(bp.housed.sum())
    lines = [
        f"This round housed {h:,} of {n:,} citizens on the urgent list" + (f" ({100 * h / n:.0f} %)." if n else ".")
    ]
    for p, c, k in zip(bp.priority.tolist(), bp.citizens.tolist(), bp.housed.tolist(), strict=True):
        label = f"Priority {p}" + (" (most urgent)" if p == bp.priority.iloc[0] and len(bp) > 1 else "")
        lines.append(f"{label}: {k:,} of {c:,} housed.")
    n_sub = int(asg.subsidised.sum())
    if len(asg):
        lines.append(
            f"Average rent of the units assigned is {asg.rent_kr.mean():,.0f} kr a month; "
            f"after subsidy the citizens pay {asg.effective_rent_kr.mean():,.0f} kr on average. "
            f"{n_sub:,} assignment{'s' * (n_sub != 1)} use{'s' * (n_sub == 1)} the rent subsidy "
            f"of {amount(f['amount'])} kr a month."
        )
    d = f["departments"]
    if len(d):
        lines.append(
            f"Mixed city: {int(d.full.sum()):,} of {len(d):,} departments with a cap on vulnerable "
            f"tenants are at their cap after this round; {int((d.used > 0).sum()):,} received vulnerable "
            "citizens."
        )
    lim = f["limits"]
    for kind, what in (("frame", "municipalities' subsidy frames"), ("quota", "regions' grant quotas")):
        part = lim[lim.kind == kind]
        if len(part):
            lines.append(
                f"{int(part.full.sum()):,} of {len(part):,} {what} are used up "
                f"({int(part.used.sum()):,} used, {int(part.left.sum()):,} left)."
            )
    pools = f["pools"]
    if len(pools):
        lines.append(
            f"{int(pools.full.sum()):,} of {len(pools):,} pools have no claim left this round "
            f"({int(pools.used.sum()):,} claims of {int(pools.cap.sum()):,} allowed)."
        )
    if f["version"] == 2:  # FORMAT.md §6: the turns and the homeless target of seed 004
        rot = f["rotation"]
        if len(rot):
            may, offered = int(rot.turns.sum() + rot.offered.sum()), int(rot.offered.sum())
            lines.append(
                f"Rotation: the municipality had {may:,} turn{'s' * (may != 1)} in {len(rot):,} rotation "
                f"pool{'s' * (len(rot) != 1)} ({offered:,} offered in earlier rounds and held); it used "
                f"{int(rot.used.sum()):,} and passed {int(rot.passed.sum()):,} back to the organisations."
            )
        h = f["homeless"]
        lines.append(
            f"{h:,} homeless citizen{'s' * (h != 1)} housed at an effective rent under "
            f"{amount(HOMELESS_RENT_KR)} kr a month."
        )
    codes = f["unassigned"].code.value_counts()
    reasons = [{"n": int(codes[k]), "code": k or "none", "text": REASON_TEXT.get(k, k)} for k in sorted(codes.index)]
    return {"status": STATUS_TEXT.get(plan.status, ""), "lines": lines, "reasons": reasons}


# --- plots -----------------------------------------------------------------------------


def _plots(f: dict[str, Any]) -> dict[str, Markup]:
    """The four plots as inline SVG, drawn under fixed defaults whatever the user's matplotlibrc."""
    with mpl.rc_context():
        # rc_context restores every rcParam on exit, so resetting to defaults here is local
        # (to this call, not to other threads: matplotlib's rcParams are process-wide).
        mpl.style.use(["default", _RC])
        figures = {
            "departments": _plot_departments(f["departments"]),
            "rent": _plot_rent(f),
            "priority": _plot_priority(f["by_priority"]),
            "limits": _plot_limits(f["limits"]),
        }
        return {name: _svg(fig, name) for name, fig in figures.items()}


def _svg(fig: Figure, name: str) -> Markup:
    """A figure as an ``<svg>`` element: no XML prolog, no date, ids stable and unique on the page."""
    buf = io.StringIO()
    # A fixed salt makes matplotlib's clip-path and marker ids deterministic; one salt per
    # plot keeps them distinct when four SVGs share the page's id namespace.
    with mpl.rc_context({"svg.hashsalt": f"anvis-report-{name}"}):
        FigureCanvasSVG(fig)
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # Group ids ("axes_1", ...) are counted per figure; prefix them so they stay unique on
    # the page. matplotlib escapes "<" in every text and attribute it writes, so this
    # matches only real tags, never an id that is data.
    text = text.replace('<g id="', f'<g id="{name}-')
    return Markup(text)


def _empty(fig: Figure, title: str, message: str) -> Figure:
    ax = fig.add_subplot()
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555555", wrap=True)
    ax.set_axis_off()
    return fig


def _label(text: str, width: int = 32) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _plot_departments(d: pd.DataFrame) -> Figure:
    shown = d[(d.used > 0) | d.full].head(MAX_DEPARTMENTS_PLOTTED)

    def bars(ax: Axes, y: np.ndarray) -> None:
        ax.barh(y, shown.cap, height=0.8, color="none", edgecolor="#666666", linewidth=0.8)
        ax.barh(y, shown.used, height=0.5, color=np.where(shown.full, VERMILION, BLUE))

    return _used_against_cap(
        "Mixed city: vulnerable tenants placed vs cap per department",
        shown.id.tolist(),
        shown.used,
        shown.cap,
        bars,
        xlabel="vulnerable citizens",
        empty="No department with a cap on vulnerable tenants is in use or full.",
        legend=[
            Patch(facecolor=BLUE, label="placed"),
            Patch(facecolor=VERMILION, label="placed, cap reached"),
            Patch(facecolor="none", edgecolor="#666666", label="cap (max_vulnerable)"),
        ],
    )


def _plot_rent(f: dict[str, Any]) -> Figure:
    title = "Rent of the units assigned, before and after subsidy"
    asg = f["assignments"]
    fig = Figure(figsize=(7.5, 3.2), layout="constrained")
    if len(asg) == 0:
        return _empty(fig, title, "No assignments in this plan.")
    ax = fig.add_subplot()
    before, after = asg.rent_kr.to_numpy(), asg.effective_rent_kr.to_numpy()
    lo, hi = f["band"]
    # Round 250 kr bins (wider for a wide spread, at most ~40) read better than numpy's automatic edges.
    start = 250 * math.floor(min(before.min(), after.min()) / 250)
    stop = 250 * (math.floor(max(before.max(), after.max()) / 250) + 1)
    step = 250 * max(1, math.ceil((stop - start) / 250 / 40))
    edges = np.arange(start, stop + step, step).tolist()
    ax.axvspan(lo, hi, color=YELLOW, alpha=0.35, lw=0, label=f"subsidy band {amount(lo)}–{amount(hi)} kr")
    ax.hist(before, bins=edges, histtype="stepfilled", color=GREY, label="rent (before subsidy)")
    ax.hist(after, bins=edges, histtype="step", color=BLUE, linewidth=1.8, label="rent paid (after subsidy)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("kr per month")
    ax.set_ylabel("assignments")
    ax.set_title(title, loc="left")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8)
    return fig


def _plot_priority(bp: pd.DataFrame) -> Figure:
    title = "Housed by priority (1 is the most urgent)"
    fig = Figure(figsize=(7.5, 3.0), layout="constrained")
    if len(bp) == 0:
        return _empty(fig, title, "No citizens in this instance.")
    ax = fig.add_subplot()
    x = np.arange(len(bp))
    ax.bar(x, bp.housed, color=BLUE, label="housed")
    waiting = ax.bar(x, bp.not_housed, bottom=bp.housed, color=GREY, label="not housed")
    # Above the bar, not inside it: a few housed among thousands leaves no room for a label.
    ax.bar_label(
        waiting,
        labels=[f"{h:,} of {n:,} housed" for h, n in zip(bp.housed, bp.citizens, strict=True)],
        padding=2,
        fontsize=8,
    )
    ax.margins(y=0.12)
    ax.set_xticks(x, labels=[str(p) for p in bp.priority])
    ax.set_xlabel("priority")
    ax.set_ylabel("citizens")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, loc="left")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    return fig


def _plot_limits(lim: pd.DataFrame) -> Figure:
    if len(lim) > MAX_LIMITS_PLOTTED:
        lim = lim.sort_values(["used", "id"], ascending=[False, True], kind="stable").head(MAX_LIMITS_PLOTTED)
    within = np.minimum(lim.used, lim.cap)
    over = (lim.used - lim.cap).clip(lower=0)

    def bars(ax: Axes, y: np.ndarray) -> None:
        ax.barh(y, within, color=ORANGE, label="used")
        ax.barh(y, lim.left, left=within, color=GREY, label="left")
        if over.any():
            ax.barh(y, over, left=within, color=VERMILION, label="over the limit")

    return _used_against_cap(
        "Subsidy frames (municipalities) and grant quotas (regions): used and left",
        [f"{k} {i}" + (f" {nm}" if nm else "") for k, i, nm in zip(lim.kind, lim.id, lim.name, strict=True)],
        lim.used,
        lim.cap,
        bars,
        xlabel="subsidised assignments",
        empty="No subsidy frame or grant quota in this instance.",
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
            f"{u}/{c}",
            (max(u, c), yi),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            color="#333333",
        )
    ax.set_xlim(0, max(1, int(cap.max()), int(used.max())) * 1.08)
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
    if col.dtype != object:
        return col
    # Splitting on digit runs always alternates text, number, text, ..., so tuples compare cleanly.
    return col.map(lambda s: tuple(int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(s))))


_DIGITS = re.compile(r"(\d+)")


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
#: The matplotlib settings every report plot is drawn under (with ``mpl.style.use(["default", PLOT_RC])``).
PLOT_RC = _RC
#: A figure as a deterministic inline ``<svg>`` element, ids prefixed by ``name`` (see ``_svg``).
inline_svg = _svg
