"""CSV plans for Danish Excel: ``;`` between columns, decimal commas and a UTF-8 BOM in Danish,
commas as before in English; both read back, told apart by their first line."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import models
from models.tables import read_plan_tables, write_plan_csv
from models.validate import InstanceError

from conftest import ROOT, solved

PLAN = {
    "format": "anvis-plan/1",
    "instance": "x",
    "status": "optimal",
    "objective": {"housed_by_priority": {"1": 2}, "total_score": 1234.5},
    "assignments": [
        {"citizen": "c1", "unit": "u1", "subsidised": True, "effective_rent_kr": 3386.5, "score": 87.25},
        {"citizen": "=c2", "unit": "u2", "subsidised": False, "effective_rent_kr": 4500, "score": 12.345},
    ],
    "unassigned": [{"citizen": "c3", "reason": "a; b, c"}],
}


def test_a_danish_csv_plan_opens_in_danish_excel(tmp_path):
    """BOM, ';' between columns, decimal commas, ja/nej, whole numbers plain; formula-like text quoted."""
    write_plan_csv(PLAN, tmp_path / "plan")
    raw = (tmp_path / "plan" / "anvisninger.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[:2] == ["borger", "bolig"] and "," not in lines[0]
    assert lines[1] == "c1;u1;3386,5;ja;87,25"
    assert lines[2] == "'=c2;u2;4500;nej;12,3450"  # 12.3450: never read as twelve thousand
    summary = (tmp_path / "plan" / "oversigt.csv").read_text(encoding="utf-8-sig")
    assert "1234,5" in summary
    assert read_plan_tables(tmp_path / "plan") == PLAN


def test_an_english_csv_plan_is_as_before(tmp_path):
    write_plan_csv(PLAN, tmp_path / "plan", lang="en")
    raw = (tmp_path / "plan" / "assignments.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode().splitlines()[1] == "c1,u1,3386.5,yes,87.25"
    assert read_plan_tables(tmp_path / "plan") == PLAN


@pytest.mark.parametrize("lang", ["da", "en"])
def test_a_plan_resaved_in_the_other_dialect_reads_the_same(tmp_path, lang):
    """Excel may save either dialect ("CSV UTF-8" writes a BOM and commas): each file is told by its first line."""
    folder = tmp_path / "plan"
    write_plan_csv(PLAN, folder, lang=lang)
    src, dst = ((";", "utf-8-sig"), (",", "utf-8-sig")) if lang == "da" else ((",", "utf-8"), (";", "utf-8"))
    for file in folder.glob("*.csv"):
        rows = list(csv.reader(file.open(encoding=src[1], newline=""), delimiter=src[0]))
        with file.open("w", encoding=dst[1], newline="") as f:
            csv.writer(f, delimiter=dst[0], lineterminator="\n").writerows(rows)
    assert read_plan_tables(folder) == PLAN


def test_a_first_line_with_both_separators_is_refused_naming_the_file(tmp_path):
    folder = tmp_path / "plan"
    write_plan_csv(PLAN, folder)
    path = folder / "anvisninger.csv"
    text = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join(["borger;bolig,husleje efter tilskud;tilskud;score", *text[1:]]) + "\n")
    with pytest.raises(InstanceError) as info:
        read_plan_tables(folder)
    assert [str(p) for p in info.value.problems] == [
        "anvisninger.csv: line 1: the header holds both ';' and ',': cannot tell which one separates the columns "
        "(a Danish plan uses ';', an English one ',')"
    ]


def test_the_demo_plan_survives_a_danish_csv_folder_byte_for_byte(tmp_path):
    document = json.loads((ROOT / "instances" / "demo-week.json").read_text(encoding="utf-8"))
    plan = solved(document)
    models.write_plan(plan, tmp_path / "plan", "da", models.from_dict(document))
    assert json.dumps(models.Plan.from_dict(models.read_plan(tmp_path / "plan")).to_dict()) == json.dumps(plan)


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rents=st.lists(st.one_of(st.integers(-(10**9), 10**9), finite), min_size=1, max_size=4),
    scores=st.lists(finite, min_size=4, max_size=4),
    lang=st.sampled_from(["da", "en"]),
)
def test_numbers_survive_a_csv_plan_in_either_language(rents, scores, lang):
    """Any rent (whole or not) and score is read back as the same number from a Danish or English CSV plan."""
    plan = {
        **PLAN,
        "objective": {"housed_by_priority": {"1": len(rents)}, "total_score": scores[0]},
        "assignments": [
            {"citizen": f"c{i}", "unit": f"u{i}", "subsidised": False, "effective_rent_kr": r, "score": s}
            for i, (r, s) in enumerate(zip(rents, scores, strict=False))
        ],
    }
    with tempfile.TemporaryDirectory() as tmp:
        write_plan_csv(plan, Path(tmp) / "plan", lang=lang)
        back = read_plan_tables(Path(tmp) / "plan")
    for a, b in zip(plan["assignments"], back["assignments"], strict=True):
        assert b["effective_rent_kr"] == a["effective_rent_kr"]
        assert b["score"] == a["score"] and isinstance(b["score"], float)
    assert back["objective"]["total_score"] == scores[0]
