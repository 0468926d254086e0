"""Pools and the anvisningsret (FORMAT.md §2), with the rotation and choice of ``anvis/2`` (§6)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.instance import Instance
from models.schema import Agreement, Department, Unit

#: How a default pool id begins (:func:`default_pool_id`).
DEFAULT_PREFIX = "default:"
# A share times vacancies that is a whole number in exact arithmetic must floor to it.
EPS = 1e-9


@dataclass(frozen=True)
class Pool:
    """One pool of this round: its share, ledger and cap.

    Attributes
    ----------
    id
        The agreement id, or the default pool's id (:func:`default_pool_id`).
    share
        The claimable share of the pool's vacancies.
    vacancies
        Units of the pool in this instance that are not ``offered`` (this round's vacancies).
    vacancies_before, claimed_before
        From the ledger (0 when the pool has no entry).
    cap
        Of a ``choice`` pool (every pool of version 1):
        ``max(0, floor(share × (vacancies_before + vacancies) + 1e-9) − claimed_before)``.
        Of a ``rotation`` pool (FORMAT.md §6): the units that may be assigned, its
        turns and offered units; no share row is needed beyond that.
    mode
        ``"choice"`` (rule 11) or ``"rotation"`` (FORMAT.md §6 rule 4).
    offered
        Units of the pool carrying ``offered: true`` (turns of earlier rounds).
    """

    id: str
    municipality: str
    share: float
    vacancies: int
    vacancies_before: int
    claimed_before: int
    cap: int
    mode: str = "choice"
    offered: int = 0


def default_pool_id(municipality: str, organisation: str, kind: str | None = None) -> str:
    """The id of the default pool of an organisation's units in a municipality (FORMAT.md §2, §6).

    ``default:<municipality>:<organisation>`` in version 1, and per unit kind
    ``default:<municipality>:<organisation>:<kind>`` in version 2: part of the
    contract, as ledgers and plans name pools by it.
    """
    base = f"{DEFAULT_PREFIX}{municipality}:{organisation}"
    return base if kind is None else f"{base}:{kind}"


def default_pool_owners(pool: str) -> list[tuple[str, str]]:
    """Every ``(municipality, organisation)`` whose default pool id is ``pool`` (empty if none).

    Ids may contain ``:`` themselves, so every split of the rest is a candidate;
    the caller keeps those of known ids.
    """
    if not pool.startswith(DEFAULT_PREFIX):
        return []
    parts = pool[len(DEFAULT_PREFIX) :].split(":")
    return [(":".join(parts[:k]), ":".join(parts[k:])) for k in range(1, len(parts))]


def agreement_matches(a: Agreement, unit: Unit, dept: Department) -> bool:
    """Whether a unit of the agreement's municipality passes all the agreement's filters.

    ``kinds`` and ``units`` are the filters of version 2 (FORMAT.md §6); they are
    never set in a version-1 instance.
    """
    return (
        (a.organisation is None or a.organisation == dept.organisation)
        and (a.max_rent_kr is None or a.max_rent_kr >= unit.rent_kr)
        and (a.rooms is None or unit.rooms in a.rooms)
        and (a.departments is None or unit.department in a.departments)
        and (a.kinds is None or unit.kind in a.kinds)
        and (a.units is None or unit.id in a.units)
    )


def pool_mode(inst: Instance, pool_id: str) -> str:
    """A pool's mode, ``"rotation"`` or ``"choice"`` (FORMAT.md §6 rule 1).

    ``"choice"`` in version 1; in version 2 its agreement's ``mode``, else
    ``parameters.default_mode``.
    """
    if inst.version == 1:
        return "choice"
    return next((a.mode for a in inst.agreements if a.id == pool_id), inst.parameters.default_mode)


def pool_cap(share: float, vacancies_before: int, vacancies: int, claimed_before: int) -> int:
    """The number of units of a pool that may be claimed this round (FORMAT.md §2)."""
    return max(0, math.floor(share * (vacancies_before + vacancies) + EPS) - claimed_before)


def unit_pools(inst: Instance) -> list[str]:
    """The pool id of every unit, in unit order: the first matching agreement, else the default pool."""
    dept = {d.id: d for d in inst.departments}
    by_municipality: dict[str, list[Agreement]] = {}
    for a in inst.agreements:
        by_municipality.setdefault(a.municipality, []).append(a)
    per_kind = inst.version == 2  # default pools per unit kind (FORMAT.md §6 rule 2)
    out = []
    for u in inst.units:
        d = dept[u.department]
        pool = default_pool_id(d.municipality, d.organisation, u.kind if per_kind else None)
        for a in by_municipality.get(d.municipality, ()):
            if agreement_matches(a, u, d):
                pool = a.id
                break
        out.append(pool)
    return out


def pools(inst: Instance, of_units: list[str] | None = None) -> dict[str, Pool]:
    """Every pool with at least one unit this round, keyed by id, in order of first unit."""
    of_units = unit_pools(inst) if of_units is None else of_units
    share = {a.id: a.share for a in inst.agreements}
    ledger = {e.pool: e for e in inst.ledger}
    dept_muni = {d.id: d.municipality for d in inst.departments}
    count: dict[str, int] = {}
    offered: dict[str, int] = {}
    muni: dict[str, str] = {}
    for u, p in zip(inst.units, of_units, strict=True):
        count[p] = count.get(p, 0) + (not u.offered)
        offered[p] = offered.get(p, 0) + u.offered
        muni.setdefault(p, dept_muni[u.department])
    out = {}
    for p, v in count.items():
        s = share.get(p, inst.parameters.default_share)
        e = ledger.get(p)
        vb, cb = (e.vacancies_before, e.claimed_before) if e else (0, 0)
        mode = pool_mode(inst, p)
        cap = pool_cap(s, vb, v, cb) if mode == "choice" else 0  # rotation: set from the turns below
        out[p] = Pool(p, muni[p], s, v, vb, cb, cap, mode, offered[p])
    if any(q.mode == "rotation" for q in out.values()):
        index = {p: i for i, p in enumerate(out)}
        pool = np.fromiter((index[p] for p in of_units), np.int64, len(of_units))
        _, may = turns(inst, of_units, out)
        assignable = np.bincount(pool[may], minlength=len(out)).tolist()
        for p, q in out.items():
            if q.mode == "rotation":
                out[p] = dataclasses.replace(q, cap=assignable[index[p]])
    return out


def turns(
    inst: Instance, of_units: list[str], pool_map: dict[str, Pool]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The rotation of FORMAT.md §6 rule 4, for every unit at once.

    The units of a rotation pool that are not ``offered`` are numbered, in order of
    (``sequence``, position in ``units``), k = Vb + 1, …, Vb + V; unit k is a turn
    when ``floor(s·k + 1e-9) > floor(s·(k − 1) + 1e-9)``. This is the one place
    that numbers vacancies and finds turns.

    Parameters
    ----------
    inst
        The instance.
    of_units
        The pool id of every unit (:func:`unit_pools`).
    pool_map
        The pools by id; only ``share``, ``vacancies_before`` and ``mode`` are read.

    Returns
    -------
    vacancy, may
        Per unit: its number k (0 where it is not numbered: units of choice pools
        and offered units), and whether the municipality may be given it: a turn
        or an offered unit of a rotation pool. Units of choice pools are ``False``
        in ``may`` (rule 11 limits them instead).
    """
    n = len(of_units)
    index = {p: i for i, p in enumerate(pool_map)}
    pool = np.fromiter((index[p] for p in of_units), np.int64, n)
    rotation = np.array([q.mode == "rotation" for q in pool_map.values()], dtype=bool)
    share = np.array([q.share for q in pool_map.values()], dtype=float)
    before = np.array([q.vacancies_before for q in pool_map.values()], dtype=np.int64)
    offered = np.fromiter((u.offered for u in inst.units), bool, n)
    sequence = np.fromiter((i if u.sequence is None else u.sequence for i, u in enumerate(inst.units)), np.int64, n)
    in_rotation = rotation[pool] if n else np.zeros(0, bool)
    numbered = in_rotation & ~offered
    # by pool, then sequence, then position (lexsort's last key is the primary one)
    order = np.lexsort((np.arange(n), sequence, pool))
    order = order[numbered[order]]
    pool_sorted = pool[order]
    rank = np.arange(len(order)) - np.searchsorted(pool_sorted, pool_sorted, side="left")
    vacancy = np.zeros(n, dtype=np.int64)
    vacancy[order] = before[pool_sorted] + rank + 1
    s = share[pool] if n else np.zeros(0)
    turn = numbered & (np.floor(s * vacancy + EPS) > np.floor(s * (vacancy - 1) + EPS))
    return vacancy, turn | (in_rotation & offered)
