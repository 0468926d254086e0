"""Instances and plans as CSV folders and xlsx workbooks (models.tables)."""

from __future__ import annotations

import csv
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

import models
from models.tables import read_csv_folder, read_xlsx, write_plan_csv, write_plan_xlsx
from models.validate import UnknownFieldWarning

from conftest import worked_examples, write_book

SHARED = Path(__file__).resolve().parents[3] / "shared"
EXAMPLES = worked_examples()
needs_examples = pytest.mark.skipif(
    not EXAMPLES, reason=f"no worked examples under {SHARED} (shared spec folder absent)"
)


# --------------------------------------------------------------------------- helpers


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    """A CSV folder from ``{file name: text}``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def read_sheets(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path, data_only=True)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def problems_of(exc: models.InstanceError) -> dict[str, str]:
    return {p.path: p.message for p in exc.problems}


RICH = {
    "format": "anvis/1",
    "name": "2026",  # looks like a number, is a name
    "parameters": {
        "default_share": 0.1,
        "subsidy_amount_kr": 1414.5,
        "subsidy_band_kr": [4500, 6500.25],
        "objective": "weighted",
        "priority_weights": {"1": 100, "2": 10.5},
    },
    "regions": [{"id": "H", "name": "Hovedstaden", "grant_quota": 4}, {"id": "S", "name": "Sjælland"}],
    "municipalities": [
        {"id": "101", "name": "København", "region": "H", "subsidy_frame": 2},
        {"id": "0147", "name": "Frederiksberg", "region": "H"},
    ],
    "organisations": [{"id": "fsb", "name": "fsb"}, {"id": "kab:2", "name": '=KAB, "the" org'}],
    "departments": [
        {"id": "fsb:12", "organisation": "fsb", "municipality": "101", "area": "prevention", "max_vulnerable": 0},
        {"id": "7", "organisation": "kab:2", "municipality": "0147"},
    ],
    "units": [
        {
            "id": "1",
            "department": "fsb:12",
            "rooms": 2,
            "rent_kr": 4800.5,
            "kind": "youth",
            "accessible": True,
            "temporary": True,
        },
        {"id": "2", "department": "7", "rooms": 1, "rent_kr": 3000},
    ],
    "agreements": [
        {
            "id": "a1",
            "municipality": "101",
            "share": 0.5,
            "organisation": "fsb",
            "max_rent_kr": 5000,
            "rooms": [1, 2],
            "departments": ["fsb:12"],
        },
        {"id": "a2", "municipality": "0147", "share": 1.0},
    ],
    "ledger": [{"pool": "a1", "vacancies_before": 3, "claimed_before": 1}],
    "citizens": [
        {
            "id": "001",
            "municipality": "101",
            "priority": 2,
            "max_rent_kr": 3500.75,
            "min_rooms": 1,
            "max_rooms": 3,
            "vulnerable": True,
            "subsidy_eligible": True,
            "needs_accessible": True,
            "kinds": ["family", "youth"],
            "accepts_temporary": True,
            "barred_areas": ["disadvantaged", "transformation"],
            "excluded_departments": ["7"],
            "preferences": [{"department": "fsb:12", "weight": 10}, {"department": "7", "weight": 2.5}],
        },
        {"id": "c2", "municipality": "0147", "max_rent_kr": 4000, "kinds": ["elderly"]},
    ],
    "scores": [{"citizen": "001", "unit": "1", "score": 87.25}, {"citizen": "c2", "unit": "2", "score": 0}],
}


@pytest.fixture
def rich() -> models.Instance:
    return models.from_dict(RICH, "rich.json")


# --------------------------------------------------------------------------- round trips


@needs_examples
@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_round_trip_csv_and_xlsx(example, tmp_path):
    """Every worked example survives JSON → CSV folder and JSON → xlsx unchanged (same document, same hash)."""
    original = models.load(example)
    for target in (tmp_path / "x", tmp_path / "x.xlsx"):
        models.save(original, target)
        back = models.load(target)
        assert back.to_dict() == original.to_dict(), target.name
        assert back.sha256 == original.sha256, target.name


@needs_examples
@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_chain_json_csv_xlsx_json(example, tmp_path):
    """JSON → CSV → xlsx → JSON gives back the original document."""
    original = models.load(example)
    models.save(original, tmp_path / "x")
    models.save(models.load(tmp_path / "x"), tmp_path / "x.xlsx")
    models.save(models.load(tmp_path / "x.xlsx"), tmp_path / "x.json")
    back = models.load(tmp_path / "x.json")
    assert back.to_dict() == original.to_dict()
    assert back.sha256 == original.sha256


@pytest.mark.parametrize("target", ["x", "x.xlsx"])
def test_every_field_round_trips(rich, tmp_path, target):
    """Every field kind (optional, lists, preferences, weights, floats, ids with ':', formula-like text) round-trips."""
    models.save(rich, tmp_path / target)
    back = models.load(tmp_path / target)
    assert back.to_dict() == rich.to_dict()
    assert back.sha256 == rich.sha256


def test_numeric_looking_ids_stay_strings(rich, tmp_path):
    """Ids and names that look like numbers ('101', '0147', '001', '2026') are strings after CSV and xlsx."""
    for target in ("x", "x.xlsx"):
        models.save(rich, tmp_path / target)
        back = models.load(tmp_path / target)
        assert back.name == "2026"
        assert [m.id for m in back.municipalities] == ["101", "0147"]
        assert back.citizens[0].id == "001"
        assert back.units[1].department == "7"


def test_numbers_typed_in_a_workbook(tmp_path):
    """In a planner's workbook, numbers typed into id, int, bool and list cells are read as the field's type."""
    book = write_book(
        tmp_path / "typed.xlsx",
        {
            "parameters": [["key", "value"], ["format", "anvis/1"], ["name", 2026], ["subsidy_band_kr", "4500;6500"]],
            "regions": [["id"], ["H"]],
            "municipalities": [["id", "region", "subsidy_frame"], [101, "H", 2.0]],
            "organisations": [["id"], [7.0]],
            "departments": [["id", "organisation", "municipality"], [12, 7, 101.0]],
            "units": [["id", "department", "rooms", "rent_kr", "accessible"], [1, 12, 3.0, 4800.5, 1]],
            "agreements": [["id", "municipality", "share", "rooms"], ["a", 101, 1, 1]],
            "citizens": [["id", "municipality", "max_rent_kr", "vulnerable"], [5, 101, 3500, True]],
        },
    )
    inst = models.load(book)
    assert inst.name == "2026"
    assert inst.municipalities[0].id == "101" and inst.municipalities[0].subsidy_frame == 2
    assert inst.departments[0].model_dump() == {
        "id": "12",
        "organisation": "7",
        "municipality": "101",
        "area": "ordinary",
        "max_vulnerable": None,
    }
    unit = inst.units[0]
    assert (unit.id, unit.rooms, unit.rent_kr, unit.accessible) == ("1", 3, 4800.5, True)
    assert inst.agreements[0].rooms == (1,)
    assert inst.citizens[0].id == "5" and inst.citizens[0].vulnerable is True


# --------------------------------------------------------------------------- reading hand-written tables

MINIMAL = {
    "parameters.csv": "key,value\nformat,anvis/1\nname,hand\n",
    "regions.csv": "id,name,grant_quota\nH,Hovedstaden,\n",
    "municipalities.csv": "id,name,region,subsidy_frame\n101,København,H,1\n",
    "organisations.csv": "id,name\nfsb,fsb\nkab:2,KAB\n",
    "departments.csv": (
        "id,organisation,municipality,area,max_vulnerable\nd:1,fsb,101,,\nd2,kab:2,101,disadvantaged,1\n"
    ),
}


def test_empty_cells_are_defaults_and_lists_are_split(tmp_path):
    """Empty cells give the FORMAT defaults (agreement filters null); ';' lists, last-':' pairs and bool words parse."""
    folder = write_folder(
        tmp_path / "hand",
        {
            **MINIMAL,
            "parameters.csv": "key,value\nformat,anvis/1\nname,hand\ndefault_share,0.5\nsubsidy_band_kr,4000; 7000\n"
            "objective,weighted\npriority_weights,1:100;2:10.5\n",
            "units.csv": "id,department,rooms,rent_kr,kind,accessible,temporary\n"
            "u1,d:1,2,4800,,TRUE,no\nu2,d2,1,3000.5,youth,1,Yes\n",
            "agreements.csv": "id,municipality,share,organisation,max_rent_kr,rooms,departments\n"
            "a1,101,1,,,,\na2,101,0.3,fsb,5000,1;2,d:1\n",
            "citizens.csv": "id,municipality,priority,max_rent_kr,kinds,barred_areas,excluded_departments,preferences\n"
            "c1,101,,3500,,,,\nc2,101,2,4000,family;youth,disadvantaged; transformation,d2,d:1:10;d2:2.5\n",
        },
    )
    inst = models.load(folder)
    assert inst.parameters.model_dump() == {
        "default_share": 0.5,
        "subsidy_amount_kr": 1414,
        "subsidy_band_kr": (4000, 7000),
        "objective": "weighted",
        "priority_weights": {"1": 100, "2": 10.5},
    }
    assert inst.regions[0].grant_quota is None
    assert inst.departments[0].area == "ordinary" and inst.departments[0].max_vulnerable is None
    u1, u2 = inst.units
    assert (u1.kind, u1.accessible, u1.temporary) == ("family", True, False)
    assert (u2.kind, u2.accessible, u2.temporary, u2.rent_kr) == ("youth", True, True, 3000.5)
    a1, a2 = inst.agreements
    assert (a1.organisation, a1.max_rent_kr, a1.rooms, a1.departments) == (None, None, None, None)
    assert (a2.organisation, a2.max_rent_kr, a2.rooms, a2.departments) == ("fsb", 5000, (1, 2), ("d:1",))
    c1, c2 = inst.citizens
    assert (c1.priority, c1.kinds, c1.barred_areas, c1.excluded_departments, c1.preferences) == (
        1,
        ("family",),
        (),
        (),
        (),
    )
    assert c2.kinds == ("family", "youth") and c2.barred_areas == ("disadvantaged", "transformation")
    assert [(p.department, p.weight) for p in c2.preferences] == [("d:1", 10), ("d2", 2.5)]
    assert inst.ledger == () and len(inst.scores) == 0  # absent tables are empty


def test_raw_document_keeps_id_strings(tmp_path):
    """read_csv_folder returns a raw document: ids as strings, numbers typed, absent tables as []."""
    doc = read_csv_folder(write_folder(tmp_path / "hand", MINIMAL))
    assert doc["format"] == "anvis/1" and doc["parameters"] == {}
    assert doc["municipalities"] == [{"id": "101", "name": "København", "region": "H", "subsidy_frame": 1}]
    assert doc["regions"] == [{"id": "H", "name": "Hovedstaden"}]
    assert doc["units"] == [] and doc["scores"] == []


BAD_UNITS = "id,department,rooms,rent_kr,accessible\nu1,d:1,2,4000,false\nu2,d:1,two,-5,maybe\nu3,d2,3,4500,yes\n"
BAD_CITIZENS = "id,municipality,max_rent_kr,vulnerable,kinds,preferences\nc1,101,3500,maybe,family;castle,d:1:ten\n"


def test_bad_cells_reported_with_paths_csv(tmp_path):
    """Cells that do not convert reach validation raw: every problem is reported at once, each with its path."""
    folder = write_folder(
        tmp_path / "bad",
        {
            **MINIMAL,
            "parameters.csv": "key,value\nformat,anvis/1\nsubsidy_band_kr,4500;lots\n",
            "units.csv": BAD_UNITS,
            "citizens.csv": BAD_CITIZENS,
        },
    )
    with pytest.raises(models.InstanceError) as info:
        models.load(folder)
    found = problems_of(info.value)
    # each problem names the row as the spreadsheet shows it (row 1 is the header) and the column
    assert found["units.csv, row 3, column C 'rooms'"] == "Input should be a valid integer (got 'two')"
    assert "greater than or equal to 0" in found["units.csv, row 3, column D 'rent_kr'"]
    assert found["units.csv, row 3, column E 'accessible'"] == "Input should be a valid boolean (got 'maybe')"
    assert found["citizens.csv, row 2, column D 'vulnerable'"] == "Input should be a valid boolean (got 'maybe')"
    assert "'castle'" in found["citizens.csv, row 2, column E 'kinds' (kinds[1])"]
    assert "'ten'" in found["citizens.csv, row 2, column F 'preferences' (preferences[0].weight)"]
    assert "'lots'" in found["parameters.csv, row 3, subsidy_band_kr[1]"]
    assert len(found) == 7, found
    assert str(folder) in str(info.value)


def test_bad_cells_reported_with_paths_xlsx(tmp_path):
    """The same bad cells in a workbook are reported at the same rows and columns of their sheets."""

    def grid(text):
        return [line.split(",") for line in text.strip().split("\n")]

    book = write_book(
        tmp_path / "bad.xlsx",
        {
            name.removesuffix(".csv"): grid(text)
            for name, text in {**MINIMAL, "units.csv": BAD_UNITS, "citizens.csv": BAD_CITIZENS}.items()
        },
    )
    with pytest.raises(models.InstanceError) as info:
        models.load(book)
    found = problems_of(info.value)
    assert set(found) == {
        "units sheet, row 3, column C 'rooms'",
        "units sheet, row 3, column D 'rent_kr'",
        "units sheet, row 3, column E 'accessible'",
        "citizens sheet, row 2, column D 'vulnerable'",
        "citizens sheet, row 2, column E 'kinds' (kinds[1])",
        "citizens sheet, row 2, column F 'preferences' (preferences[0].weight)",
    }
    assert found["units sheet, row 3, column C 'rooms'"] == "Input should be a valid integer (got 'two')"


def test_unknown_columns_are_ignored_and_warned_in_one_line(tmp_path):
    """A column that is no field is left out of the records; loading names every such column in one warning."""
    folder = write_folder(
        tmp_path / "extra",
        {
            **MINIMAL,
            "units.csv": "id,department,rooms,rent_kr,note\nu1,d:1,2,4000,nice\n",
            "citizens.csv": "id,municipality,max_rent_kr,Telefon\nc1,101,4000,12345678\n",
        },
    )
    with pytest.warns(UnknownFieldWarning) as caught:
        assert read_csv_folder(folder)["units"] == [{"id": "u1", "department": "d:1", "rooms": 2, "rent_kr": 4000}]
    assert len(caught) == 1
    assert "units.csv 'note', citizens.csv 'Telefon'" in str(caught[0].message)
    with pytest.warns(UnknownFieldWarning, match="--columns"):
        models.load(folder)


def test_blank_rows_and_bom_are_ignored(tmp_path):
    """A UTF-8 BOM (Excel's CSV) and blank rows do not disturb reading."""
    folder = write_folder(
        tmp_path / "bom", {**MINIMAL, "units.csv": "\ufeffid,department,rooms,rent_kr\n\nu1,d:1,2,4000\n,,,\n"}
    )
    assert read_csv_folder(folder)["units"] == [{"id": "u1", "department": "d:1", "rooms": 2, "rent_kr": 4000}]


# --------------------------------------------------------------------------- whole-file errors


def test_missing_parameters_is_a_file_error(tmp_path):
    """A folder without parameters.csv is rejected, naming the missing file."""
    files = {k: v for k, v in MINIMAL.items() if k != "parameters.csv"}
    with pytest.raises(models.InstanceError) as info:
        models.load(write_folder(tmp_path / "nopar", files))
    assert [p.path for p in info.value.problems] == ["parameters.csv"]


def test_structural_csv_errors_are_collected(tmp_path):
    """A duplicated column, a nameless column with data and a non key/value parameters table are all reported."""
    folder = write_folder(
        tmp_path / "broken",
        {
            **MINIMAL,
            "parameters.csv": "name,format\nx,anvis/1\n",
            "units.csv": "id,rooms,rooms\nu1,1,2\n",
            "citizens.csv": "id,,municipality\nc1,oops,101\n",
            "ledger.csv": "pool\na,b\n",
        },
    )
    with pytest.raises(models.InstanceError) as info:
        models.load(folder)
    found = [(p.path, p.message) for p in info.value.problems]
    assert [path for path, _ in found] == ["parameters.csv", "units.csv", "ledger.csv", "citizens.csv"]
    assert "'key' and 'value'" in found[0][1]
    assert "'rooms' appears twice" in found[1][1]
    assert "row 2" in found[2][1]
    assert "column 2 has no name" in found[3][1]


def test_unreadable_workbook_is_a_file_error(tmp_path):
    """A file named .xlsx that is no workbook gives one InstanceError, not a crash."""
    path = tmp_path / "junk.xlsx"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(models.InstanceError) as info:
        models.load(path)
    assert "cannot read workbook" in str(info.value)
    with pytest.raises(models.InstanceError):
        read_xlsx(path)


def test_workbook_without_parameters_sheet(tmp_path):
    """A workbook without a parameters sheet is rejected, naming the sheet."""
    book = write_book(tmp_path / "nopar.xlsx", {"units": [["id"]], "notes": [["anything"]]})
    with pytest.warns(UnknownFieldWarning, match="notes"), pytest.raises(models.InstanceError) as info:
        models.load(book)
    assert [p.path for p in info.value.problems] == ["parameters sheet"]


# --------------------------------------------------------------------------- determinism and layout


def test_csv_layout(rich, tmp_path):
    """Every table gets a file (empty ones header-only); lists, pairs and booleans are written as documented."""
    models.save(rich.replace(ledger=()), tmp_path / "x")
    names = sorted(p.name for p in (tmp_path / "x").iterdir())
    assert names == sorted(f"{t}.csv" for t in ["parameters", *models.schema.TABLES])
    assert read_csv(tmp_path / "x" / "ledger.csv") == [["pool", "vacancies_before", "claimed_before"]]
    params = dict(read_csv(tmp_path / "x" / "parameters.csv")[1:])
    assert params == {
        "format": "anvis/1",
        "name": "2026",
        "default_share": "0.1",
        "subsidy_amount_kr": "1414.5",
        "subsidy_band_kr": "4500;6500.25",
        "objective": "weighted",
        "priority_weights": "1:100;2:10.5",
    }
    header, first, second = read_csv(tmp_path / "x" / "citizens.csv")
    row = dict(zip(header, first, strict=True))
    assert row["kinds"] == "family;youth" and row["vulnerable"] == "true"
    assert row["preferences"] == "fsb:12:10;7:2.5"
    assert dict(zip(header, second, strict=True))["max_rooms"] == ""


def test_writing_is_deterministic(rich, tmp_path, monkeypatch):
    """Saving twice, even at another time of day, gives byte-identical CSV files and xlsx workbooks."""
    models.save(rich, tmp_path / "a")
    models.save(rich, tmp_path / "a.xlsx")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * 86400 + 3671)
    models.save(rich, tmp_path / "b")
    models.save(rich, tmp_path / "b.xlsx")
    for file in sorted((tmp_path / "a").iterdir()):
        assert file.read_bytes() == (tmp_path / "b" / file.name).read_bytes(), file.name
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:
        core = z.read("docProps/core.xml").decode()
    assert core.count("2000-01-01T00:00:00Z") == 2  # created and modified


# --------------------------------------------------------------------------- plan export

PLAN = {
    "format": "anvis-plan/1",
    "instance": "kbh-2026-w47",
    "status": "optimal",
    "objective": {"housed_by_priority": {"1": 2, "2": 0}, "total_score": 157.5},
    "assignments": [
        {"citizen": "c1", "unit": "u1", "subsidised": True, "effective_rent_kr": 3286, "score": 70.0, "priority": 1},
        {
            "citizen": "c2",
            "unit": "u3",
            "subsidised": False,
            "effective_rent_kr": 3400,
            "score": 87.5,
            "pool": "kbh-1room",
            "details": {"why": "best", "ranks": [1, 2]},
        },
    ],
    "unassigned": [{"citizen": "c3", "reason": "no eligible unit", "priority": 2, "code": "no_unit"}],
    "usage": {
        "pools": {"kbh-1room": {"used": 1, "cap": 1}},
        "departments": [{"department": "fsb-1", "vulnerable": 1, "max_vulnerable": 1}],
        "frames": {"101": {"used": 1, "frame": 1}},
        "quotas": {"H": {"used": 1, "quota": 5}},
    },
    "gap": 0.0,
}

PLAN_TABLES = {
    "assignments": [
        ["citizen", "priority", "unit", "pool", "effective_rent_kr", "subsidised", "score", "details"],
        ["c1", "1", "u1", "", "3286", "yes", "70", ""],
        ["c2", "", "u3", "kbh-1room", "3400", "no", "87.5", '{"why":"best","ranks":[1,2]}'],
    ],
    "unassigned": [["citizen", "priority", "code", "reason"], ["c3", "2", "no_unit", "no eligible unit"]],
    "reasons": [["citizen", "reason"], ["c3", "no eligible unit"]],
    "usage_pools": [["pool", "used", "cap"], ["kbh-1room", "1", "1"]],
    "usage_departments": [["department", "vulnerable", "max_vulnerable"], ["fsb-1", "1", "1"]],
    "usage_frames": [["municipality", "used", "frame"], ["101", "1", "1"]],
    "usage_quotas": [["region", "used", "quota"], ["H", "1", "5"]],
    "summary": [
        ["key", "value"],
        ["format", "anvis-plan/1"],
        ["instance", "kbh-2026-w47"],
        ["status", "optimal"],
        ["total_score", "157.5"],
        ["housed_priority_1", "2"],
        ["housed_priority_2", "0"],
        ["gap", "0"],
    ],
}


def test_plan_csv_tables(tmp_path):
    """write_plan_csv in English: assignments (who, where, cost, then the rest; nested as JSON), unassigned
    (short reasons), reasons, usage, summary."""
    write_plan_csv(PLAN, tmp_path / "plan", lang="en")
    files = sorted(p.stem for p in (tmp_path / "plan").iterdir())
    assert files == sorted(PLAN_TABLES)
    for name, expected in PLAN_TABLES.items():
        assert read_csv(tmp_path / "plan" / f"{name}.csv") == expected, name


def test_plan_xlsx_sheets(tmp_path):
    """write_plan_xlsx writes the same tables as sheets, numbers typed, booleans as words."""
    models.write_plan(PLAN, tmp_path / "plan.xlsx", lang="en")
    sheets = read_sheets(tmp_path / "plan.xlsx")
    assert list(sheets) == list(PLAN_TABLES)
    assert sheets["assignments"][1] == ("c1", 1, "u1", None, 3286, "yes", 70, None)
    assert sheets["assignments"][2][-1] == '{"why":"best","ranks":[1,2]}'
    assert sheets["unassigned"] == [("citizen", "priority", "code", "reason"), ("c3", 2, "no_unit", "no eligible unit")]
    assert sheets["usage_frames"] == [("municipality", "used", "frame"), ("101", 1, 1)]
    assert dict(sheets["summary"][1:]) == {
        "format": "anvis-plan/1",
        "instance": "kbh-2026-w47",
        "status": "optimal",
        "total_score": 157.5,
        "housed_priority_1": 2,
        "housed_priority_2": 0,
        "gap": 0,
    }
    write_plan_xlsx(PLAN, tmp_path / "again.xlsx", lang="en")
    assert (tmp_path / "again.xlsx").read_bytes() == (tmp_path / "plan.xlsx").read_bytes()


def test_plan_without_rows_or_usage(tmp_path):
    """An empty plan gives header-only tables and no usage files; usage files of an earlier export are removed."""
    write_plan_csv(PLAN, tmp_path / "plan", lang="en")
    empty = {
        "format": "anvis-plan/1",
        "instance": "x",
        "status": "infeasible",
        "objective": {"housed_by_priority": {}, "total_score": 0},
        "assignments": [],
        "unassigned": [],
    }
    write_plan_csv(empty, tmp_path / "plan", lang="en")
    assert sorted(p.name for p in (tmp_path / "plan").iterdir()) == [
        "assignments.csv",
        "reasons.csv",
        "summary.csv",
        "unassigned.csv",
    ]
    assert read_csv(tmp_path / "plan" / "assignments.csv") == [
        ["citizen", "unit", "effective_rent_kr", "subsidised", "score"]
    ]
    assert read_csv(tmp_path / "plan" / "unassigned.csv") == [["citizen", "reason"]]
    assert read_csv(tmp_path / "plan" / "summary.csv")[1:] == [
        ["format", "anvis-plan/1"],
        ["instance", "x"],
        ["status", "infeasible"],
        ["total_score", "0"],
    ]
    # a Danish export over the English one replaces its tables (no table is there twice)
    write_plan_csv(empty, tmp_path / "plan")
    assert sorted(p.name for p in (tmp_path / "plan").iterdir()) == [
        "anvisninger.csv",
        "begrundelser.csv",
        "ikke_anvist.csv",
        "oversigt.csv",
    ]
