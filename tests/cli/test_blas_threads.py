"""``anvis`` runs BLAS on one thread unless the user says otherwise (issue 12).

OpenBLAS starts a worker thread per core when NumPy loads, and the workers spin beside
the solver for a while after every threaded call. Each check runs a fresh interpreter:
the variables are read once, when NumPy loads, so only a new process shows their effect.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from optimizer.cli import BLAS_THREADS

from conftest import ROOT

#: What a fresh ``anvis`` process sees: whether NumPy was loaded before the command group
#: set the variables, their values, and this process's threads once NumPy is loaded.
PROBE = """
import json, os, sys
import optimizer.cli
early = "numpy" in sys.modules
import numpy
threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None
env = {k: os.environ.get(k) for k in optimizer.cli.BLAS_THREADS}
print(json.dumps({"early": early, "env": env, "threads": threads}))
"""


def probe(**env: str) -> dict[str, object]:
    """The PROBE's findings in a fresh interpreter with ``env`` added to an environment free of BLAS settings."""
    base = {k: v for k, v in os.environ.items() if k not in BLAS_THREADS}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=ROOT, env={**base, **env}
    )
    found: dict[str, object] = json.loads(out.stdout)
    return found


def test_the_command_group_sets_one_blas_thread_before_numpy_loads() -> None:
    found = probe()
    assert found["early"] is False  # set before NumPy (and so OpenBLAS) was loaded
    assert found["env"] == dict.fromkeys(BLAS_THREADS, "1")
    if found["threads"] is not None:
        assert found["threads"] == 1  # no OpenBLAS worker beside the main thread


def test_a_users_own_setting_wins() -> None:
    found = probe(OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="3")
    assert found["env"] == {**dict.fromkeys(BLAS_THREADS, "1"), "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "3"}


def openblas() -> bool:
    """Whether NumPy runs on OpenBLAS (which starts a worker per core)."""
    import numpy as np

    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]  # type: ignore[func-returns-value]
    return "openblas" in str(blas.get("name", "")).lower()


@pytest.mark.skipif(
    not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2 or not openblas(),
    reason="counts the Linux threads of a multi-core OpenBLAS",
)
def test_without_the_setting_openblas_starts_workers() -> None:
    # the check above can fail: NumPy alone, with no setting, starts more than one thread
    base = {k: v for k, v in os.environ.items() if k not in BLAS_THREADS}
    code = "import os, numpy; print(len(os.listdir('/proc/self/task')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=base)
    assert int(out.stdout) > 1
