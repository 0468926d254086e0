"""Declined offers on the typed plan (optimizer.rounds.workflow.without_offers), and stored plans read as Plans."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

import models
from optimizer.check import check_plan
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.plan.usage import recount
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R

from conftest import doc


def weighted() -> models.Instance:
    """Three citizens (two vulnerable and subsidy-eligible) and three units, weighted objective."""
    d = doc(
        [
            {"id": "a", "vulnerable": True, "subsidy_eligible": True, "max_rent_kr": 4000},
            {"id": "b", "priority": 2, "vulnerable": True, "subsidy_eligible": True, "max_rent_kr": 4000},
            {"id": "c", "priority": 2},
        ],
        [{"id": "u1", "rent_kr": 5000}, {"id": "u2", "rent_kr": 5000}, {"id": "u3"}],
        parameters={"objective": "weighted", "priority_weights": {"1": 1000, "2": 100}},
        municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 5}],
        regions=[{"id": "R", "name": "R", "grant_quota": 4}],
        departments=[{"id": "D", "organisation": "O", "municipality": "M", "max_vulnerable": 3}],
    )
    return models.from_dict(d)


def test_without_offers_recounts_objective_usage_and_lists_every_decline():
    """Declining a, then b: the objective (value included) and every usage count drop by what each
    assignment counted, as a recount from the instance says; both are unassigned with code
    'declined' and listed in 'declined' in order; the plans stay valid and the input plan unchanged."""
    inst = weighted()
    plan = make_plan(solve(inst))
    before = plan.to_dict()
    assert {a.citizen for a in plan.assignments} == {"a", "b", "c"}
    assert sum(a.subsidised for a in plan.assignments) == 2
    score = {a.citizen: a.score for a in plan.assignments}
    one = R.without_offers(inst, plan, ["a"])
    two = R.without_offers(inst, one, ["b"])
    assert plan.to_dict() == before
    assert R.without_offers(inst, two, []) is two
    for p, gone in ((one, ["a"]), (two, ["a", "b"])):
        assert check_plan(inst, p) == []
        assert [a.citizen for a in p.assignments] == [c for c in ("a", "b", "c") if c not in gone]
        assert p.usage == recount(inst, p)
        assert p.objective.total_score == sum(score.values()) - sum(score[c] for c in gone)
        assert p.objective.value == plan.objective.value - sum((1000 if c == "a" else 100) + score[c] for c in gone)
    assert two.objective.housed_by_priority == {"1": 0, "2": 1}
    doc_two = two.to_dict()
    assert [(d["citizen"], d["unit"], d["subsidised"]) for d in doc_two["declined"]] == [
        (a.citizen, a.unit, True) for a in plan.assignments if a.citizen in ("a", "b")
    ]
    assert list(doc_two["declined"][0]) == ["citizen", "unit", "pool", "department", "subsidised"]
    assert [(u.citizen, u.code, u.priority) for u in two.unassigned] == [("a", "declined", 1), ("b", "declined", 2)]
    assert models.Plan.from_dict(doc_two) == two
    with pytest.raises(L.LedgerError, match="no offer to decline in the plan for citizen\\(s\\) 'a'"):
        R.without_offers(inst, two, ["a"])


def test_a_malformed_stored_plan_is_a_ledger_error_naming_the_field(tmp_path):
    """round_plan and decline_offers read the stored plan as a Plan: a malformed one is a
    LedgerError naming the round and the field, not a traceback further on."""
    db = str(tmp_path / "l.db")
    R.open_round(db, models.from_dict(doc([{"id": "a"}], [{"id": "u1"}])))
    plan, _ = R.solve_round(db)
    assert R.round_plan(db)[1] == plan
    bad = plan.to_dict()
    bad["assignments"][0]["unit"] = 7
    with L.open_engine(db).begin() as conn:
        conn.execute(update(L.rounds).values(plan_json=json.dumps(bad)))
    for call in (lambda: R.round_plan(db), lambda: R.decline_offers(db, ["a"])):
        with pytest.raises(L.LedgerError, match=r"round 1: the stored plan is malformed: .*assignments\[0\]\.unit"):
            call()
    L.dispose_all()
