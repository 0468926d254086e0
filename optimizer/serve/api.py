"""The JSON API under ``/api``: what the pages do, for scripts and for the pages' own polling.

Each endpoint calls :mod:`optimizer.rounds.workflow` (through :mod:`optimizer.serve.service`)
as ``anvis round ...`` does; FastAPI documents them at ``/api/docs``.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import AliasChoices, BaseModel, Field

from optimizer.rounds.ledger import ensure_ledger
from optimizer.rounds.workflow import abandon_round, commit_round, open_round
from optimizer.serve import service
from optimizer.serve.jobs import Job
from optimizer.serve.service import ServeError

__all__ = ["CommitIn", "OverrideIn", "commit", "open_upload", "router"]

log = logging.getLogger("anvis.serve")
router = APIRouter(prefix="/api", tags=["runder"])


class OverrideIn(BaseModel):
    """A planner override of the open round, as in an instance's ``overrides`` (with a note)."""

    kind: Literal["lock", "forbid", "reserve", "hold"] = Field(
        validation_alias=AliasChoices("kind", "action"), description="lock, forbid, reserve or hold ('action' too)."
    )
    citizen: str | None = Field(None, description="The citizen (lock and forbid).")
    unit: str = Field(description="The unit.")
    note: str | None = Field(None, description="Why: shown beside the override, stored with it.")
    by: str | None = Field(None, description="Who adds it.")


class CommitIn(BaseModel):
    """Who commits the round (the ledger records it)."""

    by: str = Field(min_length=1, max_length=200, description="The planner's name.")


def db_of(request: Request) -> str:
    """The app's ledger."""
    return str(request.app.state.db)


def open_upload(db: str, filename: str, data: bytes, by: str | None = None) -> dict[str, Any]:
    """Open a round from an uploaded file (``anvis round open``); the new round's id and the reader's warnings."""
    inst, notes = service.read_upload(filename, data)
    try:
        ensure_ledger(db, create=True)
    except Exception as exc:
        raise ServeError(409, f"ledger {db}: {exc}") from None
    rid, _ = service.ledger_call(open_round, db, inst, by=(by or "").strip() or None)
    log.info("round %s opened from an upload", rid)
    return {"id": rid, "warnings": notes}


def commit(db: str, round_id: int, by: str) -> dict[str, Any]:
    """Commit a solved round (``anvis round commit``); when another commit won, a 409 naming who and when."""
    by = by.strip()
    if not by:
        raise ServeError(422, "Skriv dit navn: godkendelsen registreres med navn.")
    try:
        done = service.ledger_call(commit_round, db, round_id, by=by)
    except ServeError:
        row = service.find_round(db, round_id)
        if row["status"] == "committed":
            raise ServeError(409, service.committed_message(row)) from None
        raise
    log.info("round %s committed: %s claims", round_id, done["claims"])
    return {k: done[k] for k in ("id", "name", "claims", "passed", "held")}


@router.get("/csrf", summary="CSRF-token (sætter cookien anvis_csrf)")
def csrf(request: Request) -> dict[str, str]:
    """The CSRF token to send as ``X-CSRF-Token`` with every POST and DELETE."""
    return {"token": str(request.scope.get("state", {}).get("csrf_token", ""))}


@router.get("/rounds", summary="Alle runder, nyeste først")
def list_rounds(request: Request) -> list[dict[str, Any]]:
    """Every round of the ledger with its status, who committed it and when (empty without a ledger)."""
    return service.round_rows(db_of(request))


@router.post("/rounds", status_code=201, summary="Åbn en runde fra en fil")
async def create_round(
    request: Request,
    file: Annotated[UploadFile, File(description="JSON, .xlsx, or a CSV folder as .zip")],
    by: Annotated[str | None, Form(description="Who opens the round.")] = None,
) -> dict[str, Any]:
    """Open a round from a week's file, as ``anvis round open``: ``{"id": …}``; bad input is 422, one line a problem."""
    data = await file.read()
    # reading a workbook and opening the round block: off the event loop, like the other endpoints
    return await run_in_threadpool(open_upload, db_of(request), file.filename or "upload", data, by)


@router.get("/rounds/{round_id}", summary="En runde: status, tilsidesættelser, seneste løsning")
def get_round(request: Request, round_id: int) -> dict[str, Any]:
    """A round's history row, its overrides and the state of its latest solve here."""
    db = db_of(request)
    row = service.find_round(db, round_id)
    job = request.app.state.solves.get(round_id)
    return {**row, "overrides": service.list_overrides(db, round_id), "solve": job.as_dict() if job else None}


@router.post("/rounds/{round_id}/solve", status_code=202, summary="Løs runden (i baggrunden)")
def solve(request: Request, round_id: int, wait: Annotated[bool, Query()] = False) -> JSONResponse:
    """Start solving the round with its overrides; poll ``GET …/solve`` (or ``?wait=true`` to wait)."""
    db = db_of(request)
    row = service.find_round(db, round_id)
    if row["status"] not in ("opened", "solved"):
        raise ServeError(409, f"Runde {round_id} er {row['status_text']} og kan ikke løses igen.")
    job = request.app.state.solves.start(round_id, wait=wait)
    return JSONResponse(job.as_dict(), status_code=200 if job.state != "running" else 202)


@router.get("/rounds/{round_id}/solve", summary="Status for løsningen")
def solve_status(request: Request, round_id: int) -> dict[str, Any]:
    """``state`` running, done or failed; seconds so far; the plan's status and what changed."""
    service.find_round(db_of(request), round_id)
    job: Job | None = request.app.state.solves.get(round_id)
    if job is None:
        return {"round": round_id, "state": "none"}
    return job.as_dict()


@router.get("/rounds/{round_id}/plan", summary="Planen (anvis-plan/1 JSON)")
def plan(request: Request, round_id: int) -> Response:
    """The round's stored plan, byte for byte as ``anvis round solve -o plan.json`` writes it."""
    _, stored = service.stored(db_of(request), round_id)
    if stored is None:
        raise ServeError(404, f"Runde {round_id} er ikke løst endnu.")
    return Response(service.plan_download(stored, "json"), media_type="application/json")


@router.get("/rounds/{round_id}/overrides", summary="Rundens tilsidesættelser")
def overrides(request: Request, round_id: int) -> list[dict[str, Any]]:
    """The round's overrides, numbered from 1 (the number is what ``DELETE`` takes)."""
    return service.list_overrides(db_of(request), round_id)


@router.post("/rounds/{round_id}/overrides", status_code=201, summary="Tilføj en tilsidesættelse")
def add_override(request: Request, round_id: int, body: OverrideIn) -> dict[str, Any]:
    """Lock, forbid, reserve or hold, with a note; it counts from the next solve."""
    db = db_of(request)
    request.app.state.solves.remember(round_id)  # the plan before, to show what the next solve changes
    return service.add_override(db, round_id, body.model_dump(exclude={"by"}), by=body.by)


@router.delete("/rounds/{round_id}/overrides/{n}", summary="Fjern tilsidesættelse nr. n")
def remove_override(
    request: Request, round_id: int, n: int, by: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """Remove override ``n``; it stops counting from the next solve."""
    request.app.state.solves.remember(round_id)
    return service.remove_override(db_of(request), round_id, n, by=by)


@router.post("/rounds/{round_id}/commit", summary="Godkend runden")
def commit_endpoint(request: Request, round_id: int, body: CommitIn) -> dict[str, Any]:
    """Commit the solved round to the ledger, as ``anvis round commit --by``; 409 when it was committed already."""
    return commit(db_of(request), round_id, body.by)


@router.post("/rounds/{round_id}/abandon", summary="Opgiv runden")
def abandon(request: Request, round_id: int) -> dict[str, Any]:
    """Drop the open round without touching the ledger, as ``anvis round abandon``."""
    db = db_of(request)
    service.find_round(db, round_id)
    return service.ledger_call(abandon_round, db, round_id)
