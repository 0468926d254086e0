"""Fast JSON for large documents: the indented writer, and score tables read into columns.

:func:`dumps_indented` writes exactly what ``json.dumps(doc, indent=1, ensure_ascii=False,
allow_nan=False)`` writes: the standard library encodes indented JSON with its pure-Python
encoder (a generator per container, a ``yield`` per token): 0.07 s for a 3 MB national-week
plan, 0.04 s here, where each value is one call and strings use the C encoder.

:func:`parse_document` reads an instance document whose ``scores`` table holds hundreds of
thousands of rows without a Python hook call per object: :func:`json.loads` builds the
dicts in C, repeated keys are found by counting colons, and a score table of well-formed
rows becomes :class:`ScoreColumns`. Validation (:func:`models.validate.from_dict`) checks
those columns vectorised, with the messages it gives a list of records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring  # the C encoder where it is built
from operator import itemgetter
from typing import Any

import numpy as np

__all__ = ["SCORE_KEYS", "ScoreColumns", "dumps_indented", "parse_document"]

#: The keys of a score record, in the order :class:`ScoreColumns` keeps them.
SCORE_KEYS = ("citizen", "unit", "score")

_str: Callable[[str], str] = encode_basestring


def dumps_indented(doc: Any) -> str:
    """``json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)``, faster.

    Anything the fast path does not handle (NaN, a key or value of another type, nesting
    deeper than the recursion limit, a cycle) is passed to :func:`json.dumps`, so the result,
    or the error raised, is the standard library's.
    """
    try:
        return _value(doc, "\n")
    except (TypeError, ValueError, RecursionError):
        return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)


def _float(x: float) -> str:
    if not math.isfinite(x):
        raise ValueError("not finite")  # json.dumps words the error
    return float.__repr__(x)


def _key(k: object) -> str:
    # json.dumps turns keys that are not strings into strings first, in this order
    if isinstance(k, str):
        return _str(k)
    if isinstance(k, float):
        return _str(_float(k))
    if k is True:
        return '"true"'
    if k is False:
        return '"false"'
    if k is None:
        return '"null"'
    if isinstance(k, int):
        return _str(int.__repr__(k))
    raise TypeError("key")


def _value(o: Any, newline: str) -> str:
    """``o`` encoded; ``newline`` is a newline and the indentation of ``o``'s own line."""
    # the order of json.encoder's checks: a bool is an int, and an IntEnum both
    if isinstance(o, str):
        return _str(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return _float(o)
    inner = newline + " "
    if isinstance(o, (list, tuple)):
        if not o:
            return "[]"
        return "[" + inner + ("," + inner).join([_value(v, inner) for v in o]) + newline + "]"
    if isinstance(o, dict):
        if not o:
            return "{}"
        items = [_key(k) + ": " + _value(v, inner) for k, v in o.items()]
        return "{" + inner + ("," + inner).join(items) + newline + "}"
    raise TypeError("not JSON")


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreColumns:
    """A ``scores`` table read column-wise: row ``i`` is ``{"citizen": citizen[i], "unit": unit[i], ...}``.

    The JSON reader makes one only of rows that are objects of exactly the keys ``citizen``,
    ``unit`` (strings) and ``score`` (a number, not a bool); any other table stays a list of
    records, which validation words row by row. The OR-Library reader gives its scores as
    an integer array.
    """

    citizen: Sequence[str]
    unit: Sequence[str]
    score: Sequence[int | float] | np.ndarray[Any, np.dtype[np.int64]]

    def __len__(self) -> int:
        return len(self.citizen)

    def records(self) -> list[dict[str, Any]]:
        """The rows as the records the standard parser would give (Python numbers)."""
        score = self.score.tolist() if isinstance(self.score, np.ndarray) else self.score
        return [{"citizen": c, "unit": u, "score": s} for c, u, s in zip(self.citizen, self.unit, score, strict=True)]


def parse_document(data: bytes | str, large: int = 10_000) -> Any:
    r"""A JSON document with a large ``scores`` table of well-formed rows read as :class:`ScoreColumns`.

    The text is parsed by :func:`json.loads` without hooks (objects become dicts in C),
    and repeated keys, which a dict would hide, are found by counting: in UTF-8 JSON
    without an escaped colon (``\u003a``), every ``:`` byte separates a key from its
    value or lies inside a string, so the document repeats no key exactly when the
    number of ``:`` bytes is the number of keys of all its objects plus the colons inside
    its strings (keys and values).

    Parameters
    ----------
    data
        The file's contents.
    large
        Tables of fewer rows are not worth columns (and are read as records).

    Returns
    -------
    Any
        What :func:`models.io.parse_json` returns, except that ``doc["scores"]`` is a
        :class:`ScoreColumns`; ``None`` when this reader does not apply: the document
        repeats a key, holds an integer too long for Python, an escaped colon or a score
        table of other rows, or is not UTF-8 (the caller then parses it the standard way,
        which reports every problem in its words).

    Raises
    ------
    json.JSONDecodeError, RecursionError
        As :func:`json.loads` raises them.
    """
    if isinstance(data, bytes):
        if json.detect_encoding(data) != "utf-8":
            return None
        colons, escaped = data.count(b":"), b"\\u003a" in data or b"\\u003A" in data
        found = data.count(b'"score"')
    else:
        colons, escaped, found = data.count(":"), "\\u003a" in data or "\\u003A" in data, data.count('"score"')
    if found < large or escaped:  # a C scan: no table that large (or keys written with escapes)
        return None
    try:
        doc = json.loads(data)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        return None  # an integer of more digits than Python parses: the standard reader keeps it
    rows = doc.get("scores") if isinstance(doc, dict) else None
    columns = _columns(rows) if isinstance(rows, list) and len(rows) >= large else None
    if columns is None:
        return None
    keys, inside = _count({k: v for k, v in doc.items() if k != "scores"})
    if colons != keys + 1 + len(SCORE_KEYS) * len(columns) + inside:  # + 1: the key "scores"
        return None  # some object repeats a key
    doc["scores"] = columns
    return doc


def _count(value: Any) -> tuple[int, int]:
    """The number of keys of every object in ``value``, and of colons in its strings."""
    keys = inside = 0
    stack = [value]
    while stack:  # not recursive: json.loads parsed it, however deep
        node = stack.pop()
        if isinstance(node, dict):
            keys += len(node)
            inside += sum(k.count(":") for k in node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            inside += node.count(":")
    return keys, inside


def _columns(rows: list[Any]) -> ScoreColumns | None:
    """The rows as columns if every row is an object of exactly the keys of a score record, well typed.

    Ids holding a colon are left to the standard reader (the colon count would need them).
    """
    if set(map(type, rows)) != {dict} or set(map(len, rows)) != {len(SCORE_KEYS)}:
        return None
    try:
        citizen, unit, score = (list(map(itemgetter(key), rows)) for key in SCORE_KEYS)
    except KeyError:
        return None
    if set(map(type, citizen)) != {str} or set(map(type, unit)) != {str} or not set(map(type, score)) <= {int, float}:
        return None
    if any(":" in i for i in {*citizen, *unit}):
        return None
    return ScoreColumns(citizen, unit, score)
