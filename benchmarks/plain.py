"""The plain PuLP + CBC model as a whole process: read an instance file, solve, write the optimum.

Usage: ``python -m benchmarks.plain INSTANCE OUT.json`` (from the repository root).
It reads the file as anvis does (:func:`models.load`: JSON, CSV, xlsx or OR-Library) and
solves it with :func:`benchmarks.baseline.consultant`, so a timed run of this module
against a timed ``anvis solve INSTANCE -o PLAN`` compares whole processes: start-up,
imports, reading and validation, model, solve and output on both sides. The output is
``{"housed_by_priority": {...}, "total_score": ...}``, keyed like a plan's ``objective``.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path


def main(src: str, dst: str) -> None:
    """Solve ``src`` with the plain model and write its objective to ``dst``."""
    import models
    from benchmarks.baseline import consultant

    warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 3's notices about its 4.0 API
    housed, score = consultant(models.load(src))
    out = {"housed_by_priority": {str(p): n for p, n in housed.items()}, "total_score": score}
    Path(dst).write_text(json.dumps(out, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
