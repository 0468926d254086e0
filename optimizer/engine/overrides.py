"""Planner overrides: lock a citizen to a unit, forbid a pair, reserve or hold a unit.

An anvis extension of FORMAT.md (``overrides`` in the instance, or ``--lock``,
``--forbid`` and ``--reserve`` on the command line). Forbidden pairs and
reserved units leave the eligible pairs; so do held units (anvis/2: an offered
turn kept for the next round is not assigned this round, like a reserved unit). Locked pairs are fixed before the
model is built: their citizens and units leave the model, and the places they
use are taken off the caps they count against. That is exact for both
objectives: a locked pair adds a constant to every plan's counts and score,
so the best plan containing the locks is the locks plus the best plan of what
is left.

A lock must obey every rule on its own (rules 2-8 for its pair, and the locks
together must fit every cap, frame and quota); otherwise the instance is
refused with one line per broken lock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.validate import InstanceError, Problem
from optimizer.engine.data import NO_LIMIT, ProblemData, member_of
from optimizer.engine.pairs import RULE_TEXT, Pairs, failure_codes


@dataclass(frozen=True)
class Fixed:
    """An instance's pairs after its overrides.

    Attributes
    ----------
    data
        The problem with the locks' places taken off its caps (solve this).
    pairs
        The pairs left to decide: allowed, and touching no locked citizen or unit.
    allowed
        Every eligible pair that no forbid or reserve excludes.
    locked
        The locked pairs, sorted by citizen.
    excluded
        Eligible pairs excluded by a forbid or a reserve.
    """

    data: ProblemData
    pairs: Pairs
    allowed: Pairs
    locked: Pairs
    excluded: Pairs


Index = npt.NDArray[np.integer]
I64 = npt.NDArray[np.int64]
#: Per cap kind: (kind, group of each pair, whether the pair counts against it, cap per group, name of a group)
CapTable = tuple[str, Index, npt.NDArray[np.bool_], I64, Callable[[int], str]]


def _keys(data: ProblemData, citizens: Index, units: Index) -> I64:
    keys: I64 = np.asarray(citizens, np.int64) * data.n_units + np.asarray(units, np.int64)
    return keys


def _entries(data: ProblemData, action: str) -> tuple[I64, I64, I64]:
    """(position in overrides, citizen index, unit index) of every override of one action."""
    out = [
        (i, -1 if o.citizen is None else data.citizen_index.get(o.citizen, -1), data.unit_index[o.unit])
        for i, o in enumerate(data.inst.overrides)
        if o.action == action
    ]
    pos = np.array([e[0] for e in out], np.int64)
    return pos, np.array([e[1] for e in out], np.int64), np.array([e[2] for e in out], np.int64)


def override_problems(data: ProblemData) -> list[Problem]:
    """Every lock that breaks a rule (an ineligible pair, or locks that overfill a cap), every hold not offered."""
    problems = hold_problems(data)
    pos, ci, ui = _entries(data, "lock")
    if len(pos) == 0:
        return problems
    inst = data.inst
    same_muni = data.c_muni[ci] == data.u_muni[ui]
    codes = failure_codes(data, ci, ui)
    found = same_muni & (codes == 0)
    for k in np.flatnonzero(~found):
        o = inst.overrides[pos[k]]
        why = RULE_TEXT[int(codes[k])] if same_muni[k] else "the unit lies in another municipality (rule 2)"
        problems.append(Problem(f"overrides[{pos[k]}]", f"cannot lock citizen {o.citizen!r} to unit {o.unit!r}: {why}"))
    ci, ui, pos = ci[found], ui[found], pos[found]
    sub = data.u_rent[ui] > data.c_max_rent[ci]  # rule 8: subsidised where only the subsidy makes it affordable
    for _, group, counts, cap, label in _caps(data, ci, ui, sub):
        g, p = group[counts], pos[counts]
        for j, n in zip(*(a.tolist() for a in np.unique(g, return_counts=True)), strict=True):
            if cap[j] < NO_LIMIT and n > cap[j]:
                where = ", ".join(f"overrides[{k}]" for k in p[g == j][:5])
                need = f"{n} lock{'s' * (n > 1)} need{'s' * (n == 1)} the {label(j)}"
                problems.append(
                    Problem(f"overrides[{p[g == j][0]}]", f"{need}, which has room for {int(cap[j])} ({where})")
                )
    return problems


def hold_problems(data: ProblemData) -> list[Problem]:
    """Every hold of a unit that is not offered to the municipality (a turn or offered unit, FORMAT.md §6)."""
    pos, _, ui = _entries(data, "hold")
    return [
        Problem(
            f"overrides[{p}]",
            f"cannot hold unit {data.inst.overrides[p].unit!r}: only a turn or an offered unit of a rotation pool "
            "is offered to the municipality (FORMAT.md §6 rule 4)",
        )
        for p in pos[~data.u_turn[ui]].tolist()
    ]


def _caps(data: ProblemData, ci: Index, ui: Index, sub: npt.NDArray[np.bool_]) -> tuple[CapTable, ...]:
    """Per cap kind, the caps that pairs ``(ci, ui)`` count against (see :data:`CapTable`).

    Each entry: kind, group of each pair, whether the pair counts against it, cap per
    group, name of a group.
    """
    inst = data.inst
    return (
        (
            "pool",
            data.u_pool[ui],
            np.ones(len(ci), bool),
            data.pool_cap,
            lambda j: f"share cap of pool {data.pool_list[j].id!r}",
        ),
        (
            "department",
            data.u_dept[ui],
            data.c_vulnerable[ci],
            data.dept_cap,
            lambda j: f"mixed-city cap of department {inst.departments[j].id!r}",
        ),
        (
            "frame",
            data.u_muni[ui],
            sub,
            data.muni_frame,
            lambda j: f"subsidy frame of municipality {inst.municipalities[j].id!r}",
        ),
        ("quota", data.u_region[ui], sub, data.region_quota, lambda j: f"grant quota of region {inst.regions[j].id!r}"),
    )


def check_overrides(data: ProblemData) -> None:
    """Refuse an instance whose locks break a rule.

    Raises
    ------
    InstanceError
        One problem per broken lock, at its path ``overrides[i]``.
    """
    problems = override_problems(data)
    if problems:
        raise InstanceError(data.inst.source, problems)


def apply_overrides(data: ProblemData, pairs: Pairs) -> Fixed:
    """Apply an instance's overrides to its eligible pairs.

    Raises
    ------
    InstanceError
        When a lock breaks a rule (see :func:`override_problems`).
    """
    if not data.inst.overrides:
        none = pairs.take(np.zeros(len(pairs), bool))
        return Fixed(data, pairs, pairs, none, none)
    check_overrides(data)
    keys = _keys(data, pairs.citizen, pairs.unit)
    _, fc, fu = _entries(data, "forbid")
    _, _, reserved = _entries(data, "reserve")
    _, _, held = _entries(data, "hold")  # a held unit is not assigned this round, like a reserved one
    out = member_of(keys, _keys(data, fc, fu)) | member_of(pairs.unit, reserved) | member_of(pairs.unit, held)
    allowed = pairs.take(~out)
    _, lc, lu = _entries(data, "lock")
    is_lock = member_of(_keys(data, allowed.citizen, allowed.unit), _keys(data, lc, lu))
    locked = allowed.take(is_lock)
    free = ~member_of(allowed.citizen, lc) & ~member_of(allowed.unit, lu)
    caps = {}
    for name, group, counts, cap, _ in _caps(data, locked.citizen, locked.unit, locked.subsidised):
        used = np.bincount(group[counts], minlength=len(cap))
        caps[name] = np.where(cap < NO_LIMIT, cap - used, cap)
    fixed = dataclasses.replace(
        data, pool_cap=caps["pool"], dept_cap=caps["department"], muni_frame=caps["frame"], region_quota=caps["quota"]
    )
    return Fixed(fixed, allowed.take(free), allowed, locked, pairs.take(out))


def merge(a: Pairs, b: Pairs) -> Pairs:
    """The union of two disjoint pair sets, sorted by citizen."""
    both = Pairs(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in ("citizen", "unit", "subsidised", "score")))
    return both.take(np.argsort(both.citizen, kind="stable"))
