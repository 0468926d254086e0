"""Fast JSON for large documents: the indented writer, and score tables read into columns.

:func:`dumps_indented` writes exactly what ``json.dumps(doc, indent=1, ensure_ascii=False,
allow_nan=False)`` writes. The standard library encodes indented JSON with its pure-Python
encoder (a generator per container, a ``yield`` per token): 0.07 s for a 3 MB national-week
plan. Here pydantic-core's JSON writer (Rust, one call) writes it where its text is provably
the standard library's, and a Python writer (each value one call, strings by the C encoder)
everything else.

pydantic-core's indented text (``to_json(doc, indent=1)``) differs from ``json.dumps``'s only
where these checks send the document to the Python writer:

- types: it writes sets, bytes, enums, dates, models and ``None`` keys where ``json.dumps``
  refuses them or writes them otherwise; :func:`plain` admits only the exact types
  ``json.loads`` gives (and tuples) with string keys;
- floats: the same shortest round-trip digits as ``repr`` (checked on 20 million random
  doubles and by the tests), but ``0.00001`` for ``1e-05`` (a value in ``[1e-5, 1e-4)``) and
  ``1e-7`` for ``1e-07`` (an exponent of one digit); NaN and infinities as ``NaN`` and
  ``Infinity`` where ``json.dumps`` raises: :func:`exact` finds every such text in the bytes;
- integers of more digits than Python converts (``sys.get_int_max_str_digits``), which
  ``json.dumps`` refuses and pydantic-core writes: :func:`exact` finds those too;
- strings: the same escapes for every code point (tested exhaustively), except lone
  surrogates, which pydantic-core refuses (and ``json.dumps`` writes, for the UTF-8 encoder to
  refuse); cycles and nesting deeper than its limit it refuses too.

:func:`parse_unique` reads any UTF-8 JSON text by jiter (pydantic's parser, one Rust call) where
that gives exactly what :func:`json.loads` gives, and refuses a key given twice in an object
(no Python call per object). :func:`with_score_columns` then makes a ``scores`` table of
hundreds of thousands of well-formed rows :class:`ScoreColumns`, which validation
(:func:`models.validate.from_dict`) checks vectorised, with the messages it gives a list
of records.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, repeat
from json.encoder import encode_basestring  # the C encoder where it is built
from operator import is_, itemgetter
from typing import Any

import jiter
import numpy as np
from pydantic_core import to_json

__all__ = [
    "SCORE_KEYS",
    "ScoreColumns",
    "dumps_bytes",
    "dumps_indented",
    "exact",
    "parse_unique",
    "plain",
    "with_score_columns",
]

#: The keys of a score record, in the order :class:`ScoreColumns` keeps them.
SCORE_KEYS = ("citizen", "unit", "score")

_str: Callable[[str], str] = encode_basestring


def dumps_indented(doc: Any) -> str:
    """``json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)``, faster.

    Anything the fast paths do not handle (NaN, a key or value of another type, nesting
    deeper than the recursion limit, a cycle) is passed to :func:`json.dumps`, so the result,
    or the error raised, is the standard library's.
    """
    data = _rust(doc)
    return data.decode() if data is not None else _python(doc)


def dumps_bytes(doc: Any) -> bytes:
    """A JSON file's bytes: :func:`dumps_indented` and a newline, in UTF-8.

    Raises
    ------
    ValueError, TypeError, RecursionError
        As :func:`json.dumps` raises them; :class:`UnicodeEncodeError` for a lone surrogate,
        as writing that text to a UTF-8 file does.
    """
    data = _rust(doc)
    return data + b"\n" if data is not None else (_python(doc) + "\n").encode("utf-8")


def _rust(doc: Any) -> bytes | None:
    """pydantic-core's indented text of ``doc`` where it is ``json.dumps``'s, else ``None``."""
    try:
        data = to_json(doc, indent=1, inf_nan_mode="constants")
    except ValueError:  # PydanticSerializationError: a type, a cycle, depth, a surrogate
        return None
    except TypeError:  # a pydantic-core older than inf_nan_mode (pydantic >= 2.6 is allowed)
        return None
    # after to_json: what it wrote has no cycle, so the walk ends
    return data if plain((doc,)) and exact(data) else None


def _python(doc: Any) -> str:
    try:
        return _value(doc, "\n")
    except (TypeError, ValueError, RecursionError):
        return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)


#: The types :func:`json.loads` makes, and tuples (written as lists by both writers).
_PLAIN = frozenset({str, int, float, bool, type(None), list, tuple, dict})


def plain(values: Iterable[Any]) -> bool:
    """Whether every value, and everything in it, is of exactly the types JSON reads into, keys strings.

    Exact types: a subclass (an ``IntEnum``, a ``str`` enum, a float of NumPy) may be
    written otherwise by a writer, so it is not plain. The walk goes level by level, each
    level in a few C loops (``map``, ``compress``, ``chain``), not a Python call per value;
    each value's type is read once per level (a national week's details: 4.8 -> 3.6 ms).
    The values must hold no cycle (e.g. :func:`pydantic_core.to_json` wrote them).
    """
    level = list(values)
    while level:
        kinds = list(map(type, level))
        types = set(kinds)
        if not types <= _PLAIN:
            return False
        parts = []
        if dict in types:  # a level of dicts only (a plan's details) is taken whole
            dicts = level if len(types) == 1 else list(compress(level, map(is_, kinds, repeat(dict))))
            if not set(map(type, chain.from_iterable(dicts))) <= {str}:
                return False  # e.g. keys 1 and "1": one key "1" written twice
            parts.append(chain.from_iterable(map(dict.values, dicts)))
        for sequence in (list, tuple):
            if sequence in types:
                parts.append(chain.from_iterable(compress(level, map(is_, kinds, repeat(sequence)))))
        level = list(chain.from_iterable(parts))
    return True


_DIGIT, _DOT, _E, _PLUS, _MINUS = b"0.e+-"


def exact(data: bytes) -> bool:
    """Whether pydantic-core's JSON text ``data`` holds no number that ``json.dumps`` writes otherwise.

    Conservative: ``False`` for any ``NaN`` or ``Infinity`` (also inside a string), any
    ``.0000`` (``0.00001``, where ``json.dumps`` writes ``1e-05``), any digit followed by an
    exponent (``1e-7``: ``1e-07``; pydantic-core writes every exponent with its sign), and any
    run of more digits than ``sys.get_int_max_str_digits`` (an integer ``json.dumps`` refuses
    to convert). Vectorised: a few NumPy passes over the bytes.
    """
    a = np.frombuffer(data, np.uint8)
    if (b"N" in data and _occurs(a, b"NaN")) or (b"I" in data and _occurs(a, b"Infinity")):  # memchr first
        return False
    if _occurs(a, b".0000"):
        return False
    if _exponent(a):
        return False
    return not _long_digits(data)


def _exponent(a: np.ndarray[Any, np.dtype[np.uint8]]) -> bool:
    """Whether the bytes ``a`` hold a digit, an ``e`` and a sign (``1e-7``), found from the signs.

    Signs are the rarer anchor in a plan's text (29,000 ``-`` in ids, against 178,000 ``e`` in
    words): 1.4 -> 1.0 ms for a national week's plan.
    """
    at = np.flatnonzero((a[2:] == _PLUS) | (a[2:] == _MINUS)) + 2
    at = at[a[at - 1] == _E]
    return bool(np.any((a[at - 2] - _DIGIT).astype(np.uint8) < 10))


def _occurs(a: np.ndarray[Any, np.dtype[np.uint8]], pattern: bytes) -> bool:
    """Whether the bytes ``a`` hold ``pattern``: its first byte's places, kept while the next bytes match.

    (``pattern in data`` gives the same answer, slower on a plan's text, dense in ``.0``:
    :func:`exact` with it took 4.6 ms for a national week's plan, against 1.6 ms.)
    """
    if len(a) < len(pattern):
        return False
    at = np.flatnonzero(a[: len(a) - len(pattern) + 1] == pattern[0])
    for k in range(1, len(pattern)):
        at = at[a[at + k] == pattern[k]]
    return bool(len(at))


def _long_digits(data: bytes) -> bool:
    """Whether ``data`` may hold a run of more digits than Python converts to an int.

    A run of ``limit + 1`` digits covers two samples ``step`` apart and all bytes between
    (``2 * step <= limit + 1``), so only those pairs of digit samples are read whole.
    """
    limit = sys.get_int_max_str_digits()
    if not limit or len(data) <= limit:
        return False
    step = (limit + 1) // 2
    samples = np.frombuffer(data[::step], np.uint8)
    both = (samples - _DIGIT).astype(np.uint8) < 10
    return any(data[i * step : (i + 1) * step + 1].isdigit() for i in np.flatnonzero(both[:-1] & both[1:]).tolist())


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


def parse_unique(data: bytes | str) -> Any:
    """:func:`json.loads` of a UTF-8 JSON text that repeats no key in any object, by jiter's parser.

    The standard reader finds a key given twice by a Python hook call per object (0.024 s for
    a national week's 15,720 objects); jiter parses the text and refuses a repeated key in
    one Rust call (0.014 s). It reads numbers, literals (``NaN``, ``Infinity``), escapes and
    whitespace as :func:`json.loads` does (``tests/models/test_fastjson.py``), and refuses
    what that accepts only in these cases, which this reader leaves to it: a lone surrogate,
    nesting deeper than jiter reads, and a byte-order mark.

    Returns
    -------
    Any
        The document, equal to what :func:`json.loads` gives (the same types and values);
        ``None`` when this reader does not apply: a key repeated, a text that is not UTF-8,
        holds an integer of more digits than Python converts, or that jiter refuses (every
        syntax error besides). The caller then reads it the standard way, which gives the
        result, or words the problem, as it always did.
    """
    if not isinstance(data, bytes) or json.detect_encoding(data) != "utf-8":
        return None  # "utf-8" and not "utf-8-sig": a byte-order mark is left to the standard reader
    if _long_digits(data):  # json.loads refuses such an integer (jiter would read it)
        return None
    try:
        return jiter.from_json(data, catch_duplicate_keys=True)
    except (ValueError, RecursionError):
        return None


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


def with_score_columns(doc: Any, large: int = 10_000) -> Any:
    """``doc`` (as :func:`json.loads` gives it), a large ``scores`` table of good rows made :class:`ScoreColumns`.

    A table of at least ``large`` rows, each an object of exactly the keys ``citizen`` and
    ``unit`` (strings) and ``score`` (a number, not a bool); any other table, or document,
    is left as it is. For a document :func:`parse_unique` read (its keys known not to repeat).
    """
    rows = doc.get("scores") if isinstance(doc, dict) else None
    columns = _columns(rows) if isinstance(rows, list) and len(rows) >= large else None
    if columns is not None:
        doc["scores"] = columns
    return doc


def _columns(rows: list[Any]) -> ScoreColumns | None:
    """The rows as columns if every row is an object of exactly the keys of a score record, well typed."""
    if set(map(type, rows)) != {dict} or set(map(len, rows)) != {len(SCORE_KEYS)}:
        return None
    try:
        citizen, unit, score = (list(map(itemgetter(key), rows)) for key in SCORE_KEYS)
    except KeyError:
        return None
    if set(map(type, citizen)) != {str} or set(map(type, unit)) != {str} or not set(map(type, score)) <= {int, float}:
        return None
    return ScoreColumns(citizen, unit, score)
