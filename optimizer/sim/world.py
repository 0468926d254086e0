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

import models
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

    #: Begins the ids of the per-kind default pools spelt out as agreements
    #: (:func:`optimizer.sim.simulate.kind_pool_agreements`).
    kind_pool_prefix = ""

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


#: The national yearly inflow to the urgent list over the standing list at the count
#: (:data:`~optimizer.sim.calibration.HOMELESS_INFLOW` / :data:`~optimizer.sim.calibration.NATIONAL_HOMELESS`,
#: ≈ 1.59): the default new urgent citizens a year of a year on an instance, per citizen of its list.
INFLOW_PER_LISTED = HOMELESS_INFLOW / NATIONAL_HOMELESS


class InstanceWorld(World):
    """A world whose weeks resample one instance: its units as a week's vacancies, its citizens as the list.

    Built by :func:`world_from_instance`; :func:`optimizer.sim.simulate.simulate_terms` runs
    it as it runs the generated :class:`World`. The *stock* is every vacancy of the horizon,
    drawn at construction: week ``k`` has Poisson(``vacancies_per_week``) units, each a copy
    of a unit of the instance drawn uniformly with replacement (seeded by ``(seed, k, 1)``),
    with a new id ``u<index + 1>`` and the template's afdeling, rooms, rent, kind, flags;
    ``offered`` is dropped (a new vacancy is no held turn) and, in ``anvis/2``, its order of
    vacancy is the week's seeded permutation (:meth:`World.sequence`). The urgent list at
    the start (:attr:`initial`) is the instance's citizens (ids ``c0-<n>``); week ``k``
    adds Poisson(``arrivals_per_week``) citizens, each a copy of one of the instance's
    citizens drawn uniformly (seeded by ``(seed, k, 2)``; ids ``c<k>-<n>``). A given
    ``scores`` entry holds for every copy of its citizen and unit.

    Every round's document has the instance's parameters (the default share and mode as
    the run's terms say), regions, municipalities, organisations and all afdelinger; an
    agreement's ``units`` filter names the copies of its units in the round.
    """

    # an instance's own agreement ids are the user's: the spelt-out pools keep apart from them
    kind_pool_prefix = "year:"

    def __init__(
        self,
        inst: models.Instance,
        seed: int,
        weeks: int,
        vacancies_per_week: float,
        arrivals_per_week: float,
    ):
        # World.__init__ is not called: it takes the generator's drawn stock; here the stock is
        # the horizon's vacancies, drawn below from the instance's own units.
        doc = inst.to_dict()
        self.seed, self.format, self.weeks = seed, doc["format"], weeks
        self.name = doc["name"]
        self.vacancies_per_week, self.arrivals_per_week = float(vacancies_per_week), float(arrivals_per_week)
        # The world's share of the national urgent list (scales the report's national target).
        self.scale = len(doc["citizens"]) / NATIONAL_HOMELESS
        self.inflow_share = 1.0
        self.parameters: dict[str, Any] = doc["parameters"]
        self.regions = doc["regions"]
        self.municipalities = doc["municipalities"]
        self.organisations = doc["organisations"]
        self.departments = doc["departments"]
        self.dept_index = {d["id"]: j for j, d in enumerate(self.departments)}
        self.codes = [m["id"] for m in self.municipalities]
        self.agreements = []
        self.homeless = {}
        self.templates: list[dict[str, Any]] = [
            {k: v for k, v in u.items() if k not in ("id", "sequence", "offered")} for u in doc["units"]
        ]
        self.template_ids = [u["id"] for u in doc["units"]]
        self.citizen_templates: list[dict[str, Any]] = doc["citizens"]
        kind_index = {k: i for i, k in enumerate(models.KINDS)}
        t_dept = np.array([self.dept_index[u["department"]] for u in self.templates], dtype=np.intp)
        t_rooms = np.array([u["rooms"] for u in self.templates], dtype=np.int64)
        t_rent = np.array([u["rent_kr"] for u in self.templates], dtype=np.int64)
        t_kind = np.array([kind_index[u["kind"]] for u in self.templates], dtype=np.intp)
        t_acc = np.array([bool(u["accessible"]) for u in self.templates], dtype=bool)
        t_temp = np.array([bool(u["temporary"]) for u in self.templates], dtype=bool)
        draws = [self._draw(k, 1, self.vacancies_per_week, len(self.templates)) for k in range(1, weeks + 1)]
        self.u_template = np.concatenate([np.zeros(0, dtype=np.intp), *draws])
        self.week_start = np.cumsum([0] + [len(d) for d in draws])
        self.u_dept, self.u_rooms, self.u_rent = (
            t_dept[self.u_template],
            t_rooms[self.u_template],
            t_rent[self.u_template],
        )
        self.u_kind, self.u_acc, self.u_temp = t_kind[self.u_template], t_acc[self.u_template], t_temp[self.u_template]
        self.relet = np.zeros(0)
        self.citizen_template: dict[str, int] = {}
        self.initial = self._copies(np.arange(len(self.citizen_templates)), 0)
        self.scores = self._score_matrix(doc.get("scores") or [])

    def _draw(self, week: int, stream: int, mean: float, n: int) -> npt.NDArray[np.intp]:
        """Template indices of a week's draw: Poisson(``mean``) of ``n``, uniformly with replacement."""
        rng = np.random.default_rng([self.seed, week, stream])
        count = int(rng.poisson(mean)) if n else 0
        return rng.integers(0, n, size=count).astype(np.intp) if count else np.zeros(0, dtype=np.intp)

    def _copies(self, templates: npt.NDArray[np.intp], week: int) -> list[dict[str, Any]]:
        """Copies of these citizens with ids ``c<week>-<n>`` (their templates remembered for the scores)."""
        out = []
        for n, t in enumerate(templates.tolist(), 1):
            cid = f"c{week}-{n}"
            self.citizen_template[cid] = t
            out.append({**self.citizen_templates[t], "id": cid})
        return out

    def _score_matrix(self, scores: list[dict[str, Any]]) -> Any:
        """The given scores' positions plus one as a sparse (citizen template × unit template) matrix.

        Positions, not scores: a given score of 0 stays apart from "not given" (a sparse
        matrix's missing entry), and the score is read back exactly from :attr:`score_values`.
        """
        self.score_values = [s["score"] for s in scores]
        if not scores:
            return None
        from scipy.sparse import csr_matrix

        ci = {c["id"]: i for i, c in enumerate(self.citizen_templates)}
        ui = {u: i for i, u in enumerate(self.template_ids)}
        rows = np.array([ci[s["citizen"]] for s in scores], dtype=np.intp)
        cols = np.array([ui[s["unit"]] for s in scores], dtype=np.intp)
        data = np.arange(1, len(scores) + 1, dtype=np.int64)
        return csr_matrix((data, (rows, cols)), shape=(len(ci), len(ui)))

    @property
    def inflow_per_year(self) -> float:
        """Expected new urgent citizens a year: ``arrivals_per_week`` × 52."""
        return self.arrivals_per_week * 52

    def vacancies(self, week: int) -> npt.NDArray[np.intp]:
        """Indices of the stock's units vacant in ``week`` (1-based, at most the world's weeks)."""
        if not 1 <= week <= self.weeks:
            raise ValueError(f"week {week} is outside this world's {self.weeks} weeks")
        return np.arange(self.week_start[week - 1], self.week_start[week], dtype=np.intp)

    def arrivals(self, week: int) -> list[dict[str, Any]]:
        """The urgent citizens arriving in ``week``: copies of the instance's citizens (ids ``c<week>-<n>``)."""
        return self._copies(self._draw(week, 2, self.arrivals_per_week, len(self.citizen_templates)), week)

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
        """One round's document of the instance's format: these vacant copies and the citizens waiting.

        As :meth:`World.instance`, with the instance's own records: its parameters (the
        default share and, in ``anvis/2``, mode given here), every afdeling, organisation,
        municipality (frame) and region (quota) of this world (so :func:`with_terms` changes
        hold), the copies' unit records, the agreements with their ``units`` filters naming
        the copies, no ledger, and the given scores of the round's pairs.
        """
        units = np.asarray(units, dtype=np.int64)
        ids = self.unit_ids(units)
        templates = self.u_template[units]
        records = [{"id": i, **self.templates[t]} for i, t in zip(ids, templates.tolist(), strict=True)]
        v2 = self.format == FORMAT_V2
        if v2:
            for u, s in zip(records, self.sequence(week, len(records)), strict=True):
                u["sequence"] = s
        copies: dict[str, list[str]] = {}
        for i, t in zip(ids, templates.tolist(), strict=True):
            copies.setdefault(self.template_ids[t], []).append(i)
        agreements = [
            a if not a.get("units") else {**a, "units": [c for u in a["units"] for c in copies.get(u, ())]}
            for a in agreements
        ]
        parameters = {**self.parameters, "default_share": default_share}
        if v2:
            parameters["default_mode"] = default_mode
        doc = {
            "format": self.format,
            "name": name,
            "parameters": parameters,
            "regions": [dict(r) for r in self.regions],
            "municipalities": [dict(m) for m in self.municipalities],
            "organisations": [dict(o) for o in self.organisations],
            "departments": [dict(d) for d in self.departments],
            "units": records,
            "agreements": [dict(a) for a in agreements],
            "ledger": [],
            "citizens": citizens,
        }
        if self.scores is not None and citizens and len(units):
            rows = np.array([self.citizen_template[c["id"]] for c in citizens], dtype=np.intp)
            sub = self.scores[rows][:, templates].tocoo()
            order = np.lexsort((sub.col, sub.row))  # citizen by citizen, units in round order
            doc["scores"] = [
                {"citizen": citizens[r]["id"], "unit": ids[c], "score": self.score_values[k - 1]}
                for r, c, k in zip(
                    sub.row[order].tolist(), sub.col[order].tolist(), sub.data[order].tolist(), strict=True
                )
            ]
        return doc


def weekly_means(
    inst: models.Instance, vacancies_per_week: float | None = None, arrivals_per_week: float | None = None
) -> tuple[float, float]:
    """The mean vacancies and new urgent citizens a week of a year on ``inst`` (given ones kept).

    By default its units, and its citizens × :data:`INFLOW_PER_LISTED` / 52 (the national
    turnover of the urgent list).
    """
    v = len(inst.units) if vacancies_per_week is None else vacancies_per_week
    a = len(inst.citizens) * INFLOW_PER_LISTED / 52 if arrivals_per_week is None else arrivals_per_week
    return v, a


def world_from_instance(
    inst: models.Instance,
    seed: int = 0,
    weeks: int = 52,
    vacancies_per_week: float | None = None,
    arrivals_per_week: float | None = None,
) -> InstanceWorld:
    """A world whose weeks resample an instance taken as one typical week (see :class:`InstanceWorld`).

    Parameters
    ----------
    inst
        A :class:`models.Instance`: its units one week's vacancies, its citizens the urgent
        list at the start; its terms are the caller's (:func:`optimizer.sim.simulate.simulate_terms`).
    seed
        Seed of every weekly draw; the same arguments give the identical world.
    weeks
        The weeks whose vacancies are drawn (a run may use at most these).
    vacancies_per_week
        Mean vacancies a week (default: the instance's units).
    arrivals_per_week
        Mean new urgent citizens a week (default: the instance's citizens ×
        :data:`INFLOW_PER_LISTED` / 52, the national turnover of the urgent list).

    Raises
    ------
    ValueError
        For a bad number of weeks or a negative mean.
    """
    if not isinstance(weeks, int) or isinstance(weeks, bool) or weeks < 1:
        raise ValueError(f"weeks must be a positive integer, got {weeks!r}")
    v, a = weekly_means(inst, vacancies_per_week, arrivals_per_week)
    for what, x in (("vacancies_per_week", v), ("arrivals_per_week", a)):
        if not (isinstance(x, (int, float)) and math.isfinite(x) and x >= 0):
            raise ValueError(f"{what} must be a number ≥ 0, got {x!r}")
    return InstanceWorld(inst, seed, weeks, float(v), float(a))
