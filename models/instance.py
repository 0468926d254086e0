"""The validated, immutable allocation instance."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from models.schema import (
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
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self):
        self.score.setflags(write=False)

    def __len__(self) -> int:
        return len(self.citizen)

    def records(self) -> list[dict]:
        """The table as a list of ``{"citizen", "unit", "score"}`` dicts."""
        return [
            {"citizen": c, "unit": u, "score": _number(s)}
            for c, u, s in zip(self.citizen, self.unit, self.score.tolist())
        ]


def _number(x: float) -> int | float:
    """Whole numbers as ``int`` so that files keep ``4800``, not ``4800.0``."""
    return int(x) if float(x).is_integer() else float(x)


@dataclass(frozen=True, eq=False)
class Instance:
    """A validated ``anvis/1`` instance (FORMAT.md §1).

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
        return self.body.name

    @property
    def parameters(self) -> Parameters:
        return self.body.parameters

    @property
    def regions(self) -> tuple[Region, ...]:
        return self.body.regions

    @property
    def municipalities(self) -> tuple[Municipality, ...]:
        return self.body.municipalities

    @property
    def organisations(self) -> tuple[Organisation, ...]:
        return self.body.organisations

    @property
    def departments(self) -> tuple[Department, ...]:
        return self.body.departments

    @property
    def units(self) -> tuple[Unit, ...]:
        return self.body.units

    @property
    def agreements(self) -> tuple[Agreement, ...]:
        return self.body.agreements

    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:
        return self.body.ledger

    @property
    def citizens(self) -> tuple[Citizen, ...]:
        return self.body.citizens

    @property
    def overrides(self) -> tuple[Override, ...]:
        return self.body.overrides

    @cached_property
    def priorities(self) -> tuple[int, ...]:
        """Every priority present among the citizens, most urgent first."""
        return tuple(sorted({c.priority for c in self.citizens}))

    def to_dict(self) -> dict:
        """The instance as an ``anvis/1`` document, defaults written out."""
        doc = self.body.model_dump(mode="json")
        if not doc["overrides"]:
            # FORMAT.md has no overrides: plain instances keep their canonical form and hash
            del doc["overrides"]
        doc["scores"] = self.scores.records()
        return _whole_numbers(doc)

    @cached_property
    def sha256(self) -> str:
        """Hash of the canonical document: equal for equal content in any file format.

        The canonical document is ``json.dumps(self.to_dict(), sort_keys=True,
        separators=(",", ":"))``. It is written here table by table, the scores
        column-wise, to the same text: ``to_dict`` would rebuild a dict per score
        (hundreds of thousands in a city's year) only to serialise it again.
        """
        doc = self.body.model_dump(mode="json")
        if not doc["overrides"]:
            del doc["overrides"]  # as in to_dict
        doc = _whole_numbers(doc)
        # json.dumps of a dict with sorted keys is "{" + "k":v joined by "," + "}"
        parts = {json.dumps(k): _canonical(v) for k, v in doc.items()}
        parts[json.dumps("scores")] = _scores_json(self.scores)
        text = "{" + ",".join(f"{k}:{parts[k]}" for k in sorted(parts)) + "}"
        return hashlib.sha256(text.encode()).hexdigest()

    def replace(self, **tables) -> Instance:
        """A copy with some tables or fields of the body replaced (no re-validation)."""
        scores = tables.pop("scores", self.scores)
        return Instance(self.body.model_copy(update=tables), scores, self.source)


def _canonical(x: object) -> str:
    return json.dumps(x, sort_keys=True, separators=(",", ":"))


def _scores_json(scores: Scores) -> str:
    """``_canonical(scores.records())``, written column-wise (keys citizen, score, unit)."""
    ids = {i: json.dumps(i) for i in {*scores.citizen, *scores.unit}}
    # json.dumps writes an int or a float by its repr; records() makes whole numbers ints
    nums = [str(int(v)) if v.is_integer() else repr(v) for v in scores.score.tolist()]
    rows = [
        f'{{"citizen":{ids[c]},"score":{n},"unit":{ids[u]}}}'
        for c, n, u in zip(scores.citizen, nums, scores.unit, strict=True)
    ]
    return "[" + ",".join(rows) + "]"


def _whole_numbers(x: Any) -> Any:
    if isinstance(x, float):
        return _number(x)
    if isinstance(x, dict):
        return {k: _whole_numbers(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_whole_numbers(v) for v in x]
    return x
