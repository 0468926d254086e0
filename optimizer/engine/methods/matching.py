"""Method: exact maximum-weight matching, for blocks that are pure assignment problems.

When no pool, department, frame or quota row can bind, a block's model is a
bipartite matching. Its objective then packs into one integer weight per pair
(:func:`packed_weights`: priority levels dominate the score), and a
maximum-weight matching (:func:`max_weight_matching`) solves every stage in
one pass, without a MILP: scipy's LAPJV when the eligible pairs are dense or
the block is small (``SMALL_CELLS``), OR-Tools' min-cost flow when a larger
block is sparse. Integer weights keep both exact; where they cannot be packed
exactly, or neither method is exact at the size, the caller falls back to the
MILP stages.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader
from importlib.util import find_spec, module_from_spec, spec_from_loader

import numpy as np
import numpy.typing as npt

from optimizer.engine.data import ProblemData
from optimizer.engine.model import Milp

EXACT_FLOAT = 2**52  # integers below this add up exactly in float64 (LAPJV)
EXACT_FLOW = 2**60  # room below int64 for OR-Tools' cost scaling
DENSE_CELLS = 4_000_000  # largest dense block handed to LAPJV
DENSE_SHARE = 0.3  # eligible share of the block from which dense is faster
# A block this small goes to LAPJV however sparse: microseconds either way, and a process
# that meets only small blocks never imports OR-Tools' graph module (0.035 s of a 0.6 s
# national week, where one 24 x 6 block of 36 pairs was below DENSE_SHARE).
SMALL_CELLS = 10_000

Weights = npt.NDArray[np.int64]
Index = npt.NDArray[np.integer]


def packed_weights(data: ProblemData, milp: Milp) -> Weights | None:
    """One int64 weight per column whose maximum-weight matching is the optimum, or None.

    Lexicographic: ``W[p] + score`` with ``W[p] = 1 + S + Σ_{q less urgent} W[q]·b[q]``,
    where S bounds the total score and b[q] the number housed of priority q, so that
    one more citizen of a more urgent priority outweighs everything after it.
    Weighted: ``priority_weights[p] + score``. None when scores or weights are not
    integers or the packed values would not be exact.
    """
    p = milp.pairs
    params = data.inst.parameters
    if len(p) == 0:
        return np.zeros(0, np.int64)
    if not np.all(p.score == np.round(p.score)):
        return None
    score = p.score.astype(np.int64)
    prio = data.c_prio[p.citizen]
    if params.objective == "weighted":
        w = data.priority_weights()
        if not np.all(w == np.round(w)):
            return None
        weight: Weights = w.astype(np.int64)[data.priority_position(prio)] + score
        return weight if int(weight.max()) * len(p) < EXACT_FLOAT else None
    # S: each citizen contributes at most its best score
    first = np.flatnonzero(np.r_[True, p.citizen[1:] != p.citizen[:-1]])
    total = int(np.maximum.reduceat(score, first).sum())
    n_units = len(distinct(p.unit)[0])
    level: dict[int, int] = {}
    acc = total
    for q in reversed(data.inst.priorities):
        n_q = min(len(distinct(p.citizen[prio == q])[0]), n_units)
        level[q] = 1 + acc
        acc += level[q] * n_q
        if acc >= EXACT_FLOAT:
            return None
    lv = np.array([level[q] for q in data.inst.priorities], dtype=np.int64)
    packed: Weights = lv[data.priority_position(prio)] + score
    return packed


def distinct(x: Index) -> tuple[Index, npt.NDArray[np.intp]]:
    """``np.unique(x, return_inverse=True)`` of non-negative integers, by marking instead of sorting.

    A block's citizens and units are indices below the instance's counts: one pass over a
    table of that size replaces a sort of every pair (assign800: 640,000 pairs, twice).
    """
    if len(x) == 0:
        return x.copy(), np.zeros(0, np.intp)
    seen = np.zeros(int(x.max()) + 1, bool)
    seen[x] = True
    code = np.cumsum(seen, dtype=np.intp) - 1
    return np.flatnonzero(seen).astype(x.dtype, copy=False), code[x]


def max_weight_matching(milp: Milp, weight: Weights) -> tuple[npt.NDArray[np.int8], str] | None:
    """A maximum-weight matching of a block's citizens to its units.

    Parameters
    ----------
    milp
        A block without side rows (only citizen and unit rows).
    weight
        The weight of each column (from :func:`packed_weights`); pairs of weight ≤ 0
        are never worth taking.

    Returns
    -------
    tuple or None
        0/1 per column and the method used (``"empty"``, ``"lapjv"`` or
        ``"min-cost-flow"``); None when neither method is exact at this size (the
        caller then uses the MILP).
    """
    p = milp.pairs
    x = np.zeros(len(p), np.int8)
    if len(p) == 0:
        return x, "empty"
    rows, r_idx = distinct(p.citizen)
    cols, c_idx = distinct(p.unit)
    cells = len(rows) * len(cols)
    dense = cells <= SMALL_CELLS or (cells <= DENSE_CELLS and len(p) >= DENSE_SHARE * cells)
    if not dense and not flow_is_exact(weight, len(rows) + len(cols) + 2):
        if cells > 4 * DENSE_CELLS:
            return None
        dense = True
    if dense:
        linear_sum_assignment = lapjv()
        # a non-edge weighs 0: taking it is the same as leaving both sides unmatched
        W = np.zeros((len(rows), len(cols)))
        W[r_idx, c_idx] = weight
        ri, ci = linear_sum_assignment(W, maximize=True)
        edge = np.full((len(rows), len(cols)), -1, np.int64)
        edge[r_idx, c_idx] = np.arange(len(p))
        chosen = edge[ri, ci]
        x[chosen[chosen >= 0]] = 1
        return x, "lapjv"
    return _flow(r_idx, c_idx, weight, len(rows), len(cols)), "min-cost-flow"


def _flow(r_idx: Index, c_idx: Index, weight: Weights, n_rows: int, n_cols: int) -> npt.NDArray[np.int8]:
    """The matching by OR-Tools' min-cost flow (source → citizens → units → sink)."""
    from ortools.graph.python import min_cost_flow

    f = min_cost_flow.SimpleMinCostFlow()
    source, sink = n_rows + n_cols, n_rows + n_cols + 1
    n = min(n_rows, n_cols)
    tails = np.concatenate([np.full(n_rows, source), r_idx, n_rows + np.arange(n_cols), [source]])
    heads = np.concatenate([np.arange(n_rows), n_rows + c_idx, np.full(n_cols, sink), [sink]])
    caps = np.concatenate([np.ones(n_rows + len(r_idx) + n_cols, np.int64), [n]])
    # the source→sink arc lets flow skip the matching, so only profitable pairs are taken
    costs = np.concatenate([np.zeros(n_rows, np.int64), -weight.astype(np.int64), np.zeros(n_cols + 1, np.int64)])
    f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n_rows + n_cols + 2, np.int64)
    supplies[source], supplies[sink] = n, -n
    f.set_nodes_supplies(np.arange(len(supplies)), supplies)
    status = f.solve()
    if status != f.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = np.asarray(f.flows(np.arange(n_rows, n_rows + len(r_idx))))
    matched: npt.NDArray[np.int8] = (flows > 0).astype(np.int8)
    return matched


def lapjv() -> Callable[..., tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    """``scipy.optimize.linear_sum_assignment``, loaded without the rest of ``scipy.optimize``.

    ``import scipy.optimize`` loads all of SciPy's optimisers and ``scipy.linalg`` (0.1-0.2 s,
    a fifth of a national-week solve's process) for this one compiled function. It is
    loaded from its own extension module ``scipy/optimize/_lsap``, found from SciPy's
    import spec without running ``scipy/__init__`` (registered under its name, so a later
    ``import scipy.optimize`` uses the same module); if that module is not where SciPy
    keeps it, from ``scipy.optimize``. Either way the same code runs.
    """
    name = "scipy.optimize._lsap"
    module = sys.modules.get(name)
    if module is None:
        try:
            # scipy's folder from its spec: ``import scipy`` would run its __init__ (0.01 s),
            # which the extension module does not need
            package = find_spec("scipy")
            if package is None or not package.submodule_search_locations:
                raise ImportError("scipy is not installed as a package")
            folder = os.path.join(package.submodule_search_locations[0], "optimize")
            found = [f for f in (os.path.join(folder, "_lsap" + s) for s in EXTENSION_SUFFIXES) if os.path.exists(f)]
            loader = ExtensionFileLoader(name, found[0])
            spec = spec_from_loader(name, loader)
            assert spec is not None
            module = module_from_spec(spec)
            loader.exec_module(module)
            sys.modules[name] = module
        except Exception:  # any failure: the ordinary import, which raises if it must
            from scipy.optimize import linear_sum_assignment

            return linear_sum_assignment  # type: ignore[no-any-return]
    return module.linear_sum_assignment  # type: ignore[no-any-return]


def flow_is_exact(weight: Weights, n_nodes: int) -> bool:
    """Whether OR-Tools' cost scaling can handle these weights without overflow."""
    return len(weight) == 0 or int(np.abs(weight).max()) * (n_nodes + 1) < EXACT_FLOW


def matching_plan(data: ProblemData, milp: Milp) -> npt.NDArray[np.int8] | None:
    """Solve a block exactly as a matching, or None when that does not apply.

    It applies when no side row can bind (the block has none), the objective packs into
    exact integer weights, and one of the methods is exact at the block's size.
    """
    if milp.side_rows:
        return None
    weight = packed_weights(data, milp)
    if weight is None:
        return None
    found = max_weight_matching(milp, weight)
    if found is None:
        return None
    return found[0]
