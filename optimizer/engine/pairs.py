"""Eligible (citizen, unit) pairs: rules 2–8 of FORMAT.md §3, vectorised.

Only citizens and units of the same municipality are ever paired (rule 2), so
candidates are generated per municipality and filtered on whole arrays in
chunks; memory stays bounded on city-sized instances.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.engine.data import ProblemData, member_of

# Why a candidate pair (same municipality) is not eligible; 0 = eligible.
ELIGIBLE = 0
#: Per failure code (:func:`failure_codes`): the rule in the caseworker's words, which
#: state the citizen's own attributes (``anvis explain`` only), and in the words of plans
#: and reports, which name the rule and the units, never the citizen's attributes
#: (README "The plan": plans carry ids, priorities and assignments only). The plan
#: wording groups rules 5-7 (accessibility, temporary units, excluded departments and
#: barred areas: health, housing path, social circumstances) and the three ways rule 8
#: fails (which tell whether the citizen may get the subsidy), so that no count in a
#: plan singles out one attribute.
RULES: dict[int, tuple[str, str]] = {
    1: ("rooms outside the citizen's min_rooms..max_rooms (rule 3)", "outside the room rule (rule 3)"),
    2: ("unit kind not among the citizen's kinds (rule 4)", "outside the unit-kind rule (rule 4)"),
    3: ("not accessible, citizen needs accessible (rule 5)", "outside the unit-feature and area rules (rules 5-7)"),
    4: (
        "temporary unit, citizen does not accept temporary (rule 6)",
        "outside the unit-feature and area rules (rules 5-7)",
    ),
    5: ("department excluded for the citizen (rule 7)", "outside the unit-feature and area rules (rules 5-7)"),
    6: ("area class barred for the citizen (rule 7)", "outside the unit-feature and area rules (rules 5-7)"),
    7: ("rent above max_rent_kr, citizen not subsidy-eligible (rule 8)", "outside the rent and subsidy rule (rule 8)"),
    8: ("rent above max_rent_kr and outside the subsidy band (rule 8)", "outside the rent and subsidy rule (rule 8)"),
    9: ("rent above max_rent_kr even with the subsidy (rule 8)", "outside the rent and subsidy rule (rule 8)"),
    10: (
        "rent above max_rent_kr, and no subsidy for this unit kind (rule 8, FORMAT.md §6)",
        "outside the rent and subsidy rule (rule 8)",
    ),
    # A turn is about the units (the organisation's order of vacancies), not the citizen.
    11: (
        "not a turn of the municipality (rotation, FORMAT.md §6)",
        "not a turn of the municipality (rotation, FORMAT.md §6)",
    ),
}
#: The caseworker's wording of each failure code (``anvis explain``, lock refusals).
RULE_TEXT = {code: text for code, (text, _) in RULES.items()}
#: The wording of each failure code in plans and reports: the rule and the units only.
PLAN_RULE_TEXT = {code: text for code, (_, text) in RULES.items()}
#: The failure code of a unit of a rotation pool that is neither a turn nor offered.
NOT_A_TURN = 11

CHUNK = 4_000_000  # candidate pairs filtered at once
FILTER_AFTER = 2  # rules tested on every candidate before the survivors are gathered (see eligible)

#: Citizen or unit indices.
Index = npt.NDArray[np.integer]
#: One float per pair.
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Pairs:
    """The eligible pairs, sorted by citizen then unit.

    Attributes
    ----------
    citizen, unit
        Indices into the instance's citizens and units.
    subsidised
        Whether the pair is only affordable with the huslejetilskud (rule 8).
    score
        The pair's score: the given one, else :func:`default_scores`.
    """

    citizen: Index
    unit: Index
    subsidised: npt.NDArray[np.bool_]
    score: Floats

    def __len__(self) -> int:
        return len(self.citizen)

    def take(self, mask_or_index: npt.NDArray[np.bool_] | npt.NDArray[np.integer]) -> Pairs:
        """The pairs selected by a mask or an index array, in that order."""
        return Pairs(
            self.citizen[mask_or_index],
            self.unit[mask_or_index],
            self.subsidised[mask_or_index],
            self.score[mask_or_index],
        )


def candidates(data: ProblemData, citizens: Index | None = None) -> Iterator[tuple[Index, Index]]:
    """Yield ``(citizen, unit)`` index arrays of all same-municipality pairs, in chunks."""
    if citizens is None:
        citizens = np.arange(data.n_citizens)
    order = np.argsort(data.u_muni, kind="stable")
    n_muni = int(max(data.c_muni.max(initial=-1), data.u_muni.max(initial=-1))) + 1
    per_muni = np.bincount(data.u_muni, minlength=n_muni)
    first = np.concatenate(([0], np.cumsum(per_muni)[:-1]))
    counts = per_muni[data.c_muni[citizens]]
    ends = np.cumsum(counts)
    start = 0
    while start < len(citizens):
        # the largest run of citizens whose candidates fit in one chunk (at least one citizen)
        stop = max(start + 1, int(np.searchsorted(ends, (ends[start - 1] if start else 0) + CHUNK, "right")))
        cs, cnt = citizens[start:stop], counts[start:stop]
        total = int(cnt.sum())
        if total:
            ci = np.repeat(cs, cnt)
            offset = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            ui = order[np.repeat(first[data.c_muni[cs]], cnt) + offset]
            yield ci, ui
        start = stop


def _failures(data: ProblemData) -> list[tuple[int, Callable[[Index, Index], npt.NDArray[np.bool_]]]]:
    """Every failure code with its test on candidate pairs ``(ci, ui)``, in the order codes are given.

    The one place the rules live: :func:`failure_codes` names the first rule a pair
    breaks, :func:`eligible` keeps the pairs that break none.
    """
    p = data.inst.parameters
    low, high = p.subsidy_band_kr

    def dear(ci: Index, ui: Index) -> npt.NDArray[np.bool_]:
        return data.u_rent[ui] > data.c_max_rent[ci]

    def rooms(ci: Index, ui: Index) -> npt.NDArray[np.bool_]:
        r = data.u_rooms[ui]
        return (r < data.c_min_rooms[ci]) | (r > data.c_max_rooms[ci])

    def excluded(ci: Index, ui: Index) -> npt.NDArray[np.bool_]:
        if not len(data.excluded_keys):
            return np.zeros(len(ci), bool)
        return member_of(ci.astype(np.int64) * data.n_departments + data.u_dept[ui], data.excluded_keys)

    def band(ci: Index, ui: Index) -> npt.NDArray[np.bool_]:
        rent = data.u_rent[ui]
        return dear(ci, ui) & ((rent < low) | (rent > high))

    return [
        (1, rooms),
        (2, lambda ci, ui: (data.c_kinds[ci] & data.u_kind[ui]) == 0),
        (3, lambda ci, ui: data.c_needs_acc[ci] & ~data.u_accessible[ui]),
        (4, lambda ci, ui: data.u_temporary[ui] & ~data.c_temp_ok[ci]),
        (5, excluded),
        (6, lambda ci, ui: (data.c_barred[ci] & data.u_area[ui]) != 0),
        (7, lambda ci, ui: dear(ci, ui) & ~data.c_subsidy[ci]),
        (10, lambda ci, ui: dear(ci, ui) & ((data.u_kind[ui] & data.subsidy_kinds) == 0)),
        (8, band),
        (9, lambda ci, ui: dear(ci, ui) & (data.u_rent[ui] - p.subsidy_amount_kr > data.c_max_rent[ci])),
        (NOT_A_TURN, lambda ci, ui: data.pool_rotation[data.u_pool[ui]] & ~data.u_turn[ui]),
    ]


def failure_codes(data: ProblemData, ci: Index, ui: Index) -> npt.NDArray[np.int8]:
    """The first rule each same-municipality pair breaks (see ``RULE_TEXT``), 0 if none.

    Rule 8 is checked before the rotation of FORMAT.md §6 (code ``NOT_A_TURN``), which
    is about the unit alone.
    """
    code = np.zeros(len(ci), dtype=np.int8)
    for c, failed in _failures(data):
        code[(code == 0) & failed(ci, ui)] = c
    return code


def eligible(data: ProblemData, ci: Index, ui: Index) -> Index:
    """The positions of the pairs that break no rule (``failure_codes(...) == ELIGIBLE``).

    The first rules (rooms, kinds), which rule out most candidates, are tested on every
    pair, the others only on the pairs that pass those.
    """
    rules = _failures(data)
    bad = np.zeros(len(ci), bool)
    for _, failed in rules[:FILTER_AFTER]:
        bad |= failed(ci, ui)
    keep: Index = np.flatnonzero(~bad)
    ci, ui = ci[keep], ui[keep]
    bad = np.zeros(len(ci), bool)
    for _, failed in rules[FILTER_AFTER:]:
        bad |= failed(ci, ui)
    return keep[~bad]
    return keep


#: Weights of the default score's parts (see :func:`default_scores`).
SCORE_WEIGHTS = {"pref": 0.45, "rent": 0.25, "rooms": 0.20, "access": 0.10}


def score_parts(data: ProblemData, ci: Index, ui: Index, subsidised: npt.NDArray[np.bool_]) -> dict[str, Floats]:
    """The four parts of the default score of eligible pairs, each in [0, 1].

    Returns
    -------
    dict
        ``{"pref", "rent", "rooms", "access"}`` → array per pair; see :func:`default_scores`.
    """
    p = data.inst.parameters
    pref = np.zeros(len(ci))
    if len(data.pref_keys):
        keys = ci.astype(np.int64) * data.n_departments + data.u_dept[ui]
        pos = np.minimum(np.searchsorted(data.pref_keys, keys), len(data.pref_keys) - 1)
        hit = data.pref_keys[pos] == keys
        wmax = data.pref_max[ci]
        use = hit & (wmax > 0)
        pref[use] = data.pref_weight[pos[use]] / wmax[use]
    limit = data.c_max_rent[ci]
    eff = data.u_rent[ui] - np.where(subsidised, p.subsidy_amount_kr, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rent = np.where(limit > 0, (limit - eff) / np.where(limit > 0, limit, 1), 1.0)
    rent = np.clip(rent, 0.0, 1.0)
    rooms = 1.0 / (1.0 + data.u_rooms[ui] - data.c_min_rooms[ci])
    access = np.where(data.u_accessible[ui] & ~data.c_needs_acc[ci], 0.0, 1.0)
    return {"pref": pref, "rent": rent, "rooms": rooms, "access": access}


def combine(parts: dict[str, Floats]) -> Floats:
    """The default score from its parts (rounding halves up)."""
    # summed in this fixed order so that every caller gets bit-identical floats
    raw = 100.0 * (0.45 * parts["pref"] + 0.25 * parts["rent"] + 0.20 * parts["rooms"] + 0.10 * parts["access"])
    score: Floats = np.floor(raw + 0.5)
    return score


def default_scores(data: ProblemData, ci: Index, ui: Index, subsidised: npt.NDArray[np.bool_]) -> Floats:
    """The engine's match-quality score of eligible pairs, an integer in [0, 100].

    ``round(100 × (0.45·pref + 0.25·rent + 0.20·rooms + 0.10·access))``, rounding
    halves up, where

    - *pref* = the citizen's preference weight for the unit's department divided by
      their largest preference weight (0 without preferences): near network and support;
    - *rent* = share of the citizen's rent limit left after the effective rent
      (1 when the limit is 0): money left to live on;
    - *rooms* = ``1 / (1 + rooms − min_rooms)``: the smallest unit that fits, keeping
      large units for large households;
    - *access* = 0 when an accessible unit would go to a citizen who does not need one,
      else 1: accessible units are scarce.
    """
    return combine(score_parts(data, ci, ui, subsidised))


def eligible_pairs(data: ProblemData) -> Pairs:
    """Every pair that rules 2–8 allow, with its subsidy flag and score (FORMAT.md §4)."""
    cs: list[npt.NDArray[np.int32]] = []
    us: list[npt.NDArray[np.int32]] = []
    for ci, ui in candidates(data):
        ok = eligible(data, ci, ui)
        cs.append(ci[ok].astype(np.int32))
        us.append(ui[ok].astype(np.int32))
    ci = np.concatenate(cs) if cs else np.zeros(0, np.int32)
    ui = np.concatenate(us) if us else np.zeros(0, np.int32)
    # sorted by citizen, then unit, without a sort: candidates come citizen by citizen,
    # each citizen's units in index order (tests/engine/test_eligible.py pins it)
    keys = ci.astype(np.int64) * data.n_units + ui
    subsidised = data.u_rent[ui] > data.c_max_rent[ci]
    given = data.inst.scores
    if not (len(given) and len(ci)):
        return Pairs(ci, ui, subsidised, default_scores(data, ci, ui, subsidised))
    # each row's citizen and unit index, by way of the table's codes (few distinct ids)
    (c_ids, c_code), (u_ids, u_code) = given.citizen_codes, given.unit_codes
    cidx, uidx = data.citizen_index, data.unit_index
    gc = np.array([cidx[c] for c in c_ids], np.int64)[c_code]
    gk = gc * data.n_units + np.array([uidx[u] for u in u_ids], np.int64)[u_code]
    pos = np.searchsorted(keys, gk)
    pos_c = np.minimum(pos, len(keys) - 1)
    hit = keys[pos_c] == gk  # a score never makes an ineligible pair eligible
    at = pos_c[hit]  # distinct: validation refuses a pair scored twice
    # the default score only where no score is given (pair by pair, so the same values
    # as over all pairs): none at all in OR-Library's tables, which score every pair
    rest = np.ones(len(ci), bool)
    rest[at] = False
    score = np.empty(len(ci))
    if rest.any():
        r = np.flatnonzero(rest)
        score[r] = default_scores(data, ci[r], ui[r], subsidised[r])
    score[at] = given.score[hit]
    return Pairs(ci, ui, subsidised, score)
