"""``ProblemData.build``: the instance's columns, preference and exclusion keys, as the plain loops give them."""

from __future__ import annotations

import numpy as np
import pytest

import models
from optimizer.engine.data import AREA_BIT, KIND_BIT, NO_LIMIT, ProblemData
from optimizer.sim.generate import generate

from conftest import doc


def oracle(inst) -> dict[str, np.ndarray]:
    """The arrays by one Python loop per citizen (the form ``build`` had before it was vectorised)."""
    depts = {d.id: i for i, d in enumerate(inst.departments)}
    nd = len(depts)
    excl, pref, weight = [], [], []
    pref_max = np.zeros(len(inst.citizens))
    for i, c in enumerate(inst.citizens):
        excl.extend(i * nd + depts[d] for d in c.excluded_departments)
        best: dict[int, float] = {}
        for pr in c.preferences:
            k = i * nd + depts[pr.department]
            best[k] = max(best.get(k, 0.0), pr.weight)
        pref.extend(best)
        weight.extend(best.values())
        pref_max[i] = max(best.values(), default=0.0)
    order = np.argsort(np.array(pref, dtype=np.int64), kind="stable")
    C = inst.citizens
    return {
        "excluded_keys": np.unique(np.array(excl, dtype=np.int64)),
        "pref_keys": np.array(pref, dtype=np.int64)[order],
        "pref_weight": np.array(weight, dtype=float)[order],
        "pref_max": pref_max,
        "c_prio": np.array([c.priority for c in C], np.int64),
        "c_max_rooms": np.array([NO_LIMIT if c.max_rooms is None else c.max_rooms for c in C], np.int64),
        "c_kinds": np.array([sum(KIND_BIT[k] for k in set(c.kinds)) for c in C], np.int8),
        "c_barred": np.array([sum(AREA_BIT[a] for a in set(c.barred_areas)) for c in C], np.int8),
        "c_max_rent": np.array([c.max_rent_kr for c in C], float),
        "c_vulnerable": np.array([c.vulnerable for c in C], bool),
        "u_kind": np.array([KIND_BIT[u.kind] for u in inst.units], np.int8),
        "u_rent": np.array([u.rent_kr for u in inst.units], float),
        "dept_cap": np.array(
            [NO_LIMIT if d.max_vulnerable is None else d.max_vulnerable for d in inst.departments], np.int64
        ),
        "region_quota": np.array(
            [NO_LIMIT if r.grant_quota is None else r.grant_quota for r in inst.regions], np.int64
        ),
    }


def assert_as_oracle(inst) -> ProblemData:
    data = ProblemData.build(inst)
    for name, expected in oracle(inst).items():
        got = getattr(data, name)
        assert got.dtype == expected.dtype and np.array_equal(got, expected), name
    return data


def test_repeated_preferences_and_exclusions_count_once_with_the_larger_weight():
    d = doc(
        [
            {"id": "a", "preferences": [{"department": "E", "weight": 2.0}, {"department": "D", "weight": 5.0}]},
            {"id": "b"},
            {
                "id": "c",
                "excluded_departments": ["E", "D", "E"],
                "preferences": [{"department": "D", "weight": 1.5}, {"department": "D", "weight": 4.0}],
                "kinds": ["youth", "family", "youth"],
                "barred_areas": ["prevention", "prevention"],
                "max_rooms": 3,
            },
        ],
        [{"id": "u1"}, {"id": "u2", "department": "E"}],
        departments=[
            {"id": "D", "organisation": "O", "municipality": "M"},
            {"id": "E", "organisation": "O", "municipality": "M", "max_vulnerable": 2},
        ],
    )
    data = assert_as_oracle(models.from_dict(d))
    # keys citizen * 2 + department (D = 0, E = 1)
    assert data.pref_keys.tolist() == [0, 1, 4] and data.pref_weight.tolist() == [5.0, 2.0, 4.0]
    assert data.pref_max.tolist() == [5.0, 0.0, 4.0]
    assert data.excluded_keys.tolist() == [4, 5]
    assert data.c_kinds.tolist() == [KIND_BIT["family"]] * 2 + [KIND_BIT["family"] | KIND_BIT["youth"]]
    assert data.c_max_rooms.tolist() == [NO_LIMIT, NO_LIMIT, 3]


def test_no_preferences_or_exclusions_at_all():
    data = assert_as_oracle(models.from_dict(doc([{"id": "a"}, {"id": "b"}], [{"id": "u"}])))
    assert len(data.pref_keys) == len(data.pref_weight) == len(data.excluded_keys) == 0
    assert data.pref_weight.dtype == float and data.pref_max.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("preset", "seed", "scale"), [("small", 2, 1.0), ("city-week", 0, 0.3), ("hard-national", 1, 0.1)]
)
def test_generated_instances_as_the_loops_give_them(preset, seed, scale):
    data = assert_as_oracle(models.from_dict(generate(preset, seed=seed, scale=scale)))
    assert len(data.pref_keys) > 0  # the comparison covers preferences


def test_unique_rows_is_numpys():
    """The distinct rows, each one's first row and each row's index, as np.unique with an axis gives them."""
    from optimizer.engine.data import unique_rows

    rng = np.random.default_rng(0)
    for shape in ((0, 3), (1, 1), (50, 4), (300, 2)):
        table = rng.integers(-2, 3, shape)
        first, which = unique_rows(table.T)
        expected, index, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
        assert np.array_equal(table[first], expected.reshape(-1, shape[1]))
        assert np.array_equal(first, index)
        assert np.array_equal(which, inverse.ravel())


def test_unique_rows_of_columns_of_different_dtypes():
    """Columns need not share a dtype (no stacked table is made): classes of equal rows, first rows first."""
    from optimizer.engine.data import unique_rows

    a = np.array([3, 1, 3, 1, 2], np.int64)
    b = np.array([0.5, 0.5, 0.5, 1.5, 0.5])
    first, which = unique_rows((a, b))
    assert first.tolist() == [1, 3, 4, 0] and which.tolist() == [3, 0, 3, 1, 2]


def test_problem_datas_written_out_init_takes_every_field_in_order_and_stays_frozen():
    """``ProblemData.__init__`` is written out (not generated): its parameters are the fields, in order."""
    import dataclasses
    import inspect

    names = [f.name for f in dataclasses.fields(ProblemData)]
    assert list(inspect.signature(ProblemData.__init__).parameters)[1:] == names
    data = ProblemData.build(models.from_dict(doc([{"id": "c1"}], [{"id": "u1"}]), "t"))
    assert [getattr(data, n) is not None for n in names] == [True] * len(names)
    again = ProblemData(*(getattr(data, n) for n in names))  # positionally, as a generated __init__ takes them
    assert all(getattr(again, n) is getattr(data, n) for n in names)
    changed = dataclasses.replace(data, pool_cap=data.pool_cap + 1)
    assert changed.pool_cap.tolist() == (data.pool_cap + 1).tolist() and changed.u_rent is data.u_rent
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.c_prio = data.c_prio  # type: ignore[misc]
