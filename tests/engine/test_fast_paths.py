"""The fast paths of issue 12 give what the plain computation gives.

- ``Instance.sha256`` writes the canonical document table by table (scores
  column-wise); its value is that of ``json.dumps(inst.to_dict(), sort_keys=True,
  separators=(",", ":"))``, which plans carry and tests pin.
"""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from test_properties import SETTINGS, documents

import models

from conftest import doc


def _plain_sha256(inst: models.Instance) -> str:
    text = json.dumps(inst.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def test_sha256_is_the_canonical_documents_hash_with_awkward_scores_and_ids():
    citizens = [
        {"id": 'æøå "quoted" \\ 1', "priority": 1},
        {"id": "c\u00e9\U0001f600", "priority": 2},
        {"id": "c3", "priority": 1},
    ]
    units = [{"id": "u\tä"}, {"id": "u2"}, {"id": "u3"}]
    scores = [
        {"citizen": 'æøå "quoted" \\ 1', "unit": "u\tä", "score": 4800},
        {"citizen": 'æøå "quoted" \\ 1', "unit": "u2", "score": 4800.0},
        {"citizen": "c\u00e9\U0001f600", "unit": "u2", "score": 0.1},
        {"citizen": "c\u00e9\U0001f600", "unit": "u3", "score": 1e-7},
        {"citizen": "c3", "unit": "u3", "score": 1e22},
        {"citizen": "c3", "unit": "u2", "score": 123456789.125},
    ]
    inst = models.from_dict(doc(citizens, units, scores=scores))
    assert inst.sha256 == _plain_sha256(inst)
    # overrides are part of the canonical document when present
    with_overrides = models.from_dict(
        doc(citizens, units, scores=scores, overrides=[{"citizen": "c3", "unit": "u3", "action": "forbid"}])
    )
    assert with_overrides.sha256 == _plain_sha256(with_overrides) != inst.sha256


def test_sha256_without_scores():
    inst = models.from_dict(doc([{"id": "c", "priority": 1}], [{"id": "u"}]))
    assert inst.sha256 == _plain_sha256(inst)


@settings(max_examples=40, **SETTINGS)
@given(documents())
def test_sha256_equals_the_canonical_documents_hash(document):
    inst = models.from_dict(document)
    assert inst.sha256 == _plain_sha256(inst)
