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


def _load(path: str) -> models.Instance:
    """Load an instance or exit 2 with one line per problem."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", models.validate.UnknownFieldWarning)
            inst = models.load(path)
        for w in caught:
            click.echo(f"warning: {w.message}", err=True)
        return inst
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
    click.echo(f"{instance}: valid anvis/1 instance {inst.name!r}: {len(inst.citizens)} citizens, "
               f"{len(inst.units)} units, {n_pools} pools")


@main.command()
@click.argument("instance", type=click.Path(dir_okay=True))
@click.option("-o", "--output", "output", type=click.Path(), default=None,
              help="Plan file: .json (default <instance>.plan.json), .xlsx, or a folder for CSV.")
@click.option("--backend", type=click.Choice(["auto", "highs", "cpsat", "cbc"]), default="auto",
              show_default=True, help="Solver backend.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None,
              help="Seconds; on expiry the best plan found is written with status 'feasible'.")
@click.option("-q", "--quiet", is_flag=True, help="No summary table.")
def solve(instance, output, backend, time_limit, quiet):
    """Find the best plan for INSTANCE and write it."""
    from optimizer.plan import make_plan
    from optimizer.solve import solve as run
    from optimizer.summary import print_summary

    inst = _load(instance)
    if output is None:
        output = f"{Path(instance.rstrip('/')).name.split('.')[0]}.plan.json"
    result = run(inst, backend=backend, time_limit=time_limit)
    plan = make_plan(result)
    models.write_plan(plan, output)
    if not quiet:
        print_summary(plan, result.timings, output)
    if plan["status"] == "error":
        sys.exit(1)


@main.command()
@click.argument("instance", type=click.Path(dir_okay=True))
@click.argument("plan", type=click.Path())
def check(instance, plan):
    """Independently check that PLAN obeys every rule of INSTANCE and states its objective right."""
    from optimizer.check import check_plan, format_violations

    inst = _load(instance)
    try:
        doc = models.read_plan(plan)
    except InstanceError as exc:
        _fail(exc)
    except RecursionError:  # JSON nested deeper than Python's recursion limit
        _fail(InstanceError(plan, [Problem("", "not readable: nested too deeply")]))
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
@click.option("-o", "--output", "output", type=click.Path(), required=True,
              help="Instance file: .json, .xlsx, or a folder for CSV.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Multiplies the numbers of citizens and units.")
@click.option("--scores", is_flag=True, help="Write a score for every plausible pair.")
def generate(preset, output, seed, scale, scores):
    """Write a realistic instance calibrated to the national figures (seeded, deterministic)."""
    from optimizer.generate import generate as make

    inst = models.from_dict(make(preset, seed=seed, scale=scale, with_scores=scores), output)
    models.save(inst, output)
    click.echo(f"{output}: {inst.name!r}, {len(inst.citizens)} citizens, {len(inst.units)} units, "
               f"{len(inst.municipalities)} municipalities")
