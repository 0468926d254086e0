"""Instances and plans as tables: a folder of CSV files or one ``.xlsx`` workbook.

Layout (the same for CSV and xlsx)
----------------------------------
* One CSV file / one sheet per table of FORMAT.md §1: ``regions``,
  ``municipalities``, ``organisations``, ``departments``, ``units``,
  ``agreements``, ``ledger``, ``citizens``, ``scores`` (file ``units.csv``,
  sheet ``units``, ...). The first row names the columns, which are the JSON
  field names. A table with no rows may be left out.
* ``parameters`` is a key/value table (columns ``key``, ``value``) holding the
  round's parameters and also ``format`` and ``name``. It is required.
* List-valued cells are ``;``-separated: ``family;youth``, rooms ``1;2``,
  ``subsidy_band_kr`` ``4500;6500``. Lists of pairs are written
  ``key:value;key2:value2`` -- citizen ``preferences`` as
  ``department:weight``, ``priority_weights`` as ``1:100;2:10`` -- and split
  on the *last* ``:``, as ids may contain ``:``.
* An empty cell means "field absent", so the FORMAT.md default applies (for
  an agreement's list filters: not applied, i.e. null). Hence an explicitly
  empty list that differs from the default (citizen ``kinds`` ``[]``,
  agreement ``rooms`` ``[]``) cannot be written as a table; nor can an id
  holding ``;`` inside a list cell, or list items with surrounding blanks.

Reading converts each cell with the type of its field in :mod:`models.schema`
(ids and names stay strings even when they look like numbers, or were typed
as numbers in a workbook). A cell that cannot be converted is kept as the
raw text, so that validation reports it with its path, e.g.
``units[3].rooms: Input should be a valid integer (got 'two')``. Ids and
names are kept verbatim; numbers, booleans, enumerated words and list items
are read with surrounding blanks removed. Columns that are not fields are
kept (validation warns about them). Problems with a file as a whole (no
``parameters`` table, an unreadable workbook, a duplicated column, ...)
raise :class:`~models.validate.InstanceError` naming the file or sheet.

Plans (FORMAT.md §5) are exported for planners as the tables
``assignments``, ``unassigned``, ``usage_<what>`` (from ``plan["usage"]``)
and ``summary`` (key/value).

Everything written is deterministic: the same document gives the same bytes.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import re
import tempfile
import types
import typing
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from models.plan import Plan, plan_document
from models.schema import RECORD_OF, TABLES, Body, Parameters
from models.validate import InstanceError, Problem, UnknownFieldWarning

PARAMETERS = "parameters"
LIST_SEP = ";"
PAIR_SEP = ":"
FIXED_TIME = datetime.datetime(2000, 1, 1)
"""Creation and modification time written into every workbook (bytes must not depend on the clock)."""
MAX_SHEET_ROWS = 1_048_576

TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})
INT_RE = re.compile(r"[+-]?\d+")
NUMBER_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


# ---------------------------------------------------------------------------
# Field types, derived from models.schema
# ---------------------------------------------------------------------------
#
# A cell type is one of "str" (kept verbatim), "word" (an enumerated word),
# "int", "float", "bool", ("list", item type), ("map", value type) for
# ``k:v;k2:v2`` into a dict, or ("pairs", key field, value field, value type)
# for ``k:v;k2:v2`` into a list of two-field records.


def cell_type(annotation):
    """The cell type of a field annotation of :mod:`models.schema`."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return cell_type(args[0])
    if origin in (typing.Union, types.UnionType):  # Optional[X]: None is written as an empty cell
        (inner,) = [a for a in args if a is not type(None)]
        return cell_type(inner)
    if origin is typing.Literal:
        return "word"
    if origin is tuple:
        item = args[0]
        if isinstance(item, type) and issubclass(item, BaseModel):
            (key, _), (value, value_info) = item.model_fields.items()
            return ("pairs", key, value, cell_type(value_info.annotation))
        return ("list", cell_type(item))
    if origin is dict:
        return ("map", cell_type(args[1]))
    return {str: "str", int: "int", float: "float", bool: "bool"}[annotation]


def _field_types(model) -> dict:
    return {name: cell_type(info.annotation) for name, info in model.model_fields.items()}


FIELD_TYPES: dict[str, dict] = {name: _field_types(rec) for name, rec in RECORD_OF.items()}
FIELD_TYPES["scores"] = {"citizen": "str", "unit": "str", "score": "float"}
PARAMETER_TYPES = {"format": "str", "name": "str", **_field_types(Parameters)}
TOP_LEVEL = ("format", "name")
assert set(TOP_LEVEL) <= set(Body.model_fields)


# ---------------------------------------------------------------------------
# Cells → values
# ---------------------------------------------------------------------------


def is_empty(value) -> bool:
    """An empty cell: nothing, or only blanks."""
    return value is None or (isinstance(value, str) and not value.strip())


def convert(value, kind):
    """A cell value (text, or a number / bool from a workbook) as the field's type.

    Returns the value unchanged when it does not convert, so that validation
    reports it.
    """
    if isinstance(value, str):
        return _from_text(value, kind)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if kind in ("str", "word") or isinstance(kind, tuple):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        text = str(value) if isinstance(value, int) else repr(value)
        return text if kind in ("str", "word") else _from_text(text, kind)
    if kind == "bool" and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value  # numbers and booleans are already typed; anything else stays raw


def _from_text(text: str, kind):
    if kind == "str":
        return text
    s = text.strip()
    if kind == "word":
        return s
    if kind == "int":
        if INT_RE.fullmatch(s):
            return int(s)
        if NUMBER_RE.fullmatch(s) and float(s).is_integer():
            return int(float(s))
        return text
    if kind == "float":
        if INT_RE.fullmatch(s):
            return int(s)
        return float(s) if NUMBER_RE.fullmatch(s) else text
    if kind == "bool":
        low = s.lower()
        return True if low in TRUE_WORDS else False if low in FALSE_WORDS else text
    items = [item.strip() for item in s.split(LIST_SEP) if item.strip()]
    if kind[0] == "list":
        return [_from_text(item, kind[1]) for item in items]
    if kind[0] == "pairs":
        _, key, value, value_kind = kind
        out = []
        for item in items:
            k, sep, v = item.rpartition(PAIR_SEP)
            out.append({key: k.strip(), value: _from_text(v, value_kind)} if sep else item)
        return out
    # ("map", value kind): one malformed item leaves the whole cell raw
    pairs = [item.rpartition(PAIR_SEP) for item in items]
    if not all(sep for _, sep, _ in pairs):
        return text
    return {k.strip(): _from_text(v, kind[1]) for k, _, v in pairs}


# ---------------------------------------------------------------------------
# Values → cells
# ---------------------------------------------------------------------------


def to_text(value) -> str:
    """A document value as the text of one cell (the inverse of :func:`convert`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dict):
        return LIST_SEP.join(f"{k}{PAIR_SEP}{to_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return LIST_SEP.join(
            PAIR_SEP.join(to_text(v) for v in item.values()) if isinstance(item, dict) else to_text(item)
            for item in value
        )
    return str(value)


def to_cell(value):
    """A document value as a workbook cell: numbers and booleans stay typed, lists become text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return to_text(value)


def columns(rows: list[dict], default=()) -> list[str]:
    """``default`` followed by every other key of the rows, in first-seen order."""
    out = dict.fromkeys(default)
    for r in rows:
        out.update(dict.fromkeys(r))
    return list(out)


def instance_tables(doc: dict) -> dict[str, tuple[list[str], list[list]]]:
    """The tables of an instance document: ``{name: (header, rows of values)}``, parameters first."""
    params = {k: doc.get(k) for k in TOP_LEVEL}
    params.update(doc.get(PARAMETERS) or {})
    tables = {PARAMETERS: (["key", "value"], [[k, v] for k, v in params.items()])}
    for name in TABLES:
        records = doc.get(name) or []
        header = columns(records, FIELD_TYPES[name])
        tables[name] = (header, [[r.get(c) for c in header] for r in records])
    return tables


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def read_csv_folder(path) -> dict:
    """Read an instance from a folder of CSV files.

    Parameters
    ----------
    path
        The folder holding ``parameters.csv``, ``units.csv``, ...

    Returns
    -------
    dict
        The raw ``anvis/1`` document, not yet validated.

    Raises
    ------
    InstanceError
        When a file as a whole is wrong (no ``parameters.csv``, not UTF-8, a
        duplicated column, ...).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise InstanceError(str(path), [Problem("", "expected a folder of CSV files (parameters.csv, units.csv, ...)")])
    files = {p.stem.strip().lower(): p for p in sorted(folder.iterdir()) if p.suffix.lower() == ".csv" and p.is_file()}
    grids, problems = {}, []
    for key, file in files.items():
        if key not in TABLES and key != PARAMETERS:
            warnings.warn(
                f"{path}: ignoring {file.name}, which is not a table of anvis/1", UnknownFieldWarning, stacklevel=3
            )
            continue
        try:
            with open(file, encoding="utf-8-sig", newline="") as f:
                grids[key] = list(csv.reader(f))
        except UnicodeDecodeError as exc:
            problems.append(Problem(file.name, f"not UTF-8 text: {exc.reason} at byte {exc.start}"))
        except (OSError, csv.Error) as exc:
            problems.append(Problem(file.name, f"cannot read: {exc}"))
    return _document(grids, lambda name: f"{name}.csv", str(path), problems)


def read_xlsx(path) -> dict:
    """Read an instance from an ``.xlsx`` workbook with one sheet per table.

    Parameters
    ----------
    path
        The workbook; sheets ``parameters``, ``units``, ...

    Returns
    -------
    dict
        The raw ``anvis/1`` document, not yet validated.

    Raises
    ------
    InstanceError
        When the workbook cannot be read, or a sheet as a whole is wrong.
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InstanceError(str(path), [Problem("", f"cannot read workbook: {exc or type(exc).__name__}")]) from None
    grids = {}
    try:
        for ws in wb.worksheets:
            key = ws.title.strip().lower()
            if key not in TABLES and key != PARAMETERS:
                warnings.warn(
                    f"{path}: ignoring sheet {ws.title!r}, which is not a table of anvis/1",
                    UnknownFieldWarning,
                    stacklevel=3,
                )
                continue
            ws.reset_dimensions()  # stored dimensions may be wrong; read every row
            grids[key] = [list(row) for row in ws.iter_rows(values_only=True)]
    except Exception as exc:
        raise InstanceError(str(path), [Problem("", f"cannot read workbook: {exc or type(exc).__name__}")]) from None
    finally:
        wb.close()
    return _document(grids, lambda name: f"{name} sheet", str(path))


def _document(grids: dict[str, list[list]], place, source: str, problems=None) -> dict:
    """The raw document of the grids (rows of cells) of each table; raises on file-level problems."""
    problems = list(problems or [])
    doc: dict = {}
    if PARAMETERS in grids:
        doc.update(_parameters(grids[PARAMETERS], place(PARAMETERS), problems))
    elif not any(p.path == place(PARAMETERS) for p in problems):
        problems.append(Problem(place(PARAMETERS), "missing: the key/value table with format, name and the parameters"))
    for name in TABLES:
        doc[name] = _records(grids[name], FIELD_TYPES[name], place(name), problems) if name in grids else []
    if problems:
        raise InstanceError(source, problems)
    return doc


def _trim(row: list) -> list:
    """A row without its trailing empty cells."""
    end = len(row)
    while end and is_empty(row[end - 1]):
        end -= 1
    return row[:end]


def _header(grid: list[list], where: str, problems: list[Problem]) -> list[str] | None:
    """The column names of a table (first row), or None when they are unusable."""
    header = _trim(grid[0]) if grid else []
    names = [str(convert(c, "str")).strip() if c is not None else "" for c in header]
    ok = True
    for i, name in enumerate(names):
        if not name:
            problems.append(Problem(where, f"column {i + 1} has no name in the first row"))
            ok = False
        elif name in names[:i]:
            problems.append(Problem(where, f"column {name!r} appears twice"))
            ok = False
    return names if ok else None


def _rows(grid: list[list], header: list[str], where: str, problems: list[Problem]):
    """The non-blank data rows, as dicts of the non-empty cells."""
    for line, row in enumerate(grid[1:], start=2):
        row = _trim(row)
        if not row:
            continue
        if len(row) > len(header):
            problems.append(Problem(where, f"row {line} has {len(row)} cells but only {len(header)} columns are named"))
            continue
        yield {name: cell for name, cell in zip(header, row) if not is_empty(cell)}


def _records(grid: list[list], types: dict, where: str, problems: list[Problem]) -> list[dict]:
    header = _header(grid, where, problems)
    if header is None:
        return []
    return [
        {k: convert(v, types[k]) if k in types else v for k, v in row.items()}
        for row in _rows(grid, header, where, problems)
    ]


def _parameters(grid: list[list], where: str, problems: list[Problem]) -> dict:
    """``format``, ``name`` and ``parameters`` of the key/value table."""
    header = _header(grid, where, problems)
    if header is None:
        return {}
    if not {"key", "value"} <= set(header):
        problems.append(Problem(where, f"needs the columns 'key' and 'value' (found {', '.join(header) or 'none'})"))
        return {}
    doc, params, seen = {}, {}, set()
    for row in _rows(grid, header, where, problems):
        key = str(convert(row.get("key", ""), "str")).strip()
        if not key:
            problems.append(Problem(where, f"a value without a key: {row.get('value')!r}"))
            continue
        if key in seen:
            problems.append(Problem(where, f"key {key!r} appears twice"))
            continue
        seen.add(key)
        if "value" not in row:
            continue  # empty: absent, the default applies
        value = convert(row["value"], PARAMETER_TYPES.get(key, "str"))
        (doc if key in TOP_LEVEL else params)[key] = value
    doc[PARAMETERS] = params
    return doc


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def write_csv_folder(doc: dict, path) -> None:
    """Write an instance document as a folder of CSV files.

    Every table is written, an empty one as its header only, and
    ``parameters.csv`` with format, name and every parameter.

    Parameters
    ----------
    doc
        A canonical document, :meth:`models.Instance.to_dict`.
    path
        The folder; created if needed. Files of the same names are replaced.
    """
    _write_csv_tables(instance_tables(doc), Path(path))


def write_xlsx(doc: dict, path) -> None:
    """Write an instance document as one workbook, one sheet per table (``parameters`` first).

    Parameters
    ----------
    doc
        A canonical document, :meth:`models.Instance.to_dict`.
    path
        The file to write (the caller moves it into place).
    """
    _write_workbook(instance_tables(doc), path)


def write_plan_csv(plan: Plan | Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Export a plan as a folder of CSV files for planners.

    Writes ``assignments.csv``, ``unassigned.csv``, one ``usage_<what>.csv``
    per entry of ``plan["usage"]`` (stale ``usage_*.csv`` files of an earlier
    export are removed) and ``summary.csv`` (key/value).

    Parameters
    ----------
    plan
        A :class:`~models.plan.Plan`, or an ``anvis-plan/1`` document (FORMAT.md §5).
    path
        The folder; created if needed.
    """
    folder = Path(path)
    tables = plan_tables(plan_document(plan))
    _write_csv_tables(tables, folder)
    for stale in sorted(folder.glob("usage_*.csv")):
        if stale.stem not in tables:
            stale.unlink()


def write_plan_xlsx(plan: Plan | Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Export a plan as one workbook with the tables of :func:`write_plan_csv` as sheets.

    Parameters
    ----------
    plan
        A :class:`~models.plan.Plan`, or an ``anvis-plan/1`` document (FORMAT.md §5).
    path
        The file to write (the caller moves it into place).
    """
    _write_workbook(plan_tables(plan_document(plan)), path)


ASSIGNMENT_COLUMNS = ("citizen", "unit", "subsidised", "effective_rent_kr", "score")
UNASSIGNED_COLUMNS = ("citizen", "priority", "code", "reason")
USAGE_KEY = {"pools": "pool", "departments": "department", "frames": "municipality", "quotas": "region"}
"""The column naming the row of each usage table, when ``usage`` maps ids to figures."""


def plan_tables(plan: dict) -> dict[str, tuple[list[str], list[list]]]:
    """The tables of a plan: ``{name: (header, rows of values)}``.

    Nested values (dicts and lists, e.g. ``details``) are compact JSON text.
    """
    assignments = [r for r in plan.get("assignments") or [] if isinstance(r, dict)]
    unassigned = [r for r in plan.get("unassigned") or [] if isinstance(r, dict)]
    header = columns(assignments) or list(ASSIGNMENT_COLUMNS)
    tables = {"assignments": _plan_table(assignments, header)}
    present = columns(unassigned)
    header = [c for c in UNASSIGNED_COLUMNS if c in present or c in ("citizen", "reason")]
    tables["unassigned"] = _plan_table(unassigned, columns(unassigned, header))
    usage = plan.get("usage")
    if isinstance(usage, dict):
        for what, figures in usage.items():
            key = USAGE_KEY.get(what, "id")
            rows = _usage_rows(figures, key)
            tables[f"usage_{what}"] = _plan_table(rows, columns(rows, [key]))
    tables["summary"] = (["key", "value"], [[k, _plan_value(v)] for k, v in _summary(plan).items()])
    return tables


def _usage_rows(figures, key: str) -> list[dict]:
    if isinstance(figures, list):
        return [r if isinstance(r, dict) else {"value": r} for r in figures]
    if isinstance(figures, dict):
        return [{key: k, **v} if isinstance(v, dict) else {key: k, "value": v} for k, v in figures.items()]
    return [{"value": figures}]


def _summary(plan: dict) -> dict:
    """``format``, ``instance``, ``status``, ``total_score``, ``housed_priority_<p>``, then any other scalar."""
    objective = plan.get("objective") if isinstance(plan.get("objective"), dict) else {}
    out = {k: plan.get(k) for k in ("format", "instance", "status")}
    out["total_score"] = objective.get("total_score")
    out.update({f"housed_priority_{p}": n for p, n in (objective.get("housed_by_priority") or {}).items()})
    out.update({f"objective_{k}": v for k, v in objective.items() if k not in ("total_score", "housed_by_priority")})
    out.update(
        {k: v for k, v in plan.items() if k not in out and k not in ("objective", "assignments", "unassigned", "usage")}
    )
    return out


def _plan_table(rows: list[dict], header: list[str]) -> tuple[list[str], list[list]]:
    return header, [[_plan_value(r.get(c)) for c in header] for r in rows]


def _plan_value(value):
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _write_csv_tables(tables: dict[str, tuple[list[str], list[list]]], folder: Path) -> None:
    """One ``<name>.csv`` per table, each replaced in one step (no half-written file)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in tables.items():
        target = folder / f"{name}.csv"
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                out = csv.writer(f, lineterminator="\n")
                out.writerow(header)
                out.writerows([to_text(v) for v in row] for row in rows)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def _write_workbook(tables: dict[str, tuple[list[str], list[list]]], path) -> None:
    """One sheet per table, then freeze the clock-dependent parts of the file."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    for name, (header, rows) in tables.items():
        if len(rows) + 1 > MAX_SHEET_ROWS:
            raise ValueError(f"table {name} has {len(rows)} rows, more than a sheet holds ({MAX_SHEET_ROWS - 1})")
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows:
            cells = [to_cell(v) for v in row]
            for i, c in enumerate(cells):
                if isinstance(c, str) and c.startswith("="):  # text, not a formula
                    cells[i] = WriteOnlyCell(ws, c)
                    cells[i].data_type = "s"
            ws.append(cells)
    wb.properties.creator = "anvis"
    wb.properties.created = FIXED_TIME
    wb.save(path)
    wb.properties.modified = FIXED_TIME  # openpyxl stamps the time of saving
    _freeze_zip(path, {"docProps/core.xml": _xml(wb.properties.to_tree())})


def _xml(tree) -> bytes:
    from openpyxl.xml.functions import tostring

    return tostring(tree)


def _freeze_zip(path, replace: dict[str, bytes]) -> None:
    """Rewrite a zip file with fixed entry times (and some entries replaced), so bytes do not depend on the clock."""
    with zipfile.ZipFile(path) as z:
        entries = [(info.filename, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, replace.get(name, data))
