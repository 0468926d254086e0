"""Weekly rounds over the ledger: arithmetic, refusals, rollback, crash and race safety, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import models
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R

from conftest import doc

ROOT = Path(__file__).resolve().parents[2]
#: Child processes import anvis from this checkout (and whatever else the parent's path holds).
CHILD_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
POOL = "default:M:O"


@pytest.fixture
def sqlite_db(tmp_path):
    """A fresh SQLite ledger file."""
    yield str(tmp_path / "ledger.db")
    L.dispose_all()


def week(n: int, units: int = 3, citizens: int = 3, **tables) -> models.Instance:
    """Week n: ``units`` vacancies in the one default pool (share 0.25), fresh ids so every week differs."""
    tables.setdefault("agreements", [])
    d = doc([{"id": f"c{n}-{i}"} for i in range(citizens)], [{"id": f"u{n}-{i}"} for i in range(units)], **tables)
    d["name"] = f"week-{n}"
    return models.from_dict(d)


def snapshot(db: str) -> dict:
    """Every row of the ledger tables (totals and effects), for exact comparison."""
    with L.open_engine(db).begin() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in (L.totals, L.effects)}


def run_week(db: str, inst: models.Instance) -> tuple[int, models.Instance, models.Plan]:
    rid, filled = R.open_round(db, inst)
    plan, _ = R.solve_round(db)
    R.commit_round(db, by="tester")
    return rid, filled, plan


def pool_cap_in(plan: models.Plan, pool: str = POOL) -> tuple[int, int]:
    assert plan.usage is not None
    p = next(p for p in plan.usage.pools if p.id == pool)
    return p.cap, p.used


def test_share_counts_every_fourth_vacancy_over_three_rounds(db):
    """3 vacancies a week in a default pool (share 0.25): the solver sees caps 0, 1, 1 and the
    ledger accumulates vacancies 3, 6, 9 and claims 0, 1, 2."""
    expected = [  # (vacancies_before, claimed_before, cap) seen by the solver; ledger after
        (0, 0, 0, (3, 0)),
        (3, 0, 1, (6, 1)),
        (6, 1, 1, (9, 2)),
    ]
    for n, (vb, cb, cap, after) in enumerate(expected, 1):
        rid, filled, plan = run_week(db, week(n))
        assert rid == n
        pool = models.pools(filled)[POOL]
        assert (pool.vacancies_before, pool.claimed_before, pool.vacancies, pool.cap) == (vb, cb, 3, cap)
        assert pool_cap_in(plan) == (cap, cap)  # every cap is used: there are enough citizens
        assert R.ledger_totals(db)["pool"][POOL] == {"vacancies": after[0], "claimed": after[1]}
    # Week 4 would see floor(0.25 * 12) - 2 = 1, and the filled instance's quota stays unlimited.
    _, filled = R.open_round(db, week(4))
    assert models.pools(filled)[POOL].cap == 1
    assert filled.regions[0].grant_quota is None


def test_frames_quotas_and_department_caps_shrink(sqlite_db):
    """Committed subsidised and vulnerable placements shrink the next rounds' frame, quota and
    mixed-city cap (never below 0); an unlimited quota stays unlimited."""
    db = sqlite_db
    tables = {
        "agreements": [{"id": "all", "municipality": "M", "share": 1.0}],
        "regions": [{"id": "R", "name": "R", "grant_quota": 3}, {"id": "R2", "name": "R2"}],
        "municipalities": [{"id": "M", "name": "M", "region": "R", "subsidy_frame": 2}],
        "departments": [{"id": "D", "organisation": "O", "municipality": "M", "max_vulnerable": 2}],
    }

    def subsidised_week(n, k):
        inst = week(n, units=k, citizens=k, **tables)
        d = inst.to_dict()
        for u in d["units"]:
            u["rent_kr"] = 5000
        for c in d["citizens"]:
            c.update(max_rent_kr=4000, subsidy_eligible=True, vulnerable=True)
        return models.from_dict(d)

    _, f1, p1 = run_week(db, subsidised_week(1, 1))
    assert (f1.municipalities[0].subsidy_frame, f1.regions[0].grant_quota, f1.departments[0].max_vulnerable) == (
        2,
        3,
        2,
    )
    assert len(p1.assignments) == 1 and p1.assignments[0].subsidised
    _, f2, p2 = run_week(db, subsidised_week(2, 3))
    assert (f2.municipalities[0].subsidy_frame, f2.regions[0].grant_quota, f2.departments[0].max_vulnerable) == (
        1,
        2,
        1,
    )
    assert len(p2.assignments) == 1
    _, f3 = R.open_round(db, subsidised_week(3, 2))
    assert (f3.municipalities[0].subsidy_frame, f3.regions[0].grant_quota, f3.departments[0].max_vulnerable) == (
        0,
        1,
        0,
    )
    assert f3.regions[1].grant_quota is None
    t = R.ledger_totals(db)
    assert t["municipality"]["M"]["claimed"] == 2 and t["region"]["R"]["claimed"] == 2
    assert t["department"]["D"]["claimed"] == 2 and t["pool"]["all"] == {"vacancies": 4, "claimed": 2}
    # Frames 2 - 2 = 0 is the floor: nothing subsidised can be housed in week 3.
    plan, _ = R.solve_round(db)
    assert plan.assignments == ()


def test_double_commit_refused_and_rollback_restores_exactly(sqlite_db):
    """A round commits once; an instance already committed cannot be opened or committed again;
    a second open round is refused; rollback restores the ledger tables row for row."""
    db = sqlite_db
    run_week(db, week(1))
    run_week(db, week(2))
    before = snapshot(db)
    rid, _ = R.open_round(db, week(3))
    with pytest.raises(L.LedgerError, match="is opened"):
        R.open_round(db, week(4))
    with pytest.raises(L.LedgerError, match="not solved"):
        R.commit_round(db)
    R.solve_round(db)
    R.commit_round(db, rid)
    after = snapshot(db)
    assert after != before
    with pytest.raises(L.LedgerError, match="committed"):
        R.commit_round(db, rid)
    with pytest.raises(L.LedgerError, match="already committed as round 1"):
        R.open_round(db, week(1))
    assert snapshot(db) == after
    assert R.rollback_round(db)["id"] == rid
    assert snapshot(db) == before
    assert [r["status"] for r in R.history(db)] == ["committed", "committed", "rolled_back"]
    # The rolled-back week can be run again and gives the same ledger as its first commit.
    run_week(db, week(3))
    assert snapshot(db)["totals"] == after["totals"]


CHILD = """
import sys
from optimizer.rounds.workflow import commit_round, LedgerError
try:
    commit_round(sys.argv[1], int(sys.argv[3]), by=sys.argv[2])
except LedgerError as exc:
    print("REFUSED", exc, flush=True)
    sys.exit(3)
print("OK", flush=True)
"""


def child(db: str, by: str, sleep: float, round_id: int = 2) -> subprocess.Popen:
    """A python process committing round ``round_id``, sleeping ``sleep`` s inside the transaction."""
    env = dict(CHILD_ENV, **{R.SLEEP_ENV: str(sleep)})
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, db, by, str(round_id)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_mid_commit_leaves_ledger_unchanged(db):
    """SIGKILL of a process sleeping inside the commit transaction (after its first update)
    leaves the ledger exactly as before; a normal commit then gives exactly the committed state."""
    run_week(db, week(1))
    R.open_round(db, week(2))
    R.solve_round(db)
    before = snapshot(db)
    proc = child(db, "victim", 60)
    try:
        line = proc.stderr.readline()
        assert R.SLEEP_ENV in line, line + proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    L.dispose_all()
    assert snapshot(db) == before
    assert R.status(db)["open"]["status"] == "solved"
    R.commit_round(db, by="survivor")
    assert R.ledger_totals(db)["pool"][POOL] == {"vacancies": 6, "claimed": 1}
    assert R.status(db)["last_committed"]["committed_by"] == "survivor"


def test_two_processes_commit_the_same_round_once(db):
    """Two processes commit the same round at once: one succeeds, the other is refused
    (it waited for the write lock, then saw it committed), and the claim counts once."""
    run_week(db, week(1))
    R.open_round(db, week(2))
    R.solve_round(db)
    L.dispose_all()
    procs = [child(db, f"p{i}", 1.5) for i in range(2)]
    outs = [p.communicate(timeout=30) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], outs
    assert any("REFUSED" in o and "committed" in o for o, _ in outs), outs
    assert R.ledger_totals(db)["pool"][POOL] == {"vacancies": 6, "claimed": 1}
    with L.open_engine(db).begin() as conn:
        assert conn.execute(select(L.effects.c.round_id).distinct().order_by(L.effects.c.round_id)).scalars().all() == [
            1,
            2,
        ]
    assert [r["status"] for r in R.history(db)] == ["committed", "committed"]


OPENER = """
import sys
import models
from optimizer.rounds.workflow import open_round, LedgerError
try:
    rid, _ = open_round(sys.argv[1], models.load(sys.argv[2]))
except LedgerError as exc:
    print("REFUSED", exc, flush=True)
    sys.exit(3)
print("OK", rid, flush=True)
"""


def test_two_processes_open_rounds_at_once_one_wins(sqlite_db, tmp_path):
    """Two processes open different rounds at once on a fresh file: the schema is migrated
    once, exactly one round opens and the other is refused."""
    db = sqlite_db
    paths = []
    for n in (1, 2):
        p = tmp_path / f"w{n}.json"
        models.save(week(n), p)
        paths.append(p)
    env = CHILD_ENV
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, db, str(p)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in paths
    ]
    outs = [p.communicate(timeout=30) for p in procs]
    assert sorted(p.returncode for p in procs) == [0, 3], outs
    assert len(R.history(db)) == 1
    with L.open_engine(db).begin() as conn:
        assert conn.execute(select(L.schema_version.c.version)).scalars().all() == list(range(1, len(L.MIGRATIONS) + 1))


def test_schema_version_recorded_and_migrations_not_rerun(sqlite_db, monkeypatch):
    """A new ledger records every schema version (1 first); reopening runs no migration; a new
    migration appended to the list is applied once, in order, and recorded."""
    db = sqlite_db
    L.open_engine(db)
    with L.open_engine(db).begin() as conn:
        rows = conn.execute(select(L.schema_version.c.version, L.schema_version.c.name)).all()
    n = len(L.MIGRATIONS)
    assert [name for _, name in rows] == ["m1_initial", "m2_rotation", "m3_subsidies", "m4_overrides"]
    assert [tuple(r) for r in rows] == [(i + 1, m.__name__.lstrip("_")) for i, m in enumerate(L.MIGRATIONS)]
    calls = []

    def boom(conn):
        calls.append("m1")
        raise AssertionError("a migration re-run")

    def m_next(conn):
        calls.append("next")

    monkeypatch.setattr(L, "MIGRATIONS", [boom] * n + [m_next])
    L.dispose_all()
    L.open_engine(db)
    L.dispose_all()
    L.open_engine(db)
    assert calls == ["next"]
    with L.open_engine(db).begin() as conn:
        assert conn.execute(select(L.schema_version.c.version)).scalars().all() == list(range(1, n + 2))
    assert R.status(db)["schema_version"] == n + 1


def test_cli_round_open_solve_commit_status_history_rollback(tmp_path, monkeypatch):
    """The ``anvis round`` commands end to end; refusals are one line with exit 2."""
    from optimizer.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USER", "cli-user")
    monkeypatch.setenv("ANVIS_LANG", "en")  # the English lines (Danish: tests/cli/test_round_cli.py)
    monkeypatch.setenv("ANVIS_DB", "anvis-ledger.db")  # the round commands have no default ledger
    models.save(week(1), "w1.json")
    models.save(week(2), "w2.json")
    runner = CliRunner()

    def ok(*args):
        res = runner.invoke(main, list(args))
        assert res.exit_code == 0, res.output
        return res.stdout  # stderr says when 'round open' starts the ledger

    assert ok("round", "open", "w1.json", "-o", "filled.json").strip() == "1"
    assert json.loads(Path("filled.json").read_text())["name"] == "week-1"
    out = ok("round", "solve", "-o", "plan.json")
    assert "week-1" in out and json.loads(Path("plan.json").read_text())["status"] == "optimal"
    assert "committed: 0 claims" in ok("round", "commit")
    ok("round", "open", "w2.json")
    ok("round", "solve", "-q")
    assert "committed: 1 claims" in ok("round", "commit", "--by", "anna")
    status = ok("round", "status")
    assert f"schema version {len(L.MIGRATIONS)}" in status and "by anna" in status
    assert f"pool {POOL}: 6 vacancies, 1 claimed" in status
    hist = ok("round", "history").splitlines()
    assert [h.split("\t")[:3] for h in hist] == [["1", "week-1", "committed"], ["2", "week-2", "committed"]]
    assert "by cli-user" in hist[0]
    res = runner.invoke(main, ["round", "commit"])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "no open round" in res.output
    assert "round 2 ('week-2') rolled back" in ok("round", "rollback")
    assert f"pool {POOL}: 3 vacancies, 0 claimed" in ok("round", "status")
    assert Path("anvis-ledger.db").exists()
    res = runner.invoke(main, ["round", "status", "--db", str(tmp_path / "no" / "such" / "x.db")])
    assert res.exit_code == 2 and "does not exist" in res.output
