"""``anvis round ...``: weekly allocation rounds over the persistent ledger."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from models.headers import ColumnMap
from models.validate import InstanceError
from optimizer.cli.common import (
    BAD_INPUT,
    Overrides,
    columns_option,
    fail,
    guard_output,
    lang_option,
    load_instance,
    override_options,
    print_plan_summary,
    printable,
    save_instance,
    solver_options,
    write_plan,
)
from optimizer.cli.explain import explain_citizen, explain_option, explain_options, write_report

__all__ = ["existing_ledger", "ledger_errors", "round_group"]

db_option = click.option(
    "--db",
    "db",
    default="anvis-ledger.db",
    show_default=True,
    help="Ledger database: an SQLite file or a URL (sqlite:///x.db, postgresql://...). "
    "Only 'round open' starts a new one (and says so).",
)
hold_option = click.option(
    "--hold",
    "hold",
    multiple=True,
    metavar="UNIT",
    help="Keep an offered turn (anvis/2 rotation pool) for the next round instead of passing it: "
    "it is not assigned now and comes back offered; the ledger counts the empty-unit rent (repeatable).",
)
round_option = click.option(
    "--round", "round_id", type=int, default=None, help="Round id (default: the latest with a plan)."
)


@contextmanager
def ledger_errors(named: Callable[[InstanceError], InstanceError] = lambda exc: exc) -> Iterator[None]:
    """Run ledger operations; a refusal or database error is one line and exit 2.

    ``named`` rewrites an :class:`InstanceError` (e.g. a lock that no longer fits the
    caps the ledger leaves) before it is printed.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from optimizer.rounds.ledger import LedgerError

    try:
        yield
        return
    except InstanceError as exc:
        fail(named(exc))
    except LedgerError as exc:
        click.echo(f"error: {printable(exc)}", err=True)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        click.echo(f"error: ledger database: {printable(first)}", err=True)
    except ImportError as exc:  # e.g. a postgresql:// URL without its driver installed
        click.echo(f"error: ledger database: {printable(exc)}", err=True)
    except json.JSONDecodeError as exc:  # a damaged row the workflow reads without its own check
        click.echo(
            f"error: ledger database: a stored document is not valid JSON ({exc}): the ledger is damaged", err=True
        )
    sys.exit(BAD_INPUT)


def existing_ledger(db: str) -> None:
    """Exit 2 (one line) unless ``db`` holds a ledger: commands other than ``round open`` never start one."""
    from optimizer.rounds.ledger import ensure_ledger

    with ledger_errors():
        ensure_ledger(db, create=False)


T = TypeVar("T")


def on_ledger(db: str, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``action(db, *args, **kwargs)`` on an existing ledger; a refusal is one line and exit 2."""
    existing_ledger(db)
    with ledger_errors():
        return action(db, *args, **kwargs)


@click.group("round")
def round_group() -> None:
    """Weekly allocation rounds over a persistent ledger of claims, frames, quotas and caps."""


@round_group.command("open")
@click.argument("instance", type=click.Path(dir_okay=True))
@db_option
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(),
    default=None,
    help="Also write the instance with the ledger filled in (.json, .xlsx or a CSV folder).",
)
@override_options
@hold_option
@columns_option
def round_open(
    instance: str,
    db: str,
    output: str | None,
    overrides: Overrides,
    hold: tuple[str, ...],
    columns: ColumnMap | None,
) -> None:
    """Open a round for INSTANCE: fill in the ledger, remaining frames, quotas and caps.

    Starts a new ledger when --db names none yet (and says so on stderr). Units
    held in the last committed round come back with offered: true. An output
    that cannot be written is refused before the ledger changes.
    """
    from optimizer.rounds.ledger import ensure_ledger, sqlite_path
    from optimizer.rounds.workflow import open_round

    if output:
        guard_output(output, [instance], db=db)
    inst = overrides.add_to(load_instance(instance, columns=columns))
    with ledger_errors():
        if ensure_ledger(db, create=True):
            click.echo(f"created a new ledger at {printable(sqlite_path(db) or db)}", err=True)
        rid, filled = open_round(db, inst, hold=hold)
    if output:
        save_instance(filled, output)
    click.echo(rid)


@round_group.command("solve")
@db_option
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(),
    default=None,
    help="Also write the plan (.json, .xlsx or a CSV folder).",
)
@solver_options
@override_options
@hold_option
@lang_option
def round_solve(
    db: str,
    output: str | None,
    backend: str,
    time_limit: float | None,
    quiet: bool,
    overrides: Overrides,
    hold: tuple[str, ...],
    lang: str,
) -> None:
    """Solve the open round and store its plan in the ledger (overrides are added to the round's).

    An output that cannot be written is refused before the solve, so the ledger stays as it was.
    """
    from optimizer.rounds.workflow import round_instance, solve_round

    if output:
        guard_output(output, db=db)
    existing_ledger(db)
    instance = None
    if overrides:
        with ledger_errors():
            stored = round_instance(db)
        # The solve checks every lock against the caps the ledger leaves: no check before it.
        instance = overrides.add_to(stored, check_locks=False)
    with ledger_errors(overrides.named):
        plan, result = solve_round(db, instance=instance, hold=hold, backend=backend, time_limit=time_limit)
    if output:
        write_plan(plan, output, lang, result.data.inst)
    if not quiet:
        print_plan_summary(plan, result.timings, output)
    if plan.status == "error":
        sys.exit(1)


@round_group.command("commit")
@db_option
@click.option("--by", default=None, help="Who commits (default $USER).")
def round_commit(db: str, by: str | None) -> None:
    """Add the solved round's plan to the ledger (one transaction)."""
    from optimizer.rounds.workflow import commit_round

    done = on_ledger(db, commit_round, by=by)
    passes = f", {done['passed']} passed" if done["passed"] else ""
    held = f", {done['held']} held" if done["held"] else ""
    click.echo(printable(f"round {done['id']} ({done['name']!r}) committed: {done['claims']} claims{passes}{held}"))


@round_group.command("rollback")
@db_option
def round_rollback(db: str) -> None:
    """Undo the last committed round."""
    from optimizer.rounds.workflow import rollback_round

    _report_done(rollback_round, db, "rolled back")


@round_group.command("abandon")
@db_option
def round_abandon(db: str) -> None:
    """Drop the open round without touching the ledger."""
    from optimizer.rounds.workflow import abandon_round

    _report_done(abandon_round, db, "abandoned")


def _report_done(action: Callable[[str], dict[str, Any]], db: str, done_word: str) -> None:
    """Run a round action on an existing ledger and say which round it took: ``round 3 ('w47') abandoned``."""
    done = on_ledger(db, action)
    click.echo(printable(f"round {done['id']} ({done['name']!r}) {done_word}"))


@round_group.command("status")
@db_option
def round_status(db: str) -> None:
    """Show the open round, the last committed round and the cumulative pool ledger."""
    from optimizer.rounds.workflow import status

    s = on_ledger(db, status)
    click.echo(printable(f"ledger {db} (schema version {s['schema_version']})"))
    for label, r in (("open round", s["open"]), ("last committed", s["last_committed"])):
        if r is None:
            click.echo(f"{label}: none")
        else:
            extra = f" by {r['committed_by']} at {r['committed_at']}" if r["status"] == "committed" else ""
            click.echo(printable(f"{label}: {r['id']} {r['name']!r} {r['status']}{extra}"))
    for kind, rows in s["totals"].items():
        for key, t in rows.items():
            if kind == "pool":
                # a rotation pool's vacancies are its position in its vacancy sequence
                turns = f", rotation, {s['passed'].get(key, 0)} passed" if s["modes"].get(key) == "rotation" else ""
                click.echo(printable(f"pool {key}: {t['vacancies']} vacancies, {t['claimed']} claimed{turns}"))
            else:
                what = "vulnerable placed" if kind == "department" else "subsidised"
                click.echo(printable(f"{kind} {key}: {t['claimed']} {what}"))
    for h in s["holds"]:
        weeks = f"{h['weeks']} week{'s' * (h['weeks'] != 1)}"
        where = f"pool {h['pool']}, {h['rent_kr']} kr a month"
        click.echo(printable(f"held {h['unit']} ({where}): {weeks}, {h['cost_kr']} kr tomgangsleje"))
    if s["tomgangsleje_kr"] or s["holds"]:
        click.echo(f"tomgangsleje paid for held units: {s['tomgangsleje_kr']} kr")


@round_group.command("history")
@db_option
def round_history(db: str) -> None:
    """List every round, oldest first."""
    from optimizer.rounds.workflow import history

    rows = on_ledger(db, history)
    for r in rows:
        extra = f" by {printable(r['committed_by'])} at {printable(r['committed_at'])}" if r["committed_at"] else ""
        fields = (r["id"], r["name"], r["status"], r["instance_sha256"][:12])
        click.echo("\t".join(printable(f) for f in fields) + extra)


@round_group.command("report")
@db_option
@round_option
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), required=True, help="HTML file.")
@explain_option
def round_report(db: str, round_id: int | None, output: str, explain: bool) -> None:
    """Write a round's report (its filled instance and plan from the ledger) as one HTML page."""
    from optimizer.rounds.workflow import round_plan

    guard_output(output, db=db)
    inst, plan = on_ledger(db, round_plan, round_id)
    write_report(inst, plan, inst.source, output, explain)


@round_group.command("explain")
@db_option
@round_option
@click.argument("citizen")
@explain_options
def round_explain(db: str, round_id: int | None, citizen: str, **options: Any) -> None:
    """Explain CITIZEN's outcome in a round's plan, from the ledger (instance and plan as stored)."""
    from optimizer.rounds.workflow import round_plan

    inst, plan = on_ledger(db, round_plan, round_id)
    explain_citizen(inst, plan, citizen, inst.source, inst.source, **options)


@round_group.command("new-period")
@db_option
@click.option(
    "--frames/--no-frames",
    default=False,
    show_default=True,
    help="Zero the subsidised assignments counted against each municipality's frame "
    "(frames are totals until spent: only when asked).",
)
@click.option(
    "--quotas/--no-quotas",
    default=False,
    show_default=True,
    help="Zero the subsidised assignments counted against each region's grant quota "
    "(quotas are totals until spent: only when asked).",
)
@click.option(
    "--departments/--no-departments",
    default=True,
    show_default=True,
    help="Zero the vulnerable placements counted against each afdeling's mixed-city cap.",
)
@click.option(
    "--expire-choice-rights",
    "expire_choice_rights",
    is_flag=True,
    help="Expire the rights choice pools have banked: claimed = floor(share x vacancies).",
)
@click.option("--by", default=None, help="Who starts the period (default $USER).")
def round_new_period(
    db: str, frames: bool, quotas: bool, departments: bool, expire_choice_rights: bool, by: str | None
) -> None:
    """Start a new period (e.g. a new year): mixed-city caps, and frames, quotas or choice rights when asked.

    Zeroes the vulnerable placements counted against the mixed-city caps (unless
    --no-departments), and with --frames / --quotas the subsidised assignments counted
    against frames and grant quotas (totals until spent otherwise). With
    --expire-choice-rights the rights choice pools have banked expire. The pools'
    vacancies (their positions) are never reset. Refused while a round is open;
    recorded in the history; a round committed before the new period can no longer
    be rolled back.
    """
    from optimizer.rounds.workflow import CHOICE_RIGHTS, new_period

    chosen = (("frame", frames), ("quota", quotas), ("department", departments), (CHOICE_RIGHTS, expire_choice_rights))
    kinds = [k for k, on in chosen if on]
    if not kinds:
        raise click.UsageError(
            "nothing to reset: give --frames, --quotas or --expire-choice-rights with --no-departments"
        )
    done = on_ledger(db, new_period, kinds=kinds, by=by)
    n = sum(len(v) for v in done["reset"].values())
    click.echo(f"new period started ({', '.join(kinds)}) as entry {done['id']}: {n} count{'s' * (n != 1)} zeroed")


@round_group.command("purge")
@db_option
@click.option(
    "--abandoned",
    "abandoned",
    is_flag=True,
    help="Remove the stored instances and plans of every abandoned round (required: what to purge).",
)
@click.option("--by", default=None, help="Who purges (default $USER).")
def round_purge(db: str, abandoned: bool, by: str | None) -> None:
    """Remove citizens' data the ledger no longer needs: the instances and plans of abandoned rounds.

    The rounds stay in the history, with status 'purged'; the purge itself is a
    history entry (who, when, which rounds). Committed rounds keep theirs: the
    ledger's audit trail needs them.
    """
    from optimizer.rounds.workflow import purge_abandoned

    if not abandoned:
        raise click.UsageError("say what to purge: --abandoned")
    done = on_ledger(db, purge_abandoned, by=by)
    ids = done["rounds"]
    if not ids:
        click.echo("no abandoned round to purge")
    else:
        n = len(ids)
        click.echo(f"purged {n} abandoned round{'s' * (n != 1)} ({', '.join(map(str, ids))}) as entry {done['id']}")


@round_group.command("subsidies")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as JSON.")
def round_subsidies(db: str, as_json: bool) -> None:
    """List, per year, the subsidised tenancies entering the taper, the cost and rent limits below it.

    The subsidy is full for 4 years from move-in and then tapers over 5 (linearly here:
    the source gives no shape). Rent limits are only counted, never shown per citizen.
    """
    from optimizer.rounds.subsidies import FULL_YEARS, TAPER_YEARS, taper_schedule, tenancies

    rows = on_ledger(db, tenancies)
    years = taper_schedule(rows)
    if as_json:
        click.echo(
            json.dumps(
                {"tenancies": len(rows), "full_years": FULL_YEARS, "taper_years": TAPER_YEARS, "years": years},
                indent=1,
                ensure_ascii=False,
            )
        )
        return
    click.echo(
        f"{len(rows):,} subsidised tenanc{'y' if len(rows) == 1 else 'ies'}: full subsidy for {FULL_YEARS} years "
        f"from the commit date, then a linear taper over {TAPER_YEARS} (amounts at their start, not indexed)"
    )
    for y in years:
        n = len(y["entering_taper"])
        click.echo(
            f"{y['year']}: {n:,} entering the taper, {y['in_taper']:,} in it, {y['tenancies']:,} subsidised; "
            f"cost {y['cost_kr']:,.0f} kr; {y['limit_below_tapered_rent']:,} with a rent limit below "
            "their tapered rent"
        )
        for t in y["entering_taper"]:
            click.echo(
                printable(
                    f"  round {t['round']}: citizen {t['citizen']} in unit {t['unit']} "
                    f"(municipality {t['municipality']}, since {t['start']})"
                )
            )
