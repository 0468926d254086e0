"""Fast JSON for large documents: the indented writer, and score tables read into columns.

:func:`dumps_indented` writes exactly what ``json.dumps(doc, indent=1, ensure_ascii=False,
allow_nan=False)`` writes: the standard library encodes indented JSON with its pure-Python
encoder (a generator per container, a ``yield`` per token), which took 0.26 s of a 0.3 MB
national-week plan; here each value is one call and strings use the C encoder.

:func:`parse_document` reads an instance document whose ``scores`` table may hold hundreds
of thousands of rows without a dict, or a Python hook call, per row: objects are parsed as
tuples of pairs (a C call per object), which keeps every repeated key in sight, and a score
table of well-formed rows becomes :class:`ScoreColumns`. Validation
(:func:`models.validate.from_dict`) checks those columns vectorised, with the messages it
gives a list of records.
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


class _Repeated(Exception):
    """Some object repeats a key: the standard reader words that."""


def parse_document(data: bytes | str, large: int = 10_000) -> Any:
    """A JSON document with a large ``scores`` table of well-formed rows read as :class:`ScoreColumns`.

    Parameters
    ----------
    data
        The file's contents.
    large
        Tables of fewer rows are not worth columns (and are read as records).

    Returns
    -------
    Any
        What :func:`models.io.parse_json` returns, except that ``doc["scores"]`` may be
        a :class:`ScoreColumns`; ``None`` when the document repeats a key in some object,
        holds an integer too long for Python, or is not an object with such a table (the
        caller then parses it the standard way, which reports every problem in its words).

    Raises
    ------
    json.JSONDecodeError, UnicodeDecodeError, RecursionError
        As :func:`json.loads` raises them.
    """
    found = data.count(b'"score"') if isinstance(data, bytes) else data.count('"score"')
    if found < large:  # a C scan: no table that large (or keys written with escapes)
        return None
    try:
        top = json.loads(data, object_pairs_hook=tuple)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        return None  # an integer of more digits than Python parses: the standard reader keeps it
    if not isinstance(top, tuple):
        return None
    try:
        pairs = dict(top)
        if len(pairs) != len(top):
            return None
        rows = pairs.get("scores")
        scores = _columns(rows) if isinstance(rows, list) and len(rows) >= large else None
        doc = {k: (scores if k == "scores" and scores is not None else _dicts(v)) for k, v in top}
    except _Repeated:
        return None
    return doc if scores is not None else None


def _dicts(value: Any) -> Any:
    """Tuples of pairs as dicts, all the way down; raises :class:`_Repeated` on a repeated key."""
    if isinstance(value, tuple):
        obj = {k: _dicts(v) for k, v in value}
        if len(obj) != len(value):
            raise _Repeated
        return obj
    if isinstance(value, list):
        return [_dicts(v) for v in value]
    return value


def _columns(rows: list[Any]) -> ScoreColumns | None:
    """The rows as columns if every row is a tuple of the pairs of a score record, all in one key order."""
    if set(map(type, rows)) != {tuple} or set(map(len, rows)) != {3}:
        return None
    at = [list(map(itemgetter(k), rows)) for k in range(3)]  # the k-th (key, value) pair of each row
    order = []
    for pairs in at:
        names = set(map(itemgetter(0), pairs))
        if len(names) != 1:  # rows in different key orders are read as records
            return None
        order.append(names.pop())
    if sorted(order) != sorted(SCORE_KEYS):  # a repeated, missing or unknown key
        return None
    column = {name: list(map(itemgetter(1), pairs)) for name, pairs in zip(order, at, strict=True)}
    citizen, unit, score = column["citizen"], column["unit"], column["score"]
    if set(map(type, citizen)) != {str} or set(map(type, unit)) != {str} or not set(map(type, score)) <= {int, float}:
        return None
    return ScoreColumns(citizen, unit, score)
