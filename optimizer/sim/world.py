"""The persistent world of a simulation: the whole stock, its urgent list and weekly events.

:func:`world` builds a :class:`World` with the generator's calibration
(:mod:`optimizer.sim.generate`, :mod:`optimizer.sim.calibration`) but with the
whole housing stock of the selected municipalities as its units instead of one
round's vacancies. Its weekly vacancies and arrivals are pure functions of
``(seed, week)``, and :meth:`World.instance` writes one round's ``anvis/2`` (or
``anvis/1``) document.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from models.schema import FORMAT_V2, FORMATS
from optimizer.sim.calibration import (
    CHEAP_KR,
    CHEAP_RELET_RATE,
    HOMELESS_INFLOW,
    NATIONAL_AREAS,
    NATIONAL_HOMELESS,
    RELET_RATE,
)
from optimizer.sim.generate import PRESETS, Builder, apportion, parameters, unit_records


class StockBuilder(Builder):
    """The builder with the whole housing stock as its units instead of one round's vacancies.

    Only :meth:`counts` differs: the units are the selected municipalities'
    stock (times ``scale``), spread over the afdelinger by size as the
    vacancies of a round are, so every unit attribute follows the same
    calibration (the rent bands then hold for the stock itself). The urgent
    list is the selected municipalities' own part of the homeless count.
    """

    units_are_vacancies = False  # the stock: rents follow the stock's bands

    def counts(self) -> None:
        """Units: the selection's stock times ``scale``; citizens: its homeless count times ``scale``."""
        rng, sel = self.rng, self.sel
        self.weeks = 52
        stock = self.stock[sel]
        n_units = max(1, round(stock.sum() * self.scale))
        # The selection's share of the homeless count (exactly 1.0 for all 98): a subset
        # world's urgent list holds only its own municipalities' citizens.
        share = float(self.homeless[sel].sum() / self.homeless.sum())
        n_cit = max(1, round(NATIONAL_HOMELESS * share * self.scale))
        self.units_m = rng.multinomial(n_units, stock / stock.sum()) if len(sel) > 1 else np.array([n_units])
        self.cit_m = apportion(n_cit, self.homeless[sel])
        self.f = n_units / stock.sum()  # the world's units over the real stock (≈ scale)
        self.stock_eff = stock * self.f


class World:
    """A fixed housing stock and its urgent citizens, with seeded weekly events.

    Built by :func:`world`. The stock (afdelinger, organisations, units with
    rooms, rents, kinds), the areas, mixed-city caps, yearly subsidy frames
    and grant quotas and the generator's drawn extended agreements are fixed
    at construction. Weekly events are pure functions of ``(seed, week)``, so
    any number of simulated regimes see the identical world, in any order:

    - :meth:`vacancies`: each unit becomes vacant with probability
      ``RELET_RATE / 52`` (re-letting 11 % a year); in ``anvis/2`` family units under
      3,500 kr at ``CHEAP_RELET_RATE / 52`` (≈ 17 % a year) and the others a little less,
      so that the stock still re-lets 11 % a year;
    - :meth:`arrivals`: Poisson(``HOMELESS_INFLOW × scale / 52``) new urgent
      citizens, over the municipalities by homeless count, with the
      generator's citizen attributes (ids ``c<week>-<n>``);
    - :attr:`initial`: the standing urgent list at the start (the selected
      municipalities' homeless count, ids ``c0-<n>``).

    Attributes
    ----------
    seed, scale, format
        As given to :func:`world`.
    codes
        The kommune codes of the world, in order.
    municipalities, regions
        ``anvis/1`` records with the yearly subsidy frame and grant quota.
    departments, organisations
        ``anvis/1`` records of the whole stock.
    u_dept, u_rooms, u_rent, u_kind, u_acc, u_temp
        Per unit (id ``u<index + 1>``): afdeling index, rooms, rent (kr),
        kind (index into :data:`models.KINDS`), accessible, temporary.
    agreements
        The generator's drawn extended agreements (København and about 30 %
        of the other municipalities).
    homeless
        Homeless count per municipality code (the weights of the inflow).
    inflow_share
        The world's share of the national homeless count and inflow (1.0 for all 98).
    initial
        The urgent list at the start, ``anvis/1`` citizen records.
    """

    def __init__(self, b: StockBuilder, seed: int, scale: float, format: str = FORMAT_V2):
        self.seed, self.scale, self._builder, self.format = seed, scale, b, format
        sel = b.sel
        self.codes = [b.codes[i] for i in sel]
        self.regions = b.region_records(None)
        self.municipalities = b.municipality_records(None)
        self.organisations = b.organisation_records()
        self.departments = b.department_records()
        self.dept_index = {d["id"]: j for j, d in enumerate(self.departments)}
        self.u_dept, self.u_rooms, self.u_rent = b.u_dept, b.u_rooms, b.u_rent
        self.u_kind, self.u_acc, self.u_temp = b.u_kind, b.u_acc, b.u_temp
        self.agreements: list[dict[str, Any]] = b.agr
        self.homeless = {c: float(h) for c, h in zip(self.codes, b.homeless[sel].tolist(), strict=True)}
        self.inflow_share = float(b.homeless[sel].sum() / b.homeless.sum())
        self.initial = _renamed(b.cit, 0)
        self.relet = np.full(self.n_units, RELET_RATE)
        if format == FORMAT_V2:
            cheap = (self.u_kind == 0) & (self.u_rent < CHEAP_KR)
            n_cheap = int(cheap.sum())
            if n_cheap < self.n_units:
                self.relet[cheap] = CHEAP_RELET_RATE
                self.relet[~cheap] = (RELET_RATE * self.n_units - CHEAP_RELET_RATE * n_cheap) / (self.n_units - n_cheap)

    @property
    def n_units(self) -> int:
        """Units in the stock."""
        return len(self.u_dept)

    @property
    def inflow_per_year(self) -> float:
        """Expected new urgent citizens a year: the national inflow times scale, the world's share."""
        return HOMELESS_INFLOW * self.scale * self.inflow_share

    def vacancies(self, week: int) -> npt.NDArray[np.intp]:
        """Indices of the units that become vacant in ``week`` (1-based), ascending."""
        rng = np.random.default_rng([self.seed, week, 1])
        return np.flatnonzero(rng.random(self.n_units) < self.relet / 52)

    def sequence(self, week: int, n: int) -> list[int]:
        """The order in which the week's ``n`` vacancies fell vacant (``anvis/2`` ``sequence``)."""
        out: list[int] = np.random.default_rng([self.seed, week, 4]).permutation(n).tolist()
        return out

    def arrivals(self, week: int) -> list[dict[str, Any]]:
        """The urgent citizens arriving in ``week`` (1-based), citizen records of :attr:`format`."""
        rng = np.random.default_rng([self.seed, week, 2])
        b = self._builder
        n = int(rng.poisson(self.inflow_per_year / 52))
        h = b.homeless[b.sel]
        b.rng, b.cit_m = rng, rng.multinomial(n, h / h.sum())
        b.citizens()
        return _renamed(b.cit, week)

    def unit_ids(self, units: Iterable[int] | npt.NDArray[np.integer[Any]]) -> list[str]:
        """The ids of unit indices."""
        return [f"u{i + 1}" for i in np.asarray(units).tolist()]

    def instance(
        self,
        name: str,
        units: Sequence[int] | npt.NDArray[np.integer[Any]],
        citizens: list[dict[str, Any]],
        agreements: list[dict[str, Any]],
        default_share: float = 0.25,
        default_mode: str = "rotation",
        week: int = 0,
    ) -> dict[str, Any]:
        """One round's document of :attr:`format`: these vacant units and the citizens waiting.

        Parameters
        ----------
        name
            The instance's name (unique per round, so every round's hash differs).
        units
            Unit indices (e.g. :meth:`vacancies`).
        citizens
            Citizen records (the waiting list).
        agreements
            Agreement records (their organisations must be of this world).
        default_share
            The share of the default pools.
        default_mode
            ``anvis/2``: the mode of the default pools.
        week
            ``anvis/2``: the week whose order of vacancy (:meth:`sequence`) the units carry.

        Returns
        -------
        dict
            The document with the yearly frames and quotas, the afdelinger of
            the units and those the citizens name, no ledger (the round's
            ledger fills it) and no scores.
        """
        units = np.asarray(units, dtype=np.int64)
        depts = set(self.u_dept[units].tolist())
        for c in citizens:
            depts.update(self.dept_index[d] for d in c.get("excluded_departments", ()))
            depts.update(self.dept_index[p["department"]] for p in c.get("preferences", ()))
        departments = [self.departments[j] for j in sorted(depts)]
        org_ids = {d["organisation"] for d in departments} | {
            a["organisation"] for a in agreements if a.get("organisation")
        }
        records = unit_records(
            units,
            [self.departments[d]["id"] for d in self.u_dept[units].tolist()],
            self.u_rooms[units],
            self.u_rent[units],
            self.u_kind[units],
            self.u_acc[units],
            self.u_temp[units],
        )
        v2 = self.format == FORMAT_V2
        if v2:
            for u, s in zip(records, self.sequence(week, len(records)), strict=True):
                u["sequence"] = s
        return {
            "format": self.format,
            "name": name,
            "parameters": parameters(default_share, v2=v2, default_mode=default_mode),
            "regions": [dict(r) for r in self.regions],
            "municipalities": [dict(m) for m in self.municipalities],
            "organisations": [o for o in self.organisations if o["id"] in org_ids],
            "departments": [dict(d) for d in departments],
            "units": records,
            "agreements": [dict(a) for a in agreements],
            "ledger": [],
            "citizens": citizens,
        }


def _renamed(citizens: list[dict[str, Any]], week: int) -> list[dict[str, Any]]:
    """The records with ids ``c<week>-<n>`` (changed in place)."""
    for i, c in enumerate(citizens):
        c["id"] = f"c{week}-{i + 1}"
    return citizens


def world(
    seed: int = 0,
    scale: float = 1.0,
    municipalities: Sequence[str] | None = None,
    agreement_rate: float = 0.3,
    areas: dict[str, float] | None = None,
    format: str = FORMAT_V2,
) -> World:
    """A persistent world for simulations: the whole stock and the urgent list, seeded.

    Parameters
    ----------
    seed
        Seed of every draw; the same arguments give the identical world and
        the identical weekly events.
    scale
        Multiplies the stock, the urgent list, the inflow, frames and quotas
        (e.g. 0.02 for tests).
    municipalities
        ``None`` (all 98) or a tuple of kommune codes: the world holds their
        stock, their own homeless citizens and their part of the inflow.
    agreement_rate
        Chance that a municipality other than København has drawn extended
        agreements (:attr:`World.agreements`).
    areas
        Share of afdelinger per non-ordinary area class (national by default).
    format
        ``"anvis/2"`` (default: per-kind pools, cheap units re-let faster, homeless flags,
        order of vacancy) or ``"anvis/1"`` (the version-1 world).

    Returns
    -------
    World

    Raises
    ------
    ValueError
        For a bad scale or municipality code.
    """
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    cfg: dict[str, Any] = {
        **PRESETS["national-week"],
        "municipalities": municipalities,
        "agreement_rate": agreement_rate,
        "areas": areas or NATIONAL_AREAS,
        "format": format,
    }
    b = StockBuilder(cfg, np.random.default_rng(seed), float(scale), f"world-s{seed}")
    b.national()
    b.select()
    b.frames()
    b.counts()
    b.departments()
    b.units()
    b.agreements()
    b.citizens()
    return World(b, seed, float(scale), format)
