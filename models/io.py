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
from collections.abc import Callable
from pathlib import Path

from models.instance import Instance
from models.validate import InstanceError, Problem, from_dict


def instance_kind(path: str | os.PathLike) -> str:
    """``"json"``, ``"csv"`` (a folder) or ``"xlsx"``, from the path's name."""
    p = Path(path)
    if p.is_dir() or p.suffix == "" or p.suffix.lower() == ".csv":
        return "csv"
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return "xlsx"
    if p.suffix.lower() == ".txt":
        return "orlib"
    return "json"


def read_document(path: str | os.PathLike) -> dict:
    """The raw instance document of a file, not yet validated.

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

            return read_csv_folder(path)
        if kind == "xlsx":
            from models.tables import read_xlsx

            return read_xlsx(path)
        if kind == "orlib":
            from models.orlib import read_orlib

            return read_orlib(path)
        with open(path, "rb") as f:
            return json.loads(f.read())
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


def load(path: str | os.PathLike) -> Instance:
    """Read and validate an instance from JSON, a CSV folder, xlsx or an OR-Library ``.txt``.

    Raises
    ------
    InstanceError
        Listing every problem of the file.
    """
    return from_dict(read_document(path), str(path))


def save(inst: Instance, path: str | os.PathLike) -> None:
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
        write_atomic(path, lambda tmp: Path(tmp).write_text(dump_json(doc)))


def dump_json(doc: dict) -> str:
    """The one JSON layout anvis writes: stable key order, indented, newline at the end."""
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


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
    path: str | os.PathLike[str], write: Callable[[Path], object], stale: str | None = None
) -> None:
    """Call ``write(tmp_folder)`` and move the files it wrote into the folder ``path`` once all are complete.

    A new folder appears whole (one rename). Into an existing folder each file moves
    by one atomic rename, after every file was written, so a failure while writing
    changes nothing and no file is ever half written; other files there stay. Files
    of the existing folder matching the glob ``stale`` that this write did not
    produce are removed (an earlier export's tables). Modes follow the user's umask.
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
            for old in sorted(path.glob(stale)):
                if old.name not in names:
                    old.unlink()
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_plan(path: str | os.PathLike) -> dict:
    """A plan (``anvis-plan/1`` JSON) as a dict.

    Raises
    ------
    InstanceError
        When the file is not a JSON object.
    """
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except (OSError, ValueError) as exc:
        raise InstanceError(str(path), [Problem("", f"cannot read plan: {exc}")]) from None
    if not isinstance(doc, dict):
        raise InstanceError(str(path), [Problem("", "a plan must be a JSON object")])
    return doc


def write_plan(plan: dict, path: str | os.PathLike) -> None:
    """Write a plan as JSON, or as a CSV folder / xlsx workbook of its tables for planners."""
    kind = instance_kind(path)
    if kind == "csv":
        from models.tables import write_plan_csv

        write_atomic_folder(path, lambda tmp: write_plan_csv(plan, tmp), stale="usage_*.csv")
    elif kind == "xlsx":
        from models.tables import write_plan_xlsx

        write_atomic(path, lambda tmp: write_plan_xlsx(plan, tmp))
    else:
        write_atomic(path, lambda tmp: Path(tmp).write_text(dump_json(plan)))
