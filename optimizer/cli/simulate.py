"""``anvis simulate``: a year (or more) of weekly rounds through the ledger."""

from __future__ import annotations

import sys
from typing import Any

import click

from optimizer.cli.common import BAD_INPUT, guard_output, printable, solver_options, writing

__all__ = ["SIM_REGIMES", "simulate"]

#: The regimes of optimizer.sim.simulate.REGIMES (listed here so --help needs no heavy import).
SIM_REGIMES = ("rotation", "choice", "extended", "drawn")


@click.command("simulate")
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
    type=click.Choice(SIM_REGIMES),
    multiple=True,
    help="Agreement regime, repeatable: rotation (the statutory baseline: every fourth vacancy "
    "in turn), choice (today's behaviour: the municipality picks up to the quarter), extended "
    "(rotation plus, in every municipality, all 1-room family units and half of those under "
    "4,000 kr), drawn (rotation plus the generator's agreements). Default: rotation, choice "
    "and extended.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run the seeds SEED, SEED+1, ... and report each measure's mean and spread over them.",
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
@solver_options
def simulate(
    weeks: int,
    seed: int,
    scale: float,
    decline_rate: float,
    regimes: tuple[str, ...],
    seeds: int,
    output: str | None,
    db_dir: str | None,
    jobs: int | None,
    backend: str,
    time_limit: float | None,
    quiet: bool,
) -> None:
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
    from optimizer.sim.simulate import DEFAULT_REGIMES, print_report, print_seeds, simulate_seeds, write_report
    from optimizer.sim.simulate import simulate as run

    if output:  # refused before a simulation that may run for minutes, not after it
        guard_output(output)
    chosen = list(dict.fromkeys(regimes or DEFAULT_REGIMES))
    if jobs is None:
        jobs = max(1, min(len(chosen), os.cpu_count() or 1))
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
        task = bar.add_task("simulating", total=weeks * len(chosen) * seeds)
        offset = [0]

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=offset[0] + done, description=label)
            if done == total:  # the next seed's rounds count on from here
                offset[0] += total

        options: dict[str, Any] = {
            "weeks": weeks,
            "scale": scale,
            "decline_rate": decline_rate,
            "regimes": chosen,
            "db_dir": db_dir,
            "backend": backend,
            "time_limit": time_limit,
            "jobs": jobs,
            "progress": progress,
        }
        try:
            report = run(seed=seed, **options) if seeds == 1 else simulate_seeds(seeds, seed=seed, **options)
        except (ValueError, FileExistsError, LedgerError) as exc:
            click.echo(f"error: {printable(exc)}", err=True)
            sys.exit(BAD_INPUT)
        except RuntimeError as exc:
            click.echo(f"error: {printable(exc)}", err=True)
            sys.exit(1)
    if output:
        with writing(output):
            write_report(report, output)
    if not quiet:
        (print_report if seeds == 1 else print_seeds)(report)
        click.echo(f"{report['timings']['total']:.1f} s" + (f"; report written to {output}" if output else ""))
