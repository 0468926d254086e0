"""The year horizon of a scenario: every variant through a year of weekly rounds, over several seeds.

The base of a year is the simulation's world (:func:`optimizer.sim.world.world`, one per
seed) under one of its regimes (:data:`optimizer.sim.simulate.REGIMES`), given in the
scenario file's ``[year]`` table::

    horizon = "year"

    [year]
    weeks = 52                 # weekly rounds (default 52)
    seeds = [0, 1, 2]          # one world and one run per seed (default [0, 1, 2])
    scale = 0.05               # of the national stock and urgent list (default 0.05)
    regime = "rotation"        # the base's terms (default "rotation")
    decline_rate = 0.1         # the chance an offer is declined (default 0.1)
    municipalities = ["101"]   # optional: these kommuner only

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

Each (variant, seed) is one run; a variant's result is the mean and spread over its
seeds (:func:`optimizer.sim.simulate.spread`) of the simulation's figures
(:data:`YEAR_MEASURES`). Aggregates only: no citizen id or attribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import models

__all__ = ["MAIN_MEASURE", "YEAR_KEYS", "YEAR_MEASURES", "Year", "year_outcome", "year_run", "year_terms"]

#: The keys of a scenario file's ``[year]`` table.
YEAR_KEYS = ("weeks", "seeds", "scale", "regime", "decline_rate", "municipalities")

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
    """

    weeks: int = 52
    seeds: tuple[int, ...] = (0, 1, 2)
    scale: float = 0.05
    regime: str = "rotation"
    decline_rate: float = 0.1
    municipalities: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The options as plain JSON values (for the results document)."""
        return {
            "weeks": self.weeks,
            "seeds": list(self.seeds),
            "scale": self.scale,
            "regime": self.regime,
            "decline_rate": self.decline_rate,
            "municipalities": None if self.municipalities is None else list(self.municipalities),
        }


def year_terms(year: Year, seed: int) -> models.Instance:
    """The base's terms for one seed: the regime's terms over that seed's world, as an instance."""
    from optimizer.sim.simulate import regime_terms
    from optimizer.sim.world import world

    w = world(seed=seed, scale=year.scale, municipalities=year.municipalities)
    return models.from_dict(regime_terms(w, year.regime), f"{year.regime} terms, seed {seed}")


def year_run(
    task: tuple[int, Sequence[Mapping[str, Any]]],
    year: Year,
    backend: str = "auto",
    time_limit: float | None = None,
) -> dict[str, Any]:
    """One (seed, changes) run of a year: the :data:`YEAR_MEASURES` and the changed terms' sha256.

    The changes were checked by :func:`optimizer.scenario.scenario.read_scenario`; here they
    are applied again (a worker gets the changes, not the large terms). The same task gives
    the same dict in any process.
    """
    from optimizer.scenario.changes import apply_changes
    from optimizer.sim.simulate import regime_terms, simulate_terms
    from optimizer.sim.world import world

    seed, changes = task
    w = world(seed=seed, scale=year.scale, municipalities=year.municipalities)
    base = models.from_dict(regime_terms(w, year.regime), f"{year.regime} terms, seed {seed}")
    terms = apply_changes(base, changes)
    report = simulate_terms(
        w,
        terms.to_dict(),
        weeks=year.weeks,
        decline_rate=year.decline_rate,
        backend=backend,
        time_limit=time_limit,
        name=f"{year.regime}-s{seed}",
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
