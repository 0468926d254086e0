"""The instance compiled into numpy arrays, built once per solve.

Citizens and units become integer-indexed columns; ids, areas, kinds and pools
become small integers. Everything the model builder needs is here, so that
eligibility and constraints are computed on whole arrays, never pair by pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from models import Instance
from models.pools import Pool, pools, turns, unit_pools
from models.schema import AREAS, KINDS

AREA_BIT = {a: 1 << i for i, a in enumerate(AREAS)}
KIND_BIT = {k: 1 << i for i, k in enumerate(KINDS)}
NO_LIMIT = np.iinfo(np.int64).max


I8 = npt.NDArray[np.int8]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]


def sorted_set(x: npt.NDArray[np.integer]) -> npt.NDArray[Any]:
    """The distinct values of an integer array, sorted: ``np.unique(x)`` for integers.

    NumPy's plain ``unique`` asks ``np.ma.is_masked`` first, which imports ``numpy.ma``
    (0.013 s of a national week's process) for arrays that are never masked. A sort and
    a comparison of neighbours give the same values in the same dtype.
    """
    s = np.sort(np.asarray(x).ravel())
    if len(s) == 0:
        return s
    first = np.empty(len(s), bool)  # (np.r_ would cost more than the rest on a small block)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    return s[first]


def member_of(x: npt.NDArray[np.integer], keys: npt.NDArray[np.integer]) -> Bool:
    """``np.isin(x, keys)`` for integer arrays, by binary search in the sorted keys.

    NumPy's ``isin`` reaches the plain ``unique`` (see :func:`sorted_set`), and with it
    ``numpy.ma``, on its sorting path.
    """
    k = sorted_set(keys)
    if len(k) == 0:
        return np.zeros(np.shape(x), bool)
    found: Bool = k[np.minimum(np.searchsorted(k, x), len(k) - 1)] == x
    return found


def unique_rows(columns: Sequence[npt.NDArray[Any]]) -> tuple[npt.NDArray[np.intp], I64]:
    """The distinct rows of a table given by its columns: each one's first row, and each row's index among them.

    ``np.unique(np.column_stack(columns), axis=0, return_index=True, return_inverse=True)``
    without the values (``table[first]`` are the distinct rows): the rows in lexicographic
    order of the columns, by a stable lexsort, so that each distinct row's first occurrence
    comes first. ``np.unique`` with an axis sorts the rows as raw bytes, several times
    slower (a national week's 6,000 citizens: 4 ms against 0.5). The columns may be of
    different dtypes; a 2-D table's columns are ``table.T``.
    """
    n = len(columns[0]) if len(columns) else 0
    if n == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.int64)
    order = np.lexsort(columns[::-1])
    new = np.zeros(n, bool)  # in sorted order: the first row of its kind
    new[0] = True
    for column in columns:
        ordered = column[order]
        new[1:] |= ordered[1:] != ordered[:-1]
    inverse = np.empty(n, np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def _index(ids: Iterable[str]) -> dict[str, int]:
    return {x: i for i, x in enumerate(ids)}


def _keys(citizens: Sequence[Any], name: str, depts: dict[str, int], nd: int) -> tuple[I64, list[Any]]:
    """``citizen * nd + department`` of each item of every citizen's tuple ``name``, in order, and the items.

    The items are department ids (``excluded_departments``) or records with a
    ``department`` (``preferences``).
    """
    lists = list(map(attrgetter(name), citizens))
    items = list(chain.from_iterable(lists))
    n = len(items)
    ids = items if name == "excluded_departments" else map(attrgetter("department"), items)
    dept = np.fromiter(map(depts.__getitem__, ids), np.int64, n)
    citizen = np.repeat(np.arange(len(citizens), dtype=np.int64), np.fromiter(map(len, lists), np.int64, len(lists)))
    return citizen * nd + dept, items


def _preferences(citizens: Sequence[Any], depts: dict[str, int], nd: int) -> tuple[I64, F64, F64]:
    """Preference keys (sorted, distinct), the largest weight of each, and each citizen's largest weight.

    A department named twice by a citizen counts with its larger weight. Weights are
    at least 0 (schema ``Kr``), so a citizen without preferences has largest weight 0.
    """
    keys, items = _keys(citizens, "preferences", depts, nd)
    pref_max = np.zeros(len(citizens))
    if len(keys) == 0:
        return keys, np.zeros(0), pref_max
    weight = np.fromiter(map(attrgetter("weight"), items), float, len(items))
    order = np.argsort(keys, kind="stable")
    keys, weight = keys[order], weight[order]
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    keys, weight = keys[first], np.maximum.reduceat(weight, first)
    citizen = keys // nd
    starts = np.flatnonzero(np.r_[True, citizen[1:] != citizen[:-1]])
    pref_max[citizen[starts]] = np.maximum.reduceat(weight, starts)
    return keys, weight, pref_max


@dataclass(frozen=True, eq=False, init=False)
class ProblemData:
    """Array form of an :class:`~models.Instance` (read-only).

    Citizen arrays are prefixed ``c_``, unit arrays ``u_``; indices refer to the
    instance's list order. Group tables (municipalities, regions, departments,
    pools) give each group's limit, with ``NO_LIMIT`` where there is none.
    """

    inst: Instance
    # citizens
    c_muni: I32
    c_prio: I64
    c_max_rent: F64
    c_min_rooms: I64
    c_max_rooms: I64
    c_vulnerable: Bool
    c_subsidy: Bool
    c_needs_acc: Bool
    c_kinds: I8  # bit mask over KINDS
    c_temp_ok: Bool
    c_barred: I8  # bit mask over AREAS
    # units
    u_muni: I32
    u_dept: I32
    u_region: I32
    u_pool: I32
    u_rooms: I64
    u_rent: F64
    u_kind: I8  # one bit of KINDS
    u_accessible: Bool
    u_temporary: Bool
    u_area: I8  # one bit of AREAS
    u_vacancy: I64  # number k of a unit of a rotation pool (FORMAT.md §6 rule 4), else 0
    u_turn: Bool  # a turn or an offered unit of a rotation pool: it may be assigned, else it is passed
    # groups
    pool_list: tuple[Pool, ...]
    pool_cap: I64
    pool_rotation: Bool  # mode "rotation": only turns and offered units may be assigned
    subsidy_kinds: int  # bit mask over KINDS of the units a subsidy may be used for (rule 8)
    dept_cap: I64
    muni_frame: I64
    region_quota: I64
    # sparse citizen × department relations, as keys citizen * n_departments + department
    excluded_keys: I64
    pref_keys: I64
    pref_weight: F64
    pref_max: F64  # largest preference weight of each citizen (0 when none)

    def __init__(
        self,
        inst: Instance,
        c_muni: I32,
        c_prio: I64,
        c_max_rent: F64,
        c_min_rooms: I64,
        c_max_rooms: I64,
        c_vulnerable: Bool,
        c_subsidy: Bool,
        c_needs_acc: Bool,
        c_kinds: I8,
        c_temp_ok: Bool,
        c_barred: I8,
        u_muni: I32,
        u_dept: I32,
        u_region: I32,
        u_pool: I32,
        u_rooms: I64,
        u_rent: F64,
        u_kind: I8,
        u_accessible: Bool,
        u_temporary: Bool,
        u_area: I8,
        u_vacancy: I64,
        u_turn: Bool,
        pool_list: tuple[Pool, ...],
        pool_cap: I64,
        pool_rotation: Bool,
        subsidy_kinds: int,
        dept_cap: I64,
        muni_frame: I64,
        region_quota: I64,
        excluded_keys: I64,
        pref_keys: I64,
        pref_weight: F64,
        pref_max: F64,
    ) -> None:
        # Written out (init=False) rather than generated: the dataclass's __init__ of 35 fields
        # is compiled at every run's import (0.45 ms); this one is in the module's bytecode.
        # Frozen: each field is set as the generated __init__ sets it, in field order.
        given = locals()
        for name in self.__dataclass_fields__:
            object.__setattr__(self, name, given[name])

    @property
    def n_citizens(self) -> int:
        """The number of citizens."""
        return len(self.c_prio)

    @property
    def n_units(self) -> int:
        """The number of units."""
        return len(self.u_rent)

    @property
    def n_departments(self) -> int:
        """The number of departments."""
        return len(self.dept_cap)

    @cached_property
    def citizen_index(self) -> dict[str, int]:
        """The index of each citizen id."""
        return _index(c.id for c in self.inst.citizens)

    @cached_property
    def unit_index(self) -> dict[str, int]:
        """The index of each unit id."""
        return _index(u.id for u in self.inst.units)

    def priority_position(self, prio: npt.NDArray[np.integer]) -> npt.NDArray[np.intp]:
        """The position of each priority in ``inst.priorities`` (most urgent first)."""
        return np.searchsorted(np.array(self.inst.priorities), prio)

    def priority_weights(self) -> F64:
        """The weighted objective's weight of each priority, in ``inst.priorities`` order.

        Raises
        ------
        ValueError
            When the instance has no priority weights (its objective is not weighted).
        """
        weights = self.inst.parameters.priority_weights
        if weights is None:
            raise ValueError("the instance has no priority_weights (its objective is not 'weighted')")
        return np.array([weights[str(p)] for p in self.inst.priorities], dtype=float)

    @classmethod
    def build(cls, inst: Instance) -> ProblemData:
        """Compile an instance (validated, so every reference resolves)."""
        regions = _index(r.id for r in inst.regions)
        munis = _index(m.id for m in inst.municipalities)
        depts = _index(d.id for d in inst.departments)
        muni_region = np.array([regions[m.region] for m in inst.municipalities], dtype=np.int32)
        dept_muni = np.array([munis[d.municipality] for d in inst.departments], dtype=np.int32)
        dept_area = np.array([AREA_BIT[d.area] for d in inst.departments], dtype=np.int8)
        C, U = inst.citizens, inst.units

        of_unit = unit_pools(inst)
        pool_map = pools(inst, of_unit)
        pool_ids = _index(pool_map)
        vacancy, turn = turns(inst, of_unit, pool_map)
        u_dept = np.array([depts[u.department] for u in U], dtype=np.int32)
        u_muni = dept_muni[u_dept] if len(U) else np.zeros(0, np.int32)

        nd = len(depts)
        excluded_keys = sorted_set(_keys(C, "excluded_departments", depts, nd)[0])
        pref_keys, pref_weight, pref_max = _preferences(C, depts, nd)
        # map(attrgetter) and map(dict.__getitem__) run in C: a generator per column of
        # 6,000 citizens cost more than the arrays (a national week: 0.02 s -> 0.008 s)
        get = attrgetter

        def col(values: Iterable[Any], dtype: npt.DTypeLike) -> npt.NDArray[Any]:
            return np.fromiter(values, dtype=dtype, count=-1)

        def field(items: Sequence[Any], name: str, dtype: npt.DTypeLike) -> npt.NDArray[Any]:
            return np.fromiter(map(get(name), items), dtype=dtype, count=len(items))

        def coded(items: Sequence[Any], name: str, code: dict[Any, int], dtype: npt.DTypeLike) -> npt.NDArray[Any]:
            return np.fromiter(map(code.__getitem__, map(get(name), items)), dtype=dtype, count=len(items))

        def limit(items: Sequence[Any], name: str) -> I64:
            return col((NO_LIMIT if v is None else v for v in map(get(name), items)), np.int64)

        def bits(items: Sequence[Any], name: str, bit: dict[str, int]) -> I8:
            # a few distinct tuples of kinds or areas: each one's mask computed once
            masks = {t: sum(bit[k] for k in set(t)) for t in set(map(get(name), items))}
            return coded(items, name, masks, np.int8)

        return cls(
            inst=inst,
            c_muni=coded(C, "municipality", munis, np.int32),
            c_prio=field(C, "priority", np.int64),
            c_max_rent=field(C, "max_rent_kr", float),
            c_min_rooms=field(C, "min_rooms", np.int64),
            c_max_rooms=limit(C, "max_rooms"),
            c_vulnerable=field(C, "vulnerable", bool),
            c_subsidy=field(C, "subsidy_eligible", bool),
            c_needs_acc=field(C, "needs_accessible", bool),
            c_kinds=bits(C, "kinds", KIND_BIT),
            c_temp_ok=field(C, "accepts_temporary", bool),
            c_barred=bits(C, "barred_areas", AREA_BIT),
            u_muni=u_muni,
            u_dept=u_dept,
            u_region=muni_region[u_muni] if len(U) else np.zeros(0, np.int32),
            u_pool=np.fromiter(map(pool_ids.__getitem__, of_unit), np.int32, len(of_unit)),
            u_rooms=field(U, "rooms", np.int64),
            u_rent=field(U, "rent_kr", float),
            u_kind=coded(U, "kind", KIND_BIT, np.int8),
            u_accessible=field(U, "accessible", bool),
            u_temporary=field(U, "temporary", bool),
            u_area=dept_area[u_dept] if len(U) else np.zeros(0, np.int8),
            u_vacancy=vacancy,
            u_turn=turn,
            pool_list=tuple(pool_map.values()),
            pool_cap=np.array([q.cap for q in pool_map.values()], dtype=np.int64),
            pool_rotation=np.array([q.mode == "rotation" for q in pool_map.values()], dtype=bool),
            subsidy_kinds=sum(KIND_BIT[k] for k in set(inst.subsidy_kinds)),
            dept_cap=limit(inst.departments, "max_vulnerable"),
            muni_frame=field(inst.municipalities, "subsidy_frame", np.int64),
            region_quota=limit(inst.regions, "grant_quota"),
            excluded_keys=excluded_keys,
            pref_keys=pref_keys,
            pref_weight=pref_weight,
            pref_max=pref_max,
        )
