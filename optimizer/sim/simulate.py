"""A year of weekly allocation rounds over the ledger, under ``anvis/2`` (``anvis simulate``).

One fixed world is generated from the generator's national calibration
(:func:`optimizer.sim.world.world`): the whole almene stock (afdelinger,
organisations, units with rooms and rents), areas and mixed-city caps, the
yearly subsidy frames and grant quotas, and the standing urgent list (the
homeless count). Then every week, for every agreement regime:

1. **Vacancies.** Each unit of the stock becomes vacant with probability
   11 % / 52 (re-letting 11 % a year): ≈ 1,100 a week nationally; family units under
   3,500 kr at ≈ 17 % / 52 (5,400 of 31,300 re-let in 2022), the others a little less.
   They fall vacant in a seeded order (``sequence``), which decides the turns of rotation
   pools (FORMAT.md §6 rule 4).
2. **Arrivals.** Poisson(``HOMELESS_INFLOW`` × scale / 52) new urgent
   citizens (a subset of municipalities gets its part; ≈ 183 a week: the 15,000–16,000 people hit by homelessness over
   a year less the 5,989 counted at its start), with the generator's
   attributes. Citizens not housed carry over: their waiting time grows.
3. **A round through the ledger.** The week's instance (all vacancies, the
   waiting citizens, the regime's agreements, the yearly frames and quotas) is
   opened (:func:`~optimizer.rounds.workflow.open_round` fills in the ledger: pool
   history, remaining frames, quotas and mixed-city caps), solved and
   committed, one SQLite ledger per regime. A waiting citizen for whom no
   vacancy of the week passes rules 2–8 (municipality, rooms, kind, access,
   temporary, area and excluded afdelinger, rent with or without subsidy; the
   engine's own eligibility, :func:`has_eligible_unit`) is left out of that
   week's instance: they could not be housed, so no plan changes, and the
   rounds stay small. They keep waiting.
4. **Declines.** Each offer is declined with probability ``decline_rate``,
   drawn from a seeded generator keyed by (seed, week, citizen), so the same
   citizen declines in the same week under every regime. A declined offer is
   **not a claim**: it is removed from the plan before the commit
   (:func:`~optimizer.rounds.workflow.decline_offers`), the unit goes back to the
   housing organisation (it stays a vacancy of its pool) and the citizen keeps
   waiting. The ledger therefore holds exactly the accepted assignments.
   A declined turn of a rotation pool is **passed** like a turn the plan leaves
   unassigned: the offer goes back to the organisation.
5. **Periods.** A run longer than 52 weeks starts a new period in every ledger before
   weeks 53, 105, … (:func:`~optimizer.rounds.workflow.new_period`); the pools' counts run on.

**Regimes** (:data:`REGIMES`): ``rotation``, the statutory baseline (almenboligloven § 59
stk. 1: every fourth vacancy of each organisation's units of a kind, offered in turn and
used or passed); ``choice``, today's behaviour (the municipality picks up to the quarter of
each pool's vacancies, FORMAT.md rule 11); ``extended``, rotation plus the extended
agreements of seed 004 in every municipality (all 1-room family units, half of the family
units under 4,000 kr, in turn); ``drawn``, the generator's drawn agreements.
:func:`simulate_seeds` runs several seeds and gives each measure's mean and spread.

The urgent list is calibrated to the homeless count; ``anvis/2`` citizens carry the
``homeless`` flag (80 %, :data:`~optimizer.sim.calibration.HOMELESS_SHARE`). The target's
"units under 3,500 kr" are counted two ways: family units with a rent (before any
subsidy) under 3,500 kr (``homeless_housed_in_cheap_units``: every housed citizen, as in
version 1), and homeless citizens housed at an effective rent under 3,500 kr (the plans'
``homeless_housed_under_3500_kr``, FORMAT.md §6 rule 7).

No holds: the simulation passes every turn it does not use, so it pays no tomgangsleje.

**The subsidy's years.** Every commit records its subsidised tenancies in the ledger
(:mod:`optimizer.rounds.subsidies`); at the end, each regime's report gives their taper
by simulation year (``subsidy.taper``: :func:`~optimizer.rounds.subsidies.taper_schedule`,
the rule's one place: full for 4 years from move-in, then a linear taper over 5). A
tenancy starts on the first of the month its week falls in, simulation year 1 being the
first 52 weeks (the ledger's own start is the commit's real date): the tenancies, those in
the taper, the subsidy paid and its tapered part, and how many tenants' rent limits are
below their tapered rent, per year until the last subsidy is paid. Counts and sums only.

**Work-around** (until the rounds' ledger knows ``anvis/2`` default pools): the ledger fills
only pools named by an agreement or a version-1 default pool id, so every week's instance
spells each per-kind default pool out as an agreement ``<organisation>-<kind>`` (the
municipality and organisation, ``kinds: [kind]``, the default share and mode), appended
after the regime's agreements: the same units, share and mode as the default pool, so the
same rule, and the ledger carries each pool's position in its vacancy sequence across weeks.

The result is deterministic for a seed (apart from ``timings``) and holds
aggregates only: no citizen id or attribute.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

import models
from models import KINDS
from models.schema import FORMAT_V2
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import ELIGIBLE, candidates, failure_codes
from optimizer.engine.solve import threads_default
from optimizer.rounds.subsidies import FULL_YEARS, TAPER_YEARS, taper_schedule, tenancies
from optimizer.rounds.workflow import commit_round, decline_offers, ledger_totals, new_period, open_round, solve_round
from optimizer.sim.calibration import (
    CHEAP_KOMMUNAL_ANVISNING_2022,
    CHEAP_KR,
    CHEAP_RELETTINGS_2022,
    KOMMUNAL_ANVISNING_2022,
    NATIONAL_HOMELESS,
    RELET_RATE,
    RELETTINGS_2022,
    TARGET_HOMELESS_IN_CHEAP_UNITS,
    TARGET_YEAR,
)
from optimizer.sim.world import World
from optimizer.sim.world import world as make_world

if TYPE_CHECKING:
    from rich.console import Console

REPORT_FORMAT = "anvis-simulation/2"
SEEDS_FORMAT = "anvis-simulation-seeds/1"
WEEKS_PER_PERIOD = 52
COMMITTED_BY = "anvis simulate"

#: The national figures the simulation is set beside (shared/domain/README.md, seeds 001 and 004).
NATIONAL: dict[str, int | float | str] = {
    "relettings_2022": RELETTINGS_2022,
    "kommunal_anvisning_2022": KOMMUNAL_ANVISNING_2022,
    "share_kommunal_anvisning_2022": round(KOMMUNAL_ANVISNING_2022 / RELETTINGS_2022, 3),
    # seed 001 also gives 9.4 % by another count (of all almene re-lettings, youth and elderly too)
    "share_kommunal_anvisning_other_count": 0.094,
    "cheap_relettings_2022": CHEAP_RELETTINGS_2022,
    "cheap_kommunal_anvisning_2022": CHEAP_KOMMUNAL_ANVISNING_2022,
    "share_cheap_kommunal_anvisning_2022": CHEAP_KOMMUNAL_ANVISNING_2022 / CHEAP_RELETTINGS_2022,
    "homeless_count_2024": NATIONAL_HOMELESS,
    "homeless_over_a_year": "15,000-16,000",
    "target_homeless_in_cheap_units": TARGET_HOMELESS_IN_CHEAP_UNITS,
    "target_year": TARGET_YEAR,
}


def _no_agreements(w: World) -> list[dict[str, Any]]:
    return []


def _extended_agreements(w: World) -> list[dict[str, Any]]:
    """Every municipality: all 1-room family units (share 1) and half of those under 4,000 kr, in turn."""
    out = []
    for m in w.municipalities:
        code = m["id"]
        out.append(
            {
                "id": f"{code}-1room",
                "municipality": code,
                "share": 1.0,
                "organisation": None,
                "max_rent_kr": None,
                "rooms": [1],
                "departments": None,
                "mode": "rotation",
                "kinds": ["family"],
            }
        )
        out.append(
            {
                "id": f"{code}-cheap",
                "municipality": code,
                "share": 0.5,
                "organisation": None,
                "max_rent_kr": 4000,
                "rooms": None,
                "departments": None,
                "mode": "rotation",
                "kinds": ["family"],
            }
        )
    return out


def _drawn_agreements(w: World) -> list[dict[str, Any]]:
    return [dict(a) for a in w.agreements]


class Regime(NamedTuple):
    """An agreement regime of the simulation."""

    description: str
    default_share: float
    default_mode: str  # of the default pools (FORMAT.md §6 rule 1)
    agreements: Callable[[World], list[dict[str, Any]]]


#: Agreement regimes by name (the CLI lists them in ``optimizer.cli.simulate.SIM_REGIMES``).
REGIMES: dict[str, Regime] = {
    "rotation": Regime(
        "the statutory baseline (almenboligloven § 59 stk. 1): every fourth vacancy of each "
        "organisation's units of a kind, offered in turn, used or passed; no agreements",
        0.25,
        "rotation",
        _no_agreements,
    ),
    "choice": Regime(
        "today's behaviour: the municipality picks up to a quarter of each pool's vacancies (rule 11); no agreements",
        0.25,
        "choice",
        _no_agreements,
    ),
    "extended": Regime(
        "rotation plus an extended agreement in every municipality (seed 004): all 1-room "
        "family units and half of the family units under 4,000 kr, in turn",
        0.25,
        "rotation",
        _extended_agreements,
    ),
    "drawn": Regime(
        "rotation plus the generator's drawn agreements: København and about 30 % of the other "
        "municipalities (1-room units and units under 4,000 kr in turn, a third of one "
        "organisation by choice)",
        0.25,
        "rotation",
        _drawn_agreements,
    ),
}

#: The regimes run when none is named.
DEFAULT_REGIMES = ("rotation", "choice", "extended")


def kind_pool_agreements(w: World, units: np.ndarray, share: float, mode: str, taken: set[str]) -> list[dict[str, Any]]:
    """The per-kind default pools of these units spelt out as agreements (the work-around above).

    One agreement per (municipality, organisation, kind) with units, in order of first unit,
    with the default pool's filters (municipality, organisation, kind), ``share`` and
    ``mode``; its id is ``<prefix><organisation>-<kind>`` (the world's
    ``kind_pool_prefix``), and ``-<municipality>`` after it when the organisation has
    afdelinger in more than one municipality, so that every pool keeps its id (and its
    ledger row) from week to week. Appended after the regime's agreements, it takes exactly
    the units the default pool would take. Ids in ``taken`` are refused (they would clash).
    """
    prefix = w.kind_pool_prefix
    homes: dict[str, set[str]] = {}
    for d in w.departments:
        homes.setdefault(d["organisation"], set()).add(d["municipality"])
    out: dict[str, dict[str, Any]] = {}
    for d, k in zip(w.u_dept[units].tolist(), w.u_kind[units].tolist(), strict=True):
        dept = w.departments[d]
        org, code = dept["organisation"], dept["municipality"]
        aid = f"{prefix}{org}-{KINDS[k]}" + (f"-{code}" if len(homes[org]) > 1 else "")
        if aid not in out:
            if aid in taken:
                raise ValueError(f"agreement id {aid!r} clashes with a per-kind pool")
            out[aid] = {
                "id": aid,
                "municipality": code,
                "organisation": org,
                "kinds": [KINDS[k]],
                "share": share,
                "mode": mode,
            }
    return list(out.values())


def decline_draw(seed: int, week: int, citizen: str) -> float:
    """The uniform number in [0, 1) deciding whether ``citizen`` declines an offer in ``week``.

    Drawn by ``numpy.random.default_rng`` seeded with the run's seed, the week
    and a stable hash of the citizen id: the same under every regime.
    """
    key = int.from_bytes(hashlib.blake2b(citizen.encode(), digest_size=8).digest(), "little")
    return float(np.random.default_rng([seed, week, 3, key]).random())


def rotation_units(inst: models.Instance) -> set[str]:
    """Ids of the units of ``inst`` in rotation pools (FORMAT.md §6 rule 1; none in version 1)."""
    modes = {p: q.mode for p, q in models.pools(inst).items()}
    return {u.id for u, p in zip(inst.units, models.unit_pools(inst), strict=True) if modes[p] == "rotation"}


def has_eligible_unit(inst: models.Instance) -> np.ndarray:
    """Per citizen of ``inst``: whether some unit passes rules 2–8 for them (FORMAT.md §3).

    The engine's own eligibility (:func:`optimizer.engine.pairs.failure_codes`
    on :class:`~optimizer.engine.data.ProblemData`, so the subsidy amount and
    band are the instance's ``parameters``), without the scores. Give it an instance
    without rotation pools (``default_mode`` ``choice``, no agreements): the rotation's
    turns depend on the ledger, so a unit that is not a turn in the probe may be one in the
    round. A citizen
    without such a unit has no eligible pair: leaving them out of a round
    changes no assignment, and keeps the rounds small and fast.
    """
    data = ProblemData.build(inst)
    ok = np.zeros(data.n_citizens, dtype=bool)
    for ci, ui in candidates(data):
        ok[ci[failure_codes(data, ci, ui) == ELIGIBLE]] = True
    return ok


class _Housed(NamedTuple):
    """One accepted assignment of a run (aggregated into the report, never written out)."""

    priority: int
    arrived: int  # week the citizen arrived
    week: int  # week housed
    rent: int  # kr, before any subsidy
    kind: int  # index into models.KINDS
    subsidised: bool
    department: int  # index into World.departments
    vulnerable: bool
    effective_rent: float  # kr, after any subsidy
    homeless: bool


#: The parameters of a terms document (:func:`regime_terms`) that every week's round takes over as they are.
_TERMS_PARAMETERS = ("subsidy_amount_kr", "subsidy_band_kr")


class _Run:
    """One regime's state over the run: its ledger, waiting list and what happened.

    With ``terms`` (:func:`simulate_terms`), the agreements, default share and mode and
    the subsidy's amount and band are the terms document's instead of the regime's.
    """

    def __init__(self, name: str, db: str, w: World, terms: Mapping[str, Any] | None = None):
        self.name, self.db = name, db
        self.subsidy: dict[str, Any] = {}  # parameters set in every round (none: the world's own)
        if terms is None:
            regime = REGIMES[name]
            self.description = regime.description
            self.default_share, self.default_mode = regime.default_share, regime.default_mode
            self.agreements = regime.agreements(w)
        else:
            params = terms["parameters"]
            self.description = f"the terms of {terms['name']}"
            self.default_share, self.default_mode = params["default_share"], params.get("default_mode", "rotation")
            self.agreements = [dict(a) for a in terms["agreements"]]
            self.subsidy = {k: params[k] for k in _TERMS_PARAMETERS if k in params}
        if w.format != FORMAT_V2:  # version 1 knows neither modes nor kind filters
            self.agreements = [{k: v for k, v in a.items() if k not in ("mode", "kinds")} for a in self.agreements]
        self.waiting: dict[str, tuple[dict[str, Any], int]] = {}  # citizen id -> (record, arrival week)
        self.housed: list[_Housed] = []
        self.weekly: list[dict[str, Any]] = []
        self.periods: list[dict[str, Any]] = []
        self.period_subsidised: Counter[str] = Counter()  # municipality -> subsidised this period
        self.round_week: dict[int, int] = {}  # ledger round id -> week
        self.solve_s = 0.0
        self.round_s = 0.0
        self.cpu_s = 0.0


def _period_summary(run: _Run, w: World, period: int, first: int, last: int) -> dict[str, Any]:
    frames = {m["id"]: m["subsidy_frame"] for m in w.municipalities}
    region_of = {m["id"]: m["region"] for m in w.municipalities}
    used = run.period_subsidised
    by_region: Counter[str] = Counter()
    for m, n in used.items():
        by_region[region_of[m]] += n
    # an instance's region may have no quota (unlimited): it is in no total and never at its quota
    quotas = {r["id"]: r["grant_quota"] for r in w.regions}
    limited = {r: q for r, q in quotas.items() if q is not None}
    return {
        "period": period,
        "weeks": [first, last],
        "subsidised": int(sum(used.values())),
        # anvis/2: frames and quotas are totals until spent (they carry over between periods)
        "frames_total": int(sum(frames.values())),
        "frame_holders": sum(1 for f in frames.values() if f),
        "municipalities_at_frame": sum(1 for m, f in frames.items() if f and used.get(m, 0) >= f),
        "quota_total": int(sum(limited.values())),
        "quota_used": {r: int(by_region.get(r, 0)) for r in quotas},
        "regions_at_quota": sum(1 for r, q in limited.items() if by_region.get(r, 0) >= q),
    }


def week_start(week: int) -> date:
    """The simulated move-in date of a week's tenancies: the first of its month, year 1 the first 52 weeks.

    A year of the simulation is a period of :data:`WEEKS_PER_PERIOD` weeks, cut into 12
    months of 52/12 weeks (week 1 is 1 January of year 1, week 52 is December).
    """
    k = week - 1
    return date(k // WEEKS_PER_PERIOD + 1, (k % WEEKS_PER_PERIOD) * 12 // WEEKS_PER_PERIOD + 1, 1)


def subsidy_taper(db: str, round_week: dict[int, int]) -> dict[str, Any]:
    """The subsidy's years of the subsidised tenancies in a run's ledger, by simulation year.

    Parameters
    ----------
    db
        The regime's ledger.
    round_week
        The week of each committed round (its tenancies start at :func:`week_start`).

    Returns
    -------
    dict
        ``tenancies``; ``cost_kr`` (the subsidy paid over all years) and ``taper_cost_kr``
        (its tapered part); ``limit_below_in_taper`` (tenants whose rent limit falls below
        their tapered rent before the subsidy ends); ``full_years``, ``taper_years``; and
        ``years``: per simulation year, ``tenancies`` subsidised, ``entering_taper``,
        ``in_taper``, ``cost_kr``, ``taper_cost_kr`` and ``limit_below_tapered_rent``
        (:func:`optimizer.rounds.subsidies.taper_schedule`, counts instead of ids).
    """
    rows = [dataclasses.replace(t, start=week_start(round_week[t.round_id])) for t in tenancies(db)]
    years = [{**y, "entering_taper": len(y["entering_taper"])} for y in taper_schedule(rows)]
    last = FULL_YEARS + TAPER_YEARS
    return {
        "tenancies": len(rows),
        "full_years": FULL_YEARS,
        "taper_years": TAPER_YEARS,
        "cost_kr": round(sum(y["cost_kr"] for y in years), 2),
        "taper_cost_kr": round(sum(y["taper_cost_kr"] for y in years), 2),
        "limit_below_in_taper": sum(
            1 for t in rows if t.limit_below_from_year is not None and t.limit_below_from_year <= last
        ),
        "years": years,
    }


def _stats(values: Sequence[float]) -> dict[str, Any]:
    a = np.asarray(values, dtype=float)
    if not len(a):
        return {"n": 0, "mean": None, "median": None, "p90": None, "max": None}
    return {
        "n": len(a),
        "mean": round(float(a.mean()), 2),
        "median": float(np.median(a)),
        "p90": float(np.percentile(a, 90)),
        "max": int(a.max()),
    }


def _round_ratio(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _ratio(a: int, b: int) -> float | None:
    return _round_ratio(a / b) if b else None


def _regime_report(run: _Run, w: World, weeks: int, scale: float) -> dict[str, Any]:
    wk = run.weekly
    vac = sum(x["vacancies"] for x in wk)
    fam_vac = sum(x["family_vacancies"] for x in wk)
    cheap_vac = sum(x["cheap_family_vacancies"] for x in wk)
    claims = sum(x["claims"] for x in wk)
    prios = sorted({p for x in wk for p in x["housed"]}, key=int)
    housed_by = {p: sum(x["housed"].get(p, 0) for x in wk) for p in prios}
    h = run.housed
    fam_claims = sum(1 for r in h if r.kind == 0)
    cheap = sum(1 for r in h if r.kind == 0 and r.rent < CHEAP_KR)
    waits = [r.week - r.arrived for r in h]
    by_prio_wait = {
        str(p): _stats([r.week - r.arrived for r in h if r.priority == p]) for p in sorted({r.priority for r in h})
    }
    still = list(run.waiting.values())
    still_waits = [weeks + 1 - a for _, a in still]  # weeks waited by the end, counting the last round
    years = weeks / WEEKS_PER_PERIOD
    # Mixed city: vulnerable placements per afdeling in the current period, from the ledger.
    tot = ledger_totals(run.db)
    placed = {k: v["claimed"] for k, v in tot.get("department", {}).items()}
    caps = {d["id"]: d.get("max_vulnerable") for d in w.departments}
    capped = {k: c for k, c in caps.items() if c is not None}
    area = {d["id"]: d["area"] for d in w.departments}
    loads = [n for n in placed.values() if n]
    capped_with = [k for k, n in placed.items() if n and k in capped]
    by_area: Counter[str] = Counter()
    for r in h:
        if r.vulnerable:
            by_area[area[w.departments[r.department]["id"]]] += 1
    pools = tot.get("pool", {})
    passed = sum(x["passed"] for x in wk)
    homeless_cheap = sum(1 for r in h if r.homeless and r.effective_rent < CHEAP_KR)
    return {
        "description": run.description,
        "default_share": run.default_share,
        "default_mode": run.default_mode,
        "agreements": len(run.agreements),
        "totals": {
            "vacancies": vac,
            "family_vacancies": fam_vac,
            "cheap_family_vacancies": cheap_vac,
            "offers": sum(x["offers"] for x in wk),
            "declined": sum(x["declined"] for x in wk),
            "claims": claims,
            "housed_by_priority": housed_by,
            "subsidised": sum(1 for r in h if r.subsidised),
            "vulnerable_housed": sum(1 for r in h if r.vulnerable),
            "homeless_housed": sum(1 for r in h if r.homeless),
            "turns": sum(x["turns"] for x in wk),
            "passed": passed,
        },
        "share_of_turns_passed": _ratio(passed, sum(x["turns"] for x in wk)),
        "homeless_housed_under_3500_kr": homeless_cheap,
        "homeless_housed_under_3500_kr_per_year": round(homeless_cheap / years, 1),
        "tomgangsleje_kr": 0,  # no holds in the simulation
        "share_of_relettings": _ratio(claims, vac),
        "share_of_family_relettings": _ratio(fam_claims, fam_vac),
        "share_of_cheap_family_relettings": _ratio(cheap, cheap_vac),
        "homeless_housed_in_cheap_units": cheap,
        "homeless_housed_in_cheap_units_per_year": round(cheap / years, 1),
        "target_scaled": round(TARGET_HOMELESS_IN_CHEAP_UNITS * scale, 1),
        "housed_at_effective_rent_le_3500": sum(1 for r in h if r.effective_rent <= CHEAP_KR),
        "waiting": {
            "housed_weeks": _stats(waits),
            "housed_weeks_by_priority": by_prio_wait,
            "still_waiting": len(still),
            "still_waiting_by_priority": {
                str(p): n for p, n in sorted(Counter(c["priority"] for c, _ in still).items())
            },
            "still_waiting_weeks": _stats(still_waits),
        },
        "departments": {
            "afdelinger": len(caps),
            "with_cap": len(capped),
            "with_vulnerable_placed": len(loads),
            "vulnerable_placed_this_period": int(sum(loads)),
            "max_placed": max(loads, default=0),
            "at_cap": sum(1 for k in capped_with if placed[k] >= capped[k]),
            "over_cap": sum(1 for k in capped_with if placed[k] > capped[k]),
            "placed_by_load": {str(n): c for n, c in sorted(Counter(loads).items())},
            "vulnerable_housed_by_area": dict(sorted(by_area.items())),
        },
        "subsidy": {"periods": run.periods, "taper": subsidy_taper(run.db, run.round_week)},
        "ledger": {
            "pool_vacancies": sum(v["vacancies"] for v in pools.values()),
            "pool_claims": sum(v["claimed"] for v in pools.values()),
            "frames_used_this_period": sum(v["claimed"] for v in tot.get("municipality", {}).values()),
            "quotas_used_this_period": sum(v["claimed"] for v in tot.get("region", {}).values()),
        },
        "weekly": wk,
    }


def simulate(
    weeks: int = 52,
    seed: int = 0,
    scale: float = 1.0,
    decline_rate: float = 0.1,
    regimes: Iterable[str] = DEFAULT_REGIMES,
    db_dir: str | os.PathLike[str] | None = None,
    backend: str = "auto",
    time_limit: float | None = None,
    municipalities: Sequence[str] | None = None,
    jobs: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
    format: str = FORMAT_V2,
) -> dict[str, Any]:
    """Run weekly allocation rounds over one ledger per agreement regime and report.

    Parameters
    ----------
    weeks
        Number of weekly rounds (52: a year). Beyond 52, frames, quotas and
        mixed-city caps start a new period every 52 weeks.
    seed
        Seed of the world and of every weekly draw (vacancies, arrivals,
        declines); the same arguments give the same report (but ``timings``).
    scale
        Multiplies the stock, the urgent list, the inflow, frames and quotas
        (1.0: Denmark; e.g. 0.02 for tests).
    decline_rate
        Probability in [0, 1] that a citizen declines an offer.
    regimes
        Names from :data:`REGIMES` (duplicates ignored); all see the same world.
    db_dir
        Folder for the ledgers ``anvis-sim-<regime>.db`` (kept); by default a
        temporary folder, removed afterwards. Existing ledger files are refused.
    backend, time_limit
        Passed to the solver (:func:`optimizer.engine.solve.solve`).
    municipalities
        ``None`` (all 98) or a tuple of kommune codes.
    jobs
        Regimes run at once, each in its own ``spawn``-ed process (1: all in
        this process, one after the other). The report does not depend on
        it. As with any spawning code, a script calling this with ``jobs > 1``
        needs the ``if __name__ == "__main__":`` guard.
    progress
        Called after every round with (rounds done, rounds in all, a label).
    format
        ``"anvis/2"`` (default) or ``"anvis/1"``: the version of the world and its rounds.
        In version 1 every pool is a choice pool (``rotation`` and ``choice`` are the same
        regime: the quarter share of version 1) and the agreements lose their version-2 fields.

    Returns
    -------
    dict
        The report (``format`` ``anvis-simulation/2``): ``options``, ``world``,
        ``national`` (the observed figures), per regime in ``regimes``
        the totals, re-letting shares, homeless housed in cheap units,
        waiting times, department loads, subsidy use per period, the ledger's
        totals and the weekly series; and ``timings`` (seconds).

    Raises
    ------
    ValueError
        For a bad option or unknown regime.
    FileExistsError
        When a ledger file in ``db_dir`` exists already.
    RuntimeError
        When a round's solve fails.
    """
    if not isinstance(weeks, int) or isinstance(weeks, bool) or weeks < 1:
        raise ValueError(f"weeks must be a positive integer, got {weeks!r}")
    if not (isinstance(decline_rate, (int, float)) and 0 <= decline_rate <= 1):
        raise ValueError(f"decline_rate must be in [0, 1], got {decline_rate!r}")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    regimes = list(dict.fromkeys(regimes))
    unknown = [r for r in regimes if r not in REGIMES]
    if unknown or not regimes:
        raise ValueError(f"regimes must be some of {', '.join(REGIMES)}, got {regimes!r}")
    t0 = time.perf_counter()
    w = make_world(seed=seed, scale=scale, municipalities=municipalities, format=format)
    t_world = time.perf_counter() - t0
    tmp = None
    if db_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="anvis-sim-")
        folder = tmp.name
    else:
        folder = os.fspath(db_dir)
        os.makedirs(folder, exist_ok=True)
    dbs = {name: os.path.join(folder, f"anvis-sim-{name}.db") for name in regimes}
    try:
        for db in dbs.values():
            if os.path.exists(db):
                raise FileExistsError(f"{db} exists: simulate into an empty --db-dir")
        opts: dict[str, Any] = {
            "weeks": weeks,
            "seed": seed,
            "scale": scale,
            "decline_rate": decline_rate,
            "backend": backend,
            "time_limit": time_limit,
        }
        if jobs > 1 and len(regimes) > 1:
            results = _in_processes(regimes, dbs, opts, municipalities, jobs, progress, format)
        else:
            results, done = {}, [0]

            def tick(label: str) -> None:
                done[0] += 1
                if progress is not None:
                    progress(done[0], weeks * len(regimes), label)

            for name in regimes:
                results[name] = _run_regime(w, name, dbs[name], tick=tick, **opts)
    finally:
        from optimizer.rounds.ledger import dispose_all

        dispose_all()
        if tmp is not None:
            tmp.cleanup()
    first = results[regimes[0]]
    fam_stock = w.u_kind == 0
    report = {
        "format": REPORT_FORMAT,
        "options": {
            "weeks": weeks,
            "seed": seed,
            "scale": scale,
            "decline_rate": decline_rate,
            "regimes": regimes,
            "backend": backend,
            "time_limit": time_limit,
            "municipalities": list(municipalities) if municipalities else None,
            "format": format,
        },
        "world": {
            "units": w.n_units,
            "family_units": int(fam_stock.sum()),
            "cheap_family_units": int((fam_stock & (w.u_rent < CHEAP_KR)).sum()),
            "afdelinger": len(w.departments),
            "organisations": len(w.organisations),
            "municipalities": len(w.municipalities),
            "relet_rate": RELET_RATE,
            "initial_waiting": len(w.initial),
            "inflow_per_year": round(w.inflow_per_year, 1),
            "frames_total": sum(m["subsidy_frame"] for m in w.municipalities),
            "quota_total": sum(r["grant_quota"] for r in w.regions),
            **first["world"],
        },
        "national": dict(NATIONAL),
        "regimes": {name: results[name]["report"] for name in regimes},
    }
    if db_dir is not None:
        report["ledgers"] = dict(dbs)
    report["timings"] = {
        "world": round(t_world, 3),
        "solve": {n: results[n]["solve_s"] for n in regimes},
        "rounds": {n: results[n]["rounds_s"] for n in regimes},
        "rounds_cpu": {n: results[n]["cpu_s"] for n in regimes},
        "jobs": min(jobs, len(regimes)),
        "total": round(time.perf_counter() - t0, 3),
    }
    return report


def regime_terms(w: World, regime: str = "rotation") -> dict[str, Any]:
    """The terms a regime gives every week's round, as one instance document over the whole stock.

    Every unit of the world (so that a change can name any afdeling, organisation or
    default pool), its municipalities' frames, regions' quotas, afdelinger's mixed-city
    caps, the regime's agreements, default share and mode and the subsidy's parameters;
    no citizens and no ledger. Change it (:mod:`optimizer.scenario.changes`) and give it
    to :func:`simulate_terms`: every week's round then uses the changed terms.

    Raises
    ------
    ValueError
        For an unknown regime.
    """
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {', '.join(REGIMES)}, got {regime!r}")
    r = REGIMES[regime]
    run = _Run(regime, "", w)  # the regime's agreements as the rounds get them
    return w.instance(
        f"terms {regime} seed {w.seed}", np.arange(w.n_units), [], run.agreements, r.default_share, r.default_mode
    )


def with_terms(w: World, terms: Mapping[str, Any]) -> World:
    """A copy of ``w`` whose afdelinger, municipalities and regions carry the caps, frames and quotas of ``terms``.

    ``terms`` is a document like :func:`regime_terms` (or its ``to_dict()`` after changes):
    its records are matched by id; a record whose cap, frame or quota is unchanged stays
    the world's own (the same dict), so unchanged terms give the world's rounds exactly.
    The stock and the weekly events are shared with ``w``.
    """

    def merged(own: list[dict[str, Any]], new: Sequence[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
        by_id = {r["id"]: r.get(key) for r in new}
        return [r if by_id.get(r["id"], r.get(key)) == r.get(key) else {**r, key: by_id[r["id"]]} for r in own]

    out = copy.copy(w)
    out.departments = merged(w.departments, terms["departments"], "max_vulnerable")
    out.municipalities = merged(w.municipalities, terms["municipalities"], "subsidy_frame")
    out.regions = merged(w.regions, terms["regions"], "grant_quota")
    return out


def simulate_terms(
    w: World,
    terms: Mapping[str, Any],
    weeks: int = 52,
    decline_rate: float = 0.1,
    backend: str = "auto",
    time_limit: float | None = None,
    name: str = "terms",
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Weekly rounds over a world under given terms: the regime report of :func:`simulate` for them.

    The weeks run as :func:`simulate` runs a regime (vacancies, arrivals, a round through a
    fresh ledger in a temporary folder, declines, periods), with the world's seed for every
    draw, but every round takes from ``terms`` (:func:`regime_terms`, changed or not): the
    agreements (then the per-kind default pools, as in :func:`simulate`), the default share
    and mode, the subsidy's amount and band, and through :func:`with_terms` the afdelinger's
    mixed-city caps, the municipalities' yearly frames and the regions' quotas. The
    unchanged terms of a regime give exactly that regime's report in :func:`simulate`.

    Parameters
    ----------
    w
        The world (:func:`optimizer.sim.world.world`).
    terms
        An instance document over ``w``'s stock (only its parameters, agreements,
        afdelinger, municipalities and regions are read).
    weeks, decline_rate, backend, time_limit
        As for :func:`simulate`.
    name
        Names the rounds' instances (``sim-<name>-w001``) and the progress labels.
    progress
        Called after every round with (rounds done, ``weeks``, a label).

    Returns
    -------
    dict
        The regime report (aggregates only), as ``simulate(...)["regimes"][regime]``.
    """
    if not isinstance(weeks, int) or isinstance(weeks, bool) or weeks < 1:
        raise ValueError(f"weeks must be a positive integer, got {weeks!r}")
    if not (isinstance(decline_rate, (int, float)) and 0 <= decline_rate <= 1):
        raise ValueError(f"decline_rate must be in [0, 1], got {decline_rate!r}")
    done = [0]

    def tick(label: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], weeks, label)

    with tempfile.TemporaryDirectory(prefix="anvis-terms-") as folder:
        try:
            out = _run_regime(
                w,
                name,
                os.path.join(folder, "ledger.db"),
                weeks=weeks,
                seed=w.seed,
                scale=w.scale,
                decline_rate=decline_rate,
                backend=backend,
                time_limit=time_limit,
                tick=tick,
                terms=terms,
            )
        finally:
            from optimizer.rounds.ledger import dispose_all

            dispose_all()  # the ledger's engine lets go of the file before the folder goes
    report: dict[str, Any] = out["report"]
    return report


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    """Mean and spread of one measure over seeds: ``mean``, ``sd``, ``min``, ``max``, ``values``.

    ``None`` values (a measure without a value in a run) are left out of the figures but
    kept in ``values``; ``sd`` is the sample standard deviation (``None`` for one value).
    """
    known = np.array([v for v in values if v is not None], dtype=float)
    return {
        "mean": round(float(known.mean()), 4) if len(known) else None,
        "sd": round(float(known.std(ddof=1)), 4) if len(known) > 1 else None,
        "min": float(known.min()) if len(known) else None,
        "max": float(known.max()) if len(known) else None,
        "values": list(values),
    }


#: The measures :func:`summarise` gives over seeds: name → how to read it from a regime's report.
SEED_MEASURES: dict[str, Callable[[dict[str, Any]], float | None]] = {
    "vacancies": lambda r: r["totals"]["vacancies"],
    "claims": lambda r: r["totals"]["claims"],
    "share_of_relettings": lambda r: r["share_of_relettings"],
    "share_of_family_relettings": lambda r: r["share_of_family_relettings"],
    "share_of_cheap_family_relettings": lambda r: r["share_of_cheap_family_relettings"],
    "homeless_housed_in_cheap_units": lambda r: r["homeless_housed_in_cheap_units"],
    "homeless_housed_under_3500_kr": lambda r: r["homeless_housed_under_3500_kr"],
    "turns": lambda r: r["totals"]["turns"],
    "passed": lambda r: r["totals"]["passed"],
    "share_of_turns_passed": lambda r: r["share_of_turns_passed"],
    "subsidised": lambda r: r["totals"]["subsidised"],
    "still_waiting": lambda r: r["waiting"]["still_waiting"],
    "wait_mean_weeks": lambda r: r["waiting"]["housed_weeks"]["mean"],
    "tomgangsleje_kr": lambda r: r["tomgangsleje_kr"],
    "subsidy_cost_kr": lambda r: r["subsidy"]["taper"]["cost_kr"],
    "taper_cost_kr": lambda r: r["subsidy"]["taper"]["taper_cost_kr"],
    "taper_limit_below": lambda r: r["subsidy"]["taper"]["limit_below_in_taper"],
}


def summarise(reports: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Mean and spread over seeds of every :data:`SEED_MEASURES` measure, per regime.

    Parameters
    ----------
    reports
        Reports of :func:`simulate` with the same options but the seed.

    Returns
    -------
    dict
        ``{regime: {measure: {"mean", "sd", "min", "max", "values"}}}``; ``sd`` is the
        sample standard deviation (``None`` for one seed), values in seed order.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name in reports[0]["regimes"]:
        out[name] = {}
        for measure, read in SEED_MEASURES.items():
            out[name][measure] = spread([read(r["regimes"][name]) for r in reports])
    return out


def simulate_seeds(seeds: int = 2, seed: int = 0, **options: Any) -> dict[str, Any]:
    """:func:`simulate` over the seeds ``seed``, …, ``seed + seeds − 1``; each measure's mean and spread.

    Parameters
    ----------
    seeds
        How many seeds (≥ 1).
    seed
        The first seed.
    **options
        Passed to :func:`simulate` (``db_dir`` gets a sub-folder ``seed-<n>`` per seed).

    Returns
    -------
    dict
        ``format`` ``anvis-simulation-seeds/1``: ``options``, ``national``, ``summary``
        (:func:`summarise`), ``runs`` (the reports, in seed order) and ``timings``.
    """
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    t0 = time.perf_counter()
    db_dir = options.pop("db_dir", None)
    runs = []
    for s in range(seed, seed + seeds):
        folder = None if db_dir is None else os.path.join(os.fspath(db_dir), f"seed-{s}")
        runs.append(simulate(seed=s, db_dir=folder, **options))
    opts = {k: v for k, v in runs[0]["options"].items() if k != "seed"}
    return {
        "format": SEEDS_FORMAT,
        "options": {**opts, "seeds": list(range(seed, seed + seeds))},
        "national": dict(NATIONAL),
        "summary": summarise(runs),
        "runs": runs,
        "timings": {"total": round(time.perf_counter() - t0, 3)},
    }


def print_seeds(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the mean ± spread of each measure per regime over the seeds (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(emoji=False, markup=False, highlight=False)
    o = report["options"]
    summary = report["summary"]
    t = Table(
        title=f"anvis simulate: {o['weeks']} weeks, seeds {', '.join(map(str, o['seeds']))}, scale {o['scale']:g}: "
        "mean ± standard deviation over the seeds",
        title_justify="left",
    )
    t.add_column("measure")
    for name in summary:
        t.add_column(name, justify="right")
    t.add_column("national figure")
    nat = report["national"]
    national = {
        "share_of_relettings": f"{100 * nat['share_kommunal_anvisning_2022']:.1f} % (2022); "
        f"{100 * nat['share_kommunal_anvisning_other_count']:.1f} % by the other count",
        "share_of_cheap_family_relettings": "≈ 11 % (600 of 5,400, 2022)",
        "homeless_housed_under_3500_kr": f"target {nat['target_homeless_in_cheap_units'] * o['scale']:,.0f}",
        "claims": f"{nat['kommunal_anvisning_2022'] * o['scale']:,.0f} (2022)",
        "vacancies": f"{nat['relettings_2022'] * o['scale']:,.0f} (2022)",
    }
    for measure in SEED_MEASURES:
        cells = []
        for name in summary:
            m = summary[name][measure]
            if m["mean"] is None:
                cells.append("-")
                continue
            pct = measure.startswith("share")
            mean = f"{100 * m['mean']:.1f} %" if pct else f"{m['mean']:,.1f}"
            sd = "" if m["sd"] is None else (f" ± {100 * m['sd']:.1f}" if pct else f" ± {m['sd']:,.1f}")
            cells.append(mean + sd)
        t.add_row(measure.replace("_", " "), *cells, national.get(measure, ""))
    console.print(t)


def _in_processes(
    regimes: list[str],
    dbs: dict[str, str],
    opts: dict[str, Any],
    municipalities: Sequence[str] | None,
    jobs: int,
    progress: Callable[[int, int, str], None] | None,
    format: str,
) -> dict[str, Any]:
    """Run the regimes in ``jobs`` worker processes; relay their progress to ``progress``."""
    import concurrent.futures as cf
    import multiprocessing as mp
    import queue as queue_mod

    ctx = mp.get_context("spawn")  # no inherited engines, threads or solver state
    q = ctx.Queue()
    total, done = opts["weeks"] * len(regimes), 0
    with cf.ProcessPoolExecutor(
        max_workers=min(jobs, len(regimes)), mp_context=ctx, initializer=_worker_init, initargs=(q,)
    ) as pool:
        futures = {pool.submit(_worker, name, dbs[name], opts, municipalities, format): name for name in regimes}
        pending = set(futures)
        while pending:
            finished, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            while True:
                try:
                    label = q.get_nowait()
                except queue_mod.Empty:
                    break
                done += 1
                if progress is not None:
                    progress(done, total, label)
            for f in finished:
                f.result()  # re-raise a worker's error here
        results = {futures[f]: f.result() for f in futures}
    while done < total:  # the last messages may arrive after the futures
        try:
            label = q.get(timeout=1)
        except queue_mod.Empty:
            break
        done += 1
        if progress is not None:
            progress(done, total, label)
    return results


#: The progress queue of a worker process (set by :func:`_worker_init`; a dict, so no ``global``).
_WORKER: dict[str, Any] = {}


def _worker_init(q: Any) -> None:
    _WORKER["queue"] = q


def _worker(
    name: str, db: str, opts: dict[str, Any], municipalities: Sequence[str] | None, format: str
) -> dict[str, Any]:
    w = make_world(seed=opts["seed"], scale=opts["scale"], municipalities=municipalities, format=format)
    parent = os.getppid()

    def tick(label: str) -> None:
        if os.getppid() != parent:  # the parent died: do not simulate on for nobody
            raise SystemExit(1)
        _WORKER["queue"].put(label)

    try:
        # the worker processes are the parallelism: each round's blocks one after another
        with threads_default(1):
            return _run_regime(w, name, db, tick=tick, **opts)
    finally:
        from optimizer.rounds.ledger import dispose_all

        dispose_all()


def _run_regime(
    w: World,
    name: str,
    db: str,
    weeks: int,
    seed: int,
    scale: float,
    decline_rate: float,
    backend: str,
    time_limit: float | None,
    tick: Callable[[str], None],
    terms: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """All weeks of one regime (or of a terms document) through its ledger; its report, world counts and timings."""
    if terms is not None:
        w = with_terms(w, terms)
    run = _Run(name, db, w, terms)
    kinds, rents = w.u_kind, w.u_rent
    world_totals: Counter[str] = Counter()
    for week in range(1, weeks + 1):
        t_round, c_round = time.perf_counter(), time.process_time()
        period = (week - 1) // WEEKS_PER_PERIOD + 1
        if week > 1 and (week - 1) % WEEKS_PER_PERIOD == 0:
            run.periods.append(_period_summary(run, w, period - 1, week - WEEKS_PER_PERIOD, week - 1))
            run.period_subsidised = Counter()
            new_period(db, by=COMMITTED_BY)
        vac = w.vacancies(week)
        arrivals = (w.initial if week == 1 else []) + w.arrivals(week)
        fam = kinds[vac] == 0
        n_fam, n_cheap = int(fam.sum()), int((fam & (rents[vac] < CHEAP_KR)).sum())
        world_totals.update(
            vacancies=len(vac), family_vacancies=n_fam, cheap_family_vacancies=n_cheap, arrivals=len(arrivals)
        )
        unit_index = dict(zip(w.unit_ids(vac), vac.tolist(), strict=True))
        for c in arrivals:
            run.waiting[c["id"]] = (c, week)
        waiting_before = len(run.waiting)
        waiting = [c for c, _ in run.waiting.values()]
        # Who could be housed does not depend on the agreements: the probe has none (pools are cheap).
        # Its pools are choice pools: rules 2-8 only, not the turns (which the ledger decides).
        probe_doc = w.instance(f"sim-{name}-w{week:03d}", vac, waiting, [], default_mode="choice", week=week)
        probe_doc["parameters"].update(run.subsidy)  # rule 8 reads the subsidy's amount and band
        probe = models.from_dict(probe_doc, f"week {week}")
        listed = [c for c, ok in zip(waiting, has_eligible_unit(probe), strict=True) if ok]
        agreements = run.agreements
        if w.format == FORMAT_V2:
            taken = {a["id"] for a in agreements}
            agreements = agreements + kind_pool_agreements(w, vac, run.default_share, run.default_mode, taken)
        doc = w.instance(
            f"sim-{name}-w{week:03d}", vac, listed, agreements, run.default_share, run.default_mode, week=week
        )
        doc["parameters"].update(run.subsidy)
        inst = models.from_dict(doc, f"week {week} ({name})")
        rid, _ = open_round(db, inst)
        run.round_week[rid] = week
        plan, result = solve_round(db, rid, backend=backend, time_limit=time_limit)
        run.solve_s += float(result.timings.get("total", 0.0))
        if plan.status not in ("optimal", "feasible"):
            raise RuntimeError(f"week {week} ({name}): the solve ended {plan.status!r}")
        offers = len(plan.assignments)
        declined = [
            a.citizen for a in plan.assignments if decline_rate and decline_draw(seed, week, a.citizen) < decline_rate
        ]
        in_rotation = rotation_units(inst)
        left = len(plan.passed or ())
        turns = left + sum(1 for a in plan.assignments if a.unit in in_rotation)
        if declined:
            gone = set(declined)
            left += sum(1 for a in plan.assignments if a.citizen in gone and a.unit in in_rotation)
            plan = decline_offers(db, declined, rid)
        commit_round(db, rid, by=COMMITTED_BY)
        housed: Counter[str] = Counter()
        subsidised = 0
        for a in plan.assignments:
            c, arrived = run.waiting.pop(a.citizen)
            u = unit_index[a.unit]
            d = int(w.u_dept[u])
            housed[str(c["priority"])] += 1
            if a.subsidised:
                subsidised += 1
                run.period_subsidised[w.departments[d]["municipality"]] += 1
            run.housed.append(
                _Housed(
                    c["priority"],
                    arrived,
                    week,
                    int(rents[u]),
                    int(kinds[u]),
                    a.subsidised,
                    d,
                    bool(c.get("vulnerable")),
                    a.effective_rent_kr,
                    bool(c.get("homeless")),
                )
            )
        prios = sorted(set(plan.objective.housed_by_priority) | set(housed), key=int)
        run.weekly.append(
            {
                "week": week,
                "period": period,
                "vacancies": len(vac),
                "family_vacancies": n_fam,
                "cheap_family_vacancies": n_cheap,
                "arrivals": len(arrivals),
                "waiting": waiting_before,
                "in_round": len(listed),
                "offers": offers,
                "declined": len(declined),
                "claims": len(plan.assignments),
                "turns": turns,
                "passed": left,
                "housed": {p: housed.get(p, 0) for p in prios},
                "subsidised": subsidised,
            }
        )
        run.round_s += time.perf_counter() - t_round
        run.cpu_s += time.process_time() - c_round
        tick(f"week {week}/{weeks} {name}")
    last = (weeks - 1) // WEEKS_PER_PERIOD + 1
    run.periods.append(_period_summary(run, w, last, (last - 1) * WEEKS_PER_PERIOD + 1, weeks))
    return {
        "report": _regime_report(run, w, weeks, scale),
        "world": dict(world_totals),
        "solve_s": round(run.solve_s, 3),
        "rounds_s": round(run.round_s, 3),
        "cpu_s": round(run.cpu_s, 3),
    }


def summary_rows(report: dict[str, Any]) -> list[tuple[str, list[str], str]]:
    """The rows of the terminal table: (measure, one value per regime, national figure)."""
    regs = report["regimes"]
    names = list(regs)
    nat = report["national"]
    weeks = report["options"]["weeks"]

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:.1f} %"

    def num(x: float | None) -> str:
        return "-" if x is None else (f"{x:,}" if isinstance(x, int) else f"{x:,.1f}")

    def row(label: str, fn: Callable[[dict[str, Any]], str], national: str = "") -> tuple[str, list[str], str]:
        return (label, [fn(regs[n]) for n in names], national)

    scale = report["options"]["scale"]
    rows = [
        row(
            "vacancies (re-lettings)",
            lambda r: num(r["totals"]["vacancies"]),
            f"{nat['relettings_2022']:,} a year (2022)"
            if scale == 1
            else f"{nat['relettings_2022'] * scale:,.0f} a year (2022, scaled)",
        ),
        row("offers / declined", lambda r: f"{r['totals']['offers']:,} / {r['totals']['declined']:,}"),
        row(
            "claims (accepted)",
            lambda r: num(r["totals"]["claims"]),
            f"{nat['kommunal_anvisning_2022']:,} (2022)" if scale == 1 else "",
        ),
        row(
            "share of re-lettings to kommunal anvisning",
            lambda r: pct(r["share_of_relettings"]),
            pct(nat["share_kommunal_anvisning_2022"]) + " (2022)",
        ),
        row("share of family re-lettings", lambda r: pct(r["share_of_family_relettings"])),
        row(
            "share of family re-lettings under 3,500 kr",
            lambda r: pct(r["share_of_cheap_family_relettings"]),
            "≈ 11 % (600 of 5,400, 2022)",
        ),
        row(
            "homeless housed in family units under 3,500 kr",
            lambda r: num(r["homeless_housed_in_cheap_units"]),
            f"target {nat['target_homeless_in_cheap_units'] * scale:,.0f} by {nat['target_year']}"
            + ("" if scale == 1 else " (scaled)"),
        ),
    ]
    prios = sorted({p for r in regs.values() for p in r["totals"]["housed_by_priority"]}, key=int)

    def housed(p: str) -> Callable[[dict[str, Any]], str]:
        return lambda r: num(r["totals"]["housed_by_priority"].get(p, 0))

    rows += [row(f"housed, priority {p}", housed(p)) for p in prios]
    rows += [
        row(
            "subsidised (huslejetilskud)",
            lambda r: num(r["totals"]["subsidised"]),
            f"frames {report['world']['frames_total']:,}, quotas {report['world']['quota_total']:,} a year",
        ),
        row(
            "subsidy over its 9 years, of it tapered (kr)",
            lambda r: f"{r['subsidy']['taper']['cost_kr']:,.0f}, {r['subsidy']['taper']['taper_cost_kr']:,.0f}",
        ),
        row(
            "subsidised whose rent limit falls below the tapered rent",
            lambda r: num(r["subsidy"]["taper"]["limit_below_in_taper"]),
        ),
        row(
            "wait of the housed, mean / median (weeks)",
            lambda r: (
                "-"
                if r["waiting"]["housed_weeks"]["n"] == 0
                else f"{r['waiting']['housed_weeks']['mean']:.1f} / {r['waiting']['housed_weeks']['median']:g}"
            ),
        ),
        row(f"still waiting after week {weeks}", lambda r: num(r["waiting"]["still_waiting"])),
        row("afdelinger at their mixed-city cap", lambda r: num(r["departments"]["at_cap"])),
        row("most vulnerable placed in one afdeling", lambda r: num(r["departments"]["max_placed"])),
    ]
    return rows


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the comparison table and housed per quarter-year by priority (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(emoji=False, markup=False, highlight=False)
    o = report["options"]
    t = Table(
        title=f"anvis simulate: {o['weeks']} weeks, seed {o['seed']}, scale {o['scale']:g}, "
        f"decline rate {o['decline_rate']:g}",
        title_justify="left",
    )
    t.add_column("measure")
    for name in report["regimes"]:
        t.add_column(name, justify="right")
    t.add_column("national figure")
    for label, values, national in summary_rows(report):
        t.add_row(label, *values, national)
    console.print(t)
    q = Table(title="housed per 13 weeks, by priority", title_justify="left")
    q.add_column("weeks")
    prios = sorted({p for r in report["regimes"].values() for x in r["weekly"] for p in x["housed"]}, key=int)
    for name in report["regimes"]:
        q.add_column(f"{name} (" + "/".join(f"p{p}" for p in prios) + ")", justify="right")
    for start in range(1, o["weeks"] + 1, 13):
        end = min(o["weeks"], start + 12)
        cells = []
        for r in report["regimes"].values():
            part = [x for x in r["weekly"] if start <= x["week"] <= end]
            cells.append(" / ".join(str(sum(x["housed"].get(p, 0) for x in part)) for p in prios))
        q.add_row(f"{start}-{end}", *cells)
    console.print(q)
    s = Table(
        title="the subsidy's years (full 4, then a linear taper over 5): subsidised / in the taper / "
        "paid kr / of it tapered kr / rent limit below the tapered rent",
        title_justify="left",
    )
    s.add_column("simulation year")
    for name in report["regimes"]:
        s.add_column(name, justify="right")
    by_year = {n: {y["year"]: y for y in r["subsidy"]["taper"]["years"]} for n, r in report["regimes"].items()}
    for year in sorted({y for b in by_year.values() for y in b}):
        cells = []
        for b in by_year.values():
            y = b.get(year)
            cells.append(
                "-"
                if y is None
                else f"{y['tenancies']:,} / {y['in_taper']:,} / {y['cost_kr']:,.0f} / {y['taper_cost_kr']:,.0f} / "
                f"{y['limit_below_tapered_rent']:,}"
            )
        s.add_row(str(year), *cells)
    console.print(s)


def write_report(report: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the report as JSON in UTF-8, atomically (:func:`models.io.write_json`)."""
    from models.io import write_json

    write_json(path, report)


__all__ = [
    "CHEAP_KR",
    "DEFAULT_REGIMES",
    "NATIONAL",
    "REGIMES",
    "SEED_MEASURES",
    "Regime",
    "decline_draw",
    "has_eligible_unit",
    "kind_pool_agreements",
    "print_report",
    "print_seeds",
    "regime_terms",
    "rotation_units",
    "simulate",
    "simulate_seeds",
    "simulate_terms",
    "spread",
    "subsidy_taper",
    "summarise",
    "summary_rows",
    "week_start",
    "with_terms",
    "write_report",
]
