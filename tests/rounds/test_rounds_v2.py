"""Rounds of anvis/2 (FORMAT.md §6): pool positions and modes, passes, holds and the new period."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import models
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R

from conftest import doc

ROTATION = [{"id": "rot", "municipality": "M", "share": 0.25, "mode": "rotation"}]


def week(n: int, units: int = 3, citizens: int = 3, held: tuple[str, ...] = (), **tables) -> models.Instance:
    """Week n of an anvis/2 instance: ``units`` new vacancies of the rotation pool 'rot' (share 1/4),
    in order of vacancy, and ``citizens`` citizens who can take any of them."""
    d = doc(
        [{"id": f"c{n}-{i}"} for i in range(citizens)],
        [{"id": f"u{n}-{i}", "rent_kr": 3000 + 100 * i, "sequence": i} for i in range(units)]
        + [{"id": u, "rent_kr": 3900} for u in held],
        **({"agreements": ROTATION} | tables),
    )
    d["format"], d["name"] = "anvis/2", f"week-{n}"
    return models.from_dict(d)


def run(db: str, inst: models.Instance, hold: tuple[str, ...] = ()) -> tuple[models.Instance, models.Plan, dict]:
    _, filled = R.open_round(db, inst, hold=hold)
    plan, _ = R.solve_round(db)
    return filled, plan, R.commit_round(db, by="tester")


def assigned(plan: models.Plan) -> list[str]:
    return sorted(a.unit for a in plan.assignments)


def test_rotation_pool_gets_exactly_every_fourth_vacancy_across_rounds(db):
    """Nine vacancies over three rounds of three: the ledger carries the pool's position (0, 3, 6
    vacancies before), so the turns are vacancies 4 and 8 (u2-0 and u3-1), and only those are
    assigned though citizens wait for every unit; the pool's mode is recorded as rotation."""
    got, before = [], []
    for n in (1, 2, 3):
        filled, plan, done = run(db, week(n))
        before.append(models.pools(filled)["rot"].vacancies_before)
        got += assigned(plan)
        assert done["passed"] == 0 and done["held"] == 0
    assert before == [0, 3, 6]
    assert got == ["u2-0", "u3-1"]
    assert R.ledger_totals(db)["pool"]["rot"] == {"vacancies": 9, "claimed": 2}
    assert R.status(db)["modes"] == {"rot": "rotation"}


def test_turns_follow_the_order_of_vacancy_not_the_list(db):
    """The pool's 4th vacancy is the unit with the lowest sequence in round 2, wherever it is listed."""
    run(db, week(1))
    d = week(2).to_dict()
    d["units"][0]["sequence"], d["units"][2]["sequence"] = 9, 0
    _, plan, _ = run(db, models.from_dict(d))
    assert assigned(plan) == ["u2-2"]


def test_passes_are_recorded_and_rolled_back(db):
    """A turn no citizen takes is passed: the commit records it, status counts it per pool, and a
    rollback removes it with the round."""
    run(db, week(1))
    _, plan, done = run(db, week(2, citizens=0))
    assert plan.passed == ("u2-0",) and done["passed"] == 1
    assert R.status(db)["passed"] == {"rot": 1}
    with L.open_engine(db).begin() as conn:
        rows = conn.execute(select(L.passes.c.round_id, L.passes.c.unit, L.passes.c.pool)).all()
    assert [tuple(r) for r in rows] == [(2, "u2-0", "rot")]
    R.rollback_round(db)
    assert R.status(db)["passed"] == {}
    with L.open_engine(db).begin() as conn:
        assert conn.execute(select(L.passes)).all() == []
        assert {r.round_id for r in conn.execute(select(L.pool_modes))} == {1}


def test_a_hold_comes_back_offered_and_costs_rent(db):
    """Round 2 holds its turn u2-0 (3,000 kr a month): it is not assigned and not passed. Round 3's
    file lacks it: it is appended with offered: true (not a vacancy: the positions stay 6 + 3), held
    again, and round 4's file lists it: it is marked offered and assigned. The ledger counts 2 weeks,
    3,000 × 12 / 52 = 692.3 kr a week: 1,385 kr."""
    run(db, week(1))
    filled, plan, done = run(db, week(2), hold=("u2-0",))
    assert "u2-0" not in assigned(plan) and assigned(plan) == []
    assert done["passed"] == 0 and done["held"] == 1
    assert [(o.action, o.unit) for o in filled.overrides] == [("reserve", "u2-0")]
    s = R.status(db)
    assert s["holds"] == [{"unit": "u2-0", "pool": "rot", "rent_kr": 3000, "weeks": 1, "cost_kr": 692}]
    assert s["tomgangsleje_kr"] == 692 and s["passed"] == {}

    filled, plan, done = run(db, week(3), hold=("u2-0",))
    back = next(u for u in filled.units if u.id == "u2-0")
    assert back.offered and back.rent_kr == 3000 and filled.units[-1].id == "u2-0"
    pool = models.pools(filled)["rot"]
    assert (pool.vacancies_before, pool.vacancies, pool.offered) == (6, 3, 1)
    assert assigned(plan) == ["u3-1"] and done["held"] == 1 and done["passed"] == 0
    s = R.status(db)
    assert s["holds"] == [{"unit": "u2-0", "pool": "rot", "rent_kr": 3000, "weeks": 2, "cost_kr": 1385}]
    assert s["tomgangsleje_kr"] == 1385

    filled, plan, done = run(db, week(4, units=1, held=("u2-0",)))
    assert [u.id for u in filled.units if u.offered] == ["u2-0"]
    assert assigned(plan) == ["u2-0"] and done["held"] == 0
    s = R.status(db)
    assert s["holds"] == [] and s["tomgangsleje_kr"] == 1385
    assert R.ledger_totals(db)["pool"]["rot"]["vacancies"] == 10  # the held unit counted once, when it fell vacant


def test_a_held_unit_not_taken_in_the_next_round_is_passed_then(db):
    """Held in round 2, offered in round 3 where nobody can take it: then it is passed."""
    run(db, week(1))
    run(db, week(2), hold=("u2-0",))
    _, plan, done = run(db, week(3, citizens=0))
    assert plan.passed == ("u3-1", "u2-0") and done["passed"] == 2
    assert R.status(db)["holds"] == []


def test_hold_override_and_hold_at_solve(db):
    """``{"action": "hold"}`` in the week's overrides and ``hold=`` at solve hold like ``--hold`` at open."""
    run(db, week(1))
    d = week(2).to_dict()
    d["overrides"] = [{"action": "hold", "unit": "u2-0", "note": "waiting for a family"}]
    _, filled = R.open_round(db, models.from_dict(d))
    assert [(o.action, o.unit, o.note) for o in filled.overrides] == [("reserve", "u2-0", "waiting for a family")]
    R.abandon_round(db)
    R.open_round(db, week(2))
    plan, _ = R.solve_round(db, hold=("u2-0",))
    assert plan.assignments == () and plan.overrides is not None
    assert R.commit_round(db)["held"] == 1
    assert [h["unit"] for h in R.status(db)["holds"]] == ["u2-0"]


def test_hold_refused_for_a_unit_not_offered(db):
    """Only a turn or offered unit of a rotation pool can be held; an unknown unit neither. Nothing is opened."""
    with pytest.raises(L.LedgerError, match=r"cannot hold unit\(s\) 'u1-0': only a turn"):
        R.open_round(db, week(1), hold=("u1-0",))
    with pytest.raises(L.LedgerError, match="unknown unit"):
        R.open_round(db, week(1), hold=("nope",))
    assert R.history(db) == []


def test_held_units_need_an_anvis2_week(db):
    run(db, week(1))
    run(db, week(2), hold=("u2-0",))
    v1 = week(3).to_dict()
    v1["format"] = "anvis/1"
    for u in v1["units"]:
        u.pop("sequence", None)
        u.pop("offered", None)
    for a in v1["agreements"]:
        a.pop("mode", None)
        a.pop("kinds", None)
        a.pop("units", None)
    v1.get("parameters", {}).pop("default_mode", None)
    v1.get("parameters", {}).pop("subsidy_kinds", None)
    for c in v1["citizens"]:
        c.pop("homeless", None)
    with pytest.raises(L.LedgerError, match="only an anvis/2 instance"):
        R.open_round(db, models.from_dict(v1))


def test_v2_default_pools_carry_their_position(db):
    """A default pool of anvis/2 (per unit kind) gets its ledger entry filled, as an agreement's pool does."""
    run(db, week(1, agreements=[]))
    filled, plan, _ = run(db, week(2, agreements=[]))
    pool = "default:M:O:family"
    assert {e.pool: e.vacancies_before for e in filled.ledger} == {pool: 3}
    assert assigned(plan) == ["u2-0"]


def test_hold_override_in_the_engine_is_like_a_reserve():
    """Outside rounds, a hold keeps an offered turn unassigned; a hold of a unit that is not a turn is refused."""
    inst = week(1, units=4)
    d = inst.to_dict()
    d["overrides"] = [{"action": "hold", "unit": "u1-3"}]
    plan = make_plan(solve(models.from_dict(d)))
    assert plan.assignments == ()
    assert assigned(make_plan(solve(inst))) == ["u1-3"]
    d["overrides"] = [{"action": "hold", "unit": "u1-0"}]
    with pytest.raises(models.InstanceError, match=r"cannot hold unit 'u1-0': only a turn"):
        solve(models.from_dict(d))
    d["overrides"] = [{"action": "hold", "unit": "u1-3", "citizen": "c1-0"}]
    with pytest.raises(models.InstanceError, match="a hold holds back a unit for everyone"):
        models.from_dict(d)
    d["overrides"] = [{"action": "hold", "unit": "u1-3"}, {"action": "lock", "unit": "u1-3", "citizen": "c1-0"}]
    with pytest.raises(models.InstanceError, match="locked and held"):
        models.from_dict(d)


# --- new period ----------------------------------------------------------------------------

CHOICE = [{"id": "ch", "municipality": "M", "share": 0.5, "mode": "choice"}]
TABLES = {
    "regions": [{"id": "R", "name": "R", "grant_quota": 3}],
    "municipalities": [{"id": "M", "name": "M", "region": "R", "subsidy_frame": 2}],
    "departments": [{"id": "D", "organisation": "O", "municipality": "M", "max_vulnerable": 2}],
}


def counts(db: str) -> tuple[int, int, int]:
    t = R.ledger_totals(db)
    return tuple(
        t.get(k, {}).get(key, {"claimed": 0})["claimed"]
        for k, key in (("municipality", "M"), ("region", "R"), ("department", "D"))
    )


def subsidised(n: int, **tables) -> models.Instance:
    """Week n: a 5,000 kr family unit of the choice pool and a vulnerable citizen who needs the subsidy."""
    d = doc(
        [{"id": f"c{n}", "max_rent_kr": 4000, "subsidy_eligible": True, "vulnerable": True}],
        [{"id": f"u{n}-{i}", "rent_kr": 5000} for i in range(4)],
        **({"agreements": CHOICE} | TABLES | tables),
    )
    d["format"], d["name"] = "anvis/2", f"week-{n}"
    return models.from_dict(d)


def test_new_period_resets_mixed_city_caps_only_unless_asked(db):
    """A new period of mixed-city caps zeroes the vulnerable placements only: frames and quotas are
    totals until spent. Frames and quotas are zeroed when asked. (The CLI's defaults: see below.)"""
    run(db, subsidised(1))
    assert counts(db) == (1, 1, 1)
    done = R.new_period(db, kinds=("department",))
    assert done["kinds"] == ["department"] and done["reset"] == {"department": {"D": 1}}
    assert counts(db) == (1, 1, 0)
    _, filled = R.open_round(db, subsidised(2))
    assert (filled.municipalities[0].subsidy_frame, filled.regions[0].grant_quota) == (1, 2)
    R.abandon_round(db)
    R.new_period(db, kinds=("frame", "quota"))
    assert counts(db) == (0, 0, 0)


def test_expire_choice_rights_zeroes_banked_rights_of_choice_pools_only(db):
    """Choice pool 'ch' (share 1/2): 6 vacancies and 1 claim bank 2 rights; expiring sets claimed to
    floor(0.5 × 6) = 3, so the next 4 vacancies give a cap of 2, not 4. The rotation pool keeps its
    counts. The change is an effect of the reset (for the audit trail)."""
    both = [{"id": "rot", "municipality": "M", "share": 0.25, "mode": "rotation", "max_rent_kr": 3000}, *CHOICE]
    run(db, subsidised(1, agreements=both))
    run(db, week(9, citizens=0, agreements=both))  # u9-0 (3,000 kr) is in 'rot', u9-1 and u9-2 in 'ch'
    before = R.ledger_totals(db)["pool"]
    assert before["ch"] == {"vacancies": 6, "claimed": 1}
    done = R.new_period(db, kinds=("choice_rights",))
    assert done["reset"] == {"choice_rights": {"ch": 2}}
    after = R.ledger_totals(db)["pool"]
    assert after["ch"] == {"vacancies": 6, "claimed": 3} and after["rot"] == before["rot"] == {
        "vacancies": 1,
        "claimed": 0,
    }
    _, filled = R.open_round(db, subsidised(2, agreements=both))
    assert models.pools(filled)["ch"].cap == 2
    R.abandon_round(db)
    with L.open_engine(db).begin() as conn:
        rows = conn.execute(
            select(L.effects.c.kind, L.effects.c.key, L.effects.c.claimed).where(L.effects.c.round_id == done["id"])
        ).all()
    assert [tuple(r) for r in rows] == [("pool", "ch", 2)]


def test_cli_hold_status_and_new_period_flags(tmp_path, monkeypatch):
    """``--hold`` on round open, status lists the hold and its cost, commit says what it passed and held;
    new-period resets caps by default, frames with --frames, and nothing at all is a usage error."""
    from optimizer.cli import main

    monkeypatch.setenv("ANVIS_LANG", "en")  # the English lines (Danish: tests/cli/test_round_cli.py)

    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "l.db")
    models.save(week(1), "w1.json")
    models.save(week(2, citizens=0), "w2.json")
    models.save(week(3), "w3.json")
    runner = CliRunner()

    def ok(*args):
        res = runner.invoke(main, [*args, "--db", db])
        assert res.exit_code == 0, res.output
        return res.stdout

    ok("round", "open", "w1.json")
    ok("round", "solve", "-q")
    ok("round", "commit")
    ok("round", "open", "w2.json", "--hold", "u2-0")
    ok("round", "solve", "-q")
    assert "committed: 0 claims, 1 held" in ok("round", "commit")
    status = ok("round", "status")
    assert "pool rot: 6 vacancies, 0 claimed, rotation, 0 passed" in status
    assert "held u2-0 (pool rot, 3,000 kr a month): 1 week, 692 kr tomgangsleje" in status  # lang.kr
    assert "tomgangsleje paid for held units: 692 kr" in status
    res = runner.invoke(main, ["round", "open", "w3.json", "--db", db, "--hold", "u3-0"])
    assert res.exit_code == 2 and "cannot hold" in res.output
    assert "new period started (department) as entry 3: 0 counts zeroed" in ok("round", "new-period")
    assert "(frame, department)" in ok("round", "new-period", "--frames")
    res = runner.invoke(main, ["round", "new-period", "--db", db, "--no-departments"])
    assert res.exit_code == 2 and "nothing to reset" in res.output
    assert "(choice_rights)" in ok("round", "new-period", "--no-departments", "--expire-choice-rights")
    L.dispose_all()


def test_a_declined_turn_is_passed(db):
    """A citizen declines the turn u2-0: the unit goes back to the organisation, so the stored plan
    lists it as passed (the checker requires it) and the commit records the pass."""
    run(db, week(1))
    R.open_round(db, week(2))
    plan, _ = R.solve_round(db)
    assert plan.passed == () and assigned(plan) == ["u2-0"]
    plan = R.decline_offers(db, [plan.assignments[0].citizen])
    assert plan.passed == ("u2-0",)
    assert R.commit_round(db)["passed"] == 1
    assert R.status(db)["passed"] == {"rot": 1}


def test_a_ledger_of_schema_1_migrates_and_its_v1_pools_are_choice_pools(tmp_path):
    """A ledger of schema 1 (one v1 round committed; made here by undoing the later migrations) is migrated
    when opened: its pool has no recorded mode, counts as a choice pool (every v1 pool is one), so
    expiring choice rights applies to it; status shows no passes and no holds."""
    db = str(tmp_path / "old.db")
    v1_agreement = [{"id": "ch", "municipality": "M", "share": 0.5}]
    d = doc([{"id": "c1"}], [{"id": f"u{i}"} for i in range(4)], agreements=v1_agreement)
    d["name"] = "v1-week"
    run(db, models.from_dict(d))
    with L.open_engine(db).begin() as conn:
        for t in (L.pool_modes, L.passes, L.holds, L.subsidies):  # migrations 2 and 3 undone
            t.drop(conn)
        conn.execute(L.schema_version.delete().where(L.schema_version.c.version >= 2))
    L.dispose_all()
    s = R.status(db)
    assert s["schema_version"] == len(L.MIGRATIONS) and s["modes"] == {} and s["passed"] == {} and s["holds"] == []
    assert R.ledger_totals(db)["pool"]["ch"] == {"vacancies": 4, "claimed": 1}
    assert R.new_period(db, kinds=("choice_rights",))["reset"] == {"choice_rights": {"ch": 1}}
    L.dispose_all()
