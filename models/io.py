"""Reading and writing instances and plans: every file format in one place.

An instance is one ``anvis/1`` JSON file, a folder of CSV files (one per
table), or one ``.xlsx`` workbook (one sheet per table); see
:mod:`models.tables` for the table layout. Plans are JSON, with CSV and xlsx
exports for planners.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from models.fastjson import dumps_bytes, dumps_indented, parse_unique, with_score_columns
from models.headers import ColumnMap
from models.instance import Instance
from models.plan import Plan, plan_document
from models.validate import InstanceError, Problem, from_dict, parse_integer, short


def instance_kind(path: str | os.PathLike[str]) -> str:
    """``"json"``, ``"csv"`` (a folder) or ``"xlsx"``, from the path's name."""
    p = Path(path)
    if p.is_dir() or p.suffix == "" or p.suffix.lower() == ".csv":
        return "csv"
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return "xlsx"
    if p.suffix.lower() == ".txt":
        return "orlib"
    return "json"


def read_document(path: str | os.PathLike[str], columns: ColumnMap | None = None, score_columns: bool = False) -> Any:
    """The raw instance document of a file, not yet validated.

    ``columns`` maps a CSV folder's or workbook's own column names to fields (``--columns``).
    With ``score_columns``, a large ``scores`` table of a JSON or OR-Library file may be a
    :class:`~models.fastjson.ScoreColumns` instead of a list of records (no dict per
    row); :func:`~models.validate.from_dict` reads either.

    Raises
    ------
    InstanceError
        When the file cannot be read or parsed at all.
    """
    source = str(path)
    kind = instance_kind(path)
    if not os.path.exists(path):
        raise InstanceError(source, [Problem("", "no such file or folder")])
    try:
        if kind == "csv":
            from models.tables import read_csv_folder

            return read_csv_folder(path, columns)
        if kind == "xlsx":
            from models.tables import read_xlsx

            return read_xlsx(path, columns)
        if kind == "orlib":
            from models.orlib import read_orlib

            return read_orlib(path, score_columns)
        with open(path, "rb") as f:
            data = f.read()
        doc = parse_json(data, source)
        return with_score_columns(doc) if score_columns else doc
    except InstanceError:
        raise
    except json.JSONDecodeError as exc:
        raise InstanceError(
            source, [Problem("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        ) from None
    except UnicodeDecodeError as exc:
        raise InstanceError(source, [Problem("", f"not UTF-8 text: {exc.reason} at byte {exc.start}")]) from None
    except RecursionError:
        raise InstanceError(source, [Problem("", "not readable: nested too deeply")]) from None
    except (OSError, ValueError) as exc:
        raise InstanceError(source, [Problem("", f"cannot read: {exc}")]) from None


class _Duplicates(dict[str, list[Any]]):
    """The keys an object named more than once: ``{key: every value given}``."""


_DUPLICATES = "\x00duplicates"  # the key marking such an object until the error is reported


def _object_counting(seen: list[int]) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """A JSON object hook that marks objects repeating a key and counts them in ``seen``."""

    def make(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        repeated: dict[str, list[Any]] = {}
        for key, value in pairs:
            repeated.setdefault(key, []).append(value)
        obj[_DUPLICATES] = _Duplicates({k: v for k, v in repeated.items() if len(v) > 1})
        seen.append(1)
        return obj

    return make


def parse_json(data: str | bytes, source: str) -> Any:
    """Parse a JSON text strictly: a key named twice in one object is an error, not last-one-wins.

    A UTF-8 text that repeats no key is read by :func:`~models.fastjson.parse_unique` (one
    Rust call); anything else by :func:`json.loads` with a hook that marks repeated keys.

    Raises
    ------
    InstanceError
        Naming the path of every object with a repeated key.
    json.JSONDecodeError
        When the text is not JSON.
    """
    doc = parse_unique(data)  # one Rust call where the text repeats no key, no Python call per object
    return _parse_json_hooked(data, source) if doc is None else doc


def _parse_json_hooked(data: str | bytes, source: str) -> Any:
    """:func:`parse_json` by :func:`json.loads` with a hook per object (for a text :func:`parse_unique` left)."""
    seen: list[int] = []
    try:  # ints by the C parser: a Python call per integer only for a file that needs one
        doc = json.loads(data, object_pairs_hook=_object_counting(seen))
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer of more digits than Python parses: keep its digits for validation
        seen.clear()
        doc = json.loads(data, object_pairs_hook=_object_counting(seen), parse_int=parse_integer)
    if seen:  # walk the document only when some object repeated a key
        raise InstanceError(source, list(_repeated_keys(doc, "")))
    return doc


def _repeated_keys(value: Any, path: str) -> Iterator[Problem]:
    """Problems for every object marked by :func:`_object`, depth first in document order."""
    stack = [(value, path)]
    while stack:  # not recursive: a deeply nested document must not hit the recursion limit here
        node, where = stack.pop()
        if isinstance(node, dict):
            repeated = node.pop(_DUPLICATES, None)
            if isinstance(repeated, _Duplicates):
                for key, values in repeated.items():
                    at = f"{where}.{key}" if where else key
                    shown = ", ".join(short(v) for v in values)
                    yield Problem(at, f"given {len(values)} times in one object ({shown}); a key may appear once")
            stack.extend((v, f"{where}.{k}" if where else k) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(node))))


def load(path: str | os.PathLike[str], columns: ColumnMap | None = None) -> Instance:
    """Read and validate an instance from JSON, a CSV folder, xlsx or an OR-Library ``.txt``.

    ``columns`` maps a CSV folder's or workbook's own column names to fields (``--columns``).

    Raises
    ------
    InstanceError
        Listing every problem of the file; in a CSV folder or workbook by sheet, row and column.
    """
    doc = read_document(path, columns, score_columns=True)
    try:
        return from_dict(doc, str(path))
    except InstanceError as exc:
        locate = getattr(doc, "locate", None)  # a table document names rows as a spreadsheet shows them
        if locate is None:
            raise
        raise locate(exc) from None


def save(inst: Instance, path: str | os.PathLike[str]) -> None:
    """Write an instance in the format its path names (JSON, CSV folder or xlsx)."""
    kind = instance_kind(path)
    doc = inst.to_dict()
    if kind == "csv":
        from models.tables import write_csv_folder

        write_atomic_folder(path, lambda tmp: write_csv_folder(doc, tmp))
    elif kind == "xlsx":
        from models.tables import write_xlsx

        write_atomic(path, lambda tmp: write_xlsx(doc, tmp))
    else:
        write_json(path, doc)


def dump_json(doc: dict[str, Any]) -> str:
    """The one JSON layout anvis writes: stable key order, indented, newline at the end."""
    # Strict JSON: NaN or Infinity would be refused by other readers (and means a bug upstream).
    # dumps_indented writes json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False), faster.
    return dumps_indented(doc) + "\n"


def json_bytes(doc: Any) -> bytes:
    """A JSON file's bytes: :func:`dump_json` of a document, :meth:`~models.plan.Plan.json_bytes` of a plan.

    UTF-8 whatever the locale (what :func:`read_document` reads), as ``Path.write_text`` wrote
    it in the UTF-8 locales anvis runs in; a lone surrogate raises
    :class:`UnicodeEncodeError` as it did there.
    """
    return doc.json_bytes() if isinstance(doc, Plan) else dumps_bytes(doc)


def write_json(path: str | os.PathLike[str], doc: Any) -> None:
    """Write :func:`json_bytes` of ``doc`` to ``path`` atomically (:func:`write_atomic`).

    The bytes are made first: a document that cannot be written leaves no file behind,
    and an existing file as it was.
    """
    data = json_bytes(doc)
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def current_umask() -> int:
    """The process's umask, read without changing it where Linux shows it (``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)  # elsewhere: set and restore (not thread-safe, but only then)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike[str], write: Callable[[str], object]) -> None:
    """Call ``write(tmp_path)`` and move the result over ``path`` only once it is complete.

    The temporary file is in ``path``'s folder (created if missing), so the move is
    one atomic rename: a failure or a kill half-way leaves an existing file at ``path``
    untouched and no half file. The file gets the mode the user's umask gives.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a plan is an ordinary file
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_atomic_folder(
    path: str | os.PathLike[str], write: Callable[[Path], object], stale: str | Callable[[str], bool] | None = None
) -> None:
    """Call ``write(tmp_folder)`` and move the files it wrote into the folder ``path`` once all are complete.

    A new folder appears whole (one rename). Into an existing folder each file moves
    by one atomic rename, after every file was written, so a failure while writing
    changes nothing and no file is ever half written; other files there stay. Files
    of the existing folder matching the glob ``stale`` (or the names it accepts,
    when it is a function) that this write did not produce are removed (an earlier
    export's tables). Modes follow the user's umask.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        write(tmp)
        umask = current_umask()
        names = sorted(f.name for f in tmp.iterdir())
        for name in names:
            os.chmod(tmp / name, 0o666 & ~umask)
        if not path.exists():
            os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700
            os.rename(tmp, path)
            return
        for name in names:
            os.replace(tmp / name, path / name)
        if stale:
            olds = path.glob(stale) if isinstance(stale, str) else (f for f in path.iterdir() if stale(f.name))
            for old in sorted(olds):
                if old.name not in names and old.is_file():
                    old.unlink()
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_plan(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A plan as a dict: ``anvis-plan/1`` JSON, or the CSV folder / xlsx workbook :func:`write_plan` writes.

    A plan read from tables is a :class:`models.tables.TableDocument`, whose ``locate``
    names a problem of a record by its sheet, row and column.

    Raises
    ------
    InstanceError
        When the file is not a JSON object, or a sheet or cell of a plan's tables cannot be read.
    """
    if instance_kind(path) in ("csv", "xlsx"):
        if not os.path.exists(path):
            raise InstanceError(str(path), [Problem("", "no such file or folder")])
        from models.tables import read_plan_tables

        return read_plan_tables(path)
    try:
        with open(path, "rb") as f:
            doc = parse_json(f.read(), str(path))
    except InstanceError:
        raise
    except (OSError, ValueError) as exc:
        raise InstanceError(str(path), [Problem("", f"cannot read plan: {exc}")]) from None
    if not isinstance(doc, dict):
        raise InstanceError(str(path), [Problem("", "a plan must be a JSON object")])
    return doc


def write_plan(
    plan: Plan | Mapping[str, Any],
    path: str | os.PathLike[str],
    lang: str = "da",
    instance: Instance | None = None,
    reason_text: Callable[[Mapping[str, Any]], Any] | None = None,
) -> None:
    """Write a plan as JSON, or as a CSV folder / xlsx workbook of its tables for planners.

    Parameters
    ----------
    plan
        A :class:`~models.plan.Plan`, or a plan document (written as it is).
    path
        ``.json``, ``.xlsx``, or a folder for CSV (:func:`instance_kind`).
    lang
        The language of a CSV folder's or workbook's names and words: ``"da"`` or ``"en"``
        (JSON is the same in both).
    instance
        The plan's instance: the tables then show each unit's rent before the subsidy.
    reason_text
        An unassigned row's reason in ``lang`` for the tables (:func:`models.tables.plan_tables`).
    """
    kind = instance_kind(path)
    if kind not in ("csv", "xlsx"):
        # a Plan straight to its bytes (Plan.json_bytes), not by way of its document
        write_json(path, plan if isinstance(plan, Plan) else plan_document(plan))
        return
    doc = plan_document(plan)
    if kind == "csv":
        from models.tables import is_plan_file, write_plan_csv

        write_atomic_folder(path, lambda tmp: write_plan_csv(doc, tmp, lang, instance, reason_text), stale=is_plan_file)
    elif kind == "xlsx":
        from models.tables import write_plan_xlsx

        write_atomic(path, lambda tmp: write_plan_xlsx(doc, tmp, lang, instance, reason_text))
