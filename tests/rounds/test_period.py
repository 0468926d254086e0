"""Frame periods in the ledger: new_period zeroes frames, quotas and mixed-city caps, not pools."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import models
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R

from conftest import doc

TABLES = {
    "agreements": [{"id": "all", "municipality": "M", "share": 1.0}],
    "regions": [{"id": "R", "name": "R", "grant_quota": 3}],
    "municipalities": [{"id": "M", "name": "M", "region": "R", "subsidy_frame": 2}],
    "departments": [{"id": "D", "organisation": "O", "municipality": "M", "max_vulnerable": 2}],
}


def subsidised_week(n: int, k: int) -> models.Instance:
    """Week n: k units at 5,000 kr in pool 'all' and k vulnerable, subsidy-eligible citizens who can pay 4,000."""
    d = doc(
        [{"id": f"c{n}-{i}", "max_rent_kr": 4000, "subsidy_eligible": True, "vulnerable": True} for i in range(k)],
        [{"id": f"u{n}-{i}", "rent_kr": 5000} for i in range(k)],
        **TABLES,
    )
    d["name"] = f"week-{n}"
    return models.from_dict(d)


def run_week(db: str, inst: models.Instance) -> tuple[models.Instance, models.Plan]:
    _, filled = R.open_round(db, inst)
    plan, _ = R.solve_round(db)
    R.commit_round(db, by="tester")
    return filled, plan


def limits(inst: models.Instance) -> tuple:
    return inst.municipalities[0].subsidy_frame, inst.regions[0].grant_quota, inst.departments[0].max_vulnerable


def snapshot(db: str) -> dict:
    with L.open_engine(db).begin() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in (L.totals, L.effects)}


def test_new_period_zeroes_frames_quotas_and_caps_but_not_pools(db):
    """After two subsidised, vulnerable placements the next round sees frame 0, quota 1, cap 0; after
    new_period it sees the full frame 2, quota 3 and cap 2 again, while the pool keeps its
    vacancies and claims (the share counts over time)."""
    run_week(db, subsidised_week(1, 2))
    t = R.ledger_totals(db)
    assert t["municipality"]["M"]["claimed"] == 2 and t["region"]["R"]["claimed"] == 2
    assert t["department"]["D"]["claimed"] == 2 and t["pool"]["all"] == {"vacancies": 2, "claimed": 2}
    _, f = R.open_round(db, subsidised_week(2, 1))
    assert limits(f) == (0, 1, 0)
    R.abandon_round(db)
    done = R.new_period(db, by="planner")
    assert done["kinds"] == ["frame", "quota", "department"]
    assert done["reset"] == {"municipality": {"M": 2}, "region": {"R": 2}, "department": {"D": 2}}
    t = R.ledger_totals(db)
    assert t["municipality"]["M"]["claimed"] == 0 and t["region"]["R"]["claimed"] == 0
    assert t["department"]["D"]["claimed"] == 0
    assert t["pool"]["all"] == {"vacancies": 2, "claimed": 2}
    filled, plan = run_week(db, subsidised_week(2, 1))
    assert limits(filled) == (2, 3, 2)
    assert models.pools(filled)["all"].vacancies_before == 2 and models.pools(filled)["all"].claimed_before == 2
    assert len(plan.assignments) == 1 and plan.assignments[0].subsidised
    assert R.ledger_totals(db)["municipality"]["M"]["claimed"] == 1


def test_new_period_resets_only_the_chosen_kinds(db):
    """new_period(kinds=("frame",)) zeroes the municipalities' frames only; quotas and caps keep counting."""
    run_week(db, subsidised_week(1, 2))
    done = R.new_period(db, kinds=("frame",))
    assert done["reset"] == {"municipality": {"M": 2}}
    t = R.ledger_totals(db)
    assert (t["municipality"]["M"]["claimed"], t["region"]["R"]["claimed"], t["department"]["D"]["claimed"]) == (
        0,
        2,
        2,
    )
    with pytest.raises(ValueError, match="kinds"):
        R.new_period(db, kinds=("pool",))
    with pytest.raises(ValueError, match="kinds"):
        R.new_period(db, kinds=())


def test_new_period_refused_while_a_round_is_open(db):
    """A round opened (or solved) and not committed blocks a new period; the ledger is untouched."""
    run_week(db, subsidised_week(1, 1))
    R.open_round(db, subsidised_week(2, 1))
    before = snapshot(db)
    with pytest.raises(L.LedgerError, match="before starting a new period"):
        R.new_period(db)
    R.solve_round(db)
    with pytest.raises(L.LedgerError, match="is solved"):
        R.new_period(db)
    assert snapshot(db) == before
    R.abandon_round(db)
    R.new_period(db)


def test_new_period_is_recorded_in_history_with_what_it_zeroed(db):
    """The reset is a history entry (status new_period, who, when) between the rounds, and its
    effects record exactly the counts it zeroed, as negative claims."""
    run_week(db, subsidised_week(1, 2))
    done = R.new_period(db, kinds=("quota", "department"), by="anna")
    run_week(db, subsidised_week(2, 1))
    hist = R.history(db)
    assert [h["status"] for h in hist] == ["committed", "new_period", "committed"]
    entry = hist[1]
    assert entry["id"] == done["id"] and entry["name"] == "new period: quota, department"
    assert entry["committed_by"] == "anna" and entry["committed_at"]
    with L.open_engine(db).begin() as conn:
        rows = conn.execute(
            select(L.effects.c.kind, L.effects.c.key, L.effects.c.vacancies, L.effects.c.claimed)
            .where(L.effects.c.round_id == done["id"])
            .order_by(L.effects.c.kind)
        ).all()
    assert [tuple(r) for r in rows] == [("department", "D", 0, -2), ("region", "R", 0, -2)]
    assert R.status(db)["rounds"] == {"committed": 2, "new_period": 1}


def test_rollback_refused_for_a_round_committed_before_the_reset(db):
    """Rolling back a round committed before a period reset is refused with a clear message and
    changes nothing; a round committed after the reset rolls back normally (exactly), and then
    the older round is refused again."""
    run_week(db, subsidised_week(1, 2))
    R.new_period(db)
    before = snapshot(db)
    with pytest.raises(L.LedgerError, match=r"round 1 \('week-1'\) was committed before the new period"):
        R.rollback_round(db)
    assert snapshot(db) == before
    run_week(db, subsidised_week(2, 1))
    assert R.rollback_round(db)["id"] == 3
    after = snapshot(db)
    assert [r for r in after["effects"] if r[0] != 3] == before["effects"]
    assert R.ledger_totals(db).get("municipality", {}).get("M", {"claimed": 0})["claimed"] == 0
    assert R.ledger_totals(db)["pool"]["all"] == {"vacancies": 2, "claimed": 2}
    with pytest.raises(L.LedgerError, match="before the new period"):
        R.rollback_round(db)
    assert [h["status"] for h in R.history(db)] == ["committed", "new_period", "rolled_back"]


def test_cli_round_new_period(tmp_path, monkeypatch):
    """``anvis round new-period`` zeroes the chosen kinds and reports it; choosing none exits 2;
    history lists the reset; a rollback across it exits 2 with the reason on one line."""
    from optimizer.cli import main

    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "l.db")
    run_week(db, subsidised_week(1, 2))
    L.dispose_all()
    runner = CliRunner()
    res = runner.invoke(main, ["round", "new-period", "--db", db, "--no-frames", "--no-quotas", "--no-departments"])
    assert res.exit_code == 2 and "nothing to reset" in res.output
    res = runner.invoke(
        main, ["round", "new-period", "--db", db, "--frames", "--quotas", "--no-departments", "--by", "bo"]
    )
    assert res.exit_code == 0, res.output
    assert "ny periode startet (frame, quota) som post 2: 2 tællinger nulstillet" in res.output  # Danish by default
    t = R.ledger_totals(db)
    assert (t["municipality"]["M"]["claimed"], t["region"]["R"]["claimed"], t["department"]["D"]["claimed"]) == (
        0,
        0,
        2,
    )
    res = runner.invoke(main, ["round", "history", "--db", db])
    assert res.exit_code == 0
    assert res.output.splitlines()[1].split("\t")[1:3] == ["new period: frame, quota", "ny periode"]
    assert " af bo " in res.output.splitlines()[1]
    res = runner.invoke(main, ["round", "rollback", "--db", db])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "before the new period" in res.output
    R.open_round(db, subsidised_week(2, 1))
    res = runner.invoke(main, ["round", "new-period", "--db", db])
    assert res.exit_code == 2 and "commit or abandon it" in res.output
    L.dispose_all()
