"""``anvis scenario`` serial against ``--jobs 2`` and ``--scheduler`` (issue 13): fresh processes, alternated.

Usage (from the repository root)::

    python -m benchmarks.scenario [--rounds N] [--smoke] [--only city-week-200|year-small]

runs each scenario (:data:`SCENARIOS`: the 200 city-week variants of
``instances/city-week-200.toml``, and a small year horizon) as a fresh
``anvis scenario FILE -o OUT -q`` process: serially, with ``--jobs 2``, and with
``--scheduler`` on a Dask ``LocalCluster`` of 2 worker processes started here
beforehand (its start-up timed apart). The three modes alternate within each round, so
a change in the machine's load falls on all of them; each figure is the median over the
rounds. CPU seconds are the process's and its pool workers' (user + system); for
``--scheduler``, the process's plus the cluster workers' own. The load average
(``uptime``) before and after is part of every result: on a shared machine wall clock
follows the load. The three results files must be the same bytes (checked).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANVIS = str(Path(sys.executable).with_name("anvis"))
MODES = ("serial", "jobs 2", "scheduler")

#: The small year horizon: 3 variants (the base, a sweep of two) × 2 seeds × 13 weeks at 2 %
#: (smoke: 1 seed, 2 weeks).
YEAR_SMALL = """
horizon = "year"

[year]
weeks = {weeks}
seeds = {seeds}
scale = 0.02
regime = "rotation"

[[sweep]]
name = "default share"
term = "default_share"
values = [0.3333, 0.5]
"""

#: The smoke version of the 200 variants: 3 % of the city and a 3 × 2 grid.
CITY_SMOKE = """
horizon = "round"

[base]
generate = "city-week"
seed = 0
scale = 0.03

[[grid]]
name = "share × mixed city"
axes = [{ name = "default share", term = "default_share", values = [0.2, 0.25, 0.3] },
        { name = "vulnerable cap", term = "max_vulnerable", department = "*", deltas = [-1, 1] }]
"""

SCENARIOS = ("city-week-200", "year-small")


def write_scenario(name: str, folder: Path, smoke: bool = False) -> Path:
    """The scenario file ``name`` (:data:`SCENARIOS`) in ``folder``: full size, or tiny for smoke runs."""
    path = folder / f"{name}.toml"
    if name == "city-week-200":
        text = CITY_SMOKE if smoke else (ROOT / "instances" / "city-week-200.toml").read_text(encoding="utf-8")
    elif name == "year-small":
        text = YEAR_SMALL.format(weeks=2 if smoke else 13, seeds=[0] if smoke else [0, 1])
    else:
        raise ValueError(f"no scenario {name!r} (there are {', '.join(SCENARIOS)})")
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, out: Path, *args: str) -> tuple[float, float]:
    """Wall clock and CPU seconds (user + system, with every pool worker it waited for) of one process."""
    before = os.times()
    t = time.perf_counter()
    subprocess.run([ANVIS, "scenario", str(path), "-o", str(out), "-q", *args], check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def _cpu() -> float:
    """CPU seconds of the calling process (run on each Dask worker)."""
    return time.process_time()


def measure(name: str, rounds: int = 1, smoke: bool = False) -> dict[str, Any]:
    """Median wall clock and CPU seconds of each mode (:data:`MODES`) on one scenario, alternated.

    Returns
    -------
    dict
        Per mode ``wall_s`` and ``cpu_s`` (medians over the rounds), ``cluster_start_s``
        (wall clock of starting the LocalCluster, not in the scheduler's figures),
        ``load_before``/``load_after`` (1-minute load averages), ``variants`` (results)
        and ``identical`` (the three results files are the same bytes).
    """
    from dask.distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_scenario(name, folder, smoke)
        load_before = os.getloadavg()[0]
        t = time.perf_counter()
        # dask.distributed has no type annotations: its calls are untyped to mypy
        with (
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.CRITICAL,
            ) as cluster,
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            cluster_start = time.perf_counter() - t
            args = {"serial": (), "jobs 2": ("--jobs", "2"), "scheduler": ("--scheduler", cluster.scheduler_address)}
            times: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
            for _ in range(rounds):
                for mode in MODES:
                    out = folder / f"{mode.replace(' ', '')}.json"
                    workers = sum(client.run(_cpu).values()) if mode == "scheduler" else 0.0
                    wall, cpu = run(path, out, *args[mode])
                    if mode == "scheduler":
                        cpu += sum(client.run(_cpu).values()) - workers
                    times[mode].append((wall, cpu))
        files = {m: (folder / f"{m.replace(' ', '')}.json").read_bytes() for m in MODES}
        result: dict[str, Any] = {
            "scenario": name,
            "variants": len(json.loads(files["serial"])["results"]),
            "rounds": rounds,
            "cluster_start_s": round(cluster_start, 2),
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "identical": len(set(files.values())) == 1,
        }
        for mode in MODES:
            key = mode.replace(" ", "")
            result[f"{key}_wall_s"] = round(statistics.median(w for w, _ in times[mode]), 2)
            result[f"{key}_cpu_s"] = round(statistics.median(c for _, c in times[mode]), 2)
        return result


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table, one row a scenario."""
    lines = [
        "| scenario | results | rounds | serial wall / CPU s | --jobs 2 wall / CPU s "
        "| --scheduler wall / CPU s | cluster start s | load before → after | same bytes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['scenario']} | {r['variants']} | {r['rounds']} "
            + "".join(f"| {r[f'{m}_wall_s']} / {r[f'{m}_cpu_s']} " for m in ("serial", "jobs2", "scheduler"))
            + f"| {r['cluster_start_s']} | {r['load_before']} → {r['load_after']} | {r['identical']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="tiny scenarios: the harness runs")
    parser.add_argument("--only", choices=SCENARIOS, action="append")
    args = parser.parse_args(argv)
    results = [measure(name, args.rounds, args.smoke) for name in args.only or SCENARIOS]
    print(table(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
