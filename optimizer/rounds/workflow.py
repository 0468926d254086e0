"""Weekly allocation rounds over a persistent ledger that never loses a claim.

A round goes ``opened`` → ``solved`` → ``committed`` (or ``rolled_back``
later, or ``abandoned`` before commit). At most one round is open (opened or
solved) at a time. :func:`open_round` fills the ledger's state into the week's
instance:

* a ``ledger`` entry for every pool the ledger knows (cumulative vacancies and
  claims of committed rounds), so the share caps count vacancies over time;
* the remaining subsidy frame of every municipality (frame − subsidised so
  far, at least 0), the remaining grant quota of every region (likewise;
  unlimited stays unlimited) and the remaining mixed-city cap of every
  department (``max_vulnerable`` − vulnerable placed so far, at least 0).

:func:`commit_round` adds the round's plan to the ledger in one transaction
and records exactly what it added, which :func:`rollback_round` subtracts.
Every writing transaction takes the database's write lock first (``BEGIN
IMMEDIATE`` on SQLite, a row lock elsewhere) and checks the round's status
inside it, so two processes can neither commit one round twice nor count a
claim twice; a process killed mid-commit leaves the ledger as it was.

:func:`decline_offers` records, before the commit, offers the citizens
declined: those assignments leave the stored plan, so the ledger counts
exactly the accepted claims (a declined unit is still a vacancy of its pool).
:func:`new_period` starts a new frame period: it zeroes the counted usage of
subsidy frames, grant quotas and/or mixed-city caps (never the pools), is
recorded in the history, and rounds committed before it can no longer be
rolled back.

``db`` arguments are a file path (SQLite, created on first use by the library; the CLI starts
one only with ``round open``) or a
SQLAlchemy URL (``sqlite:///x.db``, ``postgresql://…``).
"""

from __future__ import annotations

import json
import os
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
from models.pools import pool_mode
from models.schema import LedgerEntry
from optimizer.rounds.ledger import (
    DEFAULT_DB,
    LedgerError,
    effects,
    rounds,
    schema_version,
    totals,
    transaction,
    utc_now,
)

if TYPE_CHECKING:  # the solver is imported when a round is solved, not with the ledger
    from optimizer.engine.solve import Result

__all__ = [
    "DEFAULT_DB",
    "LedgerError",
    "abandon_round",
    "commit_round",
    "decline_offers",
    "history",
    "ledger_totals",
    "new_period",
    "open_round",
    "purge_abandoned",
    "rollback_round",
    "round_plan",
    "solve_round",
    "status",
]

OPEN_STATES = ("opened", "solved")
#: Period kinds of :func:`new_period` and the ledger kind each resets.
PERIOD_KINDS = {"frame": "municipality", "quota": "region", "department": "department"}
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
    ids |= {models.default_pool_id(m.id, o.id) for m in inst.municipalities for o in inst.organisations}
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


def open_round(db: str, inst: Instance) -> tuple[int, Instance]:
    """Open a round for a week's instance and fill the ledger state into it.

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    inst
        The week's validated instance, as the planner wrote it.

    Returns
    -------
    round_id, filled
        The new round's id and the instance the solver will see.

    Raises
    ------
    LedgerError
        When another round is open or solved and not committed, or this
        instance was committed already.
    """
    with transaction(db, write=True) as conn:
        _refuse_open_round(conn, "first")
        _refuse_committed_sha(conn, inst.sha256)
        filled = fill(inst, _totals(conn))
        rid = _insert_round(
            conn,
            name=inst.name,
            instance_sha256=inst.sha256,
            instance_json=_compact(filled.to_dict()),
            status="opened",
            opened_at=utc_now(),
        )
        return rid, filled


def round_instance(db: str, round_id: int | None = None) -> Instance:
    """The filled instance of a round (the open one by default)."""
    with transaction(db) as conn:
        row = _round(conn, round_id, states=("opened", "solved", "committed", "rolled_back", "abandoned"))
    return _stored_instance(row)


def solve_round(
    db: str, round_id: int | None = None, instance: Instance | None = None, **options: Any
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
    result = solve(inst, **options)
    plan = make_plan(result)
    with transaction(db, write=True) as conn:
        _round(conn, row.id)  # still open: nobody committed or abandoned it meanwhile
        conn.execute(
            update(rounds)
            .where(rounds.c.id == row.id)
            .values(
                instance_json=_compact(inst.to_dict()),
                plan_json=_compact(plan.to_dict()),
                status="solved",
                solved_at=utc_now(),
            )
        )
    return plan, result


def _without_overrides(inst: Instance) -> dict[str, Any]:
    doc = inst.to_dict()
    doc.pop("overrides", None)
    return doc


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
        done = conn.execute(
            update(rounds)
            .where(rounds.c.id == row.id, rounds.c.status == "solved")
            .values(status="committed", committed_by=by, committed_at=utc_now())
        )
        if done.rowcount != 1:  # cannot happen under the lock; never count twice if it does
            raise LedgerError(f"round {row.id} changed while committing; nothing committed")
        claims = len(plan.assignments)  # every unit lies in one pool: one claim each
        return {"id": row.id, "name": row.name, "claims": claims, "effects": added}


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
    return {
        "schema_version": int(version),
        "open": _summary(open_) if open_ else None,
        "last_committed": _summary(last) if last else None,
        "rounds": dict(n),
        "totals": ledger_totals(db),
    }


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
    if plan.passed is not None:
        back = {offered[c].unit for c in citizens if pool_mode(inst, offered[c].pool or "") == "rotation"}
        passed = set(plan.passed) | back
        update["passed"] = tuple(u.id for u in inst.units if u.id in passed)
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


UsageRecord = TypeVar("UsageRecord", PoolUsage, DepartmentUsage, FrameUsage, QuotaUsage)


def _less_used(record: UsageRecord, n: int) -> UsageRecord:
    """A usage record with ``n`` fewer assignments counted."""
    return record.model_copy(update={"used": record.used - n}) if n else record


def new_period(
    db: str = DEFAULT_DB, kinds: Iterable[str] = ("frame", "quota", "department"), by: str | None = None
) -> dict[str, Any]:
    """Start a new period: zero the counted usage of subsidy frames, grant quotas and/or mixed-city caps.

    Frames, quotas and the afdelinger's caps on vulnerable placements count
    "in the current period" (a year). The pools' vacancies and claims are not
    reset: the share counts over time. The reset is recorded in the rounds
    history (status ``new_period``, name ``new period: <kinds>``, who and
    when), and what it zeroed is stored as its effects (negative claims), so
    the ledger stays auditable. Rounds committed before a reset can no longer
    be rolled back (:func:`rollback_round` refuses: it would subtract from the
    new period).

    Parameters
    ----------
    db
        Ledger database: a path or a SQLAlchemy URL.
    kinds
        Any of ``"frame"`` (subsidised assignments per municipality),
        ``"quota"`` (per region) and ``"department"`` (vulnerable placements
        per afdeling).
    by
        Who starts the period; ``$USER`` by default.

    Returns
    -------
    dict
        The history entry's ``id`` and ``name``, the ``kinds`` and what was
        zeroed (``reset``: ``{ledger kind: {key: claimed before}}``).

    Raises
    ------
    LedgerError
        When a round is open or solved and not committed.
    ValueError
        For no kinds or an unknown kind.
    """
    kinds = tuple(dict.fromkeys(kinds))
    bad = [k for k in kinds if k not in PERIOD_KINDS]
    if bad or not kinds:
        raise ValueError(f"kinds must be some of {', '.join(PERIOD_KINDS)}, got {list(kinds)!r}")
    by = by or _user()
    ledger_kinds = [PERIOD_KINDS[k] for k in kinds]
    with transaction(db, write=True) as conn:
        _refuse_open_round(conn, "before starting a new period")
        used = conn.execute(
            select(totals.c.kind, totals.c.key, totals.c.claimed)
            .where(totals.c.kind.in_(ledger_kinds), totals.c.claimed != 0)
            .order_by(totals.c.kind, totals.c.key)
        ).all()
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
        if used:
            conn.execute(
                insert(effects),
                [{"round_id": rid, "kind": k, "key": key, "vacancies": 0, "claimed": -int(c)} for k, key, c in used],
            )
        conn.execute(update(totals).where(totals.c.kind.in_(ledger_kinds)).values(claimed=0))
    reset: dict[str, dict[str, int]] = {k: {} for k in ledger_kinds}
    for k, key, c in used:
        reset[k][key] = int(c)
    return {"id": rid, "name": name, "kinds": list(kinds), "reset": reset}


# --- purging personal data --------------------------------------------------------------


def purge_abandoned(db: str = DEFAULT_DB, by: str | None = None) -> dict[str, Any]:
    """Remove the stored instances and plans of abandoned rounds (they hold citizens' data).

    The rounds' rows stay in the history with status ``purged`` (name, sha256 and
    times kept); the purge itself is a history row of status ``purge`` naming the
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
            .values(status=PURGED_STATUS, instance_json="{}", plan_json=None)
        )
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
