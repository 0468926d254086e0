"""``anvis round`` for a planner's week (issue 14): one ledger named once, overrides, their cost, carrying over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from optimizer.check import check_plan
from optimizer.cli import main
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R

from conftest import doc


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANVIS_DB", raising=False)
    monkeypatch.setenv("USER", "anna")
    monkeypatch.setenv("ANVIS_LANG", "en")  # the English lines; Danish (the default) is tested below
    yield tmp_path
    L.dispose_all()


def run(*args: str, **env: str):
    return CliRunner().invoke(main, list(args), env=env or None)


def ok(*args: str, **env: str) -> str:
    res = run(*args, **env)
    assert res.exit_code == 0, res.output
    return res.stdout


def refused(res, *words: str) -> str:
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def write(name: str, citizens, units, **tables) -> str:
    d = doc(citizens, units, **tables)
    d["name"] = name
    Path(f"{name}.json").write_text(json.dumps(d))
    return f"{name}.json"


def one_unit(name: str = "w1") -> str:
    """One unit u1; p1 (priority 1) and q (priority 2): unforced, p1 is housed."""
    return write(name, [{"id": "p1", "priority": 1}, {"id": "q", "priority": 2}], [{"id": "u1"}])


def test_the_ledger_is_named_on_the_group_by_anvis_db_or_on_the_command(here):
    """--db on the group, $ANVIS_DB, or --db on the command (which wins); none at all: one line, exit 2."""
    refused(run("round", "open", one_unit()), "no ledger given", "ANVIS_DB")
    refused(run("round", "status"), "no ledger given")
    assert not list(here.glob("*.db"))
    assert ok("round", "--db", "g.db", "open", one_unit()).strip() == "1"
    assert "open round: 1 'w1' opened" in ok("round", "status", ANVIS_DB="g.db")
    refused(run("round", "status", ANVIS_DB="other.db"), "no such ledger")
    assert "open round: 1" in ok("round", "--db", "other.db", "status", "--db", "g.db")  # the command's wins
    assert "open round: 1" in ok("round", "--db", "g.db", "status", ANVIS_DB="other.db")  # the group's beats the env


def test_report_and_explain_show_the_latest_committed_round_not_an_abandoned_or_open_one(here):
    """Round 1 committed (by bo), round 2 abandoned after solving, round 3 open and solved: report
    and explain take round 1, and the header names it, committed, by bo; --round picks another."""
    db = ("--db", "L.db")
    ok("round", *db, "open", one_unit("w1"))
    ok("round", *db, "solve", "-q")
    ok("round", *db, "commit", "--by", "bo")
    for name in ("w2", "w3"):
        write(name, [{"id": f"{name}-c"}], [{"id": f"{name}-u"}])
        ok("round", *db, "open", f"{name}.json")
        ok("round", *db, "solve", "-q")
        if name == "w2":
            ok("round", *db, "abandon")
    ok("round", *db, "report", "-o", "r.html", "--lang", "en")
    html = Path("r.html").read_text()
    assert "p1" in html and "w2-c" not in html and "w3-c" not in html
    assert "Round status" in html and "committed" in html and "bo" in html
    ok("round", *db, "report", "-o", "da.html", ANVIS_LANG="da")  # Danish by default (the fixture sets en)
    html = Path("da.html").read_text()
    assert "Rundens status" in html and "godkendt" in html and "bo" in html and "w3-c" not in html
    out = ok("round", *db, "explain", "p1", "--json")
    assert json.loads(out)["citizen"] == "p1"
    ok("round", *db, "report", "-o", "r3.html", "--round", "3", "--lang", "en")
    assert "w3-c" in Path("r3.html").read_text()
    refused(run("round", "--db", "L.db", "explain", "p1", "--round", "3"), "not in round 3")


def test_report_without_a_committed_round_says_so(here):
    ok("round", "--db", "L.db", "open", one_unit())
    ok("round", "--db", "L.db", "solve", "-q")
    refused(run("round", "--db", "L.db", "report", "-o", "r.html"), "no committed round yet", "--round N")
    assert not Path("r.html").exists()


def test_overrides_with_notes_are_listed_and_removed(here, monkeypatch):
    """--lock and --reserve with --note on 'round solve' are overrides 1 and 2, noted and by whom;
    'round forbid' adds 3; 'round unlock' and 'round unreserve' (or -n) remove them; the round's
    instance and the next solve follow."""
    monkeypatch.setenv("ANVIS_DB", "L.db")
    f = write("w", [{"id": "a"}, {"id": "b"}], [{"id": "u1"}, {"id": "u2"}, {"id": "u3"}])
    ok("round", "open", f)
    ok("round", "solve", "-q", "--lock", "b=u1", "--reserve", "u3", "--note", "doctor's letter", "--by", "bo")
    ok("round", "forbid", "a=u2", "--note", "asked not to")
    lines = ok("round", "overrides").splitlines()
    assert [ln.split("\t")[:6] for ln in lines] == [
        ["1", "lock", "b", "u1", "doctor's letter", "bo"],
        ["2", "reserve", "-", "u3", "doctor's letter", "bo"],
        ["3", "forbid", "a", "u2", "asked not to", "anna"],
    ]
    listed = json.loads(ok("round", "overrides", "--json"))
    assert [e["n"] for e in listed] == [1, 2, 3] and listed[2]["by"] == "anna"
    assert "override 1 removed" in ok("round", "unlock", "b=u1")
    assert "override 2 removed" in ok("round", "unreserve", "-n", "2")
    refused(run("round", "unlock", "b=u1"), "no lock override 'b=u1'")
    refused(run("round", "unforbid", "a=u1"), "no forbid override 'a=u1'")
    assert [o.action for o in R.round_instance("L.db").overrides] == ["forbid"]
    ok("round", "solve", "-q")
    inst, plan = R.round_plan("L.db")
    assert ("a", "u2") not in {(x.citizen, x.unit) for x in plan.assignments} and check_plan(inst, plan) == []
    assert "round 1 has no overrides" not in ok("round", "overrides")
    ok("round", "unforbid", "a=u2")
    assert ok("round", "overrides").strip() == "round 1 has no overrides"
    res = run("round", "lock", "a=u9")
    assert res.exit_code == 2 and "u9" in res.output


def test_a_lock_that_displaces_a_priority_1_citizen_is_shown_in_solve_status_and_report(here, monkeypatch):
    """Locking q (priority 2) to the one unit costs p1 (priority 1) the place: 'round solve',
    'round overrides', 'round status' and the report say so."""
    monkeypatch.setenv("ANVIS_DB", "L.db")
    ok("round", "open", one_unit())
    out = ok("round", "solve", "--lock", "q=u1", "--note", "medical")
    assert "overrides: 1 lost their place: p1 (priority 1); 1 housed instead: q (priority 2)" in out
    line = ok("round", "overrides").strip()
    assert line.endswith("1 lost their place: p1 (priority 1); 1 housed instead: q (priority 2)")
    status = ok("round", "status")
    assert "override 1\tlock\tq\tu1\tmedical" in status
    assert "open round's overrides: 1 lost their place: p1 (priority 1)" in status
    ok("round", "commit")
    assert "last committed round's overrides: 1 lost their place: p1" in ok("round", "status")
    ok("round", "report", "-o", "r.html", "--lang", "en")
    html = Path("r.html").read_text()
    assert "medical" in html and "lost their" in html and "priority 1: 1" in html


def test_open_warns_once_per_repeat_and_carry_then_open_warns_of_nothing(here, monkeypatch):
    """Opening last week's file again: one warning line per housed citizen and let unit, and the
    round opens. 'round carry' writes who still waits; opening it warns of nothing and keeps
    the waiting times (+ --days)."""
    monkeypatch.setenv("ANVIS_DB", "L.db")
    f = one_unit("w1")
    ok("round", "open", f)
    ok("round", "solve", "-q")
    ok("round", "commit")
    again = write("w1b", [{"id": "p1", "priority": 1}, {"id": "q", "priority": 2}], [{"id": "u1"}])
    res = run("round", "open", again)
    assert res.exit_code == 0, res.output
    warnings = [ln for ln in res.stderr.splitlines() if ln.startswith("warning:")]
    assert warnings == [
        "warning: w1b.json: citizen 'p1' was already housed in unit 'u1' by round 1 ('w1')",
        "warning: w1b.json: unit 'u1' was already let to citizen 'p1' in round 1 ('w1')",
    ]
    ok("round", "abandon")
    assert "1 citizen still waiting (+10 days), 0 held units back offered" in ok(
        "round", "carry", "-o", "next.json", "--days", "10"
    )
    nxt = json.loads(Path("next.json").read_text())
    assert [(c["id"], c["waiting_days"]) for c in nxt["citizens"]] == [("q", 10)]
    nxt["units"] = [{"id": "u2", "department": "D", "rooms": 2, "rent_kr": 3000}]
    Path("next.json").write_text(json.dumps(nxt))
    res = run("round", "open", "next.json")
    assert res.exit_code == 0 and "warning" not in res.stderr, res.output
    assert [c.waiting_days for c in R.round_instance("L.db").citizens] == [10]
    refused(run("round", "carry", "-o", "L.db"), "cannot write")  # never over the ledger


def test_round_help_names_the_ledger_options(here):
    out = ok("round", "--help")
    assert "--db" in out and "ANVIS_DB" in out
    assert "--note" in ok("round", "solve", "--help") and "--note" in ok("round", "open", "--help")


def test_hold_with_a_note_is_listed_and_unhold_removes_it(here, monkeypatch):
    """anvis/2: week 2's first vacancy is the rotation pool's turn. 'round open --hold --note'
    lists it as a hold with the note; 'round unhold' removes it and 'round hold' adds it back."""
    monkeypatch.setenv("ANVIS_DB", "L.db")
    rotation = [{"id": "rot", "municipality": "M", "share": 0.25, "mode": "rotation"}]
    for n, citizens in ((1, 3), (2, 0)):
        d = doc(
            [{"id": f"c{n}-{i}"} for i in range(citizens)],
            [{"id": f"u{n}-{i}", "sequence": i} for i in range(3)],
            agreements=rotation,
        )
        d["format"], d["name"] = "anvis/2", f"w{n}"
        Path(f"w{n}.json").write_text(json.dumps(d))
    for args in (("open", "w1.json"), ("solve", "-q"), ("commit",)):
        ok("round", *args)
    ok("round", "open", "w2.json", "--hold", "u2-0", "--note", "for the Hansen family")
    assert ok("round", "overrides").split("\t")[:5] == ["1", "hold", "-", "u2-0", "for the Hansen family"]
    assert "override 1 removed: hold u2-0" in ok("round", "unhold", "u2-0")
    assert "override 2 added: hold u2-0" in ok("round", "hold", "u2-0", "--note", "after all")
    ok("round", "solve", "-q")
    assert "1 held" in ok("round", "commit")


def test_rounds_speak_danish_by_default(here, monkeypatch):
    """Without --lang (and without ANVIS_LANG) the round commands' lines are Danish: open's warnings,
    the overrides and what they cost, status, commit, carry; ``--lang en`` gives today's English."""
    monkeypatch.delenv("ANVIS_LANG")
    monkeypatch.setenv("ANVIS_DB", "L.db")
    res = run("round", "open", one_unit())
    assert res.exit_code == 0 and res.stderr.startswith("oprettede et nyt regnskab i "), res.output
    out = ok("round", "solve", "--lock", "q=u1", "--note", "lægeerklæring")
    assert "tilsidesættelser: 1 mistede deres plads: p1 (prioritet 1); 1 anvist i stedet: q (prioritet 2)" in out
    line = ok("round", "overrides").strip()
    assert line.startswith("1\tlåst\tq\tu1\tlægeerklæring\tanna")
    assert line.endswith("1 mistede deres plads: p1 (prioritet 1); 1 anvist i stedet: q (prioritet 2)")
    assert "1\tlock\tq\tu1" in ok("round", "overrides", "--lang", "en")
    status = ok("round", "status")
    assert "åben runde: 1 'w1' løst" in status and "senest godkendte: ingen" in status
    assert "tilsidesættelse 1\tlåst\tq\tu1" in status
    assert "den åbne rundes tilsidesættelser: 1 mistede deres plads: p1 (prioritet 1)" in status
    assert "open round: 1 'w1' solved" in ok("round", "status", "--lang", "en")
    assert "tilsidesættelse 2 tilføjet: forbudt p1=u1 (løs runden igen)" in ok("round", "forbid", "p1=u1")
    assert "tilsidesættelse 2 fjernet: forbudt p1=u1 (løs runden igen)" in ok("round", "unforbid", "p1=u1")
    ok("round", "solve", "-q")
    assert ok("round", "commit").strip() == "runde 1 ('w1') godkendt: 1 anvisninger"
    status = ok("round", "status")
    assert "senest godkendte: 1 'w1' godkendt af anna " in status
    assert "pulje " in status and "ledige" in status and "ledger" not in status
    res = run("round", "open", one_unit("w1b"))
    warnings = [ln for ln in res.stderr.splitlines() if ln.startswith("advarsel:")]
    assert warnings == [
        "advarsel: w1b.json: borger 'q' blev allerede anvist bolig 'u1' i runde 1 ('w1')",
        "advarsel: w1b.json: bolig 'u1' blev allerede udlejet til borger 'q' i runde 1 ('w1')",
    ]
    assert ok("round", "abandon").strip() == "runde 2 ('w1b') opgivet"
    out = ok("round", "carry", "-o", "next.json", "--days", "10")
    assert out.strip() == "next.json: 1 borger venter stadig (+10 dage), 0 holdte boliger tilbage som tilbudt"
    out = ok("round", "carry", "-o", "next2.json", "--days", "10", "--lang", "en")
    assert out.strip() == "next2.json: 1 citizen still waiting (+10 days), 0 held units back offered"
