"""The fast JSON writer and the columnar score reader give what the standard ones give."""

from __future__ import annotations

import enum
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.fastjson import dumps_indented

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
keys = st.text() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans() | st.none()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=30,
)


def standard(doc: object) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_dumps_indented_is_json_dumps(doc):
    assert dumps_indented(doc) == standard(doc)


class Kind(enum.IntEnum):
    A = 7


@pytest.mark.parametrize(
    "doc",
    [{}, [], {"a": {}, "b": []}, [[[]]], {"ø": '\u2028\x00"\\'}, Kind.A, {Kind.A: Kind.A}, 1e300, -0.0, 2**70, True],
)
def test_dumps_indented_edge_cases(doc):
    assert dumps_indented(doc) == standard(doc)


@pytest.mark.parametrize("doc", [float("nan"), {"x": [float("inf")]}, {(1, 2): 3}, {"x": {1, 2}}, object()])
def test_dumps_indented_raises_what_json_dumps_raises(doc):
    with pytest.raises((ValueError, TypeError)) as ours:
        dumps_indented(doc)
    with pytest.raises((ValueError, TypeError)) as theirs:
        standard(doc)
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def test_dumps_indented_of_a_cycle_raises_as_json_dumps_does():
    doc: list[object] = []
    doc.append(doc)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented(doc)


def test_dumps_indented_of_deep_nesting_is_json_dumps():
    doc: object = 1
    for _ in range(3000):
        doc = [doc]
    with pytest.raises(RecursionError):
        standard(doc)
    with pytest.raises(RecursionError):
        dumps_indented(doc)
