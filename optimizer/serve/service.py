"""What the pages and the API do, over :mod:`optimizer.rounds.workflow`: the CLI's code paths.

Every change to the ledger goes through the workflow's public functions, exactly as
``anvis round ...`` does, so a round opened, overridden, solved and committed here is
the round the CLI shows. This module adds only what a browser needs around them:
reading an uploaded file, the plan in the formats a planner downloads, what changed
between two plans, and refusals as :class:`ServeError` with a Danish message and an
HTTP status.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import stat
import threading
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import models
from models.instance import Instance
from models.plan import Plan
from models.validate import InstanceError, UnknownFieldWarning, add_overrides
from optimizer.rounds.ledger import LedgerError, ensure_ledger
from optimizer.rounds.workflow import history, round_instance, round_plan

__all__ = [
    "OVERRIDE_ACTIONS",
    "STATUS_TEXT",
    "UPLOAD_KINDS",
    "ServeError",
    "committed_message",
    "diff_plans",
    "add_override",
    "find_round",
    "instance_to_solve",
    "list_overrides",
    "remove_override",
    "has_ledger",
    "ledger_call",
    "plan_download",
    "read_upload",
    "plan_json",
    "round_rows",
    "stored",
    "with_override",
]

#: Round statuses in the planners' words.
STATUS_TEXT = {
    "opened": "åben",
    "solved": "løst",
    "committed": "godkendt",
    "rolled_back": "rullet tilbage",
    "abandoned": "opgivet",
    "new_period": "ny periode",
    "purged": "opgivet (data slettet)",
    "purge": "sletning af data",
}
#: Planner overrides and their Danish names.
OVERRIDE_ACTIONS = {"lock": "lås", "forbid": "forbyd", "reserve": "reservér", "hold": "hold til næste runde"}
#: Upload file endings and what they hold.
UPLOAD_KINDS = {".json": "JSON", ".xlsx": "Excel-projektmappe", ".zip": "mappe med CSV-filer (zip)"}
#: A zip of CSV files may unpack to at most this many bytes (a zip bomb is refused) and files.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_FILES = 64

T = TypeVar("T")


class ServeError(Exception):
    """A refused request: an HTTP status, a message for the planner and, for bad input, its problems.

    Parameters
    ----------
    status
        The HTTP status (404 no such round, 409 the ledger refuses, 422 bad input).
    message
        One line in Danish.
    problems
        One line per problem of an uploaded file or an override (the library's wording).
    """

    def __init__(self, status: int, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []


def has_ledger(db: str) -> bool:
    """Whether ``db`` holds a ledger (reading pages never start one: only opening a round does)."""
    try:
        ensure_ledger(db, create=False)
    except LedgerError:
        return False
    return True


def ledger_call(action: Callable[..., T], db: str, *args: Any, **kwargs: Any) -> T:
    """``action(db, ...)`` on an existing ledger; a refusal is a :class:`ServeError` (409, 404 or 422)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        ensure_ledger(db, create=False)
        return action(db, *args, **kwargs)
    except InstanceError as exc:
        raise ServeError(422, "Tilsidesættelsen kan ikke bruges.", exc.lines(None)) from None
    except LedgerError as exc:
        text = str(exc)
        status = 404 if text.startswith("no round ") else 409
        raise ServeError(status, text) from None
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServeError(409, f"ledger database: {first}") from None


def round_rows(db: str) -> list[dict[str, Any]]:
    """Every round of the ledger, newest first, with its status in Danish (none without a ledger)."""
    if not has_ledger(db):
        return []
    rows = ledger_call(history, db)
    return [{**r, "status_text": STATUS_TEXT.get(r["status"], r["status"])} for r in reversed(rows)]


def find_round(db: str, round_id: int) -> dict[str, Any]:
    """The history row of a round, or a 404 :class:`ServeError`."""
    for r in round_rows(db):
        if r["id"] == round_id and r["status"] not in ("new_period", "purge"):
            return r
    raise ServeError(404, f"Runde {round_id} findes ikke.")


def committed_message(row: dict[str, Any]) -> str:
    """Why a round cannot be committed again: who committed it, and when."""
    return f"Runde {row['id']} ({row['name']}) er allerede godkendt af {row['committed_by']} kl. {row['committed_at']}."


# --- uploads -------------------------------------------------------------------------


def read_upload(filename: str, data: bytes) -> tuple[Instance, list[str]]:
    """Read an uploaded instance: a JSON file, an xlsx workbook or a zip of a CSV folder.

    The file is written to a private temporary folder and read there by
    :func:`models.load`, the CLI's reader; its problems are named by the file's
    own name, never the temporary path.

    Parameters
    ----------
    filename
        The name the browser gave (only its ending and base name are used).
    data
        The file's bytes.

    Returns
    -------
    instance, warnings
        The validated instance and the reader's warnings (fields it does not know).

    Raises
    ------
    ServeError
        422 with one line per problem when the file is not a valid instance, or its
        kind is not one of :data:`UPLOAD_KINDS`.
    """
    name = PurePosixPath(filename.replace("\\", "/")).name or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_KINDS:
        kinds = ", ".join(f"{k} ({v})" for k, v in UPLOAD_KINDS.items())
        raise ServeError(422, f"{name}: ukendt filtype; brug {kinds}.")
    with tempfile.TemporaryDirectory(prefix="anvis-serve-") as tmp:
        if suffix == ".zip":
            path = os.path.join(tmp, Path(name).stem or "upload")
            _unzip_csv(name, data, path)
        else:
            path = os.path.join(tmp, f"upload{suffix}")
            Path(path).write_bytes(data)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UnknownFieldWarning)
                inst = models.load(path)
            if inst.overrides:
                _check_locks(inst)
        except InstanceError as exc:
            lines = [line.replace(path, name) for line in InstanceError(name, exc.problems).lines(None)]
            raise ServeError(422, f"{name} er ikke en gyldig runde: {len(exc.problems)} fejl.", lines) from None
        except RecursionError:
            raise ServeError(422, f"{name}: kan ikke læses (for dybt indlejret).") from None
        notes = [str(w.message).replace(path, name) for w in caught]
    return dataclasses.replace(inst, source=name), notes


def _check_locks(inst: Instance) -> None:
    """Refuse locks that break a rule (InstanceError), as ``anvis round open`` does."""
    from optimizer.engine.data import ProblemData
    from optimizer.engine.overrides import check_overrides

    check_overrides(ProblemData.build(inst))


def _unzip_csv(name: str, data: bytes, folder: str) -> None:
    """Unpack the CSV files of a zip into ``folder``; anything else is refused (422).

    Only ``.csv`` files are taken, from the top of the archive or from one folder in
    it; a path that climbs out, a link, too many files or too many bytes unpacked is
    refused rather than read.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ServeError(422, f"{name}: ikke en zip-fil.") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        csvs = [m for m in members if m.filename.lower().endswith(".csv") and not _is_junk(m.filename)]
        problems = []
        for m in csvs:
            parts = PurePosixPath(m.filename).parts
            if m.filename.startswith("/") or ".." in parts or len(parts) > 2:
                problems.append(f"{name}: {m.filename}: kun CSV-filer øverst eller i én mappe læses")
            elif stat.S_ISLNK(m.external_attr >> 16):
                problems.append(f"{name}: {m.filename}: et link, ikke en fil")
        folders = {PurePosixPath(m.filename).parts[0] for m in csvs if len(PurePosixPath(m.filename).parts) == 2}
        if len(folders) > 1 or (folders and any(len(PurePosixPath(m.filename).parts) == 1 for m in csvs)):
            problems.append(f"{name}: CSV-filerne skal ligge i én mappe")
        if not csvs:
            problems.append(f"{name}: ingen CSV-filer i zip-filen")
        if len(csvs) > MAX_ZIP_FILES or sum(m.file_size for m in csvs) > MAX_UNZIPPED_BYTES:
            problems.append(f"{name}: for mange eller for store filer i zip-filen")
        seen: set[str] = set()
        for m in csvs:
            base = PurePosixPath(m.filename).name
            if base.lower() in seen:
                problems.append(f"{name}: {base}: findes to gange")
            seen.add(base.lower())
        if problems:
            raise ServeError(422, f"{name} kan ikke læses som en mappe med CSV-filer.", problems)
        os.mkdir(folder)
        for m in csvs:
            with archive.open(m) as src:
                blob = src.read(MAX_UNZIPPED_BYTES + 1)
            if len(blob) > MAX_UNZIPPED_BYTES:
                raise ServeError(422, f"{name}: for store filer i zip-filen")
            Path(folder, PurePosixPath(m.filename).name).write_bytes(blob)


def _is_junk(filename: str) -> bool:
    """Files a zip tool adds beside the user's (macOS resource forks)."""
    parts = PurePosixPath(filename).parts
    return parts[0] == "__MACOSX" or PurePosixPath(filename).name.startswith("._")


# --- overrides ---------------------------------------------------------------------------


def with_override(inst: Instance, record: dict[str, Any]) -> Instance:
    """The instance with one more planner override; a bad one is a 422 :class:`ServeError`.

    A lock is checked against the rules here (as ``anvis round solve --lock`` does
    when it solves); against the caps the ledger leaves, the solve checks it.
    """
    clean = {k: v for k, v in record.items() if v not in (None, "")}
    try:
        out = add_overrides(inst, [clean])
        if clean.get("action") == "lock":
            _check_locks(out)
    except InstanceError as exc:
        n = len(inst.overrides)
        lines = [str(p).replace(f"overrides[{n}]", "tilsidesættelsen") for p in exc.problems]
        raise ServeError(422, "Tilsidesættelsen kan ikke bruges.", lines) from None
    return out


# --- plans --------------------------------------------------------------------------------


def diff_plans(before: Plan | None, after: Plan) -> dict[str, list[dict[str, Any]]]:
    """What changed from one plan of a round to the next: who moved, who is newly housed, who lost their unit.

    Each list is sorted by priority, then citizen id; entries hold ids, priorities and units only.
    """
    if before is None:
        return {"moved": [], "housed": [], "lost": []}
    old = {a.citizen: a for a in before.assignments}
    new = {a.citizen: a for a in after.assignments}
    prio = {u.citizen: u.priority for u in (*before.unassigned, *after.unassigned)}
    prio |= {a.citizen: a.priority for a in (*before.assignments, *after.assignments)}

    def entry(cid: str, **units: str | None) -> dict[str, Any]:
        return {"citizen": cid, "priority": prio.get(cid), **units}

    def order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda r: (r["priority"] if r["priority"] is not None else 99, r["citizen"]))

    moved = [entry(c, before=old[c].unit, after=new[c].unit) for c in new if c in old and old[c].unit != new[c].unit]
    housed = [entry(c, after=new[c].unit) for c in new if c not in old]
    lost = [entry(c, before=old[c].unit) for c in old if c not in new]
    return {"moved": order(moved), "housed": order(housed), "lost": order(lost)}


#: Download formats of a plan: media type and file ending.
PLAN_FORMATS = {
    "json": ("application/json", ".plan.json"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".plan.xlsx"),
    "csv": ("application/zip", ".plan.zip"),
}


def plan_download(plan: Plan, kind: str) -> bytes:
    """The plan as the CLI writes it (:func:`models.write_plan`): JSON, xlsx, or its CSV folder zipped.

    The zip is deterministic (sorted names, a fixed date), like the plan itself.
    """
    with tempfile.TemporaryDirectory(prefix="anvis-serve-") as tmp:
        if kind == "csv":
            folder = os.path.join(tmp, "plan")
            models.write_plan(plan, folder)
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(os.listdir(folder)):
                    info = zipfile.ZipInfo(f"plan/{f}", date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    z.writestr(info, Path(folder, f).read_bytes())
            return out.getvalue()
        path = os.path.join(tmp, "plan" + PLAN_FORMATS[kind][1])
        models.write_plan(plan, path)
        return Path(path).read_bytes()


def stored(db: str, round_id: int) -> tuple[Instance, Plan | None]:
    """A round's stored instance and its plan (None before it is solved)."""
    inst = ledger_call(round_instance, db, round_id)
    row = find_round(db, round_id)
    if row["status"] == "opened":
        return inst, None
    return ledger_call(round_plan, db, round_id)


def plan_json(plan: Plan) -> Any:
    """The plan's JSON document, exactly as written to a file."""
    return json.loads(plan_download(plan, "json"))


# --- the round's overrides ---------------------------------------------------------------
#
# Until the ledger stores overrides between solves, the overrides a planner adds or
# removes are kept here, per ledger and round, and given to the next solve as the
# round's instance with those overrides (``solve_round(instance=...)``), which stores
# them with the plan.

_pending: dict[tuple[str, int], tuple[dict[str, Any], ...]] = {}
_pending_lock = threading.Lock()


def _records(inst: Instance) -> tuple[dict[str, Any], ...]:
    return tuple(o.model_dump(mode="json", exclude_none=True) for o in inst.overrides)


def _open_instance(db: str, round_id: int) -> Instance:
    row = find_round(db, round_id)
    if row["status"] not in ("opened", "solved"):
        raise ServeError(409, f"Runde {round_id} er {row['status_text']}: tilsidesættelser kan ikke ændres.")
    return ledger_call(round_instance, db, round_id)


def list_overrides(db: str, round_id: int) -> list[dict[str, Any]]:
    """The round's overrides, numbered from 1, each with ``action``, ``citizen``, ``unit`` and ``note``."""
    inst = ledger_call(round_instance, db, round_id)
    with _pending_lock:
        records = _pending.get((db, round_id), _records(inst))
    return [{"n": i, **r, "applied": r in _records(inst)} for i, r in enumerate(records, 1)]


def add_override(db: str, round_id: int, record: dict[str, Any], by: str | None = None) -> dict[str, Any]:
    """Add an override to the open round (it counts from the next solve); its number."""
    inst = _open_instance(db, round_id)
    with _pending_lock:
        current = inst.replace(overrides=()) if (db, round_id) in _pending else inst
        base = _pending.get((db, round_id), _records(inst))
        with_base = add_overrides(current, list(base)) if (db, round_id) in _pending else inst
        out = with_override(with_base, record)
        _pending[(db, round_id)] = _records(out)
        n = len(out.overrides)
    return {"n": n, **_records(out)[-1]}


def remove_override(db: str, round_id: int, n: int) -> dict[str, Any]:
    """Remove override ``n`` of the open round (it stops counting from the next solve)."""
    inst = _open_instance(db, round_id)
    with _pending_lock:
        records = list(_pending.get((db, round_id), _records(inst)))
        if not 1 <= n <= len(records):
            raise ServeError(404, f"Runde {round_id} har ingen tilsidesættelse nr. {n}.")
        gone = records.pop(n - 1)
        _pending[(db, round_id)] = tuple(records)
    return {"n": n, **gone}


def instance_to_solve(db: str, round_id: int) -> Instance | None:
    """The round's instance with the overrides added or removed since its last solve (None: as stored)."""
    with _pending_lock:
        records = _pending.get((db, round_id))
    if records is None:
        return None
    inst = ledger_call(round_instance, db, round_id)
    try:
        return add_overrides(inst.replace(overrides=()), list(records))
    except InstanceError as exc:
        raise ServeError(422, "Tilsidesættelserne kan ikke bruges.", exc.lines(None)) from None
