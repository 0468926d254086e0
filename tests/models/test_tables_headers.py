"""Reading the municipality's own sheets: Danish names, a column map, Danish numbers, rows as shown."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import models
from models.headers import (
    FIELD_NAMES,
    TABLE_NAMES,
    column_lookup,
    find_table,
    header_name,
    normal,
    read_column_map,
)
from models.schema import RECORD_OF, TABLES, Parameters
from models.tables import FIELD_TYPES, PARAMETER_TYPES, PLAN_TYPES, Ambiguous, read_number, to_text

from conftest import doc, write_book

KNOWN = {"parameters": ("key", "value"), **{t: tuple(FIELD_TYPES[t]) for t in TABLES}}


def load_quietly(path, columns=None) -> tuple[models.Instance, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inst = models.load(path, columns)
    return inst, [str(w.message) for w in caught]


def refused(path, columns=None) -> list[str]:
    with pytest.raises(models.InstanceError) as info:
        load_quietly(path, columns)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- the one table of names


def test_every_instance_field_has_a_danish_name():
    """Every field of every table (and every parameter) has a Danish name to write and read."""
    fields = {name for rec in RECORD_OF.values() for name in rec.model_fields} | set(Parameters.model_fields)
    fields |= {"citizen", "unit", "score"}
    assert not sorted(f for f in fields if not FIELD_NAMES.get(f)), "add them to models.headers.FIELD_NAMES"
    assert set(TABLES) | {"parameters"} <= set(TABLE_NAMES)


@pytest.mark.parametrize("table", [*TABLES, "parameters", *PLAN_TYPES])
def test_no_name_means_two_fields_of_one_table(table):
    """A Danish or English name names one field of a table, never two (else reading would guess)."""
    fields = {"parameters": PARAMETER_TYPES}.get(table) or FIELD_TYPES.get(table) or PLAN_TYPES[table]
    lookup = column_lookup(table, fields)
    for name in fields:
        for written in (name, header_name(table, name, "da"), header_name(table, name, "en")):
            assert lookup.find(written) == name, (table, name, written)


@pytest.mark.parametrize(
    ("table", "written", "field"),
    [
        ("citizens", "Max husleje (kr)", "max_rent_kr"),
        ("citizens", "MAX HUSLEJE", "max_rent_kr"),
        ("citizens", "max_husleje", "max_rent_kr"),
        ("citizens", "Maks. husleje, kr.", "max_rent_kr"),
        ("citizens", "max_rent_kr", "max_rent_kr"),
        ("citizens", " Borger ", "id"),
        ("units", "Husleje pr. md.", "rent_kr"),
        ("units", "Bolig", "id"),
        ("units", "Antal værelser", "rooms"),
        ("departments", "Afdeling", "id"),
        ("scores", "Bolig", "unit"),
        ("agreements", "Max husleje", "max_rent_kr"),
    ],
)
def test_matching_ignores_case_blanks_punctuation_and_kr(table, written, field):
    assert column_lookup(table, FIELD_TYPES[table]).find(written) == field


def test_sheet_names_in_either_language():
    assert find_table("Boliger", TABLES) == "units"
    assert find_table(" BORGERE ", TABLES) == "citizens"
    assert find_table("units", TABLES) == "units"
    assert find_table("forbrug_puljer", PLAN_TYPES) == "usage_pools"
    assert find_table("Noter", TABLES) is None
    assert normal("Max husleje (kr.)") == "maxhusleje"


# --------------------------------------------------------------------------- a Danish workbook

DANISH = {
    "Parametre": [["Nøgle", "Værdi"], ["format", "anvis/2"], ["navn", "uge 47"], ["Huslejetilskud", "1.414"]],
    "Regioner": [["Region", "Navn"], ["H", "Hovedstaden"]],
    "Kommuner": [["Kommune", "Navn", "Region", "Tilsagnsramme"], ["101", "København", "H", 2]],
    "Boligorganisationer": [["Boligorganisation", "Navn"], ["fsb", "fsb"]],
    "Afdelinger": [["Afdeling", "Boligorganisation", "Kommune", "Max udsatte"], ["fsb-1", "fsb", "101", 3]],
    "Aftaler": [["Aftale", "Kommune", "Andel"], ["alle", "101", 1]],
    "Boliger": [
        ["Bolig", "Afdeling", "Antal værelser", "Husleje pr. md.", "Tilgængelig", "Noter"],
        ["u1", "fsb-1", 2, "4.500", "ja", "nyistandsat"],
        ["u2", "fsb-1", 3, "6.200,50", "nej", None],
    ],
    "Borgere": [
        ["Borger", "Kommune", "Prioritet", "Max husleje (kr)", "Tilskudsberettiget", "Ønsker", "Telefon"],
        ["c1", "101", 1, "4.000", "ja", "fsb-1:2", "12345678"],
    ],
}
CANONICAL = {
    "format": "anvis/2",
    "name": "uge 47",
    "parameters": {"subsidy_amount_kr": 1414},
    "regions": [{"id": "H", "name": "Hovedstaden"}],
    "municipalities": [{"id": "101", "name": "København", "region": "H", "subsidy_frame": 2}],
    "organisations": [{"id": "fsb", "name": "fsb"}],
    "departments": [{"id": "fsb-1", "organisation": "fsb", "municipality": "101", "max_vulnerable": 3}],
    "agreements": [{"id": "alle", "municipality": "101", "share": 1}],
    "units": [
        {"id": "u1", "department": "fsb-1", "rooms": 2, "rent_kr": 4500, "accessible": True},
        {"id": "u2", "department": "fsb-1", "rooms": 3, "rent_kr": 6200.5, "accessible": False},
    ],
    "citizens": [
        {
            "id": "c1",
            "municipality": "101",
            "priority": 1,
            "max_rent_kr": 4000,
            "subsidy_eligible": True,
            "preferences": [{"department": "fsb-1", "weight": 2}],
        }
    ],
}


def test_a_danish_workbook_reads_as_the_canonical_instance(tmp_path):
    """Danish sheet and column names, ja/nej, 4.500 and 6.200,50 (Danish numbers): the same instance as the JSON."""
    inst, warned = load_quietly(write_book(tmp_path / "uge47.xlsx", DANISH))
    assert inst.sha256 == models.from_dict(CANONICAL).sha256
    assert inst.units[0].rent_kr == 4500 and inst.units[1].rent_kr == 6200.5
    # the columns that name no field, in one line
    assert len(warned) == 1
    assert "Boliger sheet 'Noter', Borgere sheet 'Telefon'" in warned[0] and "--columns" in warned[0]


def test_a_danish_csv_folder_reads_the_same(tmp_path):
    folder = tmp_path / "uge47"
    folder.mkdir()
    for sheet, rows in DANISH.items():
        text = "\n".join(",".join("" if c is None else f'"{c}"' for c in row) for row in rows)
        (folder / f"{sheet.lower()}.csv").write_text(text + "\n", encoding="utf-8")
    inst, _ = load_quietly(folder)
    assert inst.sha256 == models.from_dict(CANONICAL).sha256


@pytest.mark.parametrize(
    ("text", "danish", "value"),
    [
        ("4500", None, 4500),
        ("4.500", True, 4500),
        ("4.500,50", None, 4500.5),
        ("4.500,50", True, 4500.5),
        ("4,5", None, 4.5),
        ("4,500", True, 4.5),
        ("1,234.5", None, 1234.5),
        ("4.5", True, 4.5),
        ("0.500", None, 0.5),
        ("1.234.567", None, 1234567),
        ("4 500 kr", None, 4500),
        ("4\u00a0500", None, 4500),
        ("-4.500,5", None, -4500.5),
        ("12.3450", None, 12.345),
    ],
)
def test_numbers_in_either_notation(text, danish, value):
    got = read_number(text, danish)
    assert got == value and not isinstance(got, str)


@pytest.mark.parametrize("text", ["4.500", "4,500", "12.345", "1.000"])
def test_a_number_that_reads_two_ways_is_ambiguous_outside_a_danish_sheet(text):
    assert isinstance(read_number(text), Ambiguous)


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**15), 10**15))
def test_every_number_anvis_writes_reads_back_the_same_in_any_sheet(x):
    """What a CSV cell holds reads as the same number in a Danish sheet, an English one and one of neither."""
    text = to_text(x)
    for danish in (None, False, True):
        got = read_number(text, danish)
        assert got == x and not isinstance(got, str), (text, danish)


def test_floats_are_written_so_that_they_read_one_way(tmp_path):
    """12.345 would be 12345 in a Danish sheet: it is written 12.3450, which every reader reads as 12.345."""
    assert to_text(12.345) == "12.3450" and to_text(0.125) == "0.125" and to_text(1234.567) == "1234.567"
    d = doc([{"id": "c1"}], [{"id": "u1", "rent_kr": 4012.345}])
    inst = models.from_dict(d)
    models.save(inst, tmp_path / "copy")
    assert models.load(tmp_path / "copy").sha256 == inst.sha256


def test_an_ambiguous_number_is_refused_naming_the_cell(tmp_path):
    """'4.500' under English (field) names is 4500 or 4.5: refused, naming sheet, row and column; never 4.5."""
    sheets = {
        "parameters": [["key", "value"], ["format", "anvis/1"]],
        "regions": [["id"], ["R"]],
        "municipalities": [["id", "region"], ["M", "R"]],
        "organisations": [["id"], ["O"]],
        "departments": [["id", "organisation", "municipality"], ["D", "O", "M"]],
        "units": [["id", "department", "rooms", "rent_kr"], ["u1", "D", 2, "3000"], ["u2", "D", 2, "4.500"]],
        "citizens": [["id", "municipality", "max_rent_kr"], ["c1", "M", 5000]],
    }
    problems = refused(write_book(tmp_path / "x.xlsx", sheets))
    assert len(problems) == 1
    assert problems[0].startswith("units sheet, row 3, column D 'rent_kr': '4.500' is 4500 in Danish notation but 4.5")


# --------------------------------------------------------------------------- missing and mapped columns


def test_a_missing_required_column_is_one_line_with_a_hint(tmp_path):
    """A renamed rent column: one line naming the column and the sheet, and the header that may be it;
    not one 'required field is missing' per row."""
    sheets = dict(DANISH)
    sheets["Borgere"] = [
        ["Borger", "Kommune", "Husleje max kr"],
        *[[f"c{i}", "101", 4000] for i in range(500)],
    ]
    problems = refused(write_book(tmp_path / "x.xlsx", sheets))
    assert problems == [
        "Borgere sheet: the column 'max_rent_kr' (max husleje) is missing: is 'Husleje max kr' it? "
        "Rename it, or map it with --columns MAP.toml"
    ]


def test_a_missing_column_without_a_near_name(tmp_path):
    sheets = dict(DANISH)
    sheets["Borgere"] = [["Borger", "Kommune", "Telefon"], ["c1", "101", "1"]]
    problems = refused(write_book(tmp_path / "x.xlsx", sheets))
    assert problems == [
        "Borgere sheet: the column 'max_rent_kr' (max husleje) is missing: add it, or map the column "
        "that holds it with --columns MAP.toml"
    ]


def test_two_columns_for_one_field_are_refused(tmp_path):
    sheets = dict(DANISH)
    sheets["Boliger"] = [["Bolig", "Afdeling", "Værelser", "Husleje", "rent_kr"], ["u1", "fsb-1", 2, 4000, 4000]]
    assert refused(write_book(tmp_path / "x.xlsx", sheets)) == [
        "Boliger sheet: the columns 'Husleje' and 'rent_kr' both name the field 'rent_kr': keep one"
    ]


def column_map(tmp_path: Path, text: str):
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    return read_column_map(path, KNOWN)


def test_a_column_map_names_the_municipalitys_own_columns(tmp_path):
    """[columns] applies to every sheet, [columns.<sheet>] to one; a field may be given by any of its names."""
    sheets = dict(DANISH)
    sheets["Boliger"] = [["Lejemålsnummer", "Afd.", "Rum", "Leje i alt"], ["u1", "fsb-1", 2, 4500]]
    sheets["Borgere"] = [["Løbenummer", "Kommune", "Loft"], ["c1", "101", 4000]]
    mapping = column_map(
        tmp_path,
        '[columns]\n"Afd." = "department"\n\n[columns.boliger]\n"Lejemålsnummer" = "id"\n"Rum" = "værelser"\n'
        '"Leje i alt" = "husleje"\n\n[columns.citizens]\n"Løbenummer" = "id"\n"Loft" = "max_rent_kr"\n',
    )
    inst, warned = load_quietly(write_book(tmp_path / "x.xlsx", sheets), mapping)
    assert [(u.id, u.department, u.rooms, u.rent_kr) for u in inst.units] == [("u1", "fsb-1", 2, 4500)]
    assert [(c.id, c.max_rent_kr) for c in inst.citizens] == [("c1", 4000)]
    assert warned == []


def test_a_bad_column_map_names_each_entry(tmp_path):
    with pytest.raises(models.InstanceError) as info:
        column_map(
            tmp_path, '[columns]\n"Leje" = "rent"\n"X" = "rnet_kr"\n"B" = "bolig"\n[columns.kontor]\n"a" = "id"\n'
        )
    assert [str(p) for p in info.value.problems] == [
        "columns.X: 'rnet_kr' is not a field (did you mean 'rent_kr'?)",
        "columns.B: 'bolig' names id and unit: map it under [columns.<table>]",
        "columns.kontor: 'kontor' is not a table (parameters, regions, municipalities, organisations, "
        "departments, units, agreements, ledger, citizens, scores, overrides)",
    ]
    with pytest.raises(models.InstanceError, match="not TOML"):
        column_map(tmp_path, "[columns\n")
    with pytest.raises(models.InstanceError, match=r"expected a \[columns\] table"):
        column_map(tmp_path, 'x = "y"\n')


def test_rows_are_named_as_the_spreadsheet_shows_them(tmp_path):
    """A bad cell below a blank row: row 4 of the Danish sheet, column D, with the header as written."""
    sheets = dict(DANISH)
    sheets["Boliger"] = [
        ["Bolig", "Afdeling", "Antal værelser", "Husleje pr. md."],
        ["u1", "fsb-1", 2, 4500],
        [None, None, None, None],
        ["u2", "fsb-1", "to", 4500],
    ]
    problems = refused(write_book(tmp_path / "x.xlsx", sheets))
    assert problems == ["Boliger sheet, row 4, column C 'Antal værelser': Input should be a valid integer (got 'to')"]


def test_a_sheet_that_names_no_table_is_warned_with_the_nearest_name(tmp_path):
    sheets = dict(DANISH)
    sheets["Bolig"] = sheets.pop("Boliger")
    inst, warned = load_quietly(write_book(tmp_path / "x.xlsx", sheets))
    assert inst.units == ()
    hint = "ignoring sheet 'Bolig', which is not a table of anvis/1 (is it 'boliger', the table units?)"
    assert any(hint in w for w in warned), warned
