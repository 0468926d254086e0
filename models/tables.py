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
  an agreement's list filters: not applied, i.e. null). An explicitly empty
  list that differs from the default (citizen ``kinds`` ``[]``, agreement
  ``rooms`` ``[]``) is a cell holding only ``;``.
* Ids are kept exactly, which is why validation refuses the few ids no table
  can hold (:func:`models.schema.id_problem`: blanks at either end, control
  characters, ``;``).
* In CSV, text that a spreadsheet would run as a formula (starting with
  ``=``, ``+``, ``-``, ``@``, a tab or a line break) is written with a leading
  ``'``, and so is text starting with ``'``; reading removes one leading
  ``'`` from every cell, so each value reads back as written. Numbers are
  never quoted (``-5`` is the number -5). In xlsx such text is a string cell,
  never a formula.

Reading also takes a municipality's own sheets: tables and columns may have
their Danish names or synonyms (``boliger``, ``Husleje pr. md.``,
``Max husleje (kr)``; :mod:`models.headers`, matched whatever the case, blanks
and punctuation) or the names a planner's ``--columns`` map gives. Columns that
name no field are left out, all named in one warning; a required column that
is missing is one problem naming the sheet and the header most like it.

Reading converts each cell with the type of its field in :mod:`models.schema`
(ids and names stay strings even when they look like numbers, or were typed
as numbers in a workbook). Numbers may be written in either notation
(:func:`read_number`): ``4.500,50`` is 4500.5; ``4.500`` is 4500 in a sheet
with Danish column names and is refused elsewhere (4500 or 4.5?), never read
as 4.5. Floats are written so that they read one way (``12.3450``). A cell
that cannot be converted is kept as the raw text, so that validation reports
it; every problem of a record is named by its file or sheet, the row as the
spreadsheet shows it (row 1 is the header) and the column, e.g.
``units.csv, row 5, column C 'rooms': Input should be a valid integer (got
'two')``. Ids and names are kept verbatim; numbers, booleans (also ja/nej),
enumerated words and list items are read with surrounding blanks removed.
Problems with a file as a whole (no ``parameters`` table, an unreadable
workbook, a duplicated column, two files or sheets for one table, an empty
file, an unclosed quote, a ``;``-separated CSV, ...) raise
:class:`~models.validate.InstanceError` naming the file or sheet. A
workbook's formulas are read as their stored results; a formula without one,
an error value and merged cells are refused, naming the cell.

Plans (FORMAT.md §5) are written for planners (:func:`plan_tables`), in Danish
by default or in English: ``assignments`` (``anvisninger``; with the rent
before and after the subsidy when the instance is given), ``unassigned``
(``ikke anvist``, short reasons), ``reasons`` (``begrundelser``, the full
reasons and details), ``usage_<what>`` (``forbrug ...``) and ``summary``
(``oversigt``, key/value); a workbook's sheets have a bold frozen header with
filters and fitted widths. :func:`read_plan_tables` reads them back (either
language, edited or not) as the plan document.

Everything written is deterministic: the same document gives the same bytes.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import json
import os
import re
import types
import typing
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from pydantic import BaseModel

from models.headers import (
    CODE_WORDS,
    DA,
    EN,
    LANGS,
    ColumnMap,
    Lookup,
    code_of,
    code_words,
    column_lookup,
    find_table,
    header_name,
    near_table,
    normal,
    table_name,
)
from models.instance import Instance
from models.plan import Plan, plan_document
from models.schema import LIST_SEP, RECORD_OF, TABLES, Body, Parameters
from models.validate import InstanceError, Problem, UnknownFieldWarning, parse_integer, short

PARAMETERS = "parameters"
PAIR_SEP = ":"
FIXED_TIME = datetime.datetime(2000, 1, 1)
"""Creation and modification time written into every workbook (bytes must not depend on the clock)."""
MAX_SHEET_ROWS = 1_048_576

TRUE_WORDS = frozenset({"true", "1", "yes", "ja", "sand"})
FALSE_WORDS = frozenset({"false", "0", "no", "nej", "falsk"})
BOOL_WORDS = {"da": ("ja", "nej"), "en": ("yes", "no")}
"""How a plan writes booleans, by language; reading takes these and true/false, 1/0, sand/falsk."""
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

CellType: TypeAlias = str | tuple[Any, ...]


def cell_type(annotation: Any) -> CellType:
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


def _field_types(model: type[BaseModel]) -> dict[str, CellType]:
    return {name: cell_type(info.annotation) for name, info in model.model_fields.items()}


FIELD_TYPES: dict[str, dict[str, CellType]] = {name: _field_types(rec) for name, rec in RECORD_OF.items()}
FIELD_TYPES["scores"] = {"citizen": "str", "unit": "str", "score": "float"}
PARAMETER_TYPES: dict[str, CellType] = {"format": "str", "name": "str", **_field_types(Parameters)}
TOP_LEVEL = ("format", "name")
assert set(TOP_LEVEL) <= set(Body.model_fields)


# ---------------------------------------------------------------------------
# Cells → values
# ---------------------------------------------------------------------------


def is_empty(value: object) -> bool:
    """An empty cell: nothing, or only blanks."""
    return value is None or (isinstance(value, str) and not value.strip())


class Ambiguous(str):
    """A number whose text reads one way in Danish and another in English (``4.500``: 4500 or 4.5).

    Kept, like any cell that does not convert, so that the reader reports it naming the cell.
    """


DA_NUMBER = re.compile(r"[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d+)?")
"""A Danish number: ``.`` between groups of three digits, ``,`` before the decimals (``4.500,50``)."""
EN_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
"""An English number with ``,`` between groups of three digits (``4,500.50``)."""
GROUP_BLANK = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))")
"""A blank between groups of digits (``4 500``), as both languages may write them."""
AMBIGUOUS_DECIMALS = re.compile(r"-?[1-9]\d{0,2}\.\d{3}")
"""A float's ``repr`` that could be Danish thousands (``12.345``)."""
KR_SUFFIX = re.compile(r"\s*(?:kr\.?|dkk)$", re.IGNORECASE)


def read_number(text: str, danish: bool | None = None) -> int | float | str | None:
    """The number a cell's text gives, in either language's notation.

    A text with one reading (``4500``, ``4,5``, ``4.500,50``, ``1,234.5``, ``4.5``,
    ``4 500 kr``) gives it. A text that reads differently in Danish and in English
    (``4.500``: 4500 or 4.5; ``4,500``: 4.5 or 4500) gives its Danish reading in a
    Danish sheet (``danish``) and otherwise an :class:`Ambiguous`, never a guess.

    Returns
    -------
    int, float, Ambiguous or None
        None when the text is no number.
    """
    s = GROUP_BLANK.sub("", KR_SUFFIX.sub("", text.strip()))
    if INT_RE.fullmatch(s):
        return parse_integer(s)
    readings = []
    if NUMBER_RE.fullmatch(s):
        readings.append(float(s))
    elif EN_GROUPED.fullmatch(s):
        readings.append(float(s.replace(",", "")))
    if ("," in s or "." in s) and DA_NUMBER.fullmatch(s):
        readings.append(float(s.replace(".", "").replace(",", ".")))
    if not readings:
        return None
    if len(set(readings)) == 1 or danish:
        return readings[-1]  # the Danish reading comes last
    return Ambiguous(text.strip())


def convert(value: Any, kind: CellType, danish: bool | None = None) -> Any:
    """A cell value (text, or a number / bool from a workbook) as the field's type.

    Returns the value unchanged when it does not convert, so that validation
    reports it; a number written ambiguously becomes an :class:`Ambiguous`
    (``danish``: the sheet is Danish, see :func:`read_number`).
    """
    if isinstance(value, str):
        return _from_text(value, kind, danish)
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


def _from_text(text: str, kind: CellType, danish: bool | None = None) -> Any:
    if kind == "str":
        return text
    s = text.strip()
    if kind == "word":
        return s
    if kind in ("int", "float"):
        number = read_number(s, danish)
        if number is None:
            return text
        if isinstance(number, str):  # Ambiguous, or a LongInteger that validation reports
            return number
        if kind == "int" and isinstance(number, float):
            return int(number) if number.is_integer() else text
        return number
    if kind == "bool":
        low = s.lower()
        return True if low in TRUE_WORDS else False if low in FALSE_WORDS else text
    if isinstance(kind, str):  # every scalar kind is handled above
        raise ValueError(f"unknown cell type {kind!r}")
    items = [item.strip() for item in s.split(LIST_SEP) if item.strip()]
    if kind[0] == "list":
        return [_from_text(item, kind[1], danish) for item in items]
    if kind[0] == "pairs":
        _, key, value, value_kind = kind
        out: list[Any] = []
        for item in items:
            k, sep, v = item.rpartition(PAIR_SEP)
            out.append({key: k.strip(), value: _from_text(v, value_kind, danish)} if sep else item)
        return out
    # ("map", value kind): one malformed item leaves the whole cell raw
    pairs = [item.rpartition(PAIR_SEP) for item in items]
    if not all(sep for _, sep, _ in pairs):
        return text
    return {k.strip(): _from_text(v, kind[1], danish) for k, _, v in pairs}


def ambiguous_in(value: Any) -> Ambiguous | None:
    """The first :class:`Ambiguous` number in a converted cell (also inside lists and maps), or None."""
    if isinstance(value, Ambiguous):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        found = ambiguous_in(item)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------
# Values → cells
# ---------------------------------------------------------------------------


def to_text(value: Any) -> str:
    """A document value as the text of one cell (the inverse of :func:`convert`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return repr(int(value))
        text = repr(value)
        # 12.345 would read as 12345 in a Danish sheet (and is refused as ambiguous in
        # others): 12.3450 is the same number and reads one way only.
        return text + "0" if AMBIGUOUS_DECIMALS.fullmatch(text) else text
    if isinstance(value, dict):
        return LIST_SEP.join(f"{k}{PAIR_SEP}{to_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return LIST_SEP.join(
            PAIR_SEP.join(to_text(v) for v in item.values()) if isinstance(item, dict) else to_text(item)
            for item in value
        )
    return str(value)


def to_cell(value: Any) -> Any:
    """A document value as a workbook cell: numbers and booleans stay typed, lists become text.

    openpyxl writes numbers with 16 significant digits (``"%.16g"``); a number that needs
    17 (``123456789.12345679``, the largest double) is written as its exact text instead,
    which reading converts back to the same number.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value if float(f"{value:.16g}") == value else to_text(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    return to_text(value)


QUOTE = "'"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
"""Text a spreadsheet may take for a formula when it starts so (OWASP, CSV injection)."""


def csv_text(value: Any, decimal_comma: bool = False) -> str:
    """A document value as the text of a CSV cell that no spreadsheet evaluates.

    Text starting like a formula gets a leading ``'`` (and so does text that
    starts with ``'`` itself, so that :func:`unquote` gives back exactly what was
    written). Numbers stay as they are: ``-5`` is the number -5; with
    ``decimal_comma`` (a Danish CSV file) a fraction is written ``3386,5``, as Danish
    Excel reads it (a number with an exponent keeps its ``.``: no Danish form reads back).
    """
    text = to_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return text.replace(".", ",") if decimal_comma and isinstance(value, float) and "e" not in text else text
    return QUOTE + text if text.startswith((*FORMULA_START, QUOTE)) else text


def unquote(cell: str) -> str:
    """The text of a CSV cell as :func:`csv_text` was given it: one leading ``'`` removed."""
    return cell[1:] if cell.startswith(QUOTE) else cell


def columns(rows: list[dict[str, Any]], default: Collection[str] = ()) -> list[str]:
    """``default`` followed by every other key of the rows, in first-seen order."""
    out = dict.fromkeys(default)
    for r in rows:
        out.update(dict.fromkeys(r))
    return list(out)


Table = tuple[list[str], list[list[Any]]]
"""A table to write: its header and its rows of values."""


EMPTY_LIST = LIST_SEP
"""A cell holding only ``;`` is an explicitly empty list (an empty cell is the field's default)."""


def _explicit_fields(model: type[BaseModel]) -> frozenset[str]:
    """The list and map fields whose default is not empty: an empty value must be written as such."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if not isinstance(cell_type(info.annotation), str) and info.default not in ((), [], {})
    )


EXPLICIT_EMPTY = {name: _explicit_fields(rec) for name, rec in RECORD_OF.items()}
EXPLICIT_EMPTY[PARAMETERS] = _explicit_fields(Parameters)


def _value(value: Any, field: str, explicit: frozenset[str]) -> Any:
    if field in explicit and isinstance(value, (list, tuple, dict)) and not value:
        return EMPTY_LIST  # citizen kinds [] (not the default ["family"]), agreement rooms [] (not null)
    return value


def instance_tables(doc: dict[str, Any]) -> dict[str, Table]:
    """The tables of an instance document: ``{name: (header, rows of values)}``, parameters first."""
    params = {k: doc.get(k) for k in TOP_LEVEL}
    params.update(doc.get(PARAMETERS) or {})
    explicit = EXPLICIT_EMPTY[PARAMETERS]
    tables: dict[str, Table] = {
        PARAMETERS: (["key", "value"], [[k, _value(v, k, explicit)] for k, v in params.items()])
    }
    for name in TABLES:
        records = doc.get(name) or []
        header = columns(records, FIELD_TYPES[name])
        explicit = EXPLICIT_EMPTY.get(name, frozenset())
        tables[name] = (header, [[_value(r.get(c), c, explicit) for c in header] for r in records])
    return tables


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------

Row = list[Any]
Grid = list[tuple[int, Row]]
"""The rows of a table, each with its number as a spreadsheet shows it (the header row is 1)."""
Place = Callable[[str], str]
INSTANCE_TABLES = (PARAMETERS, *TABLES)


def table_key(name: str) -> str:
    """The table a file stem or sheet title names: blanks (also no-break spaces) and case do not count."""
    return name.strip().lower()


@dataclass
class Places:
    """Where each record of a table was read: the file or sheet, its rows and its columns.

    Validation names a problem by its path in the document (``units[3].rent_kr``);
    :meth:`locate` turns that into the row and column a planner sees in the
    spreadsheet (``boliger sheet, row 5, column D 'Husleje'``).
    """

    where: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[int]] = field(default_factory=dict)
    columns: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)
    """The row of each key of the parameters table."""

    def cell(self, table: str, row: int, name: str | None) -> str:
        """``<where>, row N, column X 'header'`` for field ``name`` of ``table`` (no column when unknown)."""
        out = f"{self.where.get(table, table)}, row {row}"
        column = self.columns.get(table, {}).get(name or "")
        if column is not None:
            out += f", column {_letter(column[0])} {column[1]!r}"
        return out

    def locate(self, exc: InstanceError) -> InstanceError:
        """``exc`` with each problem at a record of a table named by its sheet row and column."""
        return InstanceError(exc.source, [self._place(p) for p in exc.problems])

    def _place(self, p: Problem) -> Problem:
        m = RECORD_PATH.fullmatch(p.path)
        if m is None:
            return p
        table, index, name, rest = m.group("table"), m.group("index"), m.group("field"), m.group("rest")
        if index is None:
            key = name if table == PARAMETERS else table if name is None else None
            if key is None or key not in self.keys:
                return p
            where = f"{self.where.get(PARAMETERS, PARAMETERS)}, row {self.keys[key]}, {key}"
            return Problem(where + rest, p.message)
        rows = self.rows.get(table, [])
        if int(index) >= len(rows):
            return p
        where = self.cell(table, rows[int(index)], name)
        if name and (rest or name not in self.columns.get(table, {})):
            where += f" ({name}{rest})"  # an item of a list cell, or a field of no column: keep its path
        return Problem(where, p.message)


RECORD_PATH = re.compile(r"(?P<table>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<field>[a-z_0-9]+))?(?P<rest>.*)")


def _letter(column: int) -> str:
    """The letter of a 0-based column (0 → A, 26 → AA)."""
    out = ""
    column += 1
    while column:
        column, rem = divmod(column - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


class TableDocument(dict[str, Any]):
    """The raw document of a CSV folder or workbook, with the :class:`Places` its records came from."""

    places: Places

    def locate(self, exc: InstanceError) -> InstanceError:
        """``exc`` with problems of records named by their sheet row and column (:meth:`Places.locate`)."""
        return self.places.locate(exc)


def read_csv_folder(path: str | os.PathLike[str], columns: ColumnMap | None = None) -> TableDocument:
    """Read an instance from a folder of CSV files.

    Files and columns may have their Danish names (``boliger.csv``, ``husleje``;
    :mod:`models.headers`), or the names ``columns`` maps; other columns are
    ignored, named in one warning. Rows are named as a spreadsheet shows them.

    Parameters
    ----------
    path
        The folder holding ``parameters.csv``, ``units.csv``, ...
    columns
        A planner's column map (``--columns``), or None.

    Returns
    -------
    TableDocument
        The raw ``anvis/1`` document, not yet validated, with the rows its records came from.

    Raises
    ------
    InstanceError
        When a file as a whole is wrong (no ``parameters.csv``, not UTF-8, a
        duplicated column, two files for one table, an unclosed quote, a
        required column missing, a number that reads two ways, ...).
    """
    grids, wheres, problems = csv_grids(path, INSTANCE_TABLES, "anvis/1")
    return _document(grids, wheres, lambda name: f"{name}.csv", str(path), problems, columns)


def csv_grids(
    path: str | os.PathLike[str],
    tables: Collection[str],
    what: str,
    separators: dict[str, str] | None = None,
) -> tuple[dict[str, Grid], dict[str, str], list[Problem]]:
    """The rows of each table's CSV file in a folder, the file's name, and the problems of whole files.

    With ``separators`` (a plan's folder), each file's column separator is told from its
    first line (``;`` in a Danish plan, ``,`` otherwise, :func:`csv_separator`) and
    recorded there by table; without, every file is comma-separated.
    """
    folder = Path(path)
    if not folder.is_dir():
        first = ", ".join(f"{t}.csv" for t in list(tables)[:2])
        raise InstanceError(str(path), [Problem("", f"expected a folder of CSV files ({first}, ...)")])
    problems: list[Problem] = []
    files: dict[str, Path] = {}
    for file in sorted(folder.iterdir()):
        if file.suffix.lower() != ".csv" or not file.is_file():
            continue
        key = find_table(file.stem, tables)
        if key is None:
            warnings.warn(
                f"{path}: ignoring {file.name}, which is not a table of {what}{near_table(file.stem, tables)}",
                UnknownFieldWarning,
                stacklevel=4,
            )
            continue
        if key in files:
            problems.append(Problem(f"{key}.csv", _twice(key, files[key].name, file.name, "files")))
        else:
            files[key] = file
    grids = {}
    for key, file in files.items():
        separator = "," if separators is None else csv_separator(file, problems)
        if separator is None:
            continue
        grid = _read_csv_file(file, problems, separator)
        if grid is not None:
            grids[key] = grid
            if separators is not None:
                separators[key] = separator
    return grids, {key: file.name for key, file in files.items()}, problems


def _twice(key: str, first: str, second: str, what: str) -> str:
    return f"the {what} {first!r} and {second!r} are both the table {key!r}; keep one (nothing is merged)"


DANISH_SEPARATOR = ";"
"""The column separator of a Danish CSV plan: Danish Excel splits columns at ``;`` (``,`` is its decimal mark)."""
BOM = "\ufeff"


def csv_separator(file: Path, problems: list[Problem]) -> str | None:
    """A plan's CSV file's column separator, told by its first line: ``;`` or ``,`` (None, with a problem, if both).

    A Danish plan starts with a UTF-8 BOM and separates its header by ``;``; an English
    one by ``,`` (Excel's "CSV UTF-8" also writes a BOM, with ``,``). The header names
    hold neither, so a first line with both cannot be told apart and is refused.
    """
    try:
        with open(file, encoding="utf-8", newline="") as f:
            first = f.readline().removeprefix(BOM)
    except (OSError, UnicodeDecodeError):
        return ","  # reading the file names the problem
    if DANISH_SEPARATOR in first and "," in first:
        problems.append(
            Problem(
                file.name,
                "line 1: the header holds both ';' and ',': cannot tell which one separates the columns "
                "(a Danish plan uses ';', an English one ',')",
            )
        )
        return None
    return DANISH_SEPARATOR if DANISH_SEPARATOR in first else ","


def _read_csv_file(file: Path, problems: list[Problem], separator: str = ",") -> Grid | None:
    """The rows of one CSV file, or None (with a problem) when the file as a whole is unreadable."""
    try:
        if file.stat().st_size == 0:
            problems.append(Problem(file.name, "the file is empty (0 bytes): a table needs at least its header row"))
            return None
        with open(file, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, strict=True, delimiter=separator)
            grid: Grid = []
            line = 1  # where the row being read starts
            try:
                for number, row in enumerate(reader, start=1):
                    grid.append((number, [unquote(cell) for cell in row]))
                    line = reader.line_num + 1
            except csv.Error as exc:
                problems.append(Problem(file.name, _csv_error(str(exc), line, reader.line_num)))
                return None
        if not any(_trim(cells) for _, cells in grid):
            problems.append(
                Problem(file.name, "the file holds only blank lines: a table needs at least its header row")
            )
            return None
    except UnicodeDecodeError as exc:
        problems.append(Problem(file.name, f"not UTF-8 text: {exc.reason} at byte {exc.start}"))
        return None
    except OSError as exc:
        problems.append(Problem(file.name, f"cannot read: {exc}"))
        return None
    return grid


def _csv_error(message: str, line: int, last: int) -> str:
    if message == "unexpected end of data":
        return f'line {line}: a quote (") opens a cell that is never closed (it would run to line {last}, the end)'
    return f'line {line}: badly quoted cell ({message}); a quote inside a quoted cell is written twice ("")'


def read_xlsx(path: str | os.PathLike[str], columns: ColumnMap | None = None) -> TableDocument:
    """Read an instance from an ``.xlsx`` workbook with one sheet per table.

    A formula is read as the value the spreadsheet program last computed and stored;
    a formula without one, an error value (``#DIV/0!``) or merged cells in a table
    are refused, naming the sheet and the cell. Only the columns the header names
    are read, so a stray cell far to the right costs nothing (it is reported).
    Sheets and columns are named as for :func:`read_csv_folder`.

    Parameters
    ----------
    path
        The workbook; sheets ``parameters``, ``units``, ...
    columns
        A planner's column map (``--columns``), or None.

    Returns
    -------
    TableDocument
        The raw ``anvis/1`` document, not yet validated, with the rows its records came from.

    Raises
    ------
    InstanceError
        When the workbook cannot be read, or a sheet as a whole or a cell is wrong.
    """
    grids, wheres, problems = xlsx_grids(path, INSTANCE_TABLES, "anvis/1")
    return _document(grids, wheres, lambda name: f"{name} sheet", str(path), problems, columns)


def xlsx_grids(
    path: str | os.PathLike[str], tables: Collection[str], what: str
) -> tuple[dict[str, Grid], dict[str, str], list[Problem]]:
    """The rows of each table's sheet in a workbook, the sheet's name, and the problems of whole sheets."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InstanceError(str(path), [Problem("", f"cannot read workbook: {exc or type(exc).__name__}")]) from None
    grids: dict[str, Grid] = {}
    titles: dict[str, str] = {}
    problems: list[Problem] = []
    try:
        for ws in wb.worksheets:
            key = find_table(ws.title, tables)
            if key is None:
                hint = near_table(ws.title, tables)
                warnings.warn(
                    f"{path}: ignoring sheet {ws.title!r}, which is not a table of {what}{hint}",
                    UnknownFieldWarning,
                    stacklevel=4,
                )
                continue
            if key in titles:
                problems.append(Problem(f"{key} sheet", _twice(key, titles[key], ws.title, "sheets")))
                continue
            titles[key] = ws.title
            grids[key] = _read_sheet(wb, ws, _sheet_where(key, ws.title), problems)
    except Exception as exc:
        raise InstanceError(str(path), [Problem("", f"cannot read workbook: {exc or type(exc).__name__}")]) from None
    finally:
        wb.close()
    return grids, {key: _sheet_where(key, title) for key, title in titles.items()}, problems


def _sheet_where(key: str, title: str) -> str:
    """How problems name a sheet: ``units sheet``, or its own title when that is another name."""
    return f"{key} sheet" if table_key(title) == key else f"{title.strip()} sheet"


@contextlib.contextmanager
def _sheet_cells(wb: Any, ws: Any, data_only: bool) -> Iterator[Any]:
    """The parser of one sheet (openpyxl's), yielding ``(row number, [cell dicts])`` for the cells present.

    openpyxl's own read-only rows are padded to the sheet's widest row (one cell at
    column XFD made every row 16,384 cells: 836 MB for a 41 KB file) and drop the
    merged ranges; its parser gives only the cells present, their types and the
    merged ranges. It is not public API, hence this one place that uses it.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    with wb._archive.open(ws._worksheet_path) as src:
        yield WorkSheetParser(
            src,
            ws._shared_strings,
            data_only=data_only,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )


def _read_sheet(wb: Any, ws: Any, where: str, problems: list[Problem]) -> Grid:
    """The rows of a sheet, as wide as its header; formulas replaced by their stored values."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    grid: Grid = []
    formulas: dict[tuple[int, int], Any] = {}
    width = 0
    with _sheet_cells(wb, ws, data_only=False) as parser:
        for number, cells in parser.parse():
            present = [c for c in cells if not is_empty(c["value"])]
            last = max((c["column"] for c in present), default=0)
            if number == 1:
                width = last
            elif last and not width:
                problems.append(Problem(where, EMPTY_HEADER))
                break
            elif last > width:
                problems.append(Problem(where, f"row {number} has {last} cells but only {width} columns are named"))
                continue
            row: Row = [None] * last
            for c in present:
                column, value = c["column"], c["value"]
                if c["data_type"] == "f":
                    formulas[(number, column)] = value
                elif c["data_type"] == "e":
                    problems.append(Problem(where, f"cell {get_column_letter(column)}{number} holds the error {value}"))
                row[column - 1] = value
            grid.append((number, row))
        merged = parser.merged_cells.mergeCell if parser.merged_cells else []
    for cells in merged:
        first_column = range_boundaries(cells.ref)[0]
        if first_column is not None and (first_column <= width or width == 0):
            problems.append(
                Problem(where, f"cells {cells.ref} are merged: unmerge them and fill in every cell of the table")
            )
    if formulas:
        _formula_values(wb, ws, grid, formulas, where, problems)
    return grid


def _formula_values(
    wb: Any, ws: Any, grid: Grid, formulas: dict[tuple[int, int], Any], where: str, problems: list[Problem]
) -> None:
    """Put the stored result of each formula in its place, or report a formula without one."""
    from openpyxl.utils.cell import get_column_letter

    stored: dict[tuple[int, int], Any] = {}
    with _sheet_cells(wb, ws, data_only=True) as parser:
        for number, cells in parser.parse():
            for c in cells:
                if (number, c["column"]) in formulas:
                    stored[(number, c["column"])] = (c["value"], c["data_type"])
    rows = dict(grid)
    for (number, column), formula in formulas.items():
        value, data_type = stored.get((number, column), (None, "n"))
        cell = f"cell {get_column_letter(column)}{number}"
        text = getattr(formula, "text", formula)  # array formulas are objects
        if value is None:
            problems.append(
                Problem(
                    where,
                    f"{cell} holds the formula {short(text)} without a computed value: open and save the "
                    "workbook in a spreadsheet program, or type the value",
                )
            )
        elif data_type == "e":
            problems.append(Problem(where, f"{cell} holds the formula {short(text)}, which gives the error {value}"))
        else:
            rows[number][column - 1] = value


def _document(
    grids: dict[str, Grid],
    wheres: dict[str, str],
    default: Place,
    source: str,
    problems: list[Problem],
    columns: ColumnMap | None,
) -> TableDocument:
    """The raw document of the grids (rows of cells) of each table; raises on file-level problems.

    ``wheres`` names the file or sheet of each table read, ``default`` that of a table absent.
    """
    doc = TableDocument()
    places = doc.places = Places(where={name: wheres.get(name) or default(name) for name in INSTANCE_TABLES})
    ignored: list[str] = []
    if PARAMETERS in grids:
        doc.update(_parameters(grids[PARAMETERS], places, problems))
    elif not any(p.path == places.where[PARAMETERS] for p in problems):
        problems.append(
            Problem(places.where[PARAMETERS], "missing: the key/value table with format, name and the parameters")
        )
    for name in TABLES:
        if name not in grids:
            doc[name] = []
            continue
        table = TableReader(name, FIELD_TYPES[name], places.where[name], columns)
        doc[name] = table.records(grids[name], places, problems)
        ignored += [f"{table.where} {h!r}" for h in table.ignored]
    if ignored:
        warnings.warn(
            f"{source}: ignoring columns that name no field: {', '.join(ignored)} "
            "(name them as the fields, or map them with --columns MAP.toml)",
            UnknownFieldWarning,
            stacklevel=4,
        )
    if problems:
        raise InstanceError(source, problems)
    return doc


def _trim(row: Row) -> Row:
    """A row without its trailing empty cells."""
    end = len(row)
    while end and is_empty(row[end - 1]):
        end -= 1
    return row[:end]


EMPTY_HEADER = "the first row is empty: it must name the columns"
SEPARATORS = (";", "\t", "|")
"""Column separators of other CSV dialects (Excel in Danish locales writes ';')."""


def _header(grid: Grid, known: Callable[[str], bool], where: str, problems: list[Problem]) -> list[str] | None:
    """The column names of a table (its row 1), or None when they are unusable."""
    header = _trim(grid[0][1]) if grid and grid[0][0] == 1 else []
    names = [str(convert(c, "str")).strip() if c is not None else "" for c in header]
    if not names and any(_trim(cells) for number, cells in grid if number != 1):
        # one line, not one "has cells but only 0 columns are named" per data row
        problems.append(Problem(where, EMPTY_HEADER))
        return None
    for name in names:
        parts = [part.strip() for sep in SEPARATORS for part in name.split(sep) if sep in name]
        if not known(name) and any(known(part) for part in parts if part):
            sep = next(sep for sep in SEPARATORS if sep in name)
            problems.append(
                Problem(
                    where,
                    f"the column names {short(name)} are one cell, separated by {sep!r}: anvis reads "
                    'comma-separated CSV (save as "CSV UTF-8 (comma delimited)")',
                )
            )
            return None
    nameless = [i + 1 for i, name in enumerate(names) if not name]
    if nameless:
        more = f" (and {len(nameless) - 1} more columns)" if len(nameless) > 1 else ""
        problems.append(Problem(where, f"column {nameless[0]} has no name in the first row{more}"))
    twice = [name for i, name in enumerate(names) if name and name in names[:i]]
    problems.extend(Problem(where, f"column {name!r} appears twice") for name in dict.fromkeys(twice))
    return None if nameless or twice else names


def _rows(grid: Grid, width: int, where: str, problems: list[Problem]) -> Iterator[tuple[int, Row]]:
    """The non-blank data rows with their numbers, each as wide as the header at most."""
    for number, cells in grid:
        if number == 1:
            continue  # the header
        row = _trim(cells)
        if not row:
            continue
        if len(row) > width:
            problems.append(Problem(where, f"row {number} has {len(row)} cells but only {width} columns are named"))
            continue
        yield number, row


class TableReader:
    """How one table's columns are read: which field each header names, in which language.

    Parameters
    ----------
    name
        The canonical table (``units``).
    types
        Its fields and their cell types.
    where
        The file or sheet, as problems name it.
    columns
        A planner's column map, or None.
    """

    def __init__(self, name: str, types: Mapping[str, CellType], where: str, columns: ColumnMap | None):
        self.name, self.types, self.where, self.columns = name, types, where, columns
        self.lookup: Lookup = column_lookup(name, types)
        self.ignored: list[str] = []

    def field_of(self, header: str) -> str | None:
        """The field a header names: by the planner's map first, then by any of the field's names."""
        return (self.columns.find(self.name, header) if self.columns else None) or self.lookup.find(header)

    def known(self, header: str) -> bool:
        """Whether a header names a field."""
        return self.field_of(header) is not None

    def fields(self, header: list[str], problems: list[Problem], grid: Grid | None = None) -> list[str | None] | None:
        """The field of each column (None: ignored), or None when two columns name one field.

        Of two columns naming one field, one that is empty in every row of ``grid`` is
        ignored: an earlier export of a usage table had an empty ``pool`` column beside
        the ids in ``id``.
        """
        fields = [self.field_of(h) for h in header]
        self.ignored = [h for h, f in zip(header, fields, strict=True) if f is None]
        first: dict[str, int] = {}
        ok = True
        for i, (h, f) in enumerate(zip(header, fields, strict=True)):
            if f is None:
                continue
            if f in first:
                j = first[f]
                empty = [k for k in (j, i) if grid and _empty_column(grid, k)]
                if empty:
                    fields[empty[0]] = None
                    first[f] = i if empty[0] == j else j
                    continue
                problems.append(
                    Problem(self.where, f"the columns {header[j]!r} and {h!r} both name the field {f!r}: keep one")
                )
                ok = False
            first.setdefault(f, i)
        return fields if ok else None

    def missing(self, fields: list[str | None], header: list[str], required: Collection[str]) -> list[Problem]:
        """One problem per required field no column names, with the header most like it."""
        out = []
        for name in required:
            if name in fields:
                continue
            danish = header_name(self.name, name)
            also = f" ({danish})" if danish != name else ""
            near = self.lookup.near(name, header)
            hint = (
                f": is {near!r} it? Rename it, or map it with --columns MAP.toml"
                if near
                else ": add it, or map the column that holds it with --columns MAP.toml"
            )
            out.append(Problem(self.where, f"the column {name!r}{also} is missing{hint}"))
        return out

    def layout(
        self, grid: Grid, places: Places, problems: list[Problem], required: Collection[str]
    ) -> tuple[list[str], list[str | None], list[tuple[int, Row]], bool] | None:
        """The header, the field of each column, the data rows and whether the sheet is Danish.

        None (with the problems) when the header is unusable or a required column is
        missing: one line for the column, not one per row. The columns' places are
        recorded in ``places``.
        """
        header = _header(grid, self.known, self.where, problems)
        if header is None:
            return None
        fields = self.fields(header, problems, grid)
        if fields is None:
            return None
        rows = list(_rows(grid, len(header), self.where, problems))
        if rows:
            missing = self.missing(fields, header, required)
            if missing:
                problems.extend(missing)
                return None
        places.columns[self.name] = {f: (i, h) for i, (f, h) in enumerate(zip(fields, header, strict=True)) if f}
        return header, fields, rows, any(self.lookup.is_danish(h) for h in header)

    def records(self, grid: Grid, places: Places, problems: list[Problem]) -> list[dict[str, Any]]:
        """The table's records, converted to their fields' types; their rows recorded in ``places``."""
        model = RECORD_OF.get(self.name)
        required = [n for n, i in model.model_fields.items() if i.is_required()] if model else list(self.types)
        layout = self.layout(grid, places, problems, required)
        if layout is None:
            return []
        _, fields, rows, danish = layout
        numbers = places.rows.setdefault(self.name, [])
        out = []
        for number, cells in rows:
            record = {}
            for f, cell in zip(fields, cells, strict=False):
                if f is None or is_empty(cell):
                    continue
                value = convert(cell, self.types[f], danish)
                bad = ambiguous_in(value)
                if bad is not None:
                    problems.append(Problem(places.cell(self.name, number, f), ambiguous_number(bad)))
                record[f] = value
            numbers.append(number)
            out.append(record)
        return out


def _empty_column(grid: Grid, column: int) -> bool:
    """Whether a column has no value below its header."""
    return bool(grid) and all(column >= len(cells) or is_empty(cells[column]) for number, cells in grid if number != 1)


def ambiguous_number(text: str) -> str:
    """Why a number written ``4.500`` is refused outside a Danish sheet."""
    da, en = read_number(text, True), float(text.replace(",", "")) if "," in text else float(text)
    return (
        f"{text!r} is {da:g} in Danish notation but {en:g} in English: write it without a thousands "
        "separator (4500, or 4,5 / 4.5 for decimals), or name the columns in Danish so the sheet reads as Danish"
    )


def _parameters(grid: Grid, places: Places, problems: list[Problem]) -> dict[str, Any]:
    """``format``, ``name`` and ``parameters`` of the key/value table."""
    where = places.where[PARAMETERS]
    table = TableReader(PARAMETERS, {"key": "str", "value": "str"}, where, None)
    header = _header(grid, table.known, where, problems)
    if header is None:
        return {}
    fields = table.fields(header, problems)
    if fields is None:
        return {}
    if not {"key", "value"} <= set(fields):
        problems.append(Problem(where, f"needs the columns 'key' and 'value' (found {', '.join(header) or 'none'})"))
        return {}
    danish = any(table.lookup.is_danish(h) for h in header)
    keys = column_lookup(PARAMETERS, PARAMETER_TYPES)
    doc: dict[str, Any] = {}
    params: dict[str, Any] = {}
    seen: set[str] = set()
    for number, cells in _rows(grid, len(header), where, problems):
        row = {f: c for f, c in zip(fields, cells, strict=False) if f and not is_empty(c)}
        written = str(convert(row.get("key", ""), "str")).strip()
        if not written:
            problems.append(Problem(where, f"row {number}: a value without a key: {row.get('value')!r}"))
            continue
        key = keys.find(written) or written
        danish = danish or keys.is_danish(written)
        if key in seen:
            problems.append(Problem(where, f"key {written!r} appears twice"))
            continue
        seen.add(key)
        places.keys[key] = number
        if "value" not in row:
            continue  # empty: absent, the default applies
        value = convert(row["value"], PARAMETER_TYPES.get(key, "str"), danish)
        bad = ambiguous_in(value)
        if bad is not None:
            problems.append(Problem(f"{where}, row {number}, {written}", ambiguous_number(bad)))
        (doc if key in TOP_LEVEL else params)[key] = value
    doc[PARAMETERS] = params
    return doc


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def write_csv_folder(doc: dict[str, Any], path: str | os.PathLike[str]) -> None:
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


def write_xlsx(doc: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write an instance document as one workbook, one sheet per table (``parameters`` first).

    Parameters
    ----------
    doc
        A canonical document, :meth:`models.Instance.to_dict`.
    path
        The file to write (the caller moves it into place).
    """
    _write_workbook(instance_tables(doc), path)


def write_plan_csv(
    plan: Plan | Mapping[str, Any],
    path: str | os.PathLike[str],
    lang: str = DA,
    instance: Instance | None = None,
    reason_text: ReasonText | None = None,
) -> None:
    """Export a plan as a folder of CSV files for planners (:func:`plan_tables`).

    One file per table, named in ``lang`` (``anvisninger.csv``, ``ikke_anvist.csv``,
    ``begrundelser.csv``, ``forbrug_puljer.csv``, ..., ``oversigt.csv``; in English
    ``assignments.csv``, ...). Danish files are for Danish Excel: a UTF-8 BOM, ``;``
    between columns and decimal commas (``3386,5``); English ones are comma-separated.
    Plan tables of an earlier export that this one does not write (in either language)
    are removed. :func:`read_plan_tables` reads the folder back.

    Parameters
    ----------
    plan
        A :class:`~models.plan.Plan`, or an ``anvis-plan/1`` document (FORMAT.md §5).
    path
        The folder; created if needed.
    lang
        ``"da"`` (Danish headers, ja/nej) or ``"en"``.
    instance
        The plan's instance, for each unit's rent before the subsidy; None leaves those columns out.
    reason_text
        An unassigned row's reason in ``lang`` (:func:`plan_tables`).
    """
    folder = Path(path)
    tables = {table_name(name, lang): table for name, table in plan_tables(plan, lang, instance, reason_text).items()}
    _write_csv_tables(tables, folder, danish=lang == DA)
    for stale in sorted(folder.glob("*.csv")):
        if stale.stem not in tables and is_plan_file(stale.name):
            stale.unlink()


def is_plan_file(name: str) -> bool:
    """Whether a file name is one of a plan's CSV tables, in either language (an earlier export's)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() != "csv":
        return False
    return find_table(stem, PLAN_TABLES) is not None or normal(stem).startswith(("usage", "forbrug"))


def write_plan_xlsx(
    plan: Plan | Mapping[str, Any],
    path: str | os.PathLike[str],
    lang: str = DA,
    instance: Instance | None = None,
    reason_text: ReasonText | None = None,
) -> None:
    """Export a plan as one workbook ready to use: the tables of :func:`plan_tables` as sheets.

    Every sheet has a bold header row that stays in view, columns as wide as their
    text (up to a limit) and filters on the header.

    Parameters
    ----------
    plan
        A :class:`~models.plan.Plan`, or an ``anvis-plan/1`` document (FORMAT.md §5).
    path
        The file to write (the caller moves it into place).
    lang
        ``"da"`` (Danish sheet names and headers, ja/nej) or ``"en"``.
    instance
        The plan's instance, for each unit's rent before the subsidy; None leaves those columns out.
    reason_text
        An unassigned row's reason in ``lang`` (:func:`plan_tables`).
    """
    tables = {sheet_title(name, lang): table for name, table in plan_tables(plan, lang, instance, reason_text).items()}
    _write_workbook(tables, path, styled=True)


def sheet_title(table: str, lang: str = DA) -> str:
    """A plan table's sheet title in ``lang`` (Danish words with blanks, as a planner reads them)."""
    return table_name(table, lang).replace("_", " ") if lang == DA else table


PLAN_TABLES = (
    "assignments",
    "unassigned",
    "reasons",
    "usage_pools",
    "usage_departments",
    "usage_frames",
    "usage_quotas",
    "summary",
)
ASSIGNMENT_COLUMNS = ("citizen", "unit", "subsidised", "effective_rent_kr", "score")
ASSIGNMENT_ORDER = (
    "citizen",
    "priority",
    "unit",
    "department",
    "pool",
    "rent_kr",
    "subsidy_kr",
    "effective_rent_kr",
    "subsidised",
    "score",
    "locked",
)
"""The order of an assignment's columns: who, where, what it costs, then the rest."""
DERIVED = ("rent_kr", "subsidy_kr")
"""Columns written for planners from the instance (rent before the subsidy, the subsidy); not plan fields."""
UNASSIGNED_COLUMNS = ("citizen", "priority", "code", "reason")
USAGE_KEY = {"pools": "pool", "departments": "department", "frames": "municipality", "quotas": "region"}
"""The column naming the row of each usage table, when ``usage`` maps ids to figures."""
SHORT_REASON = 80
"""The longest reason the ``unassigned`` sheet shows; the full one is on the ``reasons`` sheet."""


def short_reason(reason: Any) -> Any:
    """The first clause of a reason, cut to :data:`SHORT_REASON` characters (the rest is on the reasons sheet)."""
    if not isinstance(reason, str):
        return reason
    first = reason.split("; ")[0]
    return first if len(first) <= SHORT_REASON else first[: SHORT_REASON - 1].rstrip() + "…"


ReasonText: TypeAlias = Callable[[Mapping[str, Any]], Any]
"""An unassigned row of a plan → its reason as planners read it in the sheet's language."""


def code_reason(row: Mapping[str, Any], lang: str = DA) -> Any:
    """A reason in ``lang`` without its counts: the code's words (:data:`models.headers.CODE_WORDS`).

    The default of :func:`plan_tables` when the caller gives no ``reason_text``; English,
    an unknown code and a row without a code keep the plan's reason as written.
    """
    code = row.get("code")
    words = CODE_WORDS[lang].get(code) if lang != EN and isinstance(code, str) else None
    return words[1] if words else row.get("reason")


def plan_tables(
    plan: Plan | Mapping[str, Any],
    lang: str = DA,
    instance: Instance | None = None,
    reason_text: ReasonText | None = None,
) -> dict[str, Table]:
    """The tables of a plan: ``{table: (header, rows of values)}``, headers in ``lang``.

    ``assignments`` (with the rent before the subsidy and the subsidy, when the
    ``instance`` is given), ``unassigned`` (short reasons), ``reasons`` (each unhoused
    citizen's full reason and its details), ``usage_<what>`` per entry of ``usage``
    (the row's id in the column ``pool`` / ``department`` / ``municipality`` /
    ``region``) and ``summary`` (key/value). Booleans are ja/nej (yes/no); nested
    values (dicts and lists, e.g. ``details``) are compact JSON text.

    In Danish the ``code`` column holds the code's words (``outranked`` is ``boligerne gik
    til borgere med højere prioritet``, :data:`models.headers.CODE_WORDS`) and the reasons
    are ``reason_text(row)``: the caller's words, as ``models`` cannot import
    :mod:`optimizer.lang` (the CLI passes :func:`optimizer.lang.plan_reason`); without it,
    the code's words (:func:`code_reason`). Where that differs from the plan's own (English,
    FORMAT.md §5) text, the ``reasons`` sheet keeps that text in ``plan_reason`` (``planens
    tekst``), which :func:`read_plan_tables` reads back, as it reads the code's words back
    to the code.

    Raises
    ------
    ValueError
        For a language other than those of :data:`models.headers.LANGS`.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (one of {', '.join(LANGS)})")
    doc = plan_document(plan)
    assignments = [dict(r) for r in doc.get("assignments") or [] if isinstance(r, dict)]
    unassigned = [r for r in doc.get("unassigned") or [] if isinstance(r, dict)]
    if instance is not None:
        _add_rents(assignments, instance)
    present = columns(assignments) or list(ASSIGNMENT_COLUMNS)
    header = [c for c in ASSIGNMENT_ORDER if c in present] + [c for c in present if c not in ASSIGNMENT_ORDER]
    tables = {"assignments": _plan_table("assignments", assignments, header, lang)}
    present = columns(unassigned)
    header = [c for c in UNASSIGNED_COLUMNS if c in present or c in ("citizen", "reason")]
    header = [c for c in columns(unassigned, header) if c != "details"]
    words = unassigned
    if lang != EN:
        text = reason_text or (lambda row: code_reason(row, lang))
        words = [{**r, "code": code_words(r["code"], lang)} if "code" in r else dict(r) for r in unassigned]
        for w, r in zip(words, unassigned, strict=True):
            w["reason"], w["plan_reason"] = text(r), r.get("reason")
    short = [{**r, "reason": short_reason(r.get("reason"))} for r in words]
    tables["unassigned"] = _plan_table("unassigned", short, header, lang)
    header = ["citizen", "reason"] + (["details"] if any("details" in r for r in unassigned) else [])
    if lang != EN and any(r.get("plan_reason") != r.get("reason") for r in words):
        header.append("plan_reason")
    tables["reasons"] = _plan_table("reasons", words, header, lang)
    usage = doc.get("usage")
    if isinstance(usage, dict):
        for what, figures in usage.items():
            key = USAGE_KEY.get(what, "id")
            rows = _usage_rows(figures, key)
            first = "id" if rows and all("id" in r for r in rows) else key
            tables[f"usage_{what}"] = _plan_table(f"usage_{what}", rows, columns(rows, [first]), lang)
    summary = [[_summary_key(k, lang), _plan_value(v, lang)] for k, v in _summary(doc).items()]
    tables["summary"] = ([header_name("summary", "key", lang), header_name("summary", "value", lang)], summary)
    return tables


def _add_rents(assignments: list[dict[str, Any]], instance: Instance) -> None:
    """Add each assignment's rent before the subsidy and the subsidy (``rent_kr``, ``subsidy_kr``)."""
    rents = {u.id: u.rent_kr for u in instance.units}
    for a in assignments:
        rent, effective = rents.get(a.get("unit")), a.get("effective_rent_kr")  # type: ignore[arg-type]
        if rent is None or not isinstance(effective, (int, float)) or isinstance(effective, bool):
            continue
        a["rent_kr"] = int(rent) if float(rent).is_integer() else rent
        subsidy = rent - effective
        a["subsidy_kr"] = int(subsidy) if float(subsidy).is_integer() else subsidy


def _summary_key(key: str, lang: str) -> str:
    """A summary key in ``lang``: ``housed_priority_1`` is ``anvist prioritet 1`` in Danish."""
    m = HOUSED_KEY.fullmatch(key)
    if m and lang == DA:
        return f"anvist prioritet {m.group(1)}"
    return header_name("summary", key, lang)


HOUSED_KEY = re.compile(r"housed_priority_(.+)")
HOUSED_NORMAL = re.compile(r"(?:housedpriority|anvistprioritet)(.+)")
"""A ``housed_priority_N`` summary key in either language, after :func:`models.headers.normal`."""


def _usage_rows(figures: Any, key: str) -> list[dict[str, Any]]:
    if isinstance(figures, list):
        return [r if isinstance(r, dict) else {"value": r} for r in figures]
    if isinstance(figures, dict):
        return [{key: k, **v} if isinstance(v, dict) else {key: k, "value": v} for k, v in figures.items()]
    return [{"value": figures}]


def _summary(plan: dict[str, Any]) -> dict[str, Any]:
    """``format``, ``instance``, ``status``, ``total_score``, ``housed_priority_<p>``, then any other scalar."""
    objective: dict[str, Any] = plan["objective"] if isinstance(plan.get("objective"), dict) else {}
    out = {k: plan.get(k) for k in ("format", "instance", "status")}
    out["total_score"] = objective.get("total_score")
    out.update({f"housed_priority_{p}": n for p, n in (objective.get("housed_by_priority") or {}).items()})
    out.update({f"objective_{k}": v for k, v in objective.items() if k not in ("total_score", "housed_by_priority")})
    out.update(
        {k: v for k, v in plan.items() if k not in out and k not in ("objective", "assignments", "unassigned", "usage")}
    )
    return out


def _plan_table(table: str, rows: list[dict[str, Any]], header: list[str], lang: str) -> Table:
    return [header_name(table, c, lang) for c in header], [[_plan_value(r.get(c), lang) for c in header] for r in rows]


def _plan_value(value: Any, lang: str = DA) -> Any:
    if isinstance(value, bool):
        return BOOL_WORDS[lang][0 if value else 1]
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


# ---------------------------------------------------------------------------
# Reading a plan's tables back
# ---------------------------------------------------------------------------

PLAN_TYPES: dict[str, dict[str, str]] = {
    "assignments": {
        "citizen": "str",
        "unit": "str",
        "subsidised": "bool",
        "effective_rent_kr": "number",
        "score": "float",
        "priority": "int",
        "department": "str",
        "pool": "str",
        "locked": "bool",
        "rent_kr": "derived",
        "subsidy_kr": "derived",
    },
    "unassigned": {"citizen": "str", "priority": "int", "code": "str", "reason": "str"},
    "reasons": {"citizen": "str", "reason": "str", "details": "json", "plan_reason": "str"},
    "usage_pools": {
        "id": "str",
        "municipality": "str",
        "share": "float",
        "vacancies": "int",
        "vacancies_before": "int",
        "claimed_before": "int",
        "cap": "int",
        "used": "int",
    },
    "usage_departments": {"id": "str", "max_vulnerable": "int", "used": "int"},
    "usage_frames": {"municipality": "str", "frame": "int", "used": "int"},
    "usage_quotas": {"region": "str", "quota": "int", "used": "int"},
    "summary": {"key": "str", "value": "str"},
}
"""How each column of a plan's tables is read: ``number`` keeps an integral number an int, ``json`` is JSON text."""
PLAN_REQUIRED = {
    "assignments": ASSIGNMENT_COLUMNS,
    "unassigned": ("citizen",),
    "reasons": ("citizen", "reason"),
    "usage_pools": ("id", "used"),
    "usage_departments": ("id", "used"),
    "usage_frames": ("municipality", "used"),
    "usage_quotas": ("region", "used"),
    "summary": ("key", "value"),
}
SUMMARY_TYPES = {
    "format": "str",
    "instance": "str",
    "status": "str",
    "total_score": "float",
    "objective_value": "float",
    "instance_sha256": "str",
    "objective_kind": "str",
    "bound": "float",
    "gap": "float",
    "passed": "json",
    "homeless_housed_under_3500_kr": "int",
    "solver": "json",
    "overrides": "json",
}
"""The summary's keys and how their values are read; ``housed_priority_<p>`` are ints, others kept."""


def read_plan_tables(path: str | os.PathLike[str]) -> TableDocument:
    """Read a plan back from a CSV folder or workbook that :func:`write_plan_csv` / :func:`write_plan_xlsx` wrote.

    Sheets and columns may have their Danish or English names; derived columns (the
    rent before the subsidy, the subsidy) are left out; columns of no plan field are
    kept as fields of their rows (as the plan allows). An unassigned citizen's reason
    and details come from the ``reasons`` sheet when it has them (the ``unassigned``
    sheet shows them short). A planner may edit cells (move a citizen): what is read
    is checked like any plan.

    Returns
    -------
    TableDocument
        The ``anvis-plan/1`` document, not yet typed; its places name rows as the spreadsheet shows them.

    Raises
    ------
    InstanceError
        One problem per file, sheet or cell that cannot be read, named by sheet, row and column.
    """
    xlsx = Path(path).suffix.lower() in (".xlsx", ".xlsm") and not Path(path).is_dir()
    separators: dict[str, str] = {}
    if xlsx:
        grids, wheres, problems = xlsx_grids(path, PLAN_TABLES, "anvis-plan/1")
    else:
        grids, wheres, problems = csv_grids(path, PLAN_TABLES, "anvis-plan/1", separators)
    doc = TableDocument()
    where = {name: wheres.get(name) or (f"{name} sheet" if xlsx else f"{name}.csv") for name in PLAN_TABLES}
    places = doc.places = Places(where=where)
    for name in ("assignments", "summary"):
        if name not in grids and not any(p.path == places.where[name] for p in problems):
            problems.append(
                Problem("", f"the plan's {name} table is missing (sheet {sheet_title(name)!r} or {name!r})")
            )
    tables = {
        name: _plan_records(name, grid, places, problems, separators.get(name) == DANISH_SEPARATOR)
        for name, grid in grids.items()
    }
    summary = _plan_summary(tables.pop("summary", []), places, problems)
    if problems:
        raise InstanceError(str(path), problems)
    objective = {"housed_by_priority": summary.pop("housed_by_priority"), **_pop(summary, "total_score")}
    for key in [k for k in summary if k.startswith("objective_") and k != "objective_kind"]:
        objective[key.removeprefix("objective_")] = summary.pop(key)
    doc.update({k: summary.pop(k) for k in ("format", "instance", "status") if k in summary})
    doc["objective"] = objective
    doc["assignments"] = tables.get("assignments", [])
    reasons = {r.get("citizen"): r for r in tables.get("reasons", [])}
    doc["unassigned"] = [_with_reason(r, reasons.get(r.get("citizen"))) for r in tables.get("unassigned", [])]
    doc.update(summary)
    usage = {name.removeprefix("usage_"): rows for name, rows in tables.items() if name.startswith("usage_")}
    if usage:
        doc["usage"] = {what: usage[what] for what in ("pools", "departments", "frames", "quotas") if what in usage}
    return doc


def _pop(summary: dict[str, Any], key: str) -> dict[str, Any]:
    return {key: summary.pop(key)} if key in summary else {}


def _with_reason(row: dict[str, Any], full: dict[str, Any] | None) -> dict[str, Any]:
    """An unassigned row with the full reason and the details of the reasons sheet, in the plan's field order."""
    if "code" in row:
        row = {**row, "code": code_of(row["code"])}
    if full is not None:
        row = {**row, "reason": full.get("plan_reason", full.get("reason", row.get("reason")))}
        if "details" in full:
            row["details"] = full["details"]
    order = [k for k in ("citizen", "priority", "code", "reason", "details") if k in row]
    return {**{k: row[k] for k in order}, **row}


def _plan_records(
    name: str, grid: Grid, places: Places, problems: list[Problem], decimal_comma: bool = False
) -> list[dict[str, Any]]:
    """The rows of a plan table as records: known columns typed, derived ones left out, others kept.

    Numbers read the Danish way (``3.386,5``) in a sheet with Danish headers or a
    ``;``-separated file (``decimal_comma``), as Danish Excel writes them.
    """
    types = PLAN_TYPES[name]
    reader = TableReader(name, types, places.where[name], None)
    layout = reader.layout(grid, places, problems, PLAN_REQUIRED[name])
    if layout is None:
        return []
    header, fields, rows, danish = layout
    danish = danish or decimal_comma
    usage = name.startswith("usage_")
    numbers = places.rows.setdefault(name, [])
    out = []
    for number, cells in rows:
        record: dict[str, Any] = {}
        for i, h in enumerate(header):
            f = fields[i]
            cell = cells[i] if i < len(cells) else None
            kind = types.get(f) if f else None
            if kind == "derived":
                continue
            if is_empty(cell):
                if usage and f is not None:
                    record[f] = None  # the engine writes every figure, null for "no limit"
                continue
            if f is None:
                record[h] = _extra_value(cell)
                continue
            value = _plan_cell(cell, kind or "str", danish)
            if value is _BAD:
                expected = _EXPECTED[kind or "str"]
                problems.append(Problem(places.cell(name, number, f), f"{expected} (got {short(cell)})"))
            record[f] = value
        numbers.append(number)
        out.append(record)
    return out


_BAD = object()
_EXPECTED = {
    "str": "expected text",
    "bool": "expected ja/nej (yes/no)",
    "int": "expected a whole number",
    "float": "expected a number",
    "number": "expected a number",
    "json": "expected JSON text",
}


def _plan_cell(cell: Any, kind: str, danish: bool) -> Any:
    """A plan cell as its field's type, or :data:`_BAD`."""
    if kind == "str":
        return str(convert(cell, "str"))
    if kind == "json":
        try:
            return json.loads(cell) if isinstance(cell, str) else _BAD
        except ValueError:
            return _BAD
    value = convert(cell, "float" if kind == "number" else kind, danish)
    if kind == "bool":
        return value if isinstance(value, bool) else _BAD
    if isinstance(value, bool) or not isinstance(value, (int, float)) or isinstance(value, str):
        return _BAD
    if kind == "float":
        return float(value)
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _extra_value(cell: Any) -> Any:
    """A cell of a column that is no plan field: JSON text as its value, anything else as it is."""
    if isinstance(cell, str) and cell.strip()[:1] in ("{", "["):
        try:
            return json.loads(cell)
        except ValueError:
            return cell
    return cell


def _plan_summary(rows: list[dict[str, Any]], places: Places, problems: list[Problem]) -> dict[str, Any]:
    """The summary's keys as plan fields: ``housed_by_priority`` collected, values typed."""
    lookup = column_lookup("summary", SUMMARY_TYPES)
    out: dict[str, Any] = {"housed_by_priority": {}}
    for row, number in zip(rows, places.rows.get("summary", []), strict=True):
        written = str(row.get("key", ""))
        value = row.get("value")
        housed = HOUSED_NORMAL.fullmatch(normal(written))
        key = lookup.find(written)
        if housed:
            kind, target, name = "int", out["housed_by_priority"], housed.group(1)
        else:
            kind, target, name = SUMMARY_TYPES.get(key or "", "extra"), out, key or written
        if value is None or value == "":
            target[name] = None
            continue
        typed = _extra_value(value) if kind == "extra" else _plan_cell(value, kind, False)
        if typed is _BAD:
            where = f"{places.where['summary']}, row {number}, {written}"
            problems.append(Problem(where, f"{_EXPECTED[kind]} (got {short(value)})"))
        target[name] = typed
    return out


def _write_csv_tables(tables: dict[str, Table], folder: Path, danish: bool = False) -> None:
    """One ``<name>.csv`` per table, created with the user's umask.

    ``danish``: for Danish Excel, which splits columns at ``;`` and reads ``3386,5``
    as a number: a UTF-8 BOM (so Excel reads æøå), ``;`` between columns, decimal commas.
    Callers write into a fresh folder that :func:`models.io.write_atomic_folder` moves
    into place once every file is complete, so no reader ever sees half a folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    encoding, separator = ("utf-8-sig", DANISH_SEPARATOR) if danish else ("utf-8", ",")
    for name, (header, rows) in tables.items():
        with open(folder / f"{name}.csv", "w", encoding=encoding, newline="") as f:
            out = csv.writer(f, lineterminator="\n", delimiter=separator)
            out.writerow([csv_text(v) for v in header])
            out.writerows([csv_text(v, danish) for v in row] for row in rows)


MAX_WIDTH = 60
"""The widest column of a styled sheet, in characters (a long reason wraps at the sheet's edge instead)."""


def _write_workbook(tables: dict[str, Table], path: str | os.PathLike[str], styled: bool = False) -> None:
    """One sheet per table, then freeze the clock-dependent parts of the file.

    ``styled`` (plans, for planners): a bold header row that stays in view when
    scrolling, filters on it and columns as wide as their text.
    """
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    for name, (header, rows) in tables.items():
        if len(rows) + 1 > MAX_SHEET_ROWS:
            raise ValueError(f"table {name} has {len(rows)} rows, more than a sheet holds ({MAX_SHEET_ROWS - 1})")
        ws = wb.create_sheet(name)
        if styled:
            ws.freeze_panes = "A2"
            for i, width in enumerate(_widths(header, rows)):
                ws.column_dimensions[_letter(i)].width = width
            if header:
                ws.auto_filter.ref = f"A1:{_letter(len(header) - 1)}{len(rows) + 1}"
        for number, row in enumerate([header, *rows]):
            cells = [to_cell(v) for v in row]
            for i, c in enumerate(cells):
                if (isinstance(c, str) and c.startswith("=")) or (styled and number == 0):
                    cells[i] = WriteOnlyCell(ws, c)
                    if isinstance(c, str):  # openpyxl would write "=..." as a formula: keep it text
                        cells[i].data_type = "s"
                    if number == 0 and styled:
                        cells[i].font = bold
            ws.append(cells)
    wb.properties.creator = "anvis"
    wb.properties.created = FIXED_TIME
    wb.save(path)
    wb.properties.modified = FIXED_TIME  # openpyxl stamps the time of saving
    _freeze_zip(path, {"docProps/core.xml": _xml(wb.properties.to_tree())})


def _widths(header: list[Any], rows: list[list[Any]]) -> list[int]:
    """Each column's width: its longest text plus a margin (the header's filter button), at most :data:`MAX_WIDTH`."""
    widths = [len(to_text(h)) + 4 for h in header]
    for row in rows:
        for i, v in enumerate(row[: len(widths)]):
            n = len(to_text(v)) + 2
            if n > widths[i]:
                widths[i] = n
    return [min(w, MAX_WIDTH) for w in widths]


def _xml(tree: Any) -> bytes:
    from openpyxl.xml.functions import tostring

    data: bytes = tostring(tree)
    return data


def _freeze_zip(path: str | os.PathLike[str], replace: dict[str, bytes]) -> None:
    """Rewrite a zip file with fixed entry times (and some entries replaced), so bytes do not depend on the clock."""
    with zipfile.ZipFile(path) as z:
        entries = [(info.filename, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, replace.get(name, data))
