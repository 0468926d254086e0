"""Column generation (optimizer.engine.methods.pricing) gives the same optimum as the whole MILP."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import documents

import models
from optimizer.engine import solve as solve_mod
from optimizer.engine.methods import pricing
from optimizer.engine.solve import solve
from optimizer.sim.generate import generate

from conftest import assert_same_optimum, solved


@pytest.mark.parametrize(
    "preset, seed, scale", [("small", 1, 1.0), ("small", 2, 1.0), ("city-week", 0, 0.15), ("national-week", 3, 0.1)]
)
def test_pricing_matches_whole_milp(monkeypatch, preset, seed, scale):
    """Forcing pricing on small blocks reproduces the plain HiGHS optimum, and the plan passes the checker."""
    doc = generate(preset, seed=seed, scale=scale)
    plain = solve(models.from_dict(doc), backend="highs")
    monkeypatch.setattr(solve_mod, "MIN_COLUMNS", 1)
    monkeypatch.setattr(pricing, "START_PER_CITIZEN", 1)
    monkeypatch.setattr(pricing, "START_PER_UNIT", 1)
    plan = solved(doc, backend="highs")
    assert plan["status"] == "optimal"
    assert_same_optimum(plan, plain)
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
    import optimizer.engine.solve as solve_mod

    plain = solve(models.from_dict(doc), backend="highs")
    old = solve_mod.MIN_COLUMNS
    solve_mod.MIN_COLUMNS = 1
    try:
        plan = solved(doc, backend="highs")
    finally:
        solve_mod.MIN_COLUMNS = old
    assert_same_optimum(plan, plain)
    if plain.value is not None:
        assert plan["objective"]["value"] == pytest.approx(plain.value, abs=1e-6)


def test_city_year_faces_agree_with_hold_rows(monkeypatch):
    """A city-year block (165,000 pairs, three stages) ends optimal through optimal faces, at
    the optimum that hold rows give (regression: a column fixed at 1 by one stage and at 0
    by the next made the score stage's LP fail)."""
    doc = generate("city-year", seed=0, scale=0.3, format="anvis/1")  # the v1 preset the test was written for
    plan = solved(doc)
    (block,) = plan["solver"]["milp_blocks"]
    assert block["backend"] == "highs+pricing" and plan["status"] == "optimal"
    assert [s.get("kept_by") for s in block["stages"]][:-1] == ["optimal face"] * (len(block["stages"]) - 1)
    original = pricing.priced_stages
    monkeypatch.setattr(solve_mod, "priced_stages", lambda *a, **k: original(*a, **{**k, "fix_faces": False}))
    held = solved(doc)
    assert held["solver"]["milp_blocks"][0]["stages"][0]["kept_by"] == "hold rows"
    assert held["objective"] == plan["objective"]


# Settings that force each way out of the tie-broken phase (see pricing.tie_break):
# a tie-break too large to prove anything, an LP stopped by its iteration limit at once,
# and no pair ever priced in while tie-broken (only the Lagrangian bound covers them).
FALLBACKS = {
    "huge tie-break": {"TIE_BUDGET": 1e4},
    "iteration limit": {"TIED_ITERATIONS": (0, 0)},
    "nothing priced in": {"TIED_ADD_MIN": 1e9},
}


@pytest.mark.parametrize("fallback", FALLBACKS)
@pytest.mark.parametrize("preset, seed, scale", [("small", 1, 1.0), ("city-week", 0, 0.15)])
def test_tie_break_fallbacks_reach_the_plain_optimum(monkeypatch, fallback, preset, seed, scale):
    """Whichever way the tie-broken phase ends, column generation reaches the plain HiGHS
    optimum, and the fallback to the plain cost is really taken."""
    doc = generate(preset, seed=seed, scale=scale)
    plain = solve(models.from_dict(doc), backend="highs")
    monkeypatch.setattr(solve_mod, "MIN_COLUMNS", 1)
    for name, value in FALLBACKS[fallback].items():
        monkeypatch.setattr(pricing, name, value)
    plan = solved(doc, backend="highs")
    assert plan["status"] == "optimal"
    assert_same_optimum(plan, plain)
    stages = [s for b in plan["solver"]["milp_blocks"] if b["backend"] == "highs+pricing" for s in b["stages"]]
    if fallback != "nothing priced in":  # (a plan found among the start pairs can still be proven)
        assert any(s["tie_break"] == "fell back to plain cost" for s in stages)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents(), st.sampled_from(sorted(FALLBACKS)))
def test_tie_break_fallbacks_on_random_instances(doc, fallback):
    """On random instances, forced column generation with each fallback of the tie-broken
    phase forced reaches the lexicographic optimum of one plain HiGHS model."""
    plain = solve(models.from_dict(doc), backend="highs")
    saved = {name: getattr(pricing, name) for name in FALLBACKS[fallback]}
    old = solve_mod.MIN_COLUMNS
    solve_mod.MIN_COLUMNS = 1
    try:
        for name, value in FALLBACKS[fallback].items():
            setattr(pricing, name, value)
        plan = solved(doc, backend="highs")
    finally:
        solve_mod.MIN_COLUMNS = old
        for name, value in saved.items():
            setattr(pricing, name, value)
    assert_same_optimum(plan, plain)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents(), st.integers(0, 2**32 - 1))
def test_lagrangian_bound_covers_every_pair(doc, seed):
    """From any restricted LP, raising citizens' row duals by their pairs' largest reduced
    cost gives duals under which no pair outside the model has a positive reduced cost
    (but those of citizens without a row, whose reduced costs the bound adds instead), and
    a bound at least the LP optimum over every pair."""
    from optimizer.engine.backends.highs import HighsSession
    from optimizer.engine.data import ProblemData
    from optimizer.engine.model import build
    from optimizer.engine.pairs import eligible_pairs

    data = ProblemData.build(models.from_dict(doc))
    milp = build(data, eligible_pairs(data))
    if milp.n_cols == 0:
        return
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 5, milp.n_cols).astype(float) + pricing.tie_break(milp)
    model = pricing.GrowingModel(milp, data.c_prio[milp.pairs.citizen])
    inside = rng.random(milp.n_cols) < 0.4
    inside[0] = True  # (HiGHS reports no optimum for a model without columns)
    model.add(np.flatnonzero(inside), cost)
    model.set_objective(cost)
    lp = model.lp(None)
    assert lp is not None
    z, y = lp
    AT = milp.A.T.tocsr()
    extra, raised = model.lagrange(model.reduced_costs(cost, y, AT), y)
    left = np.flatnonzero(model.reduced_costs(cost, raised, AT) > 1e-9)
    assert (model.citizen_row[milp.pairs.citizen[left]] < 0).all()
    whole = HighsSession(milp)
    whole.set_objective(cost)
    whole.model().run()
    assert z + extra >= whole.h.getInfo().objective_function_value - 1e-6


@pytest.mark.parametrize("preset, scale", [("hard-city", 0.15), ("national-week", 0.3), ("city-week", 1.0)])
def test_initial_columns_are_each_citizens_best_and_each_units_most_urgent(preset, scale):
    """The one-key sort of initial_columns picks the same pairs as the lexsort definition
    (ties in score broken by unit, then by citizen), also on given scores with many ties."""
    from optimizer.engine.data import ProblemData
    from optimizer.engine.model import build
    from optimizer.engine.pairs import eligible_pairs

    def reference(data, milp):
        p = milp.pairs
        by_citizen = np.lexsort((p.unit, -p.score, p.citizen))
        by_unit = np.lexsort((p.citizen, -p.score, data.c_prio[p.citizen], p.unit))
        return np.union1d(
            pricing._top(p.citizen, by_citizen, pricing.START_PER_CITIZEN),
            pricing._top(p.unit, by_unit, pricing.START_PER_UNIT),
        )

    data = ProblemData.build(models.from_dict(generate(preset, seed=3, scale=scale, format="anvis/1")))
    milp = build(data, eligible_pairs(data))
    assert len(np.unique(milp.pairs.score)) < len(milp.pairs.score) // 10  # ties decide
    np.testing.assert_array_equal(pricing.initial_columns(data, milp), reference(data, milp))
    for cols in milp.blocks():
        block = milp.restrict(cols)
        np.testing.assert_array_equal(pricing.initial_columns(data, block), reference(data, block))


@pytest.mark.parametrize(
    "values",
    [
        np.array([3.0, -0.0, 0.0, 100.0, 3.0, 7.0]),  # integral: counted in a table (-0.0 ties 0.0)
        np.array([5, 2, 2, 9, -4], dtype=np.int32),  # integers
        np.array([0.5, 0.25, 0.5, 1.0]),  # fractional given scores: np.unique
        np.array([0.0, 1e12, 1e12, 3.0]),  # integral but too wide for the table: np.unique
        np.zeros(0),
    ],
)
def test_ranks_are_those_of_unique(values):
    """_ranks gives every value its rank among the distinct values, by table or by sort alike."""
    _, expected = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(pricing._ranks(values), expected.ravel())
    np.testing.assert_array_equal(pricing._ranks(-values), np.unique(-values, return_inverse=True)[1].ravel())


@given(
    st.lists(st.tuples(st.integers(0, 70_000), st.integers(-3, 3), st.integers(0, 5)), max_size=60),
)
def test_stable_order_is_lexsort_and_top_takes_each_groups_first(rows):
    """One stable sort per key (radix for 16-bit keys) orders as lexsort; _top keeps the first k of each group."""
    columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
    a, b, c = (np.array(col, dtype=np.int64) for col in columns)
    a = a % 5 if len(a) % 2 else a  # small first keys (radix) and large ones (beyond 2**16)
    order = pricing._stable_order(a, b, c)
    np.testing.assert_array_equal(order, np.lexsort((c, b, a)))
    f = b / 4.0  # a float key (reduced costs) is never cast to 16 bits
    np.testing.assert_array_equal(pricing._stable_order(c, f), np.lexsort((f, c)))
    for k in (0, 1, 2):
        g = a[order]
        expected = order[np.arange(len(g)) - np.searchsorted(g, g, side="left") < k]
        np.testing.assert_array_equal(pricing._top(a, order, k), expected)


def _plain_highs(inst):
    """The whole staged MILP on HiGHS: no column generation."""
    old = solve_mod.MIN_COLUMNS, solve_mod.dense
    solve_mod.MIN_COLUMNS, solve_mod.dense = 10**12, lambda milp: False
    try:
        return solve(inst, backend="highs")
    finally:
        solve_mod.MIN_COLUMNS, solve_mod.dense = old


def test_reused_completions_and_incumbent_at_the_bound_reach_the_plain_optimum(monkeypatch):
    """Small hard-city instances, every block priced from one pair per citizen and unit:
    completions answered from the remembered ones and incumbents returned by round_lp
    (instead of a wide completion) both occur, and every plan reaches the whole staged
    MILP's optimum and passes the checker."""
    reused, incumbent = [], []
    key, complete_round = pricing.GrowingModel._completion_key, pricing.GrowingModel.round_lp

    def spy_key(self, *args):
        k = key(self, *args)
        reused.append(k in self.completed)
        return k

    def spy_round(self, *args):
        found = complete_round(self, *args)
        incumbent.append(found is not None and len(args) > 6 and found is args[6])
        return found

    for seed in range(12):
        doc = generate("hard-city", seed=seed, scale=0.2, format="anvis/1")
        plain = _plain_highs(models.from_dict(doc))
        with monkeypatch.context() as m:
            m.setattr(solve_mod, "MIN_COLUMNS", 1)
            m.setattr(pricing, "START_PER_CITIZEN", 1)
            m.setattr(pricing, "START_PER_UNIT", 1)
            m.setattr(pricing.GrowingModel, "_completion_key", spy_key)
            m.setattr(pricing.GrowingModel, "round_lp", spy_round)
            plan = solved(doc, backend="highs")
        assert plan["status"] == "optimal"
        assert_same_optimum(plan, plain)
    assert any(reused) and any(incumbent)


def test_completion_key_changes_with_every_input():
    """A remembered completion answers only the same question: the digest changes with the
    cost, the fixed values, the free pairs, the gap, the start, exactness, the rows' bounds,
    the pairs fixed at 1, the hold rows and the earlier stages' optima."""
    from optimizer.engine.data import ProblemData
    from optimizer.engine.model import build
    from optimizer.engine.pairs import eligible_pairs

    data = ProblemData.build(models.from_dict(generate("small", seed=1)))
    milp = build(data, eligible_pairs(data))
    model = pricing.GrowingModel(milp, data.c_prio[milp.pairs.citizen])
    cost = np.ones(milp.n_cols)
    x = np.zeros(milp.n_cols, np.int8)
    free = np.arange(3)
    args = (cost, x, free, 0.5, None, False)
    keys = {model._completion_key(*args)}
    assert model._completion_key(*args) in keys  # the same question, the same digest
    changed = [
        (cost + np.eye(milp.n_cols)[5], x, free, 0.5, None, False),
        (cost, np.eye(milp.n_cols, dtype=np.int8)[5], free, 0.5, None, False),
        (cost, x, np.arange(4), 0.5, None, False),
        (cost, x, free, 1e-6, None, False),
        (cost, x, free, 0.5, np.ones(milp.n_cols, np.int8), False),
        (cost, x, free, 0.5, None, True),
    ]
    for other in changed:
        keys.add(model._completion_key(*other))
    model.row_hi[0] -= 1
    keys.add(model._completion_key(*args))
    model.one[7] = True
    keys.add(model._completion_key(*args))
    model.holds.append(1)
    model.hold_at_least.append(2.0)
    keys.add(model._completion_key(*args))
    model.kept.append((cost, 3.0))
    keys.add(model._completion_key(*args))
    assert len(keys) == 1 + len(changed) + 4
