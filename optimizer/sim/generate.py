"""Seeded generator of realistic ``anvis/2`` (by default) and ``anvis/1`` instance documents.

The documents are plain dicts, ready for :func:`models.from_dict` or
:func:`models.save`, calibrated to the national figures of the domain brief
(``shared/domain/README.md``):

- 98 municipalities (real kommune codes and names) in the 5 regions
  ``H`` Hovedstaden (29), ``S`` Sjælland (17), ``SD`` Syddanmark (22),
  ``M`` Midtjylland (19), ``N`` Nordjylland (11).
- **Housing stock.** 520,000 almene units nationally (≈ 506,000 family units
  plus the youth and elderly units a municipality also assigns), in afdelinger
  of ≈ 81 units (log-normal sizes) owned by ≈ 560 organisations. København has
  56,000 units, Aarhus 45,000, Aalborg 27,000, Odense 24,000; the other 94
  municipalities share the rest by population^1.15 times log-normal noise
  (σ 0.35) drawn from the seed: a heavy-tailed spread.
- **Vacancies.** A unit of the instance is a vacancy of the round. Re-letting
  is 11 % of the stock a year, so a week has stock × 0.11 / 52 vacancies
  (≈ 1,100 nationally, ≈ 118 in København), spread over the afdelinger in
  proportion to their size. Only afdelinger with a vacancy this round are
  listed (with their organisations).
- **Areas.** Per afdeling, national shares of the 2024 lists (12 udsatte,
  7 omdannelses-, 63 forebyggelsesområder of ≈ 4–5 afdelinger each among
  ≈ 7,000): disadvantaged 0.8 %, transformation 0.5 %, prevention 4 %. The
  ``small`` and ``tiny`` presets raise them so the area rules show up.
  ``max_vulnerable``: ordinary 1–4 or unlimited (25 %), prevention 0–2,
  disadvantaged and transformation 0 (70 %) or 1.
- **Units.** Afdelinger are family (86 %), youth (8 %) or elderly (6 %).
  Family rents follow the January 2023 bands of 506,000 family units
  (31,300 under 3,500 kr; 79,500 in 3,500–4,500; 247,500 in 4,500–6,500;
  148,000 over 6,500), stratified so an instance matches them closely, and
  rise with the rooms and the afdeling; rounded to 10 kr. Rooms 1–5, mostly
  2–3. Youth units 1–2 rooms at 2,400–4,200 kr, elderly 1–3 rooms at
  4,000–7,500 kr. Accessible: elderly 85 %, family 7 %, youth 3 %; 2 % temporary.
- **Citizens** (the urgent list, calibrated to the homeless count of week 6,
  2024: 5,989; København 1,370, Aarhus 8.8 %, Odense 117, the others by
  population^1.3 times log-normal noise (σ 0.4); apportioned by largest
  remainder): priorities 1–3
  (30/40/30 %); households single (78 %), single parent with 1 child (12 %),
  with 2+ children (6 %), couple (4 %) giving ``min_rooms``/``max_rooms``;
  ``max_rent_kr`` for singles 2,800–4,500 (a quarter near the kontanthjælp
  floor 2,800–3,200, half 3,200–3,900 around VIVE's 3,500), families
  500–1,800 kr more; 45 % subsidy eligible, 50 % vulnerable, 4 % need an
  accessible unit, 20 % accept a temporary unit; kinds ``["family"]`` (85 %),
  ``["family", "youth"]`` (12 %), ``["family", "elderly"]`` (3 %). Barred
  areas (§ 59 stk. 6 and 7) for 30 % of the non-vulnerable and 60 % of the
  vulnerable: ``disadvantaged`` and ``transformation`` (omdannelsesområder
  are udsatte boligområder too), a third of them also ``prevention``.
  3 % exclude one afdeling; 0–3 preferences (30/30/25/15 %) for afdelinger
  of their municipality, weights 1–10.
- **Subsidy frames.** 30 municipalities (København always, the others drawn
  by homeless count; in the one- to three-municipality presets the listed
  ones always) hold yearly frames of 6–350 units, 1,345 in total. An
  instance gets the slice ``ceil(frame × weeks / 52 × f)``, where ``f`` is the
  instance's vacancies over the municipalities' natural vacancies of the
  period (1 at full scale), so every holder keeps at least one slot.
- **Grant quotas.** 1,800 subsidy grants, treated as a yearly quota, are
  distributed over the regions by homeless count; a region's quota in an
  instance is the part of its selected municipalities (by homeless count,
  as in the agreement), sliced like the frames.
- **Agreements.** København and 30 % of the other municipalities have
  extended agreements, each with some of: share 1.0 for 1-room units; share
  0.5 or 1.0 for units under 4,000 kr; share 1/3 for one organisation.
- **Ledger.** Week presets fall in a week of the year (2–52, drawn); 70 % of
  the round's pools carry a ledger of earlier weeks: ``vacancies_before`` ~
  Poisson(pool vacancies × elapsed weeks), ``claimed_before`` the share of
  those, floored, less 0–2 unclaimed. Year presets carry only a remainder
  of 1–3 vacancies from the year before.
- No ``scores`` (the engine's own score applies) unless ``with_scores=True``,
  which scores every plausible pair (same municipality, rooms and kind fit,
  affordable, if need be subsidised) 0–100 by rent slack plus noise; large
  for ``city-year`` (≈ 2 million rows).

**Hard presets** (issue 12). ``hard-city`` (København, 900 citizens, 700 vacancies
of a year's stock) and ``hard-national`` (the national week in afdelinger of ≈ 400
units) reproduce the instances where the count stages' LP relaxation is fractional:
citizens' rent limits + 600 kr and half of them subsidy-eligible (≈ 140,000 eligible
pairs in the city), a share of 0.4, each region's quota lowered to its
municipalities' frames, and a score for every citizen × unit pair of a municipality
(630,000 in the city), so frames, quotas, shares and mixed-city caps bind together.
The existing presets draw exactly as before: the hard keys change thresholds and
add draws only after every other draw. In ``anvis/2`` (their default, like every preset)
a rotation pool's cap is its turns and never binds, and frames are unspent totals, so the
hard presets also make every drawn extended agreement a ``choice`` pool (a negotiated
right to pick: those pool rows bind) and keep frames and quotas at the week's slice of
the year (``frames_spent``: what is left late in the year); ``format="anvis/1"`` gives
their version-1 documents byte for byte as before.

**Version 2** (FORMAT.md §6; the default, ``format="anvis/1"`` gives exactly the
version-1 documents above, byte for byte):

- **Rotation.** ``default_mode`` is ``rotation``; the drawn extended agreements (1-room
  units, units under 4,000 kr) are ``rotation`` pools of family units (``kinds:
  ["family"]``), the third of one organisation a ``choice`` pool (a negotiated right to
  pick). Youth and elderly units fall in their own per-kind default pools
  ``default:<municipality>:<organisation>:<kind>``.
- **Unit kinds** keep the stock's shares: family afdelinger 86 % (≈ 506,000 of ≈ 593,000
  almene units), youth 8 %, elderly 6 %.
- **Cheap units re-let at their own rate**: 5,400 of the 31,300 family units under 3,500 kr
  were re-let in 2022 (≈ 17 % a year against 11 % overall), so a round's family vacancies
  hold that band ≈ 1.57 times its stock share (≈ 9.7 % of family vacancies, not 6.2 %).
- **Order of vacancy**: every unit carries ``sequence``, a random permutation of the round.
- **Offered units**: 2 % of the units of rotation pools are ``offered`` (turns of an earlier
  round still held; they are not vacancies of the round).
- **Citizens**: ``homeless`` for 80 % (an assumption; the list is calibrated to the homeless
  count); single's rent limits 2,800–3,500 kr for the 40 % on kontanthjælp (seed 002),
  3,500–3,900 (35 %) and 3,900–4,500 (25 %); families 500–1,800 kr more.
- **Frames and quotas are totals** until spent (tilsagnsrammer, the Fonden's grants): an
  instance gets ``ceil(frame × f)`` (no ``weeks / 52``).
- ``subsidy_kinds`` is ``["family"]`` (huslejetilskud is given to almene familieboliger).

Every number is drawn from ``numpy.random.default_rng(seed)``: the same
preset, seed, scale and overrides give the identical document.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from models import AREAS, FORMAT, KINDS, default_pool_id
from models.schema import FORMAT_V2, FORMATS
from optimizer.sim.calibration import (
    BOOSTED_AREAS,
    CHEAP_RELET_RATE,
    FRAME_HOLDERS,
    FRAME_MAX,
    FRAME_MIN,
    FRAME_TOTAL,
    GRANTS,
    HOMELESS_ANCHORS,
    HOMELESS_SHARE,
    MUNICIPALITIES,
    NATIONAL_AREAS,
    NATIONAL_HOMELESS,
    NATIONAL_ORGANISATIONS,
    NATIONAL_STOCK,
    OFFERED_SHARE,
    REGIONS,
    RELET_RATE,
    RENT_BANDS,
    RENT_LEVELS_V2,
    STOCK_ANCHORS,
    SUBSIDY_BAND,
    SUBSIDY_KR,
    TOP_MAX_KR,
    TOP_TAIL_KR,
    UNITS_PER_AFDELING,
)

HARD: dict[str, Any] = {
    "default_share": 0.4,
    "rent_offset_kr": 600,
    "subsidy_rate": 0.5,
    "dense_scores": True,
    "quota_within_frames": True,
    "agreement_mode": "choice",
    "frames_spent": True,
}
"""What makes the ``hard-*`` presets hard (issue 12): citizens who can afford more (rent
limits + 600 kr, half subsidy-eligible) so that 700 vacancies meet ≈ 140,000 eligible
pairs; a share of 0.4, below the demand; quotas at the frames; a score for every pair."""

PRESETS: dict[str, dict[str, Any]] = {
    "national-week": {
        "description": "Denmark in one week: 98 municipalities, 5 regions, ≈ 6,000 citizens, ≈ 1,100 vacancies.",
        "municipalities": None,
        "weeks": 1,
        "citizens": NATIONAL_HOMELESS,
        "units": None,
        "organisations": None,
        "areas": NATIONAL_AREAS,
        "agreement_rate": 0.3,
    },
    "city-week": {
        "description": "København in one week: 1,370 citizens, ≈ 118 vacancies.",
        "municipalities": ("101",),
        "weeks": 1,
        "citizens": 1_370,
        "units": None,
        "organisations": None,
        "areas": NATIONAL_AREAS,
        "agreement_rate": 0.3,
    },
    "city-year": {
        "description": "One large municipality with a year of vacancies at once: 3,000 citizens, 5,500 vacancies.",
        "municipalities": ("101",),
        "weeks": 52,
        "citizens": 3_000,
        "units": 5_500,
        "organisations": None,
        "areas": NATIONAL_AREAS,
        "agreement_rate": 0.3,
    },
    "small": {
        "description": "Three municipalities in two regions: 60 citizens, 40 vacancies.",
        "municipalities": ("101", "147", "259"),
        "weeks": 1,
        "citizens": 60,
        "units": 40,
        "organisations": (2, 3),
        "areas": BOOSTED_AREAS,
        "agreement_rate": 0.7,
    },
    "tiny": {
        "description": "One or two municipalities: 8–15 citizens, 6–12 vacancies.",
        "municipalities": (("851",), ("851", "860")),
        "weeks": 1,
        "citizens": (8, 15),
        "units": (6, 12),
        "organisations": (1, 2),
        "areas": BOOSTED_AREAS,
        "agreement_rate": 0.7,
    },
    "hard-city": {
        "description": (
            "A hard city round: København with 900 citizens, 700 vacancies and a score for every pair; "
            "frames, grant quota, shares and mixed-city caps bind; the LP relaxation is fractional."
        ),
        "municipalities": ("101",),
        "weeks": 52,
        "citizens": 900,
        "units": 700,
        "organisations": None,
        "areas": NATIONAL_AREAS,
        "agreement_rate": 0.3,
        **HARD,
    },
    "hard-national": {
        "description": (
            "The national week with a score for every pair of a municipality and binding side limits: "
            "larger afdelinger, quotas at the frames, ≈ 6,000 citizens, ≈ 1,100 vacancies."
        ),
        "municipalities": None,
        "weeks": 1,
        "citizens": NATIONAL_HOMELESS,
        "units": None,
        "organisations": None,
        "areas": NATIONAL_AREAS,
        "agreement_rate": 0.3,
        **HARD,
        "afdeling_units": 400,
    },
}
"""Named presets. Keys a caller may override through :func:`generate`:

``municipalities``
    ``None`` (all 98), a tuple of kommune codes, or a tuple of such tuples
    (one drawn).
``weeks``
    Length of the period the vacancies, frames and quotas cover (52: a year).
``citizens``, ``units``
    Totals before ``scale``: an int, an inclusive ``(low, high)`` range to
    draw from, or (``units`` only) ``None`` for the natural
    stock × 0.11 × weeks / 52.
``organisations``
    Organisations per municipality: ``None`` (≈ 560 nationally, by the square
    root of the stock), an int, or an inclusive ``(low, high)`` range.
``areas``
    Share of afdelinger per non-ordinary area class.
``agreement_rate``
    Chance that a municipality other than København has extended agreements.

Optional keys (absent: the calibrated national behaviour; the ``hard-*`` presets set
them through :data:`HARD`):

``afdeling_units``
    Mean units per afdeling of the stock (default 81); larger afdelinger get several
    vacancies of a week, so their mixed-city caps can bind.
``rent_offset_kr``
    Added to every citizen's ``max_rent_kr`` (default 0).
``subsidy_rate``, ``vulnerable_rate``
    Shares of subsidy-eligible and vulnerable citizens (defaults 0.45 and 0.5).
``dense_scores``
    A ``scores`` row for every citizen × unit pair of the same municipality (eligible
    or not) instead of the engine's own score (default False).
``quota_within_frames``
    Lower each region's grant quota to the sum of its municipalities' frames
    (default False), so that quotas bind too.
``agreement_mode``
    ``anvis/2`` only: the mode of every drawn extended agreement (default None: as
    drawn, ``rotation`` for the 1-room and cheap units, ``choice`` for the third of one
    organisation). The hard presets set ``"choice"``: a rotation pool's cap is its turns,
    which never binds, so only negotiated rights to pick give binding pool rows.
``frames_spent``
    ``anvis/2`` only: frames and quotas are what is left of the year's totals after the
    weeks before, the slice of ``weeks`` as in ``anvis/1`` (default False: the whole
    totals, unspent). The hard presets set it: a week late in the year, so that frames
    and quotas bind as they do in ``anvis/1``.
"""

PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)
"""The preset names in order, for ``anvis generate PRESET``'s choice list."""

OPTIONAL_KEYS = (
    "afdeling_units",
    "rent_offset_kr",
    "subsidy_rate",
    "vulnerable_rate",
    "dense_scores",
    "quota_within_frames",
    "agreement_mode",
    "frames_spent",
)
"""Preset keys that any preset may set or override (see :data:`PRESETS`)."""

EXTRA_OPTIONS = ("with_scores", "week", "name", "default_share", "format")
"""Further overrides: ``with_scores`` (add a ``scores`` table), ``week`` (week of
the year, 2–52, for the ledger), ``name``, ``default_share``, ``format`` (``"anvis/2"``,
the default, or ``"anvis/1"``: exactly the version-1 documents)."""


def generate(preset: str = "national-week", seed: int = 0, scale: float = 1.0, **overrides: Any) -> dict[str, Any]:
    """Generate one realistic ``anvis/2`` (or ``anvis/1``) instance document.

    Parameters
    ----------
    preset
        One of :data:`PRESET_NAMES`: ``"national-week"``, ``"city-week"``,
        ``"city-year"``, ``"small"``, ``"tiny"``, ``"hard-city"``, ``"hard-national"``.
    seed
        Seed of ``numpy.random.default_rng``; the same preset, seed, scale and
        overrides give the identical document.
    scale
        Multiplies the numbers of citizens and units (and so the afdelinger,
        frames and quotas that follow from them), e.g. 0.05 for smoke runs.
    **overrides
        Replace preset keys (see :data:`PRESETS`, optional keys included) or set ``with_scores``
        (bool, default False), ``week`` (int), ``name`` (str),
        ``default_share`` (float), ``format`` (``"anvis/2"``, the default, or ``"anvis/1"``).

    Returns
    -------
    dict
        The document (JSON-serialisable, only built-in types), valid for
        :func:`models.from_dict`.

    Raises
    ------
    ValueError
        For an unknown preset, override or municipality, or a bad scale.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
    allowed = set(PRESETS[preset]) | set(OPTIONAL_KEYS) | set(EXTRA_OPTIONS)
    unknown = sorted(set(overrides) - allowed - {"description"})
    if unknown:
        raise ValueError(f"unknown option {', '.join(map(repr, unknown))} for generate()")
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if overrides.get("format", FORMAT_V2) not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {overrides['format']!r}")
    cfg = {**PRESETS[preset], **overrides}
    rng = np.random.default_rng(seed)
    name = cfg.get("name") or (f"{preset}-s{seed}" if scale == 1 else f"{preset}-s{seed}-x{scale:g}")
    return Builder(cfg, rng, float(scale), name).build()


# --------------------------------------------------------------------------- helpers


def apportion(total: int, weights: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Integers proportional to ``weights`` summing to ``total`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    out: npt.NDArray[np.int64] = np.floor(exact).astype(np.int64)
    rest = total - int(out.sum())
    if rest > 0:
        order = np.lexsort((np.arange(len(w)), -(exact - out)))  # stable: ties by index
        out[order[:rest]] += 1
    return out


def draw_count(spec: int | tuple[int, int] | list[int], rng: np.random.Generator) -> int:
    """An int, or a draw from an inclusive ``(low, high)`` range."""
    if isinstance(spec, (tuple, list)):
        lo, hi = spec
        return int(rng.integers(lo, hi + 1))
    return int(spec)


def _pick(rng: np.random.Generator, probs: list[float], size: int) -> npt.NDArray[np.intp]:
    """Category indices with the given probabilities."""
    p = np.asarray(probs, dtype=float)
    idx: npt.NDArray[np.intp] = np.searchsorted(np.cumsum(p / p.sum()), rng.random(size), side="right")
    return idx.clip(0, len(p) - 1)


def _family_rent(q: npt.NDArray[np.float64], cheap_weight: float = 1.0) -> npt.NDArray[np.int64]:
    """Family rents (kr, multiples of 10) at quantiles ``q`` ∈ [0, 1) of the 2023 bands.

    ``cheap_weight`` multiplies the band under 3,500 kr: the rents of vacancies when that
    band re-lets faster than the stock (``anvis/2``), 1 for the stock itself.
    """
    counts = np.array([b[2] for b in RENT_BANDS], dtype=float)
    counts[0] *= cheap_weight
    edges = np.concatenate([[0.0], np.cumsum(counts) / counts.sum()])
    band = np.searchsorted(edges, q, side="right").clip(1, len(RENT_BANDS)) - 1
    t = (q - edges[band]) / (edges[band + 1] - edges[band])
    rent = np.empty(len(q))
    for b, (lo, hi, _) in enumerate(RENT_BANDS):
        m = band == b
        if hi is None:
            r = lo + 10 - TOP_TAIL_KR * np.log1p(-np.minimum(t[m], 0.999999))
            r = np.minimum(r, TOP_MAX_KR)
            rent[m] = np.clip(np.round(r / 10) * 10, lo + 10, TOP_MAX_KR)
        else:
            r = lo + t[m] * (hi - lo)
            rent[m] = np.clip(np.round(r / 10) * 10, lo, hi - 10)  # stay inside the band
    return rent.astype(np.int64)


# --------------------------------------------------------------------------- builder


class Builder:
    """One generation run; methods run in a fixed order so the draws are reproducible."""

    #: Whether the units are a round's vacancies (so cheap units are over-represented by their
    #: faster re-letting in ``anvis/2``) rather than the stock (:class:`optimizer.sim.world.StockBuilder`).
    units_are_vacancies = True

    def __init__(self, cfg: dict[str, Any], rng: np.random.Generator, scale: float, name: str):
        self.cfg, self.rng, self.scale, self.name = cfg, rng, scale, name
        self.v2 = cfg.get("format", FORMAT_V2) == FORMAT_V2

    # -- the national profile: stock and homeless of all 98 municipalities
    def national(self) -> None:
        """Stock, homeless count and organisation density of all 98 municipalities."""
        rng = self.rng
        codes = [m[0] for m in MUNICIPALITIES]
        self.codes = codes
        self.code_index = {c: i for i, c in enumerate(codes)}
        self.region_of = np.array([[r[0] for r in REGIONS].index(m[2]) for m in MUNICIPALITIES])
        n = len(codes)
        pop = np.array([m[3] for m in MUNICIPALITIES], dtype=float)
        # Heavy-tailed sizes: social housing and homelessness concentrate in the cities
        # more than the population does, with log-normal noise drawn from the seed.
        w = pop**1.15 * rng.lognormal(0.0, 0.35, n)
        anchored = np.array([c in STOCK_ANCHORS for c in codes])
        stock = np.empty(n)
        stock[anchored] = [STOCK_ANCHORS[c] for c in codes if c in STOCK_ANCHORS]
        stock[~anchored] = (NATIONAL_STOCK - stock[anchored].sum()) * w[~anchored] / w[~anchored].sum()
        hw = pop**1.3 * rng.lognormal(0.0, 0.4, n)
        fixed = np.array([c in HOMELESS_ANCHORS for c in codes])
        homeless = np.empty(n)
        homeless[fixed] = [HOMELESS_ANCHORS[c] for c in codes if c in HOMELESS_ANCHORS]
        homeless[~fixed] = (NATIONAL_HOMELESS - homeless[fixed].sum()) * hw[~fixed] / hw[~fixed].sum()
        self.stock, self.homeless = stock, homeless
        self.org_factor = NATIONAL_ORGANISATIONS / np.sqrt(stock).sum()

    def select(self) -> None:
        """The selected municipalities (``sel``: their indices), validated."""
        spec = self.cfg["municipalities"]
        if spec is None:
            codes = list(self.codes)
        else:
            spec = tuple(spec)
            if spec and isinstance(spec[0], (tuple, list)):
                spec = tuple(spec[int(self.rng.integers(len(spec)))])
            codes = list(spec)
        bad = [c for c in codes if c not in self.code_index]
        if bad or not codes or len(set(codes)) != len(codes):
            raise ValueError(f"municipalities must be distinct kommune codes, got {codes!r}")
        self.sel = np.array([self.code_index[c] for c in codes])

    # -- frames and quotas (yearly, national), then the instance's slice
    def frames(self) -> None:
        """The yearly subsidy frames of the holders and the regions' yearly grant quotas."""
        rng, n = self.rng, len(self.codes)
        forced = [int(i) for i in self.sel[:FRAME_HOLDERS]] if self.cfg["municipalities"] else []
        if self.code_index["101"] not in forced:
            forced = [self.code_index["101"], *forced[: FRAME_HOLDERS - 1]]
        rest = np.array([i for i in range(n) if i not in forced])
        p = self.homeless[rest] ** 0.7
        drawn = rng.choice(rest, FRAME_HOLDERS - len(forced), replace=False, p=p / p.sum())
        holders = np.array(forced + sorted(int(i) for i in drawn))
        w = self.homeless[holders] ** 1.5 * rng.lognormal(0.0, 0.5, len(holders))
        free = np.ones(len(holders), dtype=bool)
        f = np.full(len(holders), float(FRAME_MIN))
        budget = FRAME_TOTAL - FRAME_MIN * len(holders)
        while True:  # share the budget by weight; whoever passes the maximum is held at it
            f[free] = FRAME_MIN + budget * w[free] / w[free].sum()
            over = free & (f > FRAME_MAX)
            if not over.any():
                break
            f[over] = FRAME_MAX
            free &= ~over
            budget = FRAME_TOTAL - FRAME_MAX * (~free).sum() - FRAME_MIN * free.sum()
        yearly = np.zeros(n, dtype=np.int64)
        yearly[holders[free]] = apportion(budget + FRAME_MIN * int(free.sum()), f[free])
        yearly[holders[~free]] = FRAME_MAX
        self.yearly_frame = yearly
        reg_h = np.bincount(self.region_of, weights=self.homeless, minlength=len(REGIONS))
        self.yearly_grants = apportion(GRANTS, reg_h)

    # -- counts of this instance
    def counts(self) -> None:
        """The numbers of units and citizens per selected municipality, and ``f``."""
        rng, cfg, sel = self.rng, self.cfg, self.sel
        weeks = int(cfg["weeks"])
        self.weeks = weeks
        natural = self.stock[sel] * RELET_RATE * weeks / 52
        units_spec = cfg["units"]
        total_units = natural.sum() if units_spec is None else draw_count(units_spec, rng)
        n_units = max(1, round(total_units * self.scale))
        n_cit = max(1, round(draw_count(cfg["citizens"], rng) * self.scale))
        self.units_m = rng.multinomial(n_units, natural / natural.sum()) if len(sel) > 1 else np.array([n_units])
        self.cit_m = apportion(n_cit, self.homeless[sel])
        self.f = n_units / natural.sum()  # the instance's vacancies over the natural ones
        self.stock_eff = self.stock[sel] * self.f

    # -- afdelinger of the stock, their organisations, and this round's vacancies
    def departments(self) -> None:
        """The afdelinger (area, cap, kind, organisation) and this round's vacancies in each."""
        rng, cfg = self.rng, self.cfg
        per_afd = cfg.get("afdeling_units", UNITS_PER_AFDELING)
        n_afd = np.maximum(1, np.round(self.stock_eff / per_afd)).astype(np.int64)
        if cfg["organisations"] is None:
            n_org = np.round(self.org_factor * np.sqrt(self.stock_eff)).astype(np.int64)
        else:
            spec = cfg["organisations"]
            lo, hi = spec if isinstance(spec, (tuple, list)) else (spec, spec)
            n_org = rng.integers(lo, hi + 1, len(n_afd))
        n_org = np.clip(n_org, 1, n_afd)
        total = int(n_afd.sum())
        afd_m = np.repeat(np.arange(len(n_afd)), n_afd)  # position in sel
        afd_k = np.arange(total) - np.repeat(np.cumsum(n_afd) - n_afd, n_afd)
        sigma = 0.7
        size = UNITS_PER_AFDELING * rng.lognormal(-(sigma**2) / 2, sigma, total)
        # Organisations: a few large ones per municipality (Zipf weights 1/(k+1)).
        u = rng.random(total)
        afd_org = np.empty(total, dtype=np.int64)
        starts = np.cumsum(n_afd) - n_afd
        for m in range(len(n_afd)):
            zipf = 1.0 / np.arange(1, n_org[m] + 1)
            cum = np.cumsum(zipf / zipf.sum())
            s = slice(starts[m], starts[m] + n_afd[m])
            afd_org[s] = np.searchsorted(cum, u[s], side="right").clip(0, n_org[m] - 1)
        shares = cfg["areas"]
        probs = [1 - sum(shares.values())] + [shares.get(a, 0.0) for a in AREAS[1:]]
        area = _pick(rng, probs, total)
        r = rng.random(total)
        mv = np.where(
            area == 0,
            rng.integers(1, 5, total),  # ordinary 1–4
            np.where(
                area == 1,
                rng.integers(0, 3, total),  # prevention 0–2
                (r >= 0.7).astype(np.int64),
            ),
        )  # 0 (70 %) or 1
        unlimited = (area == 0) & (rng.random(total) < 0.25)
        kind = _pick(rng, [0.86, 0.08, 0.06], total)  # family, youth, elderly
        effect = rng.normal(0.0, 1.0, total)  # cheap or dear afdeling
        # Vacancies of the round: per municipality, over its afdelinger by size.
        vac = np.zeros(total, dtype=np.int64)
        for m in range(len(n_afd)):
            s = slice(starts[m], starts[m] + n_afd[m])
            if self.units_m[m]:
                vac[s] = rng.multinomial(self.units_m[m], size[s] / size[s].sum())
        keep = np.flatnonzero(vac > 0)
        self.d_m, self.d_k, self.d_org = afd_m[keep], afd_k[keep], afd_org[keep]
        self.d_size, self.d_area, self.d_mv = size[keep], area[keep], mv[keep]
        self.d_unlimited, self.d_kind, self.d_effect = unlimited[keep], kind[keep], effect[keep]
        self.d_vac = vac[keep]
        codes = [self.codes[i] for i in self.sel]
        self.d_ids = [f"afd-{codes[m]}-{k + 1}" for m, k in zip(self.d_m.tolist(), self.d_k.tolist(), strict=True)]
        self.o_ids = [f"bo-{codes[m]}-{o + 1}" for m, o in zip(self.d_m.tolist(), self.d_org.tolist(), strict=True)]

    # -- units (this round's vacancies)
    def units(self) -> None:
        """The vacant units: rooms, rent, kind, accessible, temporary."""
        rng = self.rng
        ud = np.repeat(np.arange(len(self.d_vac)), self.d_vac)
        n = len(ud)
        kind = self.d_kind[ud]
        fam, youth, eld = kind == 0, kind == 1, kind == 2
        rooms = np.empty(n, dtype=np.int64)
        rooms[fam] = 1 + _pick(rng, [0.10, 0.30, 0.35, 0.18, 0.07], int(fam.sum()))
        rooms[youth] = 1 + _pick(rng, [0.7, 0.3], int(youth.sum()))
        rooms[eld] = 1 + _pick(rng, [0.1, 0.6, 0.3], int(eld.sum()))
        rent = np.empty(n, dtype=np.int64)
        # Family rents: a latent dearness (rooms, afdeling, noise) ranked into stratified
        # quantiles, so the band shares match the national ones and rent rises with size.
        z = 0.7 * (rooms[fam] - 2.8) / 1.1 + 0.5 * self.d_effect[ud[fam]] + 0.6 * rng.normal(0, 1, int(fam.sum()))
        q = (np.argsort(np.argsort(z, kind="stable"), kind="stable") + rng.random(int(fam.sum()))) / max(
            1, int(fam.sum())
        )
        cheap_weight = CHEAP_RELET_RATE / RELET_RATE if self.v2 and self.units_are_vacancies else 1.0
        rent[fam] = _family_rent(q, cheap_weight)
        rent[youth] = np.round(rng.uniform(2_400, 4_200, int(youth.sum())) / 10).astype(np.int64) * 10
        rent[eld] = np.round(rng.uniform(4_000, 7_500, int(eld.sum())) / 10).astype(np.int64) * 10
        acc_p = np.where(eld, 0.85, np.where(youth, 0.03, 0.07))
        accessible = rng.random(n) < acc_p
        temporary = rng.random(n) < 0.02
        self.u_dept, self.u_rooms, self.u_rent, self.u_kind = ud, rooms, rent, kind
        self.u_acc, self.u_temp = accessible, temporary

    # -- extended agreements
    def agreements(self) -> None:
        """The drawn extended agreements (København and ``agreement_rate`` of the others)."""
        rng = self.rng
        codes = [self.codes[i] for i in self.sel]
        out = []
        for m, code in enumerate(codes):
            has = code == "101" or rng.random() < self.cfg["agreement_rate"]
            kinds = rng.random(3) < (0.6, 0.5, 0.4)
            orgs = sorted(set(self.d_org[self.d_m == m].tolist()))
            if not orgs:
                kinds[2] = False
            if not has:
                continue
            if not kinds.any():
                kinds[0] = True
            if kinds[0]:
                out.append(
                    {
                        "id": f"{code}-1room",
                        "municipality": code,
                        "share": 1.0,
                        "organisation": None,
                        "max_rent_kr": None,
                        "rooms": [1],
                        "departments": None,
                        **self.v2_terms("rotation"),
                    }
                )
            if kinds[1]:
                share = 1.0 if rng.random() < 0.5 else 0.5
                out.append(
                    {
                        "id": f"{code}-cheap",
                        "municipality": code,
                        "share": share,
                        "organisation": None,
                        "max_rent_kr": 4000,
                        "rooms": None,
                        "departments": None,
                        **self.v2_terms("rotation"),
                    }
                )
            if kinds[2]:
                o = orgs[int(rng.integers(len(orgs)))]
                org = f"bo-{code}-{o + 1}"
                out.append(
                    {
                        "id": f"{org}-third",
                        "municipality": code,
                        "share": 1 / 3,
                        "organisation": org,
                        "max_rent_kr": None,
                        "rooms": None,
                        "departments": None,
                        **self.v2_terms("choice"),
                    }
                )
        self.agr = out

    def v2_terms(self, mode: str) -> dict[str, Any]:
        """An agreement's ``anvis/2`` fields: its mode (``agreement_mode`` when set), over family units.

        None in ``anvis/1``.
        """
        return {"mode": self.cfg.get("agreement_mode") or mode, "kinds": ["family"]} if self.v2 else {}

    def pools(self) -> list[str]:
        """The pool of every unit (FORMAT.md §2, §6): first matching agreement, else the default."""
        codes = [self.codes[i] for i in self.sel]
        um = self.d_m[self.u_dept]
        org_ids = np.array(self.o_ids, dtype=object)[self.u_dept]
        kinds: list[str | None] = [KINDS[k] for k in self.u_kind.tolist()] if self.v2 else [None] * len(um)
        pool = np.array(
            [default_pool_id(codes[m], o, k) for m, o, k in zip(um.tolist(), org_ids.tolist(), kinds, strict=True)],
            dtype=object,
        )
        free = np.ones(len(um), dtype=bool)
        for a in self.agr:
            m = free & (um == codes.index(a["municipality"]))
            if a["organisation"] is not None:
                m &= org_ids == a["organisation"]
            if a["max_rent_kr"] is not None:
                m &= self.u_rent <= a["max_rent_kr"]
            if a["rooms"] is not None:
                m &= np.isin(self.u_rooms, a["rooms"])
            if a.get("kinds") is not None:
                m &= np.isin(self.u_kind, [KINDS.index(k) for k in a["kinds"]])
            pool[m] = a["id"]
            free &= ~m
        out: list[str] = pool.tolist()
        return out

    def ledger(self) -> None:
        """The earlier weeks' ledger of the round's pools."""
        rng = self.rng
        pool = self.pools()
        share = {a["id"]: a["share"] for a in self.agr}
        default = float(self.cfg.get("default_share", 0.25))
        order, count = [], {}
        for p in pool:
            if p not in count:
                order.append(p)
                count[p] = 0
            count[p] += 1
        week = self.cfg.get("week")
        if week is None:
            week = int(rng.integers(2, 53))
        self.u_pool = pool
        out = []
        for p in order:
            if rng.random() >= 0.7:
                continue
            if self.weeks >= 52:  # a year at once: only the remainder of the year before
                vb = int(rng.integers(1, 4))
            else:
                vb = int(rng.poisson(count[p] / self.weeks * max(0, week - 1)))
            slack = int(_pick(rng, [0.5, 0.3, 0.2], 1)[0])
            if vb == 0:
                continue
            s = share.get(p, default)
            cb = max(0, math.floor(s * vb + 1e-9) - slack)
            out.append({"pool": p, "vacancies_before": vb, "claimed_before": cb})
        self.led = out

    # -- citizens
    def citizens(self) -> None:
        """The urgent citizens per ``cit_m``, with the generator's attributes."""
        rng = self.rng
        n = int(self.cit_m.sum())
        cm = np.repeat(np.arange(len(self.cit_m)), self.cit_m)
        prio = 1 + _pick(rng, [0.3, 0.4, 0.3], n)
        house = _pick(rng, [0.78, 0.12, 0.06, 0.04], n)  # single, parent+1, parent+2, couple
        wide = rng.random(n) < 0.3
        min_r = np.choose(house, [np.ones(n, int), np.full(n, 2), np.full(n, 3), np.where(wide, 2, 1)])
        max_r = np.choose(house, [np.where(wide, 3, 2), np.full(n, 3), np.where(wide, 5, 4), np.full(n, 3)])
        if self.v2:  # those on kontanthjælp pay about 2,800–3,500 kr (seed 002)
            level = _pick(rng, [x[0] for x in RENT_LEVELS_V2], n)
            lo = np.array([x[1] for x in RENT_LEVELS_V2])[level]
            hi = np.array([x[2] for x in RENT_LEVELS_V2])[level]
        else:
            level = _pick(rng, [0.25, 0.5, 0.25], n)
            lo = np.array([2_800, 3_200, 3_900])[level]
            hi = np.array([3_200, 3_900, 4_500])[level]
        rent = rng.uniform(lo, hi) + np.where((house == 1) | (house == 2), rng.uniform(500, 1_800, n), 0.0)
        max_rent = (np.round(rent / 50) * 50).astype(np.int64) + int(self.cfg.get("rent_offset_kr", 0))
        eligible = rng.random(n) < self.cfg.get("subsidy_rate", 0.45)
        vulnerable = rng.random(n) < self.cfg.get("vulnerable_rate", 0.5)
        needs_acc = rng.random(n) < 0.04
        temp = rng.random(n) < 0.2
        kinds = _pick(rng, [0.85, 0.12, 0.03], n)
        barred = np.where(rng.random(n) < np.where(vulnerable, 0.6, 0.3), np.where(rng.random(n) < 1 / 3, 2, 1), 0)
        excl = rng.random(n) < 0.03
        n_pref = _pick(rng, [0.3, 0.3, 0.25, 0.15], n)
        pref_u = rng.random((n, 3))
        excl_u = rng.random(n)
        weights = rng.integers(1, 11, (n, 3))
        # anvis/2: drawn after every version-1 draw, so the version-1 citizens stay as they were
        homeless = (rng.random(n) < HOMELESS_SHARE).tolist() if self.v2 else None
        # Afdelinger of each municipality, drawn by size.
        by_m = [np.flatnonzero(self.d_m == m) for m in range(len(self.sel))]
        cums = [np.cumsum(self.d_size[d]) / self.d_size[d].sum() if len(d) else None for d in by_m]
        kind_lists = (["family"], ["family", "youth"], ["family", "elderly"])
        barred_lists: tuple[list[str], ...] = (
            [],
            ["disadvantaged", "transformation"],
            ["disadvantaged", "transformation", "prevention"],
        )
        codes = [self.codes[i] for i in self.sel]
        out = []
        pr, mn, mx, mr = prio.tolist(), min_r.tolist(), max_r.tolist(), max_rent.tolist()
        for i, m in enumerate(cm.tolist()):
            d, cum = by_m[m], cums[m]
            excluded, prefs = [], []
            if cum is not None:
                if excl[i]:
                    excluded = [self.d_ids[d[min(len(d) - 1, int(np.searchsorted(cum, excl_u[i], side="right")))]]]
                seen = set(excluded)
                for j in range(int(n_pref[i])):
                    dep = self.d_ids[d[min(len(d) - 1, int(np.searchsorted(cum, pref_u[i, j], side="right")))]]
                    if dep not in seen:
                        seen.add(dep)
                        prefs.append({"department": dep, "weight": int(weights[i, j])})
            out.append(
                {
                    "id": f"c{i + 1}",
                    "municipality": codes[m],
                    "priority": pr[i],
                    "max_rent_kr": mr[i],
                    "min_rooms": mn[i],
                    "max_rooms": mx[i],
                    "vulnerable": bool(vulnerable[i]),
                    "subsidy_eligible": bool(eligible[i]),
                    "needs_accessible": bool(needs_acc[i]),
                    "kinds": list(kind_lists[kinds[i]]),
                    "accepts_temporary": bool(temp[i]),
                    "barred_areas": list(barred_lists[barred[i]]),
                    "excluded_departments": excluded,
                    "preferences": prefs,
                }
            )
            if homeless is not None:
                out[-1]["homeless"] = homeless[i]
        self.cit = out
        self.c_m, self.c_min, self.c_max, self.c_rent = cm, min_r, max_r, max_rent
        self.c_elig, self.c_kinds = eligible, kinds

    # -- optional pair scores
    def scores(self) -> list[dict[str, Any]]:
        """Scores for the plausible pairs (same municipality, rooms and kind fit, affordable)."""
        rng = self.rng
        kind_ok = np.array([[True, False, False], [True, True, False], [True, False, True]])
        um = self.d_m[self.u_dept]
        amount = SUBSIDY_KR
        lo, hi = SUBSIDY_BAND
        out = []
        for m in range(len(self.sel)):
            cs = np.flatnonzero(self.c_m == m)
            us = np.flatnonzero(um == m)
            for start in range(0, len(cs), 500):
                c = cs[start : start + 500, None]
                rooms, rent = self.u_rooms[us][None, :], self.u_rent[us][None, :]
                ok = (self.c_min[c] <= rooms) & (rooms <= self.c_max[c])
                ok &= kind_ok[self.c_kinds[c], self.u_kind[us][None, :]]
                ok &= (rent <= self.c_rent[c]) | (
                    self.c_elig[c] & (rent >= lo) & (rent <= hi) & (rent - amount <= self.c_rent[c])
                )
                ci, ui = np.nonzero(ok)
                slack = (self.c_rent[c[ci, 0]] - self.u_rent[us[ui]]).clip(-amount, 1_500)
                score = np.clip(np.round(55 + slack / 60 + rng.normal(0, 12, len(ci))), 0, 100).astype(np.int64)
                for a, b, s in zip(c[ci, 0].tolist(), us[ui].tolist(), score.tolist(), strict=True):
                    out.append({"citizen": f"c{a + 1}", "unit": f"u{b + 1}", "score": s})
        return out

    def dense_scores(self) -> list[dict[str, Any]]:
        """A score for every citizen × unit pair of the same municipality, eligible or not.

        As a municipality that scores every pair of its own would give them (FORMAT.md §4:
        a score never makes an ineligible pair eligible): 0–100 by rent slack plus noise
        (σ 15), so the score stage has few ties. Drawn per municipality, citizens by units.
        """
        rng = self.rng
        um = self.d_m[self.u_dept]
        out: list[dict[str, Any]] = []
        for m in range(len(self.sel)):
            cs = np.flatnonzero(self.c_m == m)
            us = np.flatnonzero(um == m)
            if not len(cs) or not len(us):
                continue
            slack = (self.c_rent[cs, None] - self.u_rent[None, us]).clip(-SUBSIDY_KR, 1_500)
            score = np.clip(np.round(50 + slack / 60 + rng.normal(0, 15, slack.shape)), 0, 100).astype(np.int64)
            cid = [f"c{a + 1}" for a in cs.tolist()]
            uid = [f"u{b + 1}" for b in us.tolist()]
            flat = iter(score.ravel().tolist())
            out.extend({"citizen": c, "unit": u, "score": next(flat)} for c in cid for u in uid)
        return out

    # -- the records shared by the document and the world (optimizer.sim.world)
    def slice_of(self, yearly: float, weeks: int | None) -> int:
        """The part of a yearly frame or quota for ``weeks`` weeks (``None``: the year) and ``f``.

        ``ceil``, so every holder keeps at least one slot; the ``1e-9`` keeps an exact
        product from rounding up.
        """
        x = yearly if weeks is None else yearly * weeks / 52
        return math.ceil(float(x * self.f) - 1e-9)

    def region_records(self, weeks: int | None) -> list[dict[str, Any]]:
        """Regions of the selection, with the selected municipalities' part of each grant quota."""
        sel, out = self.sel, []
        for r, (rid, rname) in enumerate(REGIONS):
            mine = sel[self.region_of[sel] == r]
            if not len(mine):
                continue
            part = self.homeless[mine].sum() / self.homeless[self.region_of == r].sum()
            quota = max(1, self.slice_of(self.yearly_grants[r] * part, weeks))
            out.append({"id": rid, "name": rname, "grant_quota": quota})
        return out

    def municipality_records(self, weeks: int | None) -> list[dict[str, Any]]:
        """The selected municipalities with their slice of the subsidy frame."""
        out = []
        for i in self.sel.tolist():
            frame = self.yearly_frame[i]
            out.append(
                {
                    "id": self.codes[i],
                    "name": MUNICIPALITIES[i][1],
                    "region": MUNICIPALITIES[i][2],
                    "subsidy_frame": int(self.slice_of(frame, weeks)) if frame else 0,
                }
            )
        return out

    def organisation_records(self) -> list[dict[str, Any]]:
        """The organisations owning the listed afdelinger, by municipality and number."""
        out, seen = [], set()
        for m, o, oid in sorted(zip(self.d_m.tolist(), self.d_org.tolist(), self.o_ids, strict=True)):
            if oid not in seen:
                seen.add(oid)
                out.append({"id": oid, "name": f"Boligorganisation {o + 1}, {MUNICIPALITIES[self.sel[m]][1]}"})
        return out

    def department_records(self) -> list[dict[str, Any]]:
        """The listed afdelinger; ``max_vulnerable`` absent where unlimited."""
        codes = [self.codes[i] for i in self.sel]
        out = []
        for j, did in enumerate(self.d_ids):
            d = {
                "id": did,
                "organisation": self.o_ids[j],
                "municipality": codes[self.d_m[j]],
                "area": AREAS[self.d_area[j]],
            }
            if not self.d_unlimited[j]:
                d["max_vulnerable"] = int(self.d_mv[j])
            out.append(d)
        return out

    # -- the document
    def build(self) -> dict[str, Any]:
        """Draw everything in the fixed order and return the ``anvis/1`` document."""
        self.national()
        self.select()
        self.frames()
        self.counts()
        self.departments()
        self.units()
        self.agreements()
        self.ledger()
        self.citizens()
        # anvis/2: frames and quotas are totals until spent, not a slice of a year's
        weeks = None if self.v2 and not self.cfg.get("frames_spent", False) else self.weeks
        units = unit_records(
            np.arange(len(self.u_dept)),
            [self.d_ids[d] for d in self.u_dept.tolist()],
            self.u_rooms,
            self.u_rent,
            self.u_kind,
            self.u_acc,
            self.u_temp,
        )
        if self.v2:
            self.order_and_holds(units)
        doc = {
            "format": FORMAT_V2 if self.v2 else FORMAT,
            "name": self.name,
            "parameters": parameters(float(self.cfg.get("default_share", 0.25)), v2=self.v2),
            # Regions: the quota of the selected municipalities' part of each region's grants.
            "regions": self.region_records(weeks),
            "municipalities": self.municipality_records(weeks),
            "organisations": self.organisation_records(),
            "departments": self.department_records(),
            "units": units,
            "agreements": self.agr,
            "ledger": self.led,
            "citizens": self.cit,
        }
        if self.cfg.get("quota_within_frames", False):
            bind_quotas(doc)
        if self.cfg.get("dense_scores", False):
            doc["scores"] = self.dense_scores()
        elif self.cfg.get("with_scores", False):
            doc["scores"] = self.scores()
        return doc

    def order_and_holds(self, units: list[dict[str, Any]]) -> None:
        """``anvis/2``: the order of vacancy and the offered units of rotation pools (in place).

        Drawn after every other draw: ``sequence`` a random permutation of the round (units
        fall vacant in any order, not in list order), ``offered`` for
        :data:`~optimizer.sim.calibration.OFFERED_SHARE` of the units of rotation pools.
        """
        n = len(units)
        sequence = self.rng.permutation(n).tolist()
        mode = {a["id"]: a.get("mode", "rotation") for a in self.agr}
        rotation = np.array([mode.get(p, "rotation") == "rotation" for p in self.u_pool], dtype=bool)
        offered = (rotation & (self.rng.random(n) < OFFERED_SHARE)).tolist()
        for u, s, o in zip(units, sequence, offered, strict=True):
            u["sequence"] = s
            if o:
                u["offered"] = True


def bind_quotas(doc: dict[str, Any]) -> None:
    """Lower each region's grant quota to the sum of its municipalities' frames (in place).

    A quota above that sum can never bind; at it, quota and frames fill together
    wherever the subsidised demand exceeds them (the hard presets).
    """
    frames: dict[str, int] = {}
    for m in doc["municipalities"]:
        frames[m["region"]] = frames.get(m["region"], 0) + m["subsidy_frame"]
    for r in doc["regions"]:
        r["grant_quota"] = max(1, min(r["grant_quota"], frames.get(r["id"], 0)))


def parameters(default_share: float, v2: bool = False, default_mode: str = "rotation") -> dict[str, Any]:
    """The ``parameters`` of a generated instance: the calibrated subsidy, lexicographic objective.

    In ``anvis/2`` also the mode of the default pools and the subsidy on family units only.
    """
    out: dict[str, Any] = {
        "default_share": float(default_share),
        "subsidy_amount_kr": SUBSIDY_KR,
        "subsidy_band_kr": list(SUBSIDY_BAND),
        "objective": "lexicographic",
    }
    if v2:
        out |= {"default_mode": default_mode, "subsidy_kinds": ["family"]}
    return out


def unit_records(
    index: npt.ArrayLike,
    departments: list[str],
    rooms: npt.NDArray[np.int64],
    rent: npt.NDArray[np.int64],
    kind: npt.NDArray[np.intp],
    accessible: npt.NDArray[np.bool_],
    temporary: npt.NDArray[np.bool_],
) -> list[dict[str, Any]]:
    """``anvis/1`` unit records (id ``u<index + 1>``) from per-unit columns.

    Parameters
    ----------
    index
        Position of each unit in its stock (its id is ``u<index + 1>``).
    departments
        The afdeling id of each unit.
    rooms, rent, kind, accessible, temporary
        Per unit: rooms, rent (kr), kind (index into :data:`models.KINDS`), flags.
    """
    return [
        {
            "id": f"u{i + 1}",
            "department": d,
            "rooms": r,
            "rent_kr": p,
            "kind": KINDS[k],
            "accessible": a,
            "temporary": t,
        }
        for i, d, r, p, k, a, t in zip(
            np.asarray(index).tolist(),
            departments,
            rooms.tolist(),
            rent.tolist(),
            kind.tolist(),
            accessible.tolist(),
            temporary.tolist(),
            strict=True,
        )
    ]


def duplicated(doc: dict[str, Any], k_units: int, k_citizens: int) -> dict[str, Any]:
    """A copy of an instance document with every unit and every citizen repeated.

    Every unit ``k_units`` times and every citizen ``k_citizens`` times (ids
    suffixed ``~0``, ``~1``, …): afdelinger of identical flats and urgent lists
    of citizens with identical needs, where aggregation applies.

    ``scores`` and ``overrides`` name the old ids, so the copy has neither.
    """
    out = {k: v for k, v in doc.items() if k not in ("scores", "overrides")}
    out["units"] = [dict(u, id=f"{u['id']}~{i}") for u in doc.get("units", []) for i in range(k_units)]
    out["citizens"] = [dict(c, id=f"{c['id']}~{i}") for c in doc.get("citizens", []) for i in range(k_citizens)]
    return out
