"""Seeded generator of realistic ``anvis/1`` instance documents.

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

Every number is drawn from ``numpy.random.default_rng(seed)``: the same
preset, seed, scale and overrides give the identical document.
"""

from __future__ import annotations

import math

import numpy as np

FORMAT = "anvis/1"

REGIONS = (("H", "Hovedstaden"), ("S", "Sjælland"), ("SD", "Syddanmark"), ("M", "Midtjylland"), ("N", "Nordjylland"))

# (kommune code, name, region, population in thousands, rounded: weights for stock and homeless)
MUNICIPALITIES = (
    ("101", "København", "H", 650),
    ("147", "Frederiksberg", "H", 104),
    ("151", "Ballerup", "H", 52),
    ("153", "Brøndby", "H", 39),
    ("155", "Dragør", "H", 14),
    ("157", "Gentofte", "H", 75),
    ("159", "Gladsaxe", "H", 70),
    ("161", "Glostrup", "H", 24),
    ("163", "Herlev", "H", 30),
    ("165", "Albertslund", "H", 28),
    ("167", "Hvidovre", "H", 54),
    ("169", "Høje-Taastrup", "H", 56),
    ("173", "Lyngby-Taarbæk", "H", 57),
    ("175", "Rødovre", "H", 41),
    ("183", "Ishøj", "H", 24),
    ("185", "Tårnby", "H", 44),
    ("187", "Vallensbæk", "H", 17),
    ("190", "Furesø", "H", 41),
    ("201", "Allerød", "H", 26),
    ("210", "Fredensborg", "H", 41),
    ("217", "Helsingør", "H", 63),
    ("219", "Hillerød", "H", 52),
    ("223", "Hørsholm", "H", 25),
    ("230", "Rudersdal", "H", 57),
    ("240", "Egedal", "H", 44),
    ("250", "Frederikssund", "H", 46),
    ("260", "Halsnæs", "H", 31),
    ("270", "Gribskov", "H", 41),
    ("400", "Bornholm", "H", 39),
    ("253", "Greve", "S", 51),
    ("259", "Køge", "S", 62),
    ("265", "Roskilde", "S", 90),
    ("269", "Solrød", "S", 23),
    ("306", "Odsherred", "S", 33),
    ("316", "Holbæk", "S", 73),
    ("320", "Faxe", "S", 37),
    ("326", "Kalundborg", "S", 49),
    ("329", "Ringsted", "S", 36),
    ("330", "Slagelse", "S", 80),
    ("336", "Stevns", "S", 23),
    ("340", "Sorø", "S", 30),
    ("350", "Lejre", "S", 28),
    ("360", "Lolland", "S", 41),
    ("370", "Næstved", "S", 84),
    ("376", "Guldborgsund", "S", 60),
    ("390", "Vordingborg", "S", 46),
    ("410", "Middelfart", "SD", 39),
    ("420", "Assens", "SD", 41),
    ("430", "Faaborg-Midtfyn", "SD", 52),
    ("440", "Kerteminde", "SD", 24),
    ("450", "Nyborg", "SD", 32),
    ("461", "Odense", "SD", 207),
    ("479", "Svendborg", "SD", 59),
    ("480", "Nordfyns", "SD", 30),
    ("482", "Langeland", "SD", 12),
    ("492", "Ærø", "SD", 6),
    ("510", "Haderslev", "SD", 56),
    ("530", "Billund", "SD", 27),
    ("540", "Sønderborg", "SD", 74),
    ("550", "Tønder", "SD", 37),
    ("561", "Esbjerg", "SD", 116),
    ("563", "Fanø", "SD", 3.5),
    ("573", "Varde", "SD", 50),
    ("575", "Vejen", "SD", 43),
    ("580", "Aabenraa", "SD", 59),
    ("607", "Fredericia", "SD", 52),
    ("621", "Kolding", "SD", 95),
    ("630", "Vejle", "SD", 121),
    ("615", "Horsens", "M", 98),
    ("657", "Herning", "M", 90),
    ("661", "Holstebro", "M", 59),
    ("665", "Lemvig", "M", 19),
    ("671", "Struer", "M", 21),
    ("706", "Syddjurs", "M", 43),
    ("707", "Norddjurs", "M", 37),
    ("710", "Favrskov", "M", 49),
    ("727", "Odder", "M", 23),
    ("730", "Randers", "M", 99),
    ("740", "Silkeborg", "M", 98),
    ("741", "Samsø", "M", 3.7),
    ("746", "Skanderborg", "M", 64),
    ("751", "Aarhus", "M", 361),
    ("756", "Ikast-Brande", "M", 42),
    ("760", "Ringkøbing-Skjern", "M", 56),
    ("766", "Hedensted", "M", 47),
    ("779", "Skive", "M", 46),
    ("791", "Viborg", "M", 98),
    ("773", "Morsø", "N", 20),
    ("787", "Thisted", "N", 43),
    ("810", "Brønderslev", "N", 37),
    ("813", "Frederikshavn", "N", 59),
    ("820", "Vesthimmerlands", "N", 36),
    ("825", "Læsø", "N", 1.8),
    ("840", "Rebild", "N", 31),
    ("846", "Mariagerfjord", "N", 42),
    ("849", "Jammerbugt", "N", 38),
    ("851", "Aalborg", "N", 221),
    ("860", "Hjørring", "N", 64),
)

# National calibration (domain README, "National figures").
NATIONAL_STOCK = 520_000  # almene units a municipality assigns to; 11 %/52 ≈ 1,100 a week
RELET_RATE = 0.11  # re-lettings a year / units (2022: 57,862, 11 %)
NATIONAL_HOMELESS = 5_989  # VIVE count, week 6 2024
UNITS_PER_AFDELING = 81
NATIONAL_ORGANISATIONS = 560
FRAME_HOLDERS, FRAME_TOTAL, FRAME_MIN, FRAME_MAX = 30, 1_345, 6, 350
GRANTS = 1_800  # Fonden for blandede byer: subsidy grants in existing units
SUBSIDY_KR = 1414  # 16,965 kr/year (2023) / 12
SUBSIDY_BAND = (4500, 6500)
# Fixed stock (units) and homeless counts of the large cities; None: drawn.
STOCK_ANCHORS = {"101": 56_000, "751": 45_000, "851": 27_000, "461": 24_000}
HOMELESS_ANCHORS = {"101": 1_370, "751": round(0.088 * NATIONAL_HOMELESS), "461": 117}

# Family-unit rent bands, January 2023: (low, high, units). The top band has an exponential tail.
RENT_BANDS = ((2_300, 3_500, 31_300), (3_500, 4_500, 79_500), (4_500, 6_500, 247_500), (6_500, None, 148_000))
TOP_TAIL_KR, TOP_MAX_KR = 1_100, 12_000

AREAS = ("ordinary", "prevention", "disadvantaged", "transformation")
NATIONAL_AREAS = {"prevention": 0.04, "disadvantaged": 0.008, "transformation": 0.005}
BOOSTED_AREAS = {"prevention": 0.15, "disadvantaged": 0.08, "transformation": 0.04}

PRESETS = {
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
"""

EXTRA_OPTIONS = ("with_scores", "week", "name", "default_share")
"""Further overrides: ``with_scores`` (add a ``scores`` table), ``week`` (week of
the year, 2–52, for the ledger), ``name``, ``default_share``."""


def generate(preset: str = "national-week", seed: int = 0, scale: float = 1.0, **overrides) -> dict:
    """Generate one realistic ``anvis/1`` instance document.

    Parameters
    ----------
    preset
        One of :data:`PRESETS`: ``"national-week"``, ``"city-week"``,
        ``"city-year"``, ``"small"``, ``"tiny"``.
    seed
        Seed of ``numpy.random.default_rng``; the same preset, seed, scale and
        overrides give the identical document.
    scale
        Multiplies the numbers of citizens and units (and so the afdelinger,
        frames and quotas that follow from them), e.g. 0.05 for smoke runs.
    **overrides
        Replace preset keys (see :data:`PRESETS`) or set ``with_scores``
        (bool, default False), ``week`` (int), ``name`` (str),
        ``default_share`` (float).

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
    unknown = sorted(set(overrides) - set(PRESETS[preset]) - set(EXTRA_OPTIONS) - {"description"})
    if unknown:
        raise ValueError(f"unknown option {', '.join(map(repr, unknown))} for generate()")
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    cfg = {**PRESETS[preset], **overrides}
    rng = np.random.default_rng(seed)
    name = cfg.get("name") or (f"{preset}-s{seed}" if scale == 1 else f"{preset}-s{seed}-x{scale:g}")
    return _Builder(cfg, rng, float(scale), name).build()


# --------------------------------------------------------------------------- helpers


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing to ``total`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = total * w / w.sum()
    out = np.floor(exact).astype(np.int64)
    rest = total - int(out.sum())
    if rest > 0:
        order = np.lexsort((np.arange(len(w)), -(exact - out)))  # stable: ties by index
        out[order[:rest]] += 1
    return out


def _draw_count(spec, rng) -> int:
    """An int, or a draw from an inclusive ``(low, high)`` range."""
    if isinstance(spec, (tuple, list)):
        lo, hi = spec
        return int(rng.integers(lo, hi + 1))
    return int(spec)


def _pick(rng, probs: list[float], size: int) -> np.ndarray:
    """Category indices with the given probabilities."""
    p = np.asarray(probs, dtype=float)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(size), side="right").clip(0, len(p) - 1)


def _family_rent(q: np.ndarray) -> np.ndarray:
    """Family rents (kr, multiples of 10) at quantiles ``q`` ∈ [0, 1) of the 2023 bands."""
    counts = np.array([b[2] for b in RENT_BANDS], dtype=float)
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


class _Builder:
    """One generation run; methods run in a fixed order so the draws are reproducible."""

    def __init__(self, cfg: dict, rng: np.random.Generator, scale: float, name: str):
        self.cfg, self.rng, self.scale, self.name = cfg, rng, scale, name

    # -- the national profile: stock and homeless of all 98 municipalities
    def national(self):
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

    def select(self):
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
    def frames(self):
        rng, n = self.rng, len(self.codes)
        forced = [int(i) for i in self.sel[:FRAME_HOLDERS]] if self.cfg["municipalities"] else []
        if self.code_index["101"] not in forced:
            forced = [self.code_index["101"]] + forced[: FRAME_HOLDERS - 1]
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
        yearly[holders[free]] = _apportion(budget + FRAME_MIN * int(free.sum()), f[free])
        yearly[holders[~free]] = FRAME_MAX
        self.yearly_frame = yearly
        reg_h = np.bincount(self.region_of, weights=self.homeless, minlength=len(REGIONS))
        self.yearly_grants = _apportion(GRANTS, reg_h)

    # -- counts of this instance
    def counts(self):
        rng, cfg, sel = self.rng, self.cfg, self.sel
        weeks = int(cfg["weeks"])
        self.weeks = weeks
        natural = self.stock[sel] * RELET_RATE * weeks / 52
        units_spec = cfg["units"]
        total_units = natural.sum() if units_spec is None else _draw_count(units_spec, rng)
        n_units = max(1, int(round(total_units * self.scale)))
        n_cit = max(1, int(round(_draw_count(cfg["citizens"], rng) * self.scale)))
        self.units_m = rng.multinomial(n_units, natural / natural.sum()) if len(sel) > 1 else np.array([n_units])
        self.cit_m = _apportion(n_cit, self.homeless[sel])
        self.f = n_units / natural.sum()  # the instance's vacancies over the natural ones
        self.stock_eff = self.stock[sel] * self.f

    # -- afdelinger of the stock, their organisations, and this round's vacancies
    def departments(self):
        rng, cfg = self.rng, self.cfg
        n_afd = np.maximum(1, np.round(self.stock_eff / UNITS_PER_AFDELING)).astype(np.int64)
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
        self.d_ids = [f"afd-{codes[m]}-{k + 1}" for m, k in zip(self.d_m.tolist(), self.d_k.tolist())]
        self.o_ids = [f"bo-{codes[m]}-{o + 1}" for m, o in zip(self.d_m.tolist(), self.d_org.tolist())]

    # -- units (this round's vacancies)
    def units(self):
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
        rent[fam] = _family_rent(q)
        rent[youth] = np.round(rng.uniform(2_400, 4_200, int(youth.sum())) / 10).astype(np.int64) * 10
        rent[eld] = np.round(rng.uniform(4_000, 7_500, int(eld.sum())) / 10).astype(np.int64) * 10
        acc_p = np.where(eld, 0.85, np.where(youth, 0.03, 0.07))
        accessible = rng.random(n) < acc_p
        temporary = rng.random(n) < 0.02
        self.u_dept, self.u_rooms, self.u_rent, self.u_kind = ud, rooms, rent, kind
        self.u_acc, self.u_temp = accessible, temporary

    # -- extended agreements
    def agreements(self):
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
                    }
                )
        self.agr = out

    def pools(self) -> list[str]:
        """The pool of every unit (FORMAT.md §2): first matching agreement, else the default."""
        codes = [self.codes[i] for i in self.sel]
        um = self.d_m[self.u_dept]
        org_ids = np.array(self.o_ids, dtype=object)[self.u_dept]
        pool = np.array([f"default:{codes[m]}:{o}" for m, o in zip(um.tolist(), org_ids.tolist())], dtype=object)
        free = np.ones(len(um), dtype=bool)
        for a in self.agr:
            m = free & (um == codes.index(a["municipality"]))
            if a["organisation"] is not None:
                m &= org_ids == a["organisation"]
            if a["max_rent_kr"] is not None:
                m &= self.u_rent <= a["max_rent_kr"]
            if a["rooms"] is not None:
                m &= np.isin(self.u_rooms, a["rooms"])
            pool[m] = a["id"]
            free &= ~m
        return pool.tolist()

    def ledger(self):
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
    def citizens(self):
        rng = self.rng
        n = int(self.cit_m.sum())
        cm = np.repeat(np.arange(len(self.cit_m)), self.cit_m)
        prio = 1 + _pick(rng, [0.3, 0.4, 0.3], n)
        house = _pick(rng, [0.78, 0.12, 0.06, 0.04], n)  # single, parent+1, parent+2, couple
        wide = rng.random(n) < 0.3
        min_r = np.choose(house, [np.ones(n, int), np.full(n, 2), np.full(n, 3), np.where(wide, 2, 1)])
        max_r = np.choose(house, [np.where(wide, 3, 2), np.full(n, 3), np.where(wide, 5, 4), np.full(n, 3)])
        level = _pick(rng, [0.25, 0.5, 0.25], n)
        lo = np.array([2_800, 3_200, 3_900])[level]
        hi = np.array([3_200, 3_900, 4_500])[level]
        rent = rng.uniform(lo, hi) + np.where((house == 1) | (house == 2), rng.uniform(500, 1_800, n), 0.0)
        max_rent = (np.round(rent / 50) * 50).astype(np.int64)
        eligible = rng.random(n) < 0.45
        vulnerable = rng.random(n) < 0.5
        needs_acc = rng.random(n) < 0.04
        temp = rng.random(n) < 0.2
        kinds = _pick(rng, [0.85, 0.12, 0.03], n)
        barred = np.where(rng.random(n) < np.where(vulnerable, 0.6, 0.3), np.where(rng.random(n) < 1 / 3, 2, 1), 0)
        excl = rng.random(n) < 0.03
        n_pref = _pick(rng, [0.3, 0.3, 0.25, 0.15], n)
        pref_u = rng.random((n, 3))
        excl_u = rng.random(n)
        weights = rng.integers(1, 11, (n, 3))
        # Afdelinger of each municipality, drawn by size.
        by_m = [np.flatnonzero(self.d_m == m) for m in range(len(self.sel))]
        cums = [np.cumsum(self.d_size[d]) / self.d_size[d].sum() if len(d) else None for d in by_m]
        kind_lists = (["family"], ["family", "youth"], ["family", "elderly"])
        barred_lists = ([], ["disadvantaged", "transformation"], ["disadvantaged", "transformation", "prevention"])
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
        self.cit = out
        self.c_m, self.c_min, self.c_max, self.c_rent = cm, min_r, max_r, max_rent
        self.c_elig, self.c_kinds = eligible, kinds

    # -- optional pair scores
    def scores(self) -> list[dict]:
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
                for a, b, s in zip(c[ci, 0].tolist(), us[ui].tolist(), score.tolist()):
                    out.append({"citizen": f"c{a + 1}", "unit": f"u{b + 1}", "score": s})
        return out

    # -- the document
    def build(self) -> dict:
        self.national()
        self.select()
        self.frames()
        self.counts()
        self.departments()
        self.units()
        self.agreements()
        self.ledger()
        self.citizens()
        sel, codes = self.sel, [self.codes[i] for i in self.sel]
        weeks, f = self.weeks, self.f
        # Regions: the quota of the selected municipalities' part of each region's grants.
        regions = []
        for r, (rid, rname) in enumerate(REGIONS):
            mine = sel[self.region_of[sel] == r]
            if not len(mine):
                continue
            part = self.homeless[mine].sum() / self.homeless[self.region_of == r].sum()
            quota = max(1, math.ceil(self.yearly_grants[r] * part * weeks / 52 * f - 1e-9))
            regions.append({"id": rid, "name": rname, "grant_quota": quota})
        municipalities = []
        for i in sel.tolist():
            frame = self.yearly_frame[i]
            slot = math.ceil(frame * weeks / 52 * f - 1e-9) if frame else 0
            municipalities.append(
                {
                    "id": self.codes[i],
                    "name": MUNICIPALITIES[i][1],
                    "region": MUNICIPALITIES[i][2],
                    "subsidy_frame": int(slot),
                }
            )
        orgs, seen = [], set()
        for m, o, oid in sorted(zip(self.d_m.tolist(), self.d_org.tolist(), self.o_ids)):
            if oid not in seen:
                seen.add(oid)
                orgs.append({"id": oid, "name": f"Boligorganisation {o + 1}, {MUNICIPALITIES[sel[m]][1]}"})
        departments = []
        for j, did in enumerate(self.d_ids):
            d = {
                "id": did,
                "organisation": self.o_ids[j],
                "municipality": codes[self.d_m[j]],
                "area": AREAS[self.d_area[j]],
            }
            if not self.d_unlimited[j]:
                d["max_vulnerable"] = int(self.d_mv[j])
            departments.append(d)
        kinds = ("family", "youth", "elderly")
        units = [
            {
                "id": f"u{i + 1}",
                "department": self.d_ids[d],
                "rooms": r,
                "rent_kr": rent,
                "kind": kinds[k],
                "accessible": a,
                "temporary": t,
            }
            for i, (d, r, rent, k, a, t) in enumerate(
                zip(
                    self.u_dept.tolist(),
                    self.u_rooms.tolist(),
                    self.u_rent.tolist(),
                    self.u_kind.tolist(),
                    self.u_acc.tolist(),
                    self.u_temp.tolist(),
                )
            )
        ]
        doc = {
            "format": FORMAT,
            "name": self.name,
            "parameters": {
                "default_share": float(self.cfg.get("default_share", 0.25)),
                "subsidy_amount_kr": SUBSIDY_KR,
                "subsidy_band_kr": list(SUBSIDY_BAND),
                "objective": "lexicographic",
            },
            "regions": regions,
            "municipalities": municipalities,
            "organisations": orgs,
            "departments": departments,
            "units": units,
            "agreements": self.agr,
            "ledger": self.led,
            "citizens": self.cit,
        }
        if self.cfg.get("with_scores", False):
            doc["scores"] = self.scores()
        return doc


# --------------------------------------------------------------------------- a persistent world

#: People hit by homelessness over a year (VIVE, seed 000: between 15,000 and 16,000).
HOMELESS_YEARLY = 15_500
#: New urgent citizens a year beyond the standing count: those hit over the year less
#: those already counted homeless at its start (≈ 183 a week nationally).
HOMELESS_INFLOW = HOMELESS_YEARLY - NATIONAL_HOMELESS


class _StockBuilder(_Builder):
    """The builder with the whole housing stock as its units instead of one round's vacancies.

    Only :meth:`counts` differs: the units are the selected municipalities'
    stock (times ``scale``), spread over the afdelinger by size as the
    vacancies of a round are, so every unit attribute follows the same
    calibration (the rent bands then hold for the stock itself).
    """

    def counts(self):
        rng, cfg, sel = self.rng, self.cfg, self.sel
        self.weeks = 52
        stock = self.stock[sel]
        n_units = max(1, int(round(stock.sum() * self.scale)))
        n_cit = max(1, int(round(_draw_count(cfg["citizens"], rng) * self.scale)))
        self.units_m = rng.multinomial(n_units, stock / stock.sum()) if len(sel) > 1 else np.array([n_units])
        self.cit_m = _apportion(n_cit, self.homeless[sel])
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
      ``RELET_RATE / 52`` (re-letting 11 % a year);
    - :meth:`arrivals`: Poisson(``HOMELESS_INFLOW × scale / 52``) new urgent
      citizens, over the municipalities by homeless count, with the
      generator's citizen attributes (ids ``c<week>-<n>``);
    - :attr:`initial`: the standing urgent list at the start (the homeless
      count, ids ``c0-<n>``).

    Attributes
    ----------
    seed, scale
        As given to :func:`world`.
    municipalities, regions
        ``anvis/1`` records with the yearly subsidy frame and grant quota.
    departments, organisations
        ``anvis/1`` records of the whole stock.
    u_dept, u_rooms, u_rent, u_kind, u_acc, u_temp
        Per unit (id ``u<index + 1>``): afdeling index, rooms, rent (kr),
        kind (0 family, 1 youth, 2 elderly), accessible, temporary.
    agreements
        The generator's drawn extended agreements (København and about 30 %
        of the other municipalities).
    homeless
        Homeless count per municipality code (the weights of the inflow).
    initial
        The urgent list at the start, ``anvis/1`` citizen records.
    """

    KINDS = ("family", "youth", "elderly")

    def __init__(self, b: _StockBuilder, seed: int, scale: float):
        self.seed, self.scale, self._b = seed, scale, b
        sel, codes = b.sel, [b.codes[i] for i in b.sel]
        self.codes = codes
        self.regions = []
        for r, (rid, rname) in enumerate(REGIONS):
            mine = sel[b.region_of[sel] == r]
            if not len(mine):
                continue
            part = b.homeless[mine].sum() / b.homeless[b.region_of == r].sum()
            quota = max(1, math.ceil(b.yearly_grants[r] * part * b.f - 1e-9))
            self.regions.append({"id": rid, "name": rname, "grant_quota": quota})
        self.municipalities = []
        for i in sel.tolist():
            frame = b.yearly_frame[i]
            self.municipalities.append(
                {
                    "id": b.codes[i],
                    "name": MUNICIPALITIES[i][1],
                    "region": MUNICIPALITIES[i][2],
                    "subsidy_frame": int(math.ceil(frame * b.f - 1e-9)) if frame else 0,
                }
            )
        self.organisations, seen = [], set()
        for m, o, oid in sorted(zip(b.d_m.tolist(), b.d_org.tolist(), b.o_ids)):
            if oid not in seen:
                seen.add(oid)
                self.organisations.append(
                    {"id": oid, "name": f"Boligorganisation {o + 1}, {MUNICIPALITIES[sel[m]][1]}"}
                )
        self.departments = []
        for j, did in enumerate(b.d_ids):
            d = {"id": did, "organisation": b.o_ids[j], "municipality": codes[b.d_m[j]], "area": AREAS[b.d_area[j]]}
            if not b.d_unlimited[j]:
                d["max_vulnerable"] = int(b.d_mv[j])
            self.departments.append(d)
        self.dept_index = {d["id"]: j for j, d in enumerate(self.departments)}
        self.u_dept, self.u_rooms, self.u_rent = b.u_dept, b.u_rooms, b.u_rent
        self.u_kind, self.u_acc, self.u_temp = b.u_kind, b.u_acc, b.u_temp
        self.agreements = b.agr
        self.homeless = {c: float(h) for c, h in zip(codes, b.homeless[sel].tolist())}
        self._inflow_share = float(b.homeless[sel].sum() / b.homeless.sum())
        self.initial = self._rename(b.cit, 0)

    @property
    def n_units(self) -> int:
        """Units in the stock."""
        return len(self.u_dept)

    @staticmethod
    def _rename(citizens: list[dict], week: int) -> list[dict]:
        for i, c in enumerate(citizens):
            c["id"] = f"c{week}-{i + 1}"
        return citizens

    def vacancies(self, week: int) -> np.ndarray:
        """Indices of the units that become vacant in ``week`` (1-based), ascending."""
        rng = np.random.default_rng([self.seed, week, 1])
        return np.flatnonzero(rng.random(self.n_units) < RELET_RATE / 52)

    def arrivals(self, week: int) -> list[dict]:
        """The urgent citizens arriving in ``week`` (1-based), ``anvis/1`` records."""
        rng = np.random.default_rng([self.seed, week, 2])
        b = self._b
        n = int(rng.poisson(HOMELESS_INFLOW * self.scale * self._inflow_share / 52))
        h = b.homeless[b.sel]
        b.rng, b.cit_m = rng, rng.multinomial(n, h / h.sum())
        b.citizens()
        return self._rename(b.cit, week)

    def unit_ids(self, units) -> list[str]:
        """The ids of unit indices."""
        return [f"u{i + 1}" for i in np.asarray(units).tolist()]

    def instance(
        self, name: str, units, citizens: list[dict], agreements: list[dict], default_share: float = 0.25
    ) -> dict:
        """One round's ``anvis/1`` document: these vacant units and the citizens waiting.

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
        rooms, rent, kind = self.u_rooms[units].tolist(), self.u_rent[units].tolist(), self.u_kind[units].tolist()
        acc, temp, dept = self.u_acc[units].tolist(), self.u_temp[units].tolist(), self.u_dept[units].tolist()
        return {
            "format": FORMAT,
            "name": name,
            "parameters": {
                "default_share": float(default_share),
                "subsidy_amount_kr": SUBSIDY_KR,
                "subsidy_band_kr": list(SUBSIDY_BAND),
                "objective": "lexicographic",
            },
            "regions": [dict(r) for r in self.regions],
            "municipalities": [dict(m) for m in self.municipalities],
            "organisations": [o for o in self.organisations if o["id"] in org_ids],
            "departments": [dict(d) for d in departments],
            "units": [
                {
                    "id": f"u{i + 1}",
                    "department": self.departments[d]["id"],
                    "rooms": r,
                    "rent_kr": p,
                    "kind": self.KINDS[k],
                    "accessible": a,
                    "temporary": t,
                }
                for i, d, r, p, k, a, t in zip(units.tolist(), dept, rooms, rent, kind, acc, temp)
            ],
            "agreements": [dict(a) for a in agreements],
            "ledger": [],
            "citizens": citizens,
        }


def world(
    seed: int = 0, scale: float = 1.0, municipalities=None, agreement_rate: float = 0.3, areas: dict | None = None
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
        ``None`` (all 98) or a tuple of kommune codes.
    agreement_rate
        Chance that a municipality other than København has drawn extended
        agreements (:attr:`World.agreements`).
    areas
        Share of afdelinger per non-ordinary area class (national by default).

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
    cfg = {
        **PRESETS["national-week"],
        "municipalities": municipalities,
        "agreement_rate": agreement_rate,
        "areas": areas or NATIONAL_AREAS,
    }
    b = _StockBuilder(cfg, np.random.default_rng(seed), float(scale), f"world-s{seed}")
    b.national()
    b.select()
    b.frames()
    b.counts()
    b.departments()
    b.units()
    b.agreements()
    b.citizens()
    return World(b, seed, float(scale))


def duplicated(doc: dict, k_units: int, k_citizens: int) -> dict:
    """A copy of an instance document with every unit k_units times and every citizen
    k_citizens times (ids suffixed ``~0``, ``~1``, …): afdelinger of identical flats and
    urgent lists of citizens with identical needs, where aggregation applies.

    ``scores`` and ``overrides`` name the old ids, so the copy has neither.
    """
    out = {k: v for k, v in doc.items() if k not in ("scores", "overrides")}
    out["units"] = [dict(u, id=f"{u['id']}~{i}") for u in doc.get("units", []) for i in range(k_units)]
    out["citizens"] = [dict(c, id=f"{c['id']}~{i}") for c in doc.get("citizens", []) for i in range(k_citizens)]
    return out
