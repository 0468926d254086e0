"""The instance compiled into numpy arrays, built once per solve.

Citizens and units become integer-indexed columns; ids, areas, kinds and pools
become small integers. Everything the model builder needs is here, so that
eligibility and constraints are computed on whole arrays, never pair by pair.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
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
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


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


def _index(ids: Iterable[str]) -> dict[str, int]:
    return {x: i for i, x in enumerate(ids)}


@dataclass(frozen=True, eq=False)
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
        excl: list[int] = []
        pref: list[int] = []
        weight: list[float] = []
        pref_max = np.zeros(len(C))
        for i, c in enumerate(C):
            excl.extend(i * nd + depts[d] for d in c.excluded_departments)
            best: dict[int, float] = {}
            for pr in c.preferences:
                k = i * nd + depts[pr.department]
                best[k] = max(best.get(k, 0.0), pr.weight)
            pref.extend(best)
            weight.extend(best.values())
            pref_max[i] = max(best.values(), default=0.0)
        order = np.argsort(np.array(pref, dtype=np.int64), kind="stable")

        def col(values: Iterable[Any], dtype: npt.DTypeLike) -> npt.NDArray[Any]:
            return np.fromiter(values, dtype=dtype, count=-1)

        return cls(
            inst=inst,
            c_muni=col((munis[c.municipality] for c in C), np.int32),
            c_prio=col((c.priority for c in C), np.int64),
            c_max_rent=col((c.max_rent_kr for c in C), float),
            c_min_rooms=col((c.min_rooms for c in C), np.int64),
            c_max_rooms=col((NO_LIMIT if c.max_rooms is None else c.max_rooms for c in C), np.int64),
            c_vulnerable=col((c.vulnerable for c in C), bool),
            c_subsidy=col((c.subsidy_eligible for c in C), bool),
            c_needs_acc=col((c.needs_accessible for c in C), bool),
            c_kinds=col((sum(KIND_BIT[k] for k in set(c.kinds)) for c in C), np.int8),
            c_temp_ok=col((c.accepts_temporary for c in C), bool),
            c_barred=col((sum(AREA_BIT[a] for a in set(c.barred_areas)) for c in C), np.int8),
            u_muni=u_muni,
            u_dept=u_dept,
            u_region=muni_region[u_muni] if len(U) else np.zeros(0, np.int32),
            u_pool=col((pool_ids[x] for x in of_unit), np.int32),
            u_rooms=col((u.rooms for u in U), np.int64),
            u_rent=col((u.rent_kr for u in U), float),
            u_kind=col((KIND_BIT[u.kind] for u in U), np.int8),
            u_accessible=col((u.accessible for u in U), bool),
            u_temporary=col((u.temporary for u in U), bool),
            u_area=dept_area[u_dept] if len(U) else np.zeros(0, np.int8),
            u_vacancy=vacancy,
            u_turn=turn,
            pool_list=tuple(pool_map.values()),
            pool_cap=np.array([q.cap for q in pool_map.values()], dtype=np.int64),
            pool_rotation=np.array([q.mode == "rotation" for q in pool_map.values()], dtype=bool),
            subsidy_kinds=sum(KIND_BIT[k] for k in set(inst.subsidy_kinds)),
            dept_cap=col(
                (NO_LIMIT if d.max_vulnerable is None else d.max_vulnerable for d in inst.departments), np.int64
            ),
            muni_frame=col((m.subsidy_frame for m in inst.municipalities), np.int64),
            region_quota=col((NO_LIMIT if r.grant_quota is None else r.grant_quota for r in inst.regions), np.int64),
            excluded_keys=sorted_set(np.array(excl, dtype=np.int64)),
            pref_keys=np.array(pref, dtype=np.int64)[order],
            pref_weight=np.array(weight, dtype=float)[order],
            pref_max=pref_max,
        )
