"""Weekly allocation rounds over a persistent ledger that never loses a claim.

A round goes ``opened`` → ``solved`` → ``committed`` (or ``rolled_back``
later, or ``abandoned`` before commit). At most one round is open (opened or
solved) at a time. :func:`open_round` fills the ledger's state into the week's
instance:

* a ``ledger`` entry for every pool the ledger knows (cumulative vacancies and
  claims of committed rounds), so the share caps count vacancies over time and a
  rotation pool of ``anvis/2`` numbers its vacancies on from its position
  (FORMAT.md §6 rule 4: its turns fall every fourth vacancy across rounds; its
  claims are counted but limit nothing);
* the units the municipality held in the last committed round, back with
  ``offered: true`` (:func:`with_held`);
* the remaining subsidy frame of every municipality (frame − subsidised so
  far, at least 0), the remaining grant quota of every region (likewise;
  unlimited stays unlimited) and the remaining mixed-city cap of every
  department (``max_vulnerable`` − vulnerable placed so far, at least 0).

:func:`commit_round` adds the round's plan to the ledger in one transaction
and records exactly what it added, which :func:`rollback_round` subtracts; it
also records each pool's mode and the units the round passed (the plan's
``passed`` but the held ones). A hold (``hold=`` of :func:`open_round` and
:func:`solve_round`, or a ``hold`` override) keeps an offered turn for the next
round: it is a reserve of this round's instance, not passed, comes back offered,
and costs the municipality the empty-unit rent (tomgangsleje), monthly rent ×
12 / 52 a week (:func:`hold_cost_kr`).
Every writing transaction takes the database's write lock first (``BEGIN
IMMEDIATE`` on SQLite, a row lock elsewhere) and checks the round's status
inside it, so two processes can neither commit one round twice nor count a
claim twice; a process killed mid-commit leaves the ledger as it was.

:func:`decline_offers` records, before the commit, offers the citizens
declined: those assignments leave the stored plan, so the ledger counts
exactly the accepted claims (a declined unit is still a vacancy of its pool).
:func:`new_period` starts a new period: it zeroes the counted usage of
mixed-city caps, and when asked of subsidy frames and grant quotas (totals
until spent otherwise) and the banked rights of choice pools (never the pools'
vacancies), is recorded in the history, and rounds committed before it can no
longer be rolled back.

A round's overrides (lock, forbid, reserve, hold) are ledger rows numbered in the
round, each with the planner's note, who added it and when (:func:`round_overrides`,
:func:`add_override`, :func:`remove_override`); the round's stored instance carries
exactly those not removed. A solve with overrides also solves without them, and without
each one, and stores who moved and who lost their place (:func:`override_cost`).
:func:`housed_before` names citizens and units of a new week that committed rounds
housed or let already, and :func:`carry_round` writes next week's instance: who still
waits (``waiting_days`` increased), the held turns and the ledger's counts.

``db`` arguments are a file path (SQLite, created on first use by the library; the CLI starts
one only with ``round open``) or a
SQLAlchemy URL (``sqlite:///x.db``, ``postgresql://…``).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Row, delete, func, insert, select, update

import models
from models.instance import Instance
from models.plan import HOMELESS_RENT_KR, DepartmentUsage, FrameUsage, Plan, PoolUsage, QuotaUsage, Unassigned
from models.pools import EPS, pool_mode, turns, unit_pools
from models.schema import KINDS, LedgerEntry, Override
from models.validate import add_overrides
from optimizer import lang as L
from optimizer.rounds.ledger import (
    DEFAULT_DB,
    HOLD_NOTE,
    LedgerError,
    effects,
    holds,
    lettings,
    overrides,
    passes,
    pool_modes,
    rounds,
    schema_version,
    totals,
    transaction,
    utc_now,
)
from optimizer.rounds.subsidies import record_subsidies

if TYPE_CHECKING:  # the solver is imported when a round is solved, not with the ledger
    from optimizer.engine.solve import Result

__all__ = [
    "DEFAULT_DB",
    "LedgerError",
    "abandon_round",
    "add_override",
    "carry_round",
    "commit_round",
    "decline_offers",
    "history",
    "hold_cost_kr",
    "housed_before",
    "latest_committed",
    "ledger_totals",
    "new_period",
    "open_round",
    "open_round_id",
    "override_cost",
    "overrides_with_cost",
    "purge_abandoned",
    "remove_override",
    "report_overrides",
    "rollback_round",
    "round_info",
    "round_override_cost",
    "round_overrides",
    "round_plan",
    "solve_round",
    "status",
]

OPEN_STATES = ("opened", "solved")
#: The states of a round that has its instance (a purged round's was removed).
ROUND_STATES = ("opened", "solved", "committed", "rolled_back", "abandoned")
#: Period kinds of :func:`new_period` and the ledger kind each resets.
PERIOD_KINDS = {"frame": "municipality", "quota": "region", "department": "department"}
#: The period kind of :func:`new_period` that expires the banked rights of choice pools.
CHOICE_RIGHTS = "choice_rights"
#: Weeks in a year and months in a year: a held unit's empty-unit rent (tomgangsleje) per week
#: is its monthly rent × 12 / 52.
WEEKS_PER_YEAR, MONTHS_PER_YEAR = 52, 12
#: Status of the ``rounds`` row that records a period reset.
PERIOD_STATUS = "new_period"
#: A round committed less than this many seconds ago was "just committed" (e.g. by a concurrent commit).
JUST_S = 60.0
#: Status of an abandoned round whose instance and plan :func:`purge_abandoned` removed.
PURGED_STATUS = "purged"
#: Status of the ``rounds`` row that records a purge (who purged which rounds, when).
PURGE_STATUS = "purge"
#: Environment variable (tests only): seconds to sleep inside the commit transaction.
SLEEP_ENV = "ANVIS_TEST_SLEEP_IN_COMMIT"


def _compact(doc: object) -> str:
    """The JSON a round stores: compact, UTF-8 text kept as is."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _ledger_modes(conn: Connection) -> dict[str, str]:
    """Each pool's mode in the latest committed round that recorded one (FORMAT.md §6 rule 1)."""
    committed = select(rounds.c.id).where(rounds.c.status == "committed")
    rows = conn.execute(
        select(pool_modes.c.pool, pool_modes.c.mode)
        .where(pool_modes.c.round_id.in_(committed))
        .order_by(pool_modes.c.round_id)
    )
    return {str(pool): str(mode) for pool, mode in rows}  # later rounds overwrite earlier ones


def _stored(row: Row[Any], column: str) -> Any:
    """A JSON document stored in a round's row; a damaged one is a :class:`LedgerError`."""
    try:
        return json.loads(getattr(row, column))
    except (TypeError, ValueError) as exc:  # None, or not JSON (JSONDecodeError is a ValueError)
        raise LedgerError(
            f"round {row.id}: its stored {column} is not valid JSON ({exc}): the ledger is damaged"
        ) from None


def _stored_instance(row: Row[Any]) -> Instance:
    """A round's stored (filled) instance."""
    return models.from_dict(_stored(row, "instance_json"), f"round {row.id}")


def _stored_plan(row: Row[Any]) -> Plan:
    """A round's stored plan; a malformed one is a :class:`LedgerError` naming every bad field."""
    try:
        return Plan.from_dict(_stored(row, "plan_json"), f"round {row.id}")
    except models.InstanceError as exc:
        raise LedgerError(f"round {row.id}: the stored plan is malformed: {exc}") from None


def _insert_round(conn: Connection, **values: object) -> int:
    """Add a row to ``rounds``; its new id."""
    key = conn.execute(insert(rounds).values(**values)).inserted_primary_key
    if key is None:  # cannot happen: the table has an autoincrement primary key
        raise LedgerError("the database returned no id for the new round")
    return int(key[0])


def _user() -> str:
    """Who acts, when not given: the login name."""
    return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def _totals(conn: Connection) -> dict[tuple[str, str], tuple[int, int]]:
    rows = conn.execute(select(totals.c.kind, totals.c.key, totals.c.vacancies, totals.c.claimed))
    return {(k, key): (int(v), int(c)) for k, key, v, c in rows}


def ledger_totals(db: str = DEFAULT_DB) -> dict[str, dict[str, dict[str, int]]]:
    """The cumulative ledger: ``{kind: {key: {"vacancies", "claimed"}}}``.

    Kinds: ``pool`` (vacancies and claims), ``municipality`` and ``region``
    (``claimed`` = subsidised assignments), ``department`` (``claimed`` =
    vulnerable citizens placed).
    """
    with transaction(db) as conn:
        out: dict[str, dict[str, dict[str, int]]] = {}
        for (kind, key), (v, c) in sorted(_totals(conn).items()):
            out.setdefault(kind, {})[key] = {"vacancies": v, "claimed": c}
        return out


def _pool_ids(inst: Instance) -> set[str]:
    """Every pool id a ledger entry of this instance may name."""
    ids = {a.id for a in inst.agreements}
    kinds: tuple[str | None, ...] = KINDS if inst.version == 2 else (None,)  # FORMAT.md §6 rule 2
    ids |= {
        models.default_pool_id(m.id, o.id, k) for m in inst.municipalities for o in inst.organisations for k in kinds
    }
    return ids


def fill(inst: Instance, state: dict[tuple[str, str], tuple[int, int]]) -> Instance:
    """The instance with the ledger state filled in (see the module docstring).

    Ledger entries the instance carries for pools the database does not know
    are kept (their history counts from this round on); the database's
    entries replace the instance's for pools it knows.
    """
    known = {key: vc for (kind, key), vc in state.items() if kind == "pool"}
    valid = _pool_ids(inst)
    entries = [e for e in inst.ledger if e.pool not in known]
    entries += [
        LedgerEntry(pool=p, vacancies_before=v, claimed_before=c) for p, (v, c) in sorted(known.items()) if p in valid
    ]

    def used(kind: str, key: str) -> int:
        return state.get((kind, key), (0, 0))[1]

    munis = tuple(
        m.model_copy(update={"subsidy_frame": max(0, m.subsidy_frame - used("municipality", m.id))})
        for m in inst.municipalities
    )
    regions = tuple(
        r
        if r.grant_quota is None
        else r.model_copy(update={"grant_quota": max(0, r.grant_quota - used("region", r.id))})
        for r in inst.regions
    )
    depts = tuple(
        d
        if d.max_vulnerable is None
        else d.model_copy(update={"max_vulnerable": max(0, d.max_vulnerable - used("department", d.id))})
        for d in inst.departments
    )
    return inst.replace(ledger=tuple(entries), municipalities=munis, regions=regions, departments=depts)


def _round(conn: Connection, round_id: int | None, states: tuple[str, ...] = OPEN_STATES) -> Row[Any]:
    """The round ``round_id`` (or the open one when None), or raise."""
    if round_id is None:
        row = conn.execute(select(rounds).where(rounds.c.status.in_(OPEN_STATES)).order_by(rounds.c.id.desc())).first()
        if row is None:
            raise LedgerError(_no_open_round(conn))
    else:
        row = conn.execute(select(rounds).where(rounds.c.id == round_id)).first()
        if row is None:
            raise LedgerError(f"no round {round_id}")
    if row.status not in states:
        raise LedgerError(
            f"round {row.id} ({row.name!r}) is {row.status.replace('_', ' ')}, "
            f"not {' or '.join(s.replace('_', ' ') for s in states)}"
        )
    return row


def _no_open_round(conn: Connection) -> str:
    """Why there is no open round: the latest round's fate (e.g. another planner just committed it)."""
    last = conn.execute(
        select(rounds).where(rounds.c.status.not_in((PERIOD_STATUS, PURGE_STATUS))).order_by(rounds.c.id.desc())
    ).first()
    hint = "start one with 'anvis round open INSTANCE'"
    if last is None:
        return f"no open round ({hint})"
    if last.status == "committed":
        just = " just" if _seconds_ago(last.committed_at) < JUST_S else ""
        return (
            f"no open round: round {last.id} ({last.name!r}) was{just} committed "
            f"by {last.committed_by} at {last.committed_at} ({hint})"
        )
    return f"no open round: round {last.id} ({last.name!r}) is {last.status.replace('_', ' ')} ({hint})"


def _seconds_ago(when: str | None) -> float:
    """Seconds since a stored UTC ISO time (infinite when missing or unreadable)."""
    try:
        then = datetime.fromisoformat(when or "")
    except ValueError:
        return float("inf")
    return (datetime.now(timezone.utc) - then).total_seconds()


def _refuse_open_round(conn: Connection, when: str) -> None:
    """Raise if a round is open or solved and not committed (at most one round is open)."""
    busy = conn.execute(
        select(rounds.c.id, rounds.c.name, rounds.c.status).where(rounds.c.status.in_(OPEN_STATES))
    ).first()
    if busy is not None:
        raise LedgerError(
            f"round {busy.id} ({busy.name!r}) is {busy.status} and not committed: commit or abandon it {when}"
        )


def _refuse_committed_sha(conn: Connection, sha: str, except_id: int | None = None) -> None:
    q = select(rounds.c.id, rounds.c.name).where(rounds.c.instance_sha256 == sha, rounds.c.status == "committed")
    if except_id is not None:
        q = q.where(rounds.c.id != except_id)
    row = conn.execute(q).first()
    if row is not None:
        raise LedgerError(f"this instance (sha256 {sha[:12]}…) was already committed as round {row.id} ({row.name!r})")


def open_round(
    db: str, inst: Instance, hold: Iterable[str] = (), by: str | None = None, hold_note: str = ""
) -> tuple[int, Instance]:
    """Open a round for a week's instance and fill the ledger state into it.

    Units the municipality held in the last committed round come back offered
    (:func:`with_held`); held units of this round (``hold`` and the instance's
    ``hold`` overrides) become reserves of the filled instance and are recorded
    (:func:`as_reserves`).

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    inst
        The week's validated instance, as the planner wrote it.
    hold
        Ids of offered turns (units of rotation pools the municipality may be given)
        to keep for the next round instead of passing them.
    by
        Who opens the round; ``$USER`` by default. The instance's overrides and the
        holds are recorded as the round's overrides (:func:`round_overrides`), added by
        them.
    hold_note
        Why the units ``hold`` names are held (recorded with those holds).

    Returns
    -------
    round_id, filled
        The new round's id and the instance the solver will see.

    Raises
    ------
    LedgerError
        When another round is open or solved and not committed, this instance was
        committed already, a held unit cannot come back (a version-1 instance), or a
        unit to hold is not a turn or offered unit of a rotation pool.
    """
    with transaction(db, write=True) as conn:
        _refuse_open_round(conn, "first")
        _refuse_committed_sha(conn, inst.sha256)
        back = _held_rows(conn, _last_committed(conn))
        filled = fill(with_held(inst, back), _totals(conn))
        filled, held = as_reserves(filled, hold, hold_note)
        now = utc_now()
        rid = _insert_round(
            conn,
            name=inst.name,
            instance_sha256=inst.sha256,
            instance_json=_compact(filled.to_dict()),
            status="opened",
            opened_at=now,
            opened_by=by or _user(),
        )
        _record_holds(conn, rid, filled, held, back)
        _sync_overrides(conn, rid, filled, by or _user(), now)
        return rid, filled


# --- holds: offered turns kept for the next round -------------------------------------


def _last_committed(conn: Connection) -> int | None:
    """The id of the latest committed round (None when there is none)."""
    row = conn.execute(select(rounds.c.id).where(rounds.c.status == "committed").order_by(rounds.c.id.desc())).first()
    return None if row is None else int(row.id)


def _held_rows(conn: Connection, round_id: int | None) -> list[Row[Any]]:
    """The holds of a round, in unit order of the round (none for None)."""
    if round_id is None:
        return []
    return list(conn.execute(select(holds).where(holds.c.round_id == round_id).order_by(holds.c.unit)))


def with_held(inst: Instance, held: list[Row[Any]]) -> Instance:
    """The week's instance with the units held in the last committed round back as ``offered: true``.

    A held unit the week's file lists gets ``offered: true``; one it lacks is appended
    as stored when it was held (with its department, when the file lacks that too).

    Parameters
    ----------
    inst
        The week's instance, as the planner wrote it.
    held
        The ``holds`` rows of the last committed round.

    Raises
    ------
    LedgerError
        When there are held units and the instance is not ``anvis/2``, or the result
        is not a valid instance (e.g. the unit's municipality is missing).
    """
    if not held:
        return inst
    if inst.version != 2:
        raise LedgerError(
            f"units held in the last committed round ({', '.join(repr(h.unit) for h in held[:5])}) come back "
            "offered, which only an anvis/2 instance can say"
        )
    doc = inst.to_dict()
    by_id = {u["id"]: u for u in doc["units"]}
    departments = {d["id"] for d in doc["departments"]}
    for h in held:
        if h.unit in by_id:
            by_id[h.unit]["offered"] = True
            continue
        unit = json.loads(h.unit_json)
        doc["units"].append({**unit, "offered": True})
        department = json.loads(h.department_json)
        if department["id"] not in departments:
            doc["departments"].append(department)
            departments.add(department["id"])
    try:
        return models.from_dict(doc, inst.source)
    except models.InstanceError as exc:
        raise LedgerError(f"the units held in the last committed round cannot come back: {exc}") from None


def as_reserves(inst: Instance, hold: Iterable[str] = (), note: str = "") -> tuple[Instance, list[str]]:
    """The instance with its holds made reserves, and the held unit ids in unit order.

    A held unit is not assigned this round, like a reserved one (its ``hold``
    override becomes a ``reserve`` noted :data:`HOLD_NOTE`, so a plan states only
    the overrides every reader knows); the ledger records it, so that it is not
    counted as passed and comes back offered in the next round.

    Parameters
    ----------
    inst
        The round's filled instance.
    hold
        Ids of units to hold beside the instance's ``hold`` overrides.
    note
        Why they are held (the reserves' note; :data:`HOLD_NOTE` when empty).

    Raises
    ------
    LedgerError
        When a unit is unknown, or is not a turn or offered unit of a rotation pool
        (FORMAT.md §6 rule 4: only an offer can be held).
    """
    wanted = list(dict.fromkeys([*hold, *(o.unit for o in inst.overrides if o.action == "hold")]))
    if not wanted:
        return inst, []
    index = {u.id: i for i, u in enumerate(inst.units)}
    unknown = [u for u in wanted if u not in index]
    if unknown:
        raise LedgerError(f"cannot hold unknown unit(s) {', '.join(map(repr, unknown[:5]))}")
    of_units = unit_pools(inst)
    _, may = turns(inst, of_units, models.pools(inst, of_units))
    not_offers = [u for u in wanted if not may[index[u]]]
    if not_offers:
        raise LedgerError(
            f"cannot hold unit(s) {', '.join(map(repr, not_offers[:5]))}: only a turn or an offered unit "
            "of a rotation pool is offered to the municipality (FORMAT.md §6 rule 4)"
        )
    reserved = {o.unit for o in inst.overrides if o.action == "reserve"}
    kept = tuple(
        Override(action="reserve", unit=o.unit, note=o.note or HOLD_NOTE) if o.action == "hold" else o
        for o in inst.overrides
    )
    kept = tuple(o for i, o in enumerate(kept) if o.action != "reserve" or o.unit not in {k.unit for k in kept[:i]})
    reserved |= {o.unit for o in kept if o.action == "reserve"}
    extra = tuple(Override(action="reserve", unit=u, note=note or HOLD_NOTE) for u in wanted if u not in reserved)
    return inst.replace(overrides=kept + extra), sorted(wanted, key=index.__getitem__)


def _record_holds(conn: Connection, round_id: int, inst: Instance, held: list[str], back: list[Row[Any]]) -> None:
    """Record a round's holds (those recorded already are kept), counting the weeks each unit has been held."""
    if not held:
        return
    recorded = {h.unit for h in _held_rows(conn, round_id)}
    weeks_before = {h.unit: int(h.weeks) for h in back}
    doc = inst.to_dict()
    units = {u["id"]: u for u in doc["units"]}
    departments = {d["id"]: d for d in doc["departments"]}
    pool_of = dict(zip((u.id for u in inst.units), unit_pools(inst), strict=True))
    rows = []
    for u in held:
        if u in recorded:
            continue
        unit = {k: v for k, v in units[u].items() if k != "offered"}
        rows.append(
            {
                "round_id": round_id,
                "unit": u,
                "pool": pool_of[u],
                "rent_kr": int(unit["rent_kr"]),
                "weeks": weeks_before.get(u, 0) + 1,
                "unit_json": _compact(unit),
                "department_json": _compact(departments[unit["department"]]),
            }
        )
    if rows:
        conn.execute(insert(holds), rows)


def hold_cost_kr(rent_kr: int, weeks: int) -> int:
    """The empty-unit rent (tomgangsleje) of holding a unit for some weeks, in whole kroner.

    Monthly rent × 12 / 52 a week, rounded half up at the end (whole kroner, FORMAT.md §1).
    """
    return (2 * rent_kr * MONTHS_PER_YEAR * weeks + WEEKS_PER_YEAR) // (2 * WEEKS_PER_YEAR)


# --- overrides: numbered ledger rows, with note, who and when ----------------------------

#: The kinds of override a round records (``hold`` is a reserve kept for the next round).
OVERRIDE_KINDS = ("lock", "forbid", "reserve", "hold")


def _override_rows(conn: Connection, round_id: int) -> list[Row[Any]]:
    """The overrides of a round not removed, by number."""
    return list(
        conn.execute(
            select(overrides)
            .where(overrides.c.round_id == round_id, overrides.c.removed_at.is_(None))
            .order_by(overrides.c.n)
        )
    )


def _as_override(row: Row[Any]) -> Override:
    """The override a ledger row is in the round's instance (a hold is the reserve :func:`as_reserves` makes)."""
    if row.action == "hold":
        return Override(action="reserve", unit=row.unit, note=row.note or HOLD_NOTE)
    if row.citizen is None:
        return Override(action=row.action, unit=row.unit, note=row.note)
    return Override(action=row.action, unit=row.unit, citizen=row.citizen, note=row.note)


def _override_key(o: Override) -> tuple[str, str, str | None, str]:
    return (o.action, o.unit, o.citizen, o.note)


def _entry(row: Row[Any]) -> dict[str, Any]:
    """A round's override as the library gives it (see :func:`round_overrides`)."""
    return {
        "n": int(row.n),
        "kind": row.action,
        "citizen": row.citizen,
        "unit": row.unit,
        "note": row.note,
        "by": row.added_by,
        "at": row.added_at,
    }


def _sync_overrides(conn: Connection, round_id: int, inst: Instance, by: str, at: str) -> None:
    """Make the round's override rows those of ``inst`` (the round's instance as it will be stored).

    Rows that ``inst`` still has keep their number, note and author; rows it lacks are
    marked removed (by ``by`` at ``at``); its new overrides are numbered on, added by
    ``by``. A reserve of a unit the round holds is recorded as the hold it is.
    """
    rows = _override_rows(conn, round_id)
    have = Counter(_override_key(_as_override(r)) for r in rows)
    new = []
    for o in inst.overrides:
        k = _override_key(o)
        if have[k] > 0:
            have[k] -= 1
        else:
            new.append(o)
    for r in rows:  # what is left in ``have`` was removed
        k = _override_key(_as_override(r))
        if have[k] > 0:
            have[k] -= 1
            conn.execute(
                update(overrides)
                .where(overrides.c.round_id == round_id, overrides.c.n == r.n)
                .values(removed_by=by, removed_at=at)
            )
    if not new:
        return
    held = {h.unit for h in _held_rows(conn, round_id)}
    last = conn.execute(select(func.max(overrides.c.n)).where(overrides.c.round_id == round_id)).scalar_one()
    first = int(last or 0) + 1
    values = []
    for n, o in enumerate(new, start=first):
        hold = o.action == "reserve" and o.unit in held
        values.append(
            {
                "round_id": round_id,
                "n": n,
                "action": "hold" if hold else o.action,
                "unit": o.unit,
                "citizen": o.citizen,
                "note": "" if hold and o.note == HOLD_NOTE else o.note,
                "added_by": by,
                "added_at": at,
            }
        )
    conn.execute(insert(overrides), values)


def round_overrides(db: str, round_id: int | None = None) -> list[dict[str, Any]]:
    """The overrides of a round (the open one by default) that were not removed, by number.

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    round_id
        Any round; the open (opened or solved) one by default.

    Returns
    -------
    list of dict
        Per override: ``n`` (its number in the round, kept when others are removed),
        ``kind`` (``lock``, ``forbid``, ``reserve`` or ``hold``), ``citizen`` (None for a
        reserve or hold), ``unit``, ``note`` (the planner's reason, may be empty), ``by``
        (who added it; None for one a ledger older than schema version 4 stored) and
        ``at`` (when, UTC ISO).

    Raises
    ------
    LedgerError
        When there is no such round (or no open round).
    """
    with transaction(db) as conn:
        row = _round(conn, round_id, states=ROUND_STATES)
        return [_entry(r) for r in _override_rows(conn, row.id)]


def add_override(
    db: str,
    kind: str,
    unit: str,
    citizen: str | None = None,
    note: str = "",
    by: str | None = None,
    round_id: int | None = None,
) -> dict[str, Any]:
    """Add an override, with a note, to the open round; the round must be solved again.

    The override is checked as one in the instance file would be (known ids, no
    contradiction with the round's others); a lock must obey every rule with the caps
    the ledger leaves, and a hold must be of an offered turn (:func:`as_reserves`). The
    round's stored instance gets it; a solved round goes back to ``opened`` (its plan
    and the overrides' cost are dropped: they no longer fit).

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    kind
        ``lock``, ``forbid``, ``reserve`` or ``hold``.
    unit
        The unit's id.
    citizen
        The citizen's id: required for ``lock`` and ``forbid``, absent otherwise.
    note
        Why (kept in the ledger and the round's instance).
    by
        Who adds it; ``$USER`` by default.
    round_id
        The round; the open one by default. It must be opened or solved.

    Returns
    -------
    dict
        The new override, as :func:`round_overrides` lists it.

    Raises
    ------
    LedgerError
        When the round is not open, or a hold is not of an offered turn.
    models.InstanceError
        When the override is not valid for the round's instance (one problem per reason,
        at the path ``override``).
    """
    if kind not in OVERRIDE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(OVERRIDE_KINDS)}, got {kind!r}")
    record: dict[str, object] = {"action": kind, "unit": unit, "note": note}
    if citizen is not None:
        record["citizen"] = citizen
    by = by or _user()
    with transaction(db, write=True) as conn:
        row = _round(conn, round_id)
        inst = _stored_instance(row)
        numbers = [int(r.n) for r in _override_rows(conn, row.id)]
        candidate = _with_override(inst, record, f"round {row.id}", numbers)
        filled, held = as_reserves(candidate)
        _record_holds(conn, row.id, filled, held, _held_rows(conn, _last_committed(conn)))
        _sync_overrides(conn, row.id, filled, by, utc_now())
        _store_changed(conn, row.id, filled)
        return _entry(_override_rows(conn, row.id)[-1])


#: A position in an instance's ``overrides`` as a problem's path or message names it.
_OVERRIDE_AT = re.compile(r"overrides\[(\d+)\]")


def _with_override(inst: Instance, record: dict[str, object], source: str, numbers: list[int]) -> Instance:
    """``inst`` with one more override, checked (a lock against every rule).

    Problems name the new one ``override`` and the round's others by their number
    (``override 3``), never by a position in a list the planner does not see; ``numbers``
    are the numbers of ``inst.overrides``, in order.
    """
    from optimizer.engine.data import ProblemData
    from optimizer.engine.overrides import check_overrides

    def name(match: re.Match[str]) -> str:
        k = int(match.group(1))
        return f"override {numbers[k]}" if k < len(numbers) else "override"

    def named(exc: models.InstanceError) -> models.InstanceError:
        return models.InstanceError(
            source,
            [models.Problem(_OVERRIDE_AT.sub(name, p.path), _OVERRIDE_AT.sub(name, p.message)) for p in exc.problems],
        )

    try:
        out = add_overrides(inst, [record])
        if record["action"] == "lock":
            check_overrides(ProblemData.build(out))
    except models.InstanceError as exc:
        raise named(exc) from None
    return out


def _store_changed(conn: Connection, round_id: int, inst: Instance) -> None:
    """Store a round's instance with changed overrides: the round is open again, without a plan."""
    conn.execute(
        update(rounds)
        .where(rounds.c.id == round_id)
        .values(
            instance_json=_compact(inst.to_dict()),
            plan_json=None,
            override_cost_json=None,
            status="opened",
            solved_at=None,
        )
    )


def remove_override(db: str, n: int, by: str | None = None, round_id: int | None = None) -> dict[str, Any]:
    """Remove override ``n`` of the open round; the round must be solved again.

    The override stays in the ledger, marked removed (by whom, when); the round's stored
    instance loses it; removing a hold removes the unit's hold (it is passed or offered
    again as the solve decides). A solved round goes back to ``opened``.

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    n
        The override's number (:func:`round_overrides`).
    by
        Who removes it; ``$USER`` by default.
    round_id
        The round; the open one by default. It must be opened or solved.

    Returns
    -------
    dict
        The removed override, as :func:`round_overrides` listed it.

    Raises
    ------
    LedgerError
        When the round is not open, or has no override ``n`` (or it was removed already).
    """
    by = by or _user()
    with transaction(db, write=True) as conn:
        row = _round(conn, round_id)
        gone = conn.execute(select(overrides).where(overrides.c.round_id == row.id, overrides.c.n == n)).first()
        if gone is None:
            raise LedgerError(f"round {row.id} has no override {n}")
        if gone.removed_at is not None:
            raise LedgerError(f"override {n} of round {row.id} was removed by {gone.removed_by} at {gone.removed_at}")
        conn.execute(
            update(overrides)
            .where(overrides.c.round_id == row.id, overrides.c.n == n)
            .values(removed_by=by, removed_at=utc_now())
        )
        left = _override_rows(conn, row.id)
        if gone.action == "hold" and not any(r.action == "hold" and r.unit == gone.unit for r in left):
            conn.execute(delete(holds).where(holds.c.round_id == row.id, holds.c.unit == gone.unit))
        inst = _stored_instance(row).replace(overrides=tuple(_as_override(r) for r in left))
        _store_changed(conn, row.id, inst)
        return _entry(gone)


def report_overrides(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Overrides as :func:`optimizer.report.html.render_report` takes them (``overrides=``).

    Parameters
    ----------
    entries
        :func:`overrides_with_cost` of a round.

    Returns
    -------
    list of dict
        Per override: ``kind``, ``citizen``, ``unit``, ``note`` and, when its cost was found,
        ``effect``: ``moved`` and ``lost`` (citizen ids) and ``priority_lost`` (priority ->
        places lost).
    """
    out = []
    for e in entries:
        row = {k: e[k] for k in ("kind", "citizen", "unit", "note")}
        cost = e.get("cost")
        if cost is not None:
            row["effect"] = {
                "moved": [m["citizen"] for m in cost["moved"]],
                "lost": [m["citizen"] for m in cost["lost"]],
                "priority_lost": {p: n["lost"] for p, n in cost["by_priority"].items() if n["lost"]},
            }
        out.append(row)
    return out


def open_round_id(db: str) -> int | None:
    """The id of the open (opened or solved) round, or None when no round is open."""
    with transaction(db) as conn:
        row = conn.execute(select(rounds.c.id).where(rounds.c.status.in_(OPEN_STATES))).first()
        return None if row is None else int(row.id)


def latest_committed(db: str) -> int | None:
    """The id of the latest committed round (not rolled back), or None when no round is committed."""
    with transaction(db) as conn:
        return _last_committed(conn)


def round_info(db: str, round_id: int | None = None) -> dict[str, Any]:
    """A round's metadata: the latest committed round by default.

    Returns
    -------
    dict
        ``id``, ``name``, ``status`` (``opened``, ``solved``, ``committed``,
        ``rolled_back``, ``abandoned``, ``purged``), ``instance_sha256``, ``opened_by``
        (None for a round a ledger older than schema version 4 stored), ``opened_at``,
        ``solved_at``, ``committed_by``, ``committed_at`` and ``rolled_back_at`` (None
        when it did not happen).

    Raises
    ------
    LedgerError
        When there is no such round, or no committed round.
    """
    with transaction(db) as conn:
        if round_id is None:
            round_id = _last_committed(conn)
            if round_id is None:
                raise LedgerError("no committed round yet")
        row = conn.execute(select(rounds).where(rounds.c.id == round_id)).first()
        if row is None or row.status in (PERIOD_STATUS, PURGE_STATUS):
            raise LedgerError(f"no round {round_id}")
        return _summary(row)


def round_instance(db: str, round_id: int | None = None) -> Instance:
    """The filled instance of a round (the open one by default)."""
    with transaction(db) as conn:
        row = _round(conn, round_id, states=ROUND_STATES)
    return _stored_instance(row)


def solve_round(
    db: str,
    round_id: int | None = None,
    instance: Instance | None = None,
    hold: Iterable[str] = (),
    by: str | None = None,
    cost: bool = True,
    hold_note: str = "",
    **options: Any,
) -> tuple[Plan, Result]:
    """Solve the open round's filled instance and store its plan (status ``solved``).

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    round_id
        The round; the open one by default.
    instance
        The round's filled instance with other planner overrides (a planner locks,
        forbids or reserves after seeing a plan); it replaces the stored one. Anything
        but the overrides must be as stored.
    hold
        Offered turns to keep for the next round (see :func:`open_round`), beside the
        instance's ``hold`` overrides and the holds recorded when the round was opened.
    by
        Who adds the overrides ``instance`` and ``hold`` add (recorded with them); ``$USER``
        by default.
    cost
        When the round has overrides, also solve it once without them (same options) and
        store what they cost (:func:`override_cost`, read back by :func:`round_override_cost`).
    hold_note
        Why the units ``hold`` names are held (recorded with those holds).
    **options
        Passed to :func:`optimizer.engine.solve.solve` (``backend``, ``time_limit``, …).

    Returns
    -------
    plan, result
        The :class:`~models.Plan` and the solver's :class:`~optimizer.engine.solve.Result`.
    """
    from optimizer.engine.solve import solve
    from optimizer.plan.build import make_plan

    with transaction(db) as conn:
        row = _round(conn, round_id)
    inst = _stored_instance(row)
    if instance is not None:
        if _without_overrides(instance) != _without_overrides(inst):
            raise LedgerError(f"round {row.id}: the instance given differs from the round's in more than its overrides")
        inst = instance
    inst, held = as_reserves(inst, hold, hold_note)
    result = solve(inst, **options)
    plan = make_plan(result)
    spent = None
    if cost and inst.overrides and plan.status in ("optimal", "feasible"):
        progress = options.get("progress")
        if progress is not None:  # the cost's solves report as such, without a fraction of their own
            options = {**options, "progress": lambda message, _: progress(f"cost of the overrides: {message}", None)}
        spent = _cost_of_overrides(inst, plan, **options)
    with transaction(db, write=True) as conn:
        now_row = _round(conn, row.id)  # still open: nobody committed or abandoned it meanwhile
        if now_row.instance_json != row.instance_json:  # e.g. another planner added an override meanwhile
            raise LedgerError(
                f"round {row.id} changed while it was solved (its overrides were changed); "
                "nothing stored: solve it again"
            )
        _record_holds(conn, row.id, inst, held, _held_rows(conn, _last_committed(conn)))
        now = utc_now()
        _sync_overrides(conn, row.id, inst, by or _user(), now)
        conn.execute(
            update(rounds)
            .where(rounds.c.id == row.id)
            .values(
                instance_json=_compact(inst.to_dict()),
                plan_json=_compact(plan.to_dict()),
                override_cost_json=None if spent is None else _compact(spent),
                status="solved",
                solved_at=now,
            )
        )
    return plan, result


def _without_overrides(inst: Instance) -> dict[str, Any]:
    doc = inst.to_dict()
    doc.pop("overrides", None)
    return doc


# --- what the overrides cost ------------------------------------------------------------


def override_cost(inst: Instance, plan: Plan, free: Plan) -> dict[str, Any]:
    """What a round's overrides cost: who the plan houses otherwise than the plan without them.

    Parameters
    ----------
    inst
        The round's instance, with its overrides.
    plan
        Its plan (solved with the overrides).
    free
        The plan of ``inst`` solved without any override, by the same backend and options.

    Returns
    -------
    dict
        ``overrides``: how many there were; ``moved``: citizens housed in both plans in
        different units (``citizen``, ``priority``, ``without`` and ``with``: the units);
        ``lost``: citizens housed without the overrides and not with them (``citizen``,
        ``priority``, ``without``); ``gained``: the reverse (``citizen``, ``priority``,
        ``with``); ``by_priority``: per priority (a string, as in the plan) the number of
        each, for priorities with any. Lists are in the instance's citizen order. Ids and
        priorities only: no citizen's circumstances. Where the solver has several equally
        good plans, a move may be one of them rather than the overrides' doing.
    """
    with_ = {a.citizen: a.unit for a in plan.assignments}
    without = {a.citizen: a.unit for a in free.assignments}
    moved: list[dict[str, Any]] = []
    lost: list[dict[str, Any]] = []
    gained: list[dict[str, Any]] = []
    count: dict[str, Counter[str]] = {}
    for c in inst.citizens:
        a, b = without.get(c.id), with_.get(c.id)
        if a == b:
            continue
        if a is not None and b is not None:
            what, entry = "moved", {"citizen": c.id, "priority": c.priority, "without": a, "with": b}
            moved.append(entry)
        elif a is not None:
            what = "lost"
            lost.append({"citizen": c.id, "priority": c.priority, "without": a})
        else:
            what = "gained"
            gained.append({"citizen": c.id, "priority": c.priority, "with": b})
        count.setdefault(str(c.priority), Counter())[what] += 1
    by_priority = {p: {k: count[p][k] for k in ("moved", "lost", "gained")} for p in sorted(count, key=int)}
    return {
        "overrides": len(inst.overrides),
        "moved": moved,
        "lost": lost,
        "gained": gained,
        "by_priority": by_priority,
    }


#: Up to this many overrides, each one's own cost is found too (one more solve each, without it).
MAX_COSTED_EACH = 8


def _cost_of_overrides(inst: Instance, plan: Plan, **options: Any) -> dict[str, Any]:
    """:func:`override_cost` of all the overrides (one solve without them), and of each.

    Up to :data:`MAX_COSTED_EACH` overrides, ``each`` lists, in the order of
    ``inst.overrides``, each one (``override``: its ``action``, ``unit``, ``citizen`` and
    ``note`` as in the instance) with its own ``cost``: the plan against the plan solved
    without that one override.
    """
    from optimizer.engine.solve import solve
    from optimizer.plan.build import make_plan

    def without(keep: tuple[Override, ...]) -> Plan:
        return make_plan(solve(inst.replace(overrides=keep), **options))

    out = override_cost(inst, plan, without(()))
    k = len(inst.overrides)
    if k > MAX_COSTED_EACH:
        return out
    each = []
    for i, o in enumerate(inst.overrides):
        if k == 1:  # without it is without them all
            one = {key: v for key, v in out.items() if key != "overrides"}
        else:
            one = override_cost(inst, plan, without(inst.overrides[:i] + inst.overrides[i + 1 :]))
            one.pop("overrides")
        each.append({"override": dict(zip(_KEY_FIELDS, _override_key(o), strict=True)), "cost": one})
    out["each"] = each
    return out


#: The fields of an override that identify it in a stored cost (see :func:`_cost_of_overrides`).
_KEY_FIELDS = ("action", "unit", "citizen", "note")


def round_override_cost(db: str, round_id: int | None = None) -> dict[str, Any] | None:
    """What a round's overrides cost (:func:`override_cost`), as stored when it was solved.

    The latest committed round by default. None when the round was solved without
    overrides (or before the ledger stored the cost, or with ``cost=False``).
    """
    with transaction(db) as conn:
        if round_id is None:
            round_id = _last_committed(conn)
            if round_id is None:
                raise LedgerError("no committed round yet")
        row = _round(conn, round_id, states=ROUND_STATES)
        if row.override_cost_json is None:
            return None
        return dict(_stored(row, "override_cost_json"))


def overrides_with_cost(db: str, round_id: int) -> list[dict[str, Any]]:
    """A round's overrides (:func:`round_overrides`), each with its ``cost`` when it was found.

    ``cost`` is the override's own :func:`override_cost` (``moved``, ``lost``, ``gained``,
    ``by_priority``): the round's plan against the plan solved without that one override.
    It is missing when the round has no plan with its cost (not solved since the
    overrides changed, or more than :data:`MAX_COSTED_EACH` overrides).
    """
    with transaction(db) as conn:
        row = _round(conn, round_id, states=ROUND_STATES)
        rows = _override_rows(conn, row.id)
    spent = None if row.override_cost_json is None else _stored(row, "override_cost_json")
    costs: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for e in (spent or {}).get("each") or ():
        costs.setdefault(tuple(e["override"][k] for k in _KEY_FIELDS), []).append(e["cost"])
    out = []
    for r in rows:  # each cost goes to the override it was found for, never to another
        entry = _entry(r)
        found = costs.get(_override_key(_as_override(r)))
        if found:
            entry["cost"] = found.pop(0)
        out.append(entry)
    return out


def round_effects(
    inst: Instance, plan: Plan, state: Mapping[tuple[str, str], tuple[int, int]]
) -> dict[tuple[str, str], tuple[int, int]]:
    """What committing ``plan`` of the filled instance adds to the ledger, per (kind, key).

    Pools add this round's vacancies and claims (for a pool the ledger does
    not know yet, also the history the instance's own ledger entry gave it);
    municipalities and regions add subsidised assignments; departments add
    vulnerable citizens placed. All are recounted from the plan's assignments
    and the instance (:mod:`optimizer.plan.usage`), never taken from the plan's
    own ``usage``, which a stored plan could get wrong.
    """
    from optimizer.engine.data import ProblemData
    from optimizer.plan.usage import assigned_pairs, count_used, plan_usage

    data = ProblemData.build(inst)
    used = count_used(data, *assigned_pairs(data, plan))
    usage = plan_usage(data, used)
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for p in usage.pools:
        v, c = int(p.vacancies or 0), p.used
        if ("pool", p.id) not in state:
            v += int(p.vacancies_before or 0)
            c += int(p.claimed_before or 0)
        out[("pool", p.id)] = (v, c)
    for f in usage.frames:
        if f.used:
            out[("municipality", f.municipality)] = (0, f.used)
    for q in usage.quotas:
        if q.used:
            out[("region", q.region)] = (0, q.used)
    vulnerable = {c.id for c in inst.citizens if c.vulnerable}
    department = {u.id: u.department for u in inst.units}
    placed = Counter(department[a.unit] for a in plan.assignments if a.citizen in vulnerable)
    for d, n in placed.items():
        out[("department", d)] = (0, n)
    return out


def _add(
    conn: Connection, key: tuple[str, str], dv: int, dc: int, state: Mapping[tuple[str, str], tuple[int, int]]
) -> None:
    kind, k = key
    if key in state:
        conn.execute(
            update(totals)
            .where(totals.c.kind == kind, totals.c.key == k)
            .values(vacancies=totals.c.vacancies + dv, claimed=totals.c.claimed + dc)
        )
    else:
        conn.execute(insert(totals).values(kind=kind, key=k, vacancies=dv, claimed=dc))


def commit_round(db: str, round_id: int | None = None, by: str | None = None) -> dict[str, Any]:
    """Add the solved round's plan to the ledger, in one transaction, and mark it committed.

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    round_id
        The round; the open one by default.
    by
        Who commits; ``$USER`` by default.

    Returns
    -------
    dict
        The committed round's ``id``, ``name``, its ``claims`` (assignments) and
        what it added to the ledger (``effects``).

    Raises
    ------
    LedgerError
        When the round is not solved (e.g. committed already), its plan is not
        a valid plan, or an instance with the same sha256 was committed. The
        stored plan is re-checked against the stored instance by the independent
        checker (:func:`optimizer.check.check_plan`) inside the transaction: a
        plan edited in the database is refused, naming its first violations.
    """
    by = by or _user()
    with transaction(db, write=True) as conn:
        row = _round(conn, round_id, states=("solved",))
        _refuse_committed_sha(conn, row.instance_sha256, except_id=row.id)
        plan = _stored_plan(row)
        if plan.status not in ("optimal", "feasible"):
            raise LedgerError(f"round {row.id}: the plan's status is {plan.status!r}; nothing to commit")
        inst = _stored_instance(row)
        if plan.instance_sha256 != inst.sha256:
            raise LedgerError(f"round {row.id}: the stored plan is not of the round's instance")
        _refuse_unchecked(row.id, inst, plan)
        try:
            state = _totals(conn)
            added = round_effects(inst, plan, state)
        except KeyError as exc:
            raise LedgerError(f"round {row.id}: the stored plan names {exc} that the instance lacks") from None
        sleep = float(os.environ.get(SLEEP_ENV) or 0)
        for i, (key, (dv, dc)) in enumerate(sorted(added.items())):
            _add(conn, key, dv, dc, state)
            if i == 0 and sleep:
                print(f"{SLEEP_ENV}: sleeping {sleep}s inside the commit", file=sys.stderr, flush=True)
                time.sleep(sleep)
        if added:
            conn.execute(
                insert(effects),
                [
                    {"round_id": row.id, "kind": k, "key": key, "vacancies": v, "claimed": c}
                    for (k, key), (v, c) in sorted(added.items())
                ],
            )
        passed = _record_rotation(conn, row.id, inst, plan)
        record_subsidies(conn, row.id, inst, plan)  # the subsidy's years start now (optimizer.rounds.subsidies)
        if plan.assignments:
            conn.execute(
                insert(lettings),
                [{"round_id": row.id, "citizen": a.citizen, "unit": a.unit} for a in plan.assignments],
            )
        done = conn.execute(
            update(rounds)
            .where(rounds.c.id == row.id, rounds.c.status == "solved")
            .values(status="committed", committed_by=by, committed_at=utc_now())
        )
        if done.rowcount != 1:  # cannot happen under the lock; never count twice if it does
            raise LedgerError(f"round {row.id} changed while committing; nothing committed")
        claims = len(plan.assignments)  # every unit lies in one pool: one claim each
        held = len(_held_rows(conn, row.id))
        return {"id": row.id, "name": row.name, "claims": claims, "effects": added, "passed": passed, "held": held}


def _record_rotation(conn: Connection, round_id: int, inst: Instance, plan: Plan) -> int:
    """Record each pool's mode in the round and the units it passed; the number passed.

    The plan's ``passed`` lists every turn and offered unit left unassigned (FORMAT.md
    §6); the held ones among them are not passed: they come back in the next round.
    """
    of_units = unit_pools(inst)
    modes = {p: pool_mode(inst, p) for p in dict.fromkeys(of_units)}
    if modes:
        conn.execute(insert(pool_modes), [{"round_id": round_id, "pool": p, "mode": m} for p, m in modes.items()])
    held = {h.unit for h in _held_rows(conn, round_id)}
    pool_of = dict(zip((u.id for u in inst.units), of_units, strict=True))
    gone = [u for u in plan.passed or () if u not in held]
    if gone:
        conn.execute(insert(passes), [{"round_id": round_id, "unit": u, "pool": pool_of[u]} for u in gone])
    return len(gone)


#: At most this many violations are named when a stored plan is refused.
MAX_NAMED_VIOLATIONS = 3


def _refuse_unchecked(round_id: int, inst: Instance, plan: Plan) -> None:
    """Refuse a stored plan the independent checker does not pass, naming its first violations.

    The plan was checked when it was solved, but it lies in the database until the
    commit: what is committed is what the checker passes now, never what was stored.
    """
    from optimizer.check import check_plan, format_violations  # the checker imports only models
    from optimizer.plan.usage import recount

    violations = check_plan(inst, plan)
    if not violations and plan.usage != recount(inst, plan):
        # every plan anvis stores has its usage; the next round's ledger is read from it
        raise LedgerError(
            f"round {round_id}: the stored plan's usage is missing or differs from its recount; nothing committed"
        )
    if violations:
        named = format_violations(violations[:MAX_NAMED_VIOLATIONS])
        more = len(violations) - len(named)
        raise LedgerError(
            f"round {round_id}: the stored plan fails the independent check: "
            + "; ".join(named)
            + (f" (+{more} more)" if more else "")
            + "; nothing committed"
        )


def rollback_round(db: str) -> dict[str, Any]:
    """Undo the last committed round: subtract exactly what it added, in one transaction.

    Returns
    -------
    dict
        The rolled-back round's ``id`` and ``name``.

    Raises
    ------
    LedgerError
        When no round is committed, or a round is open (its instance was
        filled from the ledger being rolled back: abandon it first).
    """
    with transaction(db, write=True) as conn:
        busy = conn.execute(select(rounds.c.id, rounds.c.status).where(rounds.c.status.in_(OPEN_STATES))).first()
        if busy is not None:
            raise LedgerError(f"round {busy.id} is {busy.status}: abandon it before rolling back")
        row = conn.execute(select(rounds).where(rounds.c.status == "committed").order_by(rounds.c.id.desc())).first()
        if row is None:
            raise LedgerError("no committed round to roll back")
        reset = conn.execute(
            select(rounds.c.id, rounds.c.committed_at)
            .where(rounds.c.status == PERIOD_STATUS, rounds.c.id > row.id)
            .order_by(rounds.c.id)
        ).first()
        if reset is not None:
            raise LedgerError(
                f"round {row.id} ({row.name!r}) was committed before the new period started "
                f"(entry {reset.id}, {reset.committed_at}): rolling it back would subtract its "
                "claims from the new period's frames, quotas and caps; nothing rolled back"
            )
        for e in conn.execute(select(effects).where(effects.c.round_id == row.id)).all():
            conn.execute(
                update(totals)
                .where(totals.c.kind == e.kind, totals.c.key == e.key)
                .values(vacancies=totals.c.vacancies - e.vacancies, claimed=totals.c.claimed - e.claimed)
            )
        conn.execute(delete(effects).where(effects.c.round_id == row.id))
        for t in (pool_modes, passes):  # its holds stay recorded: only committed rounds' holds count
            conn.execute(delete(t).where(t.c.round_id == row.id))
        # Keys this round created and that are back at zero leave no trace.
        conn.execute(delete(totals).where(totals.c.vacancies == 0, totals.c.claimed == 0))
        conn.execute(
            update(rounds)
            .where(rounds.c.id == row.id, rounds.c.status == "committed")
            .values(status="rolled_back", rolled_back_at=utc_now())
        )
        return {"id": row.id, "name": row.name}


def abandon_round(db: str, round_id: int | None = None) -> dict[str, Any]:
    """Drop the open (opened or solved) round without touching the ledger."""
    with transaction(db, write=True) as conn:
        row = _round(conn, round_id)
        conn.execute(update(rounds).where(rounds.c.id == row.id).values(status="abandoned"))
        return {"id": row.id, "name": row.name}


def round_plan(db: str, round_id: int | None = None) -> tuple[Instance, Plan]:
    """A round's filled instance and its plan: round ``round_id``, or the latest round with a plan.

    Raises
    ------
    LedgerError
        When there is no such round or plan, or the stored plan is malformed.
    """
    with transaction(db) as conn:
        if round_id is None:
            row = conn.execute(
                select(rounds).where(rounds.c.plan_json.is_not(None)).order_by(rounds.c.id.desc())
            ).first()
            if row is None:
                raise LedgerError("no round has a plan yet (solve one with 'anvis round solve')")
        else:
            row = _round(conn, round_id, states=("solved", "committed", "rolled_back", "abandoned"))
            if row.plan_json is None:
                raise LedgerError(f"round {row.id} ({row.name!r}) has no plan")
    return _stored_instance(row), _stored_plan(row)


def _summary(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "instance_sha256": row.instance_sha256,
        "opened_by": row.opened_by,
        "opened_at": row.opened_at,
        "solved_at": row.solved_at,
        "committed_by": row.committed_by,
        "committed_at": row.committed_at,
        "rolled_back_at": row.rolled_back_at,
    }


def history(db: str = DEFAULT_DB) -> list[dict[str, Any]]:
    """Every round, oldest first, without the stored instance and plan."""
    with transaction(db) as conn:
        return [_summary(r) for r in conn.execute(select(rounds).order_by(rounds.c.id))]


def status(db: str = DEFAULT_DB) -> dict[str, Any]:
    """The ledger at a glance: schema version, the open round, the last committed round, totals."""
    with transaction(db) as conn:
        version = conn.execute(select(func.max(schema_version.c.version))).scalar_one()
        open_ = conn.execute(
            select(rounds).where(rounds.c.status.in_(OPEN_STATES)).order_by(rounds.c.id.desc())
        ).first()
        last = conn.execute(select(rounds).where(rounds.c.status == "committed").order_by(rounds.c.id.desc())).first()
        n = Counter(r[0] for r in conn.execute(select(rounds.c.status)))
        rotation = _rotation_status(conn)
    return {
        "schema_version": int(version),
        "open": _summary(open_) if open_ else None,
        "last_committed": _summary(last) if last else None,
        "rounds": dict(n),
        "totals": ledger_totals(db),
        **rotation,
    }


def _rotation_status(conn: Connection) -> dict[str, Any]:
    """The pools' modes and passes, the current holds and the empty-unit rent paid for holds.

    ``modes``: pool -> its mode in the latest committed round that had it; ``passed``:
    pool -> units passed in committed rounds; ``holds``: the units held in the latest
    committed round (``unit``, ``pool``, ``rent_kr``, ``weeks`` held so far,
    ``cost_kr`` of those weeks); ``tomgangsleje_kr``: the empty-unit rent of every week
    held in a committed round.
    """
    committed = select(rounds.c.id).where(rounds.c.status == "committed")
    modes = _ledger_modes(conn)
    passed = {
        pool: int(n)
        for pool, n in conn.execute(
            select(passes.c.pool, func.count())
            .where(passes.c.round_id.in_(committed))
            .group_by(passes.c.pool)
            .order_by(passes.c.pool)
        )
    }
    current = [
        {
            "unit": h.unit,
            "pool": h.pool,
            "rent_kr": h.rent_kr,
            "weeks": h.weeks,
            "cost_kr": hold_cost_kr(h.rent_kr, h.weeks),
        }
        for h in _held_rows(conn, _last_committed(conn))
    ]
    weeks_rent = conn.execute(
        select(func.coalesce(func.sum(holds.c.rent_kr), 0)).where(holds.c.round_id.in_(committed))
    ).scalar_one()
    return {
        "modes": dict(sorted(modes.items())),
        "passed": passed,
        "holds": current,
        "tomgangsleje_kr": hold_cost_kr(int(weeks_rent), 1),
    }


# --- the next round: what committed rounds did, and carrying over ----------------------


def housed_before(db: str, inst: Instance, lang: str = "en") -> list[str]:
    """Warnings, one line each, for citizens of ``inst`` housed and units let in committed rounds.

    A week's file that repeats last week's citizens would house them again; the lines
    name the citizen or unit, the unit or citizen of that letting and the round. Citizens
    come first, in the instance's order, then units.

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    inst
        The week's instance, before it is opened.
    lang
        The language of the lines (:mod:`optimizer.lang`); English by default.

    Returns
    -------
    list of str
        The warnings (empty when the ledger is new or nothing repeats).
    """
    with transaction(db) as conn:
        rows = conn.execute(
            select(lettings.c.round_id, lettings.c.citizen, lettings.c.unit, rounds.c.name)
            .join(rounds, rounds.c.id == lettings.c.round_id)
            .where(rounds.c.status == "committed")
            .order_by(lettings.c.round_id, lettings.c.citizen)
        ).all()
    by_citizen = {r.citizen: r for r in rows}  # the latest letting wins
    by_unit = {r.unit: r for r in rows}
    out = [
        L.say("rnd.housed_citizen", lang, citizen=repr(c.id), unit=repr(r.unit), round=r.round_id, name=repr(r.name))
        for c in inst.citizens
        if (r := by_citizen.get(c.id)) is not None
    ]
    out += [
        L.say("rnd.let_unit", lang, unit=repr(u.id), citizen=repr(r.citizen), round=r.round_id, name=repr(r.name))
        for u in inst.units
        if (r := by_unit.get(u.id)) is not None
    ]
    return out


#: Days between rounds when the ledger cannot tell (one committed round): rounds are weekly.
DEFAULT_DAYS = 7


def _state_through(conn: Connection, round_id: int) -> dict[tuple[str, str], tuple[int, int]]:
    """The ledger's totals right after ``round_id``: what committed rounds and period resets added up to it."""
    rows = conn.execute(
        select(effects.c.kind, effects.c.key, func.sum(effects.c.vacancies), func.sum(effects.c.claimed))
        .where(effects.c.round_id <= round_id)
        .group_by(effects.c.kind, effects.c.key)
    )
    return {(k, key): (int(v), int(c)) for k, key, v, c in rows}


def _days_between(earlier: str | None, later: str | None) -> int | None:
    """Whole days (rounded) between two stored UTC ISO times; None when either is missing or unreadable."""
    try:
        a, b = datetime.fromisoformat(earlier or ""), datetime.fromisoformat(later or "")
    except ValueError:
        return None
    return max(0, round((b - a).total_seconds() / 86400))


def carry_round(
    db: str, days: int | None = None, round_id: int | None = None, lang: str = "en"
) -> tuple[Instance, int, list[str]]:
    """Next week's instance from a committed round: who still waits, the held turns, the ledger's counts.

    The instance keeps the round's parameters, regions, municipalities, organisations,
    departments and agreements, with the frames, quotas and mixed-city caps as the planner
    gave them (the round stored them less what the ledger had counted: that is added
    back, so ``round open`` counts it once). Its citizens are those the round did not
    house (declined offers included), each with ``waiting_days`` increased by ``days``;
    its units are the turns the round held, ``offered: true`` (anvis/2); its ledger
    entries are the pools' counts after the round; scores are kept for the pairs that
    remain; it has no overrides. The planner adds the week's new units and citizens to it.

    A rotation pool may have more claims than counted vacancies (an offered turn of an
    instance the ledger did not see is a claim, not a vacancy: FORMAT.md §6 rule 4); a
    ledger entry cannot say so (FORMAT.md §2), and claims play no part in rotation, so
    that pool's entry is left out, with a note: ``round open`` fills it from the ledger.

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    days
        Days until the next round; by default the days between this round's commit and
        the previous committed round's (:data:`DEFAULT_DAYS` when there is none).
    round_id
        A committed round; the latest by default.
    lang
        The language of the notes (:mod:`optimizer.lang`); English by default.

    Returns
    -------
    instance, days, notes
        The next week's validated instance, the days added to each waiting time, and
        one line per ledger entry left out.

    Raises
    ------
    LedgerError
        When there is no committed round (or ``round_id`` is not committed).
    """
    with transaction(db) as conn:
        if round_id is None:
            round_id = _last_committed(conn)
            if round_id is None:
                raise LedgerError("no committed round to carry over")
        row = _round(conn, round_id, states=("committed",))
        before = _state_through(conn, row.id - 1)
        after = _state_through(conn, row.id)
        held = _held_rows(conn, row.id)
        if days is None:
            prev = conn.execute(
                select(rounds.c.committed_at)
                .where(rounds.c.status == "committed", rounds.c.id < row.id)
                .order_by(rounds.c.id.desc())
            ).first()
            days = _days_between(prev.committed_at, row.committed_at) if prev is not None else None
            days = DEFAULT_DAYS if days is None else days
    inst, plan = _stored_instance(row), _stored_plan(row)
    if days < 0:
        raise ValueError(f"days must be at least 0, got {days}")
    doc = inst.to_dict()
    housed = {a.citizen for a in plan.assignments}
    waiting = {c.id: (c.waiting_days or 0) + days for c in inst.citizens}
    doc["citizens"] = [dict(c, waiting_days=waiting[c["id"]]) for c in doc["citizens"] if c["id"] not in housed]
    back = {h.unit for h in held}
    doc["units"] = [dict(u, offered=True) for u in doc["units"] if u["id"] in back]

    def given(kind: str, key: str, value: int | None) -> int | None:
        return None if value is None else value + before.get((kind, key), (0, 0))[1]

    for m in doc["municipalities"]:
        m["subsidy_frame"] = given("municipality", m["id"], m["subsidy_frame"])
    for r in doc["regions"]:
        r["grant_quota"] = given("region", r["id"], r["grant_quota"])
    for d in doc["departments"]:
        d["max_vulnerable"] = given("department", d["id"], d["max_vulnerable"])
    valid = _pool_ids(inst)
    counts = [(key, v, c) for (kind, key), (v, c) in sorted(after.items()) if kind == "pool" and key in valid]
    doc["ledger"] = [{"pool": key, "vacancies_before": v, "claimed_before": c} for key, v, c in counts if c <= v]
    notes = [L.say("rnd.carry_note", lang, pool=repr(key), claims=c, vacancies=v) for key, v, c in counts if c > v]
    doc.pop("overrides", None)
    citizens, units = {c["id"] for c in doc["citizens"]}, {u["id"] for u in doc["units"]}
    doc["scores"] = [s for s in doc["scores"] if s["citizen"] in citizens and s["unit"] in units]
    doc["name"] = f"{inst.name} (carried over from round {row.id})"
    try:
        return models.from_dict(doc, f"round {row.id} carried over"), days, notes
    except models.InstanceError as exc:
        raise LedgerError(f"round {row.id} cannot be carried over: {exc}") from None


# --- declined offers and frame periods ------------------------------------------------


def decline_offers(db: str, citizens: Iterable[str], round_id: int | None = None) -> Plan:
    """Record that citizens declined the units the solved round's plan offered them.

    A declined offer is not a claim: the unit goes back to the housing
    organisation (which lets it itself) and the citizen stays on the urgent
    list. The round's stored plan loses those assignments, so
    :func:`commit_round` then adds exactly the accepted ones to the ledger;
    the declined units still count as vacancies of their pools (they are in
    the instance). The plan stays a valid plan of the round's instance: its
    objective and usage are recounted, the citizens are listed as unassigned
    with code ``declined``, and ``declined`` lists the refused pairs.

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    citizens
        Ids of citizens who declined their offer (each must be assigned in the plan).
    round_id
        The round; the open one by default. It must be solved, not committed.

    Returns
    -------
    Plan
        The updated plan, as stored.

    Raises
    ------
    LedgerError
        When the round is not solved, or a citizen has no offer in its plan.
    """
    ids = list(dict.fromkeys(citizens))
    with transaction(db, write=True) as conn:
        row = _round(conn, round_id, states=("solved",))
        plan = without_offers(_stored_instance(row), _stored_plan(row), ids)
        conn.execute(
            update(rounds)
            .where(rounds.c.id == row.id, rounds.c.status == "solved")
            .values(plan_json=_compact(plan.to_dict()))
        )
    return plan


#: The fields of a declined assignment that the plan's ``declined`` list keeps, in this order.
DECLINED_FIELDS = ("citizen", "unit", "pool", "department", "subsidised")


def without_offers(inst: Instance, plan: Plan, citizens: list[str]) -> Plan:
    """The plan of ``inst`` without the assignments of ``citizens``.

    Objective, usage (pools, mixed-city caps, frames, quotas) and the
    unassigned list are recounted; ``declined`` lists the removed pairs (after
    those of earlier declines). In a plan of ``anvis/2`` a declined unit of a rotation
    pool is ``passed`` (it goes back to the organisation, FORMAT.md §6 rule 4) and
    ``homeless_housed_under_3500_kr`` is recounted.

    Parameters
    ----------
    inst
        The round's filled instance.
    plan
        Its plan.
    citizens
        Ids of assigned citizens whose offers are withdrawn, in the order they are listed.

    Returns
    -------
    Plan
        A new plan; ``plan`` is unchanged (it is immutable).

    Raises
    ------
    LedgerError
        When a citizen is not assigned in the plan.
    """
    if not citizens:
        return plan
    offered = {a.citizen: a for a in plan.assignments}
    missing = [c for c in citizens if c not in offered]
    if missing:
        raise LedgerError(f"no offer to decline in the plan for citizen(s) {', '.join(map(repr, missing[:5]))}")
    gone = set(citizens)
    muni_of = {d.id: d.municipality for d in inst.departments}
    region_of = {m.id: m.region for m in inst.municipalities}
    vulnerable = {c.id for c in inst.citizens if c.vulnerable}
    priority_of = {c.id: c.priority for c in inst.citizens}
    weights = inst.parameters.priority_weights or {}
    obj = plan.objective
    housed = dict(obj.housed_by_priority)
    total, value = obj.total_score, obj.value
    # Per usage section, id -> assignments removed that it counted.
    freed: dict[str, Counter[str | None]] = {
        section: Counter() for section in ("pools", "departments", "frames", "quotas")
    }
    declined = list((plan.model_extra or {}).get("declined") or [])
    unassigned = list(plan.unassigned)
    for cid in citizens:
        a = offered[cid]
        prio = str(a.priority if a.priority is not None else priority_of.get(cid, 1))
        housed[prio] -= 1
        total = float(total - a.score)
        if value is not None:
            value = value - (weights.get(prio, 0) + a.score)
        freed["pools"][a.pool] += 1
        if cid in vulnerable:
            freed["departments"][a.department] += 1
        if a.subsidised:
            muni = muni_of.get(a.department) if a.department is not None else None
            freed["frames"][muni] += 1
            freed["quotas"][region_of.get(muni) if muni is not None else None] += 1
        declined.append({k: getattr(a, k) for k in DECLINED_FIELDS if k in a.model_fields_set})
        unassigned.append(
            Unassigned(
                citizen=cid,
                priority=int(prio),
                code="declined",
                reason=f"declined the offer of unit {a.unit!r}; the unit went back to its housing organisation",
                details={"unit": a.unit},
            )
        )
    # Only fields the plan has are updated: a field set to None would be written as null.
    figures: dict[str, Any] = {"housed_by_priority": housed, "total_score": total}
    if "value" in obj.model_fields_set:
        figures["value"] = value
    update: dict[str, Any] = {
        "objective": obj.model_copy(update=figures),
        "assignments": tuple(a for a in plan.assignments if a.citizen not in gone),
        "unassigned": tuple(unassigned),
        "declined": declined,
    }
    if plan.passed is not None:  # anvis/2: a declined turn goes back to the organisation, so it is passed
        update["passed"] = passed_with(inst, plan.passed, {offered[c].unit for c in citizens})
    if plan.homeless_housed_under_3500_kr is not None:
        homeless = {c.id for c in inst.citizens if c.homeless}
        fewer = sum(1 for c in citizens if c in homeless and offered[c].effective_rent_kr < HOMELESS_RENT_KR)
        update["homeless_housed_under_3500_kr"] = plan.homeless_housed_under_3500_kr - fewer
    if plan.usage is not None:
        usage = plan.usage
        key = {"pools": "id", "departments": "id", "frames": "municipality", "quotas": "region"}
        update["usage"] = usage.model_copy(
            update={
                section: tuple(_less_used(r, freed[section][getattr(r, key[section])]) for r in getattr(usage, section))
                for section in key
                if section in usage.model_fields_set
            }
        )
    return plan.model_copy(update=update)


def passed_with(inst: Instance, passed: Iterable[str], freed: set[str]) -> tuple[str, ...]:
    """The passed units (FORMAT.md §6) once the units ``freed`` are left unassigned too, in the order of ``units``.

    A freed unit is passed when it is a turn or an offered unit of a rotation pool.

    Parameters
    ----------
    inst
        The round's filled instance.
    passed
        The plan's ``passed`` units.
    freed
        Units the plan no longer assigns (declined offers).
    """
    of_units = unit_pools(inst)
    _, may = turns(inst, of_units, models.pools(inst, of_units))
    old = set(passed)
    return tuple(u.id for u, m in zip(inst.units, may.tolist(), strict=True) if u.id in old or (m and u.id in freed))


UsageRecord = TypeVar("UsageRecord", PoolUsage, DepartmentUsage, FrameUsage, QuotaUsage)


def _less_used(record: UsageRecord, n: int) -> UsageRecord:
    """A usage record with ``n`` fewer assignments counted."""
    return record.model_copy(update={"used": record.used - n}) if n else record


def new_period(
    db: str = DEFAULT_DB, kinds: Iterable[str] = ("frame", "quota", "department"), by: str | None = None
) -> dict[str, Any]:
    """Start a new period: zero the counted usage of the chosen caps, or expire choice pools' banked rights.

    The afdelinger's caps on vulnerable placements count "in the current period" (a
    year). Subsidy frames and grant quotas are totals until spent in anvis/2 (issue
    #11): ``anvis round new-period`` zeroes them only when asked, while this function
    keeps its version-1 default of all three (library callers such as the simulation
    choose their kinds).
    ``"choice_rights"`` expires the rights a choice pool has banked: its claims are
    raised to ``floor(share × vacancies)``, so its cap starts again from this round's
    vacancies (a pool that claimed more keeps its claims). The pools' vacancies are never
    reset: they are the pools' positions in their vacancy sequences. The reset is
    recorded in the rounds history (status ``new_period``, name ``new period: <kinds>``,
    who and when), and what it changed is stored as its effects (the claims it added
    or, negative, zeroed), so the ledger stays auditable. Rounds committed before a
    reset can no longer be rolled back (:func:`rollback_round` refuses: it would
    subtract from the new period).

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    kinds
        Any of ``"frame"`` (subsidised assignments per municipality), ``"quota"`` (per
        region), ``"department"`` (vulnerable placements per afdeling) and
        ``"choice_rights"`` (banked rights of choice pools).
    by
        Who starts the period; ``$USER`` by default.

    Returns
    -------
    dict
        The history entry's ``id`` and ``name``, the ``kinds`` and what was changed
        (``reset``: ``{ledger kind: {key: claimed before}}`` for zeroed counts, and
        ``{"choice_rights": {pool: rights expired}}``).

    Raises
    ------
    LedgerError
        When a round is open or solved and not committed.
    ValueError
        For no kinds or an unknown kind.
    """
    kinds = tuple(dict.fromkeys(kinds))
    bad = [k for k in kinds if k not in PERIOD_KINDS and k != CHOICE_RIGHTS]
    if bad or not kinds:
        raise ValueError(f"kinds must be some of {', '.join([*PERIOD_KINDS, CHOICE_RIGHTS])}, got {list(kinds)!r}")
    by = by or _user()
    ledger_kinds = [PERIOD_KINDS[k] for k in kinds if k in PERIOD_KINDS]
    with transaction(db, write=True) as conn:
        _refuse_open_round(conn, "before starting a new period")
        used = conn.execute(
            select(totals.c.kind, totals.c.key, totals.c.claimed)
            .where(totals.c.kind.in_(ledger_kinds), totals.c.claimed != 0)
            .order_by(totals.c.kind, totals.c.key)
        ).all()
        expired = _banked_rights(conn) if CHOICE_RIGHTS in kinds else {}
        now, name = utc_now(), "new period: " + ", ".join(kinds)
        rid = _insert_round(
            conn,
            name=name,
            instance_sha256="",
            instance_json="{}",
            status=PERIOD_STATUS,
            opened_at=now,
            committed_by=by,
            committed_at=now,
        )
        changes = [{"round_id": rid, "kind": k, "key": key, "vacancies": 0, "claimed": -int(c)} for k, key, c in used]
        changes += [
            {"round_id": rid, "kind": "pool", "key": p, "vacancies": 0, "claimed": n} for p, n in expired.items()
        ]
        if changes:
            conn.execute(insert(effects), changes)
        conn.execute(update(totals).where(totals.c.kind.in_(ledger_kinds)).values(claimed=0))
        for p, n in expired.items():
            conn.execute(
                update(totals).where(totals.c.kind == "pool", totals.c.key == p).values(claimed=totals.c.claimed + n)
            )
    reset: dict[str, dict[str, int]] = {k: {} for k in ledger_kinds}
    for k, key, c in used:
        reset[k][key] = int(c)
    if CHOICE_RIGHTS in kinds:
        reset[CHOICE_RIGHTS] = expired
    return {"id": rid, "name": name, "kinds": list(kinds), "reset": reset}


def _banked_rights(conn: Connection) -> dict[str, int]:
    """Per choice pool of the ledger, the rights it has banked: ``floor(share × vacancies) − claimed`` when > 0.

    A pool's mode is its mode in the latest committed round that had it (choice for
    rounds committed before the ledger knew modes: every version-1 pool is a choice
    pool); its share is read from the latest committed round's instance that has the
    pool. Rotation pools bank nothing (FORMAT.md §6 rule 4).
    """
    pools_ = {
        key: (int(v), int(c))
        for key, v, c in conn.execute(
            select(totals.c.key, totals.c.vacancies, totals.c.claimed).where(totals.c.kind == "pool")
        )
    }
    mode = _ledger_modes(conn)
    todo = {p for p in pools_ if mode.get(p, "choice") == "choice"}
    share: dict[str, float] = {}
    for row in conn.execute(select(rounds).where(rounds.c.status == "committed").order_by(rounds.c.id.desc())):
        if not todo:
            break
        inst = _stored_instance(row)
        in_round = set(unit_pools(inst)) | {e.pool for e in inst.ledger}
        agreed = {a.id: a.share for a in inst.agreements}
        for p in sorted(todo & in_round):
            share[p] = agreed.get(p, inst.parameters.default_share)
            todo.discard(p)
    out = {}
    for p, s in sorted(share.items()):
        v, c = pools_[p]
        banked = math.floor(s * v + EPS) - c
        if banked > 0:
            out[p] = banked
    return out


# --- purging personal data --------------------------------------------------------------


def purge_abandoned(db: str = DEFAULT_DB, by: str | None = None) -> dict[str, Any]:
    """Remove the stored instances and plans of abandoned rounds (they hold citizens' data).

    The rounds' rows stay in the history with status ``purged`` (name, sha256 and
    times kept; their overrides, with the planners' notes, and what they cost are
    removed too); the purge itself is a history row of status ``purge`` naming the
    rounds, who purged them and when. Committed and rolled-back rounds keep theirs:
    the ledger's audit trail needs them.

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    by
        Who purges; ``$USER`` by default.

    Returns
    -------
    dict
        ``rounds``: the ids purged (empty when there was nothing to purge; no history
        row is written then); ``id``: the purge's history entry, or None.
    """
    by = by or _user()
    with transaction(db, write=True) as conn:
        if conn.dialect.name == "sqlite":  # overwrite the freed pages, so the data leaves the file
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
        ids = [
            int(r.id)
            for r in conn.execute(select(rounds.c.id).where(rounds.c.status == "abandoned").order_by(rounds.c.id))
        ]
        if not ids:
            return {"id": None, "rounds": []}
        conn.execute(
            update(rounds)
            .where(rounds.c.id.in_(ids), rounds.c.status == "abandoned")
            .values(status=PURGED_STATUS, instance_json="{}", plan_json=None, override_cost_json=None)
        )
        conn.execute(delete(overrides).where(overrides.c.round_id.in_(ids)))  # citizens' ids and planners' notes
        now = utc_now()
        rid = _insert_round(
            conn,
            name="purged abandoned rounds " + ", ".join(map(str, ids)),
            instance_sha256="",
            instance_json="{}",
            status=PURGE_STATUS,
            opened_at=now,
            committed_by=by,
            committed_at=now,
        )
    return {"id": rid, "rounds": ids}
