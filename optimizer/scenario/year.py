"""The year horizon of a scenario: every variant through a year of weekly rounds, over several seeds.

The base of a year is either the user's own instance (the scenario's ``base``, below:
"over a year, what does a third instead of a quarter buy *us*?") or, without a ``base``,
the simulation's world (:func:`optimizer.sim.world.world`, one per seed) under one of its
regimes (:data:`optimizer.sim.simulate.REGIMES`), given in the scenario file's ``[year]``
table::

    horizon = "year"

    [year]
    weeks = 52                 # weekly rounds (default 52)
    seeds = [0, 1, 2]          # one world and one run per seed (default [0, 1, 2])
    scale = 0.05               # of the national stock and urgent list (default 0.05)
    regime = "rotation"        # the base's terms (default "rotation")
    decline_rate = 0.1         # the chance an offer is declined (default 0.1)
    municipalities = ["101"]   # optional: these kommuner only

or, on the user's instance::

    base = "week47.json"       # one typical week (any instance format), or [base] generate = ...
    horizon = "year"

    [year]
    weeks = 52
    seeds = [0, 1, 2]
    decline_rate = 0.1
    vacancies_per_week = 120   # optional (default: the instance's units)
    arrivals_per_week = 40     # optional (default: its citizens × 9,511 / 5,989 / 52)

**What a change means over a year.** A variant's changes apply to the *terms* of the
year, not to one round: the regime's terms over the whole stock of a seed's world
(:func:`optimizer.sim.simulate.regime_terms`: every unit, afdeling, municipality,
region, the regime's agreements and the parameters). The changed terms are then used
by every week's round (:func:`optimizer.sim.simulate.simulate_terms`): an agreement
added or a share changed holds every week; a frame or quota is the yearly one (spent
over the weeks, renewed each 52 weeks); a mixed-city cap holds for the period; the
subsidy's amount and band hold every week. The weekly events (vacancies, arrivals,
declines) are those of the seed, the same for every variant, so variants differ only
by their terms. A change must name something in every seed's world: each seed's world
is drawn anew, so an afdeling named by id may exist in one seed and not another
(``"*"`` names all).

**A year on the user's own instance.** With a ``base`` (a file, or ``[base] generate``),
the year is the base municipality's, not the simulation's world. The model, one
assumption at a time (:func:`optimizer.sim.world.world_from_instance`):

- *The instance is one typical week.* Its units are one week's vacancies; its citizens
  the urgent list at the start; its terms (agreements, pools and shares, frames, grant
  quotas, mixed-city caps, areas, parameters) the base terms that a variant's changes
  apply to (:func:`optimizer.scenario.changes.apply_changes`, as for a round).
- *Each week resamples the instance.* Week ``k`` of seed ``s`` has Poisson(``vacancies_per_week``)
  vacancies (default: the instance's units), each a copy of one of the instance's units
  drawn uniformly with replacement (new id, same afdeling, rooms, rent, kind, access,
  temporary; ``offered`` dropped: a new vacancy is no held turn; in ``anvis/2`` a seeded
  order of vacancy), and Poisson(``arrivals_per_week``) new urgent citizens, copies of the
  instance's citizens drawn the same way (default: the instance's citizens × 9,511 / 5,989 /
  52, the national turnover of the urgent list: 15,500 people hit by homelessness a year
  less the 5,989 of the count, over the count). Given ``scores`` hold for every copy of
  their citizen and unit; an agreement's ``units`` filter names the copies of its units.
- *Rounds as in* ``anvis simulate``: every week's round goes through one fresh ledger
  (turns of rotation pools counted across weeks, frames and quotas spent over the year and
  renewed every 52 weeks, mixed-city caps per period), offers are declined at
  ``decline_rate``, housed citizens leave the list and the others wait on
  (:func:`optimizer.sim.simulate.simulate_terms`, unchanged). The ledger starts empty: the
  instance's own ``ledger`` rows (its pools' counts before its week) are not carried into
  the year, which starts a period with whole frames and quotas.
- *The same events for every variant.* The draws depend on the seed and week only, so
  variants differ by their terms alone; a change is checked once, against the base.

``[year]`` then takes ``weeks``, ``seeds``, ``decline_rate``, ``vacancies_per_week`` and
``arrivals_per_week``; ``scale``, ``regime`` and ``municipalities`` describe the
simulation's world and are refused (one line each, naming the key). A base with overrides
(locks, holds: they name one week's units and citizens) is refused.

Each (variant, seed) is one run; a variant's result is the mean and spread over its
seeds (:func:`optimizer.sim.simulate.spread`) of the simulation's figures
(:data:`YEAR_MEASURES`). Aggregates only: no citizen id or attribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import models

if TYPE_CHECKING:
    from optimizer.sim.world import World

__all__ = [
    "BASE_KEYS",
    "MAIN_MEASURE",
    "WORLD_KEYS",
    "YEAR_KEYS",
    "YEAR_MEASURES",
    "Year",
    "year_on_base",
    "year_outcome",
    "year_run",
    "year_terms",
]

#: The keys of a scenario file's ``[year]`` table.
YEAR_KEYS = (
    "weeks",
    "seeds",
    "scale",
    "regime",
    "decline_rate",
    "municipalities",
    "vacancies_per_week",
    "arrivals_per_week",
)
#: The keys of ``[year]`` that describe the simulation's world (refused with a base instance).
WORLD_KEYS = ("scale", "regime", "municipalities")
#: The keys of ``[year]`` that describe a base instance's weeks (refused without one).
BASE_KEYS = ("vacancies_per_week", "arrivals_per_week")

#: The figures of a year, each read from a regime report of :func:`optimizer.sim.simulate.simulate_terms`.
YEAR_MEASURES: dict[str, tuple[str, ...]] = {
    "share_of_relettings": ("share_of_relettings",),
    "share_of_cheap_family_relettings": ("share_of_cheap_family_relettings",),
    "homeless_housed_under_3500_kr": ("homeless_housed_under_3500_kr",),
    "claims": ("totals", "claims"),
    "passed": ("totals", "passed"),
    "subsidised": ("totals", "subsidised"),
    "taper_cost_kr": ("subsidy", "taper", "taper_cost_kr"),
    "still_waiting": ("waiting", "still_waiting"),
}

#: The figure plotted against a swept value (the national target's: homeless housed under 3,500 kr).
MAIN_MEASURE = "homeless_housed_under_3500_kr"


@dataclass(frozen=True)
class Year:
    """The options of a year horizon (the scenario file's ``[year]`` table).

    Attributes
    ----------
    weeks
        Weekly rounds of each run.
    seeds
        One world and one run per seed, in this order.
    scale
        Of the national stock, urgent list, inflow, frames and quotas.
    regime
        The base's terms (:data:`optimizer.sim.simulate.REGIMES`).
    decline_rate
        The chance an offer is declined.
    municipalities
        ``None`` (all 98) or these kommune codes.
    on_base
        The year of the scenario's base instance (:func:`optimizer.sim.world.world_from_instance`)
        instead of the simulation's world; ``scale``, ``regime`` and ``municipalities`` then
        play no part.
    vacancies_per_week, arrivals_per_week
        With ``on_base``: the mean vacancies and new urgent citizens a week (resolved from
        the base by :func:`year_on_base` when not given).
    """

    weeks: int = 52
    seeds: tuple[int, ...] = (0, 1, 2)
    scale: float = 0.05
    regime: str = "rotation"
    decline_rate: float = 0.1
    municipalities: tuple[str, ...] | None = None
    on_base: bool = False
    vacancies_per_week: float | None = None
    arrivals_per_week: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The options as plain JSON values (for the results document)."""
        if self.on_base:
            return {
                "base": "instance",
                "weeks": self.weeks,
                "seeds": list(self.seeds),
                "decline_rate": self.decline_rate,
                "vacancies_per_week": self.vacancies_per_week,
                "arrivals_per_week": self.arrivals_per_week,
            }
        return {
            "weeks": self.weeks,
            "seeds": list(self.seeds),
            "scale": self.scale,
            "regime": self.regime,
            "decline_rate": self.decline_rate,
            "municipalities": None if self.municipalities is None else list(self.municipalities),
        }


def year_terms(year: Year, seed: int, w: World | None = None) -> models.Instance:
    """The base's terms for one seed: the regime's terms over that seed's world (``w``, built if not given)."""
    from optimizer.sim.simulate import regime_terms
    from optimizer.sim.world import world

    if w is None:
        w = world(seed=seed, scale=year.scale, municipalities=year.municipalities)
    return models.from_dict(regime_terms(w, year.regime), f"{year.regime} terms, seed {seed}")


def year_on_base(year: Year, base: models.Instance) -> Year:
    """The options of a year on ``base``, its mean vacancies and arrivals a week resolved.

    The defaults are the base's own numbers (:func:`optimizer.sim.world.world_from_instance`),
    rounded to 4 decimals so that the results document says exactly what was drawn.
    """
    from optimizer.sim.world import weekly_means

    v, a = weekly_means(base, year.vacancies_per_week, year.arrivals_per_week)
    return replace(year, on_base=True, vacancies_per_week=round(float(v), 4), arrivals_per_week=round(float(a), 4))


def year_run(
    task: tuple[int, Sequence[Mapping[str, Any]]],
    year: Year,
    backend: str = "auto",
    time_limit: float | None = None,
    base: models.Instance | None = None,
) -> dict[str, Any]:
    """One (seed, changes) run of a year: the :data:`YEAR_MEASURES` and the changed terms' sha256.

    The changes were checked by :func:`optimizer.scenario.scenario.read_scenario`; here they
    are applied again (a worker gets the changes, not the large terms). With ``year.on_base``,
    ``base`` is the scenario's base instance: the weeks resample it
    (:func:`optimizer.sim.world.world_from_instance`) and the changes apply to it. The same
    task gives the same dict in any process.
    """
    from optimizer.scenario.changes import apply_changes
    from optimizer.sim.simulate import simulate_terms
    from optimizer.sim.world import world, world_from_instance

    seed, changes = task
    w: World
    if year.on_base:
        if base is None:
            raise ValueError("a year on a base instance needs the base")
        w = world_from_instance(base, seed, year.weeks, year.vacancies_per_week, year.arrivals_per_week)
        name = f"base-s{seed}"
    else:
        w = world(seed=seed, scale=year.scale, municipalities=year.municipalities)
        base = year_terms(year, seed, w)
        name = f"{year.regime}-s{seed}"
    terms = apply_changes(base, changes)
    report = simulate_terms(
        w,
        terms.to_dict(),
        weeks=year.weeks,
        decline_rate=year.decline_rate,
        backend=backend,
        time_limit=time_limit,
        name=name,
    )
    figures: dict[str, Any] = {}
    for measure, path in YEAR_MEASURES.items():
        value: Any = report
        for key in path:
            value = value[key]
        figures[measure] = value
    return {"figures": figures, "sha256": terms.sha256}


def year_outcome(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A variant's result from its runs (:func:`year_run`, in seed order): mean and spread of each figure.

    Returns
    -------
    dict
        ``status`` (``"completed"``: every round of every run solved; a failed round
        stops the scenario instead), ``year``: per measure of :data:`YEAR_MEASURES` its
        :func:`~optimizer.sim.simulate.spread` over the seeds, ``instance_sha256`` (the
        changed terms of the first seed) and ``terms_sha256`` (of every seed).
    """
    from optimizer.sim.simulate import spread

    return {
        "status": "completed",
        "year": {m: spread([r["figures"][m] for r in runs]) for m in YEAR_MEASURES},
        "instance_sha256": runs[0]["sha256"],
        "terms_sha256": [r["sha256"] for r in runs],
    }
