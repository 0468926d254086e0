"""The HTML round report (optimizer.report.html, ``anvis report``): content, escaping, determinism, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape

import models
from optimizer import lang as L
from optimizer.cli import main
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.report.html import ReportError, render_report

from conftest import doc, solved

DEMO = Path(__file__).resolve().parents[2] / "instances" / "demo-week.json"
PLOTS = ("departments", "rent", "priority", "limits")


def figure(html: str, name: str) -> str:
    """The ``<figure id="plot-NAME">`` element of a page."""
    m = re.search(rf'<figure id="plot-{name}">(.*?)</figure>', html, re.S)
    assert m, f"no figure plot-{name}"
    return m.group(1)


def without_svg(html: str) -> str:
    return re.sub(r"<svg.*?</svg>", "", html, flags=re.S)


def visible(html: str) -> str:
    """The words a reader sees: no style, script, SVG, tags or attributes."""
    html = re.sub(r"<(style|script|svg)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]*>", " ", html)


@pytest.fixture(scope="module")
def demo():
    """The demo instance, its solved plan and its report."""
    inst = models.load(DEMO)
    plan = make_plan(solve(inst))
    return inst, plan.to_dict(), render_report(inst, plan, lang="en")


def hostile_doc() -> dict:
    """Ids and names that are markup, entities, quotes and mathtext."""
    return doc(
        [{"id": "c<script>", "vulnerable": True, "max_rent_kr": 4987}, {"id": "a&b", "priority": 2}],
        [{"id": "u<b>x</b>", "department": "d<script>alert(1)</script>"}],
        departments=[
            {"id": "d<script>alert(1)</script>", "organisation": "O", "municipality": "M", "max_vulnerable": 1},
            {"id": "d$x^2$", "organisation": "O", "municipality": "M", "max_vulnerable": 0},
        ],
        municipalities=[{"id": "M", "name": "M<i>&amp;", "region": "R", "subsidy_frame": 1}],
        agreements=[{"id": "p\"<&>'", "municipality": "M", "share": 1.0}],
    )


# --------------------------------------------------------------------------- the page


def test_demo_page_is_one_self_contained_document_with_four_svg_plots(demo):
    """The demo report is a full HTML page with exactly four inline SVG plots and nothing fetched:
    one inline script (sorting and searching), no external URL but the SVG namespaces."""
    _, _, html = demo
    assert_self_contained(html)
    assert html.count("<svg") == 4
    for name in PLOTS:
        assert "<svg" in figure(html, name), name


def assert_self_contained(html: str) -> None:
    """One HTML page that fetches nothing: no link, image, frame, import or source; one inline script;
    every URL on the page is an XML namespace name of an inline SVG (never fetched)."""
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    lower = html.lower()
    for external in ("<link", "<img", "<iframe", "<object", "<embed", "@import", "src=", "fetch(", "xmlhttprequest"):
        assert external not in lower, external
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", lower))  # SVG clip paths on the page
    assert re.findall(r"<script[^>]*>", lower) == ["<script>"]
    assert not re.search(r"(?:https?:)?//[a-z0-9]", lower), "a URL on the page"
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', lower))


def test_header_states_status_hash_and_objective(demo):
    """The header names the instance, the status, the instance hash and the plan's objective."""
    inst, plan, html = demo
    head = html[html.index("<body>") : html.index("<h2")]
    assert inst.name in head
    assert plan["status"] in head
    assert plan["instance_sha256"] in head
    for p, n in plan["objective"]["housed_by_priority"].items():
        assert f"priority {p}: {n}" in head
    assert f"total score {plan['objective']['total_score']:g}" in head


def test_names_every_housed_citizen_with_unit_and_every_unassigned_citizen(demo):
    """Each housed citizen has a row with their unit; each citizen not housed has a row with their priority."""
    _, plan, html = demo
    assert plan["assignments"] and plan["unassigned"]
    for a in plan["assignments"]:
        assert f"<tr><td>{a['citizen']}</td><td>{a['unit']}</td><td>{a['department']}</td>" in html, a
    for u in plan["unassigned"]:
        row = f'<tr><td>{u["citizen"]}</td><td class="n">{u["priority"]}</td><td title="{u["code"]}">{u["code"]}</td>'
        assert row in html, u


def test_assignment_rows_show_rent_before_and_after_subsidy(demo):
    """Each assignment row shows the unit's rent, the plan's effective rent and the subsidy flag."""
    inst, plan, html = demo
    rent = {u.id: u.rent_kr for u in inst.units}
    assert any(a["subsidised"] for a in plan["assignments"])
    for a in plan["assignments"]:
        row = (
            f'<td class="n">{a["priority"]}</td><td class="n">{rent[a["unit"]]:,.0f}</td>'
            f'<td class="n">{a["effective_rent_kr"]:,.0f}</td><td>{"yes" if a["subsidised"] else "no"}</td>'
            f'<td class="n">{a["score"]:g}</td>'
        )
        assert f"<tr><td>{a['citizen']}</td><td>{a['unit']}</td><td>{a['department']}</td>{row}" in html, a


def test_summary_counts_housed_per_priority(demo):
    """The plain-language summary gives 'k of n housed' per priority, matching the plan."""
    inst, plan, html = demo
    total = {p: sum(c.priority == p for c in inst.citizens) for p in inst.priorities}
    for p, k in plan["objective"]["housed_by_priority"].items():
        assert re.search(rf"<li>Priority {p}( \(most urgent\))?: {k} of {total[int(p)]} housed\.</li>", html), p
    housed = len(plan["assignments"])
    assert f"This round housed {housed} of {len(inst.citizens)} citizens" in html


def test_unassigned_table_is_collapsible(demo):
    """The long list of citizens not housed sits inside a <details> element."""
    _, plan, html = demo
    section = html[html.index('<h2 id="unassigned">Not housed') :]
    details = section[section.index("<details>") : section.index("</details>")]
    assert all(f"<td>{u['citizen']}</td>" in details for u in plan["unassigned"])


def test_same_input_gives_byte_identical_html(demo):
    """Two renders of the same instance and plan are byte-identical (no date, fixed SVG ids)."""
    inst, plan, html = demo
    assert render_report(inst, models.Plan.from_dict(plan), lang="en") == html
    assert "dc:date" not in html


def test_ids_on_the_page_are_unique(demo):
    """The four inline SVGs share one page, so no element id may repeat."""
    _, _, html = demo
    ids = re.findall(r'\sid="([^"]*)"', html)
    assert len(ids) == len(set(ids))


# --------------------------------------------------------------------------- user data


@pytest.fixture(scope="module")
def hostile():
    """The hostile instance, its checked plan and its report."""
    inst, plan = models.from_dict(hostile_doc()), solved(hostile_doc())
    return inst, plan, render_report(inst, models.Plan.from_dict(plan), lang="en")


def test_hostile_ids_are_escaped_in_tables_and_plots(hostile):
    """Ids and names that look like markup print as typed: escaped in tables, in SVG text, no mathtext."""
    _, plan, html = hostile
    assert [a["citizen"] for a in plan["assignments"]] == ["c<script>"]
    assert html.lower().count("<script") == 1 and "c&lt;script&gt;" in html  # only the page's own script
    assert "<b>" not in html and "<i>" not in html
    assert "<td>c&lt;script&gt;</td><td>u&lt;b&gt;x&lt;/b&gt;</td>" in html
    assert "<td>a&amp;b</td>" in html
    assert "d&lt;script&gt;alert(1)&lt;/script&gt;" in figure(html, "departments")
    assert ">d$x^2$<" in figure(html, "departments")  # drawn as typed, not as x squared
    assert "M&lt;i&gt;&amp;amp;" in figure(html, "limits")
    assert "<td>p&#34;&lt;&amp;&gt;&#39;</td>" in html


def test_no_citizen_attribute_besides_priority_and_assignment(hostile):
    """A citizen's rent limit (or other attributes) never appears in the page's text."""
    html = without_svg(hostile[2])
    assert "4987" not in html and "4,987" not in html


def test_explanations_go_into_a_why_column_escaped(hostile):
    """Explanations, as text or as a dict with "text", appear per citizen, escaped; unknown ids are ignored."""
    inst, plan, plain = hostile
    assert "<th>why</th>" not in plain
    html = render_report(
        inst,
        models.Plan.from_dict(plan),
        {
            "c<script>": "best score <of 3>",
            "a&b": {"text": "outranked & unlucky", "parts": [1]},
            "ghost": "never shown",
        },
        lang="en",
    )
    assert html.count("<th>why</th>") == 2
    assert '<td class="why">best score &lt;of 3&gt;</td>' in html
    assert '<td class="why">outranked &amp; unlucky</td>' in html
    assert "never shown" not in html


def test_department_plot_shows_the_40_most_loaded_and_says_so():
    """With 45 capped departments in use, the plot shows 40 and its caption says 40 of 45."""
    n = 45
    d = doc(
        [{"id": f"c{i}", "vulnerable": True} for i in range(n)],
        [{"id": f"u{i}", "department": f"D{i:02d}"} for i in range(n)],
        departments=[
            {"id": f"D{i:02d}", "organisation": "O", "municipality": "M", "max_vulnerable": 1} for i in range(n)
        ],
    )
    plan = solved(d)
    assert len(plan["assignments"]) == n
    fig = figure(render_report(models.from_dict(d), models.Plan.from_dict(plan), lang="en"), "departments")
    assert len(set(re.findall(r">(D\d\d)<", fig))) == 40
    assert "the 40 most loaded of the 45 departments" in fig


def test_plan_naming_unknown_ids_is_refused(hostile):
    """An assignment naming a citizen or unit the instance lacks raises ReportError naming it."""
    inst, plan, _ = hostile
    plan = {**plan, "assignments": [{**plan["assignments"][0], "unit": "ghost"}]}
    with pytest.raises(ReportError, match="unknown unit 'ghost'"):
        render_report(inst, models.Plan.from_dict(plan))


# --------------------------------------------------------------------------- the command


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def files(tmp_path):
    """A small instance and its plan on disk."""
    d = doc([{"id": "c1"}, {"id": "c2", "priority": 2}], [{"id": "u1"}])
    inst_path = tmp_path / "week.json"
    inst_path.write_text(json.dumps(d))
    plan_path = tmp_path / "week.plan.json"
    models.write_plan(solved(d), plan_path)
    return inst_path, plan_path


def test_cli_writes_report_beside_plan_and_exits_0(files):
    """`anvis report INSTANCE PLAN` writes <plan stem>.html beside the plan; -o writes elsewhere."""
    inst_path, plan_path = files
    r = run("report", inst_path, plan_path)
    assert r.exit_code == 0, r.output
    out = plan_path.with_name("week.plan.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert str(out) in r.output
    other = plan_path.parent / "sub" / "r.html"
    assert run("report", inst_path, plan_path, "-o", other).exit_code == 0
    assert other.read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    "case", ["no instance", "no plan", "plan not JSON", "plan not an object", "plan with unknown citizen"]
)
def test_cli_bad_input_exits_2_and_writes_nothing(files, case):
    """Unreadable or non-matching input exits 2 with one line per problem and leaves the output untouched."""
    inst_path, plan_path = files
    if case == "no instance":
        inst_path = inst_path.with_name("missing.json")
    elif case == "no plan":
        plan_path = plan_path.with_name("missing.plan.json")
    elif case == "plan not JSON":
        plan_path.write_text("{not json")
    elif case == "plan not an object":
        plan_path.write_text("[1, 2]")
    else:
        plan = json.loads(plan_path.read_text())
        plan["assignments"][0]["citizen"] = "ghost"
        plan_path.write_text(json.dumps(plan))
    out = plan_path.parent / "out.html"
    out.write_text("old report")
    before = sorted(p.name for p in plan_path.parent.iterdir())
    r = CliRunner().invoke(main, ["report", str(inst_path), str(plan_path), "-o", str(out)])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = r.stderr.strip().splitlines()
    assert lines and lines[-1].endswith("nothing written")
    assert all(line.startswith(str(inst_path if case == "no instance" else plan_path)) for line in lines)
    assert out.read_text() == "old report"
    assert sorted(p.name for p in plan_path.parent.iterdir()) == before


def test_cli_report_says_why_for_every_citizen(files):
    """By default the report carries explain_all's text for each citizen (here: the unhoused
    citizen lost the only unit to a more urgent one); --no-explain leaves it out."""
    inst_path, plan_path = files
    out = plan_path.parent / "r.html"
    assert run("report", inst_path, plan_path, "-o", out, "--lang", "en").exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    assert "1 taken by more urgent citizens" in page and "No other unit was eligible" in page
    assert run("report", inst_path, plan_path, "-o", out, "--no-explain", "--lang", "en").exit_code == 0
    assert "No other unit was eligible" not in out.read_text(encoding="utf-8")
    r = run("report", inst_path, plan_path, "-o", out)  # Danish by default
    assert r.exit_code == 0 and r.stdout == f"rapport skrevet til {out}\n"
    page = out.read_text(encoding="utf-8")
    assert '<html lang="da">' in page
    assert "1 taget af mere akutte borgere" in page and "Ingen anden bolig var egnet" in page


def test_round_report_from_the_ledger(files, tmp_path):
    """`anvis round report` renders the latest committed round from the ledger; an unknown round
    exits 2 and writes nothing."""
    inst_path, _ = files
    db = tmp_path / "ledger.db"
    assert run("round", "open", inst_path, "--db", db).exit_code == 0
    assert run("round", "solve", "--db", db, "-q").exit_code == 0
    assert run("round", "commit", "--db", db).exit_code == 0
    out = tmp_path / "round.html"
    r = run("round", "report", "--db", db, "-o", out)
    assert r.exit_code == 0, r.output
    assert "c1" in out.read_text(encoding="utf-8")
    missing = tmp_path / "none.html"
    r = CliRunner().invoke(main, ["round", "report", "--db", str(db), "--round", "9", "-o", str(missing)])
    assert r.exit_code == 2 and "no round 9" in r.output and not missing.exists()


# --------------------------------------------------------------------------- anvis/2: turns and the homeless


@pytest.fixture(scope="module")
def e5():
    """Worked example e5 (anvis/2, FORMAT.md §6), its plan and its page without the plots."""
    from conftest import EXAMPLES

    if not EXAMPLES.is_dir():
        pytest.skip("reference data ../shared is absent")
    inst = models.load(EXAMPLES / "e5-rotation.json")
    plan = make_plan(solve(inst))
    return inst, plan, without_svg(render_report(inst, plan, lang="en"))


def rotation_rows(html: str) -> dict[str, list[str]]:
    """The rotation table: pool id -> its cells after the id."""
    section = html[html.index('<h2 id="rotation">Rotation pools') : html.index('<h2 id="mixed">Mixed-city caps')]
    rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", section, re.S)
    return {pid: re.findall(r"<td[^>]*>(.*?)</td>", rest) for pid, rest in rows}


def test_e5_shows_turns_used_and_passed_per_rotation_pool(e5):
    """By hand (examples/README.md): fsb family has turns f4 and f5 (f5 used, f4 passed); fsb youth
    none; kab family the turn k1 (used) and the offered k3 (passed); kab-elderly the turn k2 (used).
    Columns: municipality, share, vacancies, turns, offered, used, passed."""
    _, plan, html = e5
    assert plan.passed == ("f4", "k3")
    assert rotation_rows(html) == {
        "default:101:fsb:family": ["101", "0.25", "6", "2", "0", "1", "1"],
        "default:101:fsb:youth": ["101", "0.25", "2", "0", "0", "0", "0"],
        "default:101:kab:family": ["101", "0.25", "1", "1", "1", "1", "1"],
        "kab-elderly": ["101", "1", "1", "1", "0", "1", "0"],
    }
    assert "fsb-choice" not in rotation_rows(html)  # a choice pool has no turns


def test_e5_summary_states_turns_and_homeless_figure(e5):
    """a (3,386 kr after subsidy) and b (2,900 kr) are homeless and housed under 3,500 kr: 2."""
    _, plan, html = e5
    assert plan.homeless_housed_under_3500_kr == 2
    assert (
        "<li>Rotation: the municipality had 5 turns in 4 rotation pools (1 offered in earlier rounds and held); "
        "it used 3 and passed 2 back to the organisations.</li>"
    ) in html
    assert "<li>2 homeless citizens housed at an effective rent under 3,500 kr a month.</li>" in html
    assert "Warning" not in html


def test_e5_homeless_counts_the_rent_after_subsidy(e5):
    """Without a's subsidy (3,386 → 4,800 kr) a is no longer under 3,500 kr: the figure is 1 and the
    plan's own 2 is flagged as differing from the recount."""
    inst, plan, _ = e5
    asg = tuple(a.model_copy(update={"subsidised": False}) if a.citizen == "a" else a for a in plan.assignments)
    html = without_svg(render_report(inst, plan.model_copy(update={"assignments": asg}), lang="en"))
    assert "<li>1 homeless citizen housed at an effective rent under 3,500 kr a month.</li>" in html
    assert "says it houses 2 homeless citizens under 3,500 kr, the recount from its assignments 1" in html


def test_e5_plan_with_wrong_passed_is_flagged(e5):
    """A plan that leaves c's unit f5 out but does not say it passes it: the recount says 3."""
    inst, plan, _ = e5
    asg = tuple(a for a in plan.assignments if a.citizen != "c")
    html = without_svg(render_report(inst, plan.model_copy(update={"assignments": asg}), lang="en"))
    assert rotation_rows(html)["default:101:fsb:family"][-2:] == ["0", "2"]
    assert "says it passes 2 units, the recount from its assignments passes 3" in html


def test_v1_page_has_no_rotation_or_homeless(demo):
    _, _, html = demo
    assert "Rotation" not in html and "homeless" not in html


def test_e5_names_no_citizen_as_homeless(e5):
    """Homelessness is a citizen's circumstance: it enters only the count, never a citizen's row."""
    inst, _, html = e5
    assert sum(c.homeless for c in inst.citizens) >= 2
    assert html.count("homeless") == 1  # the summary's count
    for table in re.findall(r"<table>.*?</table>", html, re.S):
        assert "homeless" not in table


# --------------------------------------------------------------------------- round and overrides


ROUND = {
    "id": "2026-48",
    "status": "committed",
    "committed_by": "mette<b>",
    "committed_at": "2026-11-29T14:05:00Z",
    "opened_at": "2026-11-27T08:00:00Z",
}
OVERRIDES = [
    {
        "kind": "lock",
        "citizen": "c1",
        "unit": "u3",
        "note": "akut <sag>",
        "effect": {"moved": ["c2", "c3", "c4"], "lost": ["c9"], "priority_lost": {"1": 1}},
    },
    {"kind": "forbid", "citizen": "c5", "unit": "u1", "note": None, "effect": {"moved": [], "lost": []}},
    {"kind": "hold", "citizen": None, "unit": "u7", "note": "tur holdt"},
]


def overrides_section(html: str) -> str:
    m = re.search(r'<h2 id="overrides">(.*?)<h2', html, re.S)
    assert m, "no overrides section"
    return m.group(1)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_round_header_names_round_status_committer_and_times(demo, lang):
    inst, plan, _ = demo
    html = without_svg(render_report(inst, models.Plan.from_dict(plan), round_info=ROUND, lang=lang))
    header = html[html.index('<dl class="header">') : html.index("</dl>")]
    assert "2026-48" in header
    assert "mette&lt;b&gt;" in header  # the committer's name is data: escaped
    if lang == "da":
        assert "<dt>Runde</dt>" in header and "godkendt" in header
        assert "29. november 2026 kl. 14.05 UTC" in header and "27. november 2026 kl. 08.00 UTC" in header
    else:
        assert "<dt>Round</dt>" in header and "committed" in header
        assert "2026-11-29 14:05 UTC" in header and "2026-11-27 08:00 UTC" in header


def test_round_not_yet_committed_says_so(demo):
    inst, plan, _ = demo
    info = {"id": 7, "status": "solved", "committed_by": None, "committed_at": None, "opened_at": None}
    html = without_svg(render_report(inst, models.Plan.from_dict(plan), round_info=info, lang="da"))
    assert "<dd>ikke godkendt</dd>" in html and "<dd>løst</dd>" in html and "<dd>7</dd>" in html


def test_no_round_info_no_round_rows(demo):
    _, _, html = demo
    assert "Runde</dt>" not in html and "Round</dt>" not in html


@pytest.mark.parametrize("lang", ["da", "en"])
def test_overrides_listed_with_note_and_cost(demo, lang):
    inst, plan, _ = demo
    html = without_svg(render_report(inst, models.Plan.from_dict(plan), overrides=OVERRIDES, lang=lang))
    sec = overrides_section(html)
    rows = re.findall(r"<tr.*?</tr>", sec, re.S)[1:]
    assert len(rows) == 3
    assert "akut &lt;sag&gt;" in rows[0] and "c2..c4" in rows[0] and "c9" in rows[0]
    assert 'class="full"' in rows[0] and 'class="full"' not in rows[1]
    if lang == "da":
        assert sec.startswith("Tilsidesættelser")
        assert "låst" in rows[0] and "3 borgere fik en anden bolig" in rows[0]
        assert "1 borger mistede sin bolig" in rows[0] and "tabte pladser: prioritet 1: 1" in rows[0]
        assert "forbudt" in rows[1] and "ingen ændring for andre borgere" in rows[1]
        assert "holdt tilbage" in rows[2] and "virkning ikke beregnet" in rows[2]
    else:
        assert sec.startswith("Overrides")
        assert "lock" in rows[0] and "3 citizens moved" in rows[0] and "1 citizen lost" in rows[0]
        assert "priority 1: 1" in rows[0]
        assert "no change for other citizens" in rows[1] and "effect not computed" in rows[2]


def test_overrides_section_only_when_given(demo):
    inst, plan, html = demo
    assert 'id="overrides"' not in html
    empty = without_svg(render_report(inst, models.Plan.from_dict(plan), overrides=[], lang="da"))
    assert "Ingen tilsidesættelser i denne runde." in overrides_section(empty)


def test_unknown_language_is_refused(demo):
    inst, plan, _ = demo
    with pytest.raises(ValueError, match="unknown language"):
        render_report(inst, models.Plan.from_dict(plan), lang="sv")


# --------------------------------------------------------------------------- Danish, print, scale


@pytest.fixture(scope="module")
def demo_da(demo):
    """The demo report in the default language (Danish), without the plots' SVG."""
    inst, plan, _ = demo
    return inst, plan, render_report(inst, models.Plan.from_dict(plan))


def test_danish_is_the_default_language(demo_da):
    _, plan, html = demo_da
    assert '<html lang="da">' in html
    assert_self_contained(html)
    # Without explanations the reasons are the only detail of why a citizen waits: the plan's
    # (English, FORMAT.md §5) texts are worded in Danish from their codes and details.
    assert '<td lang="en">' not in html
    for u in plan["unassigned"]:
        assert f"<td>{escape(L.plan_reason(u))}</td>" in html
    text = visible(html)
    for english in ("eligible", "went to", "outside the", "share cap", "(outranked)", "(capacity)"):
        assert english not in text, english
    for heading in (
        "Sammenfatning",
        "Anvist pr. prioritet",
        "Pr. afdeling",
        "Figurer",
        "Anviste borgere (",
        "Ikke anviste borgere (",
        "Anvisningsret",
        "Blandet by",
    ):
        assert f"{heading}" in text, heading
    for english in ("Summary", "Assignments", "Not housed", "department", "citizens", "subsidy", "priority"):
        assert english not in text, english


def test_danish_numbers_and_amounts(demo_da):
    """Thousands with ".", kroner as "1.414 kr.", yes/no as ja/nej; each rent as the instance has it."""
    inst, plan, html = demo_da
    text = without_svg(html)
    assert "huslejetilskuddet på 1.414 kr. om måneden" in text
    rent = {u.id: u.rent_kr for u in inst.units}
    for a in plan["assignments"]:
        r = f"{rent[a['unit']]:,.0f}".replace(",", ".")
        e = f"{a['effective_rent_kr']:,.0f}".replace(",", ".")
        yes = "ja" if a["subsidised"] else "nej"
        assert f'<td class="n">{r}</td><td class="n">{e}</td><td>{yes}</td>' in text, a


def test_danish_plots_have_danish_labels(demo_da):
    _, _, html = demo_da
    assert "Anvist pr. prioritet (1 er mest akut)" in figure(html, "priority")
    assert "kr. om måneden" in figure(html, "rent")
    assert "housed" not in figure(html, "priority") and "assignments" not in figure(html, "rent")


def test_codes_are_explained_in_words(demo_da):
    """A reason code is shown as Danish words; the code itself only as the cell's title."""
    _, plan, html = demo_da
    codes = {u["code"] for u in plan["unassigned"]}
    assert "outranked" in codes
    assert '<td title="outranked">boligerne gik til borgere med højere prioritet</td>' in html
    assert '<li title="outranked">22: alle egnede boliger gik til mere akutte borgere</li>' in html
    assert "<code>outranked</code>" not in html


def test_sections_in_order_summary_first(demo_da):
    """Summary first, then per-priority and per-afdeling tables, then plots and the citizen lists."""
    html = demo_da[2]
    order = ["summary", "by-priority", "by-department", "plots", "assigned", "unassigned", "pools", "mixed"]
    at = [html.index(f'<h2 id="{name}">') for name in order]
    assert at == sorted(at)


def test_per_priority_table_matches_the_plan(demo_da):
    inst, plan, html = demo_da
    sec = html[html.index('<h2 id="by-priority">') : html.index('<h2 id="by-department">')]
    for p, k in plan["objective"]["housed_by_priority"].items():
        n = sum(c.priority == int(p) for c in inst.citizens)
        row = f'<tr><td class="n">{p}</td><td class="n">{n}</td><td class="n">{k}</td><td class="n">{n - k}</td>'
        assert row in sec, p


def test_per_department_table_counts_units_and_assignments(demo_da):
    """Each afdeling with a vacant unit has a row: organisation, vacant units, housed, subsidised."""
    inst, plan, html = demo_da
    sec = html[html.index('<h2 id="by-department">') : html.index('<h2 id="plots">')]
    rows = dict(re.findall(r"<tr><td>([^<]*)</td>(.*?)</tr>", sec))
    dept = {u.id: u.department for u in inst.units}
    org = {d.id: d.organisation for d in inst.departments}
    assert set(rows) == set(dept.values())
    for d, cells in rows.items():
        vals = re.findall(r"<td[^>]*>(.*?)</td>", cells)
        housed = [a for a in plan["assignments"] if dept[a["unit"]] == d]
        assert vals[0] == org[d]
        assert vals[3:6] == [
            str(sum(v == d for v in dept.values())),
            str(len(housed)),
            str(sum(a["subsidised"] for a in housed)),
        ], d


def test_citizen_tables_are_sortable_and_searchable(demo_da):
    html = demo_da[2]
    for table in ("t-assigned", "t-unassigned", "t-departments", "t-pools", "t-mixed"):
        assert f'<table id="{table}" class="sortable">' in html, table
        assert f'<input type="search" data-filter="{table}"' in html, table
    script = html[html.index("<script>") : html.index("</script>")]
    assert "table.sortable" in script and "data-filter" in script and "beforeprint" in script


def test_print_style_is_a4_and_prints_every_section(demo_da):
    """A4 pages, closed <details> open on paper, the header row repeats, searches do not hide rows."""
    html = demo_da[2]
    style = html[html.index("<style>") : html.index("</style>")]
    assert "@page { size: A4;" in style
    media = style[style.index("@media print") :]
    assert "details::details-content { content-visibility: visible; display: contents; }" in media
    assert "thead { display: table-header-group; }" in media
    assert "tr[hidden] { display: table-row; }" in media
    assert "Letter" not in style


def test_danish_page_escapes_user_data_too(hostile):
    inst, plan, _ = hostile
    html = render_report(inst, models.Plan.from_dict(plan))
    assert html.lower().count("<script") == 1 and "<b>" not in html
    assert "<td>c&lt;script&gt;</td><td>u&lt;b&gt;x&lt;/b&gt;</td>" in html


def test_danish_e5_rotation_and_homeless(e5):
    inst, plan, _ = e5
    html = without_svg(render_report(inst, plan))
    assert (
        "<li>Turnus: kommunen havde 5 ture i 4 turnuspuljer (1 tilbudt i tidligere runder og holdt); den brugte 3 "
        "og gav 2 tilbage til boligorganisationerne.</li>"
    ) in html
    assert "<li>2 hjemløse borgere anvist til en husleje efter tilskud under 3.500 kr. om måneden.</li>" in html
    assert '<td class="n">0,25</td>' in html


def test_danish_page_warns_in_danish(demo):
    """A plan naming another instance: the page's warning is Danish, the terminal's (plan_warnings' default) English."""
    from optimizer.report.html import plan_warnings

    inst, plan, _ = demo
    other = models.Plan.from_dict({**plan, "instance": "other-week"})
    html = without_svg(render_report(inst, other))
    assert '<p class="warning">Advarsel: planen nævner datasættet &#39;other-week&#39;, dette datasæt hedder' in html
    assert plan_warnings(inst, other) == [f"the plan names instance 'other-week', this instance is {inst.name!r}"]


def test_danish_page_with_round_and_overrides_is_byte_identical(demo):
    inst, plan, _ = demo
    typed = models.Plan.from_dict(plan)
    pages = [render_report(inst, typed, round_info=ROUND, overrides=OVERRIDES) for _ in range(2)]
    assert pages[0] == pages[1]
    assert pages[0] != render_report(inst, typed, round_info=ROUND, overrides=OVERRIDES, lang="en")
