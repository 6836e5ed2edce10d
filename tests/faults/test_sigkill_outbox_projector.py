"""SIGKILL the outbox relay and the CQRS projector at >= 50 points each, then recover.

Like ``test_sigkill_sagas.py``: a subprocess runs a workload from ``crash_workloads.py`` and is
killed at the N-th executed line of the component under test; only what SQLite committed survives
(the outbox and the business rows, the read model and its checkpoint, the broker file's records and
committed offsets). The same workload then runs again, as a restarted process would.

Outbox relay (``patterns/messaging/outbox.py``): an order service writes 12 orders, each with its
OrderPlaced event in the same transaction, and relays as it goes. After recovery: every committed
order has exactly one outbox row and no event exists without its order (no row lost, no phantom);
every event is on the broker and marked sent; at most one event is published twice (the one whose
mark the kill interrupted: at-least-once, never more); per key, events arrive in commit order;
and an idempotent consumer applies each order exactly once (no duplicate effect).

CQRS projector (``patterns/cqrs/``: projector, projections, stores): a projector reads a 40-event
history (and one event published twice, as a relay does after a crash) in batches of 4 from the
group's committed offset. After recovery: the read model equals a rebuild of the full history into
a fresh store, row for row (no row lost, none counted twice, no stale overwrite), and the
checkpoint is the last event.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from patterns.cqrs import CustomerStats, OrderSummaries, SQLiteReadStore, rebuild
from patterns.messaging import Event, IdempotentConsumer, Outbox
from tests.faults import crash_workloads as w
from tests.faults.sqlite_broker import SqliteBroker

KILL_POINTS = 50


# --- outbox relay -----------------------------------------------------------------------------


def _check_outbox(directory: Path) -> None:
    conn = w.connect(directory / "orders.db")
    orders = dict(conn.execute("SELECT id, qty FROM orders").fetchall())
    assert sorted(orders) == sorted(f"o{i}" for i in range(w.OUTBOX_ORDERS)), "the client's retry placed them all"
    rows = Outbox(conn).rows()
    assert sorted(r.value["data"]["order"] for r in rows) == sorted(orders), "one event per order, no phantom"
    assert all(r.sent_at is not None for r in rows), "every event relayed and marked"

    broker = SqliteBroker(directory / "broker.db")
    published = broker.read("orders")
    ids = [r.headers["event-id"] for r in published]
    assert set(ids) == {r.event_id for r in rows}, "no event lost, none invented"
    assert len(ids) - len(set(ids)) <= 1, f"at most the interrupted event twice, got {sorted(ids)}"
    seq = {r.event_id: r.seq for r in rows}
    for key in {r.key for r in published}:
        firsts = list(dict.fromkeys(i for r, i in zip(published, ids, strict=True) if r.key == key))
        assert firsts == sorted(firsts, key=seq.__getitem__), f"key {key}: out of commit order {firsts}"

    effects = sqlite3.connect(":memory:")
    effects.execute("CREATE TABLE applied (order_id TEXT, qty INTEGER)")  # no UNIQUE: a double shows
    consumer = IdempotentConsumer(effects, name="inventory")
    for record in published:
        data = Event.from_dict(record.value).data
        consumer.handle(record, lambda tx, _r, d=data: tx.execute("INSERT INTO applied VALUES (?, ?)",
                                                                   (d["order"], d["qty"])))
    assert dict(effects.execute("SELECT order_id, qty FROM applied").fetchall()) == orders
    assert effects.execute("SELECT COUNT(*) FROM applied").fetchone()[0] == len(orders)


def test_the_outbox_workload_finishes(tmp_path: Path) -> None:
    w.outbox_relay(str(tmp_path))
    _check_outbox(tmp_path)


def test_sigkill_the_outbox_relay_anywhere_then_relay_again(tmp_path: Path) -> None:
    def recover(directory: Path) -> None:
        w.outbox_relay(str(directory))
        _check_outbox(directory)

    used = w.kill_everywhere(tmp_path, "outbox_relay", watch="patterns/messaging/outbox.py",
                             points=KILL_POINTS, recover_and_check=recover)
    assert len(used) >= KILL_POINTS


# --- CQRS projector ---------------------------------------------------------------------------


def _events_file(tmp_path: Path) -> tuple[Path, list[Event]]:
    """A broker file holding the history on a one-partition topic, with one event published twice."""
    history = w.projector_history()
    template = tmp_path / "template.db"
    broker = SqliteBroker(template)
    broker.create_topic("events", partitions=1)
    for i, event in enumerate(history):
        broker.publish("events", event, headers={"event-id": event.event_id})
        if i == len(history) // 2:  # a relay that crashed after publishing publishes it again
            broker.publish("events", event, headers={"event-id": event.event_id})
    broker.conn.close()
    return template, history


def _check_projector(directory: Path, history: list[Event]) -> Callable[[], None]:
    def check() -> None:
        position = w.projector(str(directory))
        assert position == len(history)
        store = SQLiteReadStore(w.connect(directory / "read.db"))
        fresh = rebuild(history, SQLiteReadStore(), [OrderSummaries(), CustomerStats()])
        for table in fresh.tables:
            assert store.rows(table) == fresh.store.rows(table), f"table {table.name} differs from a rebuild"
        lag = SqliteBroker(directory / "broker.db").lag("events", group="projector")
        assert lag == {0: 0}

    return check


def test_the_projector_workload_finishes(tmp_path: Path) -> None:
    template, history = _events_file(tmp_path)
    (tmp_path / "run").mkdir()
    shutil.copy(template, tmp_path / "run" / "broker.db")
    _check_projector(tmp_path / "run", history)()
    _check_projector(tmp_path / "run", history)()  # a restart after a clean finish changes nothing


def test_sigkill_the_projector_anywhere_then_catch_up(tmp_path: Path) -> None:
    template, history = _events_file(tmp_path)
    (tmp_path / "kills").mkdir()
    used = w.kill_everywhere(
        tmp_path / "kills", "projector", watch="patterns/cqrs/", points=KILL_POINTS,
        prepare=lambda d: shutil.copy(template, d / "broker.db"),
        recover_and_check=lambda d: _check_projector(d, history)(),
    )
    assert len(used) >= KILL_POINTS
