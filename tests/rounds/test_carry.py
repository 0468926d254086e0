"""Rounds that carry over (issue 14): holds as overrides, warnings about repeats, next week's instance."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

import models
from optimizer.check import check_plan
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R

from conftest import doc

ROTATION = [{"id": "rot", "municipality": "M", "share": 0.25, "mode": "rotation"}]


@pytest.fixture
def db(tmp_path):
    yield str(tmp_path / "ledger.db")
    L.dispose_all()


def week(n: int, units: int = 3, citizens: int = 3, **tables) -> models.Instance:
    """Week n of anvis/2: ``units`` vacancies of the rotation pool 'rot' (share 1/4) and ``citizens`` citizens."""
    d = doc(
        [{"id": f"c{n}-{i}", "priority": 1 + i % 2} for i in range(citizens)],
        [{"id": f"u{n}-{i}", "rent_kr": 3000 + 100 * i, "sequence": i} for i in range(units)],
        **({"agreements": ROTATION} | tables),
    )
    d["format"], d["name"] = "anvis/2", f"week-{n}"
    return models.from_dict(d)


def commit(db: str, inst: models.Instance) -> models.Plan:
    R.open_round(db, inst)
    plan, _ = R.solve_round(db)
    R.commit_round(db, by="tester")
    return plan


def test_a_hold_is_an_override_that_can_be_removed(db):
    """Week 2's first vacancy is the pool's turn: holding it with a note lists it as a hold and
    records the hold; removing it removes the hold, so the commit passes the turn instead."""
    commit(db, week(1))
    R.open_round(db, week(2, citizens=0))
    e = R.add_override(db, "hold", "u2-0", note="waiting for a family of five", by="anna")
    assert (e["n"], e["kind"], e["citizen"], e["unit"], e["note"]) == (1, "hold", None, "u2-0", e["note"])
    assert [(o.action, o.note) for o in R.round_instance(db).overrides] == [("reserve", "waiting for a family of five")]
    with pytest.raises(L.LedgerError, match="cannot hold unit"):
        R.add_override(db, "hold", "u2-1")  # not a turn
    R.remove_override(db, 1)
    assert R.round_overrides(db) == [] and R.round_instance(db).overrides == ()
    R.solve_round(db)
    done = R.commit_round(db)
    assert (done["held"], done["passed"]) == (0, 1)


def test_open_warns_about_citizens_housed_and_units_let_in_committed_rounds(db):
    """Re-opening last week's file: each housed citizen and let unit is one warning naming the
    round; an abandoned or rolled-back round's lettings do not count."""
    inst = models.from_dict(doc([{"id": "a"}, {"id": "b"}], [{"id": "u1"}]))
    assert R.housed_before(db, inst) == []
    R.open_round(db, inst)
    R.solve_round(db)
    R.abandon_round(db)
    assert R.housed_before(db, inst) == []
    plan = commit(db, models.from_dict(dict(inst.to_dict(), name="w1")))
    (a,) = plan.assignments
    again = models.from_dict(dict(inst.to_dict(), name="w2"))
    assert R.housed_before(db, again) == [
        f"citizen {a.citizen!r} was already housed in unit 'u1' by round 2 ('w1')",
        f"unit 'u1' was already let to citizen {a.citizen!r} in round 2 ('w1')",
    ]
    R.rollback_round(db)
    assert R.housed_before(db, again) == []


def test_carrying_then_opening_gives_no_warnings_and_keeps_the_waiting_times(db):
    """Week 2 (3 citizens, 1 turn) is committed with its turn held, so nobody is housed; a week
    after week 1's commit: carry writes the three citizens with waiting_days + 7, the held turn
    offered and the pool's position; opening it warns of nothing and the round keeps them."""
    commit(db, week(1, citizens=0))
    inst = week(2)
    d = inst.to_dict()
    d["citizens"][0]["waiting_days"] = 30
    R.open_round(db, models.from_dict(d), hold=["u2-0"])
    plan, _ = R.solve_round(db)
    assert plan.assignments == ()
    R.commit_round(db)
    a_week_before = datetime.fromisoformat(R.round_info(db, 2)["committed_at"]) - timedelta(days=7)
    with L.transaction(db, write=True) as conn:
        conn.execute(update(L.rounds).where(L.rounds.c.id == 1).values(committed_at=a_week_before.isoformat()))
    nxt, days, notes = R.carry_round(db)
    assert days == 7 and notes == []
    assert [(c.id, c.waiting_days) for c in nxt.citizens] == [("c2-0", 37), ("c2-1", 7), ("c2-2", 7)]
    assert [(u.id, u.offered) for u in nxt.units] == [("u2-0", True)]
    assert [(e.pool, e.vacancies_before, e.claimed_before) for e in nxt.ledger] == [("rot", 6, 0)]
    assert nxt.overrides == ()
    assert R.housed_before(db, nxt) == []
    _, filled = R.open_round(db, nxt)
    assert [c.waiting_days for c in filled.citizens] == [37, 7, 7]
    plan, _ = R.solve_round(db)
    assert [a.unit for a in plan.assignments] == ["u2-0"] and check_plan(filled, plan) == []
    assert R.carry_round(db, days=3)[1] == 3


def test_carry_drops_the_housed_keeps_frames_as_given_and_counts_days_between_rounds(db):
    """One citizen housed with a subsidy: the carried instance lacks them, its frame is the
    planner's (the round stored 3 - 1 counted before), and --days defaults to the days between
    the last two commits (here set in the ledger to 14)."""

    def subsidised(n: int, citizens: list[str]) -> models.Instance:
        d = doc(
            [{"id": c, "max_rent_kr": 4000, "subsidy_eligible": True} for c in citizens],
            [{"id": f"u{n}", "rent_kr": 5000}],
            municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 3}],
        )
        d["name"] = f"w{n}"
        return models.from_dict(d)

    commit(db, subsidised(1, ["a"]))
    commit(db, subsidised(2, ["b", "c"]))
    with L.transaction(db, write=True) as conn:
        conn.execute(update(L.rounds).where(L.rounds.c.id == 1).values(committed_at="2026-01-01T10:00:00+00:00"))
        conn.execute(update(L.rounds).where(L.rounds.c.id == 2).values(committed_at="2026-01-15T09:00:00+00:00"))
    assert R.round_instance(db, 2).municipalities[0].subsidy_frame == 2  # as stored: 3 less 1 counted
    nxt, days, notes = R.carry_round(db)
    assert days == 14 and notes == []
    assert nxt.municipalities[0].subsidy_frame == 3
    assert len(nxt.citizens) == 1 and nxt.citizens[0].waiting_days == 14
    assert nxt.units == () and nxt.version == 1
    _, filled = R.open_round(db, nxt)
    assert filled.municipalities[0].subsidy_frame == 1  # 3 less the 2 the ledger counted: once
    with pytest.raises(L.LedgerError, match="is opened, not committed"):
        R.carry_round(db, round_id=3)


def test_carry_needs_a_committed_round_and_counts_a_week_after_the_first(db):
    """No committed round: refused. After the first one the ledger cannot tell the days between rounds: a week."""
    R.open_round(db, week(1))
    with pytest.raises(L.LedgerError, match="no committed round to carry over"):
        R.carry_round(db)
    R.solve_round(db)
    R.commit_round(db)
    assert R.carry_round(db)[1] == R.DEFAULT_DAYS == 7


def test_a_rotation_pool_with_more_claims_than_vacancies_is_left_out_with_a_note(db):
    """A turn offered before the ledger began is a claim and no vacancy: 1 claim, 0 vacancies,
    which a ledger entry cannot say; carry leaves the entry out and says so; open fills it."""
    d = week(1, units=0, citizens=1).to_dict()
    d["units"] = [{"id": "old", "department": "D", "rooms": 2, "rent_kr": 3000, "offered": True}]
    commit(db, models.from_dict(d))
    assert R.ledger_totals(db)["pool"]["rot"] == {"vacancies": 0, "claimed": 1}
    nxt, _, notes = R.carry_round(db)
    assert nxt.ledger == () and len(notes) == 1 and "pool 'rot': its 1 claims exceed its 0" in notes[0]
    _, filled = R.open_round(db, nxt)
    assert [(e.pool, e.vacancies_before, e.claimed_before) for e in filled.ledger] == [("rot", 0, 1)]
