"""Aggregation of interchangeable citizens and units (optimizer.engine.methods.aggregate) is exact.

The fast path must reach the optimum of the plain MILP (backend ``highs``, which
never aggregates) on a corpus with many identical flats and citizens, merge only
what is truly interchangeable, and survive signature collisions.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import documents

import models
from optimizer.engine.methods import aggregate as agg_mod
from optimizer.engine.solve import solve
from optimizer.sim.generate import duplicated, generate

from conftest import assert_same_optimum, doc, solved


def _agree(d: dict) -> dict:
    plan = solved(d)  # auto: aggregates where it pays
    plain = solve(models.from_dict(d), backend="highs")
    assert_same_optimum(plan, plain)
    return plan


@pytest.mark.parametrize("preset, scale, seed", [("small", 1.0, 1), ("city-week", 0.3, 2), ("national-week", 0.3, 3)])
def test_aggregated_optimum_equals_plain_milp_on_corpus(preset, scale, seed):
    """Generated instances with every flat three times and every citizen twice: the aggregated
    model is used, several times smaller, and reaches the plain MILP's optimum."""
    plan = _agree(duplicated(generate(preset, seed=seed, scale=scale), 3, 2))
    blocks = [b for b in plan["solver"]["milp_blocks"] if b["backend"] == "highs+aggregated"]
    assert blocks
    assert sum(b["aggregated_columns"] for b in blocks) * 3 < sum(b["columns"] for b in blocks)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents(max_citizens=6, max_units=6), st.integers(1, 3), st.integers(1, 3))
def test_aggregated_optimum_equals_plain_milp_on_random_instances(document, k_units, k_citizens):
    """On random instances with duplicated units and citizens, both objectives, every rule:
    auto (aggregating) and the plain MILP agree, and the plan passes the checker."""
    d = duplicated(document, k_units, k_citizens)
    plan = _agree(d)
    if d["parameters"].get("objective") == "weighted":
        assert plan["objective"]["value"] == pytest.approx(solve(models.from_dict(d), backend="highs").value)


def test_units_that_differ_are_not_merged():
    """Two flats alike in every field but their given score for one citizen are two classes."""
    units = [{"id": f"u{i}"} for i in range(4)]
    citizens = [{"id": f"c{i}", "priority": 1 + i % 2} for i in range(6)]
    d = doc(citizens, units, agreements=[{"id": "p", "municipality": "M", "share": 0.5}])
    block = _only_block(d)
    agg = agg_mod.aggregate(block[0], block[1])
    assert agg is not None and len(agg.members_u) == 1 and len(agg.members_c) == 2
    d["scores"] = [{"citizen": "c0", "unit": "u3", "score": 99}]
    block = _only_block(d)
    agg = agg_mod.aggregate(block[0], block[1])
    assert agg is None or len(agg.members_u) == 2


def test_signature_collisions_cost_speed_not_exactness(monkeypatch):
    """With every signature forced equal, verification refuses the false classes and the
    answer is still the plain optimum."""
    monkeypatch.setattr(agg_mod, "_pair_hash", lambda *cols: cols[0].astype("uint64") * 0)
    d = duplicated(generate("small", seed=4), 2, 2)
    data, block = _only_block(d)
    assert agg_mod.aggregate(data, block) is None
    _agree(d)


def _only_block(d: dict):
    from optimizer.engine.data import ProblemData
    from optimizer.engine.model import build
    from optimizer.engine.pairs import eligible_pairs

    data = ProblemData.build(models.from_dict(d))
    milp = build(data, eligible_pairs(data))
    (cols,) = milp.blocks()[:1]
    return data, milp.restrict(cols)


def _column_bound(data, block):
    """columns_at_least from the block's unverified signature classes, as aggregate takes it."""
    p = block.pairs
    cits, c_local = agg_mod._compact(p.citizen, data.n_citizens)
    units, u_local = agg_mod._compact(p.unit, data.n_units)
    bits, sub = p.score.astype(float).view("int64"), p.subsidised.astype("int64")
    u_sig = agg_mod._signature_classes(
        u_local, (c_local, bits, sub), (data.u_pool[units], data.u_dept[units]), len(units)
    )
    c_extra = (data.c_prio[cits], data.c_vulnerable[cits].astype("int64"))
    c_sig = agg_mod._signature_classes(c_local, (u_sig[u_local], bits, sub), c_extra, len(cits))
    return agg_mod.columns_at_least(c_local, u_local, u_sig, c_sig)


def test_column_bound_is_the_aggregated_size_without_collisions():
    """Where signatures do not collide, the bound aggregate checks before verifying is exactly
    the aggregated model's column count (so the early exit refuses only what would be refused)."""
    data, block = _only_block(duplicated(generate("small", seed=4), 3, 2))
    agg = agg_mod.aggregate(data, block)
    assert agg is not None
    assert _column_bound(data, block) == pytest.approx(agg.milp.n_cols, abs=1e-9)


def test_column_bound_never_exceeds_the_columns_under_collisions(monkeypatch):
    """Signatures that all collide make the bound smaller, never larger, than the true columns."""
    data, block = _only_block(duplicated(generate("small", seed=4), 3, 2))
    agg = agg_mod.aggregate(data, block)
    assert agg is not None
    monkeypatch.setattr(agg_mod, "_pair_hash", lambda *cols: cols[0].astype("uint64") * 0)
    assert _column_bound(data, block) <= agg.milp.n_cols


def test_blocks_that_cannot_shrink_are_refused_before_verifying(monkeypatch):
    """A block of distinct units and citizens is refused by the column bound alone (no sort of
    its pairs), and the full computation agrees that its model would keep too many columns."""
    data, block = _only_block(generate("city-week", seed=2, scale=0.3))

    def no_verifying(*args, **kwargs):
        raise AssertionError("verified although the signature classes already need too many columns")

    with monkeypatch.context() as m:
        m.setattr(agg_mod, "_classes", no_verifying)
        assert agg_mod.aggregate(data, block) is None
    monkeypatch.setattr(agg_mod, "MAX_SHARE", 1.0)
    full = agg_mod.aggregate(data, block)
    assert full is not None and full.milp.n_cols > 0.6 * block.n_cols


def _classes_by_numpys_unique(owner, items, extra, n):
    """The signature classes as np.unique of the stacked key rows gave them (the former code)."""
    import numpy as np

    sig = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        np.add.at(sig, owner, agg_mod._pair_hash(*items))
    key = np.stack([sig.view(np.int64), np.bincount(owner, minlength=n), *extra], axis=1)
    _, first, label = np.unique(key, axis=0, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[label.ravel()]


@pytest.mark.parametrize("seed", range(60))
def test_signature_classes_are_those_of_numpys_unique_rows(seed):
    """The lexsort grouping gives the classes, numbered by first member, of np.unique's rows."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    m = int(rng.integers(0, 150)) if n else 0
    owner = rng.integers(0, n, m) if n else np.zeros(0, np.int64)
    items = tuple(rng.integers(0, int(rng.integers(1, 4)), m) for _ in range(int(rng.integers(1, 4))))
    extra = tuple(rng.integers(0, 3, n) for _ in range(seed % 3))
    ours = agg_mod._signature_classes(owner, items, extra, n)
    expected = _classes_by_numpys_unique(owner, items, extra, n)
    assert ours.dtype == np.int64 and np.array_equal(ours, expected)


def test_signature_classes_merge_equal_owners_and_number_classes_by_first_member():
    import numpy as np

    # owners 0 and 2: the same items {(1, 5), (2, 5)}; owner 1: other items; owner 3: none
    owner = np.array([2, 0, 1, 0, 2])
    items = (np.array([2, 1, 1, 2, 1]), np.array([5, 5, 6, 5, 5]))
    assert agg_mod._signature_classes(owner, items, (), 4).tolist() == [0, 1, 0, 2]
    # an extra key that differs splits them
    assert agg_mod._signature_classes(owner, items, (np.array([0, 0, 1, 0]),), 4).tolist() == [0, 1, 2, 3]
