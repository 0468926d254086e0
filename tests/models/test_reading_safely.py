"""Never lose or silently misread data: every way a file used to be misread is refused or kept exactly.

Each test names the item of the issue it guards (5 formulas and merged cells, 6 duplicate
tables and keys, 7 lossless ids, 8 CSV structure and long numbers, 9 the objective's range,
10 wide rows, 11 formula injection, 15 negative zero).
"""

from __future__ import annotations

import json
import math
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

import models
from models.io import dump_json, parse_json
from models.schema import id_problem, text_problem
from models.tables import csv_text, read_csv_folder, read_xlsx, unquote, write_plan_csv, write_plan_xlsx
from models.validate import EXACT, InstanceError, Problem, format_problems

from conftest import doc, write_book

# --------------------------------------------------------------------------- helpers

PARAMETERS = "key,value\nformat,anvis/1\nname,t\n"
TABLES = {
    "parameters.csv": PARAMETERS,
    "regions.csv": "id,name\nR,R\n",
    "municipalities.csv": "id,name,region\nM,M,R\n",
    "organisations.csv": "id,name\nO,O\n",
    "departments.csv": "id,organisation,municipality\nD,O,M\n",
    "agreements.csv": "id,municipality,share\nall,M,1\n",
    "units.csv": "id,department,rooms,rent_kr\nu1,D,2,3000\nu2,D,1,2000\n",
    "citizens.csv": "id,municipality,priority,max_rent_kr\nc1,M,1,5000\nc2,M,2,5000\n",
}


def folder_of(tmp_path: Path, **replace: str) -> Path:
    """A valid CSV folder, some files replaced (``units="..."`` is ``units.csv``)."""
    folder = tmp_path / "csv"
    folder.mkdir()
    files = {**TABLES, **{f"{k}.csv": v for k, v in replace.items()}}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def sheets_of(**replace: list[list]) -> dict[str, list[list]]:
    """The sheets of the valid CSV folder, some replaced."""
    grids = {
        name.removesuffix(".csv"): [line.split(",") for line in text.strip().split("\n")]
        for name, text in TABLES.items()
    }
    return {**grids, **replace}


def refused(path: Path) -> list[Problem]:
    with pytest.raises(InstanceError) as info:
        models.load(path)
    return info.value.problems


def messages(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def base(**tables) -> dict:
    return doc([{"id": "c1"}, {"id": "c2"}], [{"id": "u1"}, {"id": "u2"}], **tables)


def refused_doc(document: dict) -> list[Problem]:
    with pytest.raises(InstanceError) as info:
        models.from_dict(document, "x.json")
    return info.value.problems


# --------------------------------------------------------------------------- 5: formulas and merged cells


def with_cached_values(path: Path, values: dict[str, str]) -> Path:
    """Store a computed value for formulas (as Excel does on saving; openpyxl writes none)."""
    with zipfile.ZipFile(path) as z:
        entries = {info.filename: z.read(info) for info in z.infolist()}
    for name, data in entries.items():
        if name.startswith("xl/worksheets/"):
            text = data.decode()
            for formula, value in values.items():
                text = text.replace(f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>")
            entries[name] = text.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


CITIZENS_WITH_FORMULA = [["id", "municipality", "priority", "max_rent_kr"], ["c1", "M", "=1+2", 5000]]


def test_formula_without_a_stored_value_is_refused_by_cell(tmp_path):
    """Item 5: priority '=1+2' without a computed value was read as empty, i.e. the default 1."""
    book = write_book(tmp_path / "f.xlsx", sheets_of(citizens=CITIZENS_WITH_FORMULA))
    problems = refused(book)
    assert len(problems) == 1, messages(problems)
    assert problems[0].path == "citizens sheet"
    assert "cell C2" in problems[0].message and "'=1+2'" in problems[0].message
    assert "without a computed value" in problems[0].message


def test_formula_with_a_stored_value_reads_that_value(tmp_path):
    """Item 5: the value the spreadsheet computed and stored is the cell's value."""
    book = with_cached_values(write_book(tmp_path / "f.xlsx", sheets_of(citizens=CITIZENS_WITH_FORMULA)), {"1+2": "3"})
    inst = models.load(book)
    assert inst.citizens[0].priority == 3


def test_formula_giving_an_error_is_refused(tmp_path):
    rows = [["id", "municipality", "priority", "max_rent_kr"], ["c1", "M", "=1/0", 5000]]
    book = write_book(tmp_path / "f.xlsx", sheets_of(citizens=rows))
    with zipfile.ZipFile(book) as z:
        entries = {info.filename: z.read(info) for info in z.infolist()}
    name = next(n for n in entries if n.startswith("xl/worksheets/") and b"1/0" in entries[n])
    entries[name] = entries[name].replace(
        b'<c r="C2"><f>1/0</f><v /></c>', b'<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
    )
    with zipfile.ZipFile(book, "w") as z:
        for n, data in entries.items():
            z.writestr(n, data)
    problems = refused(book)
    assert messages(problems) == ["citizens sheet: cell C2 holds the formula '=1/0', which gives the error #DIV/0!"]


def test_merged_cells_in_a_table_are_refused(tmp_path):
    """Item 5: merged cells keep the value only in their first cell; the others were read as empty."""
    book = write_book(
        tmp_path / "m.xlsx",
        sheets_of(units=[["id", "department", "rooms", "rent_kr"], ["u1", "D", 2, 3000], ["u2", None, 1, 2000]]),
    )
    wb = openpyxl.load_workbook(book)
    wb["units"].merge_cells("B2:B3")
    wb.save(book)
    problems = refused(book)
    assert messages(problems) == [
        "units sheet: cells B2:B3 are merged: unmerge them and fill in every cell of the table"
    ]


# --------------------------------------------------------------------------- 6: duplicate tables and keys


@pytest.mark.parametrize("other", ["Citizens .csv", "citizens\u00a0.csv", "CITIZENS.CSV"])
def test_two_csv_files_for_one_table_are_refused(tmp_path, other):
    """Item 6: the last file read used to win silently."""
    folder = folder_of(tmp_path)
    (folder / other).write_text("id,municipality,max_rent_kr\nc9,M,1000\n", encoding="utf-8")
    problems = refused(folder)
    assert [p.path for p in problems] == ["citizens.csv"]
    assert "'citizens.csv'" in problems[0].message and repr(other) in problems[0].message
    assert "keep one" in problems[0].message


def test_two_sheets_for_one_table_are_refused(tmp_path):
    sheets = sheets_of()
    book = write_book(tmp_path / "d.xlsx", {**sheets, "Citizens ": [["id", "municipality", "max_rent_kr"]]})
    problems = refused(book)
    assert [p.path for p in problems] == ["citizens sheet"]
    assert "'citizens' and 'Citizens '" in problems[0].message


def test_duplicate_json_keys_are_refused_at_their_path(tmp_path):
    """Item 6: json.loads keeps the last of two equal keys; anvis refuses them, naming each place."""
    text = json.dumps(base())
    text = text.replace(
        '"citizens": [', '"citizens": [{"id": "x", "municipality": "M", "max_rent_kr": 1}], "citizens": ['
    )
    text = text.replace('"id": "c2"', '"id": "c2", "priority": 1, "priority": 2')
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    problems = refused(path)
    assert [p.path for p in problems] == ["citizens", "citizens[1].priority"]
    assert problems[1].message == "given 2 times in one object (1, 2); a key may appear once"


def test_duplicate_keys_in_a_plan_are_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"format": "anvis-plan/1", "status": "optimal", "status": "error"}', encoding="utf-8")
    with pytest.raises(InstanceError, match="status: given 2 times"):
        models.read_plan(path)


def test_a_document_without_duplicates_parses_as_json_does():
    text = json.dumps(base())
    assert parse_json(text, "x") == json.loads(text)


# --------------------------------------------------------------------------- 7: ids a copy keeps exactly


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("afd-1 ", "start or end with a blank"),
        (" afd-1", "start or end with a blank"),
        ("afd\u00a0", "start or end with a blank"),
        ("a\r\nb", "control character '\\r'"),
        ("a\tb", "control character '\\t'"),
        ("a\x00b", "control character '\\x00'"),
        ("a;b", "';', the list separator"),
    ],
)
def test_ids_that_cannot_round_trip_are_refused(value, fragment):
    """Item 7: 'afd-1 ' became 'afd-1' in a list cell, CR LF became LF in xlsx, ';' split a list."""
    d = base()
    d["departments"][0]["id"] = value
    d["units"][0]["department"] = value
    d["units"][1]["department"] = value
    d["citizens"][0]["excluded_departments"] = ["D ", value]
    problems = refused_doc(d)
    assert [p.path for p in problems] == [
        "departments[0].id",
        "units[0].department",
        "units[1].department",
        "citizens[0].excluded_departments[0]",
        "citizens[0].excluded_departments[1]",
    ]
    assert all(fragment in p.message for p in problems if "excluded" not in p.path), messages(problems)
    assert "blank" in problems[3].message


@pytest.mark.parametrize("value", ["fsb:12", "Æblehaven 3", "0147", "a'b", "=x", "-1", "'quoted"])
def test_ids_that_round_trip_are_accepted(value, tmp_path):
    """FORMAT.md allows any non-empty id: only what no copy can keep is refused."""
    assert id_problem(value) is None
    d = base()
    d["departments"][0]["id"] = value
    d["units"][0]["department"] = value
    d["units"][1]["department"] = value
    d["citizens"][0]["excluded_departments"] = [value]
    inst = models.from_dict(d)
    for target in ("copy", "copy.xlsx", "copy.json"):
        models.save(inst, tmp_path / target)
        assert models.load(tmp_path / target).sha256 == inst.sha256, target


def test_score_ids_are_checked_like_ids():
    problems = refused_doc(base(scores=[{"citizen": "c1 ", "unit": "u1", "score": 1}]))
    assert [p.path for p in problems] == ["scores[0].citizen"]
    assert "blank" in problems[0].message


@pytest.mark.parametrize("value", ["line\r\nbreak", "bell\x07"])
def test_names_a_workbook_cannot_keep_are_refused(value):
    assert text_problem(value)
    d = base()
    d["organisations"][0]["name"] = value
    assert [p.path for p in refused_doc(d)] == ["organisations[0].name"]


def test_names_with_line_breaks_tabs_and_edge_blanks_round_trip(tmp_path):
    d = base()
    d["organisations"][0]["name"] = " two\nlines\tand a tab "
    inst = models.from_dict(d)
    for target in ("copy", "copy.xlsx"):
        models.save(inst, tmp_path / target)
        assert models.load(tmp_path / target).organisations[0].name == " two\nlines\tand a tab "


# ------------------------------------------------------------ 8: CSV structure, long numbers, capped output


def test_wrong_delimiter_is_one_problem(tmp_path):
    """Item 8: a ';'-separated file gave a 'required field is missing' line per field and row."""
    units = "id;department;rooms;rent_kr\n" + "".join(f"u{i};D;2;3000\n" for i in range(100))
    problems = refused(folder_of(tmp_path, units=units))
    assert len(problems) == 1, messages(problems)
    assert problems[0].path == "units.csv"
    assert "separated by ';'" in problems[0].message and "comma-separated" in problems[0].message


def test_wrong_delimiter_in_the_parameters_table(tmp_path):
    problems = refused(folder_of(tmp_path, parameters="key;value\nformat;anvis/1\n"))
    assert [p.path for p in problems] == ["parameters.csv"]
    assert "separated by ';'" in problems[0].message


def test_unbalanced_quote_is_reported_where_it_opens(tmp_path):
    units = 'id,department,rooms,rent_kr\nu1,"D,2,3000\nu2,D,1,2000\nu3,D,1,2000\n'
    problems = refused(folder_of(tmp_path, units=units))
    assert messages(problems) == [
        'units.csv: line 2: a quote (") opens a cell that is never closed (it would run to line 4, the end)'
    ]


def test_stray_quote_after_a_quoted_cell(tmp_path):
    problems = refused(folder_of(tmp_path, units='id,department,rooms,rent_kr\nu1,"D"x,2,3000\n'))
    assert [p.path for p in problems] == ["units.csv"]
    assert problems[0].message.startswith("line 2: badly quoted cell")


def test_zero_byte_file_is_reported_as_empty(tmp_path):
    """Item 8: an empty citizens.csv used to mean 'no citizens'; it is a truncated or failed export."""
    problems = refused(folder_of(tmp_path, citizens=""))
    assert messages(problems) == ["citizens.csv: the file is empty (0 bytes): a table needs at least its header row"]


def test_a_header_only_file_is_an_empty_table(tmp_path):
    inst = models.load(folder_of(tmp_path, citizens="id,municipality,max_rent_kr\n"))
    assert inst.citizens == ()


@pytest.mark.parametrize("field", ["rooms", "rent_kr"])
def test_integer_too_long_to_parse_csv(tmp_path, field):
    """Item 8: 5,000 digits made int() raise, and the whole file failed without a place."""
    row = {"rooms": "2", "rent_kr": "3000", field: "9" * 5000}
    units = f"id,department,rooms,rent_kr\nu1,D,{row['rooms']},{row['rent_kr']}\n"
    problems = refused(folder_of(tmp_path, units=units))
    column = {"rooms": "C", "rent_kr": "D"}[field]
    assert messages(problems) == [
        f"units.csv, row 2, column {column} '{field}': a 5000-digit number is too large (at most {2**53})"
    ]


def test_integer_too_long_to_parse_json(tmp_path):
    path = tmp_path / "long.json"
    path.write_text(json.dumps(base()).replace('"rent_kr": 3000', '"rent_kr": ' + "9" * 5000, 1), encoding="utf-8")
    problems = refused(path)
    assert messages(problems) == [f"units[0].rent_kr: a 5000-digit number is too large (at most {2**53})"]


def test_score_too_long_to_parse_json(tmp_path):
    path = tmp_path / "long.json"
    d = base(scores=[{"citizen": "c1", "unit": "u1", "score": 7}])
    path.write_text(json.dumps(d).replace('"score": 7', '"score": ' + "7" * 5000), encoding="utf-8")
    assert [p.path for p in refused(path)] == ["scores[0].score"]


def test_format_problems_caps_the_lines():
    problems = [Problem(f"units[{i}].rooms", "bad") for i in range(120)]
    lines = format_problems(problems, "f.json")
    assert len(lines) == 51
    assert lines[0] == "f.json: units[0].rooms: bad"
    assert lines[-1] == "f.json: ... and 70 more problems not shown"
    assert len(format_problems(problems, "f.json", limit=None)) == 120
    assert format_problems(problems[:50], "f.json") == InstanceError("f.json", problems[:50]).lines()
    assert format_problems(problems[:51], limit=50)[-1] == "... and 1 more problem not shown"


# --------------------------------------------------------------------------- 9: the objective stays exact


def weighted(weights: dict, **tables) -> dict:
    d = base(**tables)
    d["citizens"][1]["priority"] = 2
    d["parameters"] = {"objective": "weighted", "priority_weights": weights}
    return d


@pytest.mark.parametrize("weight", [1e16, 1e17, 1e200, 1e308])
def test_weights_beyond_exact_doubles_are_refused(weight):
    """Item 9: 1e16 gave wrong plans labelled optimal, 1e200 a worse plan, 1e308 'Infinity' in the plan."""
    problems = refused_doc(weighted({"1": weight, "2": 1}))
    assert [p.path for p in problems] == ["parameters.priority_weights.1"]
    assert "2^53" in problems[0].message and "too large" in problems[0].message


def test_the_weight_bound_is_exact():
    """Two assignments at most, whole numbers, default scores up to 100: weight + 100 < 2^53 / 2."""
    limit = EXACT // 2
    models.from_dict(weighted({"1": limit - 101, "2": 0}))
    assert [p.path for p in refused_doc(weighted({"1": limit - 100, "2": 0}))] == ["parameters.priority_weights.1"]


def test_the_bound_counts_the_scores_resolution():
    """Scores in quarters: the sum is exact in steps of 0.01, so the bound is 100 times lower."""
    scores = [{"citizen": "c1", "unit": "u1", "score": 0.25}]
    limit = EXACT * 0.01 / 2
    models.from_dict(weighted({"1": limit - 101, "2": 0}, scores=scores))
    assert refused_doc(weighted({"1": limit, "2": 0}, scores=scores))


def test_huge_scores_are_refused_at_the_score():
    problems = refused_doc(
        base(scores=[{"citizen": "c1", "unit": "u1", "score": 1}, {"citizen": "c2", "unit": "u2", "score": 1e300}])
    )
    assert [p.path for p in problems] == ["scores[1].score"]


def test_weights_of_absent_priorities_do_not_count():
    models.from_dict(weighted({"1": 10, "2": 1, "3": 1e300}))


def test_plans_are_strict_json(tmp_path):
    """Item 9: a plan with an infinite number is an error, never the non-JSON word Infinity."""
    with pytest.raises(ValueError):
        dump_json({"objective": {"total_score": math.inf}})
    with pytest.raises(ValueError):
        models.write_plan({"gap": math.nan}, tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()


# --------------------------------------------------------------------------- 10: wide rows


def test_a_cell_far_right_costs_neither_time_nor_memory(tmp_path):
    """Item 10: one cell at column XFD per row padded every row to 16,384 cells (836 MB for 41 KB)."""
    rows = [["id", "department", "rooms", "rent_kr"]] + [[f"u{i}", "D", 1, 2000] for i in range(300)]
    book = write_book(tmp_path / "wide.xlsx", sheets_of(units=rows))
    wb = openpyxl.load_workbook(book)
    for r in range(2, 302):
        wb["units"].cell(row=r, column=16384, value="x")
    wb.save(book)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(InstanceError) as info:
            read_xlsx(book)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 10
    assert peak < 30e6, f"peak {peak / 1e6:.0f} MB"
    problems = info.value.problems
    assert len(problems) == 300
    assert str(problems[0]) == "units sheet: row 2 has 16384 cells but only 4 columns are named"


def test_a_wide_header_is_one_problem(tmp_path):
    book = write_book(tmp_path / "wide.xlsx", sheets_of())
    wb = openpyxl.load_workbook(book)
    wb["units"].cell(row=1, column=16384, value="note")
    wb.save(book)
    problems = refused(book)
    assert messages(problems) == ["units sheet: column 5 has no name in the first row (and 16378 more columns)"]


# --------------------------------------------------------------------------- 11: formula injection


INJECTIONS = ['=HYPERLINK("http://x","y")', "+1+2", "-1-2", "@SUM(A1)", "\tlead", "'quoted", "''twice"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_csv_text_is_never_a_formula_and_reads_back(text):
    cell = csv_text(text)
    assert cell.startswith("'")
    assert unquote(cell) == text


@pytest.mark.parametrize("value", [-5, -0.5, 4800, 2.5])
def test_numbers_stay_numbers_in_csv(value):
    assert csv_text(value) == repr(value)


def injected() -> models.Instance:
    d = base()
    d["organisations"][0]["name"] = INJECTIONS[0]
    d["units"][0]["id"] = "-u1"
    d["units"][1]["id"] = "@u2"
    d["citizens"][0]["id"] = "+c1"
    d["citizens"][1]["id"] = "'c2"
    d["departments"][0]["id"] = "=D"
    for u in d["units"]:
        u["department"] = "=D"
    d["citizens"][0]["excluded_departments"] = ["=D"]
    return models.from_dict(d)


def test_convert_to_csv_writes_no_formula_and_reads_back(tmp_path):
    """Item 11: '=HYPERLINK(...)' was written as is and ran when the CSV was opened in a spreadsheet."""
    inst = injected()
    models.save(inst, tmp_path / "csv")
    for file in (tmp_path / "csv").iterdir():
        for line in file.read_text(encoding="utf-8").splitlines():
            for cell in line.split(","):
                assert not cell.lstrip('"').startswith(("=", "+", "-", "@")), (file.name, line)
    assert models.load(tmp_path / "csv").sha256 == inst.sha256
    assert "'=D" in (tmp_path / "csv" / "units.csv").read_text(encoding="utf-8")


def test_convert_to_xlsx_writes_no_formula_and_reads_back(tmp_path):
    inst = injected()
    models.save(inst, tmp_path / "i.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "i.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert wb["organisations"]["B2"].value == INJECTIONS[0]
    assert models.load(tmp_path / "i.xlsx").sha256 == inst.sha256


def test_plan_exports_write_no_formula(tmp_path):
    plan = {
        "format": "anvis-plan/1",
        "status": "optimal",
        "assignments": [{"citizen": "=c1", "unit": "-u1", "subsidised": False, "effective_rent_kr": -0.5, "score": 1}],
        "unassigned": [{"citizen": "@c2", "reason": "+no"}],
    }
    write_plan_csv(plan, tmp_path / "plan")
    rows = (tmp_path / "plan" / "anvisninger.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1] == "'=c1;'-u1;-0,5;nej;1"  # Danish: ';' and a decimal comma, for Danish Excel
    assert (tmp_path / "plan" / "ikke_anvist.csv").read_text(encoding="utf-8").splitlines()[1] == "'@c2;'+no"
    write_plan_csv(plan, tmp_path / "en", lang="en")
    assert (tmp_path / "en" / "assignments.csv").read_text(encoding="utf-8").splitlines()[1] == ("'=c1,'-u1,-0.5,no,1")
    write_plan_xlsx(plan, tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert wb["anvisninger"]["A2"].data_type == "s" and wb["anvisninger"]["A2"].value == "=c1"
    assert wb["anvisninger"]["C2"].value == -0.5
    assert wb["begrundelser"]["B2"].data_type == "s" and wb["begrundelser"]["B2"].value == "+no"


# --------------------------------------------------------------------------- 15: negative zero


def test_negative_zero_is_read_as_zero(tmp_path):
    """Item 15: a rent of -0 printed as '-0 kr'."""
    d = base(scores=[{"citizen": "c1", "unit": "u1", "score": -0.0}])
    d["units"][0]["rent_kr"] = -0.0
    d["citizens"][0]["max_rent_kr"] = -0.0
    inst = models.from_dict(d)
    assert math.copysign(1, inst.units[0].rent_kr) == 1
    assert math.copysign(1, inst.citizens[0].max_rent_kr) == 1
    assert math.copysign(1, float(inst.scores.score[0])) == 1
    units = "id,department,rooms,rent_kr\nu1,D,2,-0.0\nu2,D,1,-0\n"
    read = models.load(folder_of(tmp_path, units=units))
    assert [math.copysign(1, u.rent_kr) for u in read.units] == [1, 1]


def test_raw_reading_keeps_quoted_text(tmp_path):
    folder = folder_of(tmp_path, organisations="id,name\nO,'=SUM(1)\n")
    assert read_csv_folder(folder)["organisations"] == [{"id": "O", "name": "=SUM(1)"}]


# --------------------------------------------------------------------------- 7: empty lists that are not the default


def test_explicitly_empty_lists_convert_exactly(tmp_path):
    """Item 7: citizen kinds [] was written as an empty cell and read back as the default ["family"]."""
    d = base(agreements=[{"id": "all", "municipality": "M", "share": 1.0, "rooms": [], "departments": []}])
    d["citizens"][0]["kinds"] = []
    inst = models.from_dict(d)
    for target in ("copy", "copy.xlsx"):
        models.save(inst, tmp_path / target)
        again = models.load(tmp_path / target)
        assert again.citizens[0].kinds == () and again.agreements[0].rooms == (), target
        assert again.sha256 == inst.sha256, target
    rows = (tmp_path / "copy" / "citizens.csv").read_text(encoding="utf-8").splitlines()
    header, first, second = (row.split(",") for row in rows)
    assert first[header.index("kinds")] == ";" and second[header.index("kinds")] == "family"
    assert first[header.index("barred_areas")] == ""  # [] is the default there: an empty cell


@pytest.mark.parametrize("rent", [123456789.12345679, 1.7976931348623157e308, 4800.5, 2**53])
def test_numbers_of_17_digits_convert_exactly_to_xlsx(rent, tmp_path):
    """Found by fuzzing: openpyxl writes 16 significant digits, so such numbers changed (or became inf)."""
    d = base()
    d["units"][0]["rent_kr"] = rent
    inst = models.from_dict(d)
    models.save(inst, tmp_path / "i.xlsx")
    assert models.load(tmp_path / "i.xlsx").units[0].rent_kr == rent


@pytest.mark.parametrize(
    ("text", "word"), [("2\n1 2 3 99999999999999999999999\n", "99999999999999999999999"), ("2 1 x 3 4", "x")]
)
def test_orlib_numbers_out_of_range_are_refused(text, word, tmp_path):
    """An OR-Library cost beyond int64 raised OverflowError (a traceback) instead of an InstanceError."""
    path = tmp_path / "assign.txt"
    path.write_text(text, encoding="utf-8")
    problems = refused(path)
    assert len(problems) == 1 and f"'{word}'" in problems[0].message, messages(problems)


def test_a_csv_file_of_blank_lines_is_reported(tmp_path):
    problems = refused(folder_of(tmp_path, citizens="\n,,\n\n"))
    assert messages(problems) == [
        "citizens.csv: the file holds only blank lines: a table needs at least its header row"
    ]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_missing_header_row_is_one_problem(kind, tmp_path):
    """Data without a header used to give one 'only 0 columns are named' line per row."""
    units = [[""], *[[f"u{i}", "D", "1", "2000"] for i in range(60)]]
    if kind == "csv":
        path = folder_of(tmp_path, units="\n".join(",".join(row) for row in units) + "\n")
    else:
        path = write_book(tmp_path / "h.xlsx", sheets_of(units=[[None], *units[1:]]))
    problems = refused(path)
    assert [p.message for p in problems] == ["the first row is empty: it must name the columns"]


def test_a_weight_key_of_thousands_of_digits_is_not_a_priority():
    """Found by the fuzzer: int() of a 4,301-digit key raised ValueError inside validation."""
    problems = refused_doc(weighted({"1": 1, "2": 1, "9" * 4301: 1}))
    assert [p.path for p in problems] == [f"parameters.priority_weights.{'9' * 37}..."]
    assert "is not a priority" in problems[0].message and len(str(problems[0])) < 200


@pytest.mark.parametrize("score", [10**309, 2**53 + 2])
def test_integer_scores_beyond_doubles_are_refused(score, tmp_path):
    """Found by the fuzzer: a score of 309 digits raised OverflowError converting the scores to floats."""
    problems = refused_doc(base(scores=[{"citizen": "c1", "unit": "u1", "score": score}]))
    assert [p.path for p in problems] == ["scores[0].score"]
    assert "too large" in problems[0].message
    scores = f"citizen,unit,score\nc1,u1,{score}\n"
    assert [p.path for p in refused(folder_of(tmp_path, scores=scores))] == ["scores.csv, row 2, column C 'score'"]
