"""Whole-process benchmarks (issue 12): ``anvis solve FILE -o PLAN`` in a fresh process
against a fresh process running the plain PuLP + CBC model on the same file.

Both sides pay interpreter start-up, imports, reading and validating the file, the
model, the solve and the output; wall clock and CPU seconds (user + system, of that
process alone: on a shared machine the fairer figure), in one run: each round runs the
plain model, then anvis, and the ratios are of the two medians. Instance files are
written as ``anvis generate`` writes them (:func:`models.save` of the validated
document). Each result records, besides the ratios and anvis's peak memory, where
anvis's time goes (``benchmarks/phases.py`` in another fresh process, and the start-up
of a bare interpreter). Timings are recorded, never asserted; the optimum of both sides is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import models
from benchmarks.conftest import SHARED, SMOKE
from optimizer.sim.generate import generate

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ANVIS = str(Path(sys.executable).with_name("anvis"))
ORLIB = SHARED / "refdata" / "orlib-assign"

# name: (preset, full scale, smoke scale); assign800 is the OR-Library file
INSTANCES = {
    "national-week": ("national-week", 1.0, 0.03),
    "city-week": ("city-week", 1.0, 0.03),
    "hard-city": ("hard-city", 1.0, 0.1),
    "hard-national": ("hard-national", 1.0, 0.03),
    "assign800": (None, None, None),
    "city-year": ("city-year", 1.0, 0.03),
}
SLOW = {"hard-city", "city-year"}  # one anvis round at full size
# 640,000 and 1.9 million PuLP variables: minutes, no target asks for them
NO_PLAIN = set() if SMOKE else {"assign800", "city-year"}


def _run(cmd: list[str]) -> tuple[float, float, float]:
    """Wall clock, CPU seconds (user + system) and peak resident MB of one process running ``cmd``.

    The peak comes from ``/usr/bin/time`` (0 where it is absent): Linux carries ``ru_maxrss``
    across ``exec``, so a child started straight from this large process would report
    this process's size; the child of the small ``time`` process reports its own.
    """
    timer = Path("/usr/bin/time")
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        full = [str(timer), "-f", "%M", "-o", rss.name, *cmd] if timer.exists() else cmd
        t = time.perf_counter()
        proc = subprocess.Popen(full, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's usage (and its own children's), no one else's
        wall = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status):
            err = proc.stderr.read() if proc.stderr else b""
            raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), cmd, stderr=err)
        peak_kb = int(Path(rss.name).read_text().split()[-1]) if timer.exists() else 0
    return wall, usage.ru_utime + usage.ru_stime, peak_kb / 1024


def _median(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """The median wall clock, the median CPU seconds and the largest peak of some runs of one command."""
    walls, cpus = sorted(r[0] for r in runs), sorted(r[1] for r in runs)
    return walls[len(runs) // 2], cpus[len(runs) // 2], max(r[2] for r in runs)


def _wall(cmd: list[str]) -> float:
    return _run(cmd)[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The instance files by name, generated once per run (never committed)."""
    folder = tmp_path_factory.mktemp("process")
    out = {}
    for name, (preset, scale, smoke) in INSTANCES.items():
        if preset is None:
            path = ORLIB / ("assign100.txt" if SMOKE else "assign800.txt")
            if not path.exists():
                continue
        else:
            path = folder / f"{name}.json"
            doc = generate(preset, seed=0, scale=smoke if SMOKE else scale, format="anvis/1")
            models.save(models.from_dict(doc), path)
        out[name] = path
    return out


@pytest.fixture(scope="module")
def startup() -> float:
    """Wall clock of a bare interpreter (``python -c pass``): the floor of any process."""
    return min(_wall([PYTHON, "-c", "pass"]) for _ in range(3))


@pytest.mark.parametrize("name", list(INSTANCES))
def test_whole_process(benchmark, files, startup, name, tmp_path):
    """Wall clock of ``anvis solve`` and of the plain model, each a fresh process; same optimum."""
    if name not in files:
        pytest.skip(f"{name}: reference file absent")
    path = str(files[name])
    plan_path = tmp_path / "plan.json"
    out = tmp_path / "plain.json"
    runs: list[tuple[float, float, float]] = []
    plain_runs: list[tuple[float, float, float]] = []

    def anvis() -> None:
        runs.append(_run([ANVIS, "solve", path, "-o", str(plan_path), "-q"]))

    def plain_model() -> None:
        plain_runs.append(_run([PYTHON, "-m", "benchmarks.plain", path, str(out)]))

    # The plain model runs before each anvis round (pedantic's setup, not timed): the two
    # alternate, so that both medians come from the same minutes of a machine whose speed
    # drifts (a plain model taken once moved the ratio by 3x its spread over twelve runs)
    rounds = 1 if SMOKE or name in SLOW else 3
    setup = None if name in NO_PLAIN else plain_model
    benchmark.pedantic(anvis, setup=setup, rounds=rounds, iterations=1, warmup_rounds=0)
    t_anvis, cpu_anvis, peak = _median(runs)
    plan = json.loads(plan_path.read_text())
    assert plan["status"] == "optimal"
    info: dict = {"anvis_s": round(t_anvis, 3), "anvis_cpu_s": round(cpu_anvis, 3), "peak_mb": round(peak)}
    if name not in NO_PLAIN:
        t_plain, cpu_plain, _ = _median(plain_runs)
        plain = json.loads(out.read_text())
        assert plain["housed_by_priority"] == plan["objective"]["housed_by_priority"]
        assert plain["total_score"] == pytest.approx(plan["objective"]["total_score"], abs=1e-6)
        info.update(
            plain_s=round(t_plain, 3),
            speedup=round(t_plain / t_anvis, 1),
            plain_cpu_s=round(cpu_plain, 3),
            cpu_speedup=round(cpu_plain / cpu_anvis, 1),
        )
    phases = json.loads(
        subprocess.run(
            [PYTHON, "-m", "benchmarks.phases", path], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    )
    info.update(
        file_mb=round(Path(path).stat().st_size / 2**20, 1),
        startup=round(startup, 3),
        **phases,
        housed=plan["objective"]["housed_by_priority"],
        total_score=plan["objective"]["total_score"],
    )
    benchmark.extra_info.update(info)
