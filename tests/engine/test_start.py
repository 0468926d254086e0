"""Warm starts of ``solve`` (optimizer.engine.start): a start saves work, never changes an optimum.

A start is repaired into a feasible plan of the model (pairs that are no columns left
out, the least valuable pairs of each broken row dropped). With or without it, feasible
or not, a solve ends with the same status, objective and chosen pairs; the plan is
byte-identical where the start does not steer the search (HiGHS and CBC on the worked
examples and random instances), and differs only in the search's own statistics where
it does (CP-SAT's branches, column generation's rounds and columns).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import documents

import models
from optimizer.check import check_plan, format_violations
from optimizer.engine import solve as solve_mod
from optimizer.engine.backends.base import Capabilities
from optimizer.engine.data import ProblemData
from optimizer.engine.model import Milp, build
from optimizer.engine.overrides import apply_overrides
from optimizer.engine.pairs import eligible_pairs
from optimizer.engine.solve import Result, solve
from optimizer.engine.start import Start, chosen_start, repaired, start_columns, start_of
from optimizer.plan.build import make_plan

from conftest import doc, worked_examples

SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


def model_of(inst: models.Instance) -> tuple[ProblemData, Milp]:
    """The problem (caps net of locked pairs) and model that ``solve`` builds."""
    full = ProblemData.build(inst)
    fixed = apply_overrides(full, eligible_pairs(full))
    return fixed.data, build(fixed.data, fixed.pairs)


def mapped(inst: models.Instance, start: Start) -> set[tuple[str, str]]:
    """The pairs of the repaired start, by ids."""
    data, milp = model_of(inst)
    x = start_columns(data, milp, start)
    assert np.all(milp.A @ x.astype(float) <= milp.row_hi + 1e-9), "the repaired start breaks a row"
    return set(chosen_start(data, milp.pairs.take(x.astype(bool))))


def plan_text(inst: models.Instance, result: Result) -> str:
    """The plan as written (sorted keys), after the independent checker passed it."""
    plan = make_plan(result).to_dict()
    violations = check_plan(inst, plan)
    assert not violations, "\n".join(format_violations(violations))
    return json.dumps(plan, sort_keys=True)


#: Stage statistics that record the search itself (a start may change them).
SEARCH_STATS = {"nodes", "pricing_rounds", "columns_used", "tie_break", "kept_by"}


def without_search(stats: dict) -> dict:
    """``stats`` without the search's own figures of each stage."""
    out = dict(stats)
    out["milp_blocks"] = [
        {**b, "stages": [{k: v for k, v in s.items() if k not in SEARCH_STATS} for s in b["stages"]]}
        for b in stats["milp_blocks"]
    ]
    return out


def same_with_start(inst: models.Instance, start: Start, byte_identical: bool = True, **options: object) -> None:
    """Solving with ``start`` gives the status, optimum and chosen pairs of solving without it.

    ``byte_identical``: and the same plan, byte for byte (else the same but for the
    search's statistics, :data:`SEARCH_STATS`).
    """
    plain = solve(inst, **options)  # type: ignore[arg-type]
    warm = solve(inst, start=start, **options)  # type: ignore[arg-type]
    assert warm.status == plain.status
    assert warm.housed_by_priority == plain.housed_by_priority
    assert (warm.total_score, warm.value, warm.bound, warm.gap) == (
        plain.total_score,
        plain.value,
        plain.bound,
        plain.gap,
    )
    assert np.array_equal(warm.chosen.citizen, plain.chosen.citizen)
    assert np.array_equal(warm.chosen.unit, plain.chosen.unit)
    if byte_identical:
        assert warm.stats == plain.stats
        assert plan_text(inst, warm) == plan_text(inst, plain)
    else:
        assert without_search(warm.stats) == without_search(plain.stats)
        plan_text(inst, warm)  # the checker passes it


def two_on_one_unit() -> dict:
    """Citizens a (priority 1) and b (priority 2) who both fit unit u; c fits nothing."""
    return doc(
        [{"id": "a", "priority": 1}, {"id": "b", "priority": 2}, {"id": "c", "max_rent_kr": 100}],
        [{"id": "u"}],
    )


def test_start_of_a_plan_and_of_pairs():
    inst = models.from_dict(two_on_one_unit())
    plan = make_plan(solve(inst))
    assert start_of(plan) == frozenset({("a", "u")}) == solve(inst).start()
    assert start_of([("a", "u")]) == frozenset({("a", "u")})


def test_pairs_that_are_no_columns_are_left_out():
    """Unknown ids and ineligible pairs (c cannot afford u) never enter the start."""
    inst = models.from_dict(two_on_one_unit())
    assert mapped(inst, frozenset({("c", "u"), ("nobody", "u"), ("a", "nowhere")})) == set()
    assert mapped(inst, frozenset({("b", "u")})) == {("b", "u")}


def test_a_broken_row_keeps_its_most_valuable_pair():
    """Two citizens in one unit: the less urgent one (b, priority 2) is dropped."""
    inst = models.from_dict(two_on_one_unit())
    assert mapped(inst, frozenset({("a", "u"), ("b", "u")})) == {("a", "u")}


def test_a_full_frame_drops_the_least_valuable_subsidised_pair():
    """A frame of 1 and two subsidised pairs in the start: the less urgent one goes, the unsubsidised one stays."""
    citizens = [
        {"id": "a", "priority": 2, "subsidy_eligible": True, "max_rent_kr": 4000},
        {"id": "b", "priority": 1, "subsidy_eligible": True, "max_rent_kr": 4000},
        {"id": "c", "priority": 3},
    ]
    d = doc(citizens, [{"id": "u0", "rent_kr": 5000}, {"id": "u1", "rent_kr": 5000}, {"id": "u2"}])
    d["municipalities"][0]["subsidy_frame"] = 1
    inst = models.from_dict(d)
    start = frozenset({("a", "u0"), ("b", "u1"), ("c", "u2")})
    assert mapped(inst, start) == {("b", "u1"), ("c", "u2")}
    same_with_start(inst, start)


def test_repair_is_one_pass_and_keeps_feasible_plans():
    """A feasible plan is kept as it is; repairing twice changes nothing."""
    inst = models.from_dict(two_on_one_unit())
    data, milp = model_of(inst)
    x = np.ones(milp.n_cols, np.int8)
    once = repaired(data, milp, x)
    assert np.array_equal(repaired(data, milp, once), once)
    assert int(once.sum()) == 1


def test_a_start_the_repair_cannot_mend_is_no_start():
    """A model whose row has a lower bound the start misses (none has today): no start at all."""
    from dataclasses import replace

    inst = models.from_dict(two_on_one_unit())
    data, milp = model_of(inst)
    assert milp.n_rows == 1  # the unit's row
    assert start_columns(data, milp, frozenset({("a", "u")})).sum() == 1
    strict = replace(milp, row_lo=np.array([2.0]), row_hi=np.array([2.0]))
    assert start_columns(data, strict, frozenset({("a", "u")})).sum() == 0


def test_locked_pairs_are_not_in_the_start():
    """A pair an override locks is fixed, not a column: the start's copy of it is left out, and
    a start pair that would take a locked citizen's or unit's place is too."""
    d = two_on_one_unit()
    d["units"].append({"id": "v", "department": "D", "rooms": 2, "rent_kr": 3000})
    d["overrides"] = [{"action": "lock", "citizen": "b", "unit": "u"}]
    inst = models.from_dict(d)
    assert mapped(inst, frozenset({("b", "u"), ("a", "u"), ("a", "v")})) == {("a", "v")}
    same_with_start(inst, frozenset({("b", "u"), ("a", "u")}))


@pytest.mark.parametrize("path", worked_examples())
@pytest.mark.parametrize("backend", ["auto", "highs", "cpsat", "cbc"])
def test_worked_examples_same_with_any_start(path, backend):
    """The optimum itself, every eligible pair at once (breaking every row), and nothing at all.

    Byte-identical plans but on CP-SAT, whose hints steer its search: there only the
    branch counts may differ.
    """
    inst = models.load(path)
    data, _ = model_of(inst)
    pairs = eligible_pairs(data)
    everything = chosen_start(data, pairs)
    for start in (solve(inst, backend=backend).start(), everything, frozenset()):
        same_with_start(inst, start, byte_identical=backend != "cpsat", backend=backend)


def test_the_demo_byte_identical_with_its_own_and_a_shifted_optimum():
    """The demo's optimum, and the same plan with every citizen moved to the next unit's place."""
    from pathlib import Path

    inst = models.load(Path(__file__).resolve().parents[2] / "instances" / "demo-week.json")
    best = sorted(solve(inst).start())
    shifted = frozenset((c, best[(k + 1) % len(best)][1]) for k, (c, _) in enumerate(best))
    for start in (frozenset(best), shifted):
        same_with_start(inst, start)


@settings(max_examples=80, **SETTINGS)
@given(documents(), st.data())
def test_random_instances_byte_identical_with_random_starts(d, draw):
    """Any subset of the eligible pairs (most of them infeasible together) and the optimum."""
    inst = models.from_dict(d)
    data, _ = model_of(inst)
    pairs = eligible_pairs(data)
    keep = draw.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    subset = chosen_start(data, pairs.take(np.array(keep, bool)))
    same_with_start(inst, subset)
    same_with_start(inst, solve(inst).start())


@pytest.mark.parametrize("preset, seed, scale", [("small", 1, 1.0), ("city-week", 0, 0.15), ("hard-city", 1, 0.3)])
def test_column_generation_same_optimum_with_a_start(monkeypatch, preset, seed, scale):
    """Blocks solved by column generation: the start's pairs join the first priced set, which
    changes the rounds and columns used, never the optimum or the chosen pairs."""
    from optimizer.sim.generate import generate

    monkeypatch.setattr(solve_mod, "MIN_COLUMNS", 1)  # price every block
    inst = models.from_dict(generate(preset, seed=seed, scale=scale))
    result = solve(inst, backend="highs")  # (auto: matchings and aggregates first)
    assert any(b["backend"] == "highs+pricing" for b in result.stats["milp_blocks"]), "pricing was not used"
    best = sorted(result.start())
    shifted = frozenset((c, best[(k + 1) % len(best)][1]) for k, (c, _) in enumerate(best))
    for start in (frozenset(best), shifted):
        same_with_start(inst, start, byte_identical=False, backend="highs")


def test_a_backend_without_warm_starts_is_given_none(monkeypatch):
    """Where a backend's Capabilities say it takes no start, the stage driver gets none."""
    seen: list[object] = []
    real = solve_mod._stages

    def spy(data, milp, backend, deadline, start=None):
        seen.append(start)
        return real(data, milp, backend, deadline, start)

    monkeypatch.setattr(solve_mod, "_stages", spy)
    inst = models.from_dict(two_on_one_unit())
    solve(inst, backend="highs", start=frozenset({("a", "u")}))
    assert seen and seen[-1] is not None
    cold = Capabilities(
        duals=True, warm_start=False, mip_bound=True, deterministic=True, add_columns=True, concurrent_sessions=True
    )
    monkeypatch.setattr(solve_mod, "capabilities", lambda name: cold)
    seen.clear()
    solve(inst, backend="highs", start=frozenset({("a", "u")}))
    assert seen == [None]
