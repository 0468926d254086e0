"""The greedy plan of a block's stages is made only where it is used (``engine.solve``'s stages).

It is a backend's MIP start and the plan kept where the first stage ends without an
optimum. HiGHS uses a start only when a stage's LP optimum is not integral; CP-SAT and
CBC take it for every solve. Whether it is made or not, the plan is the same.
"""

from __future__ import annotations

import pytest
from test_solve_threads import separate_towns

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine import solve as solve_mod
from optimizer.engine.backends.base import mip_start
from optimizer.engine.backends.highs import HighsSession
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.sim.generate import generate


@pytest.fixture
def made(monkeypatch) -> list[int]:
    """The number of pairs of every greedy plan made, in order."""
    calls: list[int] = []
    real = solve_mod.greedy

    def counted(data, milp):
        calls.append(len(milp.pairs))
        return real(data, milp)

    monkeypatch.setattr(solve_mod, "greedy", counted)
    return calls


def plan_bytes(inst: models.Instance, **options) -> bytes:
    plan = make_plan(solve(inst, threads=1, **options))
    violations = check_plan(inst, plan.to_dict())
    assert not violations, "\n".join(format_violations(violations))
    return plan.json_bytes()


@pytest.fixture(scope="module")
def towns() -> models.Instance:
    return models.from_dict(separate_towns(4))


@pytest.fixture(scope="module")
def week() -> models.Instance:
    return models.from_dict(generate("national-week", seed=3, scale=0.05, format="anvis/1"))


def test_highs_with_integral_lps_makes_no_greedy_plan(towns, week, made):
    for inst in (towns, week):
        result = solve(inst, backend="highs", threads=1)
        assert result.stats["blocks"] >= 1 and result.status == "optimal"
    assert made == []


@pytest.mark.parametrize("backend", ["cpsat", "cbc"])
def test_backends_that_take_a_start_for_every_solve_get_the_greedy_plan(towns, made, backend):
    solve(towns, backend=backend, threads=1)
    assert len(made) == 4  # one for each town's block, made once for all its stages


def test_a_mip_stage_on_highs_starts_from_the_greedy_plan_as_an_eager_start_would(towns, week, made, monkeypatch):
    # every LP counted as fractional: each stage is a MIP from a start, the first from the greedy plan
    monkeypatch.setattr(HighsSession, "_integral_lp", lambda self, h, time_limit: None)
    lazy = {inst.name: plan_bytes(inst, backend="highs") for inst in (towns, week)}
    assert len(made) >= 4 and all(n > 0 for n in made)  # made for every block, as the MIP needs it
    # the start made before every solve, as it was before it became lazy: the same plans
    real = HighsSession.solve
    monkeypatch.setattr(HighsSession, "solve", lambda self, tl, start, gap: real(self, tl, mip_start(start), gap))
    assert {inst.name: plan_bytes(inst, backend="highs") for inst in (towns, week)} == lazy


def test_a_start_is_compared_with_the_greedy_plan(towns, made):
    first = solve(towns, backend="highs", threads=1)
    assert made == []
    again = solve(towns, backend="highs", threads=1, start=first.start())
    assert len(made) == 4 and again.start() == first.start()
