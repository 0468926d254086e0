"""What-if changes to an instance: one term at a time, each giving a new validated instance.

A negotiator asks "what if organisation X gave a third instead of a quarter?". The
obvious hand edit of the JSON gives a wrong answer (an agreement put first takes
units out of other pools; a default pool's ledger row is silently left behind), so
the edits live here, once, with the rules that keep their meaning:

- ``share`` or ``mode`` of a **default pool** appends an agreement that matches
  exactly that pool's units (its municipality, organisation and, in ``anvis/2``, its
  unit kind), **last**, so that no other pool changes; the pool's ledger row moves to
  it, so the share keeps counting every earlier vacancy (FORMAT.md §2, §6).
- A change that names nothing in the instance is an error, and so is a change after
  which a ledger row whose pool has units this round would apply to no unit.

A change is a mapping as a scenario file writes it, e.g.
``{"term": "grant_quota", "region": "H", "delta": 5}``; see :data:`TERMS`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import models
from models.instance import TERM_TABLES
from models.pools import DEFAULT_PREFIX, default_pool_owners, unit_pools
from models.schema import FORMAT_V2, MODES
from models.validate import InstanceError, unknown_fields

__all__ = ["APPENDED_PREFIX", "TERMS", "ScenarioError", "apply_changes", "describe", "show_value"]

#: The terms a change may have, each with the keys it takes beyond ``term``.
TERMS: dict[str, tuple[str, ...]] = {
    "share": ("pool", "value"),
    "mode": ("pool", "value"),
    "max_vulnerable": ("department", "area", "value", "delta"),
    "subsidy_frame": ("municipality", "value", "delta"),
    "grant_quota": ("region", "value", "delta"),
    "subsidy_amount_kr": ("value",),
    "subsidy_band_kr": ("value",),
    "default_share": ("value",),
    "default_mode": ("value",),
    "agreement": ("value", "position"),
}

#: The id of the agreement that takes over a default pool is this prefix and the pool's id
#: (it never begins with ``default:``, so it is never read as a default pool id).
APPENDED_PREFIX = "scenario:"

# The keys naming what a change applies to, by term (the rest are its value).
_TARGET = {
    "share": "pool",
    "mode": "pool",
    "max_vulnerable": "department",
    "subsidy_frame": "municipality",
    "grant_quota": "region",
}
_AREAS = models.AREAS
# The keys of a document that hold the terms (what :meth:`models.Instance.terms` writes).
_TERM_KEYS = ("format", "name", *TERM_TABLES)


class ScenarioError(ValueError):
    """A change that cannot be applied; each line of ``problems`` names the change and what is wrong."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def describe(change: Mapping[str, Any]) -> str:
    """A change in one short line, as results and messages name it: ``grant_quota H +5``."""
    term = change.get("term", "?")
    parts = [str(term)]
    target = _TARGET.get(str(term))
    if target is not None and target in change:
        parts.append(str(change[target]))
    if "area" in change:
        parts.append(f"area={change['area']}")
    if "delta" in change:
        d = change["delta"]
        parts.append(f"{d:+d}" if isinstance(d, int) and not isinstance(d, bool) else repr(d))
    elif term == "agreement" and isinstance(change.get("value"), Mapping):
        parts.append(f"{change['value'].get('id', '?')} {change.get('position', 'last')}")
    elif "value" in change:
        v = change["value"]
        parts.append(f"={show_value(v)}")
    return " ".join(parts)


def show_value(v: object) -> str:
    """A change's value as names and tables show it: ``5``, ``0.5``, ``[4500,6500]``, ``unlimited``."""
    if v is None:
        return "unlimited"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(show_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return str(v.get("id", "?"))
    return str(v)


def apply_changes(
    inst: models.Instance,
    changes: Iterable[Mapping[str, Any]],
    where: str = "changes",
    document: Mapping[str, Any] | None = None,
) -> models.Instance:
    """The instance with every change applied in order, validated.

    Parameters
    ----------
    inst
        The base instance (not modified).
    changes
        Mappings with a ``term`` from :data:`TERMS` and that term's keys.
    where
        How messages name the list of changes (``variant 'x' changes``); change ``i``
        is ``{where}[i]``.
    document
        ``inst.to_dict()`` or ``inst.terms()``, when the caller has it already (it is not
        changed): many variants of one base then skip writing the terms out again. Only
        the terms are read; the citizens, units and scores are the base's, not checked again
        (:func:`models.with_terms`).

    Returns
    -------
    models.Instance
        A new instance with the base's name and source; with no changes, one equal to
        the base (the same ``sha256``).

    Raises
    ------
    ScenarioError
        Naming each change that names nothing in the instance, has a bad key or
        value, would drop a ledger row, or makes the instance invalid.
    """
    changes = list(changes)
    if not changes:
        return inst
    session = _Session(inst, document)
    problems: list[str] = []
    for i, change in enumerate(changes):
        label = f"{where}[{i}] ({describe(change)})" if isinstance(change, Mapping) else f"{where}[{i}]"
        try:
            if not isinstance(change, Mapping):
                raise _Bad(f"a change must be a table with a 'term', got {change!r}")
            session.apply(change)
        except _Bad as exc:
            problems.append(f"{label}: {exc}")
    if problems:
        raise ScenarioError(problems)
    return session.result(where)


class _Bad(Exception):
    """One thing wrong with one change (the caller adds which change)."""


class _Session:
    """The document being changed, with what the ledger check needs to know."""

    def __init__(self, inst: models.Instance, document: Mapping[str, Any] | None):
        self.base = inst
        # Only the terms are written out (never the citizens, units or scores), and only the
        # tables a change touches are copied, so that hundreds of variants of one base (or
        # hundreds of ±1 moves of a city's limits) cost little time and memory.
        self.base_doc = inst.terms() if document is None else {k: document[k] for k in _TERM_KEYS if k in document}
        self.doc: dict[str, Any] = dict(self.base_doc)
        self.copied: set[str] = set()
        self.v2 = self.doc.get("format") == FORMAT_V2
        base_pools = unit_pools(inst)
        self.base_units: dict[str, int] = {}
        for p in base_pools:
            self.base_units[p] = self.base_units.get(p, 0) + 1
        # appended agreement id -> the default pool it took over (and whose ledger row it holds)
        self.took_over: dict[str, str] = {}

    def table(self, name: str) -> Any:
        """A table (or ``parameters``) of the document, copied from the base before its first change."""
        if name not in self.copied:
            self.doc[name] = copy.deepcopy(self.base_doc[name])
            self.copied.add(name)
        return self.doc[name]

    # ------------------------------------------------------------------ dispatch

    def apply(self, change: Mapping[str, Any]) -> None:
        term = change.get("term")
        if not isinstance(term, str) or term not in TERMS:
            raise _Bad(f"unknown term {term!r} (choose from {', '.join(TERMS)})")
        extra = sorted(set(change) - {"term", *TERMS[term]})
        if extra:
            raise _Bad(f"key {extra[0]!r} is not one of term {term!r} (it takes {', '.join(TERMS[term])})")
        target = _TARGET.get(term)
        if target is not None and target not in change:
            raise _Bad(f"'{target}' is missing")
        if "value" in change and "delta" in change:
            raise _Bad("give 'value' or 'delta', not both")
        if "delta" not in change and "value" not in change:
            raise _Bad("'value' is missing" if "delta" not in TERMS[term] else "give 'value' or 'delta'")
        getattr(self, f"_{term}")(change)

    # ------------------------------------------------------------------ pools

    def _share(self, change: Mapping[str, Any]) -> None:
        value = change["value"]
        if not _is_num(value) or not 0 <= value <= 1:
            raise _Bad(f"a share is a number in [0, 1], got {value!r}")
        self._pool_agreement(change["pool"])["share"] = float(value)

    def _mode(self, change: Mapping[str, Any]) -> None:
        if not self.v2:
            raise _Bad("pool modes are of anvis/2 (FORMAT.md §6): convert the base with `anvis convert --to anvis/2`")
        value = change["value"]
        if value not in MODES:
            raise _Bad(f"a mode is 'rotation' or 'choice', got {value!r}")
        self._pool_agreement(change["pool"])["mode"] = value

    def _pool_agreement(self, pool: object) -> dict[str, Any]:
        """The agreement of a pool, appending one that takes over a default pool."""
        if not isinstance(pool, str):
            raise _Bad(f"'pool' is an agreement or default pool id, got {pool!r}")
        agreements: list[dict[str, Any]] = self.table("agreements")
        taken = next((a for a in agreements if a["id"] == APPENDED_PREFIX + pool and self.took_over.get(a["id"])), None)
        if taken is not None:  # a default pool taken over by an earlier change of this variant
            return taken
        found = next((a for a in agreements if a["id"] == pool), None)
        if found is not None:
            return found
        owner = self._default_pool(pool)
        if owner is None:
            raise _Bad(
                f"no agreement or default pool {pool!r} in the instance (a default pool needs units or a ledger row)"
            )
        municipality, organisation, kind = owner
        new_id = APPENDED_PREFIX + pool
        if any(a["id"] == new_id for a in agreements):
            raise _Bad(f"agreement id {new_id!r}, for default pool {pool!r}, is taken already")
        params = self.table("parameters")
        agreement: dict[str, Any] = {
            "id": new_id,
            "municipality": municipality,
            "share": params.get("default_share", 0.25),
            "organisation": organisation,
            "max_rent_kr": None,
            "rooms": None,
            "departments": None,
        }
        if self.v2:
            agreement.update({"mode": params.get("default_mode", "rotation"), "kinds": [kind], "units": None})
        agreements.append(agreement)  # last: it matches exactly the units no earlier agreement took
        for row in self.table("ledger"):
            if row["pool"] == pool:
                row["pool"] = new_id  # the pool's history moves with it
        self.took_over[new_id] = pool
        return agreement

    def _default_pool(self, pool: str) -> tuple[str, str, str | None] | None:
        """``(municipality, organisation, kind)`` of a default pool that has units or a ledger row."""
        if not pool.startswith(DEFAULT_PREFIX):
            return None
        if pool not in self.base_units and not any(e.pool == pool for e in self.base.ledger):
            return None
        municipalities = {m.id for m in self.base.municipalities}
        organisations = {o.id for o in self.base.organisations}
        if self.v2:
            parts = pool.split(":")
            if len(parts) == 4 and parts[1] in municipalities and parts[2] in organisations:
                return parts[1], parts[2], parts[3]
            return None
        for m, o in default_pool_owners(pool):
            if m in municipalities and o in organisations:
                return m, o, None
        return None

    def _agreement(self, change: Mapping[str, Any]) -> None:
        value = change["value"]
        position = change.get("position", "last")
        if position not in ("first", "last"):
            raise _Bad(f"'position' is 'first' or 'last', got {position!r}")
        if not isinstance(value, Mapping):
            raise _Bad(f"'value' is a whole agreement (a table), got {value!r}")
        aid = value.get("id")
        agreements: list[dict[str, Any]] = self.table("agreements")
        if any(a["id"] == aid for a in agreements):
            raise _Bad(f"an agreement {aid!r} exists already")
        record = dict(value)
        if position == "first":
            agreements.insert(0, record)
        else:
            agreements.append(record)
        hint = "narrow its filters" if position == "last" else "put it last, or narrow its filters"
        self._check(f"agreement {aid!r}", hint)

    # ------------------------------------------------------------------ caps

    def _max_vulnerable(self, change: Mapping[str, Any]) -> None:
        target, area = change["department"], change.get("area")
        if area is not None and area not in _AREAS:
            raise _Bad(f"'area' is one of {', '.join(_AREAS)}, got {area!r}")
        rows = [
            d
            for d in self.table("departments")
            if (target == "*" or d["id"] == target) and (area is None or d.get("area", "ordinary") == area)
        ]
        if not rows:
            what = "no department" if target == "*" else f"no department {target!r}"
            raise _Bad(what + (f" in area {area!r}" if area is not None else "") + " in the instance")
        for d in rows:
            d["max_vulnerable"] = _count(change, d.get("max_vulnerable"), unlimited_ok=True)

    def _subsidy_frame(self, change: Mapping[str, Any]) -> None:
        for m in self._rows("municipalities", change["municipality"], "municipality"):
            m["subsidy_frame"] = _count(change, m.get("subsidy_frame", 0), unlimited_ok=False)

    def _grant_quota(self, change: Mapping[str, Any]) -> None:
        for r in self._rows("regions", change["region"], "region"):
            r["grant_quota"] = _count(change, r.get("grant_quota"), unlimited_ok=True)

    def _rows(self, table: str, target: object, what: str) -> list[dict[str, Any]]:
        rows = [r for r in self.table(table) if target == "*" or r["id"] == target]
        if not rows:
            raise _Bad(f"no {what} {target!r} in the instance")
        return rows

    # ------------------------------------------------------------------ parameters

    def _subsidy_amount_kr(self, change: Mapping[str, Any]) -> None:
        value = change["value"]
        if not _is_num(value) or value < 0:
            raise _Bad(f"an amount is a number ≥ 0, got {value!r}")
        self.table("parameters")["subsidy_amount_kr"] = value

    def _subsidy_band_kr(self, change: Mapping[str, Any]) -> None:
        value = change["value"]
        if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_num(v) and v >= 0 for v in value)):
            raise _Bad(f"a band is two amounts [low, high], got {value!r}")
        if value[0] > value[1]:
            raise _Bad(f"the band's low end {value[0]} is above its high end {value[1]}")
        self.table("parameters")["subsidy_band_kr"] = list(value)

    def _default_share(self, change: Mapping[str, Any]) -> None:
        value = change["value"]
        if not _is_num(value) or not 0 <= value <= 1:
            raise _Bad(f"a share is a number in [0, 1], got {value!r}")
        self.table("parameters")["default_share"] = float(value)

    def _default_mode(self, change: Mapping[str, Any]) -> None:
        if not self.v2:
            raise _Bad("pool modes are of anvis/2 (FORMAT.md §6): convert the base with `anvis convert --to anvis/2`")
        if change["value"] not in MODES:
            raise _Bad(f"a mode is 'rotation' or 'choice', got {change['value']!r}")
        self.table("parameters")["default_mode"] = change["value"]

    # ------------------------------------------------------------------ validation

    def _validated(self) -> models.Instance:
        # only an `agreement` change brings fields of its own; the rest of the document is the base's
        extra = unknown_fields({"format": self.doc["format"], "agreements": self.doc["agreements"]})
        if extra:
            raise _Bad(f"field {extra[0]!r} is not one of {self.doc['format']}")
        try:
            # the citizens, units and scores are the base's, valid already: only the terms are checked
            return models.with_terms(self.base, **{t: self.doc[t] for t in sorted(self.copied)})
        except InstanceError as exc:
            raise _Bad("; ".join(str(p) for p in exc.problems[:5])) from None

    def _check(self, what: str, hint: str) -> None:
        """Validate the document so far and refuse a ledger row left with no unit."""
        inst = self._validated()
        now: dict[str, int] = {}
        for p in unit_pools(inst):
            now[p] = now.get(p, 0) + 1
        for row in inst.ledger:
            before = self.took_over.get(row.pool, row.pool)
            if self.base_units.get(before, 0) and not now.get(row.pool, 0):
                raise _Bad(
                    f"{what} takes all {self.base_units[before]} units of pool {before!r}, "
                    f"whose ledger row would then apply to no unit ({hint})"
                )

    def result(self, where: str) -> models.Instance:
        try:
            inst = self._validated()
        except _Bad as exc:
            raise ScenarioError([f"{where}: the changed instance is not valid: {exc}"]) from None
        return inst


def _is_num(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _count(change: Mapping[str, Any], current: int | None, unlimited_ok: bool) -> int | None:
    """A cap's new value from ``value`` or ``delta``: never below 0; unlimited stays unlimited under a delta."""
    if "delta" in change:
        delta = change["delta"]
        if not _is_int(delta):
            raise _Bad(f"'delta' is a whole number, got {delta!r}")
        return None if current is None else max(0, current + delta)
    value = change["value"]
    if value is None and unlimited_ok:
        return None
    if not _is_int(value) or value < 0:
        unlimited = " or null (unlimited)" if unlimited_ok else ""
        raise _Bad(f"'value' is a whole number ≥ 0{unlimited}, got {value!r}")
    return int(value)
