"""What keeps ``anvis serve`` local: Host and Origin checks, CSRF, the upload limit, the bind address, quiet logs."""

from __future__ import annotations

import json
import logging
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from serve_helpers import BASE, DEMO, client_for, solve, upload

import models
from optimizer.cli import main
from optimizer.serve import create_app
from optimizer.serve.security import CSRF_COOKIE, allowed_hosts


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


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1:9999", "127.0.0.1.evil.example:8000"])
def test_a_foreign_host_header_is_refused(client, host):
    """DNS rebinding: a site's name resolved to 127.0.0.1 still sends its own name as Host."""
    for method, url in [("GET", "/"), ("GET", "/api/rounds"), ("POST", "/api/rounds")]:
        r = client.request(method, url, headers={"Host": host})
        assert r.status_code == 403, (method, url, host)
        assert "Host" in r.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000"])
def test_the_bound_address_is_answered(client, host):
    assert client.get("/api/rounds", headers={"Host": host}).status_code == 200


def test_allowed_hosts():
    assert allowed_hosts("127.0.0.1", 8000) == {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    assert allowed_hosts("192.0.2.7", 80) == {"192.0.2.7:80"}
    assert allowed_hosts("::1", None) >= {"[::1]", "localhost"}


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://127.0.0.1:9999", "null", "https://localhost:8000.evil"]
)
def test_a_cross_site_origin_is_refused(client, origin):
    r = client.post("/api/rounds", files={"file": ("w.json", DEMO.read_bytes())}, headers={"Origin": origin})
    assert r.status_code == 403
    assert client.get("/api/rounds", headers={"Origin": origin}).status_code == 403
    assert client.get("/api/rounds").status_code == 200


def test_a_cross_site_fetch_is_refused(client):
    assert client.get("/api/rounds", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.get("/api/rounds", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_the_same_origin_is_served(client):
    r = client.post("/api/rounds", files={"file": ("w.json", DEMO.read_bytes())}, headers={"Origin": BASE})
    assert r.status_code == 201


def test_posts_need_the_csrf_token(client, db):
    token = client.headers.pop("X-CSRF-Token")
    files = {"file": ("w.json", DEMO.read_bytes())}
    assert client.post("/api/rounds", files=files).status_code == 403
    assert client.post("/api/rounds", files=files, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post("/rounds", files=files, data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/api/rounds").json() == []
    # a form carries it in its field (the pages' forms), a script in the header
    r = client.post("/rounds", files=files, data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/rounds/1"
    r = client.post("/rounds/1/abandon", data={"csrf_token": "wrong"})
    assert r.status_code == 403
    assert client.delete("/api/rounds/1/overrides/1").status_code == 403
    r = client.post("/rounds/1/abandon", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303


def test_the_form_token_is_its_own_field(client):
    """A file named like the field is not the field; the field is found after a file too."""
    token = client.headers.pop("X-CSRF-Token")
    body = DEMO.read_bytes()
    r = client.post("/rounds", files={"file": ("csrf_token", token.encode())}, data={"csrf_token": "wrong"})
    assert r.status_code == 403
    r = client.post("/rounds", files={"file": ("csrf_token", body)}, data={"csrf_token": token})
    assert r.status_code == 422 and "ukendt filtype" in r.text  # past the token check, refused as a file


def test_without_the_cookie_a_token_is_refused(db):
    """Another site cannot set the cookie: a token it made up in the form alone is refused."""
    app = create_app(db, host="127.0.0.1", port=8000)
    with TestClient(app, base_url=BASE) as c:
        r = c.post("/rounds", files={"file": ("w.json", DEMO.read_bytes())}, data={"csrf_token": "made-up"})
        assert r.status_code == 403
        r = c.post("/api/rounds", files={"file": ("w.json", DEMO.read_bytes())}, headers={"X-CSRF-Token": "made-up"})
        assert r.status_code == 403
        assert c.get("/api/rounds").json() == []


def test_the_cookie_is_strict_and_kept(db):
    app = create_app(db, host="127.0.0.1", port=8000)
    with TestClient(app, base_url=BASE) as c:
        first = c.get("/")
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{CSRF_COOKIE}=") and "SameSite=Strict" in cookie and "Path=/" in cookie
        assert "set-cookie" not in c.get("/").headers  # one token per browser: it is not replaced


def test_every_form_carries_the_token(client):
    rid = upload(client)
    solve(client, rid)
    token = client.headers["X-CSRF-Token"]
    for url in ["/", f"/rounds/{rid}", f"/rounds/{rid}/citizens/c1"]:
        html = client.get(url).text
        forms = html.count("<form")
        assert forms and html.count(f'name="csrf_token" value="{token}"') == forms, url


def test_uploads_over_the_limit_are_413(db):
    with client_for(db, max_upload_bytes=10_000) as c:
        r = c.post("/api/rounds", files={"file": ("w.json", DEMO.read_bytes())})
        assert r.status_code == 413
        assert "for stor" in r.json()["detail"]

        def chunks():  # no Content-Length: the limit holds while the body streams in
            for _ in range(20):
                yield b"x" * 1000

        r = c.post("/api/rounds", content=chunks(), headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 413
        assert c.get("/api/rounds").json() == []


def test_security_headers(client):
    r = client.get("/")
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_binds_127_0_0_1_by_default(monkeypatch, tmp_path):
    import uvicorn

    seen = {}

    def run(app, **kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(uvicorn, "run", run)
    r = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "l.db")])
    assert r.exit_code == 0, r.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8000)
    assert "warning" not in r.output
    r = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "l.db"), "--host", "0.0.0.0", "--port", "8123"])
    assert r.exit_code == 0 and (seen["host"], seen["port"]) == ("0.0.0.0", 8123)
    assert "no login" in r.output  # listening beyond this machine is said aloud
    assert not (tmp_path / "l.db").exists()  # starting the app starts no ledger
    monkeypatch.delenv("ANVIS_DB", raising=False)
    seen.clear()
    r = CliRunner().invoke(main, ["serve"])
    assert r.exit_code == 2 and "--db" in r.output and not seen  # no default ledger
    monkeypatch.setenv("ANVIS_DB", str(tmp_path / "env.db"))
    assert CliRunner().invoke(main, ["serve"]).exit_code == 0 and seen["host"] == "127.0.0.1"


def test_logs_carry_no_citizen_attributes(client, db, caplog):
    """A whole round with overrides and explanations logs ids and counts, never a citizen's circumstances."""
    inst = models.load(DEMO)
    note = "borgeren har misbrugsproblemer"  # a note may say anything: it is not logged
    caplog.set_level(logging.DEBUG)
    rid = upload(client)
    solve(client, rid)
    r = client.post(
        f"/api/rounds/{rid}/overrides", json={"action": "lock", "citizen": "c2", "unit": "u3", "note": note}
    )
    assert r.status_code == 201
    solve(client, rid)
    for c in ("c1", "c2", "c18"):
        assert client.get(f"/rounds/{rid}/citizens/{c}").status_code == 200
    client.get(f"/rounds/{rid}/report")
    client.post(f"/api/rounds/{rid}/commit", json={"by": "Mette"})
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("anvis", "uvicorn", "fastapi")))
    assert "round 1 opened" in text and "round 1 committed" in text  # the log says what happened
    assert note not in text
    for word in ("max_rent", "vulnerable", "subsidy_eligible", "needs_accessible", "homeless", "preferences"):
        assert word not in text
    rents = {str(c.max_rent_kr) for c in inst.citizens}
    assert not [r for r in rents if r in text]
    assert json.dumps(note, ensure_ascii=False) not in text


def test_bound_to_every_interface_answers_the_machines_names():
    import socket

    hosts = allowed_hosts("0.0.0.0", 8000)
    assert {"127.0.0.1:8000", "localhost:8000", f"{socket.gethostname().lower()}:8000"} <= hosts
    assert "evil.example:8000" not in hosts and "0.0.0.0:8000" in hosts


def test_ids_are_escaped_in_pages(tmp_path):
    """An id is text: markup in it is shown, never run, and its link still leads to its page."""
    import models

    from conftest import doc

    hostile = '<img src=x onerror="alert(1)">/x'
    d = doc([{"id": hostile}, {"id": "c2"}], [{"id": "u1"}])
    path = tmp_path / "h.json"
    path.write_text(json.dumps(d))
    with client_for(str(tmp_path / "l.db")) as c:
        rid = upload(c, path)
        solve(c, rid)
        page = c.get(f"/rounds/{rid}").text
        assert hostile not in page and "&lt;img src=x" in page
        href = re.search(r'href="(/rounds/1/citizens/[^"]*img[^"]*)"', page).group(1)
        r = c.get(href.replace("&amp;", "&"))
        assert r.status_code == 200 and hostile not in r.text
        assert models.load(path).citizens[0].id == hostile
        c.app.state.solves.join()
