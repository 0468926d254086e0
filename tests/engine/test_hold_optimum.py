"""HiGHS's stage sessions fix, after each stage, what every plan keeping its optimum must have.

``HighsSession.hold_optimum`` fixes the columns whose reduced cost at a stage's integral LP
optimum exceeds the face tolerance (:mod:`optimizer.engine.face`). It must change no
later optimum: every solve here is compared with the same solve where the hold does
nothing (hold rows only, as CBC and CP-SAT keep earlier optima), and every plan passes
the checker.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine import solve as solve_mod
from optimizer.engine.backends import highs
from optimizer.engine.backends.highs import HighsSession
from optimizer.engine.model import Csc, Milp
from optimizer.engine.pairs import Pairs
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.sim.generate import duplicated, generate


@dataclass
class Holds:
    """What the holds of a solve did: columns fixed, at an upper bound above 1, and MIPs over fixed models."""

    fixed: int = 0
    fixed_above_one: int = 0
    compacted: int = 0  # holds after which HiGHS's model leaves the fixed columns out
    mips_after_a_hold: int = 0
    force_mip: bool = False  # every solve after a hold taken as fractional: a MIP over the fixed model


@pytest.fixture
def holds(monkeypatch) -> Holds:
    seen = Holds()
    real_hold, real_lp = HighsSession.hold_optimum, HighsSession._integral_lp

    def hold(self: HighsSession) -> None:
        before = self.fixed.copy()
        real_hold(self)
        new = self.fixed & ~before
        seen.fixed += int(new.sum())
        seen.fixed_above_one += int((new & (self.at > 1)).sum())
        seen.compacted += self.h is None  # (the next solve makes the model without them)

    def lp(self: HighsSession, h, time_limit):
        found = real_lp(self, h, time_limit)
        if seen.force_mip and self.fixed.any():
            found = None
        seen.mips_after_a_hold += found is None and bool(self.fixed.any())
        return found

    monkeypatch.setattr(HighsSession, "hold_optimum", hold)
    monkeypatch.setattr(HighsSession, "_integral_lp", lp)
    return seen


def checked(inst: models.Instance, backend: str = "highs") -> solve_mod.Result:
    result = solve(inst, backend=backend, threads=1)
    violations = check_plan(inst, make_plan(result).to_dict())
    assert not violations, "\n".join(format_violations(violations))
    return result


# name: (document, PACK_LIMIT or None for the default, backend, every stage after a hold a MIP,
# first LPs by the dual simplex from scratch rather than the primal: see test_cold_start)
CASES = {
    # one stage per priority: the second and third count stages hold what the first fixed
    "stage per priority": (generate("city-week", seed=5, scale=0.3), 0, "highs", False, False),
    "packed stages": (generate("national-week", seed=2, scale=0.1, format="anvis/1"), None, "highs", False, False),
    # integer columns above 1 (auto aggregates interchangeable citizens and units); the dual
    # from scratch leaves such columns at their upper bounds, the primal's start leaves them basic
    "aggregated": (
        duplicated(generate("city-week", seed=2, scale=0.1, format="anvis/1"), 3, 2),
        None,
        "auto",
        False,
        True,
    ),
    # a stage whose LP is fractional after a hold is a MIP over the fixed model (binding side rows)
    "mip after a hold": (generate("hard-national", seed=1, scale=0.03, format="anvis/1"), 0, "highs", True, False),
    # the first LP's vertex fractional, the optimal face's integral: held by the primal's duals
    "held after the face": (
        generate("hard-national", seed=6, scale=0.2, format="anvis/1"),
        None,
        "highs",
        False,
        False,
    ),
}


@pytest.mark.parametrize("compact", [True, False], ids=["fixed columns left out", "fixed in the model"])
@pytest.mark.parametrize("case", list(CASES))
def test_holding_an_optimum_changes_no_later_optimum(case, compact, holds, monkeypatch):
    document, pack_limit, backend, force_mip, dual_first = CASES[case]
    if not compact:
        monkeypatch.setattr(highs, "COMPACT_SHARE", 2.0)  # never: every hold fixes bounds in the model
    if pack_limit is not None:
        monkeypatch.setattr(solve_mod, "PACK_LIMIT", pack_limit)
    if dual_first:
        monkeypatch.setattr(HighsSession, "_cold_lp", HighsSession._warm_lp)
    holds.force_mip = force_mip
    inst = models.from_dict(document)
    held = checked(inst, backend)
    # the path under test ran: columns were fixed (the comparison below is not of one path twice)
    assert holds.fixed > 0
    assert (holds.compacted > 0) == compact
    assert holds.fixed_above_one > 0 or case != "aggregated"
    assert holds.mips_after_a_hold > 0 or not force_mip
    monkeypatch.setattr(HighsSession, "hold_optimum", lambda self: None)
    plain = checked(inst, backend)
    assert held.status == plain.status == "optimal"
    assert held.housed_by_priority == plain.housed_by_priority
    assert held.total_score == pytest.approx(plain.total_score, abs=1e-6)


@pytest.mark.parametrize("compact", [True, False], ids=["fixed columns left out", "fixed in the model"])
def test_a_column_fixed_by_one_stage_stays_where_it_was_fixed(compact, monkeypatch):
    """Three count stages: columns fixed at 0 by the first keep 0 whatever their reduced
    cost in the next (fixing them again by it lost 205 of 470 score points once), in the
    session's record and in every later stage's plan; in HiGHS's model they are left out
    or have both bounds there."""
    monkeypatch.setattr(solve_mod, "PACK_LIMIT", 0)
    if not compact:
        monkeypatch.setattr(highs, "COMPACT_SHARE", 2.0)
    inst = models.from_dict(generate("city-week", seed=5, scale=0.3))
    held: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}  # by session: (fixed, at) after each hold
    plans = 0
    real_hold, real_solve = HighsSession.hold_optimum, HighsSession.solve

    def watched(self: HighsSession) -> None:
        real_hold(self)
        held.setdefault(id(self), []).append((self.fixed.copy(), self.at.copy()))

    def solved(self: HighsSession, *args):
        nonlocal plans
        res = real_solve(self, *args)
        if self.fixed.any() and res.x is not None:
            plans += 1
            assert np.array_equal(res.x[self.fixed], self.at[self.fixed])
            lp = self.model().getLp()
            inside = self.fixed[self.cols]  # fixed, and still in the model
            assert np.array_equal(np.asarray(lp.col_lower_)[inside], self.at[self.cols][inside])
            assert np.array_equal(np.asarray(lp.col_upper_)[inside], self.at[self.cols][inside])
            assert inside.any() != compact  # left out where compacted, in the model where not
        return res

    monkeypatch.setattr(HighsSession, "hold_optimum", watched)
    monkeypatch.setattr(HighsSession, "solve", solved)
    checked(inst)
    steps = [step for holds in held.values() for step in itertools.pairwise(holds)]
    assert steps and plans
    for (was, at), (now, at2) in steps:
        assert was.any()
        assert now[was].all() and (at2[was] == at[was]).all()


def test_a_fractional_stage_fixes_nothing(monkeypatch):
    """Only an integral LP optimum (the MILP's) proves a face: after a MIP stage the hold fixes nothing."""
    monkeypatch.setattr(HighsSession, "_integral_lp", lambda self, h, time_limit: None)
    counts: list[int] = []
    real = HighsSession.hold_optimum

    def counted(self: HighsSession) -> None:
        real(self)
        counts.append(int(self.fixed.sum()))

    monkeypatch.setattr(HighsSession, "hold_optimum", counted)
    checked(models.from_dict(generate("city-week", seed=5, scale=0.1)))
    assert counts and not any(counts)


def _three_columns(row_hi: float) -> Milp:
    """Three binary columns; one row ``x0 + x1 ≤ row_hi``, one ``x1 + x2 ≤ 1``."""
    A = Csc.from_entries(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2]), (2, 3))
    pairs = Pairs(np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32), np.zeros(3, bool), np.zeros(3))
    return Milp(pairs, A, np.zeros(2), np.array([row_hi, 1.0]), np.zeros(2, np.int8), np.arange(2))


@pytest.mark.parametrize("row_hi, feasible", [(2.0, True), (1.0, False)])
def test_a_row_of_columns_left_out_stays_where_they_break_it(row_hi, feasible):
    """A compacted model leaves out a row whose every column is fixed only where the fixed
    values keep it; a row they break stays, empty, and HiGHS finds the model infeasible.
    (Holds never fix such values: the face of an optimum keeps every row.)"""
    session = HighsSession(_three_columns(row_hi))
    session.set_objective(np.array([1.0, 1.0, 0.0]))
    first = session.solve(None, None, 0.5)
    assert first.status == "optimal"
    # a face that puts x0 and x1 at their upper bounds: two thirds of the columns, compacted
    session.face = (session.cost, np.array([1.0, 1.0, 0.0]))
    session.hold_optimum()
    assert session.h is None and list(session.cols) == [2]
    session.set_objective(np.array([0.0, 0.0, 1.0]))
    res = session.solve(None, None, 0.5)
    h = session.model()
    assert h.getNumRow() == (1 if feasible else 2)  # x1 + x2 ≤ 1 stays, as x2 ≤ 0; x0 + x1 ≤ 1 only when broken
    if feasible:
        assert res.status == "optimal" and list(res.x) == [1, 1, 0] and res.objective == 0.0
    else:
        assert res.status == "infeasible" and res.x is None
