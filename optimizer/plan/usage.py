"""What a plan uses of every cap, and which caps are full: the one place that counts and names them.

Four kinds of cap bound a plan (FORMAT.md §3): a pool's share cap (rule 11),
a department's mixed-city cap on vulnerable citizens (rule 12), a
municipality's subsidy frame (rule 9) and a region's grant quota (rule 10).
Plan building, explanations, the round report and the ledger commit all count
and name them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from models import Instance, Plan
from models.plan import DepartmentUsage, FrameUsage, PoolUsage, QuotaUsage, Usage
from optimizer.engine.data import ProblemData
from optimizer.plan.records import construct, dict_rows

CapKind = Literal["pool", "department", "frame", "quota"]
#: The kinds of cap, in the order texts and plans list them.
CAP_KINDS: tuple[CapKind, ...] = ("pool", "department", "frame", "quota")
#: The id field naming a cap of each kind in plans and explanations.
ID_FIELD: dict[CapKind, str] = {"pool": "pool", "department": "department", "frame": "municipality", "quota": "region"}

#: Counts and limits per cap.
IntArray = NDArray[np.int64]
#: Indices into the instance's tables, of any integer dtype (the engine keeps int32 columns).
Index = NDArray[np.integer[Any]]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Used:
    """Assignments counted against each cap, one array per kind, indexed like ``ProblemData``'s groups.

    Attributes
    ----------
    pool
        Assignments per pool (``data.pool_list``).
    department
        Vulnerable citizens placed per department.
    frame
        Subsidised assignments per municipality.
    quota
        Subsidised assignments per region.
    """

    pool: IntArray
    department: IntArray
    frame: IntArray
    quota: IntArray

    def __getitem__(self, kind: CapKind) -> IntArray:
        return {"pool": self.pool, "department": self.department, "frame": self.frame, "quota": self.quota}[kind]


def count_used(data: ProblemData, citizen: Index, unit: Index, subsidised: BoolArray) -> Used:
    """What the assignments ``citizen[k] → unit[k]`` use of every cap.

    Parameters
    ----------
    data
        The instance's arrays.
    citizen, unit
        Indices of the assigned pairs.
    subsidised
        Whether each pair is subsidised (counts against frame and quota).
    """
    vul = data.c_vulnerable[citizen]
    return Used(
        pool=np.bincount(data.u_pool[unit], minlength=len(data.pool_list)),
        department=np.bincount(data.u_dept[unit][vul], minlength=data.n_departments),
        frame=np.bincount(data.u_muni[unit][subsidised], minlength=len(data.inst.municipalities)),
        quota=np.bincount(data.u_region[unit][subsidised], minlength=len(data.inst.regions)),
    )


def limits(data: ProblemData, kind: CapKind) -> IntArray:
    """The limit of every cap of a kind, :data:`~optimizer.engine.data.NO_LIMIT` where there is none."""
    return {"pool": data.pool_cap, "department": data.dept_cap, "frame": data.muni_frame, "quota": data.region_quota}[
        kind
    ]


def group_of(data: ProblemData, kind: CapKind, unit: Index) -> Index:
    """The cap of a kind that each unit counts against."""
    return {"pool": data.u_pool, "department": data.u_dept, "frame": data.u_muni, "quota": data.u_region}[kind][unit]


def applies(data: ProblemData, kind: CapKind, citizen: Index, subsidised: BoolArray) -> BoolArray:
    """Whether a cap of the kind counts each pair.

    Pools count every pair, departments those of vulnerable citizens, frames and
    quotas subsidised pairs.
    """
    if kind == "pool":
        return np.ones(len(citizen), bool)
    if kind == "department":
        return np.asarray(data.c_vulnerable[citizen], bool)
    return np.asarray(subsidised, bool)


def cap_id(data: ProblemData, kind: CapKind, i: int) -> str:
    """The id of cap ``i`` of a kind: the pool, department, municipality or region id."""
    inst = data.inst
    if kind == "pool":
        return data.pool_list[i].id
    if kind == "department":
        return inst.departments[i].id
    if kind == "frame":
        return inst.municipalities[i].id
    return inst.regions[i].id


def cap_name(data: ProblemData, kind: CapKind, i: int) -> str:
    """Cap ``i`` of a kind in words, e.g. ``pool 'a1' share cap``."""
    name = repr(cap_id(data, kind, i))
    return {
        "pool": f"pool {name} share cap",
        "department": f"department {name} mixed-city cap",
        "frame": f"subsidy frame of municipality {name}",
        "quota": f"grant quota of region {name}",
    }[kind]


def cap_text(data: ProblemData, used: Used, kind: CapKind, i: int, full: bool = True) -> str:
    """Cap ``i`` of a kind with its use, e.g. ``pool 'a1' share cap full (3/3)`` (without "full" if not ``full``)."""
    return f"{cap_name(data, kind, i)}{' full' * full} ({int(used[kind][i])}/{int(limits(data, kind)[i])})"


@dataclass(frozen=True)
class FullCap:
    """A cap that is full for one more assignment.

    Attributes
    ----------
    kind, index
        The cap's kind and index among its kind's groups.
    id
        The pool, department, municipality or region id.
    used, limit
        Its usage in the plan and its limit.
    text
        The cap in words (:func:`cap_text`), e.g. ``pool 'a1' share cap full (3/3)``.
    """

    kind: CapKind
    index: int
    id: str
    used: int
    limit: int
    text: str


def full_caps(data: ProblemData, used: Used, c: int, u: int, subsidised: bool, move_from: int = -1) -> list[FullCap]:
    """The full caps that stop citizen ``c`` from taking the free unit ``u`` (empty if none).

    Parameters
    ----------
    data, used
        The instance's arrays and the plan's usage.
    c, u
        Citizen and unit indices.
    subsidised
        Whether the pair needs the subsidy (frames and quotas count it).
    move_from
        The unit ``c`` holds now (-1 if none): moving frees its place in its own
        pool, department, frame and quota.
    """
    moving = move_from >= 0
    sub_before = moving and bool(data.u_rent[move_from] > data.c_max_rent[c])
    out = []
    for kind in CAP_KINDS:
        if not applies(data, kind, np.array([c]), np.array([subsidised]))[0]:
            continue
        i = int(group_of(data, kind, np.array([u]))[0])
        counted_before = sub_before if kind in ("frame", "quota") else moving
        freed = counted_before and int(group_of(data, kind, np.array([move_from]))[0]) == i
        n, cap = int(used[kind][i]), int(limits(data, kind)[i])
        if n - int(freed) + 1 > cap:
            out.append(FullCap(kind, i, cap_id(data, kind, i), n, cap, cap_text(data, used, kind, i)))
    return out


def full_mask(data: ProblemData, used: Used, kind: CapKind, citizen: Index, unit: Index, sub: BoolArray) -> BoolArray:
    """Per pair, whether a full cap of the kind stops the citizen from taking the unit (vectorised)."""
    g = group_of(data, kind, unit)
    return applies(data, kind, citizen, sub) & (used[kind][g] >= limits(data, kind)[g])


#: A pool's usage record's fields, in the order of :class:`~models.plan.PoolUsage`: the pool's own, then its use.
POOL_FIELDS = ("id", "municipality", "share", "vacancies", "vacancies_before", "claimed_before", "cap", "used")


def plan_usage(data: ProblemData, used: Used) -> Usage:
    """The plan's ``usage`` section: every pool, capped department, frame and quota with its use.

    The records are built from the instance's validated values and the counts, field by
    field in their classes' order (:func:`~optimizer.plan.records.construct`): a national
    week has 1,300 of them, and validating each anew took a tenth of building its plan.
    """
    inst = data.inst
    # pools by columns (1,200 in a national week), each row its record's fields in their order
    own = (list(map(attrgetter(k), data.pool_list)) for k in POOL_FIELDS[:-1])
    pools = dict_rows(POOL_FIELDS, *own, used.pool.tolist())
    departments = (
        {"id": d.id, "max_vulnerable": d.max_vulnerable, "used": n}
        for d, n in zip(inst.departments, used.department.tolist(), strict=True)
        if d.max_vulnerable is not None
    )
    frames = (
        {"municipality": m.id, "frame": m.subsidy_frame, "used": n}
        for m, n in zip(inst.municipalities, used.frame.tolist(), strict=True)
    )
    quotas = (
        {"region": r.id, "quota": r.grant_quota, "used": n}
        for r, n in zip(inst.regions, used.quota.tolist(), strict=True)
    )
    return Usage(
        pools=tuple(construct(PoolUsage, pools, POOL_FIELDS)),
        departments=tuple(construct(DepartmentUsage, departments)),
        frames=tuple(construct(FrameUsage, frames)),
        quotas=tuple(construct(QuotaUsage, quotas)),
    )


def assigned_pairs(data: ProblemData, plan: Plan) -> tuple[IntArray, IntArray, BoolArray]:
    """The plan's assignments as citizen and unit indices, and whether each needs the subsidy.

    A pair counts as subsidised when the unit's rent exceeds the citizen's limit
    (rule 8), whatever the plan's flag says.

    Raises
    ------
    KeyError
        When the plan names a citizen or unit the instance does not have.
    """
    cidx, uidx = data.citizen_index, data.unit_index
    ci = np.fromiter((cidx[a.citizen] for a in plan.assignments), np.int64, len(plan.assignments))
    ui = np.fromiter((uidx[a.unit] for a in plan.assignments), np.int64, len(plan.assignments))
    return ci, ui, np.asarray(data.u_rent[ui] > data.c_max_rent[ci], bool)


def recount(inst: Instance, plan: Plan, data: ProblemData | None = None) -> Usage:
    """The ``usage`` of a plan recounted from its assignments and the instance, never from its own ``usage``."""
    data = ProblemData.build(inst) if data is None else data
    return plan_usage(data, count_used(data, *assigned_pairs(data, plan)))
