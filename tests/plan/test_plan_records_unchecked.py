"""make_plan builds its assignment and unassigned records without validating each one
(``model_construct``: they come from validated data); the plan is exactly the validated one."""

from __future__ import annotations

import json

import pytest

import models
from models.plan import Plan
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.sim.generate import generate

from conftest import worked_examples


def documents() -> list:
    cases = [pytest.param(generate(p, seed=2, scale=0.1), id=p) for p in ("national-week", "city-week", "hard-city")]
    return cases + [pytest.param(json.loads(e.values[0].read_text()), id=e.id) for e in worked_examples()]


@pytest.mark.parametrize("document", documents())
def test_plan_equals_the_validated_plan_byte_for_byte(document):
    plan = make_plan(solve(models.from_dict(document)))
    validated = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert plan == validated
    assert json.dumps(plan.to_dict()) == json.dumps(validated.to_dict())
    assert plan.unassigned or plan.assignments  # something was built
