"""The eligibility filter (``pairs.eligible``) keeps exactly the pairs ``failure_codes`` passes.

``eligible_pairs`` tests the first rules on every candidate and the rest only on the
pairs that pass them; both read the one rule list, and this pins that they agree on
instances where every rule (rotation turns included) rules out some pairs.
"""

from __future__ import annotations

import numpy as np
import pytest

import models
from optimizer.engine.data import ProblemData
from optimizer.engine.pairs import ELIGIBLE, NOT_A_TURN, candidates, eligible, eligible_pairs, failure_codes
from optimizer.sim.generate import generate


@pytest.mark.parametrize(
    "preset, version", [("national-week", "anvis/2"), ("national-week", "anvis/1"), ("hard-city", "anvis/1")]
)
def test_eligible_keeps_exactly_the_pairs_without_a_failure_code(preset, version):
    data = ProblemData.build(models.from_dict(generate(preset, seed=1, scale=0.2, format=version)))
    seen = set()
    kept = []
    for ci, ui in candidates(data):
        codes = failure_codes(data, ci, ui)
        seen |= set(np.unique(codes).tolist())
        ok = eligible(data, ci, ui)
        np.testing.assert_array_equal(ok, np.flatnonzero(codes == ELIGIBLE))
        kept.append(ci[ok].astype(np.int64) * data.n_units + ui[ok])
    # the filter is tested where the rules bind: several failure codes occur
    assert ELIGIBLE in seen and len(seen - {ELIGIBLE}) >= 3
    if version == "anvis/2":
        assert NOT_A_TURN in seen
    pairs = eligible_pairs(data)
    keys = pairs.citizen.astype(np.int64) * data.n_units + pairs.unit
    np.testing.assert_array_equal(keys, np.sort(np.concatenate(kept)))
