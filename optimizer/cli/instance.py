"""``anvis validate``, ``convert`` and ``generate``: instance files in and out."""

from __future__ import annotations

import click

import models
from models.convert import to_v2
from models.headers import ColumnMap
from optimizer.cli.common import bad_input, columns_option, guard_output, load_instance, printable, save_instance

__all__ = ["convert", "generate", "validate"]

#: The generator's presets, listed here so that ``--help`` needs no generator import
#: (0.3 s); tests/cli pins them to :data:`optimizer.sim.generate.PRESET_NAMES`.
PRESETS = ("national-week", "city-week", "city-year", "small", "tiny", "hard-city", "hard-national")


@click.command()
@click.argument("instance", type=click.Path(dir_okay=True))
@columns_option
def validate(instance: str, columns: ColumnMap | None) -> None:
    """Check an instance (JSON, CSV folder or xlsx) against the anvis/1 format.

    A CSV folder or workbook may name its sheets and columns in Danish (boliger, husleje, ...).
    """
    inst = load_instance(instance, columns=columns)
    n_pools = len(models.pools(inst))
    click.echo(
        f"{printable(instance)}: valid {inst.body.format} instance {printable(repr(inst.name))}: "
        f"{len(inst.citizens)} citizens, "
        f"{len(inst.units)} units, {n_pools} pools"
    )


@click.command()
@click.argument("source", type=click.Path(dir_okay=True))
@click.argument("target", type=click.Path())
@click.option(
    "--to",
    "to",
    type=click.Choice(["anvis/2"]),
    default=None,
    help="Also convert the format version, keeping the instance's meaning (FORMAT.md §6).",
)
@columns_option
def convert(source: str, target: str, to: str | None, columns: ColumnMap | None) -> None:
    """Convert an instance between JSON, a CSV folder and xlsx (by TARGET's name).

    TARGET may not be SOURCE (nor inside a SOURCE folder); it is written whole or not at all.
    """
    guard_output(target, [source])
    inst = load_instance(source, columns=columns)
    if to == "anvis/2":
        with bad_input(source):
            inst = to_v2(inst)
    save_instance(inst, target)
    click.echo(printable(f"{source} -> {target}"))


@click.command()
@click.argument("preset", type=click.Choice(PRESETS))
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["anvis/2", "anvis/1"]),
    default="anvis/2",
    show_default=True,
    help="Format version; anvis/1 writes exactly the version-1 documents of earlier releases.",
)
def generate(preset: str, output: str, seed: int, scale: float, scores: bool, fmt: str) -> None:
    """Write a realistic instance calibrated to the national figures (seeded, deterministic)."""
    from optimizer.sim.generate import generate as make

    guard_output(output)
    inst = models.from_dict(make(preset, seed=seed, scale=scale, with_scores=scores, format=fmt), output)
    save_instance(inst, output)
    click.echo(
        f"{printable(output)}: {printable(repr(inst.name))}, {len(inst.citizens)} citizens, {len(inst.units)} units, "
        f"{len(inst.municipalities)} municipalities"
    )
