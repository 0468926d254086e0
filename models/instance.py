"""The validated, immutable allocation instance."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Any

import numpy as np

from models.schema import (
    FORMAT_V2,
    KINDS,
    V2_FIELDS,
    Agreement,
    Body,
    Citizen,
    Department,
    LedgerEntry,
    Municipality,
    Organisation,
    Override,
    Parameters,
    Region,
    Unit,
)


@dataclass(frozen=True)
class Scores:
    """The ``scores`` table, columnar: one row per given (citizen, unit) score."""

    citizen: tuple[str, ...] = ()
    unit: tuple[str, ...] = ()
    score: np.ndarray[Any, np.dtype[np.float64]] = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.score.setflags(write=False)

    def __len__(self) -> int:
        return len(self.citizen)

    @cached_property
    def citizen_codes(self) -> tuple[tuple[str, ...], np.ndarray[Any, np.dtype[np.int64]]]:
        """The distinct citizen ids, sorted, and the position of each row's citizen among them.

        Computed once, for validation (unknown ids, repeated pairs) and the engine (each
        row's citizen index), from few distinct ids: no Python call per row.
        """
        return id_codes(self.citizen)

    @cached_property
    def unit_codes(self) -> tuple[tuple[str, ...], np.ndarray[Any, np.dtype[np.int64]]]:
        """The distinct unit ids, sorted, and the position of each row's unit among them."""
        return id_codes(self.unit)

    def records(self) -> list[dict[str, Any]]:
        """The table as a list of ``{"citizen", "unit", "score"}`` dicts."""
        return [
            {"citizen": c, "unit": u, "score": _number(s)}
            for c, u, s in zip(self.citizen, self.unit, self.score.tolist(), strict=True)
        ]


def id_codes(ids: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray[Any, np.dtype[np.int64]]]:
    """``sorted(set(ids))`` and each id's position in it (sorted: codes independent of hash order)."""
    distinct = tuple(sorted(set(ids)))
    code = {x: k for k, x in enumerate(distinct)}
    # map(dict.__getitem__): the lookups run in C, no Python frame per row
    return distinct, np.fromiter(map(code.__getitem__, ids), np.int64, len(ids))


def _number(x: float) -> int | float:
    """Whole numbers as ``int`` so that files keep ``4800``, not ``4800.0``."""
    return int(x) if float(x).is_integer() else float(x)


#: The tables of an instance's terms, which a what-if change may replace (FORMAT.md §1, §2):
#: never the citizens, units, overrides or scores, nor ``format`` and ``name``.
TERM_TABLES = ("parameters", "regions", "municipalities", "organisations", "departments", "agreements", "ledger")
#: The tables of the body that no change of the terms touches.
UNCHANGED_BY_TERMS = ("units", "citizens", "overrides")
# Where an instance and its variants (Instance.with_body) keep the canonical text of their
# common citizens, units and overrides: one dict, shared, filled at the first hash.
_SHARED = "_shared_people_parts"


@dataclass(frozen=True, eq=False)
class Instance:
    """A validated ``anvis/1`` or ``anvis/2`` instance (FORMAT.md §1, §6).

    Build it with :func:`models.load` or :func:`models.from_dict`, which check
    every field, id and reference; the constructor itself trusts its input.

    Attributes
    ----------
    body
        Every table but ``scores``, as typed records.
    scores
        The given pair scores, columnar.
    source
        Where the instance was read from (for messages only).
    """

    body: Body
    scores: Scores = field(default_factory=Scores)
    source: str = "<memory>"

    # Short names for the tables, so callers write ``inst.units``.
    @property
    def name(self) -> str:
        """The instance's name (the round it describes)."""
        return self.body.name

    @property
    def parameters(self) -> Parameters:
        """The round's parameters, defaults filled in (FORMAT.md §1)."""
        return self.body.parameters

    @property
    def regions(self) -> tuple[Region, ...]:
        """The regions, each with its grant quota."""
        return self.body.regions

    @property
    def municipalities(self) -> tuple[Municipality, ...]:
        """The municipalities, each with its region and subsidy frame."""
        return self.body.municipalities

    @property
    def organisations(self) -> tuple[Organisation, ...]:
        """The housing organisations."""
        return self.body.organisations

    @property
    def departments(self) -> tuple[Department, ...]:
        """The departments (afdelinger), each with its organisation, municipality, area and mixed-city cap."""
        return self.body.departments

    @property
    def units(self) -> tuple[Unit, ...]:
        """The vacant units of this round."""
        return self.body.units

    @property
    def agreements(self) -> tuple[Agreement, ...]:
        """The agreements (pools with their shares), in list order: a unit's pool is the first that matches."""
        return self.body.agreements

    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:
        """The ledger entries: each pool's vacancies and claims of earlier rounds."""
        return self.body.ledger

    @property
    def citizens(self) -> tuple[Citizen, ...]:
        """The citizens on the urgent list."""
        return self.body.citizens

    @property
    def overrides(self) -> tuple[Override, ...]:
        """The planner's overrides (locks, forbidden pairs, reserved units)."""
        return self.body.overrides

    @property
    def version(self) -> int:
        """The format version: 2 for ``anvis/2`` (FORMAT.md §6), else 1."""
        return 2 if self.body.format == FORMAT_V2 else 1

    @property
    def subsidy_kinds(self) -> tuple[str, ...]:
        """The unit kinds a subsidised assignment may use (rule 8; FORMAT.md §6 rule 6).

        Every kind in version 1; ``parameters.subsidy_kinds`` in version 2.
        """
        return self.parameters.subsidy_kinds if self.version == 2 else KINDS

    @cached_property
    def priorities(self) -> tuple[int, ...]:
        """Every priority present among the citizens, most urgent first."""
        return tuple(sorted({c.priority for c in self.citizens}))

    def to_dict(self) -> dict[str, Any]:
        """The instance as an ``anvis/1`` or ``anvis/2`` document, defaults written out."""
        doc = self._tables()
        doc["scores"] = self.scores.records()
        return doc

    def _tables(self) -> dict[str, Any]:
        """Every part of :meth:`to_dict` but ``scores``, whole floats written as ints."""
        doc = _body_document(self.body)
        if self.version == 2:
            # the anvis/2 fields are left out of model_dump, so that version 1 keeps its form and hash
            for table, keys in V2_FIELDS.items():
                records = [self.parameters] if table == "parameters" else getattr(self.body, table)
                dumped = [doc[table]] if table == "parameters" else doc[table]
                for record, row in zip(records, dumped, strict=True):
                    for key in keys:
                        value = getattr(record, key)
                        row[key] = _whole_numbers(list(value) if isinstance(value, tuple) else value)
        for citizen, row in zip(self.body.citizens, doc["citizens"], strict=True):
            if citizen.waiting_days is not None:  # an anvis extension: only when given (see Citizen)
                row["waiting_days"] = citizen.waiting_days
        if not doc["overrides"]:
            # FORMAT.md has no overrides: plain instances keep their canonical form and hash
            del doc["overrides"]
        return doc

    @cached_property
    def sha256(self) -> str:
        """Hash of the canonical document: equal for equal content in any file format.

        The canonical document is ``json.dumps(self.to_dict(), sort_keys=True,
        separators=(",", ":"))``. It is written here table by table, the scores
        column-wise, to the same text: ``to_dict`` would rebuild a dict per score
        (hundreds of thousands in a city's year) only to serialise it again.
        """
        shared = self.__dict__.get(_SHARED)
        parts: dict[str, Iterable[str]]
        if shared is None:
            # json.dumps of a dict with sorted keys is "{" + "k":v joined by "," + "}"
            parts = {json.dumps(k): (_canonical(v),) for k, v in self._tables().items()}
        else:  # a variant of the same people: only the terms are written here (see with_body)
            if not shared:
                shared.update(self._people_parts())
            parts = {json.dumps(k): (_canonical(v),) for k, v in self.terms().items()}
            parts.update(shared)
        parts[json.dumps("scores")] = _scores_json_pieces(self.scores)
        digest = hashlib.sha256(b"{")
        for i, key in enumerate(sorted(parts)):
            digest.update(f"{',' if i else ''}{key}:".encode())
            for piece in parts[key]:  # the scores in pieces: a large table's text is never whole
                digest.update(piece.encode())
        digest.update(b"}")
        return digest.hexdigest()

    def terms(self) -> dict[str, Any]:
        """The part of :meth:`to_dict` that a negotiated change may touch: every key but the people and units.

        ``format``, ``name``, ``parameters`` and the tables of :data:`TERM_TABLES`, in the
        form :meth:`to_dict` writes them, without writing out the citizens, units, overrides
        or scores (a city's year: most of the document). :func:`models.validate.with_terms`
        takes changed copies of these tables back.
        """
        empty = Instance(self.body.model_copy(update=dict.fromkeys(UNCHANGED_BY_TERMS, ())), Scores(), self.source)
        doc = empty._tables()
        for key in UNCHANGED_BY_TERMS:
            doc.pop(key, None)
        return doc

    def _people_parts(self) -> dict[str, tuple[str]]:
        """The canonical text of the citizens, units and (when any) overrides, by quoted key, for :attr:`sha256`."""
        tables = dict.fromkeys((t for t in TERM_TABLES if t != "parameters"), ())  # the parameters are a record
        people = Instance(self.body.model_copy(update=tables), Scores(), self.source)
        doc = people._tables()
        return {json.dumps(k): (_canonical(doc[k]),) for k in UNCHANGED_BY_TERMS if k in doc}

    def with_body(self, body: Body) -> Instance:
        """A copy with another body, the same scores and source (trusted, as the constructor is).

        When the body keeps this instance's format and its very citizens, units and overrides
        (the same immutable records, as :func:`models.validate.with_terms` keeps them), their
        canonical text is provably the same: it is written once, at the first :attr:`sha256`
        of this instance or any such variant of it, and shared. A variant's hash then writes
        only its terms and scores (``anvis scenario``: two fifths of a city-week variant's
        time was writing out the same citizens and units again). Plain instances keep
        nothing: the text is held only for instances that have variants.
        """
        new = Instance(body, self.scores, self.source)
        same = body.format == self.body.format and all(
            getattr(body, t) is getattr(self.body, t) for t in UNCHANGED_BY_TERMS
        )
        if same:
            new.__dict__[_SHARED] = self.__dict__.setdefault(_SHARED, {})
        return new

    def replace(self, **tables: Any) -> Instance:
        """A copy with some tables or fields of the body replaced (no re-validation)."""
        scores = tables.pop("scores", self.scores)
        return Instance(self.body.model_copy(update=tables), scores, self.source)


def _body_document(body: Body) -> dict[str, Any]:
    """``_whole_numbers(body.model_dump(mode="json"))``, by way of pydantic's JSON writer.

    ``model_dump_json`` (Rust) and ``json.loads`` with whole floats read as ints take a
    third of the time of ``model_dump`` and a Python walk over every value (national-week:
    6,000 citizens). Floats are written shortest-round-trip, so each reads back exactly.
    """
    try:
        doc: dict[str, Any] = json.loads(body.model_dump_json(), parse_float=_json_number)
    except ValueError:  # nothing a validated body holds; the plain way words any error
        doc = _whole_numbers(body.model_dump(mode="json"))
    return doc


def _json_number(text: str) -> int | float:
    return _number(float(text))


def _canonical(x: object) -> str:
    return json.dumps(x, sort_keys=True, separators=(",", ":"))


#: Rows of the score table written per piece of its canonical text (a few MB each).
SCORE_ROWS_PER_PIECE = 1 << 16


def _scores_json_pieces(scores: Scores) -> Iterator[str]:
    """``_canonical(scores.records())``, column-wise, in pieces of ``SCORE_ROWS_PER_PIECE`` rows.

    Each row is the text before its score (one per citizen), the score, and the text
    after it with the comma that follows (one per unit), chained by C-level iterators over
    the columns: no Python call per row (640,000 rows of OR-Library's assign800). Hashed
    piece by piece, the text of a large table is never held whole (assign800: 28 MB, and
    as much again encoded).
    """
    n = len(scores)
    if not n:
        yield "[]"
        return
    head = {c: '{"citizen":' + json.dumps(c) + ',"score":' for c in set(scores.citizen)}
    tail = {u: ',"unit":' + json.dumps(u) + "}," for u in set(scores.unit)}
    yield "["
    for a in range(0, n, SCORE_ROWS_PER_PIECE):
        b = min(a + SCORE_ROWS_PER_PIECE, n)
        citizens = map(head.__getitem__, scores.citizen[a:b])
        units = map(tail.__getitem__, scores.unit[a:b])
        text = "".join(chain.from_iterable(zip(citizens, _numbers_json(scores.score[a:b]), units, strict=True)))
        yield text if b < n else text[:-1]  # no comma after the last row
    yield "]"


def _numbers_json(values: np.ndarray[Any, np.dtype[np.float64]]) -> Iterable[str]:
    """Each value as ``json.dumps(_number(v))`` writes it: whole numbers as ints, others by their repr."""
    whole = np.trunc(values) == values
    if whole.all() and np.abs(values).max() < 2**63:  # exact in int64
        return map(str, values.astype(np.int64).tolist())
    if not whole.any():
        return map(float.__repr__, values.tolist())
    return (str(int(v)) if v.is_integer() else repr(v) for v in values.tolist())


def _whole_numbers(x: Any) -> Any:
    """``x`` with every whole float in it written as an int (recursively through dicts and lists)."""
    if isinstance(x, float):
        return _number(x)
    if isinstance(x, dict):
        return {k: _whole_numbers(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_whole_numbers(v) for v in x]
    return x
