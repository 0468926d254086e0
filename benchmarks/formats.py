"""anvis/2 presets against anvis/1: one whole ``anvis solve`` process per preset and format.

Usage (from the repository root)::

    python -m benchmarks.formats [--scale F] [--preset P ...] [--seed N]

generates every preset at seed 0 in both formats (``anvis generate P --format anvis/1``
and the default anvis/2), runs ``anvis solve FILE -o PLAN -q`` on each in a fresh
process, one after the other, and prints a Markdown table of wall clock and CPU seconds
(user + sys of the process; on a shared machine wall clock varies with the load, CPU
time much less) with the optimum of each. ``benchmarks/test_formats.py`` runs the same
measurement under ``make bench`` (small sizes under ``make bench-smoke``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import models
from optimizer.sim.generate import generate

PRESETS = ["tiny", "small", "national-week", "city-week", "city-year"]
FORMATS = ["anvis/1", "anvis/2"]
ANVIS = str(Path(sys.executable).with_name("anvis"))


def write(preset: str, fmt: str, folder: Path, scale: float = 1.0, seed: int = 0) -> Path:
    """The preset's instance file as ``anvis generate`` writes it (:func:`models.save` of the validated document)."""
    path = folder / f"{preset}-{fmt.replace('/', '')}.json"
    models.save(models.from_dict(generate(preset, seed=seed, scale=scale, format=fmt)), path)
    return path


def run(path: Path) -> dict[str, object]:
    """One fresh ``anvis solve PATH -o PLAN -q``: wall and CPU seconds, status and optimum."""
    plan = path.with_suffix(".plan.json")
    before = os.times()
    t = time.perf_counter()
    subprocess.run([ANVIS, "solve", str(path), "-o", str(plan), "-q"], check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    doc = json.loads(plan.read_text(encoding="utf-8"))
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "status": doc["status"],
        "housed": doc["objective"]["housed_by_priority"],
        "total_score": doc["objective"]["total_score"],
    }


def measure(presets: list[str], scale: float = 1.0, seed: int = 0) -> dict[str, dict[str, dict[str, object]]]:
    """``{preset: {format: run(...)}}`` for every preset in both formats, in one run."""
    out: dict[str, dict[str, dict[str, object]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for preset in presets:
            out[preset] = {fmt: run(write(preset, fmt, Path(tmp), scale, seed)) for fmt in FORMATS}
    return out


def table(results: dict[str, dict[str, dict[str, object]]]) -> str:
    """The Markdown table of :func:`measure`'s results."""

    def housed(r: dict[str, object]) -> str:
        counts = r["housed"]
        assert isinstance(counts, dict)
        return "/".join(str(counts[p]) for p in sorted(counts, key=int))

    lines = [
        "| preset | anvis/1 wall | anvis/1 CPU | anvis/2 wall | anvis/2 CPU "
        "| anvis/1 housed, score | anvis/2 housed, score |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for preset, by in results.items():
        v1, v2 = by["anvis/1"], by["anvis/2"]
        lines.append(
            f"| {preset} | {v1['wall_s']} s | {v1['cpu_s']} s | {v2['wall_s']} s | {v2['cpu_s']} s "
            f"| {housed(v1)}, {v1['total_score']:g} | {housed(v2)}, {v2['total_score']:g} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: measure and print the table."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.formats", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--preset", action="append", choices=PRESETS, help="repeatable; default: all")
    args = ap.parse_args(argv)
    print(table(measure(args.preset or PRESETS, args.scale, args.seed)))


if __name__ == "__main__":
    main()
