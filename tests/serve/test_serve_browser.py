"""A whole round in a real browser: Debian's chromium driven by Playwright, against uvicorn on a free port.

Upload the week's file, solve, open a citizen, lock them to a unit with a note, solve
again, commit with a name; the CLI's library then shows the same committed round.
Screenshots go to /tmp/serve-*.png. Skips (saying why) without chromium or Playwright.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from serve_helpers import DEMO

from optimizer.check import check_plan
from optimizer.rounds import workflow

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path("/tmp")

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path):
    """uvicorn serving a fresh ledger on 127.0.0.1:<free port>, in a thread; stopped afterwards."""
    import uvicorn

    from optimizer.rounds.ledger import dispose_all
    from optimizer.serve import create_app

    db = str(tmp_path / "ledger.db")
    port = free_port()
    app = create_app(db, host="127.0.0.1", port=port)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", db
    srv.should_exit = True
    thread.join(10)
    app.state.solves.join(10)
    dispose_all()


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        yield pg
        context.close()
        browser.close()


def test_a_round_walked_in_the_browser_is_the_round_the_cli_shows(server, page):
    base, db = server
    page.goto(base + "/")
    assert page.locator("h1").inner_text() == "Runder"
    page.screenshot(path=str(SHOTS / "serve-1-rounds.png"))

    # upload the week's file: the round opens
    page.set_input_files("input[name=file]", str(DEMO))
    page.fill("input[name=by]", "Mette")
    page.click("text=Åbn runde")
    page.wait_for_url(f"{base}/rounds/1")
    assert page.locator("#round-status").inner_text() == "åben"

    # solve: the progress page polls until the plan is there
    page.click("#solve")
    page.wait_for_selector("#plan")
    assert page.locator("#plan-status").get_attribute("data-status") == "optimal"
    _, first = workflow.round_plan(db, 1)
    rows = page.locator("#plan tbody tr")
    assert rows.count() == len(first.assignments) + len(first.unassigned)
    page.fill("#filter", "c2")
    page.select_option("#which", "all")
    assert page.locator("#plan tbody tr:visible").count() >= 1
    page.fill("#filter", "")
    page.select_option("#which", "housed")
    assert page.locator("#plan tbody tr:visible").count() == len(first.assignments)
    page.select_option("#which", "all")
    page.click("#plan th:nth-child(2)")  # sort by priority, descending on a second click
    page.click("#plan th:nth-child(2)")
    assert page.locator("#plan tbody tr td:nth-child(2)").first.inner_text() == str(
        max(u.priority for u in first.unassigned)
    )
    # the report's summary and plots, in the page
    page.frame_locator("iframe.report").locator("svg").first.wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "serve-2-plan.png"), full_page=False)

    # open a citizen the plan does not give u3, and lock them to it with a note
    target = next(u for u in first.unassigned if u.citizen == "c2").citizen
    page.click(f"#plan a[href='/rounds/1/citizens/{target}']")
    page.wait_for_url(f"{base}/rounds/1/citizens/{target}")
    assert target in page.locator("#explanation").inner_text()
    page.select_option("#action", "lock")
    page.select_option("#unit", "u3")
    page.fill("#note", "aftalt på visitationsmødet")
    page.fill("#override-by", "Mette")
    page.screenshot(path=str(SHOTS / "serve-3-citizen.png"), full_page=True)
    page.click("#add-override")
    page.wait_for_url(f"{base}/rounds/1#tilsidesaettelser")
    assert "aftalt på visitationsmødet" in page.locator("#overrides").inner_text()
    assert page.locator("#not-solved").is_visible()

    # solve again: the page says what changed
    page.click("#solve")
    page.wait_for_selector("#plan")
    changes = page.locator("#changes + .card").inner_text()
    assert target in changes
    report = page.frame_locator("iframe.report")
    report.locator("svg").first.wait_for()
    assert "aftalt på visitationsmødet" in report.locator("body").inner_text()  # the report lists the lock's note
    page.locator("iframe.report").scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # let the frame paint: a screenshot does not wait for it
    page.screenshot(path=str(SHOTS / "serve-6-report.png"))
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "serve-4-resolved.png"), full_page=True)  # (frames show blank here)

    # commit with a name
    page.fill("#commit-form input[name=by]", "Mette Hansen")
    page.click("#commit")
    page.wait_for_selector("#committed-by")
    assert page.locator("#round-status").inner_text() == "godkendt"
    assert page.locator("#committed-by").inner_text() == "Mette Hansen"
    page.goto(base + "/history")
    assert "Mette Hansen" in page.locator("#history").inner_text()
    page.screenshot(path=str(SHOTS / "serve-5-history.png"))

    # the CLI's library sees the same round: committed by that name, with the lock and its note
    info = workflow.round_info(db)
    assert (info["id"], info["status"], info["committed_by"]) == (1, "committed", "Mette Hansen")
    assert info["opened_by"] == "Mette"
    inst, plan = workflow.round_plan(db, 1)
    assert not check_plan(inst, plan)
    assert next(a for a in plan.assignments if a.citizen == target).unit == "u3"
    notes = [(o["kind"], o["citizen"], o["unit"], o["note"], o["by"]) for o in workflow.round_overrides(db, 1)]
    assert notes == [("lock", target, "u3", "aftalt på visitationsmødet", "Mette")]
