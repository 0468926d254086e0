"""The persistent world of the simulation: its urgent list and inflow for a subset of municipalities."""

from __future__ import annotations

import collections

import pytest

from optimizer.sim.calibration import HOMELESS_INFLOW, NATIONAL_HOMELESS
from optimizer.sim.world import world


def test_full_world_starts_with_the_national_homeless_count():
    """All 98 municipalities: the urgent list is the homeless count times the scale and the
    inflow is the national one."""
    w = world(seed=0, scale=0.05)
    assert len(w.initial) == round(NATIONAL_HOMELESS * 0.05)
    assert w.inflow_share == 1.0
    assert w.inflow_per_year == HOMELESS_INFLOW * 0.05


@pytest.mark.parametrize("municipalities", [("101",), ("851", "860"), ("147", "259", "461")])
def test_subset_world_starts_with_only_its_own_homeless(municipalities):
    """Regression: a world of some municipalities started with all 5,989 homeless citizens of
    the country spread over them. Its urgent list is its own part of the count (within rounding
    of the national world's per-municipality lists), every citizen is of the subset, and its
    inflow is its share of the national one."""
    scale = 0.5
    w = world(seed=2, scale=scale, municipalities=municipalities)
    share = sum(w.homeless.values()) / NATIONAL_HOMELESS
    assert w.inflow_share == pytest.approx(share)
    assert len(w.initial) == round(NATIONAL_HOMELESS * w.inflow_share * scale)
    assert len(w.initial) < 0.5 * NATIONAL_HOMELESS * scale
    assert {c["municipality"] for c in w.initial} <= set(municipalities)
    full = collections.Counter(c["municipality"] for c in world(seed=2, scale=scale).initial)
    mine = collections.Counter(c["municipality"] for c in w.initial)
    for m in municipalities:
        assert abs(mine[m] - full[m]) <= 1, m
    assert w.inflow_per_year == pytest.approx(HOMELESS_INFLOW * scale * share)


def test_kobenhavn_world_has_its_1370_homeless():
    """København alone at full scale starts with its anchored 1,370 homeless citizens."""
    w = world(seed=0, scale=1.0, municipalities=("101",))
    assert len(w.initial) == 1_370
