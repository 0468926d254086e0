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
import os
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import models
from models.headers import CODE_WORDS, DA
from models.instance import Instance
from models.plan import Plan
from models.validate import InstanceError, UnknownFieldWarning
from optimizer import lang as L
from optimizer.rounds.ledger import LedgerError, ensure_ledger
from optimizer.rounds.workflow import (
    PERIOD_STATUS,
    PURGE_STATUS,
    PURGED_STATUS,
    ROUND_STATES,
    history,
    overrides_with_cost,
    round_instance,
    round_plan,
)
from optimizer.rounds.workflow import add_override as workflow_add_override
from optimizer.rounds.workflow import remove_override as workflow_remove_override

__all__ = [
    "OVERRIDE_ACTIONS",
    "PLAN_STATUS",
    "REASON_TEXT",
    "STATUS_TEXT",
    "UPLOAD_KINDS",
    "ServeError",
    "add_override",
    "committed_message",
    "diff_plans",
    "find_round",
    "has_ledger",
    "ledger_call",
    "list_overrides",
    "plan_download",
    "read_upload",
    "remove_override",
    "report_overrides",
    "round_rows",
    "stored",
]

#: Round statuses in the planners' words (:mod:`optimizer.lang`'s, as the CLI and the report say them).
STATUS_TEXT = {
    status: L.say(f"round.status.{status}", "da")
    for status in (*ROUND_STATES, PERIOD_STATUS, PURGED_STATUS, PURGE_STATUS)
}
#: A plan's status in words.
PLAN_STATUS = {
    "optimal": "optimal (bevist)",
    "feasible": "gyldig, ikke bevist optimal",
    "infeasible": "ingen gyldig plan",
    "error": "fejl",
}
#: Planner overrides and their Danish names.
OVERRIDE_ACTIONS = {"lock": "lås", "forbid": "forbyd", "reserve": "reservér", "hold": "hold til næste runde"}
#: Why a citizen is not housed, by the plan's ``code``, in a few words (the plan's reason is in full
#: beside it): the plan sheets' words, :data:`models.headers.CODE_WORDS`.
REASON_TEXT = {code: words[0] for code, words in CODE_WORDS[DA].items()}
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
        status = 404 if text.startswith("no round ") or " has no override " in text else 409
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


# --- plans --------------------------------------------------------------------------------


def diff_plans(before: Plan | None, after: Plan) -> dict[str, Any]:
    """What changed from one plan of a round to the next: who moved, who is newly housed, who lost their unit.

    Each list is sorted by priority, then citizen id; entries hold ids, priorities and units only.
    ``compared`` is false when there was no plan before (the first solve).
    """
    if before is None:
        return {"compared": False, "moved": [], "housed": [], "lost": []}
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
    return {"compared": True, "moved": order(moved), "housed": order(housed), "lost": order(lost)}


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


# --- the round's overrides ---------------------------------------------------------------


def list_overrides(db: str, round_id: int) -> list[dict[str, Any]]:
    """The round's overrides (:func:`~optimizer.rounds.workflow.overrides_with_cost`), by number.

    Each has ``n``, ``kind``, ``citizen``, ``unit``, ``note``, ``by``, ``at`` and, when
    the round was solved with them, ``cost`` (who moved, who lost their place).
    """
    return ledger_call(overrides_with_cost, db, round_id)


def add_override(db: str, round_id: int, record: dict[str, Any], by: str | None = None) -> dict[str, Any]:
    """Add an override with a note to the open round (:func:`~optimizer.rounds.workflow.add_override`).

    The round must be solved again; a bad override is a 422 naming each problem.
    """
    if record.get("kind") not in OVERRIDE_ACTIONS:
        raise ServeError(422, f"Ukendt handling {record.get('kind')!r}: brug {', '.join(OVERRIDE_ACTIONS)}.")
    if not record.get("unit"):
        raise ServeError(422, "Angiv en bolig.")
    return ledger_call(
        workflow_add_override,
        db,
        record["kind"],
        str(record["unit"]).strip(),
        citizen=(str(record["citizen"]).strip() or None) if record.get("citizen") else None,
        note=(record.get("note") or "").strip(),
        by=by,
        round_id=round_id,
    )


def remove_override(db: str, round_id: int, n: int, by: str | None = None) -> dict[str, Any]:
    """Remove override ``n`` of the open round (:func:`~optimizer.rounds.workflow.remove_override`)."""
    return ledger_call(workflow_remove_override, db, n, by=by, round_id=round_id)


def report_overrides(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The overrides as :func:`optimizer.report.html.render_report` lists them, each with its cost when known."""
    out = []
    for e in entries:
        row: dict[str, Any] = {k: e.get(k) for k in ("kind", "citizen", "unit", "note")}
        cost = e.get("cost")
        if cost is not None:
            row["effect"] = {
                "moved": [m["citizen"] for m in cost.get("moved", ())],
                "lost": [m["citizen"] for m in cost.get("lost", ())],
                "priority_lost": {p: v.get("lost", 0) for p, v in cost.get("by_priority", {}).items()},
            }
        out.append(row)
    return out
