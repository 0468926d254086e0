"""The subsidy's years: every subsidised tenancy in the ledger, and when and what its taper costs.

Huslejetilskud is given in full for four years from the citizen's move-in and then
tapers over five years, nine years of subsidy in all (seed 001, "Tilskuddet gives
fuldt ud i fire år, fra borgeren har tilflyttet boligen, hvorefter tilskuddet
aftrappes over en 5-årig periode. Samlet set kan der således ydes tilskud i 9 år").
The source does not say how it tapers, so the taper here is **linear**: in tenancy
years 5, 6, 7, 8 and 9 the subsidy is 5/6, 4/6, 3/6, 2/6 and 1/6 of the full
amount, and nothing from year 10 (the ninth year still pays, as the source says).

A committed round records each of its subsidised assignments
(:func:`record_subsidies`, called by :func:`optimizer.rounds.workflow.commit_round`):
round, citizen, unit, municipality, start date (the commit's UTC date), the monthly
subsidy, the unit's rent, and the first tenancy year in which the tapered rent (rent
minus that year's subsidy) is above the tenant's rent limit. The rent limit is a
citizen's circumstance: it is not stored, only that year (all that the count of
tenants whose limit is below their tapered rent needs), and no output of this module
carries it per citizen. A tenancy of a round no longer ``committed`` (rolled back) is
not counted.

Simplifications (said where the figures are shown): the amount is the one at the
start (the yearly price index is not applied); a tenancy runs for the whole nine
years (moves are not in the ledger); money is counted by whole months, the month of
the start counted in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, insert, select

from models import Instance, Plan
from optimizer.rounds.ledger import DEFAULT_DB, rounds, subsidies, transaction, utc_now

__all__ = [
    "FULL_YEARS",
    "TAPER_YEARS",
    "Tenancy",
    "record_subsidies",
    "subsidy_factor",
    "taper_schedule",
    "tenancies",
]

#: Years of full subsidy from move-in (seed 001).
FULL_YEARS = 4
#: Years over which the subsidy then tapers to nothing (seed 001).
TAPER_YEARS = 5


@dataclass(frozen=True)
class Tenancy:
    """One subsidised tenancy as the ledger keeps it.

    ``limit_below_from_year`` is the first tenancy year whose tapered rent is above the
    tenant's rent limit (None: never); kept for counts only, never shown per citizen.
    """

    round_id: int
    citizen: str
    unit: str
    municipality: str
    start: date
    monthly_subsidy_kr: float
    rent_kr: float
    limit_below_from_year: int | None


def subsidy_factor(year: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The share of the full subsidy paid in tenancy year ``year`` (1 = the first year).

    1 in years 1 to :data:`FULL_YEARS`, then linear steps of 1/(:data:`TAPER_YEARS` + 1)
    down: 5/6, 4/6, 3/6, 2/6, 1/6 in years 5 to 9, and 0 from year 10 (and before year 1).
    """
    y = np.asarray(year, dtype=np.int64)
    taper = (FULL_YEARS + TAPER_YEARS + 1 - y) / (TAPER_YEARS + 1)
    return np.where(y < 1, 0.0, np.where(y <= FULL_YEARS, 1.0, np.clip(taper, 0.0, 1.0)))


def limit_below_from_year(rent: float, monthly: float, limit: float) -> int | None:
    """The first tenancy year whose tapered rent (rent − subsidy × :func:`subsidy_factor`) is above ``limit``.

    None when the limit covers the rent in every year of the subsidy's taper and after it.
    """
    years = np.arange(1, FULL_YEARS + TAPER_YEARS + 2)  # the year after the last subsidy: the full rent
    above = np.flatnonzero(limit < rent - monthly * subsidy_factor(years))
    return int(years[above[0]]) if len(above) else None


def record_subsidies(conn: Connection, round_id: int, inst: Instance, plan: Plan, start: str | None = None) -> int:
    """Record the plan's subsidised assignments as tenancies starting at ``start``; return how many.

    Parameters
    ----------
    conn
        The committing transaction (the rows go in with the commit or not at all).
    round_id
        The round being committed.
    inst, plan
        Its instance and plan (the plan passed the checker).
    start
        ISO date of the move-in; today's UTC date by default (the commit's date).
    """
    day = start or utc_now()[:10]
    citizen = {c.id: c for c in inst.citizens}
    unit = {u.id: u for u in inst.units}
    muni_of = {d.id: d.municipality for d in inst.departments}
    amount = float(inst.parameters.subsidy_amount_kr)
    rows = [
        {
            "round_id": round_id,
            "citizen": a.citizen,
            "unit": a.unit,
            "municipality": muni_of[unit[a.unit].department],
            "start": day,
            "monthly_subsidy_kr": amount,
            "rent_kr": float(unit[a.unit].rent_kr),
            "limit_below_from_year": limit_below_from_year(
                float(unit[a.unit].rent_kr), amount, float(citizen[a.citizen].max_rent_kr)
            ),
        }
        for a in plan.assignments
        if a.subsidised
    ]
    if rows:
        conn.execute(insert(subsidies), rows)
    return len(rows)


def tenancies(db: str = DEFAULT_DB) -> list[Tenancy]:
    """Every subsidised tenancy of a committed round, by round and citizen."""
    with transaction(db) as conn:
        got = conn.execute(
            select(subsidies)
            .join(rounds, rounds.c.id == subsidies.c.round_id)
            .where(rounds.c.status == "committed")
            .order_by(subsidies.c.round_id, subsidies.c.citizen)
        ).all()
    return [
        Tenancy(
            round_id=int(r.round_id),
            citizen=r.citizen,
            unit=r.unit,
            municipality=r.municipality,
            start=date.fromisoformat(r.start),
            monthly_subsidy_kr=float(r.monthly_subsidy_kr),
            rent_kr=float(r.rent_kr),
            limit_below_from_year=None if r.limit_below_from_year is None else int(r.limit_below_from_year),
        )
        for r in got
    ]


def taper_schedule(rows: list[Tenancy]) -> list[dict[str, Any]]:
    """Per calendar year, from the first start to the last subsidy paid: what the taper means.

    Returns
    -------
    list of dict
        One per year, in order: ``year``; ``entering_taper`` (ids of the tenancies whose
        first tapered month falls in the year: round, citizen, unit, municipality, start);
        ``tenancies`` (paid a subsidy in the year); ``in_taper`` (paid a tapered subsidy in
        the year); ``cost_kr`` (the subsidy paid in the year, whole months);
        ``taper_cost_kr`` (the part of it paid in tapered months); and
        ``limit_below_tapered_rent`` (how many tenants in the taper have a rent limit below
        their highest tapered rent of the year, that of the latest tenancy year they reach
        in it). Counts only: no rent limit is returned.
    """
    if not rows:
        return []
    start = np.array([t.start.year * 12 + t.start.month - 1 for t in rows], dtype=np.int64)
    monthly = np.array([t.monthly_subsidy_kr for t in rows])
    below_from = np.array([99 if t.limit_below_from_year is None else t.limit_below_from_year for t in rows])
    months = 12 * (FULL_YEARS + TAPER_YEARS)
    first, last = int(start.min()) // 12, int(start.max() + months - 1) // 12
    years = np.arange(first, last + 1)
    # tenancy × year × month: the month's index since move-in, its tenancy year and subsidy
    since = (years[None, :, None] * 12 + np.arange(12)[None, None, :]) - start[:, None, None]
    tenancy_year = np.where(since >= 0, since // 12 + 1, 0)
    factor = subsidy_factor(tenancy_year)
    paid = monthly[:, None, None] * factor
    tapering = (factor > 0) & (factor < 1)
    in_taper = np.asarray(tapering.any(axis=2), dtype=bool)  # tenancy × year
    latest = np.where(tapering, tenancy_year, 0).max(axis=2)  # the highest tapered rent's year
    below = in_taper & (latest >= below_from[:, None])
    entering = np.asarray((since == 12 * FULL_YEARS).any(axis=2), dtype=bool)
    # per year, all at once
    n_subsidised = np.asarray((factor > 0).any(axis=2), dtype=bool).sum(axis=0).tolist()
    n_taper, n_below = in_taper.sum(axis=0).tolist(), np.asarray(below, dtype=bool).sum(axis=0).tolist()
    cost = paid.sum(axis=(0, 2)).tolist()
    taper_cost = np.where(tapering, paid, 0.0).sum(axis=(0, 2)).tolist()
    out = []
    for j, y in enumerate(years.tolist()):
        out.append(
            {
                "year": y,
                "entering_taper": [
                    {
                        "round": rows[i].round_id,
                        "citizen": rows[i].citizen,
                        "unit": rows[i].unit,
                        "municipality": rows[i].municipality,
                        "start": rows[i].start.isoformat(),
                    }
                    for i in np.flatnonzero(entering[:, j]).tolist()
                ],
                "tenancies": int(n_subsidised[j]),
                "in_taper": int(n_taper[j]),
                "cost_kr": round(float(cost[j]), 2),
                "taper_cost_kr": round(float(taper_cost[j]), 2),
                "limit_below_tapered_rent": int(n_below[j]),
            }
        )
    return out
