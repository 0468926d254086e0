"""The app: :func:`create_app` builds it over one ledger, guarded by :mod:`optimizer.serve.security`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates

from optimizer.serve.jobs import Solves
from optimizer.serve.security import MAX_UPLOAD_BYTES, SecurityMiddleware, allowed_hosts
from optimizer.serve.service import ServeError
from optimizer.serve.templating import environment, render

__all__ = ["create_app"]

API_DESCRIPTION = """The JSON API that the pages of `anvis serve` use, over the same ledger and code
paths as `anvis round ...`.

Every request that changes something (POST, DELETE) carries the CSRF token: the value
of the `anvis_csrf` cookie, repeated in the `X-CSRF-Token` header (or a form's
`csrf_token` field). `GET /api/csrf` sets the cookie and returns the token. Requests
whose `Host` is not the server's address, or whose `Origin` is another site, are
refused (403); bodies over the upload limit get 413. Refusals are
`{"detail": message, "problems": [...]}` with 404 (no such round), 409 (the ledger
refuses: e.g. the round was just committed by someone else) or 422 (bad input, one
problem per line as `anvis validate` prints them)."""


def create_app(
    db: str,
    *,
    host: str,
    port: int | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    backend: str = "auto",
    time_limit: float | None = None,
) -> FastAPI:
    """The web app over the ledger ``db``.

    Parameters
    ----------
    db
        Ledger database: an SQLite file or a SQLAlchemy URL, as ``--db`` of ``anvis round``.
        Pages only read it; uploading a week's file opens a round and starts the ledger
        when there is none yet (as ``anvis round open``).
    host
        The address the server is bound to: requests naming another ``Host`` are refused.
    port
        The port it is bound to (requests must name it); None accepts any port.
    max_upload_bytes
        The largest request body.
    backend, time_limit
        Solver options of every solve (as ``anvis round solve``).

    Returns
    -------
    FastAPI
        The ASGI app; serve it with uvicorn (``anvis serve``).
    """
    from optimizer.serve import api, pages

    app = FastAPI(
        title="anvis serve",
        description=API_DESCRIPTION,
        version=_version(),
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.db = db
    app.state.solves = Solves(db, backend=backend, time_limit=time_limit)
    app.state.templates = Jinja2Templates(env=environment())
    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_exception_handler(ServeError, _refused)  # type: ignore[arg-type]  # Starlette types handlers loosely
    app.add_middleware(SecurityMiddleware, hosts=allowed_hosts(host, port), max_body=max_upload_bytes)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("anvis")
    except PackageNotFoundError:
        return "0"


async def _refused(request: Request, exc: ServeError) -> Response:
    """A refusal: JSON under ``/api``, an error page elsewhere."""
    if request.url.path.startswith("/api"):
        return JSONResponse({"detail": exc.message, "problems": exc.problems}, status_code=exc.status)
    return render(request, "error.html.j2", status_code=exc.status, message=exc.message, problems=exc.problems)
