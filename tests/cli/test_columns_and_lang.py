"""``--columns MAP.toml`` on validate, solve, convert, round open, check, report and explain; ``--lang`` on
solve, round solve, report and explain."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import models
from optimizer.cli import main

from conftest import doc, write_book


def run(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def municipality_book(path: Path) -> Path:
    """A municipality's workbook: Danish sheets, two columns only their own map names."""
    d = doc([{"id": "c1"}, {"id": "c2", "priority": 2}], [{"id": "u1"}, {"id": "u2", "rooms": 1}])
    return write_book(
        path,
        {
            "parametre": [["nøgle", "værdi"], ["format", "anvis/1"], ["navn", "uge 47"]],
            "regioner": [["region"], ["R"]],
            "kommuner": [["kommune", "region"], ["M", "R"]],
            "boligorganisationer": [["boligorganisation"], ["O"]],
            "afdelinger": [["afdeling", "boligorganisation", "kommune"], ["D", "O", "M"]],
            "aftaler": [["aftale", "kommune", "andel"], ["all", "M", 1]],
            "boliger": [["Lejemålsnr.", "Afdeling", "Vær.", "Leje i alt"]]
            + [[u["id"], u["department"], u["rooms"], u["rent_kr"]] for u in d["units"]],
            "borgere": [["Løbenr.", "Kommune", "Prioritet", "Rådighed"]]
            + [[c["id"], c["municipality"], c.get("priority", 1), "5.000"] for c in d["citizens"]],
        },
    )


MAP = '[columns]\n"Leje i alt" = "husleje"\n\n[columns.borgere]\n"Rådighed" = "max_rent_kr"\n'


@pytest.fixture
def book(tmp_path) -> Path:
    return municipality_book(tmp_path / "uge47.xlsx")


@pytest.fixture
def mapping(tmp_path) -> Path:
    path = tmp_path / "kolonner.toml"
    path.write_text(MAP, encoding="utf-8")
    return path


def test_validate_without_the_map_names_the_missing_columns_once(book):
    result = run("validate", book)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"{book}: boliger sheet: the column 'rent_kr' (husleje) is missing: is 'Leje i alt' it? "
        "Rename it, or map it with --columns MAP.toml"
    )
    assert lines[1].startswith(f"{book}: borgere sheet: the column 'max_rent_kr' (max husleje) is missing")
    assert len(lines) == 3  # units, citizens, the count: not one line per row


@pytest.mark.parametrize("command", ["validate", "solve", "convert", "round", "check", "report", "explain"])
def test_the_map_is_taken_by_every_command_that_reads_an_instance(book, mapping, tmp_path, command):
    args = {
        "validate": ("validate", book),
        "solve": ("solve", book, "-o", tmp_path / "plan.json", "-q"),
        "convert": ("convert", book, tmp_path / "week.json"),
        "round": ("round", "open", book, "--db", tmp_path / "ledger.db"),
        "check": ("check", book, tmp_path / "plan.xlsx"),
        "report": ("report", book, tmp_path / "plan.xlsx", "-o", tmp_path / "r.html"),
        "explain": ("explain", book, tmp_path / "plan.xlsx", "c1", "--no-counterfactual"),
    }[command]
    if command in ("check", "report", "explain"):
        # without the map the Danish workbook's own columns are missing: refused, nothing written
        assert run("solve", book, "--columns", mapping, "-o", tmp_path / "plan.xlsx", "-q").exit_code == 0
        assert run(*args).exit_code == 2 and not (tmp_path / "r.html").exists()
    if command == "check":
        assert run("solve", book, "--columns", mapping, "-o", tmp_path / "plan.xlsx", "-q").exit_code == 0
    result = run(*args, "--columns", mapping)
    assert result.exit_code == 0, result.output
    if command == "convert":
        inst = models.load(tmp_path / "week.json")
        assert [c.max_rent_kr for c in inst.citizens] == [5000, 5000]  # '5.000' in a Danish sheet
        assert [u.rent_kr for u in inst.units] == [3000, 3000]


def test_a_bad_map_is_one_line_per_entry_and_exit_2(book, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[columns]\n"Leje" = "lejen"\n', encoding="utf-8")
    result = run("validate", book, "--columns", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}: columns.Leje: 'lejen' is not a field",
        f"{path}: 1 problem; nothing written",
    ]


def test_round_solve_writes_sheets_in_either_language(book, mapping, tmp_path):
    db = tmp_path / "ledger.db"
    assert run("round", "open", book, "--db", db, "--columns", mapping).exit_code == 0
    result = run("round", "solve", "--db", db, "-o", tmp_path / "plan.xlsx", "-q", "--lang", "en")
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert wb.sheetnames[0] == "assignments"
    assert [c.value for c in wb["assignments"][1]][5:7] == ["rent_kr", "subsidy_kr"]
    result = run("round", "solve", "--db", db, "-o", tmp_path / "plan", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plan" / "anvisninger.csv").read_text(encoding="utf-8").startswith("\ufeffborger;")


def test_lang_is_refused_outside_da_and_en(tmp_path, book, mapping):
    result = run("solve", book, "--columns", mapping, "-o", tmp_path / "p.xlsx", "--lang", "de")
    assert result.exit_code == 2
    assert not (tmp_path / "p.xlsx").exists()


@pytest.mark.parametrize("lang", ["da", "en"])
def test_report_and_explain_of_a_danish_workbook_take_lang(book, mapping, tmp_path, lang):
    """A municipality's workbook and its xlsx plan: the report and the explanation in either language."""
    plan = tmp_path / "plan.xlsx"
    assert run("solve", book, "--columns", mapping, "-o", plan, "-q").exit_code == 0
    html = tmp_path / "r.html"
    result = run("report", book, plan, "--columns", mapping, "-o", html, "--lang", lang)
    assert result.exit_code == 0, result.output
    assert f'<html lang="{lang}">' in html.read_text(encoding="utf-8")
    result = run("explain", book, plan, "c2", "--columns", mapping, "--lang", lang, "--no-counterfactual")
    assert result.exit_code == 0, result.output
    assert ("Borger" if lang == "da" else "Citizen") in result.stdout
