"""The exact matching method: LAPJV and min-cost flow against networkx's maximum-weight matching."""

from __future__ import annotations

from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest

from optimizer.engine.methods import matching
from optimizer.engine.methods.matching import SMALL_CELLS, max_weight_matching


class _Pairs(SimpleNamespace):
    """The two pair columns the matching reads, sized like a block's pairs."""

    def __len__(self) -> int:
        return len(self.citizen)


def _block(rng: np.random.Generator, n_rows: int, n_cols: int, share: float):
    """A block's pairs (citizen, unit) at the given eligible share, and integer weights."""
    cells = rng.random((n_rows, n_cols)) < share
    citizen, unit = np.nonzero(cells)  # sorted by citizen, as a block's pairs are
    weight = rng.integers(-3, 40, len(citizen)).astype(np.int64)  # some never worth taking
    return SimpleNamespace(pairs=_Pairs(citizen=citizen, unit=unit)), weight


def _networkx_best(milp, weight) -> int:
    g = nx.Graph()
    for c, u, w in zip(milp.pairs.citizen, milp.pairs.unit, weight, strict=True):
        if w > 0:
            g.add_edge(("c", int(c)), ("u", int(u)), weight=int(w))
    chosen = nx.max_weight_matching(g)
    return sum(g.edges[e]["weight"] for e in chosen)


def _check(milp, weight, x) -> int:
    """The chosen pairs form a matching; returns their weight."""
    on = x.astype(bool)
    assert len(set(milp.pairs.citizen[on])) == on.sum()
    assert len(set(milp.pairs.unit[on])) == on.sum()
    return int(weight[on].sum())


@pytest.mark.parametrize("seed", range(8))
def test_small_sparse_block_is_lapjv_and_optimal(seed):
    """A sparse block of at most SMALL_CELLS cells goes to LAPJV (no OR-Tools import) and is optimal."""
    rng = np.random.default_rng(seed)
    milp, weight = _block(rng, 24, 6, 0.15)  # national-week's shape: sparser than DENSE_SHARE
    x, method = max_weight_matching(milp, weight)
    assert method == "lapjv"
    assert _check(milp, weight, x) == _networkx_best(milp, weight)


@pytest.mark.parametrize("seed", range(4))
def test_large_sparse_block_is_min_cost_flow_and_optimal(seed):
    """Above SMALL_CELLS a sparse block goes to the min-cost flow, with the same optimum as networkx."""
    rng = np.random.default_rng(100 + seed)
    milp, weight = _block(rng, 300, 150, 0.02)
    assert len(set(milp.pairs.citizen)) * len(set(milp.pairs.unit)) > SMALL_CELLS
    x, method = max_weight_matching(milp, weight)
    assert method == "min-cost-flow"
    assert _check(milp, weight, x) == _networkx_best(milp, weight)


def test_both_methods_agree_on_the_optimum(monkeypatch):
    """The same block by either method: the same total weight."""
    rng = np.random.default_rng(7)
    milp, weight = _block(rng, 60, 40, 0.05)
    x_small, m_small = max_weight_matching(milp, weight)
    monkeypatch.setattr(matching, "SMALL_CELLS", 0)
    x_flow, m_flow = max_weight_matching(milp, weight)
    assert (m_small, m_flow) == ("lapjv", "min-cost-flow")
    assert _check(milp, weight, x_small) == _check(milp, weight, x_flow) == _networkx_best(milp, weight)
