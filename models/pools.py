"""Pools and the anvisningsret (FORMAT.md §2)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.instance import Instance
from models.schema import Agreement

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
        The agreement id, or ``default:<municipality>:<organisation>``.
    share
        The claimable share of the pool's vacancies.
    vacancies
        Units of the pool in this instance (this round's vacancies).
    vacancies_before, claimed_before
        From the ledger (0 when the pool has no entry).
    cap
        ``max(0, floor(share × (vacancies_before + vacancies) + 1e-9) − claimed_before)``.
    """

    id: str
    municipality: str
    share: float
    vacancies: int
    vacancies_before: int
    claimed_before: int
    cap: int


def default_pool_id(municipality: str, organisation: str) -> str:
    """The id of the default pool of an organisation's units in a municipality (FORMAT.md §2).

    ``default:<municipality>:<organisation>``: part of the contract, as ledgers and
    plans name pools by it.
    """
    return f"{DEFAULT_PREFIX}{municipality}:{organisation}"


def default_pool_owners(pool: str) -> list[tuple[str, str]]:
    """Every ``(municipality, organisation)`` whose default pool id is ``pool`` (empty if none).

    Ids may contain ``:`` themselves, so every split of the rest is a candidate;
    the caller keeps those of known ids.
    """
    if not pool.startswith(DEFAULT_PREFIX):
        return []
    parts = pool[len(DEFAULT_PREFIX) :].split(":")
    return [(":".join(parts[:k]), ":".join(parts[k:])) for k in range(1, len(parts))]


def pool_cap(share: float, vacancies_before: int, vacancies: int, claimed_before: int) -> int:
    """The number of units of a pool that may be claimed this round (FORMAT.md §2)."""
    return max(0, math.floor(share * (vacancies_before + vacancies) + EPS) - claimed_before)


def unit_pools(inst: Instance) -> list[str]:
    """The pool id of every unit, in unit order: the first matching agreement, else the default pool."""
    dept = {d.id: d for d in inst.departments}
    by_municipality: dict[str, list[Agreement]] = {}
    for a in inst.agreements:
        by_municipality.setdefault(a.municipality, []).append(a)
    out = []
    for u in inst.units:
        d = dept[u.department]
        pool = default_pool_id(d.municipality, d.organisation)
        for a in by_municipality.get(d.municipality, ()):
            if (
                (a.organisation is None or a.organisation == d.organisation)
                and (a.max_rent_kr is None or a.max_rent_kr >= u.rent_kr)
                and (a.rooms is None or u.rooms in a.rooms)
                and (a.departments is None or u.department in a.departments)
            ):
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
    muni: dict[str, str] = {}
    for u, p in zip(inst.units, of_units, strict=True):
        count[p] = count.get(p, 0) + 1
        muni.setdefault(p, dept_muni[u.department])
    out = {}
    for p, v in count.items():
        s = share.get(p, inst.parameters.default_share)
        e = ledger.get(p)
        vb, cb = (e.vacancies_before, e.claimed_before) if e else (0, 0)
        out[p] = Pool(p, muni[p], s, v, vb, cb, pool_cap(s, vb, v, cb))
    return out
