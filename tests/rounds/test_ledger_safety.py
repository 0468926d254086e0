"""The ledger never loses or invents data through the command line (issue 10): no command but
``round open`` starts a ledger, a damaged ledger is one clear line, a server that does not
answer fails fast, abandoned rounds' data can be purged, and a commit that lost a race says so.

Every refusal: exit 2, one line on stderr, no traceback, and the ledger as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update

import models
from optimizer.cli import main
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R

from conftest import doc

ROOT = Path(__file__).resolve().parents[2]
ANVIS = Path(sys.executable).with_name("anvis")


@pytest.fixture(autouse=True)
def _dispose():
    yield
    L.dispose_all()


def run(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def week(n: int, marker: str = "") -> dict:
    d = doc([{"id": f"c{n}-{i}{marker}"} for i in range(3)], [{"id": f"u{n}-{i}"} for i in range(3)], agreements=[])
    d["name"] = f"week-{n}"
    return d


def write_week(n: int, marker: str = "") -> str:
    path = f"w{n}.json"
    Path(path).write_text(json.dumps(week(n, marker)))
    return path


def assert_refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for w in words:
        assert w in lines[0], lines[0]


def ok(*args: str):
    res = run(*args)
    assert res.exit_code == 0, res.output
    return res


READERS = {
    "status": ["round", "status"],
    "history": ["round", "history"],
    "solve": ["round", "solve", "-q"],
    "commit": ["round", "commit"],
    "rollback": ["round", "rollback"],
    "abandon": ["round", "abandon"],
    "report": ["round", "report", "-o", "r.html"],
    "explain": ["round", "explain", "c1-0"],
    "new-period": ["round", "new-period"],
    "purge": ["round", "purge", "--abandoned"],
    "subsidies": ["round", "subsidies"],
}


# --------------------------------------------------------------------------- 4. missing, empty, damaged


@pytest.mark.parametrize("args", READERS.values(), ids=READERS.keys())
def test_a_mistyped_ledger_is_never_created(tmp_path, monkeypatch, args):
    """Every command but ``round open`` refuses a ledger that does not exist, and creates nothing."""
    monkeypatch.chdir(tmp_path)
    res = run(*args, "--db", "mistyped.db")
    assert_refused(res, "mistyped.db", "no such ledger", "round open")
    assert os.listdir(tmp_path) == []


def test_round_open_says_when_it_starts_a_ledger(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANVIS_LANG", "en")  # the English lines (Danish: tests/cli/test_round_cli.py)
    res = ok("round", "open", write_week(1), "--db", "new.db")
    assert res.stdout == "1\n" and res.stderr == f"created a new ledger at {tmp_path / 'new.db'}\n"
    ok("round", "abandon", "--db", "new.db")
    res = ok("round", "open", write_week(2), "--db", "new.db")
    assert res.stdout == "2\n" and res.stderr == ""


@pytest.mark.parametrize("args", [*READERS.values(), ["round", "open", "w1.json"]], ids=[*READERS, "open"])
def test_an_empty_schema_table_is_a_damaged_ledger(tmp_path, monkeypatch, args):
    """A ledger whose schema_version rows were deleted is not migrated again (that would start it
    over beside its rounds): every command says it is damaged, and changes nothing."""
    monkeypatch.chdir(tmp_path)
    ok("round", "open", write_week(1), "--db", "L.db")
    with L.transaction("L.db", write=True) as conn:
        conn.execute(delete(L.schema_version))
    L.dispose_all()
    before = Path("L.db").read_bytes()
    assert_refused(run(*args, "--db", "L.db"), "schema_version table is empty", "damaged")
    assert Path("L.db").read_bytes() == before


@pytest.mark.parametrize("args", [*READERS.values(), ["round", "open", "w1.json"]], ids=[*READERS, "open"])
def test_another_programs_database_is_not_a_ledger(tmp_path, monkeypatch, args):
    """An SQLite file with other tables and no schema_version: refused, by ``round open`` too."""
    import sqlite3

    monkeypatch.chdir(tmp_path)
    write_week(1)
    with sqlite3.connect("other.db") as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    before = Path("other.db").read_bytes()
    assert_refused(run(*args, "--db", "other.db"), "other.db", "not an anvis ledger")
    assert Path("other.db").read_bytes() == before


@pytest.mark.parametrize("args", READERS.values(), ids=READERS.keys())
def test_an_empty_file_is_not_a_ledger(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    Path("empty.db").touch()
    assert_refused(run(*args, "--db", "empty.db"), "empty.db", "empty file, not an anvis ledger")
    assert Path("empty.db").stat().st_size == 0


def test_round_open_starts_a_ledger_in_an_empty_file(tmp_path, monkeypatch):
    """``touch L.db; anvis round open`` is a new ledger (the file holds nothing to lose)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANVIS_LANG", "en")
    Path("L.db").touch()
    res = ok("round", "open", write_week(1), "--db", "L.db")
    assert "created a new ledger" in res.stderr


def test_a_folder_is_not_a_ledger(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("d").mkdir()
    assert_refused(run("round", "open", write_week(1), "--db", "d"), "a folder, not a ledger file")
    assert_refused(run("round", "status", "--db", "d"), "d")


@pytest.mark.parametrize(
    ("column", "args", "status"),
    [
        # report and explain show the latest committed round unless --round names another
        ("plan_json", ["round", "report", "-o", "r.html", "--round", "1"], "solved"),
        ("plan_json", ["round", "explain", "c1-0", "--round", "1"], "solved"),
        ("plan_json", ["round", "commit"], "solved"),
        ("instance_json", ["round", "solve", "-q"], "solved"),
        ("instance_json", ["round", "report", "-o", "r.html", "--round", "1"], "solved"),
    ],
)
def test_corrupt_json_in_a_ledger_row_is_one_line(tmp_path, monkeypatch, column, args, status):
    """A round row whose stored instance or plan is not JSON: exit 2, one line, the ledger untouched."""
    monkeypatch.chdir(tmp_path)
    ok("round", "open", write_week(1), "--db", "L.db")
    ok("round", "solve", "-q", "--db", "L.db")
    with L.transaction("L.db", write=True) as conn:
        conn.execute(update(L.rounds).values({column: '{"format": "anvis/1", "citizens": [tru'}))
    L.dispose_all()
    before = Path("L.db").read_bytes()
    res = run(*args, "--db", "L.db")
    assert_refused(res, "not valid JSON", "damaged")
    assert Path("L.db").read_bytes() == before
    assert not Path("r.html").exists()
    assert [r["status"] for r in R.history("L.db")] == [status]


def test_postgres_connection_fails_fast_with_one_line(tmp_path):
    """A PostgreSQL URL to a closed port: one line, exit 2, in seconds (not a hang)."""
    start = time.monotonic()
    res = run("round", "status", "--db", "postgresql://anvis:pw@127.0.0.1:9/ledger")
    assert time.monotonic() - start < L.CONNECT_TIMEOUT_S + 5
    assert_refused(res, "ledger database", "127.0.0.1")
    assert "pw" not in res.stderr


def test_postgres_engine_has_a_connect_timeout(monkeypatch):
    """The engine of a server URL gets connect_timeout (a dropped packet would otherwise hang for minutes)."""
    seen = {}

    def fake(url, **kwargs):
        seen.update(kwargs)
        raise L.LedgerError("stop")

    monkeypatch.setattr(L, "create_engine", fake)
    with pytest.raises(L.LedgerError, match="stop"):
        L.open_engine("postgresql://anvis:pw@10.255.255.1/ledger")
    assert seen["connect_args"] == {"connect_timeout": L.CONNECT_TIMEOUT_S} and L.CONNECT_TIMEOUT_S == 10


# --------------------------------------------------------------------------- 12. purge


def test_purge_removes_abandoned_rounds_data_and_keeps_their_rows(tmp_path, monkeypatch):
    """``round purge --abandoned`` empties the stored instance and plan of every abandoned round
    (their citizens leave the file), keeps the rows as 'purged' in history with a purge entry,
    and leaves committed rounds whole."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USER", "dpo")
    db = "L.db"
    ok("round", "open", write_week(1, "-secret"), "--db", db)
    ok("round", "solve", "-q", "--db", db)
    ok("round", "abandon", "--db", db)
    ok("round", "open", write_week(2), "--db", db)
    ok("round", "solve", "-q", "--db", db)
    ok("round", "commit", "--db", db)
    ok("round", "open", write_week(3, "-secret"), "--db", db)
    ok("round", "abandon", "--db", db)
    L.dispose_all()
    assert b"-secret" in Path(db).read_bytes()
    inst, plan = R.round_plan(db, 2)
    committed = (inst.to_dict(), plan)
    res = ok("round", "purge", "--abandoned", "--db", db, "--lang", "en")
    assert res.stdout == "purged 2 abandoned rounds (1, 3) as entry 4\n"
    L.dispose_all()
    assert b"-secret" not in Path(db).read_bytes()
    with L.transaction(db) as conn:
        rows = conn.execute(select(L.rounds).order_by(L.rounds.c.id)).all()
    assert [(r.id, r.status) for r in rows] == [(1, "purged"), (2, "committed"), (3, "purged"), (4, "purge")]
    assert [(r.instance_json, r.plan_json) for r in rows if r.status == "purged"] == [("{}", None)] * 2
    assert rows[3].name == "purged abandoned rounds 1, 3" and rows[3].committed_by == "dpo"
    inst, plan = R.round_plan(db, 2)
    assert (inst.to_dict(), plan) == committed
    hist = ok("round", "history", "--db", db, "--lang", "en").stdout.splitlines()
    assert [h.split("\t")[:3] for h in hist] == [
        ["1", "week-1", "purged"],
        ["2", "week-2", "committed"],
        ["3", "week-3", "purged"],
        ["4", "purged abandoned rounds 1, 3", "purge"],
    ]
    danish = ok("round", "history", "--db", db).stdout.splitlines()  # Danish by default
    assert [h.split("\t")[2] for h in danish] == [
        "opgivet (data slettet)",
        "godkendt",
        "opgivet (data slettet)",
        "sletning af data",
    ]
    assert " af dpo " in danish[1]
    assert_refused(run("round", "report", "--round", "1", "-o", "r.html", "--db", db), "round 1", "purged")
    assert ok("round", "purge", "--abandoned", "--db", db).stdout == "ingen opgivet runde at slette\n"
    ok("round", "open", write_week(4), "--db", db)  # the ledger goes on
    assert "no open round" not in ok("round", "status", "--db", db).stdout


def test_purge_says_what_to_purge(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ok("round", "open", write_week(1), "--db", "L.db")
    res = run("round", "purge", "--db", "L.db")
    assert res.exit_code == 2 and "--abandoned" in res.output


def test_a_purged_round_has_no_instance(tmp_path):
    db = str(tmp_path / "L.db")
    rid, _ = R.open_round(db, models.from_dict(week(1)))
    R.abandon_round(db)
    assert R.purge_abandoned(db, by="me")["rounds"] == [rid]
    with pytest.raises(L.LedgerError, match=r"round 1 \('week-1'\) is purged, not"):
        R.round_instance(db, rid)


# --------------------------------------------------------------------------- 15. the loser of a commit race


def test_commit_after_a_commit_says_the_round_was_just_committed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USER", "winner")
    ok("round", "open", write_week(1), "--db", "L.db")
    ok("round", "solve", "-q", "--db", "L.db")
    ok("round", "commit", "--db", "L.db")
    res = run("round", "commit", "--db", "L.db")
    assert_refused(res, "no open round", "round 1 ('week-1') was just committed by winner")


def test_no_open_round_says_what_became_of_the_last(tmp_path):
    db = str(tmp_path / "L.db")
    R.open_round(db, models.from_dict(week(1)))
    R.abandon_round(db)
    with pytest.raises(L.LedgerError, match=r"no open round: round 1 \('week-1'\) is abandoned"):
        R.commit_round(db)
    with L.transaction(db, write=True) as conn:  # a commit of long ago is not "just" committed
        conn.execute(text("UPDATE rounds SET status = 'committed', committed_at = '2020-01-01T00:00:00+00:00'"))
    with pytest.raises(L.LedgerError, match=r"round 1 \('week-1'\) was committed by None at 2020"):
        R.commit_round(db)


def test_two_concurrent_cli_commits_the_loser_is_told_it_was_just_committed(tmp_path):
    """Two ``anvis round commit`` at once: one commits, the other waits for the lock and is told
    that round 1 was just committed (not merely "no open round")."""
    db = str(tmp_path / "L.db")
    R.open_round(db, models.from_dict(week(1)))
    R.solve_round(db)
    L.dispose_all()
    env = dict(os.environ, **{R.SLEEP_ENV: "1"})
    procs = [
        subprocess.Popen(
            [str(ANVIS), "round", "commit", "--db", db, "--by", f"p{i}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    loser = next(err for p, (_, err) in zip(procs, outs, strict=True) if p.returncode == 2)
    lines = [ln for ln in loser.splitlines() if R.SLEEP_ENV not in ln]
    assert len(lines) == 1 and "round 1 ('week-1') was just committed by p" in lines[0], loser
    assert "Traceback" not in loser
