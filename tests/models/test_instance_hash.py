"""``Instance.sha256`` writes the scores column-wise to the text ``json.dumps`` of the records gives."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import models
from models.instance import Scores

from conftest import doc


def plain(inst: models.Instance) -> str:
    text = json.dumps(inst.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    "values",
    [
        [4800.0, 0.0, 17.0],  # all whole: the int64 path
        [0.5, 1e-7, 12345678.125],  # none whole: the repr path
        [4800.0, 0.25, 3.0],  # mixed: row by row
        [1e300, 2.0**63, 5.0],  # whole but beyond int64: row by row, exactly as int() writes them
        [],
    ],
)
def test_sha256_of_score_columns_is_that_of_the_records(values):
    base = models.from_dict(doc([{"id": "c1"}, {"id": 'c"2'}], [{"id": "u1"}, {"id": "ü2"}, {"id": "u3"}]))
    cit = ("c1", 'c"2', "c1")[: len(values)]
    uni = ("u1", "ü2", "u3")[: len(values)]
    inst = base.replace(scores=Scores(cit, uni, np.array(values, dtype=float)))
    assert inst.sha256 == plain(inst)


def reference_document(inst: models.Instance) -> dict:
    """``to_dict`` as it was computed before: ``model_dump(mode="json")`` and a walk over every value."""
    from models.instance import _whole_numbers
    from models.schema import V2_FIELDS

    doc = inst.body.model_dump(mode="json")
    if inst.version == 2:
        for table, keys in V2_FIELDS.items():
            records = [inst.parameters] if table == "parameters" else getattr(inst.body, table)
            dumped = [doc[table]] if table == "parameters" else doc[table]
            for record, row in zip(records, dumped, strict=True):
                for key in keys:
                    value = getattr(record, key)
                    row[key] = list(value) if isinstance(value, tuple) else value
    if not doc["overrides"]:
        del doc["overrides"]
    doc["scores"] = inst.scores.records()
    return _whole_numbers(doc)


def generated() -> list:
    from optimizer.sim.generate import generate

    return [
        pytest.param(generate(preset, seed=1, scale=0.05, format=fmt), id=f"{preset}-{fmt}")
        for preset in ("national-week", "city-week", "hard-city")
        for fmt in ("anvis/1", "anvis/2")
    ]


@pytest.mark.parametrize("document", generated())
def test_to_dict_and_hash_are_those_of_the_plain_dump(document):
    inst = models.from_dict(document)
    expected = reference_document(inst)
    assert json.dumps(inst.to_dict()) == json.dumps(expected)  # same values, same kinds, same key order
    assert (
        inst.sha256 == hashlib.sha256(json.dumps(expected, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    )


def test_to_dict_with_fractional_rents_weights_and_overrides():
    d = doc(
        [{"id": "c1", "max_rent_kr": 5000.5}, {"id": "c2", "priority": 2}],
        [{"id": "u1", "rent_kr": 1234.25}, {"id": "u2", "rent_kr": 4800.0}],
        parameters={"objective": "weighted", "priority_weights": {"1": 10.5, "2": 3.0}, "subsidy_amount_kr": 1e15},
        overrides=[{"action": "forbid", "citizen": "c1", "unit": "u2", "note": "ø"}],
    )
    inst = models.from_dict(d)
    assert json.dumps(inst.to_dict()) == json.dumps(reference_document(inst))
    assert inst.to_dict()["parameters"]["priority_weights"] == {"1": 10.5, "2": 3}


@pytest.mark.parametrize("rows_per_piece", [1, 2, 3, 4, 1 << 16])
def test_sha256_hashed_in_pieces_is_that_of_the_whole_text(monkeypatch, rows_per_piece):
    """The score table is hashed in pieces of rows; any piece size gives the same digest."""
    import models.instance

    monkeypatch.setattr(models.instance, "SCORE_ROWS_PER_PIECE", rows_per_piece)
    base = models.from_dict(doc([{"id": "c1"}, {"id": 'c"2'}], [{"id": "u1"}, {"id": "ü2"}, {"id": "u3"}]))
    for values in ([4800.0, 0.25, 3.0, 7.0], [1.0], [2.5, 3.5, 4.0]):
        cit = ("c1", 'c"2', "c1", 'c"2')[: len(values)]
        uni = ("u1", "ü2", "u3", "u1")[: len(values)]
        inst = base.replace(scores=Scores(cit, uni, np.array(values, dtype=float)))
        assert inst.sha256 == plain(inst)
        assert "".join(models.instance._scores_json_pieces(inst.scores)) == json.dumps(
            inst.scores.records(), sort_keys=True, separators=(",", ":")
        )


# --- the column-wise writer of the record tables (Instance._canonical_parts) ---------------------------


def tables_text(inst: models.Instance) -> dict[str, str]:
    """The reference: ``_canonical`` of every table of ``_tables()`` (the body's JSON dump read back)."""
    return {json.dumps(k): json.dumps(v, sort_keys=True, separators=(",", ":")) for k, v in inst._tables().items()}


def written(inst: models.Instance, plain_way: bool = False) -> dict[str, str]:
    """``_canonical_parts`` as text; unless ``plain_way``, it must not fall back to the plain dump."""
    if plain_way:
        return {k: "".join(v) for k, v in inst._canonical_parts().items()}
    with pytest.MonkeyPatch.context() as m:
        m.setattr(models.Instance, "_tables", lambda self: pytest.fail("written the plain way"))
        return {k: "".join(v) for k, v in inst._canonical_parts().items()}


def presets_with_scores() -> list:
    return [
        pytest.param(preset, seed, fmt, scores, scale, id=f"{preset}-{seed}-{fmt}{'-scores' * scores}")
        for preset, scores, scale in (
            ("tiny", False, 1.0),
            ("small", True, 1.0),
            ("national-week", False, 0.05),
            ("city-week", True, 0.05),
            ("hard-city", False, 0.05),
        )
        for seed in (0, 3)
        for fmt in ("anvis/1", "anvis/2")
    ]


@pytest.mark.parametrize(("preset", "seed", "fmt", "scores", "scale"), presets_with_scores())
def test_columns_write_the_text_of_the_dumped_tables_for_generated_instances(preset, seed, fmt, scores, scale):
    from optimizer.sim.generate import generate

    extra = {"with_scores": True} if scores else {}
    inst = models.from_dict(generate(preset, seed=seed, scale=scale, format=fmt, **extra))
    assert len(inst.scores) > 0 or not scores
    assert written(inst) == tables_text(inst)
    assert inst.sha256 == plain(inst)
    # an instance and its variant of the same people (anvis scenario) hash alike
    assert inst.with_body(inst.body).sha256 == inst.sha256


def test_columns_write_waiting_days_only_where_given_and_every_awkward_value():
    d = doc(
        [
            {"id": "c1", "waiting_days": 0, "max_rent_kr": 5000.5, "kinds": ["youth", "family"]},
            {"id": 'c"2\\ø\U0001f600', "priority": 2, "max_rooms": 3, "barred_areas": ["prevention"]},
            {"id": "c3", "waiting_days": 17, "preferences": [{"department": "D", "weight": 2.5}]},
            {
                "id": "c4",
                "kinds": [],
                "preferences": [{"department": "D", "weight": 1e300}, {"department": "D", "weight": 0}],
            },
        ],
        [{"id": "u1", "rent_kr": 1234.25}, {"id": "ü2", "rent_kr": 4800.0}, {"id": "u3", "rent_kr": 1e15}],
        parameters={"objective": "weighted", "priority_weights": {"1": 10.5, "2": 3.0}},
        overrides=[{"action": "forbid", "citizen": "c1", "unit": "u1", "note": "ø \u2028"}],
    )
    for version in ("anvis/1", "anvis/2"):
        inst = models.from_dict({**d, "format": version})
        assert written(inst) == tables_text(inst)
        assert inst.sha256 == plain(inst)
    # none given: the key is absent from every row, as _tables leaves it
    none = models.from_dict(doc([{"id": "c1"}], [{"id": "u1"}]))
    assert '"waiting_days"' not in written(none)[json.dumps("citizens")]


def test_records_the_columns_have_no_rule_for_are_written_the_plain_way():
    """A bool and a number that compare equal in one tuple column, or records of two kinds: the plain dump."""
    from models.instance import _column_json, _records_json
    from models.schema import Region

    assert _column_json([(True, 1), (1, True)]) is None
    assert _column_json([1, True]) is None
    assert _column_json([float("inf")]) is None
    assert _column_json([{"a": 1}]) is None
    assert _records_json([Region(id="r"), models.schema.Organisation(id="o")]) is None
    # an instance holding such a value (the constructor trusts its input) hashes as the plain dump does
    base = models.from_dict(doc([{"id": "c1"}, {"id": "c2"}], [{"id": "u1"}]))
    odd = base.body.citizens[0].model_copy(update={"kinds": (True, 1)})
    inst = base.replace(citizens=(odd, base.body.citizens[1]))
    assert written(inst, plain_way=True) == tables_text(inst)
    # a record built without one of its fields: the dump leaves it out, and so does the hash
    partial = models.schema.Citizen.model_construct(id="c9", municipality="M")
    inst = base.replace(citizens=(partial,))
    assert written(inst, plain_way=True) == tables_text(inst)
    assert '"max_rent_kr"' not in written(inst, plain_way=True)[json.dumps("citizens")]


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(scalars, max_size=8), st.lists(st.tuples(scalars, scalars), max_size=8)))
def test_each_column_value_is_written_as_json_dumps_writes_it(values):
    from models.instance import _column_json, _whole_numbers

    texts = _column_json(values)
    kinds = {type(v) for v in values}
    if len(kinds - {type(None)}) <= 1 and tuple not in kinds:
        assert texts is not None  # one kind of scalar (and None): always by the columns
    if texts is not None:
        expected = [
            json.dumps(_whole_numbers(list(v) if isinstance(v, tuple) else v), sort_keys=True, separators=(",", ":"))
            for v in values
        ]
        assert texts == expected


def test_runs_of_few_distinct_values_are_written_once_per_combination_to_the_same_text(monkeypatch):
    """Many citizens, few distinct flags, sizes, limits and lists: runs of columns share their texts."""
    import models.instance

    runs = []
    real = models.instance._run_json
    monkeypatch.setattr(models.instance, "_run_json", lambda *a: runs.append(a[0]) or real(*a))
    rng = np.random.default_rng(7)
    citizens = [
        {
            "id": f"c{i}",
            "priority": int(rng.integers(1, 4)),
            "max_rent_kr": float(rng.choice([4000, 4500.5, 5000])),
            "min_rooms": int(rng.integers(1, 3)),
            "max_rooms": None if rng.random() < 0.3 else int(rng.integers(3, 5)),
            "vulnerable": bool(rng.random() < 0.5),
            "accepts_temporary": bool(rng.random() < 0.5),
            "kinds": [["family"], ["family", "youth"], []][int(rng.integers(0, 3))],
            "barred_areas": [[], ["prevention"]][int(rng.integers(0, 2))],
            **({"waiting_days": int(rng.integers(0, 3))} if rng.random() < 0.5 else {}),
        }
        for i in range(600)
    ]
    for version in ("anvis/1", "anvis/2"):
        inst = models.from_dict({**doc(citizens, [{"id": "u1"}]), "format": version})
        assert written(inst) == tables_text(inst)
        assert inst.sha256 == plain(inst)
    assert any(len(run) > 1 for run in runs)


def test_distinct_values_only_of_columns_whose_equal_values_are_written_alike():
    from models.instance import _distinct_values

    assert sorted(_distinct_values([1, 2, 1, None] * 50, 10), key=repr) == [1, 2, None]
    assert _distinct_values([True, 1] * 50, 10) is None  # True == 1, but "true" != "1"
    assert _distinct_values([(True,), (1,)] * 50, 10) is None
    assert sorted(_distinct_values([("a",), ("a", "b"), ()] * 50, 10)) == [(), ("a",), ("a", "b")]
    assert _distinct_values([f"u{i}" for i in range(300)], 100) is None  # an id: many distinct
    assert _distinct_values([{"a": 1}] * 4, 10) is None
