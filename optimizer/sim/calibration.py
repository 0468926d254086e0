"""The national and city figures the generator and the simulation are calibrated to.

Every figure is from the domain brief (``shared/domain/README.md``, "National
figures"), with the source seed it cites: seed 001 (housing stock, rents,
re-letting, subsidy frames), seed 002 (homeless citizens' rent level), seed 004
(the 2,000 target, the regional grants, extended agreements) and the VIVE
homeless counts. One place for each figure: :mod:`optimizer.sim.generate`,
:mod:`optimizer.sim.world` and :mod:`optimizer.sim.simulate` import them from here.
"""

from __future__ import annotations

#: The five regions: (id, name).
REGIONS = (("H", "Hovedstaden"), ("S", "Sjælland"), ("SD", "Syddanmark"), ("M", "Midtjylland"), ("N", "Nordjylland"))

#: (kommune code, name, region, population in thousands, rounded): the weights for stock and homeless.
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

# --------------------------------------------------------------------------- housing stock (seed 001)

#: Almene units a municipality assigns to (≈ 506,000 family units plus youth and elderly units).
NATIONAL_STOCK = 520_000
#: Re-lettings a year over units (2022: 57,862 re-lettings, 11 %): 11 %/52 of the stock a week.
RELET_RATE = 0.11
#: Family units under 3,500 kr (January 2023, seed 001): the first of :data:`RENT_BANDS`.
CHEAP_FAMILY_STOCK = 31_300
#: Units per afdeling (≈ 7,000 afdelinger).
UNITS_PER_AFDELING = 81
#: Housing organisations nationally.
NATIONAL_ORGANISATIONS = 560
#: Fixed stock (units) of the large cities; the others are drawn.
STOCK_ANCHORS = {"101": 56_000, "751": 45_000, "851": 27_000, "461": 24_000}
#: Family-unit rent bands, January 2023: (low, high, units). The top band has an exponential tail.
RENT_BANDS = (
    (2_300, 3_500, CHEAP_FAMILY_STOCK),
    (3_500, 4_500, 79_500),
    (4_500, 6_500, 247_500),
    (6_500, None, 148_000),
)
#: Scale (kr) of the top band's exponential tail and the highest family rent drawn.
TOP_TAIL_KR, TOP_MAX_KR = 1_100, 12_000
#: Share of afdelinger per non-ordinary area class: the 2024 lists (12 udsatte, 7 omdannelses-,
#: 63 forebyggelsesområder of ≈ 4–5 afdelinger each among ≈ 7,000).
NATIONAL_AREAS = {"prevention": 0.04, "disadvantaged": 0.008, "transformation": 0.005}
#: Raised area shares for the small presets, so that the area rules show up.
BOOSTED_AREAS = {"prevention": 0.15, "disadvantaged": 0.08, "transformation": 0.04}

# --------------------------------------------------------------------------- homeless citizens (VIVE)

#: Homeless count, week 6 2024 (VIVE): the standing urgent list.
NATIONAL_HOMELESS = 5_989
#: Fixed homeless counts of the large cities (København, Aarhus 8.8 %, Odense); the others are drawn.
HOMELESS_ANCHORS = {"101": 1_370, "751": round(0.088 * NATIONAL_HOMELESS), "461": 117}
#: People hit by homelessness over a year (VIVE, seed 000: between 15,000 and 16,000).
HOMELESS_YEARLY = 15_500
#: New urgent citizens a year beyond the standing count: those hit over the year less
#: those already counted homeless at its start (≈ 183 a week nationally).
HOMELESS_INFLOW = HOMELESS_YEARLY - NATIONAL_HOMELESS

#: ``anvis/2``: share of the urgent list flagged ``homeless``. The list is calibrated to the
#: homeless count, but a municipal urgent list also holds citizens leaving institutions or
#: crisis shelters who are not counted homeless; no source gives the split, so this is an
#: assumption (most of the list).
HOMELESS_SHARE = 0.8
#: ``anvis/2``: citizens' rent limit levels (share, low kr, high kr): those on kontanthjælp can
#: pay about 2,800–3,500 kr a month (seed 002: 2,800 kr on the lowest kontanthjælp, VIVE's 3,500
#: kr), the others up to 3,900 and 4,500 kr. Singles; families add 500–1,800 kr.
RENT_LEVELS_V2 = ((0.4, 2_800, 3_500), (0.35, 3_500, 3_900), (0.25, 3_900, 4_500))
#: ``anvis/2``: share of the units of a rotation pool in a generated week that are ``offered``:
#: turns of an earlier round the municipality still holds (an assumption: few holds).
OFFERED_SHARE = 0.02

# --------------------------------------------------------------------------- subsidy (seeds 001 and 004)

#: Municipal subsidy frames: holders, units in total, smallest and largest frame. ``anvis/1``
#: instances treat them as yearly; ``anvis/2`` instances as totals until spent (tilsagnsrammer).
FRAME_HOLDERS, FRAME_TOTAL, FRAME_MIN, FRAME_MAX = 30, 1_345, 6, 350
#: Fonden for blandede byer: subsidy grants in existing units, over the regions (``anvis/1``:
#: a yearly quota; ``anvis/2``: a total until spent).
GRANTS = 1_800
#: The huslejetilskud a month: 16,965 kr/year (2023) / 12. Written into every generated
#: instance's ``parameters``; the engine reads it from there.
SUBSIDY_KR = 1414
#: The rent band (kr) in which the subsidy applies (``parameters.subsidy_band_kr``).
SUBSIDY_BAND = (4500, 6500)

# --------------------------------------------------------------------------- observed figures (seeds 001 and 004)

#: Rent (kr/month, before subsidy) below which a family unit is "særligt billig" for the 2,000 target.
CHEAP_KR = 3_500
#: Re-lettings in 2022 and those through kommunal anvisning.
RELETTINGS_2022, KOMMUNAL_ANVISNING_2022 = 57_862, 6_732
#: Re-lettings of family units under 3,500 kr in 2022 and those through kommunal anvisning.
CHEAP_RELETTINGS_2022, CHEAP_KOMMUNAL_ANVISNING_2022 = 5_400, 600
#: The target: homeless citizens housed in units under 3,500 kr, and its year.
TARGET_HOMELESS_IN_CHEAP_UNITS, TARGET_YEAR = 2_000, 2025

#: Re-letting rate of the family units under 3,500 kr: 5,400 of 31,300 re-let in 2022 (≈ 17 %
#: a year against 11 % overall, seed 001). ``anvis/2`` instances and worlds re-let them at it.
CHEAP_RELET_RATE = CHEAP_RELETTINGS_2022 / CHEAP_FAMILY_STOCK
