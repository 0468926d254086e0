"""Column generation (optimizer.pricing) gives the same optimum as the whole MILP."""

import pytest

import models
from optimizer import pricing, solve as solve_mod
from optimizer.generate import generate
from optimizer.solve import solve
from conftest import solved


@pytest.mark.parametrize("preset, seed, scale", [("small", 1, 1.0), ("small", 2, 1.0), ("city-week", 0, 0.15),
                                                 ("national-week", 3, 0.1)])
def test_pricing_matches_whole_milp(monkeypatch, preset, seed, scale):
    """Forcing pricing on small blocks reproduces the plain HiGHS optimum, and the plan passes the checker."""
    doc = generate(preset, seed=seed, scale=scale)
    plain = solve(models.from_dict(doc), backend="highs")
    monkeypatch.setattr(solve_mod, "MIN_COLUMNS", 1)
    monkeypatch.setattr(pricing, "START_PER_CITIZEN", 1)
    monkeypatch.setattr(pricing, "START_PER_UNIT", 1)
    plan = solved(doc, backend="highs")
    assert plan["status"] == "optimal"
    assert {int(k): v for k, v in plan["objective"]["housed_by_priority"].items()} == plain.housed_by_priority
    assert plan["objective"]["total_score"] == pytest.approx(plain.total_score, abs=1e-6)
    if any(b["backend"] == "highs+pricing" for b in plan["solver"]["milp_blocks"]):
        return
    pytest.fail("pricing was not used")
