"""The report as a planner sees and prints it, in a real headless Chromium (skipped without one).

The screenshots in ``tests/report/screenshots/`` were taken the same way (the flags
of :func:`chromium`, ``--screenshot --window-size=1280,2000``); ``report-da-print.png``
with the page's ``@media print`` rules applied on screen at A4's width, since
Chromium's screenshots use screen media.
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
