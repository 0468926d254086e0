"""The pages and their forms: post/redirect/get, the refusals shown as pages, in Danish."""

from __future__ import annotations

import re

import pytest
from serve_helpers import DEMO, client_for, solve, upload

import models
from optimizer.rounds import workflow


@pytest.fixture
def db(tmp_path):
    from optimizer.rounds.ledger import dispose_all

    yield str(tmp_path / "ledger.db")
    dispose_all()


@pytest.fixture
def client(db):
    with client_for(db) as c:
        yield c
        c.app.state.solves.join()


def form(client, url, **fields):
    """Post a form as the pages do: the token in its field, not in the header."""
    token = client.headers["X-CSRF-Token"]
    return client.post(url, data={"csrf_token": token, **fields}, headers={"X-CSRF-Token": ""}, follow_redirects=False)


def test_index_without_a_ledger_starts_none(client, tmp_path):
    r = client.get("/")
    assert r.status_code == 200 and 'lang="da"' in r.text and "Ingen runder endnu" in r.text
    assert client.get("/history").status_code == 200
    assert not (tmp_path / "ledger.db").exists()


def test_upload_form_opens_and_lists_the_round(client, db):
    token = client.headers["X-CSRF-Token"]
    r = client.post(
        "/rounds",
        files={"file": ("uge47.json", DEMO.read_bytes())},
        data={"csrf_token": token},
        headers={"X-CSRF-Token": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/rounds/1"
    page = client.get("/").text
    assert "Åben runde" in page and 'href="/rounds/1"' in page and "åben" in page
    assert "Runden er ikke løst" in client.get("/rounds/1").text


def test_upload_form_shows_each_problem(client):
    token = client.headers["X-CSRF-Token"]
    doc = DEMO.read_text().replace('"priority": 1', '"priority": 0', 1)
    r = client.post(
        "/rounds",
        files={"file": ("uge47.json", doc.encode())},
        data={"csrf_token": token},
        headers={"X-CSRF-Token": ""},
    )
    assert r.status_code == 422
    problems = re.findall(r"<li>(uge47\.json: [^<]*)</li>", r.text)
    assert problems and all("priority" in p for p in problems), r.text
    assert "ikke en gyldig runde" in r.text


def test_solve_form_goes_through_progress_to_the_plan(client, db):
    rid = upload(client)
    r = form(client, f"/rounds/{rid}/solve")
    assert r.status_code == 303 and r.headers["location"] == f"/rounds/{rid}/solving"
    client.app.state.solves.join()
    r = client.get(f"/rounds/{rid}/solving", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/rounds/{rid}"
    page = client.get(f"/rounds/{rid}").text
    _, plan = workflow.round_plan(db, rid)
    assert page.count('<tr data-housed="yes"') == len(plan.assignments)
    assert page.count('<tr data-housed="no"') == len(plan.unassigned)
    for kind in ("json", "xlsx", "csv"):
        assert f'href="/rounds/{rid}/plan.{kind}"' in page
    assert f'src="/rounds/{rid}/report"' in page


def test_solving_a_round_abandoned_meanwhile_is_refused_on_a_page(client, db):
    """Another planner abandoned the round from the CLI: the page says so instead of solving."""
    rid = upload(client)
    workflow.abandon_round(db, rid)
    r = form(client, f"/rounds/{rid}/solve")
    assert r.status_code == 409
    assert "opgivet" in r.text


def test_override_forms_add_and_remove(client, db):
    rid = upload(client)
    solve(client, rid)
    r = form(
        client, f"/rounds/{rid}/overrides", action="forbid", citizen="c10", unit="u3", note="ikke stueetage", by="Ole"
    )
    assert r.status_code == 303 and r.headers["location"] == f"/rounds/{rid}#tilsidesaettelser"
    assert [(o["kind"], o["citizen"], o["unit"], o["note"], o["by"]) for o in workflow.round_overrides(db, rid)] == [
        ("forbid", "c10", "u3", "ikke stueetage", "Ole")
    ]
    page = client.get(f"/rounds/{rid}").text
    assert "ikke stueetage" in page and "forbyd" in page and "Runden er ikke løst med disse tilsidesættelser" in page
    r = form(client, f"/rounds/{rid}/overrides", action="lock", citizen="c2", unit="nowhere")
    assert r.status_code == 422 and "nowhere" in r.text
    # a form's way back stays on this site
    r = form(client, f"/rounds/{rid}/overrides", action="reserve", unit="u5", back="https://evil.example/")
    assert r.headers["location"] == f"/rounds/{rid}#tilsidesaettelser"
    r = form(client, f"/rounds/{rid}/overrides/1/delete")
    assert r.status_code == 303
    assert [o["unit"] for o in workflow.round_overrides(db, rid)] == ["u5"]


def test_citizen_page_explains_and_offers_the_units(client, db):
    rid = upload(client)
    assert client.get(f"/rounds/{rid}/citizens/c1").status_code == 404  # not solved yet
    solve(client, rid)
    inst, plan = workflow.round_plan(db, rid)
    housed = plan.assignments[0]
    page = client.get(f"/rounds/{rid}/citizens/{housed.citizen}").text
    assert f'id="current-unit">{housed.unit}<' in page
    waiting = plan.unassigned[0].citizen
    page = client.get(f"/rounds/{rid}/citizens/{waiting}").text
    assert "Ikke anvist" in page and waiting in page
    muni = next(c.municipality for c in inst.citizens if c.id == waiting)
    dept = {d.id: d.municipality for d in inst.departments}
    offered = re.findall(r'<option value="([^"]+)"', page.split('id="unit"')[1].split("</select>")[0])
    assert offered == [u.id for u in inst.units if dept[u.department] == muni]
    assert client.get(f"/rounds/{rid}/citizens/nobody").status_code == 404
    assert client.get("/rounds/9/citizens/c1").status_code == 404


def test_commit_form_needs_a_name_and_then_shows_who(client, db):
    rid = upload(client)
    solve(client, rid)
    r = form(client, f"/rounds/{rid}/commit", by="  ")
    assert r.status_code == 422 and "navn" in r.text
    r = form(client, f"/rounds/{rid}/commit", by="Mette")
    assert r.status_code == 303
    page = client.get(f"/rounds/{rid}").text
    assert 'id="committed-by">Mette<' in page and "godkendt" in page
    assert 'action="/rounds/1/solve"' not in page  # a committed round is not solved again
    r = form(client, f"/rounds/{rid}/commit", by="Ole")
    assert r.status_code == 409 and "allerede godkendt af Mette" in r.text
    history = client.get("/history").text
    assert "Mette" in history and models.load(DEMO).sha256[:12] in history


def test_abandon_form(client, db):
    rid = upload(client)
    r = form(client, f"/rounds/{rid}/abandon")
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert workflow.round_info(db, rid)["status"] == "abandoned"
    assert "opgivet" in client.get("/").text


def test_unknown_round_is_a_danish_404_page(client):
    r = client.get("/rounds/42")
    assert r.status_code == 404 and "Runde 42 findes ikke" in r.text and "<html" in r.text


def test_times_are_shown_the_danish_way():
    from optimizer.serve.templating import kr, when

    assert when("2026-11-29T20:40:51+00:00") == "29.11.2026 20:40 UTC"
    assert when(None) == "" and when("garbled") == "garbled"
    assert kr(3690) == "3.690 kr." and kr(None) == "–"
