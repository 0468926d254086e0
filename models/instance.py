"""The validated, immutable allocation instance."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, islice, repeat
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from typing import Any

import numpy as np
from pydantic import BaseModel

from models.memory import collector_paused
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
                    _add_fields(row, record, keys)
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
        # The writer makes tens of thousands of tuples (columns, rows of pieces) and no
        # reference cycle: the collector is paused while it runs, as the CLI pauses it while
        # loading (national week: 41 young collections, 0.003 s of a 0.025 s hash).
        with collector_paused():
            return self._digest()

    def _digest(self) -> str:
        """:attr:`sha256`, written and hashed."""
        shared = self.__dict__.get(_SHARED)
        parts: dict[str, Iterable[str]]
        if shared is None:
            parts = dict(self._canonical_parts())
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

    def _people_parts(self) -> dict[str, tuple[str, ...]]:
        """The canonical text of the citizens, units and (when any) overrides, by quoted key, for :attr:`sha256`."""
        return {k: tuple(v) for k, v in self._canonical_parts(UNCHANGED_BY_TERMS).items()}

    def _canonical_parts(self, keys: Iterable[str] | None = None) -> dict[str, Iterable[str]]:
        """``_canonical`` of each entry of :meth:`_tables` (or of ``keys`` only), by quoted key.

        The tables of records are written column by column from the records themselves
        (:func:`_table_pieces`), to the text ``_canonical(self._tables()[key])`` gives: the
        dump of the whole body and its reading back took 0.06 s of a national week's
        ``anvis solve`` (6,000 citizens), the columns a tenth of that. A record the column
        writer does not know (a type it has no exact rule for) sends the whole instance
        the plain way. Each table's text comes in pieces of rows (:func:`_table_pieces`),
        written as they are read: every value's text is written and checked first.
        """
        body, v2 = self.body, self.version == 2
        wanted = tuple(Body.model_fields) if keys is None else tuple(keys)
        out: dict[str, Iterable[str]] = {}
        for key in wanted:
            value = getattr(body, key)
            added = V2_FIELDS.get(key, ()) if v2 else ()
            text: Iterable[str] | None
            if key == "parameters":  # one record: the plain way
                text = (_canonical(_record_document(value, added)),)
            elif isinstance(value, tuple):
                if key == "overrides" and not value:
                    continue  # as _tables: no overrides, no key (FORMAT.md has none)
                text = _table_pieces(value, added, ("waiting_days",) if key == "citizens" else ())
            elif type(value) in (str, int, bool, type(None)):  # format, name: written as they are
                text = (_canonical(value),)
            else:
                text = None
            if text is None:
                doc = self._tables()
                return {json.dumps(k): (_canonical(doc[k]),) for k in wanted if k in doc}
            out[json.dumps(key)] = text
        return out

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


def _record_document(record: BaseModel, added: Sequence[str] = ()) -> dict[str, Any]:
    """One record as :meth:`Instance._tables` writes it: its JSON dump, whole floats as ints, ``added`` fields too."""
    row: dict[str, Any] = _whole_numbers(record.model_dump(mode="json"))
    _add_fields(row, record, added)
    return row


def _add_fields(row: dict[str, Any], record: BaseModel, keys: Iterable[str]) -> None:
    """Write the record's fields ``keys``, which its dump leaves out (the anvis/2 fields), into its row."""
    for key in keys:
        value = getattr(record, key)
        row[key] = _whole_numbers(list(value) if isinstance(value, tuple) else value)


_BOOLS = {False: "false", True: "true"}


def _records_json(
    records: Sequence[BaseModel], added: Sequence[str] = (), optional: Sequence[str] = ()
) -> list[str] | None:
    """``_canonical(_record_document(r, added))`` of each record, written column by column.

    Parameters
    ----------
    records
        Records of one class, with no extra fields and no computed fields.
    added
        Fields left out of the dump that are written all the same (the anvis/2 fields).
    optional
        Fields left out of the dump that are written where they are not ``None``
        (``waiting_days``).

    Returns
    -------
    list of str or None
        The rows' texts; ``None`` where a record or a value is of a kind this writer has
        no exact rule for (the caller then writes the plain way).

    Each row is the join of its pieces (:func:`_record_pieces`), by C-level iterators.
    """
    pieces = _record_pieces(records, added, optional, repeat("{", len(records)))
    # strict=False: the keys and the row's end are endless repeats; the first piece has a row each
    return None if pieces is None else list(map("".join, zip(*pieces, strict=False)))


#: Rows of a record table joined per piece of its canonical text: hashed piece by piece, the
#: memory of one piece serves the next (a national week's citizens: 0.014 s, not 0.017 s, in
#: a fresh process, whose memory for a 2 MB text and its bytes is new)
TABLE_ROWS_PER_PIECE = 1 << 10


def _table_pieces(records: Sequence[BaseModel], added: Sequence[str], optional: Sequence[str]) -> Iterator[str] | None:
    """``"[" + ",".join(_records_json(records, added, optional)) + "]"`` in pieces of ``TABLE_ROWS_PER_PIECE`` rows.

    No text per row is made: the pieces of the rows (a key, a value, a value with its key)
    are joined many rows at once, as they are read: half the time of a ``%`` template
    filled per row (national week's citizens: 2.5 ms against 5.1 ms).

    ``None`` at once where a record or value has no rule: every value's text is written
    before the first piece is given.
    """
    if not records:
        return iter(("[]",))
    # each row opens with the comma after the one before: no piece is cut or copied again
    pieces = _record_pieces(records, added, optional, chain(("[{",), repeat(",{", len(records) - 1)))
    if pieces is None:
        return None
    rows = zip(*pieces, strict=False)  # as in _records_json: the first piece has a row each
    return _joined(rows, len(records))


def _joined(rows: Iterator[tuple[str, ...]], n: int) -> Iterator[str]:
    """The ``n`` rows of pieces joined ``TABLE_ROWS_PER_PIECE`` at a time, and the table's closing ``]``."""
    step = TABLE_ROWS_PER_PIECE
    for _ in range(0, n, step):
        yield "".join(chain.from_iterable(islice(rows, step)))
    yield "]"


def _record_pieces(
    records: Sequence[BaseModel], added: Sequence[str], optional: Sequence[str], start: Iterable[str]
) -> list[Iterable[str]] | None:
    """The pieces of each record's canonical text, as columns: row ``r``'s text is the join of every column's ``r``-th.

    The first column is ``start``, a text per row that opens it (``{``); the last closes it.
    Between them, a field of few distinct values (a citizen's flags, sizes, municipality) is one
    column of texts with their key, each distinct value written once (:func:`_run_json`);
    any other field is its key (repeated, not copied) and its values' texts. ``None``: a
    record or a value this writer has no exact rule for (see :func:`_records_json`).
    """
    n = len(records)
    if not n:
        return [()]
    cls = type(records[0])
    if (
        set(map(type, records)) != {cls}
        or cls.model_computed_fields
        or cls.model_config.get("extra") == "allow"
        or set(added) & set(optional)
    ):
        return None
    dumped = [name for name, info in cls.model_fields.items() if not info.exclude]
    keys = sorted({*dumped, *added, *optional})
    if not keys or keys[0] in optional or not set(keys) <= set(cls.model_fields):
        return None  # an optional field's text carries the comma before it: never first
    # the fields are the records' __dict__: one C-level pass takes every column
    values_of = itemgetter(*keys) if len(keys) > 1 else lambda d: (d[keys[0]],)
    try:
        columns = dict(zip(keys, zip(*map(values_of, map(vars, records)), strict=True), strict=True))
    except KeyError:  # a record built without one of its fields (model_construct): the plain way
        return None
    most = max(1, n // 4)
    # fields left out where None: never in a run; every other field's distinct values found once
    sometimes = {k for k in optional if k not in dumped}
    distinct = {k: _distinct_values(columns[k], most) for k in keys if k not in sometimes}
    pieces: list[Iterable[str]] = [start]
    i = 0
    while i < len(keys):
        key = keys[i]
        if key in sometimes:
            column = columns[key]
            present = _column_json([v for v in column if v is not None])
            if present is None:
                return None
            if present:  # none given: no piece at all
                each = iter(present)
                prefix = f",{json.dumps(key)}:"
                pieces.append([prefix + next(each) if v is not None else "" for v in column])
            i += 1
            continue
        j = i
        while j < len(keys) and distinct.get(keys[j]) is not None:
            j += 1
        run = None
        if j > i:
            run = _run_json(keys[i:j], [columns[k] for k in keys[i:j]], i > 0, [distinct[k] for k in keys[i:j]])
        if run is None:
            texts = _column_json(columns[key])
            if texts is None:
                return None
            pieces += (repeat(f"{',' if i else ''}{json.dumps(key)}:"), texts)
            j = i + 1
        else:
            pieces += run
        i = j
    pieces.append(repeat("}"))
    return pieces


_SCALARS = {str, int, float, bool, type(None)}


def _distinct_values(values: Sequence[Any], most: int) -> list[Any] | None:
    """The distinct values of a column (at most ``most``), if equal values are written alike, else ``None``.

    ``None`` for a column of records, dicts, a bool beside a number (``True == 1``), or
    more than ``most`` distinct values: in a long column, most often seen among the first
    rows already (an id, a rent), so that such columns are not counted whole (a guess,
    not a rule: the text is the same either way).
    """
    kinds = set(map(type, values))
    if kinds == {tuple}:
        kinds = set(map(type, chain.from_iterable(values)))
    if not kinds <= _SCALARS or (bool in kinds and kinds & {int, float}):
        return None
    head = values[:256]
    if len(values) > len(head) and len(set(head)) > min(len(head) // 2, most):
        return None
    distinct = set(values)
    return list(distinct) if 0 < len(distinct) <= most else None


def _run_json(
    keys: Sequence[str],
    columns: Sequence[Sequence[Any]],
    comma: bool,
    distinct: Sequence[Sequence[Any] | None],
) -> list[Sequence[str]] | None:
    """The pieces ``,"k1":v1``, ``,"k2":v2``… of a run of columns of few distinct values, each text written once.

    Parameters
    ----------
    keys, columns
        The run's fields, in order, and their values.
    comma
        Whether the run's first field has a comma before it (not a row's first field).
    distinct
        Each column's distinct values, as :func:`_distinct_values` finds them.

    Returns
    -------
    list of sequences of str or None
        One piece per column: each value's text, with its key, looked up in a table of
        the column's distinct values; ``None`` where a column holds values whose equal
        ones are not written alike (``True == 1``) or a kind without a rule.

    A lookup per column and row, not per combination of the run's values: a tuple per
    row to look up a combination took longer than the lookups it saved (national week).
    """
    pieces: list[Sequence[str]] = []
    for k, (key, values, among) in enumerate(zip(keys, columns, distinct, strict=True)):
        written = None if among is None else _column_json(among)
        if among is None or written is None:
            return None
        prefix = f"{',' if comma or k else ''}{json.dumps(key)}:"
        pieces.append(_gather(dict(zip(among, map(prefix.__add__, written), strict=True)), values))
    return pieces


def _gather(table: dict[Any, str] | list[str], keys: Sequence[Any]) -> Sequence[str]:
    """``[table[k] for k in keys]``, by itemgetter's own loop in C: half the time of a map of ``table.__getitem__``."""
    if len(keys) > 1:
        texts: tuple[str, ...] = itemgetter(*keys)(table)
        return texts
    return [table[k] for k in keys]  # itemgetter of one key gives the value itself, of none is no itemgetter


def _column_json(values: Sequence[Any]) -> list[str] | None:
    """``_canonical(_whole_numbers(v))`` of each value of one column (``None``: a kind without a rule)."""
    if not values:
        return []
    types = set(map(type, values))
    if types == {str}:
        return list(map(encode_basestring_ascii, values))  # json.dumps's own escaping (ensure_ascii)
    if types == {int}:
        return list(map(int.__repr__, values))
    if types == {bool}:
        return list(_gather(_BOOLS, values))
    if types == {float}:
        numbers = np.array(values, dtype=np.float64)
        # the plain dump writes no Infinity or NaN a validated record cannot hold anyway
        return list(_numbers_json(numbers)) if np.isfinite(numbers).all() else None
    if types == {tuple}:
        kinds = set(map(type, chain.from_iterable(values)))
        if kinds <= {str, int, float} or kinds <= {str, bool}:
            # few distinct tuples of scalars (a citizen's kinds): each written once; a bool
            # and a number that compare equal would share a text, so never both
            distinct = list(set(values))
            written = _tuples_json(distinct)
            return None if written is None else list(_gather(dict(zip(distinct, written, strict=True)), values))
        if len(kinds) == 1 and issubclass(next(iter(kinds)), BaseModel):  # a citizen's preferences
            lists = _record_lists_json(values)
            if lists is not None:
                return lists
        return _tuples_json(values)
    if type(None) in types:
        present = _column_json([v for v in values if v is not None])
        if present is None:
            return None
        each = iter(present)
        return [next(each) if v is not None else "null" for v in values]
    if len(types) == 1 and issubclass(next(iter(types)), BaseModel):
        return _records_json(values)  # nested records: a citizen's preferences
    return None


def _tuples_json(values: Sequence[tuple[Any, ...]]) -> list[str] | None:
    """:func:`_column_json` of a column of tuples: their items written as one column, then each row's share joined."""
    texts = _column_json(list(chain.from_iterable(values)))
    if texts is None:
        return None
    items = iter(texts)  # each row takes its own number of items, in order
    rows = map(",".join, map(islice, repeat(items), map(len, values)))
    # one join and one split, not a "[%s]" per row: "\x00" is in no text json.dumps writes (it
    # escapes every control character), so the split gives back each row unless an item held one
    split = ("[" + "]\x00[".join(rows) + "]").split("\x00")
    if len(split) == len(values):
        return split
    items = iter(texts)
    return list(map("[%s]".__mod__, map(",".join, map(islice, repeat(items), map(len, values)))))


def _record_lists_json(values: Sequence[tuple[BaseModel, ...]]) -> list[str] | None:
    r""":func:`_tuples_json` of a column of tuples of records (a citizen's preferences), by one join and one split.

    Each record's pieces (:func:`_record_pieces`) are followed by what comes after it in
    the column's text: a comma inside its list, or, after the last of a list, its end,
    the empty lists that follow and the next list's start, a ``"\x00"`` after each
    list (no text json.dumps writes holds it: it escapes every control character). No
    text is made per record or per list. ``None``: no rule for these records, or a
    ``"\x00"`` in them after all (the split does not give a list per row).
    """
    n = len(values)
    lengths = np.fromiter(map(len, values), np.int64, n)
    filled = np.flatnonzero(lengths)
    if not len(filled):
        return ["[]"] * n
    records = list(chain.from_iterable(values))
    pieces = _record_pieces(records, (), (), repeat("{", len(records)))
    if pieces is None:
        return None
    empty_after = (np.diff(filled, append=n) - 1).tolist()  # the empty lists after each filled one
    after = {k: "]" + "\x00[]" * k + "\x00[" for k in set(empty_after)}
    follows = np.full(int(lengths.sum()), ",", dtype=object)
    follows[np.cumsum(lengths)[filled] - 1] = _gather(after, empty_after)
    text = "[]\x00" * int(filled[0]) + "[" + "".join(chain.from_iterable(zip(*pieces, follows.tolist(), strict=False)))
    lists = text[:-2].split("\x00")  # without the start of a list after the last
    return lists if len(lists) == n else None


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
        citizens = _gather(head, scores.citizen[a:b])
        units = _gather(tail, scores.unit[a:b])
        text = "".join(chain.from_iterable(zip(citizens, _numbers_json(scores.score[a:b]), units, strict=True)))
        yield text if b < n else text[:-1]  # no comma after the last row
    yield "]"


def _numbers_json(values: np.ndarray[Any, np.dtype[np.float64]]) -> Iterable[str]:
    """Each value as ``json.dumps(_number(v))`` writes it: whole numbers as ints, others by their repr."""
    whole = np.trunc(values) == values
    if whole.all() and np.abs(values).max() < 2**63:  # exact in int64
        ints = values.astype(np.int64)
        low, high = int(ints.min()), int(ints.max())
        if high - low < len(values) // 4:
            # few distinct whole numbers (a score table's 1 to 100): each written once, then
            # looked up by its offset (630,000 scores of hard-city: 0.037 -> 0.015 s)
            return _gather(list(map(str, range(low, high + 1))), (ints - low).tolist())
        return map(str, ints.tolist())
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
