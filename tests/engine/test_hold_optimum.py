"""HiGHS's stage sessions fix, after each stage, what every plan keeping its optimum must have.

``HighsSession.hold_optimum`` fixes the columns whose reduced cost at a stage's integral LP
optimum exceeds the face tolerance (:mod:`optimizer.engine.face`). It must change no
later optimum: every solve here is compared with the same solve where the hold does
nothing (hold rows only, as CBC and CP-SAT keep earlier optima), and every plan passes
the checker.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine import solve as solve_mod
from optimizer.engine.backends.highs import HighsSession
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.sim.generate import duplicated, generate


@pytest.fixture
def fixed(monkeypatch) -> list[int]:
    """The number of columns each hold fixed, in order."""
    counts: list[int] = []
    real = HighsSession.hold_optimum

    def counted(self: HighsSession) -> None:
        before = int(self.fixed.sum())
        real(self)
        counts.append(int(self.fixed.sum()) - before)

    monkeypatch.setattr(HighsSession, "hold_optimum", counted)
    return counts


def checked(inst: models.Instance) -> solve_mod.Result:
    result = solve(inst, backend="highs", threads=1)
    violations = check_plan(inst, make_plan(result).to_dict())
    assert not violations, "\n".join(format_violations(violations))
    return result


CASES = {
    # one stage per priority: the second and third count stages hold what the first fixed
    "stage per priority": (generate("city-week", seed=5, scale=0.3), 0),
    "packed stages": (generate("national-week", seed=2, scale=0.1, format="anvis/1"), None),
    # integer columns above 1 (aggregated citizens and units): fixed at their upper bound
    "aggregated": (duplicated(generate("city-week", seed=2, scale=0.3), 3, 2), None),
    # binding side rows: some stages' LPs are fractional and go to a MIP over the fixed model
    "hard": (generate("hard-national", seed=1, scale=0.03, format="anvis/1"), None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_holding_an_optimum_changes_no_later_optimum(case, fixed, monkeypatch):
    document, pack_limit = CASES[case]
    if pack_limit is not None:
        monkeypatch.setattr(solve_mod, "PACK_LIMIT", pack_limit)
    inst = models.from_dict(document)
    held = checked(inst)
    assert sum(fixed) > 0  # the hold fixed columns: the comparison below is not of one path twice
    monkeypatch.setattr(HighsSession, "hold_optimum", lambda self: None)
    plain = checked(inst)
    assert held.status == plain.status == "optimal"
    assert held.housed_by_priority == plain.housed_by_priority
    assert held.total_score == pytest.approx(plain.total_score, abs=1e-6)


def test_a_column_fixed_by_one_stage_stays_where_it_was_fixed(fixed, monkeypatch):
    """Three count stages: columns fixed at 0 by the first keep 0 whatever their reduced
    cost in the next (fixing them again by it lost 205 of 470 score points once)."""
    monkeypatch.setattr(solve_mod, "PACK_LIMIT", 0)
    inst = models.from_dict(generate("city-week", seed=5, scale=0.3))
    bounds: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}  # by session
    real = HighsSession.hold_optimum

    def watched(self: HighsSession) -> None:
        real(self)
        lp = self.h.getLp()
        bounds.setdefault(id(self), []).append((np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)))

    monkeypatch.setattr(HighsSession, "hold_optimum", watched)
    checked(inst)
    steps = [step for holds in bounds.values() for step in itertools.pairwise(holds)]
    assert steps
    for (lo, hi), (lo2, hi2) in steps:
        was = lo == hi
        assert was.any()
        assert (lo2[was] == lo[was]).all() and (hi2[was] == hi[was]).all()


def test_a_fractional_stage_fixes_nothing(monkeypatch):
    """Only an integral LP optimum (the MILP's) proves a face: after a MIP stage the hold fixes nothing."""
    monkeypatch.setattr(HighsSession, "_integral_lp", lambda self, time_limit: None)
    counts: list[int] = []
    real = HighsSession.hold_optimum

    def counted(self: HighsSession) -> None:
        real(self)
        counts.append(int(self.fixed.sum()))

    monkeypatch.setattr(HighsSession, "hold_optimum", counted)
    checked(models.from_dict(generate("city-week", seed=5, scale=0.1)))
    assert counts and not any(counts)
