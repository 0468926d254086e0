"""Helpers of the serve tests: an app over a fresh ledger, a client that sends the CSRF token."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from optimizer.serve import create_app

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "instances" / "demo-week.json"
BASE = "http://127.0.0.1:8000"


def client_for(db: str, **options) -> TestClient:
    """A client of an app bound to 127.0.0.1:8000 over ``db``, holding the CSRF cookie, sending its token."""
    app = create_app(db, host="127.0.0.1", port=8000, **options)
    client = TestClient(app, base_url=BASE)
    token = client.get("/api/csrf").json()["token"]
    client.headers["X-CSRF-Token"] = token
    return client


def upload(client: TestClient, path: Path = DEMO, name: str | None = None) -> int:
    r = client.post("/api/rounds", files={"file": (name or path.name, path.read_bytes())})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def solve(client: TestClient, rid: int) -> dict:
    """Solve through the API as the pages do (start, then poll) and return the finished job."""
    r = client.post(f"/api/rounds/{rid}/solve")
    assert r.status_code in (200, 202), r.text
    for _ in range(600):
        job = client.get(f"/api/rounds/{rid}/solve").json()
        if job["state"] != "running":
            assert job["state"] == "done", job
            return job
        time.sleep(0.05)
    raise AssertionError("the solve did not finish in 30 s")
