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
    score: np.ndarray[Any, np.dtype[np.float64]] = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.score.setflags(write=False)

    def __len__(self) -> int:
        return len(self.citizen)

    def records(self) -> list[dict[str, Any]]:
        """The table as a list of ``{"citizen", "unit", "score"}`` dicts."""
        return [
            {"citizen": c, "unit": u, "score": _number(s)}
            for c, u, s in zip(self.citizen, self.unit, self.score.tolist(), strict=True)
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
        """The instance's name (FORMAT.md ``name``)."""
        return self.body.name

    @property
    def parameters(self) -> Parameters:
        """The round's parameters."""
        return self.body.parameters

    @property
    def regions(self) -> tuple[Region, ...]:
        """The regions with their grant quotas."""
        return self.body.regions

    @property
    def municipalities(self) -> tuple[Municipality, ...]:
        """The municipalities with their subsidy frames."""
        return self.body.municipalities

    @property
    def organisations(self) -> tuple[Organisation, ...]:
        """The housing organisations."""
        return self.body.organisations

    @property
    def departments(self) -> tuple[Department, ...]:
        """The departments (afdelinger)."""
        return self.body.departments

    @property
    def units(self) -> tuple[Unit, ...]:
        """The vacant units of this round."""
        return self.body.units

    @property
    def agreements(self) -> tuple[Agreement, ...]:
        """The agreements (udlejningsaftaler), in list order."""
        return self.body.agreements

    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:
        """The ledger of earlier rounds, per pool."""
        return self.body.ledger

    @property
    def citizens(self) -> tuple[Citizen, ...]:
        """The citizens on the urgent list."""
        return self.body.citizens

    @property
    def overrides(self) -> tuple[Override, ...]:
        """The planner's overrides (locks, forbids, reserves)."""
        return self.body.overrides

    @cached_property
    def priorities(self) -> tuple[int, ...]:
        """Every priority present among the citizens, most urgent first."""
        return tuple(sorted({c.priority for c in self.citizens}))

    def to_dict(self) -> dict[str, Any]:
        """The instance as an ``anvis/1`` document, defaults written out."""
        doc = self.body.model_dump(mode="json")
        if not doc["overrides"]:
            # FORMAT.md has no overrides: plain instances keep their canonical form and hash
            del doc["overrides"]
        doc["scores"] = self.scores.records()
        out: dict[str, Any] = _whole_numbers(doc)
        return out

    @cached_property
    def sha256(self) -> str:
        """Hash of the canonical document: equal for equal content in any file format."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def replace(self, **tables: Any) -> Instance:
        """A copy with some tables or fields of the body replaced (no re-validation)."""
        scores = tables.pop("scores", self.scores)
        return Instance(self.body.model_copy(update=tables), scores, self.source)


def _whole_numbers(x: Any) -> Any:
    if isinstance(x, float):
        return _number(x)
    if isinstance(x, dict):
        return {k: _whole_numbers(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_whole_numbers(v) for v in x]
    return x
