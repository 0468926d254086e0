"""OR-Library assignment instances (Beasley's ``assignNNN.txt``) as anvis instances.

A cost matrix c (n × n, minimise) becomes n citizens and n units in one
municipality, every pair eligible, scores ``101 − c`` and one pool of share 1.0,
everyone priority 1. The lexicographic optimum then houses all n citizens with
total score ``101·n − min cost``.
"""

from __future__ import annotations

import os
import warnings
from itertools import chain, repeat
from typing import Any

import numpy as np

from models.fastjson import ScoreColumns
from models.validate import InstanceError, Problem, short


def read_costs(path: str | os.PathLike[str]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The n × n cost matrix of an OR-Library assignment file (a token stream)."""
    with open(path, "rb") as f:
        data = f.read()
    tokens = _plain_integers(data)
    if tokens is None:  # not only plain integers: read token by token, which words the problem
        tokens = _tokens(path, data)
    if tokens.size == 0:
        raise InstanceError(str(path), [Problem("", "empty file")])
    n = int(tokens[0])
    if n <= 0 or tokens.size != 1 + n * n:
        raise InstanceError(
            str(path), [Problem("", f"expected n={n} and {n * n} costs, found {tokens.size - 1} numbers")]
        )
    return tokens[1:].reshape(n, n)


def _tokens(path: str | os.PathLike[str], data: bytes) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The whitespace-separated tokens of ``data`` as int64, or the problem with the first that is not one."""
    words = data.split()
    try:
        return np.array(words, dtype=np.int64)
    except (ValueError, OverflowError):  # not a number, or beyond int64
        at, word = next((i, w) for i, w in enumerate(words) if not _is_int64(w))
        text = short(word.decode("utf-8", "replace"))
        message = f"number {at + 1} of the file, {text}, is not a whole number of int64 range"
        raise InstanceError(str(path), [Problem("", message)]) from None


_SPACE = np.zeros(256, bool)
_SPACE[list(b" \t\n\r\x0b\x0c")] = True  # what bytes.split() splits on
_DIGIT = np.zeros(256, bool)
_DIGIT[list(b"0123456789")] = True
_SIGN = np.zeros(256, bool)
_SIGN[list(b"+-")] = True


def _plain_integers(data: bytes) -> np.ndarray[Any, np.dtype[np.int64]] | None:
    """The tokens of ``data`` by numpy's C parser when every one is a plain integer of int64 range, else None.

    ``np.fromstring(data, sep=" ")`` reads 640,000 numbers without a bytes object each
    (assign800: 0.05 -> 0.01 s, and 30 MB less). It is used only when the bytes show the
    token-by-token reading would give the same numbers: nothing but blanks, digits and
    signs, a sign only at the start of a token and before a digit (the C parser would also
    split ``1-5`` into two numbers), and no number at the bounds of int64 (where it clamps
    what lies beyond). Anything else goes the token-by-token way.
    """
    b = np.frombuffer(data, np.uint8)
    space, digit, sign = _SPACE[b], _DIGIT[b], _SIGN[b]
    if not digit.any() or not (space | digit | sign).all():
        return None
    at = np.flatnonzero(sign)
    if len(at):
        if at[-1] + 1 >= len(b) or not digit[at + 1].all():  # a sign stands before a digit
            return None
        if not space[at[at > 0] - 1].all():  # and at the start of a token
            return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a part it cannot read is a warning: then the other way
        try:
            tokens = np.fromstring(data, dtype=np.int64, sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    bounds = np.iinfo(np.int64)
    if len(tokens) and (tokens.max() == bounds.max or tokens.min() == bounds.min):
        return None
    return tokens


def _is_int64(word: bytes) -> bool:
    try:
        return -(2**63) <= int(word) < 2**63
    except ValueError:
        return False


def costs_to_document(
    cost: np.ndarray[Any, np.dtype[np.int64]], name: str = "orlib", columns: bool = False
) -> dict[str, Any]:
    """An anvis/1 document whose lexicographic optimum solves the assignment problem.

    With ``columns`` the scores are a :class:`~models.fastjson.ScoreColumns` (no dict per
    pair: 640,000 of them in assign800), which :func:`models.from_dict` reads as it reads
    the records.
    """
    n = cost.shape[0]
    width = len(str(n - 1))
    cids = [f"c{i:0{width}d}" for i in range(n)]
    uids = [f"u{j:0{width}d}" for j in range(n)]
    score = (101 - cost).ravel()
    scores = ScoreColumns(list(chain.from_iterable(repeat(c, n) for c in cids)), uids * n, score)
    return {
        "format": "anvis/1",
        "name": name,
        "parameters": {"objective": "lexicographic"},
        "regions": [{"id": "R", "name": "Region"}],
        "municipalities": [{"id": "M", "name": "Kommune", "region": "R"}],
        "organisations": [{"id": "O", "name": "Organisation"}],
        "departments": [{"id": "D", "organisation": "O", "municipality": "M"}],
        "units": [{"id": u, "department": "D", "rooms": 1, "rent_kr": 0} for u in uids],
        "agreements": [{"id": "all", "municipality": "M", "share": 1.0}],
        "citizens": [{"id": c, "municipality": "M", "max_rent_kr": 0} for c in cids],
        "scores": scores if columns else scores.records(),
    }


def read_orlib(path: str | os.PathLike[str], columns: bool = False) -> dict[str, Any]:
    """Read an OR-Library assignment file as an anvis/1 document (scores as columns: see :func:`costs_to_document`)."""
    return costs_to_document(read_costs(path), os.path.basename(str(path)).split(".")[0], columns)
