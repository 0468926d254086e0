"""Fuzzing the readers: a mutated instance, workbook or CSV folder is read or refused, never a crash.

``models.load`` must return an :class:`~models.Instance` or raise
:class:`~models.InstanceError` (which the CLI turns into exit 2 and one line per
problem) -- never another exception. What it accepts, ``convert`` must keep exactly.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import warnings
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.utils import get_column_letter

import models

from conftest import doc

# ANVIS_FUZZ_EXAMPLES=2000 fuzzes longer (e.g. before a release); CI runs a quick 40 per reader.
FUZZ = settings(
    max_examples=int(os.environ.get("ANVIS_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

VALID = doc(
    [
        {"id": "c1", "priority": 1, "preferences": [{"department": "D", "weight": 2}], "kinds": ["family", "youth"]},
        {"id": "c2", "priority": 2, "vulnerable": True, "subsidy_eligible": True, "excluded_departments": ["D"]},
    ],
    [{"id": "u1", "rent_kr": 4800}, {"id": "u2", "rooms": 1, "kind": "youth"}],
    ledger=[{"pool": "all", "vacancies_before": 3, "claimed_before": 1}],
    scores=[{"citizen": "c1", "unit": "u1", "score": 87.5}],
    parameters={"objective": "weighted", "priority_weights": {"1": 100, "2": 10}},
)
TABLES = [t for t in VALID if isinstance(VALID[t], list) and VALID[t]]

texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["=1+2", "+1", "-0", "-5", "@x", "'q", " x ", "a;b", "a:1;b", "1e400", "nan", "true", "\r\n", ""]),
    st.integers(min_value=0, max_value=6000).map(lambda n: "9" * n),
)
values = st.one_of(
    texts,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from([[], {}]),
    st.lists(st.one_of(texts, st.integers(-3, 3)), max_size=3),
    st.dictionaries(texts, st.one_of(texts, st.integers(-3, 3)), max_size=2),
)


def outcome(path: Path) -> models.Instance | None:
    """Load a file: an Instance or None for an InstanceError; any other exception fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            inst = models.load(path)
        except models.InstanceError as exc:
            assert exc.problems and all(str(p) for p in exc.problems)
            event("refused")
            return None
    event("read")
    return inst


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict:
    d = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        table = draw(st.sampled_from([*TABLES, "parameters", "top"]))
        if table == "top":
            d[draw(st.sampled_from(["format", "name", "citizens", "scores", "extra"]))] = draw(values)
        elif table == "parameters":
            d["parameters"][draw(st.sampled_from(["default_share", "priority_weights", "objective", "x"]))] = draw(
                values
            )
        elif isinstance(d.get(table), list) and d[table]:
            record = draw(st.sampled_from(d[table]))
            if isinstance(record, dict):
                keys = [*sorted(record), "id", "extra"]
                record[draw(st.sampled_from(keys))] = draw(values)
    return d


@FUZZ
@given(mutated_documents())
def test_mutated_documents_are_read_or_refused_and_convert_exactly(document):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "i.json"
        try:
            path.write_text(json.dumps(document), encoding="utf-8")
        except (UnicodeEncodeError, ValueError):  # lone surrogates: write them escaped
            path.write_text(json.dumps(document, ensure_ascii=True), encoding="utf-8")
        inst = outcome(path)
        if inst is None:
            return
        for target in ("csv", "i.xlsx", "copy.json"):
            models.save(inst, Path(tmp) / target)
            again = outcome(Path(tmp) / target)
            assert again is not None and again.sha256 == inst.sha256, target


@FUZZ
@given(st.binary(max_size=8), st.integers(min_value=0), st.booleans())
def test_mutated_json_text_is_read_or_refused(data, at, duplicate):
    text = json.dumps(VALID).encode()
    at %= len(text)
    text = text[:at] + data + text[at + len(data) :]
    if duplicate:
        text = text.replace(b'"priority": 2', b'"priority": 2, "priority": 2')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "i.json"
        path.write_bytes(text)
        outcome(path)


csv_cells = st.one_of(
    texts,
    st.sampled_from(['"', 'a"b', '"open', ";", "\t", "\x00", "id", "'=x"]),
)


@FUZZ
@given(st.data())
def test_mutated_csv_folders_are_read_or_refused(data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "csv"
        models.save(models.from_dict(VALID), folder)
        files = sorted(folder.iterdir())
        for _ in range(data.draw(st.integers(1, 3))):
            file = data.draw(st.sampled_from(files))
            lines = file.read_text(encoding="utf-8", errors="replace").split("\n")
            action = data.draw(st.sampled_from(["cell", "header", "truncate", "bytes", "delimiter"]))
            if action == "truncate":
                file.write_bytes(file.read_bytes()[: data.draw(st.integers(0, 40))])
                continue
            if action == "bytes":
                file.write_bytes(data.draw(st.binary(max_size=30)))
                continue
            if action == "delimiter":
                file.write_text("\n".join(line.replace(",", ";") for line in lines), encoding="utf-8")
                continue
            row = 0 if action == "header" else data.draw(st.integers(0, len(lines) - 1))
            cells = lines[row].split(",")
            col = data.draw(st.integers(0, len(cells)))
            new = cells[0] if action == "header" else data.draw(csv_cells)
            cells[col:col] = [new] if data.draw(st.booleans()) else []
            if col < len(cells) and action == "cell":
                cells[col] = new
            lines[row] = ",".join(cells)
            try:
                file.write_text("\n".join(lines), encoding="utf-8")
            except UnicodeEncodeError:
                file.write_text("\n".join(lines), encoding="utf-8", errors="replace")
        outcome(folder)


xlsx_values = st.one_of(
    texts.map(lambda t: ILLEGAL_CHARACTERS_RE.sub("", t)),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.sampled_from(["=1+2", "=A1", "=1/0", "=SUM(B2:B3)"]),
    st.datetimes(),
)


@FUZZ
@given(st.data())
def test_mutated_workbooks_are_read_or_refused(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "i.xlsx"
        models.save(models.from_dict(VALID), path)
        wb = openpyxl.load_workbook(path)
        for _ in range(data.draw(st.integers(1, 3))):
            ws = data.draw(st.sampled_from(wb.worksheets))
            action = data.draw(st.sampled_from(["cell", "cell", "merge", "far", "header", "title"]))
            row = data.draw(st.integers(1, ws.max_row + 1))
            col = data.draw(st.integers(1, ws.max_column + 1))
            if action == "cell":
                cell = ws.cell(row=row, column=col)
                if not isinstance(cell, MergedCell):  # openpyxl keeps a merged range's value in its first cell
                    cell.value = data.draw(xlsx_values)
            elif action == "merge":
                ws.merge_cells(f"{get_column_letter(col)}{row}:{get_column_letter(col)}{row + 1}")
            elif action == "far":
                cell = ws.cell(row=row, column=data.draw(st.integers(col, 16384)))
                if not isinstance(cell, MergedCell):
                    cell.value = "x"
            elif action == "header":
                cell = ws.cell(row=1, column=col)
                if not isinstance(cell, MergedCell):
                    cell.value = ws.cell(row=1, column=1).value
            else:
                ws.title = data.draw(st.sampled_from(["Citizens ", "units\u00a0", "other", "SCORES"]))
        try:
            wb.save(path)
        except ValueError:  # openpyxl refused the mutation itself (e.g. a repeated sheet title)
            return
        outcome(path)


@pytest.mark.parametrize("target", ["csv", "i.xlsx"])
def test_the_valid_base_converts_exactly(target, tmp_path):
    """The fuzzers start from a document that reads and converts (so their mutations are what fails)."""
    inst = models.from_dict(VALID)
    models.save(inst, tmp_path / target)
    assert models.load(tmp_path / target).sha256 == inst.sha256
