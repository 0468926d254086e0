"""``anvis round ...``: weekly allocation rounds over the persistent ledger."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from models.headers import ColumnMap
from models.validate import InstanceError
from optimizer import lang as L
from optimizer.cli.common import (
    BAD_INPUT,
    Overrides,
    columns_option,
    error,
    fail,
    guard_output,
    lang_option,
    load_instance,
    override_options,
    print_plan_summary,
    printable,
    progress_shown,
    save_instance,
    solver_options,
    write_plan,
)
from optimizer.cli.explain import explain_citizen, explain_option, explain_options, write_report

__all__ = ["DB_ENV", "existing_ledger", "ledger_errors", "round_group"]

#: The environment variable naming the ledger when neither ``anvis round --db`` nor the command's ``--db`` does.
DB_ENV = "ANVIS_DB"
#: Where the ``round`` group leaves its ``--db`` for its commands (click's context ``meta`` is shared).
_GROUP_DB = "anvis.round.db"
DB_HELP = (
    "Ledger database: an SQLite file or a URL (sqlite:///x.db, postgresql://...). "
    "Only 'round open' starts a new one (and says so)."
)


def ledger_db(db: str | None) -> str:
    """The ledger a ``round`` command works on: its own ``--db``, else the group's ``--db`` or $ANVIS_DB.

    Exits 2 with one line when none is given: there is no default ledger, so a command
    run in another folder never starts or reads a ledger of its own by mistake.
    """
    if db:
        return db
    ctx = click.get_current_context(silent=True)
    group = None if ctx is None else ctx.meta.get(_GROUP_DB)
    if group:
        return str(group)
    error(f"no ledger given: use 'anvis round --db LEDGER COMMAND' (or --db after the command), or set {DB_ENV}")


def db_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--db`` on a ``round`` command (kept for compatibility): the command gets the ledger :func:`ledger_db` names."""

    @functools.wraps(command)
    def with_db(*args: Any, db: str | None, **kwargs: Any) -> Any:
        return command(*args, db=ledger_db(db), **kwargs)

    return click.option("--db", "db", default=None, help=DB_HELP + " Overrides 'anvis round --db'.")(with_db)


note_option = click.option(
    "--note",
    "note",
    default="",
    metavar="TEXT",
    help="Why: recorded with each --lock, --forbid, --reserve and --hold of this command (see 'round overrides').",
)
by_option = click.option("--by", default=None, help="Who (default $USER).")
hold_option = click.option(
    "--hold",
    "hold",
    multiple=True,
    metavar="UNIT",
    help="Keep an offered turn (anvis/2 rotation pool) for the next round instead of passing it: "
    "it is not assigned now and comes back offered; the ledger counts the empty-unit rent (repeatable).",
)
round_option = click.option(
    "--round", "round_id", type=int, default=None, help="Round id (default: the latest committed round)."
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
@click.option("--db", "db", default=None, envvar=DB_ENV, show_envvar=True, help=DB_HELP)
@click.pass_context
def round_group(ctx: click.Context, db: str | None) -> None:
    """Weekly allocation rounds over a persistent ledger of claims, frames, quotas and caps.

    Name the ledger once: 'anvis round --db LEDGER COMMAND', or set ANVIS_DB.
    """
    ctx.meta[_GROUP_DB] = db


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
@note_option
@by_option
@columns_option
@lang_option
def round_open(
    instance: str,
    db: str,
    output: str | None,
    overrides: Overrides,
    hold: tuple[str, ...],
    note: str,
    by: str | None,
    columns: ColumnMap | None,
    lang: str,
) -> None:
    """Open a round for INSTANCE: fill in the ledger, remaining frames, quotas and caps.

    Starts a new ledger when --db names none yet (and says so on stderr). Units
    held in the last committed round come back with offered: true. Citizens
    already housed and units already let in committed rounds are named in a
    warning each (the round still opens). An output that cannot be written is
    refused before the ledger changes.
    """
    from optimizer.rounds.ledger import ensure_ledger, sqlite_path
    from optimizer.rounds.workflow import housed_before, open_round

    if output:
        guard_output(output, [instance], db=db)
    inst = with_note(overrides.add_to(load_instance(instance, columns=columns)), overrides.first, note)
    with ledger_errors():
        if ensure_ledger(db, create=True):
            click.echo(L.say("rnd.created", lang, path=printable(sqlite_path(db) or db)), err=True)
        for line in housed_before(db, inst, lang):
            click.echo(printable(L.say("rnd.warning", lang, where=instance, line=line)), err=True)
        rid, filled = open_round(db, inst, hold=hold, by=by, hold_note=note)
    if output:
        save_instance(filled, output)
    click.echo(rid)


def with_note(inst: Any, first: int | None, note: str) -> Any:
    """``inst`` with the overrides from position ``first`` on (those of the command line) noted ``note``."""
    if not note or first is None:
        return inst
    mine = tuple(o.model_copy(update={"note": note}) for o in inst.overrides[first:])
    return inst.replace(overrides=inst.overrides[:first] + mine)


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
@note_option
@by_option
@click.option(
    "--no-cost",
    "no_cost",
    is_flag=True,
    help="Do not solve again without the overrides to find what they cost (faster).",
)
@lang_option
def round_solve(
    db: str,
    output: str | None,
    backend: str,
    time_limit: float | None,
    quiet: bool,
    overrides: Overrides,
    hold: tuple[str, ...],
    note: str,
    by: str | None,
    no_cost: bool,
    lang: str,
) -> None:
    """Solve the open round and store its plan in the ledger (overrides are added to the round's).

    When the round has overrides it is also solved without them (and without each one,
    up to 8), with the same backend, to find what they cost: who moved and who lost
    their place ('round overrides', 'round status' and the report show it).
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
        instance = with_note(overrides.add_to(stored, check_locks=False), overrides.first, note)
    with ledger_errors(overrides.named), progress_shown(quiet, "round solve: ") as progress:
        plan, result = solve_round(
            db,
            instance=instance,
            hold=hold,
            by=by,
            cost=not no_cost,
            hold_note=note,
            backend=backend,
            time_limit=time_limit,
            progress=progress,
        )
    if output:
        write_plan(plan, output, lang, result.data.inst)
    if not quiet:
        print_plan_summary(plan, result.timings, output)
        from optimizer.rounds.workflow import open_round_id, round_override_cost

        with ledger_errors():
            rid = open_round_id(db)
            cost = None if rid is None else round_override_cost(db, rid)
        if cost is not None:
            click.echo(printable(L.say("rnd.overrides", lang, cost=cost_words(cost, lang))))
    if plan.status == "error":
        sys.exit(1)


@round_group.command("commit")
@db_option
@click.option("--by", default=None, help="Who commits (default $USER).")
@lang_option
def round_commit(db: str, by: str | None, lang: str) -> None:
    """Add the solved round's plan to the ledger (one transaction)."""
    from optimizer.rounds.workflow import commit_round

    done = on_ledger(db, commit_round, by=by)
    passes = L.say("rnd.passed", lang, n=done["passed"]) if done["passed"] else ""
    held = L.say("rnd.held", lang, n=done["held"]) if done["held"] else ""
    claims = L.say("rnd.claims", lang, n=done["claims"])
    line = L.say("rnd.committed", lang, id=done["id"], name=repr(done["name"]), claims=claims, passes=passes, held=held)
    click.echo(printable(line))


@round_group.command("rollback")
@db_option
@lang_option
def round_rollback(db: str, lang: str) -> None:
    """Undo the last committed round."""
    from optimizer.rounds.workflow import rollback_round

    _report_done(rollback_round, db, "rnd.rolled_back", lang)


@round_group.command("abandon")
@db_option
@lang_option
def round_abandon(db: str, lang: str) -> None:
    """Drop the open round without touching the ledger."""
    from optimizer.rounds.workflow import abandon_round

    _report_done(abandon_round, db, "rnd.abandoned", lang)


def _report_done(action: Callable[[str], dict[str, Any]], db: str, key: str, lang: str) -> None:
    """Run a round action on an existing ledger and say which round it took: ``round 3 ('w47') abandoned``."""
    done = on_ledger(db, action)
    click.echo(printable(L.say(key, lang, id=done["id"], name=repr(done["name"]))))


@round_group.command("status")
@db_option
@lang_option
def round_status(db: str, lang: str) -> None:
    """Show the open round, the last committed round and the cumulative pool ledger."""
    from optimizer.rounds.workflow import status

    s = on_ledger(db, status)
    click.echo(printable(L.say("rnd.ledger", lang, db=db, version=s["schema_version"])))
    for key, r in (("rnd.open_round", s["open"]), ("rnd.last_committed", s["last_committed"])):
        label = L.say(key, lang)
        if r is None:
            click.echo(L.say("rnd.none", lang, label=label))
            continue
        extra = (
            L.say("rnd.by_at", lang, by=r["committed_by"], at=r["committed_at"]) if r["status"] == "committed" else ""
        )
        state = L.TEXT[lang].get(f"rnd.state.{r['status']}", r["status"])
        line = L.say("rnd.round", lang, label=label, id=r["id"], name=repr(r["name"]), status=state, extra=extra)
        click.echo(printable(line))
    for kind, rows in s["totals"].items():
        for key, t in rows.items():
            if kind == "pool":
                # a rotation pool's vacancies are its position in its vacancy sequence
                rotation = s["modes"].get(key) == "rotation"
                turns = L.say("rnd.rotation", lang, n=s["passed"].get(key, 0)) if rotation else ""
                line = L.say("rnd.pool", lang, key=key, vacancies=t["vacancies"], claimed=t["claimed"], turns=turns)
            else:
                line = L.say(f"rnd.{kind}", lang, key=key, n=t["claimed"])
            click.echo(printable(line))
    for h in s["holds"]:
        weeks = L.say("rnd.weeks" if h["weeks"] == 1 else "rnd.weeks_many", lang, n=h["weeks"])
        rent, cost = L.kr(h["rent_kr"], lang), L.kr(h["cost_kr"], lang)
        line = L.say("rnd.held_unit", lang, unit=h["unit"], pool=h["pool"], rent=rent, weeks=weeks, cost=cost)
        click.echo(printable(line))
    if s["tomgangsleje_kr"] or s["holds"]:
        click.echo(L.say("rnd.tomgangsleje", lang, kr=L.kr(s["tomgangsleje_kr"], lang)))
    _status_overrides(db, s, lang)


def _status_overrides(db: str, s: dict[str, Any], lang: str) -> None:
    """The open round's overrides (with what each cost) and what the last committed round's cost."""
    from optimizer.rounds.workflow import overrides_with_cost, round_override_cost

    with ledger_errors():
        if s["open"] is not None:
            for e in overrides_with_cost(db, s["open"]["id"]):
                click.echo(L.say("rnd.override", lang, line=override_line(e, lang)))
            cost = round_override_cost(db, s["open"]["id"])
            if cost is not None:
                click.echo(printable(L.say("rnd.open_cost", lang, cost=cost_words(cost, lang))))
        if s["last_committed"] is not None:
            cost = round_override_cost(db, s["last_committed"]["id"])
            if cost is not None:
                click.echo(printable(L.say("rnd.last_cost", lang, cost=cost_words(cost, lang))))


@round_group.command("history")
@db_option
@lang_option
def round_history(db: str, lang: str) -> None:
    """List every round, oldest first."""
    from optimizer.rounds.workflow import history

    rows = on_ledger(db, history)
    for r in rows:
        extra = ""
        if r["committed_at"]:
            when = L.datetime(r["committed_at"], lang)
            extra = L.say("rnd.history_by", lang, by=printable(r["committed_by"]), at=printable(when))
        status = L.TEXT[lang].get(f"round.status.{r['status']}", r["status"])
        fields = (r["id"], r["name"], status, r["instance_sha256"][:12])
        click.echo("\t".join(printable(f) for f in fields) + extra)


def chosen_round(db: str, round_id: int | None) -> int:
    """The round a reading command shows: ``--round``, else the latest committed one (exit 2 when none)."""
    from optimizer.rounds.workflow import latest_committed

    existing_ledger(db)
    if round_id is not None:
        return round_id
    with ledger_errors():
        rid = latest_committed(db)
    if rid is None:
        error("no committed round yet: give --round N for another round (see 'anvis round history')")
    return rid


@round_group.command("report")
@db_option
@round_option
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), required=True, help="HTML file.")
@explain_option
@lang_option
def round_report(db: str, round_id: int | None, output: str, explain: bool, lang: str) -> None:
    """Write a round's report (its filled instance and plan from the ledger) as one HTML page.

    The latest committed round by default (--round N for another). The header names the
    round, its status, who committed it and when; a section lists the round's overrides
    with their notes and what each cost.
    """
    from optimizer.rounds.workflow import overrides_with_cost, report_overrides, round_info, round_plan

    guard_output(output, db=db)
    rid = chosen_round(db, round_id)
    with ledger_errors():
        inst, plan = round_plan(db, rid)
        info = round_info(db, rid)
        overrides = report_overrides(overrides_with_cost(db, rid))
    write_report(inst, plan, inst.source, output, explain, lang=lang, round_info=info, overrides=overrides)


@round_group.command("explain")
@db_option
@round_option
@click.argument("citizen")
@explain_options
def round_explain(db: str, round_id: int | None, citizen: str, **options: Any) -> None:
    """Explain CITIZEN's outcome in a round's plan, from the ledger (instance and plan as stored).

    The latest committed round by default (--round N for another).
    """
    from optimizer.rounds.workflow import round_plan

    rid = chosen_round(db, round_id)
    with ledger_errors():
        inst, plan = round_plan(db, rid)
    explain_citizen(inst, plan, citizen, inst.source, inst.source, **options)


# --- overrides ---------------------------------------------------------------------------


def cost_words(cost: dict[str, Any], lang: str = L.DEFAULT_LANG) -> str:
    """What overrides cost, in one line: ``2 flyttet til en anden bolig: c1 (prioritet 2), ...`` in ``lang``."""

    def ids(rows: list[dict[str, Any]], shown: int = 10) -> str:
        names = [L.say("rnd.cost_who", lang, citizen=r["citizen"], priority=r["priority"]) for r in rows[:shown]]
        return ", ".join(names) + (L.say("rnd.cost_more", lang, n=len(rows) - shown) if len(rows) > shown else "")

    parts = [
        L.say(f"rnd.cost_{what}", lang, n=len(cost[what]), ids=ids(cost[what]))
        for what in ("moved", "lost", "gained")
        if cost[what]
    ]
    return "; ".join(parts) or L.say("rnd.cost_none", lang)


def kind_words(kind: str, lang: str = L.DEFAULT_LANG) -> str:
    """An override's kind as the lines name it: the command in English, the report's word in Danish (``låst``)."""
    return kind if lang == "en" else L.TEXT[lang].get(f"ov.kind.{kind}", kind)


def override_line(e: dict[str, Any], lang: str = L.DEFAULT_LANG) -> str:
    """One override as ``round overrides`` lists it: number, kind, ids, note, who and when (tab-separated)."""
    who = e["citizen"] if e["citizen"] is not None else "-"
    fields = [
        str(e["n"]),
        kind_words(e["kind"], lang),
        who,
        e["unit"],
        e["note"] or "-",
        e["by"] or "-",
        e["at"] or "-",
    ]
    line = "\t".join(printable(f) for f in fields)
    if "cost" in e:
        line += "\t" + printable(cost_words(e["cost"], lang))
    return line


@round_group.command("overrides")
@db_option
@click.option("--round", "round_id", type=int, default=None, help="Round id (default: the open round).")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
@lang_option
def round_overrides_command(db: str, round_id: int | None, as_json: bool, lang: str) -> None:
    """List a round's overrides: number, kind, citizen, unit, note, who added it, when, and what it cost.

    One tab-separated line each; the cost is there once the round was solved with them.
    Remove one with 'round unlock', 'unforbid', 'unreserve' or 'unhold'.
    """
    from optimizer.rounds.workflow import overrides_with_cost, round_overrides

    existing_ledger(db)
    with ledger_errors():
        if round_id is None:
            round_id = _open_round_or_fail(db)
        entries = round_overrides(db, round_id)
        entries = overrides_with_cost(db, round_id) if entries else entries
    if as_json:
        click.echo(json.dumps(entries, indent=1, ensure_ascii=False))
        return
    if not entries:
        click.echo(L.say("rnd.no_overrides", lang, id=round_id))
    for e in entries:
        click.echo(override_line(e, lang))


def _open_round_or_fail(db: str) -> int:
    from optimizer.rounds.workflow import open_round_id

    rid = open_round_id(db)
    if rid is None:
        error("no open round: give --round N for another round (see 'anvis round history')")
    return rid


def _add_command(kind: str, with_citizen: bool) -> click.Command:
    """``round lock|forbid CITIZEN=UNIT`` or ``round reserve|hold UNIT``: add one override with a note."""
    spec = "CITIZEN=UNIT" if with_citizen else "UNIT"
    what = {
        "lock": "Give UNIT to CITIZEN (refused if that breaks a rule)",
        "forbid": "Never give UNIT to CITIZEN",
        "reserve": "Do not assign UNIT this round",
        "hold": "Keep the offered turn UNIT for the next round instead of passing it (anvis/2)",
    }[kind]

    @click.argument("target", metavar=spec)
    @db_option
    @note_option
    @by_option
    @lang_option
    def command(db: str, target: str, note: str, by: str | None, lang: str) -> None:
        from optimizer.rounds.workflow import add_override, round_instance

        existing_ledger(db)
        with ledger_errors():
            inst = round_instance(db)
        citizen, unit = None, target
        if with_citizen:
            options = Overrides(lock=(target,)) if kind == "lock" else Overrides(forbid=(target,))
            options.add_to(inst)  # a malformed or unknown pair, or a lock that breaks a rule: exit 2, named
            citizen, unit = options.records[0]["citizen"], options.records[0]["unit"]
        with ledger_errors():
            e = add_override(db, kind, unit, citizen=citizen, note=note, by=by)
        words = kind_words(kind, lang)
        click.echo(printable(L.say("rnd.added", lang, n=e["n"], kind=words, target=target)))

    command.__doc__ = f"{what}: an override of the open round, with --note why. The round must be solved again."
    return click.command(kind)(command)


def _remove_command(kind: str, with_citizen: bool) -> click.Command:
    """``round unlock|unforbid CITIZEN=UNIT`` or ``round unreserve|unhold UNIT`` (or ``-n N``)."""
    spec = "CITIZEN=UNIT" if with_citizen else "UNIT"

    @click.argument("target", metavar=f"[{spec}]", required=False)
    @click.option("-n", "--number", "number", type=int, default=None, help="The override's number instead.")
    @db_option
    @by_option
    @lang_option
    def command(db: str, target: str | None, number: int | None, by: str | None, lang: str) -> None:
        from optimizer.rounds.workflow import remove_override, round_overrides

        if (target is None) == (number is None):
            raise click.UsageError(f"give {spec} or -n N (see 'anvis round overrides')")
        existing_ledger(db)
        with ledger_errors():
            entries = [e for e in round_overrides(db) if e["kind"] == kind]
        if number is not None:
            matches = [e for e in entries if e["n"] == number]
        elif with_citizen:
            matches = [e for e in entries if f"{e['citizen']}={e['unit']}" == target]
        else:
            matches = [e for e in entries if e["unit"] == target]
        if not matches:
            which = f"number {number}" if number is not None else repr(target)
            error(f"the open round has no {kind} override {which} (see 'anvis round overrides')")
        with ledger_errors():
            for e in matches:
                remove_override(db, e["n"], by=by)
        for e in matches:
            ids = f"{e['citizen']}={e['unit']}" if e["citizen"] is not None else e["unit"]
            words = kind_words(kind, lang)
            click.echo(printable(L.say("rnd.removed", lang, n=e["n"], kind=words, target=ids)))

    command.__doc__ = (
        f"Remove the open round's {kind} of {spec} (or override -n N); the round must be solved again. "
        "The override stays in the ledger, marked removed."
    )
    return click.command(f"un{kind}")(command)


for _kind, _pair in (("lock", True), ("forbid", True), ("reserve", False), ("hold", False)):
    round_group.add_command(_add_command(_kind, _pair))
    round_group.add_command(_remove_command(_kind, _pair))


@round_group.command("carry")
@db_option
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(),
    required=True,
    help="Next week's instance (.json, .xlsx or a CSV folder).",
)
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Days until the next round, added to each waiting time (default: the days between the last two "
    "committed rounds, or 7).",
)
@click.option("--round", "round_id", type=int, default=None, help="A committed round (default: the latest).")
@lang_option
def round_carry(db: str, output: str, days: int | None, round_id: int | None, lang: str) -> None:
    """Write next week's instance from the latest committed round: who still waits, the held turns, the counts.

    Citizens the round did not house keep waiting, their waiting_days increased; turns the
    round held come back offered; the pools' ledger counts and the frames, quotas and caps
    as given are kept. Add the week's new units and citizens, then 'round open' it.
    """
    from optimizer.rounds.workflow import carry_round

    guard_output(output, db=db)
    existing_ledger(db)
    with ledger_errors():
        inst, days, notes = carry_round(db, days=days, round_id=round_id, lang=lang)
    for note in notes:
        click.echo(printable(L.say("rnd.note", lang, note=note)), err=True)
    save_instance(inst, output)
    citizens, units = L.plural(len(inst.citizens), "citizen", lang), L.plural(len(inst.units), "held_unit", lang)
    click.echo(printable(L.say("rnd.carried", lang, output=output, citizens=citizens, days=days, units=units)))


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
@lang_option
def round_new_period(
    db: str, frames: bool, quotas: bool, departments: bool, expire_choice_rights: bool, by: str | None, lang: str
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
    counts = L.plural(n, "count", lang)
    click.echo(L.say("rnd.new_period", lang, kinds=", ".join(kinds), id=done["id"], counts=counts))


@round_group.command("purge")
@db_option
@click.option(
    "--abandoned",
    "abandoned",
    is_flag=True,
    help="Remove the stored instances and plans of every abandoned round (required: what to purge).",
)
@click.option("--by", default=None, help="Who purges (default $USER).")
@lang_option
def round_purge(db: str, abandoned: bool, by: str | None, lang: str) -> None:
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
        click.echo(L.say("rnd.purge_none", lang))
    else:
        rounds = L.plural(len(ids), "abandoned_round", lang)
        click.echo(L.say("rnd.purged", lang, rounds=rounds, ids=", ".join(map(str, ids)), id=done["id"]))


@round_group.command("subsidies")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as JSON.")
@lang_option
def round_subsidies(db: str, as_json: bool, lang: str) -> None:
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
    n = len(rows)
    noun = L.plural(n, "tenancy", lang).split(" ", 1)[1]
    click.echo(L.say("rnd.subsidies", lang, n=L.number(n, lang), tenancies=noun, full=FULL_YEARS, taper=TAPER_YEARS))
    for y in years:
        line = L.say(
            "rnd.subsidy_year",
            lang,
            year=y["year"],
            entering=L.number(len(y["entering_taper"]), lang),
            in_taper=L.number(y["in_taper"], lang),
            tenancies=L.number(y["tenancies"], lang),
            cost=L.kr(y["cost_kr"], lang),
            below=L.number(y["limit_below_tapered_rent"], lang),
        )
        click.echo(line)
        for t in y["entering_taper"]:
            fields = {k: t[k] for k in ("round", "citizen", "unit", "municipality", "start")}
            click.echo(printable(L.say("rnd.subsidy_entering", lang, **fields)))
