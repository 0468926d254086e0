"""The one reason chain (optimizer.plan.reasons) and the text helpers (optimizer.text)."""

from __future__ import annotations

import numpy as np
import pytest

import models
from optimizer.engine.solve import solve
from optimizer.explain.citizen import explain, explain_all
from optimizer.plan.build import make_plan
from optimizer.plan.reasons import CODES, no_eligible, no_eligible_all, reason_code, reason_codes
from optimizer.text import amount, compact_ids, kr, number, plural

from conftest import doc


@pytest.mark.parametrize(
    "counts, code",
    [
        ((0, 0, 0, 0), "no_eligible_unit"),
        ((3, 1, 1, 1), "time_limit"),  # a free unit beats everything: the solve was cut short
        ((3, 0, 1, 1), "capacity"),  # a full cap beats competition
        ((3, 0, 0, 1), "competition"),
        ((3, 0, 0, 0), "outranked"),
    ],
)
def test_reason_chain_order(counts, code):
    """Each code binds exactly where the chain puts it, scalar and vectorised alike."""
    assert reason_code(*counts) == code
    assert reason_codes(*(np.array([c, 0]) for c in counts))[0] == code
    assert code in CODES


def reasons_doc() -> dict:
    """a takes u2; b's other unit u1 is free but D2's mixed-city cap is 0 (capacity); c fits no unit;
    e takes the elderly unit u3, which f wanted too (outranked)."""
    return doc(
        [
            {"id": "a", "vulnerable": True},
            {"id": "b", "priority": 2, "vulnerable": True},
            {"id": "c", "min_rooms": 5},
            {"id": "e", "priority": 3, "kinds": ["elderly"]},
            {"id": "f", "priority": 4, "kinds": ["elderly"]},
        ],
        [{"id": "u1", "department": "D2"}, {"id": "u2"}, {"id": "u3", "kind": "elderly"}],
        departments=[
            {"id": "D", "organisation": "O", "municipality": "M"},
            {"id": "D2", "organisation": "O", "municipality": "M", "max_vulnerable": 0},
        ],
    )


def test_plan_explain_and_explain_all_give_the_same_code():
    """The plan's reason, explain and explain_all come from one chain: their codes agree for every citizen."""
    inst = models.from_dict(reasons_doc())
    plan = make_plan(solve(inst))
    got = {u.citizen: u.code for u in plan.unassigned}
    assert got == {"b": "capacity", "c": "no_eligible_unit", "f": "outranked"}
    every = explain_all(inst, plan)
    for cid, code in got.items():
        assert explain(inst, plan, cid, counterfactuals=False)["code"] == code
        assert every[cid]["code"] == code


def test_text_helpers():
    """Numbers stay exact unless asked to round; kroner show øre only where there are any; plurals agree."""
    assert number(3286.0) == 3286 and isinstance(number(3286.0), int)
    assert number(0.125) == 0.125 and number(0.125, 2) == 0.12
    assert number(3.999, 2) == 4 and isinstance(number(3.999, 2), int)
    assert amount(1414) == "1,414" and amount(3386.5) == "3,386.50" and amount(2000.001) == "2,000"
    assert kr(12500) == "12,500 kr"
    assert (plural(1, "unit"), plural(0, "unit"), plural(2, "unit")) == ("1 unit", "0 units", "2 units")
    assert compact_ids(["u1", "u2", "u3", "x", "u5"]) == "u1..u3, x, u5"
    assert compact_ids([f"u{i}" for i in range(0, 40, 2)], limit=2) == "u0, u2, … (+18 more)"


def test_no_eligible_of_many_citizens_at_once_as_of_each():
    """The batched rule counts of citizens without an eligible unit equal each citizen's own."""
    d = doc(
        [
            {"id": "c1", "min_rooms": 5},
            {"id": "c2", "max_rent_kr": 10},
            {"id": "c3", "needs_accessible": True},
            {"id": "c4", "min_rooms": 4, "max_rent_kr": 10},
        ],
        [{"id": "u1"}, {"id": "u2", "rooms": 3}, {"id": "u3", "rent_kr": 9000}],
    )
    data = solve(models.from_dict(d)).data
    every = np.arange(data.n_citizens)
    batched = no_eligible_all(data, every)
    assert batched == [no_eligible(data, int(c)) for c in every]
    assert len({str(b["details"]) for b in batched}) > 1  # the citizens differ, so the rows are not swapped
