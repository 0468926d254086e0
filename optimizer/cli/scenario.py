"""``anvis scenario`` and ``anvis prices``: what-if variants solved and compared, and the price of each limit."""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from models.validate import InstanceError, Problem, UnknownFieldWarning
from optimizer.cli.common import (
    BAD_INPUT,
    fail,
    guard_output,
    printable,
    save_instance,
    solver_options,
    write_json,
    write_text,
)

if TYPE_CHECKING:
    from optimizer.scenario.scenario import Variant

__all__ = ["prices", "scenario"]


@click.command()
@click.argument("scenario_file", metavar="SCENARIO.toml", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Results JSON (default <scenario>.results.json).",
)
@click.option("--html", "html", type=click.Path(dir_okay=False), default=None, help="Comparison page with plots.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None, help="Comparison table as CSV.")
@click.option(
    "--write-instances",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for each variant's instance (NNN-name.json), to solve any of them alone.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Variants solved at once, on a local pool of that many worker processes.",
)
@click.option(
    "--scheduler",
    default=None,
    help="Address of a running Dask scheduler (tcp://host:8786) to solve on instead of --jobs.",
)
@click.option(
    "--prices",
    "with_prices",
    is_flag=True,
    help="Also price the base's binding limits (anvis prices): in the results and the HTML.",
)
@solver_options
def scenario(
    scenario_file: str,
    output: str | None,
    html: str | None,
    csv_path: str | None,
    write_instances: str | None,
    jobs: int,
    scheduler: str | None,
    with_prices: bool,
    backend: str,
    time_limit: float | None,
    quiet: bool,
) -> None:
    """Solve the base and every variant, sweep and grid of SCENARIO.toml and compare them.

    The results are the same bytes however many jobs solve them. Bad input (the file,
    its base, any change) is listed one problem a line, with exit 2 and nothing written.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from optimizer.scenario.compare import csv_document, render_html
    from optimizer.scenario.scenario import read_scenario, run_scenario

    if output is None:
        output = f"{Path(scenario_file).name.split('.')[0]}.results.json"
    outputs = [p for p in (output, html, csv_path) if p]
    if len({str(Path(p).resolve()) for p in outputs}) != len(outputs):
        click.echo("error: --output, --html and --csv must be different files; nothing written", err=True)
        sys.exit(BAD_INPUT)
    for path in outputs:
        guard_output(path, [scenario_file])
    problem: InstanceError | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownFieldWarning)
        try:
            scen = read_scenario(scenario_file)
        except InstanceError as exc:
            problem = exc
        except RecursionError:  # TOML nested deeper than Python's recursion limit
            problem = InstanceError(scenario_file, [Problem("", "not readable: nested too deeply")])
    for w in caught:  # the base's fields anvis ignores, said as `anvis solve` says them, before any problem
        click.echo(f"warning: {printable(w.message)}", err=True)
    if problem is not None:
        fail(problem)
    if with_prices and scen.year is not None:
        click.echo("error: --prices prices one round's limits; a year horizon has none; nothing written", err=True)
        sys.exit(BAD_INPUT)
    inputs = [scenario_file, scen.base.source]
    for path in outputs:  # the base is known only now: never write over it either
        guard_output(path, inputs)
    names = _file_names(scen.variants)
    if write_instances:
        for name in names:
            guard_output(str(Path(write_instances) / name), inputs)
    err = Console(stderr=True)
    with Progress(
        TextColumn("running variants' years" if scen.year is not None else "solving variants"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        # the local pool forks its workers: no refresh thread then (a fork copies no thread,
        # only the locks it may hold); the bar is redrawn as each chunk of variants finishes
        auto_refresh=jobs == 1 or scheduler is not None,
    ) as bar:
        runs = len(scen.variants) * (1 if scen.year is None else len(scen.year.seeds))
        task = bar.add_task("variants", total=runs)
        try:
            doc = run_scenario(
                scen,
                backend=backend,
                time_limit=time_limit,
                jobs=jobs,
                scheduler=scheduler,
                progress=lambda done, _total: bar.update(task, completed=done, refresh=True),
            )
        except OSError as exc:  # a --scheduler that cannot be reached (TimeoutError is an OSError)
            if scheduler is None:
                raise
            click.echo(f"error: cannot use the Dask scheduler {printable(scheduler)}: {printable(exc)}", err=True)
            sys.exit(BAD_INPUT)
    if with_prices:
        from optimizer.scenario.prices import prices as price

        doc["prices"] = price(scen.base, backend=backend, time_limit=time_limit)
    write_json(output, doc)
    if html:
        write_text(html, render_html(doc))
    if csv_path:
        write_text(csv_path, csv_document(doc))
    if write_instances:
        for name, inst in zip(names, scen.instances, strict=True):
            save_instance(inst, str(Path(write_instances) / name))
    if not quiet:
        for r in doc["results"]:
            if "year" in r:  # the year horizon: the main figures' mean ± sd over the seeds
                y = r["year"]
                click.echo(
                    printable(
                        f"{r['name']}: {r['status']}, "
                        + ", ".join(f"{m.replace('_', ' ')} {_spread(y[m])}" for m in _SHOWN)
                    )
                )
                continue
            housed = r["objective"]["housed_by_priority"]
            by = ", ".join(f"p{p} {n}" for p, n in housed.items())
            click.echo(
                printable(
                    f"{r['name']}: {r['status']}, housed {sum(housed.values())} ({by}), "
                    f"score {r['objective']['total_score']:g}, subsidised {r['subsidised']}"
                )
            )
        click.echo(f"wrote {printable(output)}" + "".join(f", {printable(p)}" for p in outputs[1:]))
    if any(r["status"] in ("error", "infeasible") for r in doc["results"]):
        sys.exit(1)


#: The year's figures said on the terminal (all are in the results).
_SHOWN = ("homeless_housed_under_3500_kr", "claims", "subsidised", "passed", "still_waiting")


def _spread(m: dict[str, float | None]) -> str:
    if m["mean"] is None:
        return "-"
    return f"{m['mean']:g}" + ("" if m["sd"] is None else f" ± {m['sd']:g}")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _file_names(variants: Sequence[Variant]) -> list[str]:
    """``000-base.json``, ``001-<name>.json``, …: numbered, so that names that clean up alike stay apart."""
    out = []
    for i, v in enumerate(variants):
        stem = _UNSAFE.sub("-", v.name).strip("-.")[:60] or "variant"
        out.append(f"{i:03d}-{stem}.json")
    return out


@click.command()
@click.argument("instance", type=click.Path(dir_okay=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Prices JSON (default <instance>.prices.json).",
)
@click.option("--html", "html", type=click.Path(dir_okay=False), default=None, help="The prices as an HTML table.")
@click.option(
    "--max-exact",
    type=click.IntRange(min=0),
    default=None,
    help="Re-solve only the first N binding limits; estimate the rest by LP duals (labelled lp_dual).",
)
@click.option("--estimate-only", is_flag=True, help="No re-solves: every price an LP-dual estimate (--max-exact 0).")
@click.option(
    "--warm-start/--no-warm-start",
    default=True,
    show_default=True,
    help="Start each re-solve from the base optimum (the prices are the same either way; only the time differs).",
)
@solver_options
def prices(
    instance: str,
    output: str | None,
    html: str | None,
    max_exact: int | None,
    estimate_only: bool,
    warm_start: bool,
    backend: str,
    time_limit: float | None,
    quiet: bool,
) -> None:
    """The exact gain of one more and one fewer of every limit INSTANCE's optimum uses up.

    Choice pool caps, rotation pool turns, mixed-city caps, subsidy frames and grant
    quotas: each moved by one and its region re-solved; sorted by value. With
    --estimate-only or past --max-exact, LP duals instead, labelled "estimate": "lp_dual".
    """
    from optimizer.cli.common import load_instance
    from optimizer.scenario.compare import gain_text, render_prices_html
    from optimizer.scenario.prices import prices as price

    if output is None:
        output = f"{Path(instance.rstrip('/')).name.split('.')[0]}.prices.json"
    if html is not None and Path(html).resolve() == Path(output).resolve():
        click.echo("error: --output and --html must be different files; nothing written", err=True)
        sys.exit(BAD_INPUT)
    for path in (output, html):
        if path:
            guard_output(path, [instance])
    inst = load_instance(instance)
    if estimate_only and max_exact not in (None, 0):
        click.echo("error: --estimate-only and --max-exact N > 0 contradict each other; nothing written", err=True)
        sys.exit(BAD_INPUT)
    doc = price(
        inst,
        backend=backend,
        time_limit=time_limit,
        max_exact=0 if estimate_only else max_exact,
        warm_start=warm_start,
    )
    write_json(output, doc)
    if html:
        write_text(html, render_prices_html(doc))
    if not quiet:
        for row in doc["limits"]:
            est = " (estimate: LP dual)" if "estimate" in row else ""
            click.echo(
                printable(
                    f"{row['kind']} {row['id']} ({row['used']}/{row['limit']}){est}: "
                    f"+1 {gain_text(row['gain_plus_one'])}; -1 {gain_text(row['gain_minus_one'])}"
                )
            )
        click.echo(f"{len(doc['limits'])} binding limits; wrote {printable(output)}")
