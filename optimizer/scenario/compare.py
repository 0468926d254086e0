"""The comparison of a scenario's results: one table (for HTML and CSV alike) and its plots.

:func:`comparison_rows` is the one place that turns a results document
(:func:`optimizer.scenario.scenario.run_scenario`) into table rows;
:func:`write_csv` writes them safe from formula injection, and :func:`render_html`
writes one self-contained page (no scripts, no external files) with the table and,
per sweep, housed by priority against the swept value, and per grid a heat map of
the citizens housed and the Pareto front of housed against subsidies used. Plots are
drawn as the round report draws its own (:mod:`optimizer.report.html`), so the
same results give the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jinja2
import matplotlib as mpl
import matplotlib.style
import numpy as np
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from models.tables import csv_text
from optimizer.report.html import BLUE, GREY, ORANGE, PLOT_RC, VERMILION, inline_svg
from optimizer.scenario.changes import show_value
from optimizer.scenario.year import MAIN_MEASURE
from optimizer.text import number

__all__ = [
    "comparison_columns",
    "comparison_rows",
    "csv_document",
    "gain_text",
    "pareto_front",
    "render_html",
    "render_prices_html",
]

# One colour per priority line, colour-blind-safe (Okabe-Ito), most urgent first.
_PRIORITY_COLOURS = (BLUE, ORANGE, "#009E73", VERMILION, "#CC79A7", "#56B4E9", "#000000")


def _is_year(doc: Mapping[str, Any]) -> bool:
    return bool(doc["horizon"] == "year")


def _year_measures(doc: Mapping[str, Any]) -> list[str]:
    return list(doc["results"][0]["year"])


def _priorities(doc: Mapping[str, Any]) -> list[str]:
    if _is_year(doc):
        return []
    found = {p for r in doc["results"] for p in r["objective"]["housed_by_priority"]}
    return sorted(found, key=int)


def comparison_columns(doc: Mapping[str, Any]) -> list[str]:
    """The table's column names, in order (``housed p1``, ``housed p2``, … one per priority present).

    For the year horizon: name, changes, status, each figure's mean and standard
    deviation over the seeds (``claims mean``, ``claims sd``, …) and the instance sha256.
    """
    if _is_year(doc):
        spread = [f"{m.replace('_', ' ')} {s}" for m in _year_measures(doc) for s in ("mean", "sd")]
        return ["name", "changes", "status", *spread, "instance sha256"]
    return [
        "name",
        "changes",
        "status",
        *(f"housed p{p}" for p in _priorities(doc)),
        "housed",
        "total score",
        "subsidised",
        "passed",
        "homeless housed under 3500 kr",
        "limits full",
        "instance sha256",
    ]


def comparison_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per result (the base first), keyed by :func:`comparison_columns`."""
    if _is_year(doc):
        return [
            {
                "name": r["name"],
                "changes": "; ".join(r["described"]),
                "status": r["status"],
                **{f"{m.replace('_', ' ')} {s}": r["year"][m][s] for m in _year_measures(doc) for s in ("mean", "sd")},
                "instance sha256": r["instance_sha256"],
            }
            for r in doc["results"]
        ]
    prios = _priorities(doc)
    rows = []
    for r in doc["results"]:
        housed = r["objective"]["housed_by_priority"]
        full = r["limits_full"]
        rows.append(
            {
                "name": r["name"],
                "changes": "; ".join(r["described"]),
                "status": r["status"],
                **{f"housed p{p}": housed.get(p, 0) for p in prios},
                "housed": sum(housed.values()),
                "total score": number(r["objective"]["total_score"], 6),
                "subsidised": r["subsidised"],
                "passed": r["passed"],
                "homeless housed under 3500 kr": r["homeless_housed_under_3500_kr"],
                "limits full": sum(len(v) for v in full.values()),
                "instance sha256": r["instance_sha256"],
            }
        )
    return rows


def csv_document(doc: Mapping[str, Any]) -> str:
    """The comparison table as CSV text (one line a row); no cell is read as a formula."""
    columns = comparison_columns(doc)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow([csv_text(c) for c in columns])
    for row in comparison_rows(doc):
        out.writerow([csv_text(row[c]) for c in columns])
    return buf.getvalue()


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats: fewer or equal ``x`` and more or equal ``y``, one strictly.

    ``x`` is a cost (subsidies used), ``y`` a gain (citizens housed). Sorted by ``x``,
    then ``y`` descending; equal points are all kept.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1], i))
    front: list[int] = []
    best = -np.inf
    for i in order:
        x, y = points[i]
        if y > best or (front and points[front[-1]] == (x, y)):
            front.append(i)
            best = max(best, y)
    return front


# --------------------------------------------------------------------------- plots


def _plots(doc: Mapping[str, Any]) -> list[tuple[str, Markup]]:
    """(title, inline SVG) per sweep and grid, drawn under the round report's fixed style."""
    out: list[tuple[str, Markup]] = []
    with mpl.rc_context():
        mpl.style.use(["default", PLOT_RC])  # local to this call: rc_context restores every rcParam
        for k, group in enumerate(doc["groups"]):
            results = [r for r in doc["results"] if r["group"] == group["name"]]
            if _is_year(doc):
                label = MAIN_MEASURE.replace("_", " ")
                if group["kind"] == "sweep":
                    out.append((f"Sweep: {group['name']}", inline_svg(_plot_year_sweep(group, results), f"sweep-{k}")))
                else:
                    heat = _plot_heat(group, results, lambda r: r["year"][MAIN_MEASURE]["mean"] or 0.0, label)
                    out.append((f"Grid: {group['name']}", inline_svg(heat, f"heat-{k}")))
            elif group["kind"] == "sweep":
                fig = _plot_sweep(group, results, _priorities(doc))
                out.append((f"Sweep: {group['name']}", inline_svg(fig, f"sweep-{k}")))
            else:
                out.append((f"Grid: {group['name']}", inline_svg(_plot_heat(group, results), f"heat-{k}")))
                out.append((f"Grid: {group['name']} (Pareto front)", inline_svg(_plot_pareto(results), f"pareto-{k}")))
    return out


def _plot_sweep(group: Mapping[str, Any], results: list[Mapping[str, Any]], prios: list[str]) -> Figure:
    """Housed by priority (one line each) against the swept value."""
    (axis,) = group["axes"]
    fig = Figure(figsize=(7.5, 3.2), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(results))
    for j, p in enumerate(prios):
        y = [r["objective"]["housed_by_priority"].get(p, 0) for r in results]
        ax.plot(x, y, marker="o", color=_PRIORITY_COLOURS[j % len(_PRIORITY_COLOURS)], label=f"priority {p}")
    ax.set_xticks(x, labels=[show_value(r["at"][axis]) for r in results])
    ax.set_xlabel(axis)
    ax.set_ylabel("citizens housed")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"Housed by priority against {axis}", loc="left")
    fig.legend(loc="outside lower center", ncols=min(len(prios), 6) or 1, fontsize=8)
    return fig


def _plot_year_sweep(group: Mapping[str, Any], results: list[Mapping[str, Any]]) -> Figure:
    """The year's main figure (mean over the seeds, a bar of ± one standard deviation) against the swept value."""
    (axis,) = group["axes"]
    fig = Figure(figsize=(7.5, 3.2), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(results))
    figures = [r["year"][MAIN_MEASURE] for r in results]
    y = [np.nan if f["mean"] is None else f["mean"] for f in figures]
    err = [0.0 if f["sd"] is None else f["sd"] for f in figures]
    ax.errorbar(x, y, yerr=err, marker="o", color=BLUE, capsize=3, label="mean ± sd over the seeds")
    ax.set_xticks(x, labels=[show_value(r["at"][axis]) for r in results])
    ax.set_xlabel(axis)
    ax.set_ylabel(MAIN_MEASURE.replace("_", " "))
    ax.set_title(f"Homeless housed under 3,500 kr in the year against {axis}", loc="left")
    fig.legend(loc="outside lower center", fontsize=8)
    return fig


def _housed(r: Mapping[str, Any]) -> float:
    return float(sum(r["objective"]["housed_by_priority"].values()))


def _plot_heat(
    group: Mapping[str, Any],
    results: list[Mapping[str, Any]],
    value: Callable[[Mapping[str, Any]], float] = _housed,
    label: str = "housed",
) -> Figure:
    """A figure (by default citizens housed, all priorities) over the grid's two axes, each cell labelled."""
    a, b = group["axes"]
    xs = list(dict.fromkeys(show_value(r["at"][a]) for r in results))
    ys = list(dict.fromkeys(show_value(r["at"][b]) for r in results))
    grid = np.zeros((len(ys), len(xs)))
    for r in results:
        grid[ys.index(show_value(r["at"][b])), xs.index(show_value(r["at"][a]))] = value(r)
    fig = Figure(figsize=(7.5, 1.6 + 0.4 * len(ys)), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    mid = (grid.min() + grid.max()) / 2
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=8, color="white" if v < mid else "black")
    ax.set_xticks(np.arange(len(xs)), labels=xs)
    ax.set_yticks(np.arange(len(ys)), labels=ys)
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    ax.set_title("Citizens housed" if label == "housed" else f"{label} (mean over the seeds)", loc="left")
    fig.colorbar(image, ax=ax, label=label, ticks=MaxNLocator(integer=True))
    return fig


def _plot_pareto(results: list[Mapping[str, Any]]) -> Figure:
    """Housed against subsidised assignments, the variants no other beats joined up."""
    points = [(float(r["subsidised"]), float(sum(r["objective"]["housed_by_priority"].values()))) for r in results]
    front = pareto_front(points)
    fig = Figure(figsize=(7.5, 3.4), layout="constrained")
    ax = fig.add_subplot()
    xy = np.array(points)
    ax.scatter(xy[:, 0], xy[:, 1], color=GREY, label="variant", zorder=2)
    fx, fy = xy[front, 0], xy[front, 1]
    ax.plot(fx, fy, color=VERMILION, marker="o", label="Pareto front", zorder=3)
    alike: dict[tuple[float, float], list[int]] = {}
    for i in front:
        alike.setdefault(points[i], []).append(i)
    for point, same in alike.items():  # one label a point: equal variants would print over each other
        first = ", ".join(f"{k}={show_value(v)}" for k, v in results[same[0]]["at"].items())
        ax.annotate(
            first + (f" (+{len(same) - 1} alike)" if len(same) > 1 else ""),
            point,
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=7,
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("subsidised assignments (fewer is cheaper)")
    ax.set_ylabel("citizens housed")
    ax.set_title("Housed against subsidies: the variants no other beats", loc="left")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    return fig


# --------------------------------------------------------------------------- the page

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Scenario {{ doc.scenario }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.base { background: #f3f3f3; font-weight: bold; }
code { font-size: 0.9em; }
figure { margin: 1.5em 0; }
</style>
</head>
<body>
<h1>Scenario {{ doc.scenario }}</h1>
<p>Base instance <b>{{ doc.base.instance }}</b> (sha256 <code>{{ doc.base.sha256 }}</code>),
horizon {{ doc.horizon }}: {{ rows | length - 1 }} variant{{ "s" if rows | length != 2 }} against the base.
{% if doc.year is defined and doc.year.base is defined %}
Each variant's terms through {{ doc.year.weeks }} weekly rounds of the simulation on the base instance's weeks
({{ doc.year.vacancies_per_week }} vacancies and {{ doc.year.arrivals_per_week }} new urgent citizens a week on
average, resampled from the base; decline rate {{ doc.year.decline_rate }}) for each of the seeds
{{ doc.year.seeds | join(", ") }}: the mean and standard deviation over the seeds.
Every variant's instance can be written out (<code>anvis scenario --write-instances</code>).</p>
{% elif doc.year is defined %}
Each variant's terms through {{ doc.year.weeks }} weekly rounds of the simulation (regime {{ doc.year.regime }},
scale {{ doc.year.scale }}, decline rate {{ doc.year.decline_rate }}) for each of the seeds
{{ doc.year.seeds | join(", ") }}: the mean and standard deviation over the seeds.
Every variant's terms (of the first seed) can be written out (<code>anvis scenario --write-instances</code>).</p>
{% else %}
Every variant's instance can be solved alone (<code>anvis scenario --write-instances</code>).</p>
{% endif %}
<h2>Comparison</h2>
<table>
<thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}
<tr{% if loop.first %} class="base"{% endif %}>
{% for c in columns %}
{% set v = row[c] %}
{% if c == "instance sha256" %}<td><code title="{{ v }}">{{ v[:12] }}</code></td>
{% elif v is number %}<td class="n">{{ v }}</td>
{% else %}<td>{{ "" if v is none else v }}</td>{% endif %}
{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>
{% if doc.prices is defined %}
<h2>Prices of the base's limits</h2>
<p>Each binding limit of the base moved by one ({{ doc.prices.limits | length }} limits, the most valuable first;
rows marked "estimate" are LP duals, the others the difference of two exact solves).</p>
{% for w in doc.prices.warnings %}<p><b>Warning:</b> {{ w }}</p>{% endfor %}
{{ prices_table(doc.prices) }}
{% endif %}
{% if plots %}
<h2>Plots</h2>
{% for title, svg in plots %}
<figure><figcaption>{{ title }}</figcaption>{{ svg }}</figure>
{% endfor %}
{% endif %}
</body>
</html>
"""

# The table of a prices document, on its own page and in a scenario's page alike.
_PRICES_TABLE = """<table>
<thead><tr><th>limit</th><th>id</th><th class="n">used / limit</th>
<th>one more: gain</th><th>how</th><th>one fewer: gain</th><th>how</th></tr></thead>
<tbody>
{% for r in prices.limits %}
<tr><td>{{ r.kind }}</td><td>{{ r.id }}</td><td class="n">{{ r.used }} / {{ r.limit }}</td>
<td>{{ gain(r.gain_plus_one) }}</td><td>{{ r.plus_one or "" }}</td>
<td>{{ gain(r.gain_minus_one) }}</td><td>{{ r.minus_one or "" }}</td></tr>
{% endfor %}
</tbody>
</table>
"""

# Autoescaping on: names, changes and ids on the page are user data.
_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _prices_table(prices: Mapping[str, Any]) -> Markup:
    return Markup(_ENV.from_string(_PRICES_TABLE).render(prices=prices, gain=gain_text))


def render_html(doc: Mapping[str, Any]) -> str:
    """The comparison page of a results document: the table, its prices, its plots.

    The base's prices appear when the document has ``prices`` (``anvis scenario --prices``);
    then a plot per sweep and two per grid (one heat map per grid for the year horizon).
    """
    return _ENV.from_string(_PAGE).render(
        doc=doc,
        columns=comparison_columns(doc),
        rows=comparison_rows(doc),
        plots=_plots(doc),
        prices_table=_prices_table,
    )


_PRICES_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Prices of the limits of {{ doc.instance }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>Prices of the limits of {{ doc.instance }}</h1>
<p>Status {{ doc.status }}; instance sha256 <code>{{ doc.instance_sha256 }}</code>.
Each binding limit moved by one and its region re-solved: every gain is the difference of two exact optima,
the most valuable first.</p>
{% for w in doc.warnings %}<p><b>Warning:</b> {{ w }}</p>{% endfor %}
{{ prices_table(doc) }}
</body>
</html>
"""


def gain_text(gain: Mapping[str, Any] | None) -> str:
    """A price's gain in one line: ``housed p1 +1, p2 +0; score +12``, or ``cannot move``."""
    if gain is None:
        return "cannot move"
    housed = ", ".join(f"p{p} {n:+g}" for p, n in gain["housed_by_priority"].items())
    text = f"housed {housed}; score {gain['total_score']:+g}"
    return text + (f"; value {gain['value']:+g}" if "value" in gain else "")


def render_prices_html(doc: Mapping[str, Any]) -> str:
    """The prices of :func:`optimizer.scenario.prices.prices` as one self-contained page, in their order."""
    return _ENV.from_string(_PRICES_PAGE).render(doc=doc, prices_table=_prices_table)
