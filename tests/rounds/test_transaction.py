"""The ledger's one transaction helper (optimizer.rounds.ledger.transaction): atomic, and a
writing transaction holds the write lock from its start, so check-then-update cannot interleave."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert, select

from optimizer.rounds import ledger as L


def keys(db: str) -> list[str]:
    with L.transaction(db) as conn:
        return [r.key for r in conn.execute(select(L.totals.c.key).order_by(L.totals.c.key))]


def test_an_error_rolls_the_whole_transaction_back(db):
    """Nothing of a transaction that raises reaches the ledger."""
    with pytest.raises(RuntimeError), L.transaction(db, write=True) as conn:
        conn.execute(insert(L.totals).values(kind="pool", key="p1", vacancies=1, claimed=0))
        raise RuntimeError("killed mid-commit")
    assert keys(db) == []
    with L.transaction(db, write=True) as conn:
        conn.execute(insert(L.totals).values(kind="pool", key="p1", vacancies=1, claimed=0))
    assert keys(db) == ["p1"]


def test_a_writer_waits_for_the_writer_before_it(db):
    """A second writing transaction starts only after the first has committed, and sees its rows."""
    started, order = threading.Event(), []

    def first() -> None:
        with L.transaction(db, write=True) as conn:
            started.set()
            time.sleep(0.5)
            conn.execute(insert(L.totals).values(kind="pool", key="first", vacancies=1, claimed=0))
            order.append("first committed")

    keys(db)  # migrate before the threads race
    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(10)
    with L.transaction(db, write=True) as conn:
        order.append("second started")
        seen = [r.key for r in conn.execute(select(L.totals.c.key))]
    thread.join()
    assert order == ["first committed", "second started"] and seen == ["first"]
