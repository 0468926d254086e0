"""``anvis``: the command line, a thin layer over the library.

Exit codes: 0 success; 1 a plan breaks a rule (``check``) or the solver failed;
2 bad input (every problem of the file listed, one line each, nothing written).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

import models
from models.validate import InstanceError, Problem

BAD_INPUT = 2


def _load(path: str, check_locks: bool = True) -> models.Instance:
    """Load an instance or exit 2 with one line per problem.

    ``check_locks=False`` leaves the check that locks obey the rules to a solve that
    follows (it makes the same check on the arrays it builds anyway).
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", models.validate.UnknownFieldWarning)
            inst = models.load(path)
        for w in caught:
            click.echo(f"warning: {w.message}", err=True)
        if inst.overrides and check_locks:
            _check_overrides(inst)
        return inst
    except InstanceError as exc:
        _fail(exc)
    except RecursionError:  # JSON nested deeper than Python's recursion limit
        _fail(InstanceError(path, [Problem("", "not readable: nested too deeply")]))


def _check_overrides(inst: models.Instance) -> None:
    """Refuse locks that break a rule (InstanceError, one problem per lock)."""
    from optimizer.engine.data import ProblemData
    from optimizer.engine.overrides import check_overrides

    check_overrides(ProblemData.build(inst))


def _pair_option(text: str, flag: str) -> tuple[str, str]:
    citizen, sep, unit = text.partition("=")
    if not sep or not citizen or not unit:
        raise click.BadParameter(f"expected CITIZEN=UNIT, got {text!r}", param_hint=flag)
    return citizen, unit


def _override_options(command):
    """--lock, --forbid and --reserve: planner overrides added to the instance's own."""
    command = click.option(
        "--reserve", "reserve", multiple=True, metavar="UNIT", help="Do not assign UNIT this round (repeatable)."
    )(command)
    command = click.option(
        "--forbid", "forbid", multiple=True, metavar="CITIZEN=UNIT", help="Never give UNIT to CITIZEN (repeatable)."
    )(command)
    return click.option(
        "--lock",
        "lock",
        multiple=True,
        metavar="CITIZEN=UNIT",
        help="Give UNIT to CITIZEN; refused if that breaks a rule (repeatable).",
    )(command)


def _with_overrides(inst: models.Instance, lock, forbid, reserve) -> models.Instance:
    """The instance with command-line overrides appended; bad ones exit 2 named by their option."""
    extra, flags = [], []
    for flag, action, values in (("--lock", "lock", lock), ("--forbid", "forbid", forbid)):
        for text in values:
            citizen, unit = _pair_option(text, flag)
            extra.append({"action": action, "citizen": citizen, "unit": unit, "note": "command line"})
            flags.append(f"{flag} {text}")
    for unit in reserve:
        extra.append({"action": "reserve", "unit": unit, "note": "command line"})
        flags.append(f"--reserve {unit}")
    if not extra:
        return inst
    doc = inst.to_dict()
    first = len(doc.get("overrides", []))
    own = doc.get("overrides", [])

    def attempt(keep: list[int]) -> tuple[models.Instance | None, list[Problem]]:
        try:
            out = models.from_dict({**doc, "overrides": own + [extra[i] for i in keep]}, inst.source)
            _check_overrides(out)
            return out, []
        except InstanceError as exc:
            # name the option the planner typed, not a position in a list they never saw
            return None, [
                Problem(flags[keep[k]], p.message) if (k := _override_index(p.path, first)) is not None else p
                for p in exc.problems
            ]

    out, problems = attempt(list(range(len(extra))))
    if out is not None:
        return out
    # unknown ids stop the rule checks; run those on the options whose ids are known
    named = {p.path for p in problems}
    known = [i for i in range(len(extra)) if flags[i] not in named]
    problems += attempt(known)[1] if known else []
    _fail(InstanceError("command line", list(dict.fromkeys(problems))))


def _override_index(path: str, first: int) -> int | None:
    """K for a problem at ``overrides[first + k]`` (or a field of it), else None."""
    if not path.startswith("overrides["):
        return None
    i = int(path[len("overrides[") : path.index("]")])
    return i - first if i >= first else None


def _read_plan(path: str) -> dict:
    """Read a plan file or exit 2 with one line per problem."""
    try:
        return models.read_plan(path)
    except InstanceError as exc:
        _fail(exc)
    except RecursionError:  # JSON nested deeper than Python's recursion limit
        _fail(InstanceError(path, [Problem("", "not readable: nested too deeply")]))


def _fail(exc: InstanceError):
    for line in exc.lines():
        click.echo(line, err=True)
    n = len(exc.problems)
    click.echo(f"{exc.source}: {n} problem{'s' * (n != 1)}; nothing written", err=True)
    sys.exit(BAD_INPUT)


def _solver_options(command):
    """The options every solving command shares: backend, time limit, quiet."""
    command = click.option("-q", "--quiet", is_flag=True, help="No summary table.")(command)
    command = click.option(
        "--time-limit",
        type=click.FloatRange(min=0),
        default=None,
        help="Seconds; on expiry the best plan found is kept with status 'feasible'.",
    )(command)
    return click.option(
        "--backend",
        type=click.Choice(["auto", "highs", "cpsat", "cbc"]),
        default="auto",
        show_default=True,
        help="Solver backend.",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="anvis")
def main():
    """anvis: optimal municipal allocation of social housing (kommunal boliganvisning)."""


@main.command()
@click.argument("instance", type=click.Path(dir_okay=True))
def validate(instance):
    """Check an instance (JSON, CSV folder or xlsx) against the anvis/1 format."""
    inst = _load(instance)
    n_pools = len(models.pools(inst))
    click.echo(
        f"{instance}: valid anvis/1 instance {inst.name!r}: {len(inst.citizens)} citizens, "
        f"{len(inst.units)} units, {n_pools} pools"
    )


@main.command()
@click.argument("instance", type=click.Path(dir_okay=True))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(),
    default=None,
    help="Plan file: .json (default <instance>.plan.json), .xlsx, or a folder for CSV.",
)
@_solver_options
@_override_options
def solve(instance, output, backend, time_limit, quiet, lock, forbid, reserve):
    """Find the best plan for INSTANCE and write it."""
    from optimizer.engine.solve import solve as run
    from optimizer.plan.build import make_plan
    from optimizer.report.summary import print_summary

    inst = _with_overrides(_load(instance, check_locks=False), lock, forbid, reserve)
    if output is None:
        output = f"{Path(instance.rstrip('/')).name.split('.')[0]}.plan.json"
    try:
        result = run(inst, backend=backend, time_limit=time_limit)
    except InstanceError as exc:  # a lock in the file that breaks a rule
        _fail(exc)
    plan = make_plan(result)
    models.write_plan(plan.to_dict(), output)
    if not quiet:
        print_summary(plan.to_dict(), result.timings, output)
    if plan.status == "error":
        sys.exit(1)


@main.command()
@click.argument("instance", type=click.Path(dir_okay=True))
@click.argument("plan", type=click.Path())
def check(instance, plan):
    """Independently check that PLAN obeys every rule of INSTANCE and states its objective right."""
    from optimizer.check import check_plan, format_violations

    inst = _load(instance)
    doc = _read_plan(plan)
    violations = check_plan(inst, doc)
    if violations:
        for line in format_violations(violations):
            click.echo(line)
        click.echo(f"{plan}: {len(violations)} violation{'s' * (len(violations) != 1)}")
        sys.exit(1)
    click.echo(f"{plan}: valid plan for {inst.name!r} ({len(doc.get('assignments', []))} assignments)")


@main.command()
@click.argument("source", type=click.Path(dir_okay=True))
@click.argument("target", type=click.Path())
def convert(source, target):
    """Convert an instance between JSON, a CSV folder and xlsx (by TARGET's name)."""
    inst = _load(source)
    models.save(inst, target)
    click.echo(f"{source} -> {target}")


@main.command()
@click.argument("preset", type=click.Choice(["national-week", "city-week", "city-year", "small", "tiny"]))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(),
    required=True,
    help="Instance file: .json, .xlsx, or a folder for CSV.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiplies the numbers of citizens and units.",
)
@click.option("--scores", is_flag=True, help="Write a score for every plausible pair.")
def generate(preset, output, seed, scale, scores):
    """Write a realistic instance calibrated to the national figures (seeded, deterministic)."""
    from optimizer.sim.generate import generate as make

    inst = models.from_dict(make(preset, seed=seed, scale=scale, with_scores=scores), output)
    models.save(inst, output)
    click.echo(
        f"{output}: {inst.name!r}, {len(inst.citizens)} citizens, {len(inst.units)} units, "
        f"{len(inst.municipalities)} municipalities"
    )


# --- weekly rounds over the ledger -------------------------------------------------

_DB_OPTION = click.option(
    "--db",
    "db",
    default="anvis-ledger.db",
    show_default=True,
    help="Ledger database: an SQLite file (created on first use) or a URL (sqlite:///x.db, postgresql://...).",
)


def _ledger_call(fn, *args, **kwargs):
    """Run a ledger operation; a refusal or database error is one line and exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from optimizer.rounds.ledger import LedgerError

    try:
        return fn(*args, **kwargs)
    except InstanceError as exc:  # e.g. a lock that no longer fits the caps the ledger leaves
        _fail(exc)
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        click.echo(f"error: ledger database: {first}", err=True)
    except ImportError as exc:  # e.g. a postgresql:// URL without its driver installed
        click.echo(f"error: ledger database: {exc}", err=True)
    sys.exit(BAD_INPUT)


@main.group("round")
def round_group():
    """Weekly allocation rounds over a persistent ledger of claims, frames, quotas and caps."""


@round_group.command("open")
@click.argument("instance", type=click.Path(dir_okay=True))
@_DB_OPTION
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(),
    default=None,
    help="Also write the instance with the ledger filled in (.json, .xlsx or a CSV folder).",
)
@_override_options
def round_open(instance, db, output, lock, forbid, reserve):
    """Open a round for INSTANCE: fill in the ledger, remaining frames, quotas and caps."""
    from optimizer.rounds.workflow import open_round

    inst = _with_overrides(_load(instance), lock, forbid, reserve)
    rid, filled = _ledger_call(open_round, db, inst)
    if output:
        models.save(filled, output)
    click.echo(rid)


@round_group.command("solve")
@_DB_OPTION
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(),
    default=None,
    help="Also write the plan (.json, .xlsx or a CSV folder).",
)
@_solver_options
@_override_options
def round_solve(db, output, backend, time_limit, quiet, lock, forbid, reserve):
    """Solve the open round and store its plan in the ledger (overrides are added to the round's)."""
    from optimizer.report.summary import print_summary
    from optimizer.rounds.workflow import round_instance, solve_round

    instance = None
    if lock or forbid or reserve:
        instance = _with_overrides(_ledger_call(round_instance, db), lock, forbid, reserve)
    plan, result = _ledger_call(solve_round, db, instance=instance, backend=backend, time_limit=time_limit)
    if output:
        models.write_plan(plan.to_dict(), output)
    if not quiet:
        print_summary(plan.to_dict(), result.timings, output)
    if plan.status == "error":
        sys.exit(1)


@round_group.command("commit")
@_DB_OPTION
@click.option("--by", default=None, help="Who commits (default $USER).")
def round_commit(db, by):
    """Add the solved round's plan to the ledger (one transaction)."""
    from optimizer.rounds.workflow import commit_round

    done = _ledger_call(commit_round, db, by=by)
    click.echo(f"round {done['id']} ({done['name']!r}) committed: {done['claims']} claims")


@round_group.command("rollback")
@_DB_OPTION
def round_rollback(db):
    """Undo the last committed round."""
    from optimizer.rounds.workflow import rollback_round

    done = _ledger_call(rollback_round, db)
    click.echo(f"round {done['id']} ({done['name']!r}) rolled back")


@round_group.command("abandon")
@_DB_OPTION
def round_abandon(db):
    """Drop the open round without touching the ledger."""
    from optimizer.rounds.workflow import abandon_round

    done = _ledger_call(abandon_round, db)
    click.echo(f"round {done['id']} ({done['name']!r}) abandoned")


@round_group.command("status")
@_DB_OPTION
def round_status(db):
    """Show the open round, the last committed round and the cumulative pool ledger."""
    from optimizer.rounds.workflow import status

    s = _ledger_call(status, db)
    click.echo(f"ledger {db} (schema version {s['schema_version']})")
    for label, r in (("open round", s["open"]), ("last committed", s["last_committed"])):
        if r is None:
            click.echo(f"{label}: none")
        else:
            extra = f" by {r['committed_by']} at {r['committed_at']}" if r["status"] == "committed" else ""
            click.echo(f"{label}: {r['id']} {r['name']!r} {r['status']}{extra}")
    for kind, rows in s["totals"].items():
        for key, t in rows.items():
            if kind == "pool":
                click.echo(f"pool {key}: {t['vacancies']} vacancies, {t['claimed']} claimed")
            else:
                what = "vulnerable placed" if kind == "department" else "subsidised"
                click.echo(f"{kind} {key}: {t['claimed']} {what}")


@round_group.command("history")
@_DB_OPTION
def round_history(db):
    """List every round, oldest first."""
    from optimizer.rounds.workflow import history

    for r in _ledger_call(history, db):
        extra = f" by {r['committed_by']} at {r['committed_at']}" if r["committed_at"] else ""
        click.echo(f"{r['id']}\t{r['name']}\t{r['status']}\t{r['instance_sha256'][:12]}{extra}")


# --- the round report (HTML) --------------------------------------------------------

_EXPLAIN_OPTION = click.option(
    "--explain/--no-explain",
    "explain",
    default=True,
    show_default=True,
    help="Say why for every citizen (why this unit; why not housed).",
)


@main.command()
@click.argument("instance", type=click.Path(dir_okay=True))
@click.argument("plan", type=click.Path())
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="HTML file (default: <plan stem>.html beside the plan).",
)
@_EXPLAIN_OPTION
def report(instance, plan, output, explain):
    """Write the round report of PLAN for INSTANCE: one self-contained HTML page for planners."""
    inst = _load(instance)
    doc = _read_plan(plan)
    if output is None:
        output = str(Path(plan).with_name(f"{Path(plan).stem}.html"))
    _write_report(inst, doc, plan, output, explain)


@round_group.command("report")
@_DB_OPTION
@click.option("--round", "round_id", type=int, default=None, help="Round id (default: the latest with a plan).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), required=True, help="HTML file.")
@_EXPLAIN_OPTION
def round_report(db, round_id, output, explain):
    """Write a round's report (its filled instance and plan from the ledger) as one HTML page."""
    from optimizer.rounds.workflow import round_plan

    inst, doc = _ledger_call(round_plan, db, round_id)
    _write_report(inst, doc, inst.source, output, explain)


def _write_report(inst: models.Instance, doc: dict, source: str, output: str, explain: bool) -> None:
    """Render and write a report atomically; a plan that does not fit the instance exits 2."""
    from models.io import write_atomic
    from optimizer.report.html import ReportError, plan_warnings, render_report

    explanations, why_not = None, None
    if explain:
        from optimizer.explain.citizen import explain_all

        try:
            explanations = explain_all(inst, doc)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            why_not = exc  # a plan unfit for the instance: render_report lists every problem below
    try:
        html = render_report(inst, doc, explanations)
    except ReportError as exc:
        _fail(InstanceError(source, [Problem("", p) for p in exc.problems]))
    if why_not is not None:
        click.echo(f"warning: {source}: no explanations in the report: {why_not}", err=True)
    for w in plan_warnings(inst, doc):
        click.echo(f"warning: {source}: {w}", err=True)
    try:
        write_atomic(output, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
    except OSError as exc:
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(BAD_INPUT)
    click.echo(f"report written to {output}")


# --- anvis simulate: a year of weekly rounds --------------------------------------------

#: The regimes of optimizer.sim.simulate.REGIMES (listed here so --help needs no heavy import).
_SIM_REGIMES = ("quarter", "extended", "drawn")


@main.command("simulate")
@click.option(
    "--weeks",
    type=click.IntRange(min=1),
    default=52,
    show_default=True,
    help="Weekly rounds. Frames, quotas and mixed-city caps are yearly: beyond 52 weeks "
    "a new period starts every 52 weeks.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the world, the vacancies, arrivals and declines."
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiplies the stock, the urgent list, the inflow, frames and quotas (1: Denmark).",
)
@click.option(
    "--decline-rate",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="Probability that a citizen declines an offer: not a claim, the unit goes back to "
    "its organisation and the citizen keeps waiting.",
)
@click.option(
    "--regime",
    "regimes",
    type=click.Choice(_SIM_REGIMES),
    multiple=True,
    help="Agreement regime, repeatable: quarter (the quarter share only), extended (every "
    "municipality: all 1-room units, half of the units under 4,000 kr), drawn (the "
    "generator's agreements). Default: quarter and extended.",
)
@click.option(
    "-o", "--output", "output", type=click.Path(dir_okay=False), default=None, help="Write the full report as JSON."
)
@click.option(
    "--db-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the ledgers (anvis-sim-<regime>.db) in this folder; default: a temporary folder.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Regimes simulated at once, each in its own process (default: regimes or CPUs, whichever is fewer).",
)
@_solver_options
def simulate(weeks, seed, scale, decline_rate, regimes, output, db_dir, jobs, backend, time_limit, quiet):
    """Simulate weekly rounds through the ledger and set the result beside the national figures.

    Vacancies (re-letting 11 % a year) and urgent citizens (the homeless count,
    then the yearly inflow) come from the generator's national calibration;
    every regime sees the same world and runs through its own ledger.
    """
    import os

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from optimizer.rounds.ledger import LedgerError
    from optimizer.sim.simulate import print_report, write_report
    from optimizer.sim.simulate import simulate as run

    regimes = list(dict.fromkeys(regimes or ("quarter", "extended")))
    if jobs is None:
        jobs = max(1, min(len(regimes), os.cpu_count() or 1))
    err = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
    ) as bar:
        task = bar.add_task("simulating", total=weeks * len(regimes))

        def progress(done, total, label):
            bar.update(task, completed=done, description=label)

        try:
            report = run(
                weeks=weeks,
                seed=seed,
                scale=scale,
                decline_rate=decline_rate,
                regimes=regimes,
                db_dir=db_dir,
                backend=backend,
                time_limit=time_limit,
                jobs=jobs,
                progress=progress,
            )
        except (ValueError, FileExistsError, LedgerError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(BAD_INPUT)
        except RuntimeError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    if output:
        try:
            write_report(report, output)
        except OSError as exc:
            click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
            sys.exit(BAD_INPUT)
    if not quiet:
        print_report(report)
        click.echo(f"{report['timings']['total']:.1f} s" + (f"; report written to {output}" if output else ""))


# --- anvis round new-period: reset frames, quotas and caps ------------------------------


@round_group.command("new-period")
@_DB_OPTION
@click.option(
    "--frames/--no-frames",
    default=True,
    show_default=True,
    help="Zero the subsidised assignments counted against each municipality's frame.",
)
@click.option(
    "--quotas/--no-quotas",
    default=True,
    show_default=True,
    help="Zero the subsidised assignments counted against each region's grant quota.",
)
@click.option(
    "--departments/--no-departments",
    default=True,
    show_default=True,
    help="Zero the vulnerable placements counted against each afdeling's mixed-city cap.",
)
@click.option("--by", default=None, help="Who starts the period (default $USER).")
def round_new_period(db, frames, quotas, departments, by):
    """Start a new period (e.g. a new year) of frames, quotas and mixed-city caps.

    Zeroes the counted usage of the chosen kinds (all by default). The pools'
    vacancies and claims are never reset: the share counts over time. Refused
    while a round is open; recorded in the history; a round committed before
    the new period can no longer be rolled back.
    """
    from optimizer.rounds.workflow import new_period

    kinds = [k for k, on in (("frame", frames), ("quota", quotas), ("department", departments)) if on]
    if not kinds:
        raise click.UsageError("nothing to reset: --no-frames, --no-quotas and --no-departments all given")
    done = _ledger_call(new_period, db, kinds=kinds, by=by)
    n = sum(len(v) for v in done["reset"].values())
    click.echo(f"new period started ({', '.join(kinds)}) as entry {done['id']}: {n} count{'s' * (n != 1)} zeroed")


# --- explain: why a citizen got their unit, or why not (optimizer.explain.citizen) ----------


def _explain_options(command):
    """The options of `explain` and `round explain`."""
    for option in reversed(
        [
            click.option("--json", "as_json", is_flag=True, help="Write the explanation as JSON."),
            click.option(
                "--no-counterfactual",
                is_flag=True,
                help="Skip the search for the smallest single change that would house an unassigned citizen.",
            ),
            click.option(
                "--max-candidates",
                type=click.IntRange(min=0),
                default=10,
                show_default=True,
                help="Re-solve at most this many single changes.",
            ),
            click.option(
                "--alternatives",
                type=click.IntRange(min=0),
                default=5,
                show_default=True,
                help="Other eligible units compared for a housed citizen.",
            ),
            click.option(
                "--backend",
                type=click.Choice(["auto", "highs", "cpsat", "cbc"]),
                default="auto",
                show_default=True,
                help="Solver backend for the re-solves.",
            ),
            click.option(
                "--time-limit",
                type=click.FloatRange(min=0),
                default=None,
                help="Seconds per re-solve (default: each to proven optimum).",
            ),
        ]
    ):
        command = option(command)
    return command


@main.command("explain")
@click.argument("instance", type=click.Path(dir_okay=True))
@click.argument("plan", type=click.Path())
@click.argument("citizen")
@_explain_options
def explain_command(instance, plan, citizen, **options):
    """Explain CITIZEN's outcome in PLAN: why this unit, or which rules and caps kept them out
    and the smallest single change that would have housed them (found by re-solving).

    A plan does not hold the rules, so the instance it was made for comes first.
    """
    _explain(_load(instance), _read_plan(plan), citizen, instance, plan, **options)


@round_group.command("explain")
@_DB_OPTION
@click.option("--round", "round_id", type=int, default=None, help="Round id (default: the latest with a plan).")
@click.argument("citizen")
@_explain_options
def round_explain(db, round_id, citizen, **options):
    """Explain CITIZEN's outcome in a round's plan, from the ledger (instance and plan as stored)."""
    from optimizer.rounds.workflow import round_plan

    inst, doc = _ledger_call(round_plan, db, round_id)
    _explain(inst, doc, citizen, inst.source, inst.source, **options)


def _explain(
    inst,
    doc,
    citizen,
    instance_name,
    plan_name,
    as_json,
    no_counterfactual,
    max_candidates,
    alternatives,
    backend,
    time_limit,
):
    import json

    from optimizer.explain.citizen import PlanMismatch, UnknownCitizen, explain

    try:
        out = explain(
            inst,
            doc,
            citizen,
            counterfactuals=not no_counterfactual,
            alternatives=alternatives,
            max_candidates=max_candidates,
            backend=backend,
            time_limit=time_limit,
        )
    except UnknownCitizen:
        click.echo(f"error: unknown citizen {citizen!r}: not in {instance_name}", err=True)
        sys.exit(BAD_INPUT)
    except PlanMismatch as exc:
        click.echo(f"{plan_name}: {exc} (is it a plan of {instance_name}?)", err=True)
        sys.exit(BAD_INPUT)
    except InstanceError as exc:  # not a well-formed plan: every malformed field, by path
        _fail(InstanceError(plan_name, exc.problems))
    click.echo(json.dumps(out, indent=2, ensure_ascii=False) if as_json else out["text"])
