"""A HiGHS stage session's first LP, where the empty plan is feasible, starts with the primal simplex.

``HighsSession._cold_lp`` runs the primal simplex under an iteration cap; past the cap
the dual simplex solves the LP from scratch. Where the primal's vertex is fractional, the
dual simplex solves the LP over the optimal face (columns of nonzero reduced cost left
out at their bounds) in a model of its own: the session's model keeps its bounds. Each path is run here on a
generated instance where it happens, and each solve is compared with the same solve by
the dual simplex alone and without fixing any face (``hold_optimum`` off); every plan
passes the checker.
"""

from __future__ import annotations

from collections import Counter

import highspy
import numpy as np
import pytest

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine.backends import highs
from optimizer.engine.backends.highs import HighsSession
from optimizer.engine.data import ProblemData
from optimizer.engine.face import face_tolerance
from optimizer.engine.model import Milp, build
from optimizer.engine.pairs import eligible_pairs
from optimizer.engine.solve import Result, solve
from optimizer.plan.build import make_plan
from optimizer.sim.generate import generate

# path: (preset, seed, scale) of an instance where some block's first LP takes it
CASES = {
    "primal": ("national-week", 2, 0.1),  # the primal's vertex is integral
    "face": ("hard-national", 6, 0.2),  # fractional; the dual over the optimal face finds an integral one
    "face fractional": ("city-week", 3, 0.03),  # fractional over the face too: a MIP
    "capped": ("hard-city", 1, 0.1),  # the primal passes its iteration cap: the dual from scratch
}


def _integral(v: np.ndarray) -> bool:
    return bool(np.abs(v - np.rint(v)).max(initial=0.0) <= 1e-9)


def _bounds(s: HighsSession) -> tuple[np.ndarray, np.ndarray]:
    lp = s.h.getLp()
    return np.array(lp.col_lower_), np.array(lp.col_upper_)


@pytest.fixture
def paths(monkeypatch) -> Counter[str]:
    """The paths the first LPs took, counted; each first LP also leaves the column bounds as it found them."""
    seen: Counter[str] = Counter()
    runs: list[tuple[bool, bool]] = []  # per LP run of the first LP: (optimal, integral)
    real_cold, real_run = HighsSession._cold_lp, highs._run_lp

    def run(h, time_limit, strategy):
        out = real_run(h, time_limit, strategy)
        runs.append((h.getModelStatus() == highspy.HighsModelStatus.kOptimal, out is not None and _integral(out[0])))
        return out

    def cold(self: HighsSession, h, time_limit):
        runs.clear()
        lower, upper = _bounds(self)
        found = real_cold(self, h, time_limit)
        after = _bounds(self)
        assert np.array_equal(after[0], lower) and np.array_equal(after[1], upper), "a first LP left bounds changed"
        named = {
            ((True, True),): "primal",
            ((True, False), (True, True)): "face",
            ((True, False), (True, False)): "face fractional",
        }
        path = named.get(tuple(runs), "capped" if not runs[0][0] and len(runs) == 2 else f"other {runs}")
        seen[path] += 1
        assert (found is not None) == (path in ("primal", "face") or (path == "capped" and runs[1][1]))
        if found is not None:
            # the face hold_optimum fixes is the whole LP's (its reduced costs at this optimum):
            # every column they put at a bound is there in the plan found
            cost, reduced = self.face
            tol = face_tolerance(0.0, float(np.abs(cost).max(initial=0.0)))
            at = np.abs(reduced) > tol
            upper = self.col_hi[self.cols]  # (the first LP's model has every column)
            assert np.array_equal(found.x[at], np.where(reduced[at] > 0, upper[at], 0.0)), path
        return found

    monkeypatch.setattr(highs, "_run_lp", run)
    monkeypatch.setattr(HighsSession, "_cold_lp", cold)
    return seen


def checked(inst: models.Instance) -> Result:
    result = solve(inst, backend="highs", threads=1)
    violations = check_plan(inst, make_plan(result).to_dict())
    assert not violations, "\n".join(format_violations(violations))
    return result


@pytest.mark.parametrize("path", list(CASES))
def test_each_first_lp_path_reaches_the_dual_simplex_optimum(path, paths, monkeypatch):
    preset, seed, scale = CASES[path]
    inst = models.from_dict(generate(preset, seed=seed, scale=scale, format="anvis/1"))
    cold = checked(inst)
    assert paths[path] > 0, dict(paths)  # the path under test ran
    assert not [p for p in paths if p.startswith("other")], dict(paths)
    # the same solve by the dual simplex alone, fixing no face
    monkeypatch.setattr(HighsSession, "_cold_lp", HighsSession._warm_lp)
    monkeypatch.setattr(HighsSession, "hold_optimum", lambda self: None)
    plain = checked(inst)
    assert cold.status == plain.status == "optimal"
    assert cold.housed_by_priority == plain.housed_by_priority
    assert cold.total_score == pytest.approx(plain.total_score, abs=1e-6)


def _block(preset: str, seed: int, scale: float) -> Milp:
    data = ProblemData.build(models.from_dict(generate(preset, seed=seed, scale=scale, format="anvis/1")))
    milp = build(data, eligible_pairs(data))
    return milp.restrict(max(milp.blocks(), key=len))


def test_the_primal_starts_only_where_the_empty_plan_is_feasible():
    milp = _block("national-week", 2, 0.1)
    assert HighsSession(milp).cold
    row_lo = milp.row_lo.astype(float).copy()
    row_lo[0] = 1.0  # some row asks for at least one: the empty plan breaks it
    held = Milp(milp.pairs, milp.A, row_lo, milp.row_hi, milp.row_kind, milp.row_group)
    assert not HighsSession(held).cold


def test_the_cap_scales_with_the_rows(paths, monkeypatch):
    """Past ``PRIMAL_ITERATIONS`` per row (and 50), the primal stops and the dual solves from scratch."""
    milp = _block("national-week", 2, 0.5)
    cost = np.ones(milp.n_cols)
    free = HighsSession(milp)
    free.set_objective(cost)
    found = free.solve(None, None, 0.0)
    needed = free.h.getInfo().simplex_iteration_count
    assert paths == {"primal": 1} and 50 < needed <= highs.PRIMAL_ITERATIONS * milp.n_rows + 50  # within the cap
    monkeypatch.setattr(highs, "PRIMAL_ITERATIONS", 0.0)  # a cap of 50 iterations
    capped = HighsSession(milp)
    capped.set_objective(cost)
    res = capped.solve(None, None, 0.0)
    assert paths["capped"] == 1
    assert res.x is not None and res.objective == pytest.approx(found.objective)
    assert capped.h.getOptionValue("simplex_iteration_limit")[1] == 2**31 - 1  # no cap left for later solves
    assert capped.h.getOptionValue("simplex_strategy")[1] == 1  # the dual for later solves and MIPs
