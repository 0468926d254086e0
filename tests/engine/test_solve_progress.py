"""Progress reports of a solve: stages in order, fractions rising, silent by default, same plan."""

from __future__ import annotations

import pytest

import models
from optimizer.engine import solve as solve_mod
from optimizer.engine.methods import pricing
from optimizer.engine.solve import solve
from optimizer.engine.stages import reporting
from optimizer.plan.build import make_plan
from optimizer.sim.generate import generate

from conftest import doc, solved


def three_priorities() -> dict:
    """Three priorities competing for two units in one pool with a cap: one block, three stages."""
    citizens = [
        {"id": "secret-a", "priority": 1},
        {"id": "secret-b", "priority": 2},
        {"id": "secret-c", "priority": 3, "max_rent_kr": 2500},
    ]
    units = [{"id": "u1"}, {"id": "u2", "rent_kr": 2000}]
    return doc(citizens, units)


def events_of(document: dict, **options) -> tuple[list[tuple[str, float | None]], dict]:
    events: list[tuple[str, float | None]] = []
    inst = models.from_dict(document)
    plan = make_plan(solve(inst, progress=lambda m, f: events.append((m, f)), **options)).to_dict()
    return events, plan


@pytest.mark.parametrize("backend", ["highs", "cpsat", "cbc"])
def test_the_callback_gets_the_stages_in_order(backend):
    """Preparing, the block, each lexicographic stage in order, then the end; fractions never go back."""
    events, plan = events_of(three_priorities(), backend=backend)
    messages = [m for m, _ in events]
    assert messages[0].startswith("preparing 3 citizens and 2 units")
    assert messages[-1] == "solved: optimal"
    stages = [m.split(": ")[0] for m in messages if m.endswith(": optimal") and not m.startswith("solved")]
    assert stages[-1] == "total score"
    assert stages[0].startswith("housed priority 1")
    fractions = [f for _, f in events if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] == 0.0
    # the plan is the same with and without a listener
    assert plan == solved(three_priorities(), backend=backend)


def test_messages_name_stages_and_counts_never_citizens():
    events, _ = events_of(three_priorities(), backend="highs")
    assert events and not any("secret" in m for m, _ in events)


def test_separate_stages_each_reported(monkeypatch):
    """When priorities cannot be packed into one stage, each gets its own message, most urgent first."""
    monkeypatch.setattr(solve_mod, "PACK_LIMIT", 1)
    events, _ = events_of(three_priorities(), backend="highs")
    stages = [m.split(": ")[0] for m, _ in events if m.endswith(": optimal") and not m.startswith("solved")]
    assert stages == ["housed priority 1", "housed priority 2", "housed priority 3", "total score"]


def test_column_generation_reports_its_stages_and_rounds(monkeypatch):
    """Stages solved by column generation report through the same log (with their pricing rounds)."""
    monkeypatch.setattr(solve_mod, "MIN_COLUMNS", 1)
    monkeypatch.setattr(pricing, "START_PER_CITIZEN", 1)
    monkeypatch.setattr(pricing, "START_PER_UNIT", 1)
    events, plan = events_of(generate("small", seed=1), backend="highs")
    assert any(b["backend"] == "highs+pricing" for b in plan["solver"]["milp_blocks"])
    assert any("column generation" in m for m, _ in events)
    assert any("pricing round" in m and "total score" in m for m, _ in events)


def test_silent_by_default_and_a_nested_solve_keeps_to_its_own_listener():
    """A solve without a callback inside another's reporting context tells that listener nothing."""
    heard: list[str] = []
    inst = models.from_dict(three_priorities())
    with reporting(lambda m, f: heard.append(m)):
        solve(inst, backend="highs")
    assert heard == []
