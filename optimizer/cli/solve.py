"""``anvis solve`` and ``anvis check``: make a plan, and check one independently."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import click

import models
from models.headers import ColumnMap
from models.memory import collector_paused
from models.validate import InstanceError
from optimizer.cli.common import (
    Overrides,
    columns_option,
    fail,
    finish,
    guard_output,
    lang_option,
    load_instance,
    override_options,
    print_plan_summary,
    printable,
    progress_shown,
    read_plan_document,
    solver_options,
    write_plan,
)

__all__ = ["check", "solve"]


@click.command()
@click.argument("instance", type=click.Path(dir_okay=True))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(),
    default=None,
    help="Plan file: .json (default <instance>.plan.json), .xlsx, or a folder for CSV.",
)
@solver_options
@override_options
@lang_option
@columns_option
def solve(
    instance: str,
    output: str | None,
    backend: str,
    time_limit: float | None,
    quiet: bool,
    overrides: Overrides,
    lang: str,
    columns: ColumnMap | None,
) -> None:
    """Find the best plan for INSTANCE and write it (never over INSTANCE; whole or not at all).

    An .xlsx or CSV plan is in Danish unless --lang en; `check`, `report` and `explain` read it back.
    """
    # the solve's modules, loaded as the command's own were (optimizer.cli.LazyCommands)
    with collector_paused():
        import optimizer.engine.solve
        import optimizer.plan.build  # noqa: F401

    # A solve allocates hundreds of thousands of objects that are never garbage cycles (records,
    # pairs, plan rows): a young generation 30 times the default's 700 cuts the cyclic
    # collector's passes over them about tenfold (national-week: 0.1 -> 0.035 s CPU). The
    # modules loaded so far are frozen: they live to the end, and no full collection walks
    # them again. (Not unfrozen at the end: the collection at exit would then walk them all,
    # 0.06 s; a caller that runs the command in-process keeps what it had then out of reach of
    # the cycle collector, which frees nothing that reference counting would free.)
    threshold = gc.get_threshold()
    gc.set_threshold(20_000, *threshold[1:])
    gc.freeze()
    try:
        _solve(instance, output, backend, time_limit, quiet, overrides, lang, columns)
    finally:
        gc.set_threshold(*threshold)


def _solve(
    instance: str,
    output: str | None,
    backend: str,
    time_limit: float | None,
    quiet: bool,
    overrides: Overrides,
    lang: str,
    columns: ColumnMap | None,
) -> None:
    """The body of :func:`solve`."""
    from optimizer.engine.solve import solve as run
    from optimizer.plan.build import make_plan

    if output is None:
        output = f"{Path(instance.rstrip('/')).name.split('.')[0]}.plan.json"
    guard_output(output, [instance])
    # Reading and validating allocate some 300,000 objects and no garbage cycle: the collector
    # is paused until they are frozen (gc.freeze zeroes the young generation's count, so no
    # collection walks them when it resumes). National week: 0.009 s CPU. Changes no result.
    with collector_paused():
        # The solve checks every lock on the arrays it builds: no check before it.
        inst = overrides.add_to(load_instance(instance, check_locks=False, columns=columns), check_locks=False)
        # The instance, too, lives to the end: once frozen, no full collection walks it again
        # (three did in a national week's solve, 0.14 s CPU of its 1.05 s).
        gc.freeze()
    try:
        with progress_shown(quiet, "solve: ") as progress:
            result = run(inst, backend=backend, time_limit=time_limit, progress=progress)
    except InstanceError as exc:  # a lock that breaks a rule
        fail(overrides.named(exc))
    # The plan's records (a national week: 7,000 rows, tens of thousands of objects, no
    # cycle) are made and written with the collector paused, and frozen as the instance
    # is: they too live to the end, and unfrozen they would be walked by the first young
    # collection after (0.007 s), which finds nothing to free.
    with collector_paused():
        plan = make_plan(result)
        write_plan(plan, output, lang, inst)
        gc.freeze()
    if not quiet:
        print_plan_summary(plan, result.timings, output)
    finish(1 if plan.status == "error" else 0)


@click.command()
@click.argument("instance", type=click.Path(dir_okay=True))
@click.argument("plan", type=click.Path())
@click.option(
    "--prove",
    is_flag=True,
    help="Also re-solve INSTANCE and refuse a plan that claims 'optimal' but is worse than the optimum.",
)
@columns_option
def check(instance: str, plan: str, prove: bool, columns: ColumnMap | None) -> None:
    """Independently check that PLAN obeys every rule of INSTANCE and states its objective right.

    PLAN may be JSON, or an .xlsx workbook or CSV folder written by `solve` (edited or not).
    """
    from optimizer.check import check_plan, format_violations

    inst = load_instance(instance, columns=columns)
    doc = read_plan_document(plan)  # not a Plan: a malformed field is a violation to report
    violations = check_plan(inst, doc)
    if violations:
        for line in format_violations(violations):
            click.echo(printable(line))
        click.echo(f"{printable(plan)}: {len(violations)} violation{'s' * (len(violations) != 1)}")
        sys.exit(1)
    proven = ""
    if prove and doc.get("status") == "optimal":
        worse = _worse_than_optimum(inst, doc)
        if worse:
            click.echo(printable(f"{plan}: claims 'optimal' but is not: {worse}"))
            sys.exit(1)
        proven = ", optimal by a re-solve"
    n = len(doc.get("assignments", []))
    click.echo(f"{printable(plan)}: valid plan for {printable(repr(inst.name))} ({n} assignments{proven})")


def _worse_than_optimum(inst: models.Instance, doc: dict[str, Any]) -> str:
    """How a valid plan falls short of the re-solved optimum of INSTANCE, or ``""`` if it reaches it.

    The checker never imports the solver (it is the independent second opinion); the
    proof does, here. The re-solve honours the overrides the plan states, so a plan is
    compared with the best plan containing the same planner decisions.
    """
    from models.schema import Override
    from optimizer.check import recompute_objective
    from optimizer.engine.solve import solve as run

    stated = doc.get("overrides")
    if stated and not inst.overrides:  # given on the command line when the plan was made
        inst = inst.replace(overrides=tuple(Override.model_validate(o) for o in stated))
    best = run(inst)
    mine = recompute_objective(inst, doc["assignments"])
    if inst.parameters.objective == "weighted":
        assert best.value is not None  # the weighted objective always has a value
        if best.value > mine["value"] + 1e-6 * max(1.0, abs(best.value)):
            return f"the optimum has value {best.value:g}, the plan {mine['value']:g}"
        return ""
    priorities = sorted(best.housed_by_priority)
    have = tuple(mine["housed_by_priority"][str(p)] for p in priorities)
    can = tuple(best.housed_by_priority[p] for p in priorities)
    housed = ", ".join(
        f"priority {p}: {h} housed, the optimum {c}" for p, h, c in zip(priorities, have, can, strict=True) if h != c
    )
    if can > have:
        return f"the optimum houses more urgent citizens ({housed})"
    if can == have and best.total_score > mine["total_score"] + 1e-6 * max(1.0, abs(best.total_score)):
        return f"the optimum scores {best.total_score:g}, the plan {mine['total_score']:g}"
    return ""
