"""Benchmark fixtures: instances generated at benchmark time (never committed).

``ANVIS_BENCH_SMOKE=1`` shrinks every instance so CI proves the harness runs.
"""

from __future__ import annotations

import os
import resource
import sys
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

import models
from optimizer.generate import generate

SMOKE = os.environ.get("ANVIS_BENCH_SMOKE") == "1"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SCALE = {"national-week": 1.0, "city-week": 1.0, "city-year": 1.0}


@lru_cache(maxsize=None)
def instance(preset: str):
    scale = 0.03 if SMOKE else SCALE[preset]
    return models.from_dict(generate(preset, seed=0, scale=scale))


def _child(conn, fn, args):
    fn(*args)
    conn.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_mb(fn, *args) -> float:
    """Peak resident memory (MB) of a fresh process running ``fn(*args)``.

    A spawned process, not a fork: a fork would inherit (and count) the benchmark
    process's own memory.
    """
    ctx = get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(child, fn, args))
    proc.start()
    value = parent.recv()
    proc.join()
    return value


def pytest_report_header(config):
    return f"anvis benchmarks ({'smoke' if SMOKE else 'full'}) on {os.cpu_count()} cores, Python {sys.version.split()[0]}"
