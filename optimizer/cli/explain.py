"""``anvis explain`` and ``anvis report``: why each citizen got what they got, for a plan of an instance.

The helpers :func:`explain_citizen` and :func:`write_report` serve the ledger's
``round explain`` and ``round report`` too.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

import models
from models.headers import ColumnMap
from models.validate import InstanceError, Problem
from optimizer.cli.common import (
    BAD_INPUT,
    F,
    backend_option,
    columns_option,
    error,
    fail,
    guard_output,
    lang_option,
    load_instance,
    printable,
    progress_shown,
    read_plan_file,
    write_text,
)
from optimizer.lang import say

__all__ = ["explain_citizen", "explain_command", "explain_option", "explain_options", "report", "write_report"]

#: What json.dumps leaves unescaped but a terminal acts on (see :func:`~optimizer.cli.common.printable`).
JSON_CONTROL = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

explain_option = click.option(
    "--explain/--no-explain",
    "explain",
    default=True,
    show_default=True,
    help="Say why for every citizen (why this unit; why not housed).",
)


def explain_options(command: F) -> F:
    """The options of `explain` and `round explain`."""
    for option in reversed(
        [
            click.option("--json", "as_json", is_flag=True, help="Write the explanation as JSON."),
            lang_option,
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
            backend_option("Solver backend for the re-solves."),
            click.option(
                "--time-limit",
                type=click.FloatRange(min=0),
                default=None,
                help="Seconds per re-solve (default: each to proven optimum).",
            ),
            click.option("-q", "--quiet", is_flag=True, help="No progress line on stderr while changes are re-solved."),
        ]
    ):
        command = option(command)
    return command


@click.command("explain")
@click.argument("instance", type=click.Path(dir_okay=True))
@click.argument("plan", type=click.Path())
@click.argument("citizen")
@explain_options
@columns_option
def explain_command(instance: str, plan: str, citizen: str, columns: ColumnMap | None, **options: Any) -> None:
    """Explain CITIZEN's outcome in PLAN: why this unit, or which rules and caps kept them out
    and the smallest single change that would have housed them (found by re-solving).

    A plan does not hold the rules, so the instance it was made for comes first.
    """  # noqa: D205 - the first sentence is the --help summary and runs over two lines
    inst = load_instance(instance, columns=columns)
    explain_citizen(inst, read_plan_file(plan), citizen, instance, plan, **options)


def explain_citizen(
    inst: models.Instance,
    plan: models.Plan,
    citizen: str,
    instance_name: str,
    plan_name: str,
    as_json: bool,
    no_counterfactual: bool,
    max_candidates: int,
    alternatives: int,
    backend: str,
    time_limit: float | None,
    lang: str = "da",
    quiet: bool = False,
) -> None:
    """Print the explanation of one citizen's outcome (in ``lang``); an unknown citizen or unfit plan exits 2.

    The re-solves of the counterfactual search show a progress line on a terminal unless ``quiet``.
    """
    import json

    from optimizer.explain.citizen import PlanMismatch, UnknownCitizen, explain

    try:
        with progress_shown(quiet, "explain: ") as progress:
            out = explain(
                inst,
                plan,
                citizen,
                counterfactuals=not no_counterfactual,
                alternatives=alternatives,
                max_candidates=max_candidates,
                backend=backend,
                time_limit=time_limit,
                lang=lang,
                progress=progress,
            )
    except UnknownCitizen:
        error(f"unknown citizen {citizen!r}: not in {instance_name}")
    except PlanMismatch as exc:
        click.echo(printable(f"{plan_name}: {exc} (is it a plan of {instance_name}?)"), err=True)
        sys.exit(BAD_INPUT)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a damaged plan (as in write_report)
        click.echo(printable(f"{plan_name}: not a readable plan: {type(exc).__name__}: {exc}"), err=True)
        sys.exit(BAD_INPUT)
    if as_json:  # JSON escapes C0 controls itself; DEL, C1 and bidi controls get \uXXXX escapes too
        text = json.dumps(out, indent=2, ensure_ascii=False)
        click.echo(JSON_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text))
    else:
        click.echo("\n".join(printable(line) for line in out["text"].split("\n")))


@click.command()
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
@explain_option
@lang_option
@columns_option
def report(instance: str, plan: str, output: str | None, explain: bool, lang: str, columns: ColumnMap | None) -> None:
    """Write the round report of PLAN for INSTANCE: one self-contained HTML page for planners."""
    if output is None:
        output = str(Path(plan).with_name(f"{Path(plan).stem}.html"))
    guard_output(output, [instance, plan])
    inst = load_instance(instance, columns=columns)
    typed = read_plan_file(plan)
    write_report(inst, typed, plan, output, explain, lang=lang)


def write_report(
    inst: models.Instance,
    plan: models.Plan,
    source: str,
    output: str,
    explain: bool,
    *,
    lang: str = "da",
    round_info: Mapping[str, Any] | None = None,
    overrides: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Render and write a report atomically (in ``lang``); a plan that does not fit the instance exits 2.

    ``round_info`` and ``overrides`` go to :func:`~optimizer.report.html.render_report`.
    """
    from optimizer.report.html import ReportError, plan_warnings, render_report

    explanations, why_not = None, None
    if explain:
        from optimizer.explain.citizen import explain_all

        try:
            explanations = explain_all(inst, plan, lang=lang)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            why_not = exc  # a plan unfit for the instance: render_report lists every problem below
    try:
        html = render_report(inst, plan, explanations, round_info=round_info, overrides=overrides, lang=lang)
    except ReportError as exc:
        fail(InstanceError(source, [Problem("", p) for p in exc.problems]))
    if why_not is not None:
        click.echo(printable(f"warning: {source}: no explanations in the report: {why_not}"), err=True)
    for w in plan_warnings(inst, plan):
        click.echo(printable(f"warning: {source}: {w}"), err=True)
    write_text(output, html)
    click.echo(printable(say("cli.report_written", lang, path=output)))
