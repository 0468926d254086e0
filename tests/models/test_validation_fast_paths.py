"""The fast checks of :mod:`models.validate` decide only whether to word problems, never how.

Relations (unique ids, references, rooms), too-large numbers and JSON integers are first
checked a whole column at a time; only a document with some problem is walked record by
record, and that walk words the problems. These tests put a problem exactly where each
fast check must see it, next to values it must pass over, and pin the whole list of lines
(text and order), so a fast check that wrongly passes, or wrongly fails and crashes, is caught.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

import models
from models.io import parse_json
from models.schema import Accepted, id_problem, ids_fine
from models.validate import MAX_INT, InstanceError, LongInteger, UnknownFieldWarning

from conftest import doc

SRC = "in/fast.json"


def base(**tables) -> dict:
    return doc([{"id": "c1"}, {"id": "c2"}], [{"id": "u1"}, {"id": "u2"}], **tables)


def lines(document) -> list[str]:
    with pytest.raises(InstanceError) as info:
        models.from_dict(document, SRC)
    return [str(p) for p in info.value.problems]


def test_a_valid_document_passes_every_fast_check():
    d = base()
    d["citizens"][0].update(
        max_rooms=3, min_rooms=3, excluded_departments=["D"], preferences=[{"department": "D", "weight": 1}]
    )
    inst = models.from_dict(d, SRC)
    assert inst.citizens[0].max_rooms == 3 and inst.citizens[0].preferences[0].department == "D"


def test_citizens_references_and_rooms_are_worded_in_record_order():
    d = base()
    d["citizens"][0].update(
        min_rooms=3, max_rooms=2, preferences=[{"department": "D", "weight": 1}, {"department": "X", "weight": 1}]
    )
    d["citizens"][1].update(municipality="N", excluded_departments=["D", "Y"], min_rooms=4, max_rooms=1)
    assert lines(d) == [
        "citizens[0].preferences[1].department: unknown department 'X'",
        "citizens[0].max_rooms: 2 is less than min_rooms 3",
        "citizens[1].municipality: unknown municipality 'N'",
        "citizens[1].excluded_departments[1]: unknown department 'Y'",
        "citizens[1].max_rooms: 1 is less than min_rooms 4",
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("excluded_departments", ["D", "Z"], "citizens[1].excluded_departments[1]: unknown department 'Z'"),
        (
            "preferences",
            [{"department": "Z", "weight": 2}],
            "citizens[1].preferences[0].department: unknown department 'Z'",
        ),
        ("municipality", "Z", "citizens[1].municipality: unknown municipality 'Z'"),
    ],
)
def test_each_citizen_reference_alone_is_seen(field, value, expected):
    d = base()
    d["citizens"][1][field] = value
    assert lines(d) == [expected]


def test_rooms_out_of_order_alone_are_seen_with_every_reference_known():
    d = base()
    d["citizens"][1].update(min_rooms=2, max_rooms=1)
    assert lines(d) == ["citizens[1].max_rooms: 1 is less than min_rooms 2"]


@pytest.mark.parametrize("min_rooms", ["3", 2.5, None, True, [3]])
def test_rooms_of_other_types_are_the_schema_checks_only(min_rooms):
    """A min_rooms that is not a whole number is a type error, not also a comparison (and no crash)."""
    d = base()
    d["citizens"][1].update(min_rooms=min_rooms, max_rooms=1)
    got = lines(d)
    assert len(got) == 1 and got[0].startswith("citizens[1].min_rooms: ")


def test_a_bool_max_rooms_is_a_type_error_only():
    d = base()
    d["citizens"][1].update(min_rooms=2, max_rooms=True)
    got = lines(d)
    assert len(got) == 1 and got[0].startswith("citizens[1].max_rooms: ")


@pytest.mark.parametrize(
    ("table", "field", "known"),
    [
        ("municipalities", "region", "R"),
        ("departments", "organisation", "O"),
        ("departments", "municipality", "M"),
        ("units", "department", "D"),
        ("citizens", "municipality", "M"),
    ],
)
def test_an_unhashable_reference_is_a_type_error_and_other_references_are_still_checked(table, field, known):
    d = base()
    d[table].append({**d[table][0], "id": "new", field: ["not", "an", "id"]})
    d[table].append({**d[table][0], "id": "new2", field: "missing"})
    got = lines(d)
    n = len(d[table])
    assert got[0].startswith(f"{table}[{n - 2}].{field}: ")  # the type error
    assert (
        f"{table}[{n - 1}].{field}: unknown {field.rstrip('s') if field != 'department' else 'department'} 'missing'"
        in got
    )
    assert known  # the table's own reference in base() stays valid


def test_an_id_no_copy_could_keep_is_not_also_unknown():
    d = base()
    d["units"][1]["department"] = "a;b"
    got = lines(d)
    assert len(got) == 1 and got[0].startswith("units[1].department: an id must not hold ';'")


@pytest.mark.parametrize("value", ["", None, 7])
def test_empty_missing_or_mistyped_references_are_not_unknown_ids(value):
    d = base()
    d["departments"][0]["organisation"] = value
    got = lines(d)
    assert len(got) == 1 and got[0].startswith("departments[0].organisation: ")
    assert "unknown" not in got[0]


def test_duplicate_ids_are_worded_with_their_first_place():
    d = base()
    d["units"].append({**d["units"][0]})
    d["citizens"].append({**d["citizens"][1]})
    d["citizens"].append({**d["citizens"][0]})
    assert lines(d) == [
        "units[2].id: duplicate id 'u1' (first at units[0])",
        "citizens[2].id: duplicate id 'c2' (first at citizens[1])",
        "citizens[3].id: duplicate id 'c1' (first at citizens[0])",
    ]


def test_an_id_repeated_beside_records_without_one_is_seen():
    d = base()
    d["regions"] += [{"name": "no id"}, {"id": "R"}]
    got = lines(d)
    assert "regions[2].id: duplicate id 'R' (first at regions[0])" in got
    assert any(line.startswith("regions[1].id: required field is missing") for line in got)


def test_whole_numbers_above_the_limit_are_found_in_lists_and_fields_only():
    d = base(
        agreements=[{"id": "all", "municipality": "M", "share": 1.0, "rooms": [2, MAX_INT + 1]}],
        ledger=[{"pool": "all", "vacancies_before": MAX_INT, "claimed_before": 0}],
    )
    d["citizens"][0]["priority"] = MAX_INT + 2
    assert lines(d) == [
        f"agreements[0].rooms[1]: {MAX_INT + 1} is too large (at most {MAX_INT})",
        f"citizens[0].priority: {MAX_INT + 2} is too large (at most {MAX_INT})",
    ]


def test_a_large_float_or_text_in_an_integer_field_is_a_type_error_only():
    d = base()
    d["units"][0]["rooms"] = 1e300
    d["units"][1]["rooms"] = "9" * 20
    got = lines(d)
    assert [line.split(":")[0] for line in got] == ["units[0].rooms", "units[1].rooms"]
    assert not any("too large" in line for line in got)


# --------------------------------------------------------------------------- JSON integers


def test_json_integers_are_read_by_the_c_parser_and_long_ones_kept_as_digits():
    assert parse_json(b'{"a": [1, -2, 30000000000000000000]}', "x") == {"a": [1, -2, 30000000000000000000]}
    doc_ = parse_json(('{"a": 1, "b": ' + "7" * 5000 + "}").encode(), "x")
    assert isinstance(doc_["b"], LongInteger) and doc_["b"] == "7" * 5000 and doc_["a"] == 1


def test_a_long_integer_after_a_repeated_key_reports_the_key_once():
    """The second parse (for the long integer) counts repeated keys afresh."""
    text = '{"a": 1, "a": 2, "b": ' + "7" * 5000 + "}"
    with pytest.raises(InstanceError) as info:
        parse_json(text, "x")
    assert [str(p) for p in info.value.problems] == ["a: given 2 times in one object (1, 2); a key may appear once"]


def test_a_long_integer_in_a_file_is_reported_at_its_place(tmp_path):
    d = base()
    path = tmp_path / "long.json"
    path.write_text(json.dumps(d).replace('"rent_kr": 3000', '"rent_kr": ' + "9" * 5000, 1), encoding="utf-8")
    with pytest.raises(InstanceError) as info:
        models.load(path)
    assert [str(p) for p in info.value.problems] == [
        f"units[0].rent_kr: a 5000-digit number is too large (at most {MAX_INT})"
    ]


# --------------------------------------------------------------------------- ids checked at once


def test_a_regex_blank_is_exactly_what_strip_removes():
    """``ids_fine`` finds blanks at an id's ends with ``\\s``: the same characters as :meth:`str.strip`."""
    blank = re.compile(r"\s")
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        assert (blank.match(c) is not None) == c.isspace() == (f"{c}a".strip() == "a"), hex(code)


@pytest.mark.parametrize(
    "bad",
    [" a", "a ", "\u00a0a", "a\u2003", "a;b", "a\tb", "a\x00b", "a\x85", "\ud800", "a\x7f", "\x1fa", "a\n"],
)
def test_ids_checked_at_once_refuse_what_id_problem_refuses(bad):
    assert id_problem(bad) is not None
    fine = [f"x{i}" for i in range(50)] + ["with blank inside", "é-ø"]
    assert ids_fine(fine) and not ids_fine([*fine, bad]) and not ids_fine([bad])
    assert not ids_fine([bad, *fine])


@pytest.mark.parametrize("good", ["a b", "Ærø kommune", "x\u00a0y", "", "a:b", "1"])
def test_ids_checked_at_once_accept_what_id_problem_accepts(good):
    assert id_problem(good) is None
    assert ids_fine([good]) and ids_fine(["first", good, "last"])


def test_accepted_ids_keep_every_message_and_start_afresh_when_full():
    checked = Accepted(id_problem, limit=3)
    assert checked["a"] == "a" and "a" in checked
    for _ in range(2):  # a refused id is not kept: the same message each time
        with pytest.raises(ValueError, match="list separator"):
            checked["a;b"]
    assert "a;b" not in checked
    checked.keep(["b", "c"])
    assert set(checked) == {"a", "b", "c"}
    checked.keep(["d"])  # beyond the limit: the cache starts afresh
    assert set(checked) == {"d"}
    checked.keep(["e", "f", "g", "h"])  # more than the limit at once: none kept
    assert set(checked) == set()


def test_a_document_of_ids_refused_and_accepted_reads_as_before():
    d = base()
    d["units"][1]["id"] = "u2 "
    d["departments"].append({"id": "D 2", "organisation": "O", "municipality": "M"})
    got = lines(d)
    assert got == [
        "units[1].id: an id must not start or end with a blank (a CSV or xlsx copy would lose it) (got 'u2 ')"
    ]
    d["units"][1]["id"] = "u2"
    inst = models.from_dict(d, SRC)
    assert [x.id for x in inst.departments] == ["D", "D 2"]


@pytest.mark.parametrize(
    "values",
    [
        [float("nan"), MAX_INT + 1],
        [3, float("nan"), MAX_INT + 1],
        [MAX_INT + 1, float("inf")],
        ["text", MAX_INT + 1],
        [[2], MAX_INT + 1],
        [None, 0, False, MAX_INT + 1],
    ],
)
def test_a_whole_number_above_the_limit_among_other_values_is_found(values):
    """The one comparison of the common case passes nothing over: mixed values are looked at one by one."""
    d = base()
    d["citizens"] = [
        {"id": f"c{i}", "municipality": "M", "max_rent_kr": 5000, "priority": v} for i, v in enumerate(values)
    ]
    at = len(values) - 1 if values[-1] == MAX_INT + 1 else 0
    assert f"citizens[{at}].priority: {MAX_INT + 1} is too large (at most {MAX_INT})" in lines(d)


def test_an_array_built_in_memory_is_a_type_error_not_a_crash():
    np = pytest.importorskip("numpy")
    d = base()
    d["units"][0]["rooms"] = np.array([1, 2])
    got = lines(d)
    assert len(got) == 1 and got[0].startswith("units[0].rooms: ")


@pytest.mark.parametrize("table", ["units", "citizens"])
def test_a_version_1_document_ignores_a_version_2_field_on_one_record_only(table):
    field, value = {"units": ("offered", True), "citizens": ("homeless", True)}[table]
    d = base()
    d[table][1][field] = value
    with pytest.warns(UnknownFieldWarning, match=rf"{table}\[\*\]\.{field}"):
        inst = models.from_dict(d, SRC)
    assert getattr(getattr(inst, table)[1], field) is False  # ignored: the version-1 default


def test_a_version_1_table_with_a_text_for_a_record_is_still_a_type_error():
    d = base()
    d["units"].append("offered")  # a text naming a version-2 field is no record
    got = lines(d)
    assert len(got) == 1 and got[0].startswith("units[2]: ")


# --------------------------------------------------------------------------- texts checked at once


def test_the_text_fields_checked_at_once_are_every_text_field_of_a_record():
    from models.schema import _TEXT, RECORD_OF
    from models.validate import _TEXT_FIELDS

    def texts(model: type) -> set[str]:
        return {
            n
            for n, f in model.model_fields.items()
            if any(getattr(m, "func", None) == _TEXT.__getitem__ for m in f.metadata)
        }

    found = {(table, name) for table, model in RECORD_OF.items() for name in texts(model)}
    assert found == set(_TEXT_FIELDS) and texts(models.schema.Body) == {"name"}


@pytest.mark.parametrize("bad", ["a\x00b", "\x1f", "line\rbreak", "\ud800", "tab\x0bvertical"])
@pytest.mark.parametrize(
    ("table", "field"), [("regions", "name"), ("municipalities", "name"), ("organisations", "name")]
)
def test_a_text_refused_among_texts_checked_at_once_is_worded_as_before(bad, table, field):
    from models.schema import _TEXT, text_problem

    d = base()
    d[table][0][field] = bad
    d["name"] = "fine: a name"
    _TEXT.clear()  # a fresh process: nothing accepted yet
    got = lines(d)
    assert got == [f"{table}[0].{field}: {text_problem(bad)} (got {bad!r})"]
    assert bad not in _TEXT  # a refused text is never remembered


def test_texts_checked_at_once_are_remembered_only_when_all_are_fine():
    from models.schema import _TEXT, accept_texts

    _TEXT.clear()
    accept_texts(["Ærø", "kl. 10:00", "tab\there", "new\nline", 7, None])
    assert {"Ærø", "kl. 10:00", "tab\there", "new\nline"} <= _TEXT.keys() and 7 not in _TEXT
    accept_texts(["other", "bad\x01"])
    assert "other" not in _TEXT
