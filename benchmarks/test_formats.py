"""anvis/2 presets beside anvis/1 (issue 11): a whole ``anvis solve`` process per preset and format.

The same seed in both formats (``benchmarks/formats.py``); the anvis/2 city-year is
timed at full size beside the anvis/1 one (``make bench-smoke``: every preset at 3 %).
Timings are recorded, never asserted; that each plan is proven optimal is.
"""

from __future__ import annotations

import pytest

from benchmarks.conftest import SMOKE
from benchmarks.formats import FORMATS, run, write


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("preset", ["national-week", "city-week", "city-year"])
def test_whole_solve_by_format(benchmark, tmp_path, preset, fmt):
    """Wall clock of ``anvis solve`` in a fresh process; CPU seconds and the optimum as extra_info."""
    path = write(preset, fmt, tmp_path, scale=0.03 if SMOKE else 1.0)
    result = benchmark.pedantic(run, args=(path,), rounds=1, iterations=1)
    assert result["status"] == "optimal"
    benchmark.extra_info.update(result)
