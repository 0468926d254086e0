"""Plans as spreadsheets both ways: written by ``solve -o plan.xlsx`` / ``-o folder/``, read back by
``check``, ``report`` and ``explain``; Danish by default, English with ``--lang en``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import models
from models.tables import SHORT_REASON, read_plan_tables, write_plan_csv, write_plan_xlsx
from optimizer import lang as L
from optimizer.cli import main

from conftest import ROOT, solved, worked_examples

DEMO = ROOT / "instances" / "demo-week.json"


def run(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def demo() -> tuple[models.Instance, dict]:
    """The demo week (subsidies, caps, citizens left unhoused) and its plan, checked by the independent checker."""
    document = json.loads(DEMO.read_text(encoding="utf-8"))
    return models.from_dict(document), solved(document)


def sheet_rows(book: Path, sheet: str) -> list[dict]:
    ws = openpyxl.load_workbook(book)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def danish_rows(path: Path) -> list[list[str]]:
    """The rows of a Danish CSV plan file (BOM, ';' between columns)."""
    return list(csv.reader(path.open(encoding="utf-8-sig", newline=""), delimiter=";"))


def write_danish_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, lineterminator="\n", delimiter=";").writerows(rows)


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("target", ["plan.xlsx", "plan"])
def test_a_plan_survives_sheets_and_check_passes(demo, tmp_path, lang, target):
    """solve → xlsx / CSV folder (either language) → read: the same Plan (assignments, usage, objective,
    reasons), the same JSON bytes, and ``anvis check`` passes it."""
    inst, plan = demo
    path = tmp_path / target
    models.write_plan(plan, path, lang, inst)
    back = models.read_plan(path)
    assert models.Plan.from_dict(back) == models.Plan.from_dict(plan)
    assert models.Plan.from_dict(back).to_dict() == plan
    # as JSON again, byte-identical (floats stay floats: score 11.0, not 11)
    assert json.dumps(models.Plan.from_dict(back).to_dict()) == json.dumps(plan)
    result = run("check", DEMO, path)
    assert result.exit_code == 0, result.output
    assert f"valid plan for 'small-s7' ({len(plan['assignments'])} assignments)" in result.output


@pytest.mark.parametrize("example", worked_examples())
def test_worked_example_plans_survive_a_workbook(example, tmp_path):
    """Every field of anvis/1 and anvis/2 plans (passed turns, homeless counts, overrides) survives."""
    document = json.loads(example.read_text(encoding="utf-8"))
    plan = solved(document)
    models.write_plan(plan, tmp_path / "p.xlsx", instance=models.from_dict(document))
    assert models.Plan.from_dict(models.read_plan(tmp_path / "p.xlsx")).to_dict() == plan


def test_solve_writes_sheets_that_check_report_and_explain_read(tmp_path):
    """The CLI end to end: ``solve -o plan.xlsx`` and ``-o folder/``; check, report and explain read them."""
    book, folder = tmp_path / "plan.xlsx", tmp_path / "plan"
    assert run("solve", DEMO, "-o", book, "-q").exit_code == 0
    assert run("solve", DEMO, "-o", folder, "-q", "--lang", "en").exit_code == 0
    for plan in (book, folder):
        assert run("check", DEMO, plan).exit_code == 0
    result = run("report", DEMO, book, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").stat().st_size > 0
    result = run("explain", DEMO, folder, "c1", "--no-counterfactual")
    assert result.exit_code == 0, result.output
    assert "c1" in result.output


def test_json_plans_are_the_same_in_both_languages(tmp_path):
    assert run("solve", DEMO, "-o", tmp_path / "da.json", "-q").exit_code == 0
    assert run("solve", DEMO, "-o", tmp_path / "en.json", "-q", "--lang", "en").exit_code == 0
    assert (tmp_path / "da.json").read_bytes() == (tmp_path / "en.json").read_bytes()


# --------------------------------------------------------------------------- a planner edits the plan


def test_a_moved_citizen_is_read_and_checked(demo, tmp_path):
    """A planner moves a citizen to another unit in Excel: the edit is read and the checker judges it."""
    inst, plan = demo
    book = tmp_path / "plan.xlsx"
    models.write_plan(plan, book, instance=inst)
    wb = openpyxl.load_workbook(book)
    ws = wb["anvisninger"]
    assert [c.value for c in ws[1]][:3] == ["borger", "prioritet", "bolig"]
    citizen = ws["A2"].value
    ws["C2"] = "u1"  # 4 rooms: outside this citizen's range
    wb.save(book)
    moved = models.Plan.from_dict(models.read_plan(book))
    assert next(a.unit for a in moved.assignments if a.citizen == citizen) == "u1"
    result = run("check", DEMO, book)
    assert result.exit_code == 1
    assert f"R3-rooms: unit 'u1' (4 rooms) is outside the room range of citizen {citizen!r}" in result.output


def test_bad_plan_cells_are_one_line_each_with_sheet_row_and_column(demo, tmp_path):
    inst, plan = demo
    book = tmp_path / "plan.xlsx"
    models.write_plan(plan, book, instance=inst)
    wb = openpyxl.load_workbook(book)
    ws = wb["anvisninger"]
    header = [c.value for c in ws[1]]
    ws.cell(3, header.index("score") + 1, "høj")
    ws.cell(4, header.index("tilskud") + 1, "måske")
    wb.save(book)
    for command in (("check", DEMO, book), ("report", DEMO, book, "-o", tmp_path / "r.html")):
        result = run(*command)
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"{book}: anvisninger sheet, row 3, column J 'score': expected a number (got 'høj')",
            f"{book}: anvisninger sheet, row 4, column I 'tilskud': expected ja/nej (yes/no) (got 'måske')",
            f"{book}: 2 problems; nothing written",
        ]
    assert not (tmp_path / "r.html").exists()


def test_a_plan_field_left_empty_is_named_by_its_cell(demo, tmp_path):
    """An emptied citizen cell: the typed plan's problem is named by the sheet's row and column."""
    inst, plan = demo
    folder = tmp_path / "plan"
    models.write_plan(plan, folder, instance=inst)
    path = folder / "anvisninger.csv"
    rows = danish_rows(path)
    rows[2][0] = ""
    write_danish_rows(path, rows)
    result = run("explain", DEMO, folder, "c1", "--no-counterfactual")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"{folder}: anvisninger.csv, row 3, column A 'borger': Field required"


def test_a_plan_without_its_summary_is_refused_in_one_line(demo, tmp_path):
    inst, plan = demo
    book = tmp_path / "plan.xlsx"
    models.write_plan(plan, book, instance=inst)
    wb = openpyxl.load_workbook(book)
    del wb["oversigt"]
    wb.save(book)
    result = run("check", DEMO, book)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"{book}: the plan's summary table is missing (sheet 'oversigt' or 'summary')"
    )


# --------------------------------------------------------------------------- ready to use


def test_the_xlsx_plan_is_ready_to_use(demo, tmp_path):
    """Bold frozen header with filters, widths, ja/nej, rent before and after the subsidy, short reasons
    with the full ones on their own sheet, usage ids in their pool / afdeling column."""
    inst, plan = demo
    book = tmp_path / "plan.xlsx"
    models.write_plan(plan, book, instance=inst, reason_text=L.plan_reason)
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == [
        "anvisninger",
        "ikke anvist",
        "begrundelser",
        "forbrug puljer",
        "forbrug afdelinger",
        "forbrug rammer",
        "forbrug kvoter",
        "oversigt",
    ]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1]), ws.title
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}", ws.title
        for c in ws[1]:
            assert ws.column_dimensions[c.column_letter].width >= len(str(c.value)), (ws.title, c.value)
    assignments = sheet_rows(book, "anvisninger")
    assert list(assignments[0])[:10] == [
        "borger",
        "prioritet",
        "bolig",
        "afdeling",
        "pulje",
        "husleje",
        "huslejetilskud",
        "husleje efter tilskud",
        "tilskud",
        "score",
    ]
    rents = {u.id: u.rent_kr for u in inst.units}
    by_citizen = {a["citizen"]: a for a in plan["assignments"]}
    assert {r["tilskud"] for r in assignments} == {"ja", "nej"}
    for r in assignments:
        a = by_citizen[r["borger"]]
        assert r["husleje"] == rents[a["unit"]]
        assert r["husleje efter tilskud"] == a["effective_rent_kr"]
        assert r["huslejetilskud"] == (inst.parameters.subsidy_amount_kr if a["subsidised"] else 0)
        assert r["tilskud"] == ("ja" if a["subsidised"] else "nej")
    short = sheet_rows(book, "ikke anvist")
    full = sheet_rows(book, "begrundelser")
    assert [r["borger"] for r in short] == [u["citizen"] for u in plan["unassigned"]]
    assert all(len(r["årsag"]) <= SHORT_REASON for r in short)
    assert any(len(u["reason"]) > len(r["årsag"]) for u, r in zip(plan["unassigned"], short, strict=True))
    assert [r["årsag"] for r in full] == [L.plan_reason(u) for u in plan["unassigned"]]
    assert [r["planens tekst"] for r in full] == [u["reason"] for u in plan["unassigned"]]
    assert [json.loads(r["detaljer"]) for r in full] == [u["details"] for u in plan["unassigned"]]
    pools = sheet_rows(book, "forbrug puljer")
    assert next(iter(pools[0])) == "pulje" and "id" not in pools[0]
    assert [r["pulje"] for r in pools] == [p["id"] for p in plan["usage"]["pools"]]
    departments = sheet_rows(book, "forbrug afdelinger")
    assert [r["afdeling"] for r in departments] == [d["id"] for d in plan["usage"]["departments"]]


def test_english_sheets_with_lang_en(demo, tmp_path):
    inst, plan = demo
    write_plan_xlsx(plan, tmp_path / "plan.xlsx", lang="en", instance=inst)
    wb = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert wb.sheetnames[:3] == ["assignments", "unassigned", "reasons"]
    rows = sheet_rows(tmp_path / "plan.xlsx", "assignments")
    assert list(rows[0])[:9] == [
        "citizen",
        "priority",
        "unit",
        "department",
        "pool",
        "rent_kr",
        "subsidy_kr",
        "effective_rent_kr",
        "subsidised",
    ]
    assert {r["subsidised"] for r in rows} == {"yes", "no"}
    assert [r["pool"] for r in sheet_rows(tmp_path / "plan.xlsx", "usage_pools")] == [
        p["id"] for p in plan["usage"]["pools"]
    ]
    with pytest.raises(ValueError, match="unknown language 'de'"):
        write_plan_csv(plan, tmp_path / "x", lang="de")


def test_sheet_exports_are_deterministic_and_formula_safe(tmp_path):
    """Same plan, same bytes; ids a spreadsheet would run as formulas stay text and read back unchanged."""
    plan = {
        "format": "anvis-plan/1",
        "instance": "=cmd",
        "status": "optimal",
        "objective": {"housed_by_priority": {"1": 1}, "total_score": 1.0},
        "assignments": [{"citizen": "=c1", "unit": "-u1", "subsidised": False, "effective_rent_kr": 10, "score": 1.0}],
        "unassigned": [{"citizen": "@c2", "reason": "+no", "code": "=x"}],
    }
    for name in ("a.xlsx", "b.xlsx"):
        write_plan_xlsx(plan, tmp_path / name)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    wb = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert not [c.coordinate for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    write_plan_csv(plan, tmp_path / "csv")
    for path in (tmp_path / "a.xlsx", tmp_path / "csv"):
        assert read_plan_tables(path) == plan, path


def test_an_export_of_the_earlier_layout_reads_back(demo, tmp_path):
    """The previous release wrote English tables, true/false, full reasons in ``unassigned`` (no reasons
    table) and usage ids under ``id`` beside an empty ``pool`` column: such a folder reads as the same plan."""
    _, plan = demo
    folder = tmp_path / "old"
    write_plan_csv(plan, folder, lang="en")
    (folder / "reasons.csv").unlink()

    def rewrite(name, change):
        path = folder / name
        rows = change(list(csv.reader(path.open(encoding="utf-8"))))
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)

    rewrite("usage_pools.csv", lambda rows: [["pool", "id", *rows[0][1:]]] + [["", *r] for r in rows[1:]])
    rewrite("assignments.csv", lambda rows: [[{"yes": "true", "no": "false"}.get(c, c) for c in r] for r in rows])
    reasons = {u["citizen"]: u["reason"] for u in plan["unassigned"]}
    rewrite("unassigned.csv", lambda rows: [rows[0]] + [[*r[:3], reasons[r[0]]] for r in rows[1:]])
    details = [{k: v for k, v in u.items() if k != "details"} for u in plan["unassigned"]]
    back = models.Plan.from_dict(models.read_plan(folder)).to_dict()
    assert back == {**plan, "unassigned": details}


def test_a_sheet_the_planner_added_is_one_warning_line(demo, tmp_path):
    inst, plan = demo
    book = tmp_path / "plan.xlsx"
    models.write_plan(plan, book, instance=inst)
    wb = openpyxl.load_workbook(book)
    wb.create_sheet("Noter")["A1"] = "ring til c1"
    wb.save(book)
    result = run("check", DEMO, book)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"warning: {book}: ignoring sheet 'Noter', which is not a table of anvis-plan/1"
    ]


# --------------------------------------------------------------------------- codes and reasons in words


def test_a_danish_plan_explains_codes_and_reasons_in_danish(demo, tmp_path):
    """``solve -o plan.xlsx``: the ``kode`` column has the code's Danish words, ``årsag`` the reason in Danish
    (counts and rules as :func:`optimizer.lang.plan_reason` words them), the English plan text is kept beside
    them, and reading back gives the plan's codes and English reasons (check passes)."""
    _, plan = demo
    book = tmp_path / "plan.xlsx"
    assert run("solve", DEMO, "-o", book, "-q").exit_code == 0
    short, full = sheet_rows(book, "ikke anvist"), sheet_rows(book, "begrundelser")
    words = {code: L.say(f"reason.short.{code}") for code in {u["code"] for u in plan["unassigned"]}}
    assert [r["kode"] for r in short] == [words[u["code"]] for u in plan["unassigned"]]
    assert "boligerne gik til borgere med højere prioritet" in words.values()  # outranked
    by_code = {u["code"]: r for u, r in zip(plan["unassigned"], full, strict=True)}
    assert by_code["outranked"]["årsag"].endswith("gik til mere akutte borgere")
    assert by_code["no_eligible_unit"]["årsag"].startswith("ingen egnet bolig: af ")
    assert any("uden for reglen om værelser (regel 3)" in r["årsag"] for r in full)
    assert "har ingen anvisningsret tilbage" in by_code["capacity"]["årsag"]
    assert "egnede boliger" in by_code["competition"]["årsag"]
    for row in full:  # no English word of the engine's left in a Danish reason
        for english in ("eligible", "went to", "outside", "full cap", "pool "):
            assert english not in row["årsag"], row["årsag"]
    assert all(len(r["årsag"]) <= SHORT_REASON for r in short)
    back = models.read_plan(book)
    assert models.Plan.from_dict(back).to_dict() == plan
    assert run("check", DEMO, book).exit_code == 0


def test_codes_read_back_from_their_words_in_either_language(demo, tmp_path):
    """A planner may type a code or its words (Danish or English) in the ``kode`` column; other text stays."""
    _, plan = demo
    folder = tmp_path / "plan"
    write_plan_csv(plan, folder)
    path = folder / "ikke_anvist.csv"
    rows = danish_rows(path)
    column = rows[0].index("kode")
    typed = ["OUTRANKED", "no eligible unit", "Mere akutte?", "tidsgrænse"]
    for r, t in zip(rows[1:], typed, strict=False):
        r[column] = t
    write_danish_rows(path, rows)
    codes = [u["code"] for u in models.read_plan(folder)["unassigned"]][: len(typed)]
    assert codes == ["outranked", "no_eligible_unit", "Mere akutte?", "time_limit"]


def test_without_the_callers_words_a_danish_sheet_gives_the_codes_words(demo):
    """``models`` alone (no :mod:`optimizer.lang`): the reason is the code's long words, the plan's kept."""
    _, plan = demo
    from models.headers import CODE_WORDS
    from models.tables import plan_tables

    header, rows = plan_tables(plan)["reasons"]
    assert header[:2] == ["borger", "årsag"] and header[-1] == "planens tekst"
    assert [r[1] for r in rows] == [CODE_WORDS["da"][u["code"]][1] for u in plan["unassigned"]]
    assert [r[-1] for r in rows] == [u["reason"] for u in plan["unassigned"]]
    header, rows = plan_tables(plan, "en", reason_text=L.plan_reason)["reasons"]
    assert "plan_reason" not in header and [r[1] for r in rows] == [u["reason"] for u in plan["unassigned"]]
