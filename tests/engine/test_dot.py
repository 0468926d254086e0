"""``dot``: an objective's value without BLAS, so no BLAS thread spins beside the solver (issue 12)."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from optimizer.engine.model import dot


def test_dot_is_the_inner_product() -> None:
    rng = np.random.default_rng(0)
    cost = rng.integers(0, 1000, 50_000).astype(float)  # integer costs: every partial sum is exact
    x = (rng.random(50_000) < 0.1).astype(np.int8)
    assert dot(cost, x) == math.fsum(cost[x == 1]) == float(cost @ x)
    assert isinstance(dot(cost, x), float)
    frac = rng.random(50_000) * 100
    assert dot(frac, x) == pytest.approx(math.fsum(frac[x == 1]), rel=1e-14)
    assert dot(frac, frac) == pytest.approx(math.fsum(frac * frac), rel=1e-14)
    assert dot(np.zeros(0), np.zeros(0, np.int8)) == 0.0


#: Other threads' CPU ticks in a process without BLAS settings: after NumPy loads (its
#: workers' start-up spin over), then after 300 inner products of 100,000 entries by ``how``.
PROBE = """
import os, sys, time
import numpy as np
def others():
    ticks = 0
    for t in os.listdir("/proc/self/task"):
        if int(t) != os.getpid():
            f = open(f"/proc/self/task/{t}/stat").read().rsplit(")", 1)[1].split()
            ticks += int(f[11]) + int(f[12])
    return ticks
from optimizer.engine.model import dot
a, b = np.random.default_rng(0).random(100_000), np.ones(100_000, np.int8)
time.sleep(1.0)
before = others()
for _ in range(300):
    value = dot(a, b) if sys.argv[1] == "dot" else float(a @ b)
time.sleep(0.5)
print(others() - before)
"""


@pytest.mark.skipif(
    not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2, reason="reads Linux threads' CPU ticks"
)
def test_dot_wakes_no_blas_thread() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}

    def ticks(how: str) -> int:
        out = subprocess.run([sys.executable, "-c", PROBE, how], capture_output=True, text=True, check=True, env=env)
        return int(out.stdout)

    if ticks("matmul") == 0:  # the control: a BLAS that never threads a dot product shows nothing
        pytest.skip("this NumPy's BLAS runs a dot product on one thread")
    assert ticks("dot") == 0
