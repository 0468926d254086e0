"""Reference instances read in place from ../shared: worked examples and OR-Library."""

import csv
import json

import pytest

import models
from optimizer.check import check_plan
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan

from conftest import EXAMPLES, ORLIB, SHARED, needs_shared, solved

EXAMPLE_NAMES = ["e1-ledger-and-subsidy", "e2-random-small", "e3-random-regions", "e4-weighted"]


@needs_shared
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
@pytest.mark.parametrize("backend", ["auto", "highs"])
def test_worked_examples_reach_expected_optimum(name, backend):
    """Each worked example solves to the optimum in expected.json, and the plan passes the checker."""
    expected = json.loads((EXAMPLES / "expected.json").read_text())[name]
    plan = solved(models.from_dict(json.loads((EXAMPLES / f"{name}.json").read_text())).to_dict(), backend=backend)
    assert plan["status"] == "optimal"
    assert plan["objective"]["housed_by_priority"] == expected["housed_by_priority"]
    assert plan["objective"]["total_score"] == pytest.approx(expected["total_score"], abs=1e-6)
    assert {p["id"]: p["cap"] for p in plan["usage"]["pools"]} == expected["pool_caps"]


def test_e1_plan_by_hand():
    """e1, worked by hand in the examples README: anna in u2, subsidised, effective rent 3,286."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    plan = make_plan(solve(models.load(EXAMPLES / "e1-ledger-and-subsidy.json"))).to_dict()
    assert (
        plan["assignments"][0].items()
        >= {"citizen": "anna", "unit": "u2", "subsidised": True, "effective_rent_kr": 3286, "score": 70.0}.items()
    )


def _optima():
    if not ORLIB.is_dir():
        return {}
    with open(ORLIB / "optimal_values.csv") as f:
        return {r["instance"]: int(r["optimal_min_cost"]) for r in csv.DictReader(f)}


@needs_shared
@pytest.mark.parametrize("n", [100, 200, 300, 400, 500, 600, 700, 800])
def test_orlib_assignment_through_the_engine(n):
    """OR-Library assignNNN: scores 101 − cost, one pool of share 1.0, all priority 1 → min cost reproduced."""
    name = f"assign{n}"
    inst = models.load(ORLIB / f"{name}.txt")
    result = solve(inst)
    assert result.status == "optimal"
    assert result.housed_by_priority == {1: n}
    assert 101 * n - result.total_score == _optima()[name]
    if n <= 200:
        assert check_plan(inst, make_plan(result)) == []


@needs_shared
def test_orlib_milp_agrees_with_fast_path():
    """On assign100 the HiGHS MILP (no fast path) finds the same optimum as the matching."""
    inst = models.load(ORLIB / "assign100.txt")
    assert 101 * 100 - solve(inst, backend="highs").total_score == _optima()["assign100"]
