"""The report as a planner sees and prints it, in a real headless Chromium (skipped without one).

The screenshot ``docs/report.png`` (shown in the README) was taken the same way (the flags
of :func:`chromium`, ``--screenshot --window-size=1280,2000``). Chromium's screenshots
use screen media, so the print style is tested through ``--print-to-pdf`` below.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import models
from optimizer.engine.solve import solve
from optimizer.explain.citizen import explain_all
from optimizer.plan.build import make_plan
from optimizer.report.html import render_report

DEMO = Path(__file__).resolve().parents[2] / "instances" / "demo-week.json"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium on this machine")

#: A4 in PostScript points (210 × 297 mm), as a PDF's MediaBox gives it.
A4 = (595.28, 841.89)


def chromium(*args: str, cwd: Path) -> None:
    """Run headless Chromium once (no sandbox: it runs as the test's user in a container)."""
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", *args]
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, timeout=180)


def dumped_dom(path: Path) -> str:
    """The page's DOM after its scripts ran (``--dump-dom``)."""
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The (width, height) of every page of a PDF Chromium wrote."""
    pages = re.findall(rb"/Type\s*/Page\b(?!s).*?/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf, re.S)
    if not pages:  # MediaBox before /Type
        pages = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\][^>]*?/Type\s*/Page\b(?!s)", pdf, re.S)
    return [(float(w), float(h)) for w, h in pages]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    inst = models.load(DEMO)
    plan = make_plan(solve(inst))
    out = tmp_path_factory.mktemp("chromium") / "report.html"
    out.write_text(render_report(inst, plan, explain_all(inst, plan)), encoding="utf-8")
    return out


def test_prints_on_a4_pages_with_every_section(page):
    """Chromium prints the Danish report on A4; the closed list of citizens not housed prints too
    (removing it gives fewer pages)."""
    chromium(f"--print-to-pdf={page.with_suffix('.pdf')}", page.as_uri(), cwd=page.parent)
    sizes = pdf_pages(page.with_suffix(".pdf").read_bytes())
    assert sizes and all(abs(w - A4[0]) < 2 and abs(h - A4[1]) < 2 for w, h in sizes), sizes
    html = page.read_text(encoding="utf-8")
    start = html.index('<table id="t-unassigned"')
    short = page.with_name("short.html")
    short.write_text(html[:start] + html[html.index("</table>", start) + len("</table>") :], encoding="utf-8")
    chromium(f"--print-to-pdf={short.with_suffix('.pdf')}", short.as_uri(), cwd=page.parent)
    assert len(sizes) > len(pdf_pages(short.with_suffix(".pdf").read_bytes()))


def test_screenshot_renders(page):
    """A screenshot of the page at a laptop's width is a PNG of that width."""
    png = page.with_suffix(".png")
    chromium(f"--screenshot={png}", "--window-size=1280,1600", page.as_uri(), cwd=page.parent)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1280


#: Appended after the page's own script: sorts the assignments by rent both ways (three rents
#: made ones a text sort would misorder), by citizen, then searches.
HARNESS = """<script>
(function () {
  var t = document.getElementById("t-assigned");
  var th = t.tHead.rows[0].cells[4];
  function column(i) { return [].map.call(t.tBodies[0].rows, function (r) { return r.cells[i].textContent; }); }
  // amounts a text sort would misorder: more digits, fewer digits, øre
  ["12.500", "950", "3.386,50"].forEach(function (x, i) { t.tBodies[0].rows[i].cells[4].textContent = x; });
  th.click();
  var asc = column(4), sort1 = th.getAttribute("aria-sort");
  th.click();
  var desc = column(4), sort2 = th.getAttribute("aria-sort");
  t.tHead.rows[0].cells[0].click();
  var ids = column(0);
  var input = document.querySelector('input[data-filter="t-assigned"]');
  input.value = "C9 ";
  input.dispatchEvent(new Event("input"));
  var shown = [].filter.call(t.tBodies[0].rows, function (r) { return !r.hidden; });
  document.body.setAttribute("data-test", JSON.stringify({
    asc: asc, desc: desc, sort1: sort1, sort2: sort2, ids: ids,
    shown: shown.map(function (r) { return r.textContent; }),
    count: document.querySelector('[data-count="t-assigned"]').textContent
  }));
}());
</script>
</body>"""


def test_tables_sort_and_search_in_the_browser(page):
    """The page's own script sorts a column of Danish amounts as numbers (both ways), ids as a planner
    counts (c9 before c10), and a search keeps exactly the rows that contain it, case-insensitively."""
    import html as htmllib
    import json

    html = page.read_text(encoding="utf-8")
    test = page.with_name("sorted.html")
    test.write_text(html.replace("</body>", HARNESS), encoding="utf-8")
    dom = dumped_dom(test)
    got = json.loads(htmllib.unescape(re.search(r'data-test="([^"]*)"', dom).group(1)))

    def kroner(text: str) -> float:
        return float(text.replace(".", "").replace(",", "."))

    rents = [kroner(x) for x in got["asc"]]
    assert rents == sorted(rents) and rents[0] == 950 and rents[-1] == 12500 and 3386.5 in rents
    assert [kroner(x) for x in got["desc"]] == sorted(rents, reverse=True)
    assert (got["sort1"], got["sort2"]) == ("ascending", "descending")
    numbers = [int(x[1:]) for x in got["ids"]]
    assert numbers == sorted(numbers)
    start = html.index('<table id="t-assigned"')
    rows = re.findall(r"<tr><td>(c\d+)</td>(.*?)</tr>", html[start : html.index("</table>", start)], re.S)
    expected = sum("c9" in re.sub(r"<[^>]*>", "", c + r).lower() for c, r in rows)
    assert len(got["shown"]) == expected >= 1 and all("c9" in s.lower() for s in got["shown"])
    assert got["count"] == f"{expected} / {len(rows)}"


#: Words of the engine's English that a Danish page must not show (the plan's reasons, rule and cap
#: wording, the round's header and overrides); ids, field-free numbers and "score" are the same in both.
ENGLISH = re.compile(
    r"\b(eligible|went|outside|cap|override|overrides|committed|priority|department|housed|units?|citizens?|"
    r"rent|subsidy|pool|rules?|outranked|capacity|competition|reason)\b"
)


def test_a_danish_round_report_with_an_override_shows_no_english(tmp_path):
    """A committed round of the demo week with a planner's forbid (and a note), reported in Danish without
    explanations (so the plans' reasons are all the detail): the text Chromium renders holds no English."""
    import html as htmllib

    from click.testing import CliRunner

    from optimizer.cli import main

    db, out = str(tmp_path / "L.db"), tmp_path / "round.html"
    for args in (
        ["open", str(DEMO)],
        ["forbid", "c9=u20", "--note", "ønsker ikke", "--by", "anna"],
        ["solve", "-q"],
        ["commit", "--by", "anna"],
        ["report", "-o", str(out), "--no-explain"],
    ):
        result = CliRunner().invoke(main, ["round", "--db", db, *args], env={"ANVIS_LANG": "da"})
        assert result.exit_code == 0, result.output
    dom = dumped_dom(out)
    body = re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", body))
    assert "Tilsidesættelser" in text and "ønsker ikke" in text and "godkendt" in text
    assert "egnede boliger" in text  # the reasons, in Danish
    assert ENGLISH.findall(text) == []
