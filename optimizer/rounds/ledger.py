"""The round ledger's database: tables, schema migrations and opening an engine.

The ledger is persistent state shared by the weekly allocation rounds (see
:mod:`optimizer.rounds.workflow`). It lives in any database SQLAlchemy 2 reaches: an
SQLite file by default (started by ``anvis round open``, never by a command that only reads
or changes a ledger: see :func:`ensure_ledger`), or e.g. PostgreSQL by URL.

The schema is versioned: the ``schema_version`` table records every applied
migration, and :data:`MIGRATIONS` is the ordered list of migration functions.
:func:`open_engine` applies the missing ones, in order, inside one locked
transaction, so two processes opening a fresh file at once migrate it once.

Tables
------
``rounds``
    One row per round: id, name, instance sha256, the filled instance JSON,
    the plan JSON, status (``opened``, ``solved``, ``committed``,
    ``rolled_back``, ``abandoned``), who committed it and when (UTC ISO).
    A period reset (:func:`optimizer.rounds.workflow.new_period`) is a row of status
    ``new_period`` (name ``new period: <kinds>``, empty hash, instance
    ``{}``), so the history keeps rounds and resets in one order.
``totals``
    The cumulative ledger, one row per (kind, key): kind ``pool`` (``vacancies``
    and ``claimed``), ``municipality`` / ``region`` (``claimed`` = subsidised
    assignments) and ``department`` (``claimed`` = vulnerable placements).
``effects``
    Exactly what each committed round added to ``totals``: a rollback
    subtracts exactly that and deletes the round's rows. For a period reset,
    what it zeroed (negative ``claimed``), kept for the audit trail.
``pool_modes``
    Per committed round and pool, the pool's mode in that round (``rotation`` or
    ``choice``, FORMAT.md §6 rule 1): the ledger's mode of a pool is its mode in the
    latest committed round that had it. With the pool's ``vacancies`` in ``totals``
    (its position: the vacancies numbered so far) it is the pool's place in its
    vacancy sequence.
``passes``
    Per committed round, the units it passed (turns and offered units left
    unassigned and not held: they went back to the organisation).
``holds``
    Per round, the offered turns the municipality holds for the next round instead
    of passing them (``--hold``): the unit as stored (so the next round can add it
    back with ``offered: true``), its pool, monthly rent and the weeks held so far
    counting this round. Only rows of committed rounds count.
``subsidies``
    Every subsidised tenancy a committed round started (migration 3, see
    :mod:`optimizer.rounds.subsidies`): round id, citizen id, unit id,
    municipality, start date, the monthly subsidy, the unit's rent, and the first
    tenancy year whose tapered rent is above the tenant's rent limit (or none). The
    rent limit is a citizen's circumstance: it is not stored, only that year, which is
    all the count "tenants whose limit is below their tapered rent" needs; it is never
    printed per citizen.
``overrides``
    The planner's overrides of each round (migration 4): per round numbered ``n`` = 1, 2, …
    in the order they were added (a number is never reused), the kind (``lock``,
    ``forbid``, ``reserve``, ``hold``), unit, citizen, the planner's note, who added it
    and when, and who removed it and when (a removed override stays, for the record).
    The round's stored instance carries exactly the ones not removed, in this order (a
    hold as the reserve it is in the solve). Migration 4 also adds ``opened_by`` and
    ``override_cost_json`` (what the overrides cost: see
    :func:`optimizer.rounds.workflow.override_cost`) to ``rounds``.
``lettings``
    Per committed round, who was housed where (citizen and unit ids of its plan's
    assignments, migration 4, filled from the committed plans on upgrade): ``round open``
    warns about citizens already housed and units already let. Only rows of committed
    rounds count.
``lock``
    One row, locked ``FOR UPDATE`` by every writing transaction on servers
    with row locks (SQLite instead takes its write lock at ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import make_url

DEFAULT_DB = "anvis-ledger.db"

#: Seconds a connection waits for another's write lock before giving up.
BUSY_TIMEOUT_S = 30.0

#: The note of the reserve a hold becomes in a round's instance (see :func:`optimizer.rounds.workflow.as_reserves`).
HOLD_NOTE = "held for the next round (anvis round --hold)"

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", String(40), nullable=False),
)

rounds = Table(
    "rounds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("instance_sha256", String(64), nullable=False, index=True),
    Column("instance_json", Text, nullable=False),
    Column("plan_json", Text, nullable=True),
    Column("status", String(20), nullable=False, index=True),
    Column("opened_at", String(40), nullable=False),
    Column("solved_at", String(40), nullable=True),
    Column("committed_by", String(200), nullable=True),
    Column("committed_at", String(40), nullable=True),
    Column("rolled_back_at", String(40), nullable=True),
    # migration 4: who opened the round, and what its overrides cost (optimizer.rounds.workflow)
    Column("opened_by", String(200), nullable=True),
    Column("override_cost_json", Text, nullable=True),
)

totals = Table(
    "totals",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("key", String(300), primary_key=True),
    Column("vacancies", Integer, nullable=False, default=0),
    Column("claimed", Integer, nullable=False, default=0),
)

effects = Table(
    "effects",
    metadata,
    Column("round_id", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(20), primary_key=True),
    Column("key", String(300), primary_key=True),
    Column("vacancies", Integer, nullable=False),
    Column("claimed", Integer, nullable=False),
)

pool_modes = Table(
    "pool_modes",
    metadata,
    Column("round_id", Integer, primary_key=True, autoincrement=False),
    Column("pool", String(300), primary_key=True),
    Column("mode", String(20), nullable=False),
)

passes = Table(
    "passes",
    metadata,
    Column("round_id", Integer, primary_key=True, autoincrement=False),
    Column("unit", String(300), primary_key=True),
    Column("pool", String(300), nullable=False),
)

holds = Table(
    "holds",
    metadata,
    Column("round_id", Integer, primary_key=True, autoincrement=False),
    Column("unit", String(300), primary_key=True),
    Column("pool", String(300), nullable=False),
    Column("rent_kr", Integer, nullable=False),
    Column("weeks", Integer, nullable=False),
    Column("unit_json", Text, nullable=False),
    Column("department_json", Text, nullable=False),
)

lock = Table(
    "lock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
)


subsidies = Table(
    "subsidies",
    metadata,
    Column("round_id", Integer, primary_key=True, autoincrement=False),
    Column("citizen", String(300), primary_key=True),
    Column("unit", String(300), nullable=False),
    Column("municipality", String(300), nullable=False, index=True),
    Column("start", String(10), nullable=False),  # ISO date, YYYY-MM-DD
    Column("monthly_subsidy_kr", Float, nullable=False),
    Column("rent_kr", Float, nullable=False),
    # the first tenancy year (5-9) whose tapered rent is above the tenant's rent limit, else NULL:
    # all the count needs of the limit, a citizen's circumstance (see optimizer.rounds.subsidies)
    Column("limit_below_from_year", Integer, nullable=True),
)


overrides = Table(
    "overrides",
    metadata,
    Column("round_id", Integer, primary_key=True, autoincrement=False),
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("action", String(10), nullable=False),
    Column("unit", String(300), nullable=False),
    Column("citizen", String(300), nullable=True),
    Column("note", Text, nullable=False),
    Column("added_by", String(200), nullable=True),
    Column("added_at", String(40), nullable=True),
    Column("removed_by", String(200), nullable=True),
    Column("removed_at", String(40), nullable=True),
)


lettings = Table(
    "lettings",
    metadata,
    Column("round_id", Integer, primary_key=True, autoincrement=False),
    Column("citizen", String(300), primary_key=True),
    Column("unit", String(300), nullable=False),
)


def utc_now() -> str:
    """The current time as a UTC ISO 8601 string."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- migrations -------------------------------------------------------------


def _m1_initial(conn: Connection) -> None:
    """Create the rounds, totals, effects and lock tables."""
    for t in (rounds, totals, effects, lock):
        t.create(conn, checkfirst=True)
    conn.execute(insert(lock).values(id=1))


def _m2_rotation(conn: Connection) -> None:
    """anvis/2 rotation (FORMAT.md §6): the pools' modes, the passed units and the held turns."""
    for t in (pool_modes, passes, holds):
        t.create(conn, checkfirst=True)


def _m3_subsidies(conn: Connection) -> None:
    """Create the subsidies table (the subsidised tenancies, for the subsidy's taper)."""
    subsidies.create(conn, checkfirst=True)


#: The columns migration 4 adds to ``rounds`` (a ledger started since has them from migration 1).
_M4_ROUND_COLUMNS = {"opened_by": "VARCHAR(200)", "override_cost_json": "TEXT"}


def _m4_overrides(conn: Connection) -> None:
    """Overrides as ledger rows (numbered, with note, who and when), lettings, who opened a round, override costs.

    The overrides of the rounds already stored (in their instances) become rows added by
    nobody at the round's opening time, so an upgraded ledger lists them too; a reserve
    of a unit the round holds is listed as the hold it is.
    """
    have = {c["name"] for c in inspect(conn).get_columns(rounds.name)}
    for name, sql_type in _M4_ROUND_COLUMNS.items():
        if name not in have:
            conn.exec_driver_sql(f"ALTER TABLE {rounds.name} ADD COLUMN {name} {sql_type}")
    if inspect(conn).has_table(overrides.name):  # migrated already (its version row was lost): nothing to fill
        return
    overrides.create(conn)
    lettings.create(conn, checkfirst=True)
    let = []
    for rid, doc in conn.execute(
        select(rounds.c.id, rounds.c.plan_json).where(rounds.c.status == "committed").order_by(rounds.c.id)
    ):
        try:
            assigned = json.loads(doc).get("assignments") or []
        except (TypeError, ValueError, AttributeError):
            continue
        let += [
            {"round_id": rid, "citizen": str(a["citizen"]), "unit": str(a["unit"])}
            for a in assigned
            if isinstance(a, dict) and "citizen" in a and "unit" in a
        ]
    if let:
        conn.execute(insert(lettings), let)
    held = {(int(r), str(u)) for r, u in conn.execute(select(holds.c.round_id, holds.c.unit))}
    rows = []
    for rid, doc, opened_at in conn.execute(
        select(rounds.c.id, rounds.c.instance_json, rounds.c.opened_at).order_by(rounds.c.id)
    ):
        try:
            stored = json.loads(doc).get("overrides") or []
        except (TypeError, ValueError, AttributeError):  # a damaged row stays as it is: reading it says so
            continue
        for n, o in enumerate(stored, start=1):
            if not isinstance(o, dict):
                continue
            action = str(o.get("action", ""))
            unit = str(o.get("unit", ""))
            note = str(o.get("note") or "")
            if action == "reserve" and (int(rid), unit) in held:
                action = "hold"
                note = "" if note == HOLD_NOTE else note
            citizen = o.get("citizen")
            rows.append(
                {
                    "round_id": rid,
                    "n": n,
                    "action": action,
                    "unit": unit,
                    "citizen": None if citizen is None else str(citizen),
                    "note": note,
                    "added_by": None,
                    "added_at": opened_at,
                }
            )
    if rows:
        conn.execute(insert(overrides), rows)


#: The ordered migrations: version ``i + 1`` is ``MIGRATIONS[i]``. Append only.
MIGRATIONS: list[Callable[[Connection], None]] = [_m1_initial, _m2_rotation, _m3_subsidies, _m4_overrides]


def current_version(conn: Connection) -> int:
    """The highest applied schema version (0 for an empty database)."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    v = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc())).first()
    return 0 if v is None else int(v[0])


def refuse_damaged(conn: Connection, version: int) -> None:
    """Raise :class:`LedgerError` when the schema table says "empty" but the ledger's tables are there.

    Migrating such a database again would start the ledger over beside its rounds.
    """
    if version == 0 and inspect(conn).has_table(rounds.name):
        raise LedgerError(
            "the ledger's schema_version table is empty but its rounds are there: "
            "the ledger is damaged (restore it from a backup)"
        )


def migrate(engine: Engine) -> int:
    """Apply the missing migrations in order, in one locked transaction; return the version.

    Raises
    ------
    LedgerError
        When the database's schema is newer than this program knows, or its
        schema table was emptied while the ledger's tables remain.
    """
    with engine.connect() as conn:  # cheap check first: nothing to do (the usual case)
        v = current_version(conn)
        conn.rollback()
    if v == len(MIGRATIONS):
        return v
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # serialise concurrent first opens
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7264917)")
        schema_version.create(conn, checkfirst=True)
        v = current_version(conn)
        refuse_damaged(conn, v)
        if v > len(MIGRATIONS):
            raise LedgerError(f"ledger schema version {v} is newer than this anvis knows ({len(MIGRATIONS)})")
        for i in range(v, len(MIGRATIONS)):
            MIGRATIONS[i](conn)
            conn.execute(
                insert(schema_version).values(
                    version=i + 1, name=MIGRATIONS[i].__name__.lstrip("_"), applied_at=utc_now()
                )
            )
        return len(MIGRATIONS)


# --- engines ------------------------------------------------------------------


class LedgerError(Exception):
    """A refused ledger operation, with a one-line message for the planner."""


def db_url(db: str | os.PathLike[str]) -> str:
    """A database URL from a URL (``sqlite:///x.db``, ``postgresql://…``) or a file path."""
    db = os.fspath(db)
    if "://" in db:
        return db
    return "sqlite:///" + os.path.abspath(db)


#: Seconds a connection to a database server may take before giving up (PostgreSQL).
CONNECT_TIMEOUT_S = 10

_engines: dict[tuple[int, str], Engine] = {}
_engines_lock = threading.Lock()


def sqlite_path(db: str | os.PathLike[str]) -> str | None:
    """The file of an SQLite ledger (absolute), or None for a server URL or an in-memory database."""
    try:
        u = make_url(db_url(db))
    except Exception:
        return None
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return os.path.abspath(u.database)


def open_engine(db: str | os.PathLike[str] = DEFAULT_DB, create: bool = True) -> Engine:
    """An engine for the ledger at ``db`` (path or URL), migrated to the current schema.

    Engines are cached per process and URL, so migrations are checked once.
    On SQLite every transaction starts with ``BEGIN IMMEDIATE`` (it takes the
    write lock at once, so a check-then-update inside it is race-free) and
    waits up to :data:`BUSY_TIMEOUT_S` for another writer. A server connection
    gives up after :data:`CONNECT_TIMEOUT_S`.

    ``create=False`` refuses (:class:`LedgerError`) a ledger that does not exist
    yet, instead of starting an empty one: see :func:`ensure_ledger`.
    """
    ensure_ledger(db, create=create)
    return _engines[(os.getpid(), db_url(db))]


def ensure_ledger(db: str | os.PathLike[str] = DEFAULT_DB, create: bool = False) -> bool:
    """Check that ``db`` holds an anvis ledger (migrating it), or start one when ``create``.

    Returns
    -------
    bool
        True when this call started a new ledger (an SQLite file that did not exist
        or was empty, or a database without the ledger's tables).

    Raises
    ------
    LedgerError
        When ``create`` is false and there is no ledger at ``db`` (no such file, an
        empty file, a database without the ledger's tables), when the ledger's schema
        table was emptied, or when its schema is newer than this program knows.
    """
    url = db_url(db)
    key = (os.getpid(), url)
    path = sqlite_path(url)
    if path is not None and not create:
        if not os.path.isdir(os.path.dirname(path)):
            raise LedgerError(f"{path}: folder {os.path.dirname(path)} does not exist")
        if not os.path.exists(path):
            raise LedgerError(f"{path}: no such ledger (start one with 'anvis round open INSTANCE --db {db}')")
        if os.path.isfile(path) and os.path.getsize(path) == 0:
            raise LedgerError(f"{path}: empty file, not an anvis ledger")
    with _engines_lock:
        if key in _engines:
            return False
        eng = _new_engine(url)
        try:
            with eng.connect() as conn:
                version = current_version(conn)
                refuse_damaged(conn, version)
                conn.rollback()
            if version == 0 and (not create or (path is not None and _has_tables(eng))):
                # A new ledger goes into a new (or empty) SQLite file, never beside another program's tables.
                raise LedgerError(f"{path or db}: not an anvis ledger (it has no schema_version table)")
            migrate(eng)
        except BaseException:
            eng.dispose()
            raise
        _engines[key] = eng
        return version == 0


def _has_tables(engine: Engine) -> bool:
    """Whether the database holds any table."""
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        conn.rollback()
    return bool(names)


def _new_engine(url: str) -> Engine:
    """An engine for ``url``, not yet migrated."""
    try:
        u = make_url(url)
    except Exception as exc:
        raise LedgerError(f"not a database path or URL: {url!r} ({exc})") from None
    if u.get_backend_name() == "sqlite":
        path = u.database
        if path and path != ":memory:":
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                raise LedgerError(f"{path}: folder {parent} does not exist")
            if os.path.isdir(path):
                raise LedgerError(f"{path}: a folder, not a ledger file")
        eng = create_engine(u, connect_args={"timeout": BUSY_TIMEOUT_S})
        _sqlite_immediate(eng)
        return eng
    connect_args: dict[str, Any] = {}
    if u.get_backend_name() == "postgresql":  # a closed port or a dropped packet fails in seconds, not minutes
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    return create_engine(u, pool_pre_ping=True, connect_args=connect_args)


@contextmanager
def transaction(db: str | os.PathLike[str] = DEFAULT_DB, write: bool = False) -> Iterator[Connection]:
    """One transaction on the ledger at ``db``: committed when the block ends, rolled back on an error.

    A writing transaction (``write=True``) holds the ledger's write lock from its start,
    so a check of the rounds' status and the update it allows cannot interleave with
    another process's: SQLite takes the lock at ``BEGIN IMMEDIATE`` (every transaction
    here), other servers by locking the ``lock`` row ``FOR UPDATE``.
    """
    with open_engine(db).begin() as conn:
        if write and conn.dialect.name != "sqlite":
            conn.execute(select(lock.c.id).where(lock.c.id == 1).with_for_update())
        yield conn


def _sqlite_immediate(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions, and begin them IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: object) -> None:
        dbapi_conn.isolation_level = None  # pysqlite: no implicit BEGIN of its own
        dbapi_conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def dispose_all() -> None:
    """Close every cached engine of this process (tests; before forking)."""
    with _engines_lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
