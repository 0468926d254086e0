"""A round's stored plan is trusted only after the independent checker passed it (issue 10, item 3).

The plan lies in the ledger database between ``round solve`` and ``round commit``;
whoever can write the database can edit it. The commit re-checks it against the
round's stored instance and recounts its usage, and refuses an edited plan with a
:class:`~optimizer.rounds.ledger.LedgerError` naming the first violations, leaving
the ledger as it was.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

import models
from optimizer.check import check_plan
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R

from conftest import doc


def week() -> models.Instance:
    """Three citizens (a and c vulnerable, c too poor for any unit), three units of department D
    (mixed-city cap 1), pool 'all'."""
    d = doc(
        [
            {"id": "a", "vulnerable": True},
            {"id": "b", "priority": 2, "max_rooms": 2},
            {"id": "c", "priority": 3, "max_rent_kr": 2000, "vulnerable": True},
        ],
        [{"id": "u1"}, {"id": "u2"}, {"id": "u3", "rooms": 5}],
    )
    d["departments"][0]["max_vulnerable"] = 1
    d["name"] = "week-1"
    return models.from_dict(d)


@pytest.fixture
def solved_round(tmp_path):
    """A ledger with one solved round: its path and the stored plan document."""
    db = str(tmp_path / "ledger.db")
    R.open_round(db, week())
    plan, _ = R.solve_round(db)
    yield db, plan.to_dict()
    L.dispose_all()


def edit_stored_plan(db: str, change: Callable[[dict[str, Any]], object]) -> None:
    """Edit the stored plan in the SQLite file directly, as anyone with the file could."""
    with sqlite3.connect(db) as conn:
        (text,) = conn.execute("SELECT plan_json FROM rounds WHERE status = 'solved'").fetchone()
        plan = json.loads(text)
        change(plan)
        conn.execute("UPDATE rounds SET plan_json = ? WHERE status = 'solved'", (json.dumps(plan),))
    conn.close()


def refused(db: str, match: str) -> None:
    """The commit is refused with ``match`` in its one line, and the ledger and round are untouched."""
    with pytest.raises(R.LedgerError, match=match) as exc:
        R.commit_round(db, by="t")
    assert "\n" not in str(exc.value)
    assert R.ledger_totals(db) == {}
    assert R.status(db)["open"]["status"] == "solved"


def test_the_plan_as_solved_commits(solved_round):
    """The baseline: the stored plan is untouched, the checker passes it, the commit adds its claims."""
    db, plan = solved_round
    assert {(a["citizen"], a["unit"]) for a in plan["assignments"]} == {("a", "u1"), ("b", "u2")}
    assert R.commit_round(db, by="t")["claims"] == 2
    assert R.ledger_totals(db)["pool"]["all"] == {"vacancies": 3, "claimed": 2}


def test_removed_usage_is_refused(solved_round):
    """A plan without its usage section is not the plan anvis stored."""
    db, _ = solved_round
    edit_stored_plan(db, lambda p: p.pop("usage"))
    refused(db, r"^round 1: the stored plan's usage is missing or differs from its recount; nothing committed$")


def test_faked_usage_is_refused(solved_round):
    """A usage that hides a claim is refused, naming the pool."""
    db, _ = solved_round
    edit_stored_plan(db, lambda p: p["usage"]["pools"][0].update(used=1))
    refused(db, r"fails the independent check: usage: usage.pools 'all': used is 1, recomputed 2; nothing committed")


def test_an_assignment_that_breaks_a_rule_is_refused(solved_round):
    """An assignment moved in the database to a unit the citizen cannot take (rule 3) is refused."""
    db, _ = solved_round

    def move(p: dict[str, Any]) -> None:
        a = next(a for a in p["assignments"] if a["citizen"] == "b")
        a.update(unit="u3")
        p["usage"]["pools"][0]["used"] = 2

    edit_stored_plan(db, move)
    refused(db, r"fails the independent check: R3-rooms: unit 'u3' \(5 rooms\) is outside the room range")


def test_an_added_claim_is_refused(solved_round):
    """A claim added in the database for a citizen who cannot afford the unit, and who would be a
    second vulnerable tenant in D, is refused: the first violations are named, the rest counted."""
    db, _ = solved_round

    def add(p: dict[str, Any]) -> None:
        a = copy.deepcopy(p["assignments"][0])
        a.update(citizen="c", unit="u3")
        p["assignments"].append(a)

    edit_stored_plan(db, add)
    refused(
        db, r"fails the independent check: R8-affordability: unit 'u3' is unaffordable for citizen 'c'.*\(\+\d+ more\)"
    )
    inst, stored = R.round_plan(db)
    assert {"R8-affordability", "R12-mixed-city", "objective"} <= {v.rule for v in check_plan(inst, stored)}


def test_a_plan_of_another_instance_with_the_hash_changed_is_refused(solved_round, tmp_path):
    """Another instance's plan with this round's hash written into it names ids this instance lacks."""
    db, plan = solved_round
    other = doc([{"id": "x"}], [{"id": "v1"}])
    other["name"] = "week-1"
    from optimizer.engine.solve import solve
    from optimizer.plan.build import make_plan

    foreign = make_plan(solve(models.from_dict(other))).to_dict()
    foreign["instance_sha256"] = plan["instance_sha256"]
    edit_stored_plan(db, lambda p: (p.clear(), p.update(foreign)))
    refused(db, r"fails the independent check: format: assignments\[0\].citizen: unknown citizen 'x'")


def test_a_reason_edited_to_name_an_attribute_is_refused(solved_round):
    """A reason rewritten in the database to state the citizen's circumstances is refused."""
    db, _ = solved_round
    edit_stored_plan(db, lambda p: p["unassigned"][0].update(reason="citizen needs accessible"))
    refused(db, r"privacy: unassigned citizen 'c': the reason states needs accessible")


def test_a_round_with_a_declined_offer_still_commits(solved_round):
    """A declined offer changes the stored plan through the ledger's own code: the checker passes it."""
    db, _ = solved_round
    R.decline_offers(db, ["b"])
    assert R.commit_round(db, by="t")["claims"] == 1
    assert R.ledger_totals(db)["pool"]["all"] == {"vacancies": 3, "claimed": 1}
