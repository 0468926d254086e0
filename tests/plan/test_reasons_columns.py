"""The reasons and usage built from columns (optimizer.plan) equal those built record by record.

The reference is the code of ede7fa6, kept in ``reference_reasons``: every record, its
fields in order and the fields it sets, for generated instances of several presets and
seeds, planner overrides, and plans cut short (free units named).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference_reasons import (
    reference_blocked_by,
    reference_no_eligible_all,
    reference_plan_usage,
    reference_unassigned_reasons,
)

import models
from models.plan import Assignment, Unassigned
from optimizer.engine.solve import Result, solve
from optimizer.plan import reasons
from optimizer.plan.records import construct, dict_rows
from optimizer.plan.usage import count_used, plan_usage
from optimizer.sim.generate import generate

from conftest import doc


def same_records(new: tuple[Unassigned, ...], old: tuple[Unassigned, ...]) -> None:
    assert [u.model_dump_json(exclude_unset=True) for u in new] == [u.model_dump_json(exclude_unset=True) for u in old]
    assert [list(vars(u).items()) for u in new] == [list(vars(u).items()) for u in old]
    assert [u.model_fields_set for u in new] == [u.model_fields_set for u in old]
    assert [u.__pydantic_extra__ for u in new] == [u.__pydantic_extra__ for u in old]


def compare(result: Result) -> tuple[Unassigned, ...]:
    data, ch = result.data, result.chosen
    used = count_used(data, ch.citizen, ch.unit, ch.subsidised)
    new = reasons.unassigned_reasons(data, result, used)
    same_records(new, reference_unassigned_reasons(data, result, used))
    usage, expected = plan_usage(data, used), reference_plan_usage(data, used)
    assert usage.model_dump_json(exclude_unset=True) == expected.model_dump_json(exclude_unset=True)
    for table in ("pools", "departments", "frames", "quotas"):
        mine, theirs = getattr(usage, table), getattr(expected, table)
        assert [list(vars(r).items()) for r in mine] == [list(vars(r).items()) for r in theirs]
        assert [r.model_fields_set for r in mine] == [r.model_fields_set for r in theirs]
    return new


def cut_short(result: Result) -> Result:
    """The result with every third assignment undone: as a solve stopped early might leave it."""
    keep = np.arange(len(result.chosen.citizen)) % 3 != 0
    return dataclasses.replace(result, chosen=result.chosen.take(keep))


CASES = [
    pytest.param(preset, seed, fmt, scale, id=f"{preset}-{seed}-{fmt}")
    for preset, scale in (("tiny", 1.0), ("small", 1.0), ("national-week", 0.1), ("city-week", 0.2), ("hard-city", 0.1))
    for seed in (0, 1, 2)
    for fmt in ("anvis/1", "anvis/2")
]


@pytest.mark.parametrize(("preset", "seed", "fmt", "scale"), CASES)
def test_reasons_equal_the_citizen_by_citizen_reference(preset, seed, fmt, scale):
    result = solve(models.from_dict(generate(preset, seed=seed, scale=scale, format=fmt)))
    new = compare(result)
    short = compare(cut_short(result))
    assert len(short) >= len(new)


def test_every_code_and_every_part_of_a_reason_is_compared():
    """Across the generated cases the reference is compared on every code, free units and caps included."""
    seen: set[str] = set()
    parts: set[str] = set()
    for preset, seed in (("small", 0), ("small", 1), ("national-week", 0)):
        result = solve(models.from_dict(generate(preset, seed=seed, scale=0.1 if preset != "small" else 1.0)))
        for r in (result, cut_short(result)):
            for u in compare(r):
                seen.add(u.code or "")
                parts.update(
                    p for p in ("blocked by a full cap", "still free", "more urgent", "equal or lower") if p in u.reason
                )
    assert seen == set(reasons.CODES)
    assert parts == {"blocked by a full cap", "still free", "more urgent", "equal or lower"}


def test_reasons_with_planner_overrides_equal_the_reference():
    """Forbidden and reserved units are counted in the reason and its details, as the reference counts them."""
    citizens = [{"id": f"c{i}", "priority": 1 + i % 3, "vulnerable": i % 2 == 0} for i in range(8)]
    units = [{"id": f"u{i}", "department": "D2" if i % 2 else "D"} for i in range(5)]
    d = doc(
        citizens,
        units,
        departments=[
            {"id": "D", "organisation": "O", "municipality": "M"},
            {"id": "D2", "organisation": "O", "municipality": "M", "max_vulnerable": 1},
        ],
        overrides=[
            {"action": "forbid", "citizen": "c5", "unit": "u0"},
            {"action": "forbid", "citizen": "c7", "unit": "u1"},
            {"action": "reserve", "unit": "u4"},
            {"action": "lock", "citizen": "c6", "unit": "u3"},
        ],
    )
    result = solve(models.from_dict(d))
    new = compare(result)
    assert any("excluded_by_overrides" in (u.details or {}) for u in new)
    compare(cut_short(result))


def test_blocked_by_and_no_eligible_all_equal_the_reference():
    result = solve(models.from_dict(generate("national-week", seed=0, scale=0.1)))
    data, ch = result.data, result.chosen
    used = count_used(data, ch.citizen, ch.unit, ch.subsidised)
    mine = result.pairs.take(~np.isin(result.pairs.citizen, ch.citizen))
    f = reasons.fates(
        data,
        used,
        np.full(data.n_units, -1),
        mine.citizen.astype(np.int64),
        mine.unit.astype(np.int64),
        mine.subsidised,
    )
    assert reasons.blocked_by(data, used, f) == reference_blocked_by(data, used, f)
    every = np.arange(data.n_citizens)
    assert reasons.no_eligible_all(data, every) == reference_no_eligible_all(data, every)
    assert reasons.no_eligible_all(data, every[:0]) == reference_no_eligible_all(data, every[:0]) == []


@pytest.mark.parametrize(
    "rows",
    [
        [
            {"citizen": "a", "reason": "r"},
            {"citizen": "b", "priority": 2, "code": "outranked", "reason": "s", "details": {"x": [1]}},
        ],
        [],
    ],
)
def test_construct_builds_what_model_construct_builds(rows):
    new = construct(Unassigned, rows)
    old = [Unassigned.model_construct(**r) for r in rows]
    same_records(tuple(new), tuple(old))
    assert all(type(u) is Unassigned for u in new)
    a = {"citizen": "c", "unit": "u", "subsidised": False, "effective_rent_kr": 4000, "score": 1.5, "locked": True}
    (fast,) = construct(Assignment, [a])
    slow = Assignment.model_construct(**a)
    assert list(vars(fast).items()) == list(vars(slow).items()) and fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump_json(exclude_unset=True) == slow.model_dump_json(exclude_unset=True)
    assert fast == slow and hash(fast) == hash(slow)


def test_construct_leaves_rows_it_cannot_build_exactly_to_model_construct():
    """A row missing a required field or naming an unknown one: built as model_construct builds it."""
    rows = [{"citizen": "a"}, {"citizen": "b", "reason": "r", "extra_field": 1}]
    new = construct(Unassigned, rows)
    old = [Unassigned.model_construct(**r) for r in rows]
    assert [(vars(u), u.model_fields_set, u.__pydantic_extra__) for u in new] == [
        (vars(u), u.model_fields_set, u.__pydantic_extra__) for u in old
    ]


def test_construct_leaves_classes_it_cannot_build_exactly_to_model_construct():
    """Default factories, aliases, private attributes: model_construct builds them, rows and all."""
    from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

    class Factory(BaseModel):
        model_config = ConfigDict(frozen=True)
        a: int
        b: list[int] = Field(default_factory=list)

    class Aliased(BaseModel):
        a: int = Field(alias="A")

    class Private(BaseModel):
        a: int
        _p: int = PrivateAttr(default=3)

    for cls, rows in ((Factory, [{"a": 1}, {"a": 2}]), (Aliased, [{"A": 1}]), (Private, [{"a": 1}])):
        new, old = construct(cls, rows), [cls.model_construct(**r) for r in rows]
        assert [(vars(n), n.model_fields_set) for n in new] == [(vars(o), o.model_fields_set) for o in old]
    first, second = construct(Factory, [{"a": 1}, {"a": 2}])
    assert first.b is not second.b  # each record its own list, as the factory gives it


def test_dict_rows_are_the_rows_of_the_columns():
    rows = dict_rows(("a", "b"), [1, 2], iter(["x", "y"]))
    assert rows == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert rows[0] is not rows[1] and dict_rows(("a",), []) == []
    with pytest.raises(ValueError):  # columns of other lengths: an error, not rows cut short
        dict_rows(("a", "b"), [1, 2], [3])


def test_dict_rows_of_any_string_keys_and_widths():
    """Keys written as literals into the builder: any string, one key, no key; the same as dict(zip(...))."""
    keys = ("a", "it's", 'say "x"', "back\\slash", "ø\n", "a")
    columns = [list(range(i, i + 3)) for i in range(len(keys))]
    assert dict_rows(keys, *columns) == [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]
    assert dict_rows(("only",), ["x", "y"]) == [{"only": "x"}, {"only": "y"}]
    assert (
        dict_rows(
            (),
        )
        == []
    )
    with pytest.raises(TypeError):
        dict_rows((1, "b"), [1], [2])  # type: ignore[arg-type]


@given(
    st.lists(
        st.fixed_dictionaries(
            {"citizen": st.text(max_size=3), "reason": st.text(max_size=3)},
            optional={"priority": st.integers(1, 3), "code": st.sampled_from(["outranked", "capacity"])},
        ),
        max_size=6,
    )
)
def test_construct_with_known_keys_builds_what_model_construct_builds(rows):
    """Rows of one shape handed over with their keys: records as model_construct builds them, sets their own."""
    for shape in {tuple(r) for r in rows}:
        same = [r for r in rows if tuple(r) == shape]
        new = construct(Unassigned, [dict(r) for r in same], shape)
        old = [Unassigned.model_construct(**r) for r in same]
        assert [(list(vars(u).items()), u.model_fields_set, u.__pydantic_extra__) for u in new] == [
            (list(vars(u).items()), u.model_fields_set, u.__pydantic_extra__) for u in old
        ]
        assert len({id(u.model_fields_set) for u in new}) == len(new)
