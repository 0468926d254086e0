"""The one count of caps (optimizer.plan.usage): plans, explanations and the ledger commit agree."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select, update

import models
from optimizer.engine.data import ProblemData
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.plan.usage import assigned_pairs, count_used, full_caps, recount
from optimizer.rounds import ledger as L
from optimizer.rounds import workflow as R
from optimizer.sim.generate import generate

from conftest import doc


def subsidised_doc() -> dict:
    """Two vulnerable, subsidy-eligible citizens, two units that need the subsidy; frame 5, dept cap 1."""
    d = doc(
        [{"id": f"c{i}", "max_rent_kr": 4000, "subsidy_eligible": True, "vulnerable": True} for i in range(2)],
        [{"id": f"u{i}", "rent_kr": 5000} for i in range(2)],
        municipalities=[{"id": "M", "name": "M", "region": "R", "subsidy_frame": 5}],
    )
    d["departments"][0]["max_vulnerable"] = 1
    return d


def test_recount_equals_the_usage_make_plan_writes():
    """Recounting a plan's usage from its assignments gives exactly the plan's own usage section."""
    inst = models.from_dict(generate("small", seed=4))
    plan = make_plan(solve(inst))
    assert recount(inst, plan) == plan.usage
    faked = plan.model_copy(update={"usage": None})
    assert recount(inst, faked) == plan.usage


def test_full_caps_name_the_full_cap_and_moving_frees_its_place():
    """A cap is full when one more assignment would exceed it; a citizen moving within the cap frees their own slot."""
    inst = models.from_dict(subsidised_doc())
    data = ProblemData.build(inst)
    plan = make_plan(solve(inst))
    used = count_used(data, *assigned_pairs(data, plan))
    assert [a.unit for a in plan.assignments] == ["u0"]  # the department cap of 1 houses one vulnerable citizen
    caps = full_caps(data, used, 1, 1, True)
    assert [(c.kind, c.id, c.used, c.limit) for c in caps] == [("department", "D", 1, 1)]
    assert caps[0].text == "department 'D' mixed-city cap full (1/1)"
    assert full_caps(data, used, 0, 1, True, move_from=0) == []  # c0 moving from u0 to u1 frees the slot


def test_commit_refuses_a_stored_plan_with_faked_usage(tmp_path):
    """A stored plan whose usage is faked is refused (issue 10, item 3): the ledger is read from the
    recount of its assignments, and a plan that disagrees with it is not the plan that was solved."""
    db = str(tmp_path / "l.db")
    inst = models.from_dict(subsidised_doc())
    R.open_round(db, inst)
    plan, _ = R.solve_round(db)
    assert len(plan.assignments) == 1 and plan.assignments[0].subsidised
    doc_ = plan.to_dict()
    for section in doc_["usage"].values():
        for entry in section:
            entry["used"] = 7  # a lie in every section
    doc_["usage"]["pools"][0]["vacancies"] = 99
    with L.open_engine(db).begin() as conn:
        conn.execute(update(L.rounds).values(plan_json=json.dumps(doc_)))
        stored = json.loads(conn.execute(select(L.rounds.c.plan_json)).scalar_one())
    assert stored["usage"]["pools"][0]["used"] == 7
    with pytest.raises(R.LedgerError, match=r"round 1: the stored plan fails the independent check: usage: "):
        R.commit_round(db, by="t")
    assert R.ledger_totals(db) == {}
    doc_ = plan.to_dict()
    doc_["usage"]["pools"][0]["vacancies"] = 99  # a lie the checker's recount has no field for
    with L.open_engine(db).begin() as conn:
        conn.execute(update(L.rounds).values(plan_json=json.dumps(doc_)))
    with pytest.raises(R.LedgerError, match="usage is missing or differs from its recount"):
        R.commit_round(db, by="t")
    with L.open_engine(db).begin() as conn:
        conn.execute(update(L.rounds).values(plan_json=json.dumps(plan.to_dict())))
    done = R.commit_round(db, by="t")
    assert done["claims"] == 1
    t = R.ledger_totals(db)
    assert t["pool"]["all"] == {"vacancies": 2, "claimed": 1}
    assert t["municipality"]["M"]["claimed"] == 1 and t["region"]["R"]["claimed"] == 1
    assert t["department"]["D"]["claimed"] == 1
    L.dispose_all()


def test_count_used_is_vectorised_over_every_cap():
    """count_used counts pools for all, departments for vulnerable citizens, frames and quotas for subsidised pairs."""
    inst = models.from_dict(subsidised_doc())
    data = ProblemData.build(inst)
    used = count_used(data, np.array([0, 1]), np.array([0, 1]), np.array([True, False]))
    assert used.pool.tolist() == [2] and used.department.tolist() == [2]
    assert used.frame.tolist() == [1] and used.quota.tolist() == [1]
    assert used["frame"] is used.frame


def test_pool_usage_records_are_the_validated_records_field_by_field():
    """The pools' rows, built by columns, give the records validation gives, fields in the class's order."""
    from models.plan import PoolUsage
    from optimizer.plan.usage import POOL_FIELDS, plan_usage

    assert tuple(PoolUsage.model_fields) == POOL_FIELDS
    inst = models.from_dict(generate("city-week", seed=1))
    result = solve(inst)
    data = result.data
    used = count_used(data, result.chosen.citizen, result.chosen.unit, result.chosen.subsidised)
    pools = plan_usage(data, used).pools
    expected = [
        PoolUsage.model_validate({**{k: getattr(p, k) for k in POOL_FIELDS[:-1]}, "used": n})
        for p, n in zip(data.pool_list, used.pool.tolist(), strict=True)
    ]
    assert len(pools) == len(expected) > 1
    for fast, slow in zip(pools, expected, strict=True):
        assert list(vars(fast).items()) == list(vars(slow).items())
        assert fast.model_fields_set == slow.model_fields_set and fast.model_dump_json() == slow.model_dump_json()
