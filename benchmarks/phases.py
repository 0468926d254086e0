"""Where the time of one ``anvis solve`` goes, phase by phase, in a fresh interpreter.

Usage: ``python -m benchmarks.phases INSTANCE`` (from the repository root) prints one JSON
object of seconds: ``import`` (the modules ``anvis solve`` loads), ``parse`` (the file to a
document), ``validate`` (the document to an :class:`models.Instance`), ``prepare``,
``build`` and ``solve`` (the engine's own timings: arrays and eligible pairs, the sparse
model, the stages), ``plan`` (:func:`optimizer.plan.build.make_plan`) and ``write``.
Interpreter start-up is the rest of a process's wall clock; ``benchmarks/test_process.py``
measures it as the wall clock of ``python -c pass``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time


def main(path: str) -> dict[str, float]:
    """Run the phases of ``anvis solve`` on ``path``; returns seconds per phase."""
    t = [time.perf_counter()]
    # what the anvis entry point imports for `anvis solve`, first as there: the command
    # group sets one BLAS thread before NumPy loads
    importlib.import_module("optimizer.cli.solve")
    import models
    from models.io import read_document
    from optimizer.engine.solve import solve
    from optimizer.plan.build import make_plan

    t.append(time.perf_counter())
    doc = read_document(path, score_columns=True)  # as models.load reads it
    t.append(time.perf_counter())
    inst = models.from_dict(doc, path)
    t.append(time.perf_counter())
    result = solve(inst)
    t.append(time.perf_counter())
    plan = make_plan(result)
    t.append(time.perf_counter())
    fd, out = tempfile.mkstemp(suffix=".plan.json")
    os.close(fd)
    try:
        models.write_plan(plan, out)
    finally:
        t.append(time.perf_counter())
        os.unlink(out)
    spent = {
        "import": t[1] - t[0],
        "parse": t[2] - t[1],
        "validate": t[3] - t[2],
        **{k: result.timings[k] for k in ("prepare", "build", "solve")},
        "plan": t[5] - t[4],
        "write": t[6] - t[5],
    }
    return {k: round(v, 3) for k, v in spent.items()}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
