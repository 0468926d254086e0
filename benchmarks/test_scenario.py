"""``anvis scenario`` serial, ``--jobs 2`` and ``--scheduler`` (issue 13): fresh processes, alternated.

200 variants of city-week (target: ≤ 2 min on 2 cores) and a small year horizon
(``benchmarks/scenario.py``); ``make bench-smoke`` runs tiny versions. Timings are
recorded, never asserted; that the three modes write the same bytes is.
"""

from __future__ import annotations

import pytest

from benchmarks.conftest import SMOKE
from benchmarks.scenario import SCENARIOS, measure

pytest.importorskip("distributed")


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_serial_jobs_and_scheduler(benchmark, name):
    """Wall clock of the three modes, alternated, in one benchmark round; figures as extra_info."""
    result = benchmark.pedantic(measure, args=(name, 1, SMOKE), rounds=1, iterations=1)
    assert result["identical"]
    benchmark.extra_info.update(result)
