"""``eligible_pairs`` computes the default score only for pairs without a given one: the
same scores as the default over every pair with the given ones written over it."""

from __future__ import annotations

import numpy as np
import pytest

import models
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import default_scores, eligible_pairs
from optimizer.sim.generate import generate


def reference(data: ProblemData) -> np.ndarray:
    """The scores as computed before: the default everywhere, then each given score."""
    p = eligible_pairs(data)
    score = default_scores(data, p.citizen, p.unit, p.subsidised)
    given = data.inst.scores
    index = {
        (data.citizen_index[c], data.unit_index[u]): s
        for c, u, s in zip(given.citizen, given.unit, given.score, strict=True)
    }
    for k, (c, u) in enumerate(zip(p.citizen.tolist(), p.unit.tolist(), strict=True)):
        if (c, u) in index:
            score[k] = index[(c, u)]
    return score


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_given_and_default_scores(share):
    document = generate("national-week", seed=4, scale=0.05)
    data = ProblemData.build(models.from_dict(document))
    pairs = eligible_pairs(data)
    rng = np.random.default_rng(0)
    pick = np.flatnonzero(rng.random(len(pairs)) < share)
    cit, uni = data.inst.citizens, data.inst.units
    document["scores"] = [
        {"citizen": cit[int(pairs.citizen[k])].id, "unit": uni[int(pairs.unit[k])].id, "score": int(k % 97)}
        for k in pick
    ] + [{"citizen": cit[0].id, "unit": uni[-1].id, "score": 5}]  # maybe not an eligible pair: ignored then
    data = ProblemData.build(models.from_dict(document))
    got = eligible_pairs(data).score
    assert np.array_equal(got, reference(data))
    assert np.array_equal(got[pick], (pick % 97).astype(float))  # the pairs keep their indices
