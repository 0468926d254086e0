"""The engine calls no threaded BLAS: OpenBLAS's workers stay idle through a solve.

A float vector product (``a @ b``) of more than 10,000 entries is BLAS's ``ddot``, which
OpenBLAS hands to its worker threads; they then spin beside the solver for a while (the
``anvis`` program runs BLAS on one thread, but a library caller's process may not:
in-process solves of a national week on two threads took 0.09 s instead of 0.065).
Objective values are :func:`optimizer.engine.model.dot`. A fresh interpreter with
OpenBLAS's default threads solves, and the CPU time of every thread but the solver's is
read from ``/proc`` before and after; the same probe then makes ``ddot`` calls, to show
that it sees them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from optimizer.cli import BLAS_THREADS

from conftest import ROOT

PROBE = """
import json, os, threading, time
import numpy as np
import models
from optimizer.engine.solve import solve
from optimizer.sim.generate import generate

def others():
    # CPU ticks (user + system) of every thread of this process but this one
    me, ticks = threading.get_native_id(), 0
    for tid in os.listdir("/proc/self/task"):
        if int(tid) != me:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks

inst = models.from_dict(generate("national-week", seed=1, format="anvis/1"))
solve(inst, threads=1)  # once before: imports and first calls
time.sleep(0.3)  # (workers spin on for a while after their work: counted after a pause)
before = others()
for _ in range(3):
    solve(inst, threads=1)
time.sleep(0.3)
solved = others() - before
before = others()
a = np.ones(400_000)
for _ in range(50):
    a @ a
time.sleep(0.3)
print(json.dumps({"workers": len(os.listdir("/proc/self/task")) - 1, "solve": solved, "ddot": others() - before}))
"""


def openblas_threads() -> bool:
    import numpy as np

    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]  # type: ignore[func-returns-value]
    return "openblas" in str(blas.get("name", "")).lower() and (os.cpu_count() or 1) > 1


@pytest.mark.skipif(
    not os.path.isdir("/proc/self/task") or not openblas_threads(),
    reason="reads the Linux threads of a multi-core OpenBLAS",
)
def test_a_solve_leaves_openblas_workers_idle() -> None:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREADS}  # OpenBLAS's default: a worker per core
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    found = json.loads(out.stdout)
    assert found["workers"] > 0
    assert found["ddot"] > 0  # the probe sees a threaded BLAS call
    assert found["solve"] == 0, found
