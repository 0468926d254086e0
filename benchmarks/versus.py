"""``anvis solve`` of this checkout against that of an earlier commit, whole process, in one run.

Usage (from the repository root)::

    python -m benchmarks.versus COMMIT FILE [FILE ...] [--rounds 3]

The earlier commit's ``models`` and ``optimizer`` are extracted with ``git archive`` into a
temporary folder and run by this interpreter with the editable install of this checkout
hidden, so both sides use the same Python and libraries; both sides' modules are compiled
to bytecode first, and each side loads nothing before its entry point that the other does
not (an ``import models`` there, outside the command's paused collector, made the old side
0.01 s slower). The two alternate, round by
round, so that a busy machine slows both alike. Each run is a fresh process; its wall
clock, CPU seconds (user + system) and peak resident size come from ``os.wait4`` (that
process alone). Prints one JSON line per file: the medians of each side, and whether
the two plans are byte-identical.
"""

from __future__ import annotations

import argparse
import compileall
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Runs ``anvis`` from the folder in argv[1], not from the editable install.
OLD_ANVIS = """
import sys
folder = sys.argv.pop(1)
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, folder)
import optimizer.cli  # first, as the anvis script does: it sets BLAS threads before NumPy loads
assert optimizer.cli.__file__.startswith(folder), optimizer.cli.__file__
sys.argv[0] = "anvis"
getattr(optimizer.cli, "run", optimizer.cli.main)()  # the console script's entry point where it has one
"""


def run(cmd: list[str]) -> tuple[float, float, float]:
    """Wall clock, CPU seconds and peak resident MB of one process running ``cmd``."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"{' '.join(cmd)} failed: {err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    """Compare the two sides on every file given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.commit, "models", "optimizer"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(old, filter="data")
        # both sides from bytecode, as `make bytecode` leaves this checkout: where
        # PYTHONDONTWRITEBYTECODE is set, a side without it compiles its modules in every run
        for folder in (old, ROOT / "models", ROOT / "optimizer"):
            compileall.compile_dir(folder, quiet=1)
        sides = {
            "old": [sys.executable, "-c", OLD_ANVIS, str(old)],
            "new": [str(Path(sys.executable).with_name("anvis"))],
        }
        for f in args.files:
            times: dict[str, list[tuple[float, float, float]]] = {side: [] for side in sides}
            plans = {side: Path(tmp) / f"{side}.plan.json" for side in sides}
            for _ in range(args.rounds):
                for side, cmd in sides.items():
                    times[side].append(run([*cmd, "solve", f, "-o", str(plans[side]), "-q"]))
            row: dict[str, object] = {
                side: {
                    key: round(statistics.median(t[i] for t in runs), 3)
                    for i, key in enumerate(("wall_s", "cpu_s", "peak_mb"))
                }
                for side, runs in times.items()
            }
            row["same_plan"] = plans["old"].read_bytes() == plans["new"].read_bytes()
            print(json.dumps({"file": Path(f).name, **row}), flush=True)


if __name__ == "__main__":
    main()
