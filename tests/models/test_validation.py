"""Validation of bad input (models.validate): one test per rule, every error reported.

Every rejected document must raise :class:`models.InstanceError` whose ``lines()``
name the file (the ``source``), the exact field path and the offending value or id,
and list every problem of the document together.
"""

from __future__ import annotations

import json
import math
import warnings

import pytest

import models
from models.validate import MAX_INT, UnknownFieldWarning

from conftest import doc

SRC = "in/round-47.json"


# --------------------------------------------------------------------------- helpers


def base(**tables) -> dict:
    """A valid two-citizen, two-unit document (conftest ``doc``), with tables replaced."""
    return doc([{"id": "c1"}, {"id": "c2"}], [{"id": "u1"}, {"id": "u2"}], **tables)


def errors(document, source: str = SRC) -> models.InstanceError:
    """The InstanceError of an invalid document (fails the test if it is accepted)."""
    with pytest.raises(models.InstanceError) as info:
        models.from_dict(document, source)
    exc = info.value
    assert exc.source == source
    assert exc.problems, "an InstanceError must list at least one problem"
    assert len(exc.lines()) == len(exc.problems)
    for line in exc.lines():
        assert line.startswith(f"{source}: "), line
    return exc


def line_for(exc: models.InstanceError, path: str) -> str:
    """The one reported line whose field path is exactly ``path``."""
    hits = [line for line, p in zip(exc.lines(), exc.problems, strict=True) if p.path == path]
    assert hits, f"no problem at {path!r}; got:\n" + "\n".join(exc.lines())
    assert len(hits) == 1, f"{path!r} reported more than once:\n" + "\n".join(hits)
    assert hits[0].startswith(f"{exc.source}: {path}: "), hits[0]
    return hits[0]


def assert_error(document, path: str, *fragments: str, only: bool = True) -> str:
    """``document`` is rejected at ``path`` with a line containing every fragment.

    With ``only``, that is the document's only problem (no follow-on noise).
    """
    exc = errors(document)
    line = line_for(exc, path)
    for frag in fragments:
        assert frag in line, f"{frag!r} missing from {line!r}"
    if only:
        assert len(exc.problems) == 1, "expected a single problem, got:\n" + "\n".join(exc.lines())
    return line


def with_unit(**fields) -> dict:
    d = base()
    d["units"][1].update(fields)
    return d


def with_citizen(**fields) -> dict:
    d = base()
    d["citizens"][1].update(fields)
    return d


def without(d: dict, table: str, index: int, key: str) -> dict:
    del d[table][index][key]
    return d


# --------------------------------------------------------------------------- sanity


def test_base_document_is_valid():
    """The helper document is valid, so every failure below comes from the one change made."""
    inst = models.from_dict(base(), SRC)
    assert [c.id for c in inst.citizens] == ["c1", "c2"]
    assert [u.id for u in inst.units] == ["u1", "u2"]


# --------------------------------------------------------------------------- top level


def test_top_level_must_be_an_object():
    """A JSON array (or any non-object) at the top level is rejected, naming the file."""
    for raw, kind in (([], "list"), ("anvis/1", "str"), (3, "int"), (None, "NoneType")):
        exc = errors(raw)
        assert len(exc.problems) == 1
        assert "JSON object" in exc.lines()[0] and kind in exc.lines()[0]


def test_invalid_json_syntax(tmp_path):
    """A file that is not JSON is one problem naming the file and the line/column."""
    path = tmp_path / "broken.json"
    path.write_text('{"format": "anvis/1",\n "units": [}\n')
    with pytest.raises(models.InstanceError) as info:
        models.load(path)
    (line,) = info.value.lines()
    assert line.startswith(f"{path}: ") and "not valid JSON" in line and "line 2" in line


def test_missing_file_is_an_instance_error(tmp_path):
    """A path that does not exist is reported as bad input, not an OSError."""
    path = tmp_path / "nope.json"
    with pytest.raises(models.InstanceError) as info:
        models.load(path)
    assert info.value.lines() == [f"{path}: no such file or folder"]


def test_format_is_required():
    """A document without ``format`` is rejected at path ``format``."""
    d = base()
    del d["format"]
    assert_error(d, "format", "required field is missing")


def test_unknown_format_version():
    """Only ``anvis/1`` and ``anvis/2`` are accepted; the offending version is named."""
    assert_error(base(format="anvis/3"), "format", "'anvis/3'", "anvis/1", "anvis/2")


def test_format_must_be_a_string():
    """``format`` given as a number is a type error naming the value."""
    assert_error(base(format=1), "format", "got 1")


def test_table_must_be_a_list():
    """A table given as a number or an object is rejected at the table's path."""
    d = base()
    d["units"] = 5
    assert_error(d, "units", "got 5", only=False)


def test_record_must_be_an_object():
    """A row that is not an object is rejected at its index."""
    d = base()
    d["units"][1] = 5
    assert_error(d, "units[1]", "got 5")


def test_parameters_must_be_an_object():
    """``parameters`` given as a list is rejected."""
    assert_error(base(parameters=[]), "parameters", "got []")


# --------------------------------------------------------------------------- ids


def test_duplicate_citizen_id():
    """Citizen ids are unique; the duplicate and where it first appeared are named."""
    d = base()
    d["citizens"][1]["id"] = "c1"
    assert_error(d, "citizens[1].id", "duplicate", "'c1'", "citizens[0]")


def test_duplicate_unit_id():
    """Unit ids are unique."""
    d = base()
    d["units"][1]["id"] = "u1"
    assert_error(d, "units[1].id", "duplicate", "'u1'")


@pytest.mark.parametrize("table", ["regions", "municipalities", "organisations", "departments", "agreements"])
def test_duplicate_ids_in_every_table(table):
    """Ids are unique within every table, not only citizens and units."""
    d = base()
    d[table] = d[table] + [dict(d[table][0])]
    assert_error(d, f"{table}[1].id", "duplicate", repr(d[table][0]["id"]))


def test_duplicate_id_reported_even_when_record_has_other_errors():
    """A duplicate id is found even if its record also lacks a required field (both reported)."""
    d = base()
    d["units"][1] = {"id": "u1", "department": "D", "rooms": 2}
    exc = errors(d)
    assert "duplicate" in line_for(exc, "units[1].id")
    assert "required field is missing" in line_for(exc, "units[1].rent_kr")


def test_empty_id():
    """Ids are non-empty strings."""
    assert_error(with_unit(id=""), "units[1].id", "got ''")


def test_id_must_be_a_string():
    """An id given as a number is rejected (ids are strings, "101" is not 101)."""
    assert_error(with_citizen(id=7), "citizens[1].id", "got 7")


def test_missing_id():
    """A record without an id is rejected at ``<table>[i].id``."""
    assert_error(without(base(), "units", 1, "id"), "units[1].id", "required field is missing")


# --------------------------------------------------------------------------- references


def test_unit_department_unknown():
    """Every unit's department must exist; the unknown id is named."""
    assert_error(with_unit(department="nowhere"), "units[1].department", "unknown department", "'nowhere'")


def test_citizen_municipality_unknown():
    """Every citizen's municipality must exist."""
    assert_error(with_citizen(municipality="999"), "citizens[1].municipality", "unknown municipality", "'999'")


def test_municipality_region_unknown():
    """Every municipality's region must exist."""
    d = base(municipalities=[{"id": "M", "region": "X"}])
    assert_error(d, "municipalities[0].region", "unknown region", "'X'")


def test_department_references_unknown():
    """A department's organisation and municipality must exist (both reported)."""
    d = base(departments=[{"id": "D", "organisation": "Q", "municipality": "Z"}])
    exc = errors(d)
    assert "'Q'" in line_for(exc, "departments[0].organisation")
    assert "'Z'" in line_for(exc, "departments[0].municipality")
    assert len(exc.problems) == 2


def test_agreement_municipality_and_organisation_unknown():
    """An agreement's municipality and (optional) organisation filter must exist."""
    d = base(agreements=[{"id": "all", "municipality": "Z", "share": 1.0, "organisation": "Q"}])
    exc = errors(d)
    assert "'Z'" in line_for(exc, "agreements[0].municipality")
    assert "'Q'" in line_for(exc, "agreements[0].organisation")


def test_agreement_departments_unknown():
    """Every department of an agreement's ``departments`` filter must exist."""
    d = base(agreements=[{"id": "all", "municipality": "M", "share": 1.0, "departments": ["D", "ghost"]}])
    assert_error(d, "agreements[0].departments[1]", "unknown department", "'ghost'")


def test_agreement_id_may_not_be_a_default_pool():
    """An agreement id that spells a default pool id would make pool ids ambiguous."""
    d = base(agreements=[{"id": "default:M:O", "municipality": "M", "share": 1.0}])
    assert_error(d, "agreements[0].id", "'default:M:O'", "default pool")


def test_preference_to_unknown_department():
    """A citizen's preference must name an existing department."""
    d = with_citizen(preferences=[{"department": "D", "weight": 1}, {"department": "ghost", "weight": 2}])
    assert_error(d, "citizens[1].preferences[1].department", "unknown department", "'ghost'")


def test_excluded_department_unknown():
    """Every excluded department of a citizen must exist."""
    assert_error(
        with_citizen(excluded_departments=["ghost"]),
        "citizens[1].excluded_departments[0]",
        "unknown department",
        "'ghost'",
    )


def test_unknown_ledger_pool():
    """A ledger pool is an agreement id or default:<municipality>:<organisation> of known ids."""
    assert_error(base(ledger=[{"pool": "nope", "vacancies_before": 3}]), "ledger[0].pool", "unknown pool", "'nope'")
    assert_error(base(ledger=[{"pool": "default:M:X"}]), "ledger[0].pool", "unknown pool", "'default:M:X'")


def test_default_ledger_pool_is_known():
    """``default:<municipality>:<organisation>`` of known ids is a valid ledger pool."""
    inst = models.from_dict(base(ledger=[{"pool": "default:M:O", "vacancies_before": 3, "claimed_before": 1}]), SRC)
    assert inst.ledger[0].pool == "default:M:O"


def test_duplicate_ledger_pool():
    """A pool has at most one ledger entry."""
    d = base(ledger=[{"pool": "all", "vacancies_before": 3}, {"pool": "all", "vacancies_before": 1}])
    assert_error(d, "ledger[1].pool", "duplicate pool", "'all'", "ledger[0]")


def test_unknown_score_citizen_and_unit():
    """A score must name an existing citizen and an existing unit (both reported)."""
    exc = errors(base(scores=[{"citizen": "cX", "unit": "uX", "score": 1}]))
    assert "unknown citizen 'cX'" in line_for(exc, "scores[0].citizen")
    assert "unknown unit 'uX'" in line_for(exc, "scores[0].unit")


def test_duplicate_score_pair():
    """A (citizen, unit) pair has at most one score."""
    d = base(
        scores=[
            {"citizen": "c1", "unit": "u1", "score": 1},
            {"citizen": "c2", "unit": "u1", "score": 2},
            {"citizen": "c1", "unit": "u1", "score": 3},
        ]
    )
    assert_error(d, "scores[2]", "duplicate", "'c1'", "'u1'", "scores[0]")


BAD_SCORES = [
    {"citizen": "c1", "unit": "u1", "score": 1},
    {"citizen": "cX", "unit": "u1", "score": 1},
    {"citizen": "c2", "unit": "uY", "score": 1},
    {"citizen": "c1", "unit": "u1", "score": 2},
    {"citizen": "cX", "unit": "uY", "score": 1},
    {"citizen": "cX", "unit": "u1", "score": 3},
    {"citizen": "c2", "unit": "u2", "score": 1},
    {"citizen": "c1", "unit": "u1", "score": 4},
]
BAD_SCORE_LINES = [
    "scores[1].citizen: unknown citizen 'cX'",
    "scores[2].unit: unknown unit 'uY'",
    "scores[3]: duplicate score for citizen 'c1' and unit 'u1' (first at scores[0])",
    "scores[4].citizen: unknown citizen 'cX'",
    "scores[4].unit: unknown unit 'uY'",
    "scores[5].citizen: unknown citizen 'cX'",
    "scores[5]: duplicate score for citizen 'cX' and unit 'u1' (first at scores[1])",
    "scores[7]: duplicate score for citizen 'c1' and unit 'u1' (first at scores[0])",
]


def test_several_bad_score_rows_in_row_order():
    """Unknown ids and duplicates of a score table: every one, row by row, citizen, unit, duplicate."""
    exc = errors(base(scores=BAD_SCORES))
    assert [str(p) for p in exc.problems] == BAD_SCORE_LINES
    assert exc.lines() == [f"{SRC}: {line}" for line in BAD_SCORE_LINES]


def test_bad_score_rows_worded_alike_in_any_table():
    """A table with a malformed row (checked row by row) words its reference problems as a well-formed one."""
    exc = errors(base(scores=[*BAD_SCORES, "not a score"]))
    assert [str(p) for p in exc.problems] == [
        "scores[8]: expected an object, got 'not a score'",
        *BAD_SCORE_LINES,
    ]


# --------------------------------------------------------------------------- missing required fields


@pytest.mark.parametrize(
    "table,key",
    [
        ("units", "rent_kr"),
        ("units", "rooms"),
        ("units", "department"),
        ("citizens", "max_rent_kr"),
        ("citizens", "municipality"),
    ],
)
def test_missing_required_field(table, key):
    """A required field that is absent is reported at its exact path."""
    assert_error(without(base(), table, 1, key), f"{table}[1].{key}", "required field is missing")


def test_missing_agreement_share_and_municipality_region():
    """``agreements[i].share`` and ``municipalities[i].region`` are required."""
    d = base(agreements=[{"id": "all", "municipality": "M"}], municipalities=[{"id": "M"}])
    exc = errors(d)
    assert "required" in line_for(exc, "agreements[0].share")
    assert "required" in line_for(exc, "municipalities[0].region")


def test_missing_score_fields():
    """Every score row needs citizen, unit and score."""
    exc = errors(base(scores=[{"citizen": "c1"}]))
    assert "required field is missing" in line_for(exc, "scores[0].unit")
    assert "required field is missing" in line_for(exc, "scores[0].score")


# --------------------------------------------------------------------------- money (kr)


def test_negative_rent():
    """Rents are >= 0; the offending value is named."""
    assert_error(with_unit(rent_kr=-1), "units[1].rent_kr", "-1")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_rent(value):
    """Rents are finite: NaN and ±Infinity are rejected."""
    assert_error(with_unit(rent_kr=value), "units[1].rent_kr", repr(value))


def test_negative_and_non_finite_max_rent():
    """A citizen's max_rent_kr is >= 0 and finite."""
    assert_error(with_citizen(max_rent_kr=-5), "citizens[1].max_rent_kr", "-5")
    assert_error(with_citizen(max_rent_kr=math.inf), "citizens[1].max_rent_kr", "inf")


def test_rent_given_as_text_or_bool():
    """A rent given as "4800" or true is a type error, not silently converted."""
    assert_error(with_unit(rent_kr="4800"), "units[1].rent_kr", "'4800'")
    assert_error(with_unit(rent_kr=True), "units[1].rent_kr", "True")


def test_agreement_max_rent_negative():
    """An agreement's max_rent_kr filter is >= 0."""
    d = base(agreements=[{"id": "all", "municipality": "M", "share": 1, "max_rent_kr": -3}])
    assert_error(d, "agreements[0].max_rent_kr", "-3")


def test_subsidy_amount_negative():
    """``parameters.subsidy_amount_kr`` is >= 0."""
    assert_error(base(parameters={"subsidy_amount_kr": -5}), "parameters.subsidy_amount_kr", "-5")


def test_nan_and_infinity_in_a_json_file_are_rejected(tmp_path):
    """Python's json reads NaN/Infinity literals; they must still be rejected, with their paths."""
    text = json.dumps(base())
    text = text.replace('"rent_kr": 3000', '"rent_kr": NaN', 1)
    text = text.replace('"max_rent_kr": 5000', '"max_rent_kr": Infinity', 1)
    path = tmp_path / "nan.json"
    path.write_text(text)
    with pytest.raises(models.InstanceError) as info:
        models.load(path)
    exc = info.value
    assert exc.source == str(path)
    assert "nan" in line_for(exc, "units[0].rent_kr")
    assert "inf" in line_for(exc, "citizens[0].max_rent_kr")
    assert len(exc.problems) == 2


# --------------------------------------------------------------------------- shares and band


@pytest.mark.parametrize("share", [1.5, -0.1, math.nan])
def test_agreement_share_outside_0_1(share):
    """An agreement share lies in [0, 1] and is finite."""
    d = base(agreements=[{"id": "all", "municipality": "M", "share": share}])
    assert_error(d, "agreements[0].share", repr(share))


def test_default_share_outside_0_1():
    """``parameters.default_share`` lies in [0, 1]."""
    assert_error(base(parameters={"default_share": 1.5}), "parameters.default_share", "1.5")


def test_share_bounds_are_allowed():
    """Shares 0 and 1 are both valid (the bounds are inclusive)."""
    inst = models.from_dict(
        base(parameters={"default_share": 0}, agreements=[{"id": "all", "municipality": "M", "share": 1}]), SRC
    )
    assert inst.parameters.default_share == 0 and inst.agreements[0].share == 1


def test_subsidy_band_low_above_high():
    """The subsidy band's low bound is <= its high bound; both are named."""
    assert_error(base(parameters={"subsidy_band_kr": [6000, 5000]}), "parameters.subsidy_band_kr", "6000", "5000")


def test_subsidy_band_low_equal_high_is_valid():
    """A one-point band (low == high) is allowed."""
    inst = models.from_dict(base(parameters={"subsidy_band_kr": [5000, 5000]}), SRC)
    assert tuple(inst.parameters.subsidy_band_kr) == (5000, 5000)


def test_subsidy_band_malformed():
    """The band is a pair of finite numbers >= 0."""
    assert errors(base(parameters={"subsidy_band_kr": [6000]})).problems
    assert_error(base(parameters={"subsidy_band_kr": "x"}), "parameters.subsidy_band_kr", "'x'")
    assert_error(base(parameters={"subsidy_band_kr": [-1, 5000]}), "parameters.subsidy_band_kr[0]", "-1")
    assert_error(base(parameters={"subsidy_band_kr": [0, math.nan]}), "parameters.subsidy_band_kr[1]", "nan")


# --------------------------------------------------------------------------- priorities and objective


@pytest.mark.parametrize("priority", [0, -1])
def test_priority_below_one(priority):
    """Priorities are >= 1 (1 is the most urgent)."""
    assert_error(with_citizen(priority=priority), "citizens[1].priority", repr(priority))


@pytest.mark.parametrize("priority", [1.5, 2.0, "1", True, None])
def test_priority_must_be_an_integer(priority):
    """A priority given as 1.5, 2.0, "1", true or null is rejected (strict integers)."""
    assert_error(with_citizen(priority=priority), "citizens[1].priority", repr(priority))


def test_objective_unknown():
    """The objective is "lexicographic" or "weighted"."""
    assert_error(base(parameters={"objective": "best"}), "parameters.objective", "'best'")


def test_weighted_objective_requires_priority_weights():
    """``objective: weighted`` without ``priority_weights`` is rejected."""
    assert_error(base(parameters={"objective": "weighted"}), "parameters.priority_weights", "required", "weighted")


def test_weighted_objective_weights_must_name_every_priority():
    """``priority_weights`` must name every priority present among the citizens; the missing one is named."""
    d = base(parameters={"objective": "weighted", "priority_weights": {"1": 10}})
    d["citizens"][1]["priority"] = 3
    assert_error(d, "parameters.priority_weights", "priority 3")


def test_weighted_objective_empty_weights():
    """An empty ``priority_weights`` names no priority present."""
    assert_error(
        base(parameters={"objective": "weighted", "priority_weights": {}}), "parameters.priority_weights", "priority 1"
    )


def test_weighted_objective_complete_weights_are_valid():
    """Weights for exactly the priorities present (extra ones allowed) are accepted."""
    d = base(parameters={"objective": "weighted", "priority_weights": {"1": 10, "2": 0, "7": 1}})
    d["citizens"][1]["priority"] = 2
    inst = models.from_dict(d, SRC)
    assert inst.parameters.priority_weights == {"1": 10, "2": 0, "7": 1}


@pytest.mark.parametrize("weight", [-5, math.inf, math.nan, "10"])
def test_priority_weight_must_be_finite_and_non_negative(weight):
    """Each weight is a finite number >= 0."""
    d = base(parameters={"objective": "weighted", "priority_weights": {"1": weight}})
    assert_error(d, "parameters.priority_weights.1", repr(weight))


@pytest.mark.parametrize("key", ["one", "0", "01", "-1", "1.0", "²", "٣"])
def test_priority_weight_key_must_be_a_priority(key):
    """Weight keys are positive integers written as decimal strings ("²" must not crash)."""
    d = base(parameters={"objective": "weighted", "priority_weights": {"1": 1, key: 2}})
    assert_error(d, f"parameters.priority_weights.{key}", repr(key))


def test_priority_weights_must_be_an_object():
    """``priority_weights`` given as a list is a type error."""
    d = base(parameters={"objective": "weighted", "priority_weights": [1]})
    assert_error(d, "parameters.priority_weights", "[1]")


# --------------------------------------------------------------------------- scores


@pytest.mark.parametrize("score", [-1, math.nan, math.inf, "5", True, None])
def test_score_must_be_finite_and_non_negative(score):
    """Scores are finite numbers >= 0 (no bools, strings, NaN or Infinity)."""
    d = base(scores=[{"citizen": "c1", "unit": "u1", "score": 1}, {"citizen": "c2", "unit": "u2", "score": score}])
    assert_error(d, "scores[1].score", repr(score))


def test_bad_score_found_in_a_large_table():
    """The fast column path of big score tables still finds one bad row, at its index."""
    citizens = [{"id": f"c{i}"} for i in range(60)]
    units = [{"id": f"u{j}"} for j in range(60)]
    rows = [{"citizen": f"c{i}", "unit": f"u{j}", "score": float(i + j)} for i in range(60) for j in range(60)]
    rows[1234]["score"] = -0.5
    exc = errors(doc(citizens, units, scores=rows))
    assert "-0.5" in line_for(exc, "scores[1234].score")
    assert len(exc.problems) == 1


def test_nan_score_found_in_a_large_table():
    """NaN in a score table that is otherwise well typed is rejected at its row."""
    citizens = [{"id": f"c{i}"} for i in range(30)]
    units = [{"id": f"u{j}"} for j in range(30)]
    rows = [{"citizen": f"c{i}", "unit": f"u{j}", "score": 1} for i in range(30) for j in range(30)]
    rows[-1]["score"] = math.nan
    exc = errors(doc(citizens, units, scores=rows))
    assert "nan" in line_for(exc, f"scores[{len(rows) - 1}].score")


def test_score_ids_must_be_strings():
    """A score naming a citizen by a non-string is rejected (and does not crash the duplicate check)."""
    exc = errors(
        base(scores=[{"citizen": ["c1"], "unit": "u1", "score": 1}, {"citizen": ["c1"], "unit": "u1", "score": 1}])
    )
    assert "['c1']" in line_for(exc, "scores[0].citizen")


def test_scores_must_be_a_list_of_objects():
    """``scores`` is a list, and each row an object."""
    assert_error(base(scores={}), "scores", "{}")
    assert_error(base(scores=[5]), "scores[0]", "5")


# --------------------------------------------------------------------------- rooms and counts


@pytest.mark.parametrize("rooms", [0, -2, 2.5, 2.0, "2", True, None])
def test_unit_rooms_positive_integer(rooms):
    """A unit's rooms is a positive integer (2.5, 2.0, "2", true and null are rejected)."""
    assert_error(with_unit(rooms=rooms), "units[1].rooms", repr(rooms))


@pytest.mark.parametrize("key", ["min_rooms", "max_rooms"])
def test_citizen_rooms_positive_integer(key):
    """A citizen's min_rooms and max_rooms are positive integers."""
    assert_error(with_citizen(**{key: 0}), f"citizens[1].{key}", "0")
    assert_error(with_citizen(**{key: 1.5}), f"citizens[1].{key}", "1.5")


def test_min_rooms_above_max_rooms():
    """min_rooms <= max_rooms; both values are named."""
    assert_error(with_citizen(min_rooms=3, max_rooms=2), "citizens[1].max_rooms", "2", "3")


def test_min_rooms_above_default_max_rooms_is_valid():
    """max_rooms absent (unlimited) or null never conflicts with min_rooms."""
    inst = models.from_dict(with_citizen(min_rooms=5), SRC)
    assert inst.citizens[1].max_rooms is None
    inst = models.from_dict(with_citizen(min_rooms=5, max_rooms=None), SRC)
    assert inst.citizens[1].max_rooms is None


def test_agreement_rooms_filter_positive_integers():
    """An agreement's rooms filter holds positive integers."""
    d = base(agreements=[{"id": "all", "municipality": "M", "share": 1, "rooms": [1, 0]}])
    assert_error(d, "agreements[0].rooms[1]", "0")


@pytest.mark.parametrize(
    "table,record,key",
    [
        ("municipalities", {"id": "M", "region": "R"}, "subsidy_frame"),
        ("regions", {"id": "R"}, "grant_quota"),
        ("departments", {"id": "D", "organisation": "O", "municipality": "M"}, "max_vulnerable"),
    ],
)
def test_negative_frame_quota_and_max_vulnerable(table, record, key):
    """Subsidy frames, grant quotas and mixed-city caps are integers >= 0."""
    assert_error(base(**{table: [{**record, key: -1}]}), f"{table}[0].{key}", "-1")
    assert_error(base(**{table: [{**record, key: 2.5}]}), f"{table}[0].{key}", "2.5")


def test_claimed_before_above_vacancies_before():
    """A ledger's claimed_before <= vacancies_before; both values are named."""
    d = base(ledger=[{"pool": "all", "vacancies_before": 3, "claimed_before": 4}])
    assert_error(d, "ledger[0].claimed_before", "4", "3")


def test_claimed_before_without_vacancies_before():
    """claimed_before > 0 with vacancies_before absent (0) is also rejected."""
    assert_error(base(ledger=[{"pool": "all", "claimed_before": 1}]), "ledger[0].claimed_before", "1", "0")


def test_negative_ledger_count_is_one_problem():
    """A negative vacancies_before is reported once, without a follow-on claimed_before complaint."""
    assert_error(base(ledger=[{"pool": "all", "vacancies_before": -3}]), "ledger[0].vacancies_before", "-3")


@pytest.mark.parametrize("key,value", [("vacancies_before", 2.5), ("claimed_before", True)])
def test_ledger_counts_are_integers(key, value):
    """Ledger counts are strict integers (2.5 and true are rejected)."""
    d = base(ledger=[{"pool": "all", "vacancies_before": 3, key: value}])
    assert_error(d, f"ledger[0].{key}", repr(value))


@pytest.mark.parametrize(
    "table,index,key",
    [
        ("units", 1, "rooms"),
        ("citizens", 1, "priority"),
        ("citizens", 1, "max_rooms"),
    ],
)
def test_integers_beyond_float_precision_are_rejected(table, index, key):
    """Whole numbers above 2**53 are rejected (they would overflow the solver's int64 arrays)."""
    d = base()
    d[table][index][key] = 10**30
    assert_error(d, f"{table}[{index}].{key}", str(10**30), "too large")


def test_huge_ledger_count_is_rejected():
    """A ledger count above 2**53 is rejected at its path."""
    d = base(ledger=[{"pool": "all", "vacancies_before": 10**30}])
    assert_error(d, "ledger[0].vacancies_before", "too large")


def test_integers_up_to_the_limit_are_valid():
    """2**53 itself is still accepted (the limit is inclusive)."""
    d = base(ledger=[{"pool": "all", "vacancies_before": MAX_INT, "claimed_before": MAX_INT}])
    d["units"][1]["rooms"] = MAX_INT
    d["citizens"][1]["priority"] = MAX_INT
    inst = models.from_dict(d, SRC)
    assert inst.units[1].rooms == MAX_INT


# --------------------------------------------------------------------------- bools and enums


@pytest.mark.parametrize("value", [1, 0, "yes", "true", None])
@pytest.mark.parametrize(
    "table,key",
    [
        ("units", "accessible"),
        ("units", "temporary"),
        ("citizens", "vulnerable"),
        ("citizens", "subsidy_eligible"),
        ("citizens", "needs_accessible"),
        ("citizens", "accepts_temporary"),
    ],
)
def test_bools_must_be_true_or_false(table, key, value):
    """Flags are JSON booleans: 1, 0, "yes", "true" or null are rejected, not coerced."""
    d = base()
    d[table][1][key] = value
    assert_error(d, f"{table}[1].{key}", repr(value))


def test_unknown_unit_kind():
    """A unit's kind is family, youth or elderly."""
    assert_error(with_unit(kind="castle"), "units[1].kind", "'castle'")


def test_unknown_citizen_kind():
    """Every kind a citizen accepts is a known unit kind, reported at its index."""
    assert_error(with_citizen(kinds=["family", "castle"]), "citizens[1].kinds[1]", "'castle'")


def test_kinds_must_be_a_list():
    """``kinds`` given as one string is rejected (not read as a list of letters)."""
    assert_error(with_citizen(kinds="family"), "citizens[1].kinds", "'family'")


def test_unknown_department_area():
    """A department's area is one of the four area classes."""
    d = base(departments=[{"id": "D", "organisation": "O", "municipality": "M", "area": "slum"}])
    assert_error(d, "departments[0].area", "'slum'")


def test_unknown_barred_area():
    """Every barred area of a citizen is a known area class."""
    assert_error(with_citizen(barred_areas=["ordinary", "ghetto"]), "citizens[1].barred_areas[1]", "'ghetto'")


def test_preference_weight_and_shape():
    """A preference is an object with a department and a finite weight >= 0."""
    assert_error(
        with_citizen(preferences=[{"department": "D", "weight": -1}]), "citizens[1].preferences[0].weight", "-1"
    )
    assert_error(
        with_citizen(preferences=[{"department": "D"}]),
        "citizens[1].preferences[0].weight",
        "required field is missing",
    )
    assert_error(with_citizen(preferences=["D"]), "citizens[1].preferences[0]", "'D'")


def test_name_must_be_a_string():
    """The instance name, when given, is a string."""
    assert_error(base(name=5), "name", "5")


# --------------------------------------------------------------------------- all errors together


def test_all_errors_of_a_document_are_reported_together():
    """A document with eight different problems reports all eight, not just the first."""
    d = base(
        format="anvis/9",  # 1 unknown version
        parameters={"subsidy_band_kr": [7000, 5000]},  # 2 band low > high
        agreements=[{"id": "all", "municipality": "M", "share": 1.5}],  # 3 share > 1
        ledger=[{"pool": "ghost-pool", "vacancies_before": 1}],  # 4 unknown pool
        scores=[{"citizen": "c1", "unit": "u1", "score": -2}],  # 5 negative score
    )
    d["units"][0]["rent_kr"] = -100  # 6 negative rent
    d["units"][1]["department"] = "ghost-dept"  # 7 unknown reference
    d["citizens"][1]["id"] = "c1"  # 8 duplicate id
    exc = errors(d)
    expected = {
        "format": "'anvis/9'",
        "parameters.subsidy_band_kr": "7000",
        "agreements[0].share": "1.5",
        "ledger[0].pool": "'ghost-pool'",
        "scores[0].score": "-2",
        "units[0].rent_kr": "-100",
        "units[1].department": "'ghost-dept'",
        "citizens[1].id": "'c1'",
    }
    for path, value in expected.items():
        assert value in line_for(exc, path)
    assert len(exc.problems) == 8, "\n".join(exc.lines())
    assert str(exc) == "\n".join(exc.lines())


def test_errors_name_the_loaded_file(tmp_path):
    """models.load reports with the file's path as source, on every line."""
    path = tmp_path / "week.json"
    d = base()
    d["units"][1]["rooms"] = 0
    d["citizens"][0]["municipality"] = "Z"
    path.write_text(json.dumps(d))
    with pytest.raises(models.InstanceError) as info:
        models.load(path)
    assert info.value.lines() == [
        f"{path}: units[1].rooms: Input should be greater than or equal to 1 (got 0)",
        f"{path}: citizens[0].municipality: unknown municipality 'Z'",
    ]


# --------------------------------------------------------------------------- defaults and unknown fields

MINIMAL = {
    "format": "anvis/1",
    "regions": [{"id": "R"}],
    "municipalities": [{"id": "M", "region": "R"}],
    "organisations": [{"id": "O"}],
    "departments": [{"id": "D", "organisation": "O", "municipality": "M"}],
    "units": [{"id": "u", "department": "D", "rooms": 2, "rent_kr": 4000}],
    "agreements": [{"id": "a", "municipality": "M", "share": 0.5}],
    "citizens": [{"id": "c", "municipality": "M", "max_rent_kr": 3000}],
}


def test_defaults_of_format_section_1():
    """Every default listed in FORMAT.md §1 is applied to a minimal document."""
    inst = models.from_dict(json.loads(json.dumps(MINIMAL)), "minimal.json")
    p = inst.parameters
    assert p.default_share == 0.25
    assert p.subsidy_amount_kr == 1414
    assert tuple(p.subsidy_band_kr) == (4500, 6500)
    assert p.objective == "lexicographic"
    assert inst.regions[0].grant_quota is None  # unlimited
    assert inst.municipalities[0].subsidy_frame == 0
    d = inst.departments[0]
    assert d.area == "ordinary" and d.max_vulnerable is None  # unlimited
    u = inst.units[0]
    assert (u.kind, u.accessible, u.temporary) == ("family", False, False)
    a = inst.agreements[0]  # filters not applied
    assert (a.organisation, a.max_rent_kr, a.rooms, a.departments) == (None, None, None, None)
    assert inst.ledger == ()
    c = inst.citizens[0]
    assert c.priority == 1
    assert c.min_rooms == 1 and c.max_rooms is None  # unlimited
    assert (c.vulnerable, c.subsidy_eligible, c.needs_accessible, c.accepts_temporary) == (False,) * 4
    assert tuple(c.kinds) == ("family",)
    assert tuple(c.barred_areas) == () and tuple(c.excluded_departments) == () and tuple(c.preferences) == ()
    assert len(inst.scores) == 0
    assert inst.priorities == (1,)
    # Defaults are written out by to_dict, so a re-read gives the same instance.
    assert models.from_dict(inst.to_dict(), "again.json").sha256 == inst.sha256


def test_a_minimal_document_needs_only_format():
    """Every table defaults to empty; only ``format`` is required at the top level."""
    inst = models.from_dict({"format": "anvis/1"}, "empty.json")
    assert inst.citizens == () and inst.units == () and inst.name == "empty"


def test_unknown_fields_warn_not_error():
    """Fields anvis/1 does not define produce an UnknownFieldWarning naming them, never an error."""
    d = base(comment="hello", scores=[{"citizen": "c1", "unit": "u1", "score": 1, "why": "x"}])
    d["parameters"]["solver_hint"] = 1
    d["units"][0]["floor"] = 3
    d["citizens"][0]["phone"] = "12345678"
    d["citizens"][0]["preferences"] = [{"department": "D", "weight": 1, "note": "near school"}]
    with pytest.warns(UnknownFieldWarning) as record:
        inst = models.from_dict(d, SRC)
    assert inst.units[0].id == "u1"
    text = " ".join(str(w.message) for w in record)
    assert SRC in text
    for field in (
        "comment",
        "parameters.solver_hint",
        "units[*].floor",
        "citizens[*].phone",
        "citizens[*].preferences[*].note",
        "scores[*].why",
    ):
        assert field in text, f"{field} not named in {text!r}"


def test_known_fields_do_not_warn():
    """A document using only anvis/1 fields produces no UnknownFieldWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownFieldWarning)
        models.from_dict(
            base(ledger=[{"pool": "all", "vacancies_before": 1}], scores=[{"citizen": "c1", "unit": "u1", "score": 1}]),
            SRC,
        )


def test_unknown_fields_do_not_hide_errors():
    """An invalid document with extra fields raises InstanceError (the extras do not mask it)."""
    d = base(comment="x")
    d["units"][0]["rooms"] = 0
    assert_error(d, "units[0].rooms", "0")
