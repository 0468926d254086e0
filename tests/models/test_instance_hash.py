"""``Instance.sha256`` writes the scores column-wise to the text ``json.dumps`` of the records gives."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

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
