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
