"""Aggregation of interchangeable citizens and units: a smaller, exact model.

Real afdelinger let many identical flats (same rooms, same rent), and urgent
lists hold citizens with the same needs. Two units are interchangeable in a
block when they have exactly the same eligible citizens with the same scores
and subsidy flags, and lie in the same pool and department; two citizens when
they have the same priority and vulnerability and the same (unit class,
score, subsidy) options. The model then needs one integer column per (citizen
class, unit class), bounded by the smaller class, with a row per class
bounded by its size. Every side row (pool, department, frame, quota) treats
all members of a class alike, so plans of the two models map onto each other
with the same counts and score: the aggregated optimum is the optimum.

Classes are found with 64-bit signatures and then verified member by member,
so a hash collision can only cost the speed-up, never exactness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.engine.data import ProblemData, member_of, unique_rows
from optimizer.engine.model import CITIZEN, POOL, UNIT, Csc, Milp
from optimizer.engine.pairs import Pairs

Index = npt.NDArray[np.integer]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

MAX_SHARE = 0.6  # aggregate only when the model keeps at most this share of its columns

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def _mix(x: Index) -> U64:
    """splitmix64: spreads every input bit over the whole word."""
    with np.errstate(over="ignore"):
        z: U64 = x.astype(np.uint64) + _M1
        z = (z ^ (z >> np.uint64(30))) * _M2
        z = (z ^ (z >> np.uint64(27))) * _M3
        mixed: U64 = z ^ (z >> np.uint64(31))
        return mixed


def _pair_hash(*columns: Index) -> U64:
    h = np.zeros(len(columns[0]), np.uint64)
    for col in columns:
        with np.errstate(over="ignore"):
            h = _mix(h ^ col.astype(np.uint64))
    return h


def _signature_classes(owner: Index, items: tuple[Index, ...], extra: tuple[Index, ...], n: int) -> I64:
    """Group owners (0..n-1) by a 64-bit signature of their multiset of item tuples and ``extra``.

    Owners with equal multisets and ``extra`` always share a class; a hash collision can
    merge owners that differ (:func:`_classes` verifies). Classes are numbered by their
    first member, so results do not depend on hash values.
    """
    sig = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        np.add.at(sig, owner, _pair_hash(*items))
    count = np.bincount(owner, minlength=n)
    # owners grouped by a stable lexsort of their keys (unique_rows), each class's first member first
    first, label = unique_rows((sig.view(np.int64), count, *extra))
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    ranked: I64 = rank[label]
    return ranked


def _classes(
    owner: Index, items: tuple[Index, ...], extra: tuple[Index, ...], n: int, label: I64 | None = None
) -> I64 | None:
    """Group owners (0..n-1) whose sets of item tuples are equal and whose ``extra`` agree.

    ``owner`` and ``items`` are parallel arrays of (owner, item...) entries, each tuple at
    most once per owner; ``extra`` holds one array of length n per further key.
    Returns the class of every owner (classes numbered by first member), or None when
    verification finds signatures that hash alike but differ. ``label``: the owners'
    :func:`_signature_classes`, when already computed.
    """
    if label is None:
        label = _signature_classes(owner, items, extra, n)
    # verify: every member's sorted entries equal its class representative's
    order = np.lexsort((*items[::-1], owner))
    start = np.searchsorted(owner[order], np.arange(n))
    rep = _firsts(label)
    pos = np.arange(len(order)) - start[owner[order]]
    twin = order[start[rep[label[owner[order]]]] + pos]
    if any((col[order] != col[twin]).any() for col in items):
        return None
    return label


def _compact(ids: Index, n: int) -> tuple[Index, I64]:
    """``np.unique(ids, return_inverse=True)`` for ids in 0..n-1, without sorting the ids."""
    present = np.zeros(n, bool)
    present[ids] = True
    local = np.cumsum(present) - 1
    return np.flatnonzero(present).astype(ids.dtype), local[ids]


def columns_at_least(c_local: I64, u_local: I64, u_class: I64, c_class: I64) -> float:
    """A lower bound of the aggregated model's columns from unverified signature classes.

    ``u_class`` and ``c_class`` (one per unit and citizen of the block; ``u_local`` and
    ``c_local`` give each pair's) are classes that a hash collision can only make coarser
    than the true ones. A citizen class has one column per unit class its members reach;
    the citizen's pairs reach each of its unit classes at most once per member, so
    ``Σ 1 / |class|`` over its pairs is at most that count (equal without collisions),
    and so is the sum over one member of each citizen class at most the true columns.
    """
    size_u = np.bincount(u_class)
    reach = np.bincount(c_local, weights=1.0 / size_u[u_class[u_local]], minlength=len(c_class))
    return float(reach[_firsts(c_class)].sum())


@dataclass(frozen=True)
class Aggregated:
    """A block's aggregated model and how to map its solution back.

    Attributes
    ----------
    milp
        One integer column per (citizen class, unit class) pair, ``col_hi`` its bound.
    members_c, members_u
        Per class, the block's citizens (units) in index order, as split arrays.
    col_c, col_u
        The citizen and unit class of each aggregated column.
    block
        The block aggregated.
    """

    milp: Milp
    col_c: I64
    col_u: I64
    members_c: list[Index]
    members_u: list[Index]
    block: Milp

    def expand(self, y: npt.NDArray[np.integer]) -> npt.NDArray[np.int8]:
        """The 0/1 solution of the block that ``y`` (flows per aggregated column) stands for.

        Within a class pair, the first free citizens take the first free units, so the
        expansion is deterministic.
        """
        p = self.block.pairs
        n_units = int(p.unit.max(initial=0)) + 1
        keys = p.citizen.astype(np.int64) * n_units + p.unit
        order = np.argsort(keys, kind="stable")
        next_c = np.zeros(len(self.members_c), np.int64)
        next_u = np.zeros(len(self.members_u), np.int64)
        cs: list[Index] = []
        us: list[Index] = []
        for j in np.flatnonzero(y > 0).tolist():
            k, a, b = int(y[j]), int(self.col_c[j]), int(self.col_u[j])
            cs.append(self.members_c[a][next_c[a] : next_c[a] + k])
            us.append(self.members_u[b][next_u[b] : next_u[b] + k])
            next_c[a] += k
            next_u[b] += k
        x = np.zeros(self.block.n_cols, np.int8)
        if cs:
            want = np.concatenate(cs).astype(np.int64) * n_units + np.concatenate(us)
            x[order[np.searchsorted(keys[order], want)]] = 1
        return x


def aggregate(data: ProblemData, block: Milp) -> Aggregated | None:
    """The aggregated model of a block, or None when it would not be much smaller."""
    p = block.pairs
    if block.n_cols == 0:
        return None
    cits, c_local = _compact(p.citizen, data.n_citizens)
    units, u_local = _compact(p.unit, data.n_units)
    score_bits = p.score.astype(np.float64).view(np.int64)
    sub = p.subsidised.astype(np.int64)
    u_items = (c_local, score_bits, sub)
    u_extra = (data.u_pool[units], data.u_dept[units])
    u_sig = _signature_classes(u_local, u_items, u_extra, len(units))
    # before verifying anything (a sort of every pair): a block whose signature classes
    # already need too many columns cannot pay (city-year: 1.9 million pairs, 0.6 s)
    c_extra = (data.c_prio[cits], data.c_vulnerable[cits].astype(np.int64))
    c_sig = _signature_classes(c_local, (u_sig[u_local], score_bits, sub), c_extra, len(cits))
    if columns_at_least(c_local, u_local, u_sig, c_sig) > MAX_SHARE * block.n_cols * (1 + 1e-9):
        return None
    u_class = _classes(u_local, u_items, u_extra, len(units), u_sig)
    if u_class is None:
        return None
    # a citizen's options by unit class (all units of a class give the same score and flag)
    pair_uc = u_class[u_local]
    key = np.unique(np.stack([c_local, pair_uc], axis=1), axis=0, return_index=True)[1]
    c_class = _classes(
        c_local[key],
        (pair_uc[key], score_bits[key], sub[key]),
        c_extra,
        len(cits),
    )
    if c_class is None:
        return None
    col_key = c_class[c_local].astype(np.int64) * (int(u_class.max()) + 1) + pair_uc
    _, rep = np.unique(col_key, return_index=True)
    if len(rep) > MAX_SHARE * block.n_cols:
        return None
    size_c = np.bincount(c_class)
    size_u = np.bincount(u_class)
    col_c, col_u = c_class[c_local[rep]], u_class[u_local[rep]]
    col_hi = np.minimum(size_c[col_c], size_u[col_u]).astype(float)
    # each column stands for its classes' first members; its score, flag and side rows are
    # those of any member pair (all alike)
    rep_c, rep_u = cits[_firsts(c_class)], units[_firsts(u_class)]
    pairs = Pairs(
        rep_c[col_c].astype(p.citizen.dtype), rep_u[col_u].astype(p.unit.dtype), p.subsidised[rep], p.score[rep]
    )
    import scipy.sparse as sp  # only here: a solve that aggregates nothing does without it

    side = np.flatnonzero(block.row_kind >= POOL)
    A_side = block.A.scipy()[side][:, rep]
    rows_c, rows_u = _class_rows(col_c, size_c, col_hi), _class_rows(col_u, size_u, col_hi)
    A = Csc.from_scipy(sp.vstack([rows_c[0], rows_u[0], A_side]))
    mult_c = np.zeros(data.n_citizens, np.int64)
    mult_c[rep_c] = size_c
    mult_u = np.zeros(data.n_units, np.int64)
    mult_u[rep_u] = size_u
    milp = Milp(
        pairs,
        A,
        np.zeros(A.shape[0]),
        np.concatenate([rows_c[1], rows_u[1], block.row_hi[side]]),
        np.concatenate(
            [np.full(len(rows_c[1]), CITIZEN, np.int8), np.full(len(rows_u[1]), UNIT, np.int8), block.row_kind[side]]
        ),
        np.concatenate([rows_c[2], rows_u[2], block.row_group[side]]),
        col_hi=col_hi,
        multiplicity=(mult_c, mult_u),
    )
    return Aggregated(milp, col_c, col_u, _members(c_class, cits), _members(u_class, units), block)


def _firsts(label: I64) -> I64:
    """The first member of each class."""
    first = np.full(int(label.max()) + 1, -1, np.int64)
    first[label[::-1]] = np.arange(len(label))[::-1]
    return first


def _class_rows(col_class: I64, size: I64, col_hi: npt.NDArray[np.float64]) -> tuple[Any, npt.NDArray[np.float64], I64]:
    """Rows Σ columns of a class ≤ its size, for the classes whose columns could exceed it (CSR)."""
    import scipy.sparse as sp

    reach = np.bincount(col_class, weights=col_hi, minlength=len(size))
    need = np.flatnonzero(reach > size)
    keep = member_of(col_class, need)
    local = np.full(len(size), -1, np.int64)
    local[need] = np.arange(len(need))
    cols = np.flatnonzero(keep)
    A = sp.csr_matrix((np.ones(len(cols)), (local[col_class[keep]], cols)), shape=(len(need), len(col_class)))
    return A, size[need].astype(float), need.astype(np.int64)


def _members(label: I64, ids: Index) -> list[Index]:
    """Per class, its members' ids in index order."""
    order = np.argsort(label, kind="stable")
    return np.split(ids[order], np.flatnonzero(np.diff(label[order])) + 1)
