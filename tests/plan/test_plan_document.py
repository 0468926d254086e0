"""``Plan.to_dict`` (pydantic's JSON writer and ``json.loads``) is ``model_dump(mode="json")`` exactly."""

from __future__ import annotations

import json

import pytest

import models
from models.io import dump_json
from models.plan import Objective, Plan
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.sim.generate import generate

from conftest import worked_examples


def documents() -> list:
    cases = [
        pytest.param(generate(p, seed=3, scale=0.1, format=f), id=f"{p}-{f}")
        for p in ("national-week", "hard-city")
        for f in ("anvis/1", "anvis/2")
    ]
    return cases + [pytest.param(json.loads(e.values[0].read_text()), id=e.id) for e in worked_examples()]


def reference(plan: Plan) -> dict:
    """The document as it was computed before."""
    return plan.model_dump(mode="json", exclude_unset=True)


def same_text(a: dict, b: dict) -> bool:
    """Equal as JSON text: an int and an equal float differ (``4800`` is not ``4800.0``)."""
    return json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


@pytest.mark.parametrize("document", documents())
def test_plan_document_is_model_dump(document):
    plan = make_plan(solve(models.from_dict(document)))
    assert plan.assignments or plan.unassigned
    assert same_text(plan.to_dict(), reference(plan))
    read_back = Plan.from_dict(plan.to_dict())  # fields the engine leaves unset stay unset
    assert same_text(read_back.to_dict(), reference(read_back))


@pytest.mark.parametrize(
    "score", [0.1 + 0.2, 1e-7, 1e16, 2.0**70, -0.0, 4800.0, 4800, 5e-324, 1.7976931348623157e308, 10**30]
)
def test_numbers_keep_their_kind_and_value(score):
    obj = Objective(housed_by_priority={"1": 2}, total_score=score)
    doc = {"objective": obj}
    plan_like = Plan.model_construct(**doc)
    assert same_text(plan_like.to_dict(), reference(plan_like))
    assert repr(plan_like.to_dict()["objective"]["total_score"]) == repr(score)


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_a_non_finite_number_is_refused_by_the_writer_as_before(bad):
    """Never written as ``null``: the strict writer refuses it, as it refused ``model_dump``'s."""
    plan = Plan.model_construct(objective=Objective.model_construct(housed_by_priority={"1": 1}, total_score=bad))
    doc = plan.to_dict()
    assert same_text(doc, reference(plan))
    with pytest.raises(ValueError):
        dump_json(doc)


@pytest.mark.parametrize("score", [4800, 4800.0, 0.1 + 0.2, -0.0, 10**30, 1e-7])
def test_numbers_are_written_by_their_kind_in_json_bytes(score):
    """A number field writes an int as an int and a float as a float (by its type, not a Python
    writer per value): json_bytes is the document's text; validation still refuses a bool."""
    from models.plan import Assignment

    rows = [{"citizen": "c", "unit": "u", "subsidised": False, "effective_rent_kr": score, "score": score}]
    plan = Plan.from_dict(
        {
            "format": "anvis-plan/1",
            "instance": "t",
            "status": "optimal",
            "objective": {"housed_by_priority": {"1": 1}, "total_score": score},
            "assignments": rows,
            "unassigned": [],
            "bound": score,
        }
    )
    assert plan.json_bytes() == dump_json(plan.to_dict()).encode()
    assert repr(plan.to_dict()["assignments"][0]["score"]) == repr(score)
    with pytest.raises(models.InstanceError):
        Plan.from_dict({**plan.to_dict(), "bound": True})
    assert Assignment.model_json_schema()["properties"]["score"] == {
        "anyOf": [{"type": "integer"}, {"type": "number"}],
        "title": "Score",
    }
