"""Validation of a raw instance document: types, ranges, ids, references.

Every problem of a document is collected (not just the first) and reported as
one line naming the file, the field path and the offending value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import contains, itemgetter
from typing import Any, TypeGuard

import numpy as np
import pydantic
from numpy.typing import NDArray

from models.fastjson import ScoreColumns
from models.instance import TERM_TABLES, Instance, Scores, id_codes
from models.pools import default_pool_id, default_pool_owners, pools, unit_pools
from models.schema import (
    FORMAT,
    FORMAT_V2,
    FORMATS,
    KINDS,
    RECORD_OF,
    V2_FIELDS,
    Body,
    Override,
    Parameters,
    Preference,
    accept_ids,
    accept_texts,
    id_problem,
)

Raw = dict[str, Any]
"""A raw document or record, as parsed and not yet validated."""
Ids = dict[str, set[str]]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, at a field path like ``units[3].rooms``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InstanceError(ValueError):
    """An input file is not a valid instance; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self, limit: int | None = None) -> list[str]:
        """One line per problem, each starting with the file name (see :func:`format_problems`)."""
        return format_problems(self.problems, self.source, limit)


def path_of(loc: Iterable[str | int]) -> str:
    """``('units', 3, 'rooms')`` → ``units[3].rooms``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class LongInteger(str):
    """The digits of an integer too long to parse (Python refuses over 4,300 digits).

    Readers keep such a number as this text so that validation reports it at its
    field path instead of the whole file failing.
    """


def parse_integer(digits: str) -> int | LongInteger:
    """The integer of a string of digits, or a :class:`LongInteger` when Python refuses that many."""
    try:
        return int(digits)
    except ValueError:  # over Python's 4,300-digit limit: validation reports it at its path
        return LongInteger(digits)


def too_long(digits: str) -> str:
    """The message for an integer of too many digits."""
    return f"a {len(digits.lstrip('+-'))}-digit number is too large (at most {MAX_INT})"


def short(value: object) -> str:
    """The ``repr`` of a value, cut to 60 characters for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def from_dict(raw: object, source: str = "<memory>") -> Instance:
    """Validate a parsed ``anvis/1`` document and build the :class:`Instance`.

    Raises
    ------
    InstanceError
        With every problem found in the document.
    """
    if not isinstance(raw, dict):
        raise InstanceError(source, [Problem("", f"expected a JSON object, got {type(raw).__name__}")])
    problems: list[Problem] = []
    body_raw = {k: v for k, v in raw.items() if k != "scores"}
    if raw.get("format") != FORMAT_V2:
        body_raw = _without_v2_fields(body_raw)
    objects = _objects(raw)  # the tables gathered once for the checks below
    # the tables' own ids checked at once (references to them are the same strings): the schema
    # check then finds each in its cache instead of calling Python for each (0.007 s of a national week)
    # the ledger's pool ids too (not ids of a table), and the texts (names, notes): 750 Python calls
    # of a national week's first validation, 0.001 s
    tables = objects.records
    accept_ids(chain(chain.from_iterable(objects.ids.values()), [r.get("pool") for r in tables["ledger"]]))
    texts = [r.get(key) for name, key in _TEXT_FIELDS for r in tables[name]]
    accept_texts(chain([raw.get("name")], texts))
    body = None
    try:
        body = Body.model_validate(body_raw)
    except pydantic.ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = err["loc"]
            msg = err["msg"]
            if err["type"] == "missing":
                problems.append(Problem(path_of(loc), "required field is missing"))
                continue
            # Pydantic names the union branch or the tuple index in loc; keep the path readable.
            loc = tuple(p for p in loc if not (isinstance(p, str) and p in ("tuple", "list", "dict")))
            if isinstance(err.get("input"), LongInteger):
                problems.append(Problem(path_of(loc), too_long(err["input"])))
                continue
            msg = msg.removeprefix("Value error, ")  # our own checks (ids, texts) say what is wrong
            problems.append(Problem(path_of(loc), f"{msg} (got {short(err.get('input'))})"))
    scores, score_problems = _scores(raw.get("scores", []))
    problems += score_problems
    problems += _relations(raw, scores, objects)
    if not problems and body is not None:
        problems += _objective_range(body, scores)
    if problems:
        raise InstanceError(source, problems)
    _warn_unknown_fields(raw, source, objects)
    assert body is not None  # no problems: the schema check built it
    if not body.name:
        body = body.model_copy(update={"name": _stem(source)})
    inst = Instance(body, scores, source)
    if inst.version == 2 and (v2_problems := _v2_pool_problems(inst)):
        raise InstanceError(source, v2_problems)
    return inst


#: The free-text fields of the records (:data:`models.schema.Text`), as ``(table, field)``.
_TEXT_FIELDS = (("regions", "name"), ("municipalities", "name"), ("organisations", "name"), ("overrides", "note"))


def _stem(source: str) -> str:
    import os

    base = os.path.basename(source.rstrip("/"))
    return base.split(".")[0] or "instance"


def _scores(raw: object) -> tuple[Scores, list[Problem]]:
    if isinstance(raw, ScoreColumns):  # read column-wise (models.fastjson): no dict per row
        fast = _score_columns(raw.citizen, raw.unit, raw.score)
        if fast is not None:
            return fast, []
        raw = raw.records()  # some value is wrong: word it as for the rows of a file
    if not isinstance(raw, list):
        return Scores(), [Problem("scores", f"expected a list, got {short(raw)}")]
    if not raw:
        return Scores(), []
    # Fast path for large, well-formed tables (OR-Library has 640,000 rows):
    # check the types of whole columns at once, and only walk row by row on failure.
    try:
        cit = [r["citizen"] for r in raw]
        uni = [r["unit"] for r in raw]
        val = [r["score"] for r in raw]
        if set(map(type, cit)) == {str} and set(map(type, uni)) == {str} and set(map(type, val)) <= {int, float}:
            fast = _score_columns(cit, uni, val)
            if fast is not None:
                return fast, []
    except (KeyError, TypeError):
        pass
    problems = []
    for i, r in enumerate(raw):
        if not isinstance(r, dict):
            problems.append(Problem(f"scores[{i}]", f"expected an object, got {short(r)}"))
            continue
        for key in ("citizen", "unit"):
            if key not in r:
                problems.append(Problem(f"scores[{i}].{key}", "required field is missing"))
            elif not isinstance(r[key], str) or not r[key]:
                problems.append(Problem(f"scores[{i}].{key}", f"expected a non-empty id string (got {short(r[key])})"))
            elif id_problem(r[key]):
                problems.append(Problem(f"scores[{i}].{key}", f"{id_problem(r[key])} (got {short(r[key])})"))
        if "score" not in r:
            problems.append(Problem(f"scores[{i}].score", "required field is missing"))
        else:
            s = r["score"]
            if isinstance(s, LongInteger):
                problems.append(Problem(f"scores[{i}].score", too_long(s)))
            elif _is_int(s) and s > MAX_INT:  # before isfinite, which fails on ints beyond any float
                problems.append(Problem(f"scores[{i}].score", f"{short(s)} is too large (at most {MAX_INT})"))
            elif isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s < 0:
                problems.append(Problem(f"scores[{i}].score", f"expected a finite number >= 0 (got {short(s)})"))
    return Scores(), problems


def _score_columns(cit: Sequence[str], uni: Sequence[str], val: Sequence[int | float] | NDArray[Any]) -> Scores | None:
    """The scores of columns of id strings and numbers, or None if some row has a problem to word."""
    try:
        arr = np.asarray(val, dtype=float)
    except OverflowError:  # an integer beyond any float
        return None
    ids_ok = all(id_problem(x) is None for x in set(cit) | set(uni))  # few distinct ids
    if np.isfinite(arr).all() and (arr >= 0).all() and all(cit) and all(uni) and ids_ok:
        return Scores(tuple(cit), tuple(uni), arr + 0.0)  # + 0.0: a score of -0 is 0
    return None


def _table(raw: Raw, name: str) -> list[Any]:
    """A table of raw records, or [] where it is absent or not a list (type errors come from pydantic)."""
    t = raw.get(name, [])
    return t if isinstance(t, list) else []


#: The tables whose records have an ``id`` (the ledger names pools, overrides name units and citizens).
ID_TABLES = tuple(t for t in RECORD_OF if t not in ("ledger", "overrides"))


class _Objects:
    """The records of each table that are objects (:func:`_dicts`), and their ids that are strings.

    A plain class, not a dataclass: it is only passed between this module's checks, and a
    frozen dataclass costs every run 0.25 ms of import (its generated methods are compiled).
    """

    __slots__ = ("ids", "records")

    def __init__(self, records: dict[str, list[Raw]], ids: dict[str, list[str]]):
        self.records = records
        self.ids = ids


def _objects(raw: Raw) -> _Objects:
    """Each table's objects and string ids, gathered once for the checks of a document."""
    records = {t: _dicts(raw, t) for t in RECORD_OF}
    ids = {t: [r["id"] for r in records[t] if isinstance(r.get("id"), str)] for t in ID_TABLES}
    return _Objects(records, ids)


def _ids(raw: Raw, name: str, problems: list[Problem], given: list[str]) -> set[str]:
    """The ids of a table; reports duplicates. ``given``: its string ids in order (:func:`_objects`)."""
    distinct = set(given)
    if len(distinct) == len(given):
        return distinct  # no id twice: nothing to word, found without a Python call per record
    first: dict[str, int] = {}
    for i, r in enumerate(_table(raw, name)):
        if isinstance(r, dict) and isinstance(r.get("id"), str):
            rid = r["id"]
            if rid in first:
                problems.append(Problem(f"{name}[{i}].id", f"duplicate id {rid!r} (first at {name}[{first[rid]}])"))
            else:
                first[rid] = i
    return set(first)


def _relations(raw: Raw, given: Scores | None = None, objects: _Objects | None = None) -> list[Problem]:
    """Unique ids, resolved references and checks that span fields or records.

    ``given``: the score table as :func:`_scores` read it, when it did (its id codes are reused);
    ``objects``: the tables' objects and ids, when gathered already (:func:`_objects`).
    """
    problems: list[Problem] = []
    fmt = raw.get("format")
    if isinstance(fmt, str) and fmt not in FORMATS:
        problems.append(Problem("format", f"unknown format version {fmt!r} (expected {FORMAT!r} or {FORMAT_V2!r})"))
    v2 = fmt == FORMAT_V2
    objects = _objects(raw) if objects is None else objects
    tables = objects.records
    ids = {t: _ids(raw, t, problems, objects.ids[t]) for t in ID_TABLES}

    def ref(path: str, value: object, table: str, what: str) -> None:
        # an id that no copy could keep is reported by the schema check already
        if isinstance(value, str) and value and value not in ids[table] and id_problem(value) is None:
            problems.append(Problem(path, f"unknown {what} {value!r}"))

    def known(name: str, *refers: tuple[str, str]) -> bool:
        # Whether no reference of the table's fields would be reported: the records are walked
        # (and their problems worded, in order) only where some would.
        records = tables[name]
        return all(_no_unknown([r.get(key) for r in records], ids[table]) for key, table in refers)

    if not known("municipalities", ("region", "regions")):
        for i, r in _records(raw, "municipalities"):
            ref(f"municipalities[{i}].region", r.get("region"), "regions", "region")
    if not known("departments", ("organisation", "organisations"), ("municipality", "municipalities")):
        for i, r in _records(raw, "departments"):
            ref(f"departments[{i}].organisation", r.get("organisation"), "organisations", "organisation")
            ref(f"departments[{i}].municipality", r.get("municipality"), "municipalities", "municipality")
    if not known("units", ("department", "departments")):
        for i, r in _records(raw, "units"):
            ref(f"units[{i}].department", r.get("department"), "departments", "department")
    for i, r in _records(raw, "agreements"):
        ref(f"agreements[{i}].municipality", r.get("municipality"), "municipalities", "municipality")
        ref(f"agreements[{i}].organisation", r.get("organisation"), "organisations", "organisation")
        for j, d in _items(r.get("departments")):
            ref(f"agreements[{i}].departments[{j}]", d, "departments", "department")
        rid = r.get("id")
        if isinstance(rid, str) and _is_default_pool(rid, ids, v2):
            problems.append(Problem(f"agreements[{i}].id", f"{rid!r} is the id of a default pool"))
    seen_pools: dict[str, int] = {}
    for i, r in _records(raw, "ledger"):
        pool = r.get("pool")
        if isinstance(pool, str) and pool:
            if pool in seen_pools:
                problems.append(
                    Problem(f"ledger[{i}].pool", f"duplicate pool {pool!r} (first at ledger[{seen_pools[pool]}])")
                )
            else:
                seen_pools[pool] = i
            if pool not in ids["agreements"] and not _is_default_pool(pool, ids, v2):
                problems.append(
                    Problem(
                        f"ledger[{i}].pool",
                        f"unknown pool {pool!r} (neither an agreement id nor default:<municipality>:<organisation>"
                        + (":<kind>" if v2 else "")
                        + " of known ids)",
                    )
                )
        vb, cb = r.get("vacancies_before", 0), r.get("claimed_before", 0)
        if _is_int(vb) and _is_int(cb) and 0 <= vb < cb:  # negative counts are type errors already
            problems.append(Problem(f"ledger[{i}].claimed_before", f"{cb} exceeds vacancies_before {vb}"))
    citizens = tables["citizens"]
    refer = not (
        known("citizens", ("municipality", "municipalities"))
        and _no_unknown([d for v in _lists(citizens, "excluded_departments") for d in v], ids["departments"])
        and _no_unknown(
            [p.get("department") for v in _lists(citizens, "preferences") for p in v if isinstance(p, dict)],
            ids["departments"],
        )
    )
    if refer:
        for i, r in _records(raw, "citizens"):
            ref(f"citizens[{i}].municipality", r.get("municipality"), "municipalities", "municipality")
            for j, d in _items(r.get("excluded_departments")):
                ref(f"citizens[{i}].excluded_departments[{j}]", d, "departments", "department")
            for j, p in _items(r.get("preferences")):
                if isinstance(p, dict):
                    ref(f"citizens[{i}].preferences[{j}].department", p.get("department"), "departments", "department")
            _rooms_order(problems, i, r)
    else:  # only the citizens whose rooms may be out of order are looked at in Python
        for i, r in enumerate(_table(raw, "citizens")):
            hi = r.get("max_rooms") if isinstance(r, dict) else None
            if isinstance(hi, int) and isinstance(lo := r.get("min_rooms", 1), int) and lo > hi:
                _rooms_order(problems, i, r)
    scores = raw.get("scores", [])
    if isinstance(scores, ScoreColumns) or (isinstance(scores, list) and scores):
        problems += _score_refs(scores, ids, given)
    problems += _override_refs(raw, ids)
    problems += _v2_relations(raw, ids) if v2 else []
    problems += _parameters(raw)
    problems += _too_large(raw, tables)
    return problems


# Whole numbers above 2**53 lose precision as floats and overflow the solver's int64 arrays.
MAX_INT = 2**53
INT_FIELDS = {
    "regions": ("grant_quota",),
    "municipalities": ("subsidy_frame",),
    "departments": ("max_vulnerable",),
    "units": ("rooms", "sequence"),
    "agreements": ("rooms",),
    "ledger": ("vacancies_before", "claimed_before"),
    "citizens": ("priority", "min_rooms", "max_rooms"),
}


def _rooms_order(problems: list[Problem], i: int, r: Raw) -> None:
    """Reports citizen ``i``'s ``max_rooms`` below its ``min_rooms``."""
    lo, hi = r.get("min_rooms", 1), r.get("max_rooms")
    if _is_int(lo) and _is_int(hi) and lo > hi >= 1:  # rooms < 1 are type errors already
        problems.append(Problem(f"citizens[{i}].max_rooms", f"{hi} is less than min_rooms {lo}"))


def _too_large(raw: Raw, tables: dict[str, list[Raw]]) -> list[Problem]:
    """Whole numbers above ``MAX_INT`` in :data:`INT_FIELDS`; ``tables``: each table's objects (:func:`_dicts`)."""
    if not any(_any_too_large(tables[name], keys) for name, keys in INT_FIELDS.items()):
        return []  # the common case, found without a Python call per field
    problems = []
    for name, keys in INT_FIELDS.items():
        for i, r in _records(raw, name):
            for key in keys:
                v = r.get(key)
                for suffix, x in [(f"[{j}]", x) for j, x in _items(v)] if isinstance(v, list) else [("", v)]:
                    if _is_int(x) and x > MAX_INT:
                        problems.append(
                            Problem(f"{name}[{i}].{key}{suffix}", f"{short(x)} is too large (at most {MAX_INT})")
                        )
    return problems


def _any_too_large(records: list[Raw], keys: tuple[str, ...]) -> bool:
    """Whether some record (an object) holds a whole number above ``MAX_INT`` at one of ``keys`` (or in a list)."""
    for key in keys:
        values = [r.get(key) for r in records]
        try:  # the common case: values of one kind, all at most MAX_INT, found by one comparison (max runs in C)
            if max(filter(None, values), default=0) <= MAX_INT:  # None, 0 and False left out
                continue
        except (TypeError, ValueError):  # values that do not compare (lists, texts, numbers), or have no truth
            pass  # value (an array in a document built in memory): looked at one by one
        # a bool is an int, but never above MAX_INT
        whole = [x for x in values if isinstance(x, int)]
        whole += [x for v in values if isinstance(v, list) for x in v if isinstance(x, int)]
        if whole and max(whole) > MAX_INT:
            return True
    return False


EXACT = 2**53
"""Every whole number up to 2^53 is exact in double precision; sums beyond it are rounded."""
MAX_DECIMALS = 6
"""The finest resolution of weights and scores that the objective bound keeps exact (10^-6)."""
DEFAULT_SCORE_MAX = 100  # the engine's own match-quality score lies in [0, 100] (README)


def resolution(values: np.ndarray) -> float:
    """The step of the decimal grid the values lie on: 1 for whole numbers, 0.25 -> 0.01, ...

    Values finer than 10^-MAX_DECIMALS count as that (they are not exact decimals anyway).
    """
    for decimals in range(MAX_DECIMALS + 1):
        if np.array_equal(np.round(values, decimals), values):
            return float(10.0**-decimals)
    return float(10.0**-MAX_DECIMALS)


def _objective_range(body: Body, scores: Scores) -> list[Problem]:
    """Weights and scores small enough that any objective value is exact in double precision.

    The objective is a sum over at most min(citizens, units) assignments of (priority
    weight + score). It is exact (solvers agree, and the best plan is told apart from the
    next) only while every such sum, counted in steps of the data's resolution, stays
    below 2^53. Beyond that, weights of 1e16 gave wrong plans labelled optimal.
    """
    n = min(len(body.citizens), len(body.units))
    if n == 0:
        return []
    weights: dict[str, float] = {}
    if body.parameters.objective == "weighted" and body.parameters.priority_weights:
        present = {str(c.priority) for c in body.citizens}
        weights = {k: w for k, w in body.parameters.priority_weights.items() if k in present}
    w_key = max(weights, key=lambda k: weights[k], default=None)
    w_max = weights[w_key] if w_key is not None else 0.0
    s_at = int(np.argmax(scores.score)) if len(scores) else None
    s_max = max(DEFAULT_SCORE_MAX, float(scores.score[s_at])) if s_at is not None else DEFAULT_SCORE_MAX
    step = resolution(np.concatenate([np.asarray(list(weights.values()), dtype=float), scores.score]))
    limit = EXACT * step / n  # largest weight + score of one assignment
    if w_max + s_max < limit:
        return []
    if w_key is not None and w_max >= s_max:
        path, value = f"parameters.priority_weights.{w_key}", w_max
    else:
        path, value = f"scores[{s_at}].score", s_max
    return [
        Problem(
            path,
            f"{value:g} is too large: a sum over up to {n} assignments of priority weight + score must stay "
            f"below 2^53 steps of {step:g} to be exact in double precision, so weight + score must be below "
            f"{limit:.6g}",
        )
    ]


def format_problems(problems: Sequence[Problem], source: str | None = None, limit: int | None = 50) -> list[str]:
    """The lines to print for the problems of a file: the first ``limit``, then how many more.

    Parameters
    ----------
    problems
        Everything wrong, in the order found.
    source
        The file's name, put before every line (as :meth:`InstanceError.lines` does); None: no prefix.
    limit
        How many problems to list; None lists all.

    Returns
    -------
    list of str
        One line per problem shown, and a last line counting the rest when some are left out.
    """
    prefix = f"{source}: " if source is not None else ""
    shown = problems if limit is None else problems[:limit]
    lines = [f"{prefix}{p}" for p in shown]
    rest = len(problems) - len(shown)
    if rest:
        lines.append(f"{prefix}... and {rest} more problem{'s' * (rest != 1)} not shown")
    return lines


def _override_refs(raw: Raw, ids: Ids) -> list[Problem]:
    """References and contradictions among overrides.

    Whether a lock obeys the rules is checked by
    :func:`optimizer.engine.overrides.override_problems`, which knows the rules.
    """
    problems = []
    locked_citizen: dict[str | None, int] = {}
    locked_unit: dict[str | None, int] = {}
    reserved: dict[str, int] = {}
    held_back: dict[str, str] = {}  # unit -> "reserved" or "held", as the first of them says
    pair_action: dict[tuple[str | None, str], tuple[str, int]] = {}
    for i, r in _records(raw, "overrides"):
        action, c, u = r.get("action"), r.get("citizen"), r.get("unit")
        if isinstance(u, str) and u and u not in ids["units"] and id_problem(u) is None:
            problems.append(Problem(f"overrides[{i}].unit", f"unknown unit {u!r}"))
        if action in ("lock", "forbid"):
            if "citizen" not in r or c is None:
                problems.append(Problem(f"overrides[{i}].citizen", f"required with action {action!r}"))
            elif isinstance(c, str) and c and c not in ids["citizens"] and id_problem(c) is None:
                problems.append(Problem(f"overrides[{i}].citizen", f"unknown citizen {c!r}"))
        elif action in ("reserve", "hold") and c is not None:
            problems.append(
                Problem(
                    f"overrides[{i}].citizen",
                    f"a {action} holds back a unit for everyone; remove the citizen ({short(c)})",
                )
            )
        if not (isinstance(c, (str, type(None))) and isinstance(u, str)):
            continue  # type errors are reported by the schema check
        if action == "lock":
            for seen, key, what in ((locked_citizen, c, f"citizen {c!r}"), (locked_unit, u, f"unit {u!r}")):
                if key in seen:
                    problems.append(
                        Problem(f"overrides[{i}]", f"{what} is locked twice (first at overrides[{seen[key]}])")
                    )
                else:
                    seen[key] = i
        elif action in ("reserve", "hold"):
            reserved.setdefault(u, i)
            held_back.setdefault(u, "reserved" if action == "reserve" else "held")
        if action in ("lock", "forbid"):
            other = pair_action.setdefault((c, u), (action, i))
            if other[0] != action:
                problems.append(
                    Problem(
                        f"overrides[{i}]",
                        f"citizen {c!r} and unit {u!r} are both locked and forbidden (see overrides[{other[1]}])",
                    )
                )
    for u, i in locked_unit.items():
        if u in reserved:
            problems.append(
                Problem(
                    f"overrides[{i}]",
                    f"unit {u!r} is locked and {held_back[u]} (see overrides[{reserved[u]}])",
                )
            )
    return problems


def add_overrides(inst: Instance, overrides: Sequence[Mapping[str, object]]) -> Instance:
    """The instance with planner overrides appended to its own, checking only the overrides.

    The rest of the instance is valid already, so it is neither serialised nor
    validated again. Whether a lock obeys the rules is checked by
    :func:`optimizer.engine.overrides.check_overrides` (or by the solve).

    Parameters
    ----------
    inst
        A validated instance.
    overrides
        Override records as in a file (``action``, ``unit``, ``citizen``, ``note``).

    Returns
    -------
    Instance
        A new instance; ``overrides`` follow the instance's own, in the order given.

    Raises
    ------
    InstanceError
        Every problem of the overrides (field types, unknown ids, contradictions
        with each other or with the instance's own), at paths ``overrides[i]``
        counted in the combined list, worded exactly as for a file.
    """
    records = [o.model_dump(mode="json") for o in inst.overrides] + [dict(o) for o in overrides]
    ids = {"units": {u.id for u in inst.units}, "citizens": {c.id for c in inst.citizens}}
    problems = _override_refs({"overrides": records}, ids)
    try:
        added = tuple(Override.model_validate(r) for r in records[len(inst.overrides) :])
    except pydantic.ValidationError:
        added = None
    if added is None or problems:
        # The rare error path words its problems in the one place that words a file's.
        from_dict({**inst.to_dict(), "overrides": records}, inst.source)
        raise InstanceError(inst.source, problems)
    return inst.replace(overrides=inst.overrides + added)


def with_terms(inst: Instance, **tables: Any) -> Instance:
    """The instance with some of its terms replaced, validating only what can have changed.

    A what-if change (a share, a cap, a frame, a quota, a parameter, an agreement, a
    ledger row) touches only the terms; the citizens, units, overrides and scores of a
    validated instance stay valid, so they are neither written out nor checked again
    (a city's year: 41 MB of scores per change). The terms are checked whole, with every
    reference they take part in: their own ids and references to each other, agreements'
    units, ledger pools, priority weights against the citizens' priorities, the objective's
    range, and the units' pool modes (FORMAT.md §6 rule 4).

    Parameters
    ----------
    inst
        A validated instance.
    **tables
        Tables of :data:`models.instance.TERM_TABLES` as a document writes them (lists of
        record mappings; ``parameters`` a mapping), e.g. from :meth:`Instance.terms`.

    Returns
    -------
    Instance
        The same instance as ``from_dict({**inst.to_dict(), **tables}, inst.source)``
        (equal ``to_dict()`` and ``sha256``); ``inst`` itself when no table is given.

    Raises
    ------
    InstanceError
        When the changed document is not valid, with exactly the problems (and the
        unknown-field warning) of :func:`from_dict` on the whole changed document: any
        doubt (a problem, an unknown field, a municipality or department id gone) takes
        that path, which words a file's problems in its one place.
    TypeError
        For a table that is not one of the terms.
    """
    other = sorted(set(tables) - set(TERM_TABLES))
    if other:
        raise TypeError(f"with_terms replaces only {', '.join(TERM_TABLES)}, not {', '.join(other)}")
    if not tables:
        return inst
    changed = _terms_checked(inst, tables)
    if changed is not None:
        return changed
    return from_dict({**inst.to_dict(), **tables}, inst.source)


def _terms_checked(inst: Instance, tables: dict[str, Any]) -> Instance | None:
    """:func:`with_terms` when the changed terms are valid for certain, else None (the full path decides)."""
    if not inst.name:  # from_dict names a nameless instance after its file: leave that to it
        return None
    raw: Raw = {**inst.terms(), **tables}
    if unknown_fields(raw):
        return None
    body_raw = raw if inst.version == 2 else _without_v2_fields(raw)
    try:
        terms = Body.model_validate(body_raw)
    except pydantic.ValidationError:
        return None
    # The units and citizens refer to municipalities and departments by id only: while
    # every id they could name is still there, none of their references can break.
    if not ({m.id for m in inst.municipalities} <= {m.id for m in terms.municipalities}) or not (
        {d.id for d in inst.departments} <= {d.id for d in terms.departments}
    ):
        return None
    # The terms' own relations, against the ids (and priorities) of the unchanged people and units:
    # a unit or citizen record of an id alone has nothing else to check (its fields stay valid).
    stub = {
        **raw,
        "units": [{"id": u.id} for u in inst.units],
        "citizens": [{"id": c.id, "priority": c.priority} for c in inst.citizens],
    }
    if _relations(stub):
        return None
    body = inst.body.model_copy(update={t: getattr(terms, t) for t in tables})
    if "parameters" in tables and _objective_range(body, inst.scores):
        return None
    changed = inst.with_body(body)  # the same citizens, units and overrides: their text for the hash is shared
    if changed.version == 2 and _v2_pool_problems(changed):
        return None
    return changed


def _score_refs(scores: list[Any] | ScoreColumns, ids: Ids, given: Scores | None = None) -> list[Problem]:
    """Unknown citizens and units and duplicate pairs of a score table, row by row in order.

    Large tables (OR-Library has 640,000 rows) are checked column-wise: each row's ids are
    mapped to integer codes once (few distinct ids), then unknown ids and repeated pairs are
    found with numpy; only the rows with a problem are worded, in the order of
    :func:`_score_row_refs`, which checks tables with rows of other shapes (type errors).
    """
    if isinstance(scores, ScoreColumns):
        cit, uni = scores.citizen, scores.unit  # id strings, or they would be records
    else:
        try:
            cit = list(map(itemgetter("citizen"), scores))
            uni = list(map(itemgetter("unit"), scores))
        except (KeyError, TypeError, IndexError):  # a row that is not an object or lacks an id
            return _score_row_refs(scores, ids)
        if set(map(type, cit)) != {str} or set(map(type, uni)) != {str}:
            return _score_row_refs(scores, ids)
    # the columns' codes: those of the table read (the same rows), else computed here
    if given is not None and len(given) == len(cit):
        (c_ids, ci), (u_ids, ui) = given.citizen_codes, given.unit_codes
    else:
        (c_ids, ci), (u_ids, ui) = id_codes(cit), id_codes(uni)

    def unknown(values: Sequence[str], known: set[str]) -> NDArray[np.bool_]:
        return np.array([bool(v) and v not in known and id_problem(v) is None for v in values], bool)

    bad_c = unknown(c_ids, ids["citizens"])[ci]
    bad_u = unknown(u_ids, ids["units"])[ui]
    key = ci * len(u_ids) + ui
    if len(c_ids) * len(u_ids) <= 8 * len(key) + 1024 and np.bincount(key).max(initial=0) <= 1:
        first = np.arange(len(cit))  # no pair twice, found by counting instead of sorting
    else:
        _, first_at, inverse = np.unique(key, return_index=True, return_inverse=True)
        first = first_at[inverse.ravel()]
    dup = first != np.arange(len(cit))
    problems = []
    for i in np.flatnonzero(bad_c | bad_u | dup).tolist():
        c, u = cit[i], uni[i]
        if bad_c[i]:
            problems.append(Problem(f"scores[{i}].citizen", f"unknown citizen {c!r}"))
        if bad_u[i]:
            problems.append(Problem(f"scores[{i}].unit", f"unknown unit {u!r}"))
        if dup[i]:
            problems.append(
                Problem(
                    f"scores[{i}]", f"duplicate score for citizen {c!r} and unit {u!r} (first at scores[{first[i]}])"
                )
            )
    return problems


def _score_row_refs(scores: list[Any], ids: Ids) -> list[Problem]:
    """:func:`_score_refs` row by row, for tables with rows that are not objects of two id strings."""
    problems = []
    citizens, units = ids["citizens"], ids["units"]
    seen: dict[tuple[Any, Any], int] = {}
    for i, r in enumerate(scores):
        if not isinstance(r, dict):
            continue
        c, u = r.get("citizen"), r.get("unit")
        if isinstance(c, str) and c and c not in citizens and id_problem(c) is None:
            problems.append(Problem(f"scores[{i}].citizen", f"unknown citizen {c!r}"))
        if isinstance(u, str) and u and u not in units and id_problem(u) is None:
            problems.append(Problem(f"scores[{i}].unit", f"unknown unit {u!r}"))
        key = (c, u)
        try:
            if key in seen:
                problems.append(
                    Problem(
                        f"scores[{i}]",
                        f"duplicate score for citizen {c!r} and unit {u!r} (first at scores[{seen[key]}])",
                    )
                )
            else:
                seen[key] = i
        except TypeError:  # unhashable ids are reported as type errors already
            pass
    return problems


def _parameters(raw: Raw) -> list[Problem]:
    p = raw.get("parameters", {})
    if not isinstance(p, dict):
        return []
    problems = []
    band = p.get("subsidy_band_kr")
    if isinstance(band, list) and len(band) == 2 and all(_is_num(b) for b in band) and band[0] > band[1]:
        problems.append(Problem("parameters.subsidy_band_kr", f"low {band[0]} exceeds high {band[1]}"))
    if p.get("objective", "lexicographic") != "weighted":
        return problems
    weights = p.get("priority_weights")
    if weights is None:
        problems.append(Problem("parameters.priority_weights", "required with objective 'weighted'"))
        return problems
    if not isinstance(weights, dict):
        return problems  # reported by the type check
    for key in weights:
        # ASCII digits only: str.isdigit() also accepts '²', on which int() raises; at most 16
        # digits (priorities are at most MAX_INT), so int() never meets Python's digit limit.
        digits = isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= len(str(MAX_INT))
        if not (digits and int(key) >= 1 and str(int(key)) == key):
            shown = key if len(str(key)) <= 40 else f"{str(key)[:37]}..."
            problems.append(
                Problem(
                    f"parameters.priority_weights.{shown}",
                    f"key {short(key)} is not a priority (a positive integer as a string)",
                )
            )
    present = sorted({r.get("priority", 1) for _, r in _records(raw, "citizens") if _is_int(r.get("priority", 1))})
    for prio in present:
        if str(prio) not in weights:
            problems.append(
                Problem("parameters.priority_weights", f"no weight for priority {prio}, which citizens have")
            )
    return problems


def _is_default_pool(pool: str, ids: Ids, v2: bool = False) -> bool:
    if v2:  # default:<municipality>:<organisation>:<kind>; these ids hold no ':' (FORMAT.md §6)
        parts = pool.split(":")
        return (
            len(parts) == 4
            and pool == default_pool_id(parts[1], parts[2], parts[3])
            and parts[1] in ids["municipalities"]
            and parts[2] in ids["organisations"]
            and parts[3] in KINDS
        )
    return any(m in ids["municipalities"] and o in ids["organisations"] for m, o in default_pool_owners(pool))


def _records(raw: Raw, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    return ((i, r) for i, r in enumerate(_table(raw, name)) if isinstance(r, dict))


def _dicts(raw: Raw, name: str) -> list[dict[str, Any]]:
    """The records of a table that are objects (the others are type errors), without their positions."""
    return [r for r in _table(raw, name) if isinstance(r, dict)]


def _lists(records: list[dict[str, Any]], key: str) -> list[list[Any]]:
    """The values at ``key`` of the records that are lists (others are the schema check's to report)."""
    return [v for r in records if isinstance(v := r.get(key), list)]


def _no_unknown(values: list[Any], known: set[str]) -> bool:
    """Whether no value is a reference :func:`_relations` reports as unknown.

    That is, each is a known id, or not an id to look up: no string, empty, or an id that
    no copy could keep (all three are the schema check's to report). Only the distinct
    values outside ``known`` are looked at (set difference in C).
    """
    try:
        rest = set(values) - known
    except TypeError:  # an unhashable value (a type error): the caller words row by row
        return False
    return not any(isinstance(v, str) and v and id_problem(v) is None for v in rest)


def _items(value: object) -> Iterable[tuple[int, Any]]:
    return enumerate(value) if isinstance(value, list) else ()


def _is_int(x: object) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_num(x: object) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


_KNOWN = {name: set(rec.model_fields) for name, rec in RECORD_OF.items()}
_KNOWN["preferences"] = set(Preference.model_fields)
_KNOWN["parameters"] = set(Parameters.model_fields)
_KNOWN["top"] = set(Body.model_fields) | {"scores"}
_KNOWN["scores"] = {"citizen", "unit", "score"}


_KNOWN_V1 = {name: known - set(V2_FIELDS.get(name, ())) for name, known in _KNOWN.items()}


def unknown_fields(raw: Raw, tables: dict[str, list[Raw]] | None = None) -> list[str]:
    """Field paths present in the document but not in FORMAT.md (ignored by anvis).

    ``tables``: the records of each table that are objects, when gathered already (:func:`_dicts`).
    """
    tables = {name: _dicts(raw, name) for name in RECORD_OF} if tables is None else tables
    known = _KNOWN if raw.get("format") == FORMAT_V2 else _KNOWN_V1  # the fields of its version
    out = [k for k in raw if k not in known["top"]]
    if isinstance(raw.get("parameters"), dict):
        out += [f"parameters.{k}" for k in raw["parameters"] if k not in known["parameters"]]
    for name in RECORD_OF:
        fields = known[name]
        extra = sorted(set().union(*tables[name]) - fields)  # keys gathered in C
        out += [f"{name}[*].{k}" for k in extra]
    prefs = [p for v in _lists(tables["citizens"], "preferences") for p in v if isinstance(p, dict)]
    out += [f"citizens[*].preferences[*].{k}" for k in sorted(set().union(*prefs) - known["preferences"])]
    scores = raw.get("scores")
    if isinstance(scores, list):
        keys = set().union(*(r for r in scores if isinstance(r, dict)))
        out += [f"scores[*].{k}" for k in sorted(keys - known["scores"])]
    return out


def _warn_unknown_fields(raw: Raw, source: str, objects: _Objects) -> None:
    extra = unknown_fields(raw, objects.records)
    if extra:
        warnings.warn(
            f"{source}: ignoring fields not in anvis/1: {', '.join(extra[:10])}" + (" ..." if len(extra) > 10 else ""),
            UnknownFieldWarning,
            stacklevel=3,
        )


class UnknownFieldWarning(UserWarning):
    """A field the format does not define; it is ignored."""


# --- anvis/2 (FORMAT.md §6) --------------------------------------------------------


def _without_v2_fields(body: dict[str, object]) -> dict[str, object]:
    """A version-1 body without the fields only anvis/2 defines (ignored, as unknown fields are)."""
    out = dict(body)
    for table, keys in V2_FIELDS.items():
        value = out.get(table)
        if table == "parameters" and isinstance(value, dict):
            out[table] = {k: v for k, v in value.items() if k not in keys}
        elif isinstance(value, list) and _may_hold(value, keys):
            # only records that hold such a field are copied (most hold none)
            out[table] = [
                {k: v for k, v in r.items() if k not in keys}
                if isinstance(r, dict) and not r.keys().isdisjoint(keys)
                else r
                for r in value
            ]
    return out


def _may_hold(records: list[Any], keys: tuple[str, ...]) -> bool:
    """False when no record of a table is an object holding one of ``keys``, found in C (``in`` by ``map``).

    True otherwise, and also when a record is no object: a text holding a key's name, say
    (the caller then looks at each record).
    """
    try:
        return any(any(map(contains, records, repeat(key))) for key in keys)
    except TypeError:  # a record that ``in`` does not apply to (a number): each is looked at
        return True


def _v2_relations(raw: dict[str, object], ids: dict[str, set[str]]) -> list[Problem]:
    """The relations anvis/2 adds (FORMAT.md §6).

    No ':' in municipality and organisation ids (they are parts of default pool
    ids), and known units in an agreement's ``units`` filter.
    """
    problems = []
    for name, what in (("municipalities", "municipality"), ("organisations", "organisation")):
        for i, r in _records(raw, name):
            rid = r.get("id")
            if isinstance(rid, str) and ":" in rid:
                problems.append(
                    Problem(f"{name}[{i}].id", f"a {what} id must not contain ':' in anvis/2 (got {rid!r})")
                )
    for i, r in _records(raw, "agreements"):
        listed = r.get("units")
        for j, u in enumerate(listed if isinstance(listed, list) else ()):
            if isinstance(u, str) and u and u not in ids["units"]:
                problems.append(Problem(f"agreements[{i}].units[{j}]", f"unknown unit {u!r}"))
    return problems


def _v2_pool_problems(inst: Instance) -> list[Problem]:
    """``offered: true`` only on units of rotation pools (FORMAT.md §6 rule 4)."""
    of_units = unit_pools(inst)
    pool_map = pools(inst, of_units)
    problems = []
    for i, (u, pool) in enumerate(zip(inst.units, of_units, strict=True)):
        if u.offered and pool_map[pool].mode != "rotation":
            problems.append(
                Problem(
                    f"units[{i}].offered",
                    f"unit {u.id!r} is in pool {pool!r}, whose mode is {pool_map[pool].mode!r}: "
                    "only units of rotation pools can be offered",
                )
            )
    return problems
