"""The typed plan (models.plan.Plan): built by make_plan, written and read back byte for byte."""

from __future__ import annotations

import json

import pytest

import models
from models.io import dump_json
from models.plan import Assignment, Plan
from optimizer.engine.solve import solve
from optimizer.plan.build import make_plan
from optimizer.sim.generate import generate

from conftest import doc


def test_make_plan_returns_a_typed_plan_that_round_trips_byte_for_byte():
    """make_plan gives a Plan; to_dict -> JSON -> from_dict -> to_dict writes the same bytes."""
    inst = models.from_dict(generate("small", seed=3))
    plan = make_plan(solve(inst))
    assert isinstance(plan, Plan) and isinstance(plan.assignments[0], Assignment)
    text = dump_json(plan.to_dict())
    again = Plan.from_dict(json.loads(text))
    assert again == plan
    assert dump_json(again.to_dict()) == text
    assert list(plan.to_dict())[:6] == ["format", "instance", "status", "objective", "assignments", "unassigned"]


def test_optional_fields_appear_only_where_the_engine_writes_them():
    """locked, objective.value and overrides are written only when set; bound and gap always (null allowed)."""
    d = doc([{"id": "a"}, {"id": "b", "priority": 2}], [{"id": "u1"}, {"id": "u2"}])
    d["overrides"] = [{"action": "lock", "citizen": "b", "unit": "u2"}]
    out = make_plan(solve(models.from_dict(d))).to_dict()
    by = {a["citizen"]: a for a in out["assignments"]}
    assert by["b"]["locked"] is True and "locked" not in by["a"]
    assert out["overrides"] == [{"action": "lock", "unit": "u2", "citizen": "b", "note": ""}]
    assert "value" not in out["objective"]
    assert "bound" in out and "gap" in out
    plain = make_plan(solve(models.from_dict(doc([{"id": "a"}], [{"id": "u1"}])))).to_dict()
    assert "overrides" not in plain and "locked" not in plain["assignments"][0]


def test_numbers_keep_their_kind_and_unknown_fields_are_kept():
    """An int stays an int (3286, not 3286.0) and fields FORMAT.md lets others add survive the round trip."""
    d = {
        "format": "anvis-plan/1",
        "instance": "x",
        "status": "optimal",
        "objective": {"housed_by_priority": {"1": 1}, "total_score": 70},
        "assignments": [{"citizen": "a", "unit": "u", "subsidised": True, "effective_rent_kr": 3286, "score": 70.0}],
        "unassigned": [{"citizen": "b", "code": "declined", "reason": "declined", "details": {"unit": "v"}}],
        "declined": [{"citizen": "b", "unit": "v"}],
    }
    assert Plan.from_dict(d).to_dict() == d
    assert json.dumps(Plan.from_dict(d).to_dict()) == json.dumps(d)


@pytest.mark.parametrize(
    "path, value, where",
    [
        (("assignments", 0, "score"), "77", "assignments[0].score"),
        (("assignments", 0, "subsidised"), 1, "assignments[0].subsidised"),
        (("status",), "done", "status"),
        (("objective", "housed_by_priority"), [], "objective.housed_by_priority"),
    ],
)
def test_a_malformed_plan_is_refused_naming_the_field(path, value, where):
    """from_dict raises InstanceError whose problems name the field path."""
    inst = models.from_dict(doc([{"id": "a"}], [{"id": "u1"}]))
    d = make_plan(solve(inst)).to_dict()
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(models.InstanceError) as exc:
        Plan.from_dict(d, "p.json")
    assert any(p.path.startswith(where) for p in exc.value.problems), exc.value.problems
    assert str(exc.value).startswith("p.json: ")


def test_plan_is_immutable_and_exported():
    """A Plan cannot be changed in place; models re-exports Plan and default_pool_id."""
    plan = make_plan(solve(models.from_dict(doc([{"id": "a"}], [{"id": "u1"}]))))
    with pytest.raises(Exception, match="frozen"):
        plan.status = "error"  # type: ignore[misc]
    assert models.Plan is Plan
    assert models.default_pool_id("101", "fsb") == "default:101:fsb"


def test_a_bad_number_is_one_problem_at_the_fields_own_path():
    """A number field holding a string or a bool is one problem named by the field's path alone."""
    inst = models.from_dict(doc([{"id": "a"}], [{"id": "u1"}]))
    d = make_plan(solve(inst)).to_dict()
    d["assignments"][0]["score"] = "77"
    d["objective"]["total_score"] = True
    with pytest.raises(models.InstanceError) as exc:
        Plan.from_dict(d, "p.json")
    assert sorted(p.path for p in exc.value.problems) == ["assignments[0].score", "objective.total_score"]


@pytest.mark.parametrize("name", ["plan.json", "plan.xlsx", "plan"])
def test_write_plan_takes_a_plan_and_writes_what_its_document_gives(tmp_path, name):
    """models.write_plan of a Plan writes the same JSON, workbook or CSV folder as of its to_dict()."""
    inst = models.from_dict(generate("tiny", seed=0))
    plan = make_plan(solve(inst))
    (tmp_path / "typed").mkdir()
    (tmp_path / "doc").mkdir()
    models.write_plan(plan, tmp_path / "typed" / name)
    models.write_plan(plan.to_dict(), tmp_path / "doc" / name)
    typed = sorted(p.relative_to(tmp_path / "typed") for p in (tmp_path / "typed").rglob("*") if p.is_file())
    docs = sorted(p.relative_to(tmp_path / "doc") for p in (tmp_path / "doc").rglob("*") if p.is_file())
    assert typed == docs and typed
    for rel in typed:
        assert (tmp_path / "typed" / rel).read_bytes() == (tmp_path / "doc" / rel).read_bytes(), rel
    if name == "plan.json":
        assert Plan.from_dict(json.loads((tmp_path / "typed" / name).read_text())) == plan
