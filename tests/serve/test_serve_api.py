"""The JSON API of ``anvis serve``: every endpoint the issue lists, over the same ledger as the CLI."""

from __future__ import annotations

import io
import json
import os
import threading
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from serve_helpers import DEMO, client_for, solve, upload

import models
from optimizer.check import check_plan, format_violations
from optimizer.cli import main
from optimizer.rounds import workflow
from optimizer.rounds.workflow import SLEEP_ENV

# ``db`` is conftest's ledger: an SQLite file, and the PostgreSQL database of $ANVIS_TEST_POSTGRES_URL.


@pytest.fixture
def client(db):
    with client_for(db) as c:
        yield c
        c.app.state.solves.join()


def checked(db, rid):
    """The round's stored instance and plan, the plan passed by the independent checker."""
    inst, plan = workflow.round_plan(db, rid)
    violations = check_plan(inst, plan)
    assert not violations, format_violations(violations)
    return inst, plan


def test_upload_json_opens_the_round_the_cli_sees(client, db):
    rid = upload(client)
    rows = client.get("/api/rounds").json()
    assert [(r["id"], r["status"], r["status_text"]) for r in rows] == [(rid, "opened", "åben")]
    assert workflow.round_info(db, rid)["status"] == "opened"
    assert rows[0]["instance_sha256"] == models.load(DEMO).sha256


@pytest.mark.parametrize("kind", ["xlsx", "zip"])
def test_upload_workbook_and_csv_folder_give_the_same_instance(client, db, tmp_path, kind):
    inst = models.load(DEMO)
    if kind == "xlsx":
        path = tmp_path / "week.xlsx"
        models.save(inst, path)
    else:
        folder = tmp_path / "week"
        models.save(inst, folder)
        path = tmp_path / "week.zip"
        with zipfile.ZipFile(path, "w") as z:
            for f in sorted(folder.iterdir()):
                z.write(f, f"week/{f.name}")
    rid = upload(client, path)
    assert workflow.round_info(db, rid)["instance_sha256"] == inst.sha256


def test_bad_workbook_lists_each_problem_by_sheet_and_row_and_opens_nothing(client, db, tmp_path):
    path = tmp_path / "uge47.xlsx"
    models.save(models.load(DEMO), path)
    wb = openpyxl.load_workbook(path)
    header = [c.value for c in wb["citizens"][1]]
    col = header.index("priority") + 1
    wb["citizens"].cell(row=4, column=col, value="abc")
    wb["units"].cell(row=2, column=[c.value for c in wb["units"][1]].index("rooms") + 1, value="x")
    wb.save(path)
    r = client.post("/api/rounds", files={"file": ("uge47.xlsx", path.read_bytes())})
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert len(problems) == 2, problems
    assert all(p.startswith("uge47.xlsx: ") for p in problems)
    assert any("citizens" in p and "priority" in p and "'abc'" in p for p in problems)
    assert any("units" in p and "rooms" in p for p in problems)
    assert str(tmp_path) not in r.text and "anvis-serve-" not in r.text  # the temporary path never shows
    assert client.get("/api/rounds").json() == []
    if "://" not in db:
        assert not os.path.exists(db)  # bad input starts no ledger


def test_upload_refuses_other_files_and_unsafe_zips(client):
    r = client.post("/api/rounds", files={"file": ("week.txt", b"hello")})
    assert r.status_code == 422 and "ukendt filtype" in r.json()["detail"]
    for names in (["../evil/units.csv"], ["/abs/units.csv"], ["a/units.csv", "b/citizens.csv"], ["readme.md"]):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for n in names:
                z.writestr(n, "id\n")
        r = client.post("/api/rounds", files={"file": ("week.zip", buf.getvalue())})
        assert r.status_code == 422, names
        assert r.json()["problems"], names
    r = client.post("/api/rounds", files={"file": ("week.zip", b"not a zip")})
    assert r.status_code == 422
    assert client.get("/api/rounds").json() == []


def test_invalid_json_is_one_line_per_problem(client):
    doc = json.loads(DEMO.read_text())
    doc["citizens"][0]["priority"] = 0
    doc["units"][3]["department"] = "nowhere"
    r = client.post("/api/rounds", files={"file": ("w.json", json.dumps(doc).encode())})
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert any(p.startswith("w.json: citizens[0].priority") for p in problems), problems
    assert any(p.startswith("w.json: units[3].department") and "nowhere" in p for p in problems), problems


def test_second_open_round_is_refused_with_409(client):
    upload(client)
    r = client.post("/api/rounds", files={"file": ("tiny.json", (DEMO.parent / "tiny.json").read_bytes())})
    assert r.status_code == 409
    assert "not committed" in r.json()["detail"]


def test_solve_reports_progress_and_stores_the_plan_the_cli_writes(client, db, tmp_path):
    rid = upload(client)
    job = solve(client, rid)
    assert job["status"] == "optimal" and job["seconds"] >= 0
    _, plan = checked(db, rid)
    served = client.get(f"/api/rounds/{rid}/plan")
    assert served.status_code == 200
    out = tmp_path / "cli.plan.json"
    models.write_plan(plan, out)
    assert served.content == out.read_bytes()
    assert served.json()["assignments"] == [a.model_dump(mode="json", exclude_none=True) for a in plan.assignments]


def test_plan_before_solve_is_404_and_unknown_round_404(client):
    rid = upload(client)
    assert client.get(f"/api/rounds/{rid}/plan").status_code == 404
    assert client.get("/api/rounds/99/plan").status_code == 404
    assert client.post("/api/rounds/99/solve").status_code == 404
    assert client.get("/api/rounds/99").status_code == 404


def test_overrides_add_list_remove_and_resolve(client, db):
    rid = upload(client)
    first = solve(client, rid)
    assert first["changes"] == {"compared": False, "moved": [], "housed": [], "lost": []}
    _, before = checked(db, rid)
    assert workflow.round_plan(db, rid)[1].assignments  # something is housed
    housed = {a.citizen: a.unit for a in before.assignments}
    assert housed.get("c2") != "u3"
    r = client.post(
        f"/api/rounds/{rid}/overrides",
        json={"action": "lock", "citizen": "c2", "unit": "u3", "note": "aftalt på mødet", "by": "Mette"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["n"] == 1 and r.json()["by"] == "Mette"
    listed = client.get(f"/api/rounds/{rid}/overrides").json()
    assert [(o["n"], o["kind"], o["citizen"], o["unit"], o["note"]) for o in listed] == [
        (1, "lock", "c2", "u3", "aftalt på mødet")
    ]
    assert workflow.round_overrides(db, rid) == [{k: v for k, v in o.items() if k != "cost"} for o in listed]
    job = solve(client, rid)
    _, after = checked(db, rid)
    lock = next(a for a in after.assignments if a.citizen == "c2")
    assert (lock.unit, lock.locked) == ("u3", True)
    # what changed is reported against the plan before the override
    assert {"citizen": "c2", "priority": 2, "after": "u3"} in job["changes"]["housed"] + [
        {k: v for k, v in m.items() if k != "before"} for m in job["changes"]["moved"]
    ]
    displaced = housed.get("c10")
    if displaced == "u3":
        assert {"citizen": "c10", "priority": 1, "before": "u3"} in job["changes"]["lost"] + [
            {k: v for k, v in m.items() if k != "after"} for m in job["changes"]["moved"]
        ]
    r = client.delete(f"/api/rounds/{rid}/overrides/1")
    assert r.status_code == 200 and r.json()["unit"] == "u3"
    assert client.get(f"/api/rounds/{rid}/overrides").json() == []
    assert client.delete(f"/api/rounds/{rid}/overrides/1").status_code == 409  # removed already
    assert client.delete(f"/api/rounds/{rid}/overrides/7").status_code == 404
    solve(client, rid)
    _, again = checked(db, rid)
    assert {a.citizen: a.unit for a in again.assignments} == housed


def test_bad_override_is_422_with_each_problem(client):
    rid = upload(client)
    r = client.post(f"/api/rounds/{rid}/overrides", json={"action": "lock", "citizen": "nobody", "unit": "u999"})
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert any("nobody" in p for p in problems) and any("u999" in p for p in problems), problems
    r = client.post(f"/api/rounds/{rid}/overrides", json={"action": "evict", "unit": "u1"})
    assert r.status_code == 422
    assert client.get(f"/api/rounds/{rid}/overrides").json() == []


def test_commit_records_the_name_and_the_cli_sees_it(client, db):
    rid = upload(client)
    solve(client, rid)
    r = client.post(f"/api/rounds/{rid}/commit", json={"by": "Mette Hansen"})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == rid and r.json()["claims"] == len(workflow.round_plan(db, rid)[1].assignments)
    info = workflow.round_info(db)
    assert (info["id"], info["status"], info["committed_by"]) == (rid, "committed", "Mette Hansen")
    out = CliRunner().invoke(main, ["round", "history", "--db", db])
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if x.startswith(f"{rid}\t"))
    assert info["instance_sha256"][:12] in line and "Mette Hansen" in line
    again = client.post(f"/api/rounds/{rid}/commit", json={"by": "Ole"})
    assert again.status_code == 409
    assert "allerede godkendt af Mette Hansen" in again.json()["detail"]
    assert client.post(f"/api/rounds/{rid}/commit", json={"by": ""}).status_code == 422


def test_commit_needs_a_solved_round(client):
    rid = upload(client)
    r = client.post(f"/api/rounds/{rid}/commit", json={"by": "Mette"})
    assert r.status_code == 409 and "not solved" in r.json()["detail"]


def test_two_commits_at_once_one_wins_the_other_is_told(client, db, monkeypatch):
    rid = upload(client)
    solve(client, rid)
    monkeypatch.setenv(SLEEP_ENV, "0.5")  # the first commit holds the ledger's lock a while
    results: dict[str, object] = {}

    def commit(name):
        results[name] = client.post(f"/api/rounds/{rid}/commit", json={"by": name})

    threads = [threading.Thread(target=commit, args=(n,)) for n in ("Anna", "Bo")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {n: r.text for n, r in results.items()}
    winner = next(n for n, r in results.items() if r.status_code == 200)
    loser = next(r for r in results.values() if r.status_code == 409)
    assert f"allerede godkendt af {winner}" in loser.json()["detail"]
    assert workflow.round_info(db, rid)["committed_by"] == winner
    inst, plan = workflow.round_plan(db, rid)
    once = {key: c for (kind, key), (_, c) in workflow.round_effects(inst, plan, {}).items() if kind == "pool"}
    assert {k: t["claimed"] for k, t in workflow.ledger_totals(db)["pool"].items()} == once  # counted once


def test_abandon_then_open_another(client, db):
    rid = upload(client)
    assert client.post(f"/api/rounds/{rid}/abandon").status_code == 200
    assert workflow.round_info(db, rid)["status"] == "abandoned"
    assert client.post(f"/api/rounds/{rid}/solve").status_code == 409
    upload(client, DEMO.parent / "tiny.json")


def test_second_solve_while_running_is_409(client):
    rid = upload(client)
    solves = client.app.state.solves
    gate = threading.Event()
    original = solves._run

    def slow(job):
        gate.wait(10)
        original(job)

    solves._run = slow
    try:
        assert client.post(f"/api/rounds/{rid}/solve").status_code == 202
        assert client.get(f"/api/rounds/{rid}/solve").json()["state"] == "running"
        r = client.post(f"/api/rounds/{rid}/solve")
        assert r.status_code == 409 and "allerede" in r.json()["detail"]
    finally:
        gate.set()
        solves.join()
    assert client.get(f"/api/rounds/{rid}/solve").json()["state"] == "done"


def test_downloads_are_the_cli_files_and_deterministic(client, db, tmp_path):
    rid = upload(client)
    solve(client, rid)
    _, plan = workflow.round_plan(db, rid)
    for kind in ("json", "xlsx", "csv"):
        a = client.get(f"/rounds/{rid}/plan.{kind}")
        b = client.get(f"/rounds/{rid}/plan.{kind}")
        assert a.status_code == 200 and "attachment" in a.headers["content-disposition"]
        if kind != "xlsx":  # openpyxl stamps the time it writes a workbook
            assert a.content == b.content, kind
    models.write_plan(plan, tmp_path / "p.json")
    assert client.get(f"/rounds/{rid}/plan.json").content == (tmp_path / "p.json").read_bytes()
    wb = openpyxl.load_workbook(io.BytesIO(client.get(f"/rounds/{rid}/plan.xlsx").content))
    assert wb.sheetnames
    with zipfile.ZipFile(io.BytesIO(client.get(f"/rounds/{rid}/plan.csv").content)) as z:
        names = z.namelist()
        assert names == sorted(names) and all(n.startswith("plan/") and n.endswith(".csv") for n in names)
        models.write_plan(plan, tmp_path / "cli")
        assert {n[len("plan/") :]: z.read(n) for n in names} == {
            f.name: f.read_bytes() for f in (tmp_path / "cli").iterdir()
        }
    assert client.get(f"/rounds/{rid}/plan.pdf").status_code == 404


def test_report_is_the_printable_report_with_the_round(client, db):
    rid = upload(client)
    solve(client, rid)
    r = client.get(f"/rounds/{rid}/report")
    assert r.status_code == 200 and "<svg" in r.text
    assert client.get(f"/rounds/{rid}/report?download=1").headers["content-disposition"].startswith("attachment")


def test_openapi_documents_the_endpoints(client):
    spec = client.get("/api/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/api/rounds", "post"),
        ("/api/rounds", "get"),
        ("/api/rounds/{round_id}/solve", "post"),
        ("/api/rounds/{round_id}/plan", "get"),
        ("/api/rounds/{round_id}/overrides", "post"),
        ("/api/rounds/{round_id}/overrides/{n}", "delete"),
        ("/api/rounds/{round_id}/commit", "post"),
    ]:
        assert method in paths[path], (path, method)
        assert paths[path][method].get("description")
    assert not any(p.startswith("/rounds") for p in paths)  # pages are not API
    assert client.get("/api/docs").status_code == 200


def test_upload_records_who_opened_the_round(client, db):
    r = client.post("/api/rounds", files={"file": ("w.json", DEMO.read_bytes())}, data={"by": "Mette"})
    assert r.status_code == 201
    assert workflow.round_info(db, r.json()["id"])["opened_by"] == "Mette"


def test_polling_shows_the_solver_stage_while_it_runs(client, monkeypatch):
    """While a solve runs, ``GET …/solve`` names its current stage and the fraction done (no citizen data)."""
    from optimizer.serve.jobs import Job

    rid = upload(client)
    reached, gate = threading.Event(), threading.Event()
    original = Job.progress

    def held(job, message, fraction):
        original(job, message, fraction)
        if "housed priority" in message and not reached.is_set():  # hold the solve at its first stage's end
            reached.set()
            gate.wait(30)

    monkeypatch.setattr(Job, "progress", held)
    try:
        assert client.post(f"/api/rounds/{rid}/solve").status_code == 202
        assert reached.wait(60)
        job = client.get(f"/api/rounds/{rid}/solve").json()
        assert job["state"] == "running"
        assert "housed priority 1" in job["stage"] and 0 < job["fraction"] < 1
        assert client.get(f"/api/rounds/{rid}").json()["solve"]["stage"] == job["stage"]
        page = client.get(f"/rounds/{rid}/solving").text  # the polling page starts from the same
        assert f'<span id="stage">{job["stage"]}</span>' in page and '<progress id="fraction"' in page
    finally:
        gate.set()
        client.app.state.solves.join()
    done = client.get(f"/api/rounds/{rid}/solve").json()
    assert done["state"] == "done" and done["stage"] == "solved: optimal" and done["fraction"] == 1.0
    names = {c.id for c in models.load(DEMO).citizens}
    assert not any(n in done["stage"] or n in job["stage"] for n in names if len(n) > 2)
