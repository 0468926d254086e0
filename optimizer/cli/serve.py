"""``anvis serve``: the planners' web app over the ledger (:mod:`optimizer.serve`)."""

from __future__ import annotations

import click

from optimizer.cli.common import BACKENDS, error, printable
from optimizer.cli.rounds import DB_ENV

__all__ = ["serve"]


@click.command("serve")
@click.option(
    "--db",
    "db",
    default=None,
    envvar=DB_ENV,
    help="Ledger database: an SQLite file or a URL (sqlite:///x.db, postgresql://...), as 'anvis round --db'; "
    f"${DB_ENV} when not given. Opening a round in the browser starts it when there is none yet.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. The app has no login: keep it on 127.0.0.1 (this machine only).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True, help="Solver backend.")
@click.option(
    "--time-limit", type=click.FloatRange(min=0), default=None, help="Seconds per solve (default: to proven optimum)."
)
def serve(db: str | None, host: str, port: int, backend: str, time_limit: float | None) -> None:
    """Start the web app for planners at http://HOST:PORT (Ctrl-C stops it).

    Upload the week's file, look at the plan, ask why, lock or forbid, solve again,
    commit with your name, print the report: the same rounds and ledger as
    'anvis round ...'.
    """
    import logging

    if not db:  # no default ledger, as for 'anvis round': a server started elsewhere never makes its own
        error(f"name the ledger: anvis serve --db LEDGER, or set {DB_ENV}")

    import uvicorn

    from optimizer.serve import create_app
    from optimizer.serve.security import is_loopback

    if not is_loopback(host):
        click.echo(
            printable(f"warning: listening on {host}: anyone who can reach it can commit rounds (there is no login)"),
            err=True,
        )
    # The app logs what it does (round 3 opened, solved, committed): ids and counts, never a citizen's data.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(db, host=host, port=port, backend=backend, time_limit=time_limit)
    shown = f"[{host}]" if ":" in host else host
    click.echo(printable(f"anvis serve: http://{shown}:{port}/ (ledger {db}); Ctrl-C stops it"), err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    except OSError as exc:
        error(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
