"""Benchmark fixtures: instances generated at benchmark time (never committed).

``ANVIS_BENCH_SMOKE=1`` shrinks every instance so CI proves the harness runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import models
from optimizer.sim.generate import generate

SMOKE = os.environ.get("ANVIS_BENCH_SMOKE") == "1"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SCALE = {"national-week": 1.0, "city-week": 1.0, "city-year": 1.0}


@cache
def instance(preset: str, fmt: str = "anvis/1"):
    """The preset at benchmark scale; anvis/1 unless asked (the benchmarks' history is of version 1)."""
    scale = 0.03 if SMOKE else SCALE[preset]
    return models.from_dict(generate(preset, seed=0, scale=scale, format=fmt))


# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child forked from a
# large benchmark process would report the parent's size.
_PEAK = """
import re, sys
import models
from optimizer.sim.generate import generate
from optimizer.engine.solve import solve
preset, scale, backend, fmt = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
solve(models.from_dict(generate(preset, seed=0, scale=scale, format=fmt)), backend)
print(int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024)
"""


def peak_mb(preset: str, backend: str, fmt: str = "anvis/1") -> float:
    """Peak resident memory (MB) of a clean interpreter that generates and solves the preset.

    A separate interpreter: a fork or spawn of the benchmark process would carry
    (and count) memory that the solve never needed.
    """
    scale = 0.03 if SMOKE else SCALE[preset]
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, preset, str(scale), backend, fmt], capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[-1])


def pytest_report_header(config):
    return (
        f"anvis benchmarks ({'smoke' if SMOKE else 'full'}) on {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
