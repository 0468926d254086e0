"""Overrides as ledger rows (issue 14): listed, added with a note, removed, upgraded, and what they cost."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

import models
from models.validate import add_overrides
from optimizer.check import check_plan
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R

from conftest import doc


@pytest.fixture
def db(tmp_path):
    yield str(tmp_path / "ledger.db")
    L.dispose_all()


def pairs(plan: models.Plan) -> set[tuple[str, str]]:
    return {(a.citizen, a.unit) for a in plan.assignments}


def two_by_two(**tables) -> models.Instance:
    """Citizens a and b (priority 1) and units u1, u2: a prefers u1 and b u2 (scores), so unforced a→u1, b→u2."""
    scores = [
        {"citizen": "a", "unit": "u1", "score": 90},
        {"citizen": "a", "unit": "u2", "score": 10},
        {"citizen": "b", "unit": "u1", "score": 10},
        {"citizen": "b", "unit": "u2", "score": 90},
    ]
    return models.from_dict(doc([{"id": "a"}, {"id": "b"}], [{"id": "u1"}, {"id": "u2"}], scores=scores, **tables))


def one_unit() -> models.Instance:
    """One unit u1 and citizens p1 (priority 1) and q (priority 2): unforced, p1 is housed."""
    return models.from_dict(doc([{"id": "p1", "priority": 1}, {"id": "q", "priority": 2}], [{"id": "u1"}]))


def test_overrides_are_numbered_listed_added_with_a_note_and_removed(db):
    """The instance's own override is number 1 (added by who opened the round); an added lock is
    number 2 with its note, who and when; the round's instance carries both; removing 1 keeps
    number 2 (numbers are never reused) and a solved round goes back to opened without its plan."""
    inst = two_by_two(overrides=[{"action": "forbid", "citizen": "a", "unit": "u2", "note": "family"}])
    rid, _ = R.open_round(db, inst, by="anna")
    assert R.round_info(db, rid)["opened_by"] == "anna"
    [first] = R.round_overrides(db)
    assert first == {
        "n": 1,
        "kind": "forbid",
        "citizen": "a",
        "unit": "u2",
        "note": "family",
        "by": "anna",
        "at": first["at"],
    }
    R.solve_round(db)
    added = R.add_override(db, "lock", "u1", citizen="b", note="doctor's letter", by="bo")
    assert (added["n"], added["kind"], added["note"], added["by"]) == (2, "lock", "doctor's letter", "bo")
    assert R.round_info(db, rid)["status"] == "opened"  # the plan no longer fits: solve again
    with pytest.raises(L.LedgerError, match="is opened, not solved"):
        R.round_plan(db, rid)
    assert [(o.action, o.citizen, o.note) for o in R.round_instance(db).overrides] == [
        ("forbid", "a", "family"),
        ("lock", "b", "doctor's letter"),
    ]
    plan, _ = R.solve_round(db)
    assert pairs(plan) == {("b", "u1")}  # a may not have u2 and b holds u1
    assert R.remove_override(db, 1, by="bo")["kind"] == "forbid"
    assert [e["n"] for e in R.round_overrides(db)] == [2]
    assert [o.action for o in R.round_instance(db).overrides] == ["lock"]
    plan, _ = R.solve_round(db)
    filled, stored = R.round_plan(db)
    assert pairs(plan) == {("b", "u1"), ("a", "u2")} and check_plan(filled, stored) == []
    with pytest.raises(L.LedgerError, match="override 1 of round 1 was removed by bo"):
        R.remove_override(db, 1)
    with pytest.raises(L.LedgerError, match="round 1 has no override 7"):
        R.remove_override(db, 7)
    R.commit_round(db, by="carl")
    assert R.latest_committed(db) == rid
    info = R.round_info(db)
    assert (info["id"], info["status"], info["committed_by"]) == (rid, "committed", "carl")
    assert [e["n"] for e in R.round_overrides(db, rid)] == [2]  # a committed round's, by id
    with pytest.raises(L.LedgerError, match="no open round"):
        R.add_override(db, "reserve", "u1")


def test_a_bad_override_is_refused_and_changes_nothing(db):
    """Unknown ids and a lock that breaks a rule are InstanceErrors naming ``override``; the round is untouched."""
    R.open_round(db, two_by_two())
    R.solve_round(db)
    with pytest.raises(models.InstanceError) as e:
        R.add_override(db, "lock", "u9", citizen="a")
    assert "override" in str(e.value) and "u9" in str(e.value)
    expensive = models.from_dict(doc([{"id": "a", "max_rent_kr": 1000}], [{"id": "u1"}]))
    R.abandon_round(db)
    R.open_round(db, expensive)
    with pytest.raises(models.InstanceError, match="cannot lock citizen 'a' to unit 'u1'"):
        R.add_override(db, "lock", "u1", citizen="a")
    assert R.round_overrides(db) == [] and R.round_info(db, 2)["status"] == "opened"
    with pytest.raises(ValueError, match="kind must be one of"):
        R.add_override(db, "pin", "u1")


def test_round_solve_with_a_new_instance_records_its_new_overrides(db):
    """solve_round(instance=...) (``round solve --lock``) numbers the new overrides on, by who solves."""
    R.open_round(db, two_by_two(), by="anna")
    inst = add_overrides(R.round_instance(db), [{"action": "lock", "citizen": "a", "unit": "u2"}])
    R.solve_round(db, instance=inst, by="bo")
    assert [(e["n"], e["kind"], e["by"]) for e in R.round_overrides(db)] == [(1, "lock", "bo")]


def test_a_lock_that_displaces_a_priority_1_citizen_costs_that_place(db):
    """Locking q (priority 2) to the one unit: p1 (priority 1) loses the place the plan without
    overrides gave, q gains it; the cost is stored with the round and attached to the override."""
    R.open_round(db, one_unit())
    R.add_override(db, "lock", "u1", citizen="q", note="medical")
    plan, _ = R.solve_round(db)
    assert pairs(plan) == {("q", "u1")}
    cost = R.round_override_cost(db, 1)
    assert cost is not None
    assert cost["lost"] == [{"citizen": "p1", "priority": 1, "without": "u1"}]
    assert cost["gained"] == [{"citizen": "q", "priority": 2, "with": "u1"}]
    assert cost["moved"] == [] and cost["overrides"] == 1
    assert cost["by_priority"] == {"1": {"moved": 0, "lost": 1, "gained": 0}, "2": {"moved": 0, "lost": 0, "gained": 1}}
    [entry] = R.overrides_with_cost(db, 1)
    assert entry["note"] == "medical" and entry["cost"]["lost"] == cost["lost"]


def test_each_override_has_its_own_cost_and_moves_are_counted(db):
    """Two overrides: the lock a=u2 moves a and b; the reserve of nothing-relevant u3 costs nothing."""
    inst = models.from_dict(
        dict(
            two_by_two().to_dict(),
            units=[*two_by_two().to_dict()["units"], {"id": "u3", "department": "D", "rooms": 2, "rent_kr": 9000}],
        )
    )
    R.open_round(db, inst)
    R.add_override(db, "lock", "u2", citizen="a")
    R.add_override(db, "reserve", "u3")
    plan, _ = R.solve_round(db)
    assert pairs(plan) == {("a", "u2"), ("b", "u1")}
    cost = R.round_override_cost(db, 1)
    moved = [(m["citizen"], m["without"], m["with"]) for m in cost["moved"]]
    assert moved == [("a", "u1", "u2"), ("b", "u2", "u1")] and cost["lost"] == []
    lock, reserve = R.overrides_with_cost(db, 1)
    assert len(lock["cost"]["moved"]) == 2
    assert reserve["cost"] == {"moved": [], "lost": [], "gained": [], "by_priority": {}}
    again = R.round_override_cost(db, 1)
    assert again == cost  # stored as computed: deterministic


def test_no_cost_without_overrides(db):
    R.open_round(db, one_unit())
    R.solve_round(db)
    assert R.round_override_cost(db, 1) is None
    assert R.overrides_with_cost(db, 1) == []


def test_a_ledger_of_schema_3_upgrades_and_lists_its_rounds_overrides(db):
    """A schema-3 ledger (migration 4 undone) with an open round whose instance has an override:
    migration 4 adds the columns and the table, and lists the override, added by nobody at the
    round's opening time."""
    R.open_round(db, two_by_two(overrides=[{"action": "reserve", "unit": "u2", "note": "repairs"}]))
    with L.open_engine(db).begin() as conn:
        L.overrides.drop(conn)
        conn.execute(text("ALTER TABLE rounds DROP COLUMN opened_by"))
        conn.execute(text("ALTER TABLE rounds DROP COLUMN override_cost_json"))
        conn.execute(L.schema_version.delete().where(L.schema_version.c.version >= 4))
    L.dispose_all()
    [entry] = R.round_overrides(db)
    opened_at = R.round_instance(db) and R.history(db)[0]["opened_at"]
    assert entry == {
        "n": 1,
        "kind": "reserve",
        "citizen": None,
        "unit": "u2",
        "note": "repairs",
        "by": None,
        "at": opened_at,
    }
    with L.open_engine(db).begin() as conn:
        assert conn.execute(select(L.schema_version.c.version)).scalars().all() == [1, 2, 3, 4]
    assert R.round_info(db, 1)["opened_by"] is None
    R.add_override(db, "forbid", "u1", citizen="a")
    assert [e["n"] for e in R.round_overrides(db)] == [1, 2]


def test_a_solve_does_not_store_over_an_override_added_meanwhile(db, monkeypatch):
    """Another planner adds an override while the round is being solved: the solve stores
    nothing (its plan would ignore that override) and says so; the override stays."""
    from optimizer.engine import solve as S

    R.open_round(db, one_unit())
    real = S.solve

    def solve_and_meanwhile(inst, **options):
        if not R.round_overrides(db):
            R.add_override(db, "forbid", "u1", citizen="p1", note="added in another tab")
        return real(inst, **options)

    monkeypatch.setattr(S, "solve", solve_and_meanwhile)
    with pytest.raises(L.LedgerError, match="changed while it was solved"):
        R.solve_round(db)
    assert [e["note"] for e in R.round_overrides(db)] == ["added in another tab"]
    assert R.round_info(db, 1)["status"] == "opened"


def test_an_upgraded_ledger_knows_who_its_committed_rounds_housed(db):
    """Migration 4 fills the lettings from the committed plans: re-opening the week warns."""
    R.open_round(db, one_unit())
    R.solve_round(db)
    R.commit_round(db)
    with L.open_engine(db).begin() as conn:
        L.overrides.drop(conn)
        L.lettings.drop(conn)
        conn.execute(text("ALTER TABLE rounds DROP COLUMN opened_by"))
        conn.execute(text("ALTER TABLE rounds DROP COLUMN override_cost_json"))
        conn.execute(L.schema_version.delete().where(L.schema_version.c.version >= 4))
    L.dispose_all()
    again = models.from_dict(dict(one_unit().to_dict(), name="again"))
    assert R.housed_before(db, again) == [
        "citizen 'p1' was already housed in unit 'u1' by round 1 ('t')",
        "unit 'u1' was already let to citizen 'p1' in round 1 ('t')",
    ]


def test_a_contradiction_names_the_rounds_override_by_its_number(db):
    """A forbid of a locked pair is refused naming the lock by its number in the round, not a list position."""
    R.open_round(db, two_by_two())
    R.add_override(db, "reserve", "u2")
    R.add_override(db, "lock", "u1", citizen="a")
    R.remove_override(db, 1)
    with pytest.raises(models.InstanceError) as e:
        R.add_override(db, "forbid", "u1", citizen="a")
    text_ = str(e.value)
    assert "override 2" in text_ and "overrides[" not in text_


def test_beyond_the_limit_only_the_overrides_together_are_costed(db, monkeypatch):
    """More overrides than MAX_COSTED_EACH: the cost of all of them is stored, none per override."""
    monkeypatch.setattr(R, "MAX_COSTED_EACH", 1)
    R.open_round(db, one_unit())
    R.add_override(db, "lock", "u1", citizen="q")
    R.add_override(db, "forbid", "u1", citizen="p1")
    R.solve_round(db)
    cost = R.round_override_cost(db, 1)
    assert [x["citizen"] for x in cost["lost"]] == ["p1"] and "each" not in cost
    assert [("cost" in e) for e in R.overrides_with_cost(db, 1)] == [False, False]
    R.solve_round(db, cost=False)
    assert R.round_override_cost(db, 1) is None


def test_purging_an_abandoned_round_removes_its_overrides_and_their_cost(db):
    """The overrides of an abandoned round name citizens and carry notes: a purge removes them."""
    R.open_round(db, one_unit())
    R.add_override(db, "lock", "u1", citizen="q", note="private reason")
    R.solve_round(db)
    R.abandon_round(db)
    R.purge_abandoned(db)
    L.dispose_all()
    with L.open_engine(db).begin() as conn:
        assert conn.execute(select(L.overrides)).all() == []
        assert conn.execute(select(L.rounds.c.override_cost_json)).scalars().all() == [None, None]
    assert b"private reason" not in Path(db).read_bytes()


def test_round_solve_reports_its_progress_and_the_cost_solves_as_such(db):
    """``solve_round(progress=…)``: the round's stages, then the solves that price the overrides, labelled."""
    inst = two_by_two(overrides=[{"action": "lock", "citizen": "a", "unit": "u2"}])
    R.open_round(db, inst, by="anna")
    heard: list[tuple[str, float | None]] = []
    plan, _ = R.solve_round(db, progress=lambda m, f: heard.append((m, f)))
    assert pairs(plan) == {("a", "u2"), ("b", "u1")}
    first_cost = next(i for i, (m, _) in enumerate(heard) if m.startswith("cost of the overrides: "))
    assert heard[first_cost - 1] == ("solved: optimal", 1.0)  # the round's own solve ends first
    assert all(m.startswith("cost of the overrides: ") and f is None for m, f in heard[first_cost:])
    assert heard[0][0].startswith("preparing 2 citizens and 2 units")
