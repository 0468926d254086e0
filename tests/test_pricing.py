"""Column generation (optimizer.pricing) gives the same optimum as the whole MILP."""

import pytest
from hypothesis import HealthCheck, given, settings

import models
from optimizer import pricing, solve as solve_mod
from optimizer.generate import generate
from optimizer.solve import solve
from conftest import solved
from test_properties import documents


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
    priced = [b for b in plan["solver"]["milp_blocks"] if b["backend"] == "highs+pricing"]
    assert priced, "pricing was not used"
    # later stages kept earlier optima through the optimal LP face (not only hold rows)
    assert any(s.get("kept_by") == "optimal face" for b in priced for s in b["stages"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents())
def test_pricing_with_optimal_faces_matches_plain_model(doc):
    """On random instances, forced column generation (with later stages restricted to the
    earlier stages' optimal faces) reaches the same lexicographic optimum as one plain
    HiGHS model with hold rows, and its plan passes the checker."""
    import optimizer.solve as solve_mod

    plain = solve(models.from_dict(doc), backend="highs")
    old = solve_mod.MIN_COLUMNS
    solve_mod.MIN_COLUMNS = 1
    try:
        plan = solved(doc, backend="highs")
    finally:
        solve_mod.MIN_COLUMNS = old
    assert {int(k): v for k, v in plan["objective"]["housed_by_priority"].items()} == plain.housed_by_priority
    assert plan["objective"]["total_score"] == pytest.approx(plain.total_score, abs=1e-6)
    if plain.value is not None:
        assert plan["objective"]["value"] == pytest.approx(plain.value, abs=1e-6)


def test_city_year_faces_agree_with_hold_rows(monkeypatch):
    """A city-year block (165,000 pairs, three stages) ends optimal through optimal faces, at
    the optimum that hold rows give (regression: a column fixed at 1 by one stage and at 0
    by the next made the score stage's LP fail)."""
    doc = generate("city-year", seed=0, scale=0.3)
    plan = solved(doc)
    (block,) = plan["solver"]["milp_blocks"]
    assert block["backend"] == "highs+pricing" and plan["status"] == "optimal"
    assert [s.get("kept_by") for s in block["stages"]][:-1] == ["optimal face"] * (len(block["stages"]) - 1)
    original = pricing.priced_stages
    monkeypatch.setattr(solve_mod, "priced_stages",
                        lambda *a, **k: original(*a, **{**k, "fix_faces": False}))
    held = solved(doc)
    assert held["solver"]["milp_blocks"][0]["stages"][0]["kept_by"] == "hold rows"
    assert held["objective"] == plan["objective"]
