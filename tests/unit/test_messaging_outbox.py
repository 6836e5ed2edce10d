"""Outbox, relay and idempotent consumer: the happy path and the refusals."""

from __future__ import annotations

import random
import sqlite3

import pytest

from patterns import infra
from patterns.clock import ManualClock
from patterns.messaging import Event, IdempotentConsumer, InMemoryBroker, Outbox, OutboxRelay, Record


def orders_db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE orders (id TEXT PRIMARY KEY, total REAL)")
    conn.commit()
    return conn


def place(outbox: Outbox, order_id: str, total: float) -> str:
    with outbox.transaction() as tx:
        tx.execute("INSERT INTO orders VALUES (?, ?)", (order_id, total))
        return outbox.add(tx, "orders", Event("OrderPlaced", key=order_id, data={"total": total}))


def test_business_row_and_event_commit_together_and_the_relay_publishes_in_order() -> None:
    clock = ManualClock()
    conn = orders_db()
    outbox = Outbox(conn, clock=clock, rng=random.Random(1))
    broker = InMemoryBroker(clock=clock)
    broker.create_topic("orders", partitions=2)
    ids = [place(outbox, "o0", 0.0), place(outbox, "o1", 1.0)]
    with outbox.transaction() as tx:
        tx.execute("UPDATE orders SET total = 9 WHERE id = 'o0'")
        ids.append(outbox.add(tx, "orders", Event("OrderAmended", key="o0", data={"total": 9.0})))
    assert [r.event_id for r in outbox.pending()] == ids
    relay = OutboxRelay(outbox, broker)
    assert relay.run_once() == 3 and outbox.pending() == []
    assert all(r.sent_at == clock.now() for r in outbox.rows())
    records = broker.read("orders")
    assert sorted(r.headers["event-id"] for r in records) == sorted(ids)
    o0 = [r.value["type"] for r in records if r.key == "o0"]
    assert o0 == ["OrderPlaced", "OrderAmended"], "per-aggregate order follows commit order"
    assert relay.run_once() == 0


def test_a_failed_business_transaction_leaves_no_event() -> None:
    conn = orders_db()
    outbox = Outbox(conn)
    with pytest.raises(sqlite3.IntegrityError), outbox.transaction() as tx:
        outbox.add(tx, "orders", Event("OrderPlaced", key="o1"))
        tx.execute("INSERT INTO orders VALUES ('o1', 1)")
        tx.execute("INSERT INTO orders VALUES ('o1', 2)")  # duplicate key: the whole thing rolls back
    assert outbox.rows() == []
    assert conn.execute("SELECT COUNT(*) FROM orders").fetchone() == (0,)


def test_seeded_outboxes_get_reproducible_yet_unique_event_ids_and_sqlite_utils_is_accepted() -> None:
    a = Outbox(infra.sqlite_db(), rng=random.Random(7))
    b = Outbox(infra.sqlite_db(), rng=random.Random(7))
    for outbox in (a, b):
        with outbox.transaction() as tx:
            outbox.add(tx, "t", {"plain": 1}, key="k")
    first, second = a.rows()[0].event_id, b.rows()[0].event_id
    assert first != second, "two producers seeded alike must not mint the same event id"
    assert first[:24] == second[:24], "the seeded part (and so the order of ids) is reproducible"


def test_outbox_refuses_misuse() -> None:
    outbox = Outbox(orders_db())
    with pytest.raises(RuntimeError, match="inside"):
        outbox.add(outbox.conn, "orders", {"a": 1})
    with outbox.transaction() as tx:
        with pytest.raises(TypeError, match="JSON-serializable"):
            outbox.add(tx, "orders", {"a": {1, 2}})
        with pytest.raises(ValueError, match="topic must be"):
            outbox.add(tx, "", {"a": 1})
        with pytest.raises(RuntimeError, match="already open"), outbox.transaction():
            pass
    with pytest.raises(TypeError, match="db must be"):
        Outbox("orders.db")
    with pytest.raises(ValueError, match="table must be"):
        Outbox(orders_db(), table="x; DROP TABLE orders")
    with pytest.raises(ValueError, match="batch_size must be"):
        OutboxRelay(outbox, InMemoryBroker(), batch_size=0)


def test_purge_removes_only_old_sent_rows() -> None:
    clock = ManualClock()
    outbox = Outbox(orders_db(), clock=clock)
    broker = InMemoryBroker(clock=clock, auto_create_topics=True)
    place(outbox, "o1", 1.0)
    OutboxRelay(outbox, broker).run_once()
    place(outbox, "o2", 2.0)
    clock.advance(100)
    assert outbox.purge_sent(older_than=50) == 1
    assert [r.key for r in outbox.rows()] == ["o2"]


def record(event_id: str, offset: int = 0) -> Record:
    return Record("orders", 0, offset, "o1", {"event_id": event_id, "type": "OrderPlaced"}, {})


def stock_db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER)")
    conn.execute("INSERT INTO stock VALUES ('A', 10)")
    conn.commit()
    return conn


def decrement(tx: sqlite3.Connection, _: Record) -> None:
    tx.execute("UPDATE stock SET qty = qty - 1 WHERE sku = 'A'")


def test_idempotent_consumer_applies_each_event_once() -> None:
    conn = stock_db()
    idem = IdempotentConsumer(conn, name="inventory")
    assert idem.handle(record("e1"), decrement) is True
    assert idem.handle(record("e1", offset=5), decrement) is False  # redelivered
    assert idem.handle(record("e2"), decrement) is True
    assert conn.execute("SELECT qty FROM stock").fetchone() == (8,)
    assert (idem.applied, idem.duplicates) == (2, 1) and idem.seen("e1") and not idem.seen("e3")
    other = IdempotentConsumer(conn, name="analytics")  # another consumer has its own memory
    assert other.handle(record("e1"), lambda tx, r: None) is True


def test_a_failing_handler_leaves_neither_effect_nor_mark() -> None:
    conn = stock_db()
    idem = IdempotentConsumer(conn, name="inventory")

    def half_done(tx: sqlite3.Connection, r: Record) -> None:
        decrement(tx, r)
        raise RuntimeError("crash mid-handler")

    with pytest.raises(RuntimeError):
        idem.handle(record("e1"), half_done)
    assert conn.execute("SELECT qty FROM stock").fetchone() == (10,) and not idem.seen("e1")
    assert idem.handle(record("e1"), decrement) is True
    assert conn.execute("SELECT qty FROM stock").fetchone() == (9,)


def test_idempotent_consumer_reads_the_header_first_and_refuses_records_without_id() -> None:
    idem = IdempotentConsumer(stock_db(), name="x")
    with_header = Record("t", 0, 0, None, {"event_id": "body"}, {"event-id": "header"})
    assert idem.handle(with_header, lambda tx, r: None) and idem.seen("header")
    with pytest.raises(ValueError, match="no event id"):
        idem.handle(Record("t", 0, 1, None, {"n": 1}, {}), lambda tx, r: None)
    with pytest.raises(ValueError, match="name must be"):
        IdempotentConsumer(stock_db(), name="")
