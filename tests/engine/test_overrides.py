"""Planner overrides: lock a citizen to a unit, forbid a pair, reserve a unit.

Each override changes the answer on a tiny instance where it binds; every plan
passes the independent checker (``solved``), which also checks the overrides.
A lock that breaks a rule is refused with a line naming the override.
(The brute-force property test in test_properties.py covers random overrides.)
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import models
from models.validate import InstanceError
from optimizer.check import check_plan
from optimizer.cli import main
from optimizer.engine.solve import solve
from optimizer.explain.citizen import explain, format_explanation

from conftest import doc, housed, pairs_of, solved

TWO = [{"id": "a", "priority": 1}, {"id": "b", "priority": 2}]


def test_lock_overrules_priority():
    """Without a lock the urgent citizen gets the only unit; a lock gives it to the other, marked locked."""
    assert pairs_of(solved(doc(TWO, [{"id": "u1"}]))) == {("a", "u1")}
    plan = solved(doc(TWO, [{"id": "u1"}], overrides=[{"action": "lock", "citizen": "b", "unit": "u1"}]))
    assert pairs_of(plan) == {("b", "u1")}
    assert plan["assignments"][0]["locked"] is True
    (a,) = plan["unassigned"]
    assert a["citizen"] == "a" and "went to citizens of equal or lower urgency" in a["reason"]


def test_lock_uses_up_caps_for_the_rest():
    """A locked vulnerable tenant fills the department's mixed-city cap of 1, so another
    vulnerable citizen cannot take the free second unit."""
    d = doc(
        [{"id": "a", "vulnerable": True}, {"id": "b", "vulnerable": True, "priority": 2}], [{"id": "u1"}, {"id": "u2"}]
    )
    d["departments"][0]["max_vulnerable"] = 1
    assert housed(solved(d)) == {"a"}
    d["overrides"] = [{"action": "lock", "citizen": "b", "unit": "u2"}]
    plan = solved(d)
    assert pairs_of(plan) == {("b", "u2")}
    # the plan names no cap that says the citizen is vulnerable; explain (the caseworker's) does
    assert "blocked by a full cap: a limit on the units full [1 unit]" in plan["unassigned"][0]["reason"]
    text = format_explanation(explain(models.from_dict(d), plan, "a", counterfactuals=False), "en")
    assert "department 'D' mixed-city cap full (1/1)" in text


def test_forbid_removes_only_that_pair():
    """Forbidding a's best unit moves a to the other unit; the forbidden pair never appears."""
    units = [{"id": "u1", "rooms": 1}, {"id": "u2", "rooms": 3}]
    assert pairs_of(solved(doc([{"id": "a"}], units))) == {("a", "u1")}
    plan = solved(doc([{"id": "a"}], units, overrides=[{"action": "forbid", "citizen": "a", "unit": "u1"}]))
    assert pairs_of(plan) == {("a", "u2")}


def test_forbid_every_unit_is_explained():
    """A citizen whose only eligible unit is forbidden is unassigned, and the reason names the override."""
    plan = solved(doc([{"id": "a"}], [{"id": "u1"}], overrides=[{"action": "forbid", "citizen": "a", "unit": "u1"}]))
    assert plan["assignments"] == []
    assert "planner override" in plan["unassigned"][0]["reason"]


def test_reserve_holds_back_the_unit_but_counts_as_vacancy():
    """A reserved unit is not assigned; it still counts as a vacancy, so with share 0.5 and two
    units the cap stays 1 and the other unit is claimed."""
    units = [{"id": "u1"}, {"id": "u2"}]
    d = doc(TWO, units, agreements=[{"id": "half", "municipality": "M", "share": 0.5}])
    assert len(solved(d)["assignments"]) == 1
    d["overrides"] = [{"action": "reserve", "unit": "u1", "note": "kept for a planned transfer"}]
    plan = solved(d)
    assert pairs_of(plan) == {("a", "u2")}
    assert plan["usage"]["pools"][0]["cap"] == 1 and plan["usage"]["pools"][0]["vacancies"] == 2


@pytest.mark.parametrize(
    "change, message",
    [
        ({"max_rent_kr": 1000}, "rent above max_rent_kr, citizen not subsidy-eligible (rule 8)"),
        ({"min_rooms": 3}, "rooms outside the citizen's min_rooms..max_rooms (rule 3)"),
        ({"municipality": "M2"}, "another municipality (rule 2)"),
    ],
)
def test_lock_of_ineligible_pair_is_refused(change, message):
    """Locking a pair that breaks rules 2-8 raises InstanceError at overrides[0], naming the rule."""
    d = doc([{"id": "a", **change}], [{"id": "u1"}], overrides=[{"action": "lock", "citizen": "a", "unit": "u1"}])
    d["municipalities"].append({"id": "M2", "region": "R"})
    with pytest.raises(InstanceError) as exc:
        solve(models.from_dict(d, "x.json"))
    (p,) = exc.value.problems
    assert p.path == "overrides[0]" and message in p.message and "'a'" in p.message and "'u1'" in p.message


def test_locks_that_overfill_a_cap_are_refused():
    """Two subsidised locks against a frame of 1 are refused, naming the frame and both locks."""
    c = [{"id": x, "max_rent_kr": 4000, "subsidy_eligible": True} for x in "ab"]
    u = [{"id": f"u{i}", "rent_kr": 5000} for i in (1, 2)]
    d = doc(
        c,
        u,
        overrides=[{"action": "lock", "citizen": "a", "unit": "u1"}, {"action": "lock", "citizen": "b", "unit": "u2"}],
    )
    d["municipalities"][0]["subsidy_frame"] = 1
    with pytest.raises(InstanceError) as exc:
        solve(models.from_dict(d))
    (p,) = exc.value.problems
    assert "2 locks need the subsidy frame of municipality 'M', which has room for 1" in p.message
    assert "overrides[0], overrides[1]" in p.message
    d["municipalities"][0]["subsidy_frame"] = 2
    assert pairs_of(solved(d)) == {("a", "u1"), ("b", "u2")}


def test_contradictory_overrides_are_all_reported():
    """Unknown ids, double locks, lock+forbid, lock+reserve and malformed overrides are each one problem."""
    d = doc(
        TWO,
        [{"id": "u1"}, {"id": "u2"}],
        overrides=[
            {"action": "lock", "citizen": "a", "unit": "u1"},
            {"action": "lock", "citizen": "a", "unit": "u2"},
            {"action": "forbid", "citizen": "a", "unit": "u1"},
            {"action": "reserve", "unit": "u1"},
            {"action": "lock", "citizen": "zz", "unit": "u9"},
            {"action": "forbid", "unit": "u2"},
            {"action": "reserve", "unit": "u2", "citizen": "b"},
            {"action": "evict", "unit": "u2"},
        ],
    )
    with pytest.raises(InstanceError) as exc:
        models.from_dict(d, "x.json")
    lines = "\n".join(exc.value.lines())
    for expected in [
        "overrides[1]: citizen 'a' is locked twice (first at overrides[0])",
        "overrides[2]: citizen 'a' and unit 'u1' are both locked and forbidden",
        "overrides[0]: unit 'u1' is locked and reserved",
        "overrides[4].unit: unknown unit 'u9'",
        "overrides[4].citizen: unknown citizen 'zz'",
        "overrides[5].citizen: required with action 'forbid'",
        "overrides[6].citizen: a reserve holds back a unit for everyone",
        "overrides[7].action:",
    ]:
        assert expected in lines, (expected, lines)


def test_checker_catches_broken_overrides():
    """A plan made without the overrides breaks them, and the checker says how, once per override."""
    d = doc(TWO, [{"id": "u1"}, {"id": "u2", "rooms": 3}])
    plan = solved(d)  # a->u1, b->u2
    d["overrides"] = [
        {"action": "lock", "citizen": "b", "unit": "u1"},
        {"action": "forbid", "citizen": "a", "unit": "u1"},
        {"action": "reserve", "unit": "u2"},
    ]
    rules = [v for v in check_plan(models.from_dict(d), plan) if v.rule == "override"]
    assert [v.message.split(":")[0] for v in rules] == ["overrides[0]", "overrides[1]", "overrides[2]"]


def test_overrides_survive_every_file_format(tmp_path):
    """Overrides round-trip through CSV and xlsx with the same hash; an instance without
    overrides keeps the canonical form of FORMAT.md (no overrides key, same hash as before)."""
    d = doc(
        TWO,
        [{"id": "u1"}],
        overrides=[
            {"action": "lock", "citizen": "b", "unit": "u1", "note": "agreed with b"},
            {"action": "reserve", "unit": "u1"},
        ][:1],
    )
    inst = models.from_dict(d)
    for target in (tmp_path / "csv", tmp_path / "x.xlsx"):
        models.save(inst, target)
        back = models.load(target)
        assert back.overrides == inst.overrides and back.sha256 == inst.sha256
    plain = models.from_dict(doc(TWO, [{"id": "u1"}]))
    assert "overrides" not in plain.to_dict()


def test_backends_agree_with_overrides():
    """Every backend honours the same overrides and reaches the same optimum."""
    c = [{"id": f"c{i}", "priority": 1 + i % 2, "vulnerable": i % 3 == 0} for i in range(6)]
    u = [{"id": f"u{i}", "rooms": 1 + i % 3} for i in range(5)]
    d = doc(
        c,
        u,
        overrides=[
            {"action": "lock", "citizen": "c5", "unit": "u0"},
            {"action": "forbid", "citizen": "c1", "unit": "u1"},
            {"action": "reserve", "unit": "u4"},
        ],
    )
    d["departments"][0]["max_vulnerable"] = 1
    plans = {b: solved(d, backend=b) for b in ("auto", "highs", "cpsat", "cbc")}
    objectives = {b: p["objective"] for b, p in plans.items()}
    assert len({json.dumps(o, sort_keys=True) for o in objectives.values()}) == 1, objectives
    assert all(("c5", "u0") in pairs_of(p) for p in plans.values())


def test_cli_overrides(tmp_path):
    """--lock/--forbid/--reserve reach the plan, which states them so that `anvis check` verifies
    them against the plain instance; a lock that breaks a rule exits 2 naming the option, and
    writes nothing."""
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps(doc(TWO, [{"id": "u1"}, {"id": "u2", "rent_kr": 9000}])))
    out = tmp_path / "p.json"
    runner = CliRunner()
    r = runner.invoke(main, ["solve", str(inst), "-o", str(out), "-q", "--lock", "b=u1"])
    assert r.exit_code == 0, r.output
    assert pairs_of(json.loads(out.read_text())) == {("b", "u1")}
    assert r.exit_code == 0 and json.loads(out.read_text())["overrides"][0]["citizen"] == "b"
    # the plan states the lock it honours, so checking it against the plain instance verifies it
    plan = json.loads(out.read_text())
    plan["assignments"][0]["citizen"] = "a"
    out.write_text(json.dumps(plan))
    r = runner.invoke(main, ["check", str(inst), str(out)])
    assert r.exit_code == 1 and "override: plan overrides[0]: citizen 'b' is locked to unit 'u1'" in r.output
    out.unlink()
    r = runner.invoke(main, ["solve", str(inst), "-o", str(out), "-q", "--lock", "a=u2", "--reserve", "nope"])
    assert r.exit_code == 2
    assert "command line: --lock a=u2: cannot lock citizen 'a' to unit 'u2'" in r.output
    assert "command line: --reserve nope: unknown unit 'nope'" in r.output
    assert "Traceback" not in r.output and not out.exists()


def test_validate_refuses_a_broken_lock_in_the_file(tmp_path):
    """`anvis validate` reports a lock that breaks a rule, with the file and the override's path."""
    path = tmp_path / "i.json"
    path.write_text(
        json.dumps(
            doc(TWO, [{"id": "u1", "rent_kr": 9000}], overrides=[{"action": "lock", "citizen": "a", "unit": "u1"}])
        )
    )
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert r.exit_code == 2
    assert f"{path}: overrides[0]: cannot lock citizen 'a' to unit 'u1'" in r.output


def test_locked_plan_is_the_best_plan_containing_the_lock():
    """The plan with a lock is the optimum of the instance without the locked citizen and unit
    (caps reduced by the lock's use), plus the lock: fixing a pair first is exact."""
    c = [{"id": f"c{i}", "priority": 1 + i % 3} for i in range(5)]
    u = [{"id": f"u{i}", "rooms": 1 + i % 2} for i in range(4)]
    d = doc(c, u, agreements=[{"id": "p", "municipality": "M", "share": 0.75}])
    locked = solved({**d, "overrides": [{"action": "lock", "citizen": "c4", "unit": "u3"}]})
    # by hand: remove c4 and u3, and lower the pool's cap by one through the ledger
    rest = doc(
        c[:4],
        u[:3],
        agreements=[{"id": "p", "municipality": "M", "share": 0.75}],
        ledger=[{"pool": "p", "vacancies_before": 1, "claimed_before": 1}],
    )
    plan = solved(rest)
    assert ("c4", "u3") in pairs_of(locked)
    lock_score = next(a["score"] for a in locked["assignments"] if a["citizen"] == "c4")
    want = dict(plan["objective"]["housed_by_priority"], **{"3": 0})
    want["2"] += 1  # c4 has priority 2
    assert locked["objective"]["housed_by_priority"] == want
    assert locked["objective"]["total_score"] == plan["objective"]["total_score"] + lock_score


def test_round_solve_with_a_lock_after_seeing_the_plan(tmp_path):
    """In a weekly round a planner can lock after the first solve: `round solve --lock` re-solves
    the open round with the lock, stores the instance with it, and the commit counts that plan;
    a lock that breaks a rule exits 2 and leaves the stored plan as it was."""
    from optimizer.rounds import workflow as R

    inst = tmp_path / "w.json"
    inst.write_text(json.dumps(doc(TWO, [{"id": "u1"}, {"id": "u2", "rent_kr": 9000}])))
    db = str(tmp_path / "l.db")
    runner = CliRunner()
    assert runner.invoke(main, ["round", "open", str(inst), "--db", db]).exit_code == 0
    assert runner.invoke(main, ["round", "solve", "--db", db, "-q"]).exit_code == 0
    assert pairs_of(R.round_plan(db)[1].to_dict()) == {("a", "u1")}
    r = runner.invoke(main, ["round", "solve", "--db", db, "-q", "--lock", "b=u2"])
    assert r.exit_code == 2 and "--lock b=u2: cannot lock citizen 'b' to unit 'u2'" in r.output
    assert pairs_of(R.round_plan(db)[1].to_dict()) == {("a", "u1")}
    r = runner.invoke(main, ["round", "solve", "--db", db, "-q", "--lock", "b=u1"])
    assert r.exit_code == 0, r.output
    filled, plan = R.round_plan(db)
    assert pairs_of(plan.to_dict()) == {("b", "u1")} and [o.citizen for o in filled.overrides] == ["b"]
    assert check_plan(filled, plan) == []
    assert runner.invoke(main, ["round", "commit", "--db", db]).exit_code == 0
    assert R.ledger_totals(db)["pool"]["all"]["claimed"] == 1


def test_round_solve_refuses_an_instance_that_is_not_the_rounds(tmp_path):
    """solve_round takes another instance only when it differs from the round's in its overrides."""
    from optimizer.rounds import workflow as R
    from optimizer.rounds.ledger import LedgerError

    db = str(tmp_path / "l.db")
    R.open_round(db, models.from_dict(doc(TWO, [{"id": "u1"}])))
    other = models.from_dict(doc(TWO, [{"id": "u1", "rooms": 3}]))
    with pytest.raises(LedgerError, match="more than its overrides"):
        R.solve_round(db, instance=other)
