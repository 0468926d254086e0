"""The pages planners use, in Danish: rounds, upload, plan, citizen, overrides, commit, history.

Forms post to routes here, which call what the API calls (:mod:`optimizer.serve.api`,
:mod:`optimizer.serve.service`) and redirect back (post/redirect/get), so a reload never
repeats a commit. A refusal is shown as a page with its message and problems.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from optimizer.rounds.workflow import abandon_round, round_info
from optimizer.serve import api, service
from optimizer.serve.service import PLAN_FORMATS, ServeError
from optimizer.serve.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    """The rounds (open, committed, abandoned, with who and when) and the upload form."""
    db = api.db_of(request)
    rows = [r for r in service.round_rows(db) if r["status"] not in ("new_period", "purge")]
    open_ = next((r for r in rows if r["status"] in ("opened", "solved")), None)
    return render(request, "index.html.j2", rows=rows, open_round=open_, db=db, problems=[], message=None)


@router.post("/rounds", response_class=HTMLResponse)
async def upload(request: Request, file: UploadFile, by: Annotated[str, Form()] = "") -> Response:
    """Open a round from the uploaded file; its problems shown per row on the upload page when it is invalid."""
    db = api.db_of(request)
    data = await file.read()
    try:
        done = await run_in_threadpool(api.open_upload, db, file.filename or "upload", data, by)
    except ServeError as exc:
        rows = [r for r in service.round_rows(db) if r["status"] not in ("new_period", "purge")]
        open_ = next((r for r in rows if r["status"] in ("opened", "solved")), None)
        return render(
            request,
            "index.html.j2",
            status_code=exc.status,
            rows=rows,
            open_round=open_,
            db=db,
            problems=exc.problems,
            message=exc.message,
        )
    return _back(f"/rounds/{done['id']}")


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon (and no 404 in the log for each page)."""
    return Response(status_code=204)


@router.get("/history", response_class=HTMLResponse)
def history_page(request: Request) -> Response:
    """Every entry of the ledger's history, new periods and purges too, oldest first."""
    rows = list(reversed(service.round_rows(api.db_of(request))))
    return render(request, "history.html.j2", rows=rows)


@router.get("/rounds/{round_id}", response_class=HTMLResponse)
def round_page(request: Request, round_id: int) -> Response:
    """A round: its state, overrides, what the last solve changed, the plan as a table, commit."""
    db = api.db_of(request)
    row = service.find_round(db, round_id)
    inst, plan = service.stored(db, round_id)
    job = request.app.state.solves.get(round_id)
    if job is not None and job.state == "running":
        return _back(f"/rounds/{round_id}/solving")
    overrides = service.list_overrides(db, round_id) if row["status"] not in ("purged",) else []
    return render(
        request,
        "round.html.j2",
        round=row,
        inst=inst,
        plan=plan,
        table=_plan_rows(inst, plan) if plan is not None else [],
        housed=_housed(plan) if plan is not None else [],
        job=job.as_dict() if job is not None else None,
        overrides=overrides,
        editable=row["status"] in ("opened", "solved"),
        formats=PLAN_FORMATS,
    )


def _housed(plan: Any) -> list[dict[str, Any]]:
    """Housed of how many, per priority."""
    waiting: dict[str, int] = {}
    for u in plan.unassigned:
        key = str(u.priority) if u.priority is not None else "–"
        waiting[key] = waiting.get(key, 0) + 1
    housed = plan.objective.housed_by_priority
    keys = sorted(set(housed) | set(waiting), key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0))
    return [{"priority": k, "housed": housed.get(k, 0), "of": housed.get(k, 0) + waiting.get(k, 0)} for k in keys]


def _plan_rows(inst: Any, plan: Any) -> list[dict[str, Any]]:
    """One row per citizen of the plan: ids, priority, unit or why not (as the plan states it)."""
    rent = {u.id: u.rent_kr for u in inst.units}
    rows: list[dict[str, Any]] = [
        {
            "citizen": a.citizen,
            "priority": a.priority,
            "housed": True,
            "unit": a.unit,
            "department": a.department or "",
            "pool": a.pool or "",
            "rent": rent.get(a.unit),
            "effective": a.effective_rent_kr,
            "subsidised": a.subsidised,
            "score": a.score,
            "locked": bool(a.locked),
            "reason": "",
        }
        for a in plan.assignments
    ]
    rows += [
        {
            "citizen": u.citizen,
            "priority": u.priority,
            "housed": False,
            "unit": "",
            "department": "",
            "pool": "",
            "rent": None,
            "effective": None,
            "subsidised": False,
            "score": None,
            "locked": False,
            "reason": u.reason,
            "code": u.code or "",
        }
        for u in plan.unassigned
    ]
    return sorted(rows, key=lambda r: (r["priority"] if r["priority"] is not None else 99, r["citizen"]))


@router.post("/rounds/{round_id}/solve")
def solve(request: Request, round_id: int) -> Response:
    """Start solving; the progress page polls until the plan is there."""
    api.solve(request, round_id)
    return _back(f"/rounds/{round_id}/solving")


@router.get("/rounds/{round_id}/solving", response_class=HTMLResponse)
def solving(request: Request, round_id: int) -> Response:
    """Progress of a solve: seconds so far; the round's page when it is done, the refusal when it failed."""
    row = service.find_round(api.db_of(request), round_id)
    job = request.app.state.solves.get(round_id)
    if job is None or job.state == "done":
        return _back(f"/rounds/{round_id}")
    return render(request, "solving.html.j2", round=row, job=job.as_dict())


@router.post("/rounds/{round_id}/overrides")
def add_override(
    request: Request,
    round_id: int,
    action: Annotated[str, Form()],
    unit: Annotated[str, Form()],
    citizen: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    by: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Add a lock, forbid, reserve or hold with a note (from the round's or a citizen's page)."""
    record = {"kind": action, "citizen": citizen or None, "unit": unit, "note": note}
    request.app.state.solves.remember(round_id)
    service.add_override(api.db_of(request), round_id, record, by=by or None)
    return _back(_local(back) or f"/rounds/{round_id}#tilsidesaettelser")


@router.post("/rounds/{round_id}/overrides/{n}/delete")
def remove_override(request: Request, round_id: int, n: int) -> Response:
    """Remove override ``n``."""
    request.app.state.solves.remember(round_id)
    service.remove_override(api.db_of(request), round_id, n)
    return _back(f"/rounds/{round_id}#tilsidesaettelser")


@router.post("/rounds/{round_id}/commit")
def commit(request: Request, round_id: int, by: Annotated[str, Form()] = "") -> Response:
    """Commit the round with the planner's name; when another commit won, the page says who and when."""
    api.commit(api.db_of(request), round_id, by)
    return _back(f"/rounds/{round_id}")


@router.post("/rounds/{round_id}/abandon")
def abandon(request: Request, round_id: int) -> Response:
    """Abandon the open round."""
    db = api.db_of(request)
    service.find_round(db, round_id)
    service.ledger_call(abandon_round, db, round_id)
    return _back("/")


@router.get("/rounds/{round_id}/citizens/{citizen:path}", response_class=HTMLResponse)
def citizen_page(request: Request, round_id: int, citizen: str) -> Response:
    """A citizen's outcome explained (``anvis round explain``) and the smallest change that would house them."""
    from optimizer.explain.citizen import PlanMismatch, UnknownCitizen, explain

    db = api.db_of(request)
    row = service.find_round(db, round_id)
    inst, plan = service.stored(db, round_id)
    if plan is None:
        raise ServeError(404, f"Runde {round_id} er ikke løst endnu: løs den først.")
    try:
        out = explain(inst, plan, citizen)
    except UnknownCitizen:
        raise ServeError(404, f"Borger {citizen!r} findes ikke i runde {round_id}.") from None
    except PlanMismatch as exc:
        raise ServeError(409, f"Planen passer ikke til rundens instans: {exc}") from None
    cit = next(c for c in inst.citizens if c.id == citizen)
    dept_muni = {d.id: d.municipality for d in inst.departments}
    units = [u for u in inst.units if dept_muni.get(u.department) == cit.municipality]
    current = next((a.unit for a in plan.assignments if a.citizen == citizen), None)
    overrides = [o for o in service.list_overrides(db, round_id) if o.get("citizen") == citizen]
    return render(
        request,
        "citizen.html.j2",
        round=row,
        citizen=citizen,
        explanation=out,
        units=units,
        current=current,
        overrides=overrides,
        editable=row["status"] in ("opened", "solved"),
    )


@router.get("/rounds/{round_id}/report", response_class=HTMLResponse)
def report(request: Request, round_id: int, download: bool = False) -> Response:
    """The printable round report (``anvis round report``), with a why for every citizen."""
    from optimizer.explain.citizen import explain_all
    from optimizer.report.html import ReportError, render_report

    db = api.db_of(request)
    service.find_round(db, round_id)
    inst, plan = service.stored(db, round_id)
    if plan is None:
        raise ServeError(404, f"Runde {round_id} er ikke løst endnu.")
    info = service.ledger_call(round_info, db, round_id)
    overrides = service.report_overrides(service.list_overrides(db, round_id))
    try:
        html = render_report(inst, plan, explain_all(inst, plan), round_info=info, overrides=overrides)
    except ReportError as exc:
        raise ServeError(409, "Rapporten kan ikke laves.", list(exc.problems)) from None
    headers = {"content-disposition": f'attachment; filename="runde-{round_id}.html"'} if download else None
    return HTMLResponse(html, headers=headers)


@router.get("/rounds/{round_id}/plan.{kind}")
def download_plan(request: Request, round_id: int, kind: str) -> Response:
    """The plan as JSON, xlsx or a zip of its CSV folder, as ``anvis round solve -o`` writes them."""
    if kind not in PLAN_FORMATS:
        raise ServeError(404, f"Ukendt format {kind!r}: brug {', '.join(PLAN_FORMATS)}.")
    _, plan = service.stored(api.db_of(request), round_id)
    if plan is None:
        raise ServeError(404, f"Runde {round_id} er ikke løst endnu.")
    media, ending = PLAN_FORMATS[kind]
    name = f"runde-{round_id}{ending}"
    return Response(
        service.plan_download(plan, kind),
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _local(url: str) -> str | None:
    """A path on this site to go back to (never another site: an open redirect)."""
    if url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return None
