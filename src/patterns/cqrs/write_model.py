"""The write side: a normalized SQLite model that validates commands and emits events.

Tables (sqlite-utils): ``customers``, ``orders``, ``order_items`` - normalized, so every fact is
stored once and a business rule can be checked against the current truth. Handling a command runs
ONE transaction (``BEGIN IMMEDIATE``) that checks the rules, changes the rows, and appends the
resulting events to the transactional outbox (``patterns.messaging.Outbox``). Either all of that
commits or none of it does: no event for a change that was rolled back, no change without its
event. The ``OutboxRelay`` later publishes the events to the broker for the projectors.

Every event carries ``seq``, a gap-free global sequence number assigned in that transaction, and
``at``, the clock time it was written. ``seq`` is the *position* a client can wait for
(read-your-writes) and the checkpoint a projector stores; ``at`` lets the projector measure lag.
The events are published to a single-partition topic, so ``seq`` order is delivery order.

One command, one instant: the clock is read once per command, and that reading is the event's
``at`` and the row's ``created_at``/``updated_at``, so the read model (built from events) and the
write model's own join agree to the last digit.

Which clock: ``WallClock`` (epoch seconds) by default, because these timestamps are stored in the
database and travel in events to projectors in other processes, which subtract them from their
own clock to measure lag. A per-boot monotonic clock means nothing after a restart or on another
machine. A database that stays locked raises ``patterns.errors.StorageLocked`` naming the file.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from patterns import infra
from patterns._validate import require_instance, require_text
from patterns.clock import Clock, WallClock
from patterns.cqrs.commands import (
    AddItem,
    CancelOrder,
    Command,
    ConfirmOrder,
    CreateOrder,
    DuplicateId,
    InvalidTransition,
    RegisterCustomer,
    RenameCustomer,
    UnknownCustomer,
    UnknownOrder,
)
from patterns.messaging import Broker, Event, Outbox, OutboxRelay, new_event_id
from patterns.storage import connection_of, sqlite_errors

__all__ = ["WriteModel", "CommandResult", "EVENTS_TOPIC", "summary_row"]

Emitted = list[tuple[str, str, dict[str, Any]]]  # (event type, aggregate key, data) per event

EVENTS_TOPIC = "order-events"

_SUMMARY_SQL = """
SELECT o.id, o.customer_id, c.name, o.status,
       COALESCE(SUM(i.quantity), 0), COALESCE(SUM(i.quantity * i.price_cents), 0),
       o.created_at, o.updated_at, o.version
FROM orders o JOIN customers c ON c.id = o.customer_id
LEFT JOIN order_items i ON i.order_id = o.id
"""


def summary_row(values: tuple[Any, ...]) -> dict[str, Any]:
    """The order-summary row shape shared by the write model's join and the read model."""
    keys = ("order_id", "customer_id", "customer_name", "status", "item_count", "total_cents",
            "created_at", "updated_at", "version")
    return dict(zip(keys, values, strict=True))


@dataclass(frozen=True)
class CommandResult:
    """What handling one command produced: its events and the position to wait for."""

    command: Command
    events: tuple[Event, ...]
    position: int  # seq of the last event this command emitted


class WriteModel:
    """Command handler over a normalized SQLite database with a transactional outbox.

    One connection, used from one thread at a time (SQLite's rule for a connection). ``db`` is a
    sqlite-utils ``Database`` (default: in memory); ``clock`` defaults to ``WallClock`` (see above).
    """

    def __init__(
        self,
        db: Any = None,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        topic: str = EVENTS_TOPIC,
    ) -> None:
        self.db = db if db is not None else infra.sqlite_db()
        connection_of(self.db)  # TypeError for anything but a database
        if not callable(getattr(self.db, "table_names", None)):
            raise TypeError(f"db must be a sqlite_utils.Database, got {type(self.db).__name__}")
        self.clock: Clock = (require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
                             if clock is not None else WallClock())
        if rng is not None:
            require_instance(rng, "rng", random.Random, what="a random.Random or None")
        self.rng = rng
        self.topic = require_text(topic, "topic", max_length=200)
        self._create_schema()
        self.outbox = Outbox(self.db, clock=self.clock, rng=rng)
        self.handled = 0
        self.rejected = 0
        self._handlers: dict[type, Callable[[sqlite3.Connection, Any, float], Emitted]] = {
            RegisterCustomer: self._register,
            RenameCustomer: self._rename,
            CreateOrder: self._create,
            AddItem: self._add_item,
            ConfirmOrder: self._confirm,
            CancelOrder: self._cancel,
        }

    def _create_schema(self) -> None:
        with sqlite_errors(connection_of(self.db)):
            self._create_tables()

    def _create_tables(self) -> None:
        db = self.db
        db["customers"].create({"id": str, "name": str}, pk="id", if_not_exists=True)
        db["orders"].create(
            {"id": str, "customer_id": str, "status": str, "created_at": float,
             "updated_at": float, "version": int},
            pk="id", foreign_keys=[("customer_id", "customers", "id")], if_not_exists=True,
        )
        db["order_items"].create(
            {"line": int, "order_id": str, "sku": str, "quantity": int, "price_cents": int},
            pk="line", foreign_keys=[("order_id", "orders", "id")], if_not_exists=True,
        )
        db["order_items"].create_index(["order_id"], if_not_exists=True)
        db["orders"].create_index(["customer_id"], if_not_exists=True)
        db["write_meta"].create({"name": str, "value": int}, pk="name", if_not_exists=True)

    # --- commands ------------------------------------------------------------------------------

    def handle(self, command: Command) -> CommandResult:
        """Validate ``command`` against the current state, apply it and queue its events, atomically.

        Raises a ``DomainError`` (nothing changed, no event) when a business rule refuses it.
        """
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"command must be one of {sorted(t.__name__ for t in self._handlers)}, "
                            f"got {type(command).__name__}")
        try:
            with self.outbox.transaction() as tx:
                now = self.clock.now()  # the one reading of this command: events and rows agree
                emitted = []
                for event_type, key, data in handler(tx, command, now):
                    seq = self._next_seq(tx)
                    event = Event(event_type, key, {**data, "seq": seq, "at": now}, new_event_id(self.rng))
                    self.outbox.add(tx, self.topic, event)
                    emitted.append(event)
        except Exception:
            self.rejected += 1
            raise
        self.handled += 1
        return CommandResult(command, tuple(emitted), int(emitted[-1].data["seq"]))

    @staticmethod
    def _next_seq(tx: sqlite3.Connection) -> int:
        tx.execute("INSERT OR IGNORE INTO write_meta(name, value) VALUES ('last_seq', 0)")
        tx.execute("UPDATE write_meta SET value = value + 1 WHERE name = 'last_seq'")
        return int(tx.execute("SELECT value FROM write_meta WHERE name = 'last_seq'").fetchone()[0])

    def _register(self, tx: sqlite3.Connection, cmd: RegisterCustomer, now: float) -> Emitted:
        if tx.execute("SELECT 1 FROM customers WHERE id = ?", (cmd.customer_id,)).fetchone():
            raise DuplicateId(f"customer {cmd.customer_id!r} is already registered")
        tx.execute("INSERT INTO customers(id, name) VALUES (?, ?)", (cmd.customer_id, cmd.name))
        return [("CustomerRegistered", cmd.customer_id, {"customer_id": cmd.customer_id, "name": cmd.name})]

    def _rename(self, tx: sqlite3.Connection, cmd: RenameCustomer, now: float) -> Emitted:
        if tx.execute("UPDATE customers SET name = ? WHERE id = ?", (cmd.name, cmd.customer_id)).rowcount == 0:
            raise UnknownCustomer(cmd.customer_id)
        return [("CustomerRenamed", cmd.customer_id, {"customer_id": cmd.customer_id, "name": cmd.name})]

    def _create(self, tx: sqlite3.Connection, cmd: CreateOrder, now: float) -> Emitted:
        customer = tx.execute("SELECT name FROM customers WHERE id = ?", (cmd.customer_id,)).fetchone()
        if customer is None:
            raise UnknownCustomer(cmd.customer_id)
        if tx.execute("SELECT 1 FROM orders WHERE id = ?", (cmd.order_id,)).fetchone():
            raise DuplicateId(f"order {cmd.order_id!r} already exists")
        tx.execute(
            "INSERT INTO orders(id, customer_id, status, created_at, updated_at, version)"
            " VALUES (?, ?, 'draft', ?, ?, 1)",
            (cmd.order_id, cmd.customer_id, now, now),
        )
        data = {"order_id": cmd.order_id, "customer_id": cmd.customer_id, "customer_name": customer[0],
                "version": 1}
        return [("OrderCreated", cmd.order_id, data)]

    def _order(self, tx: sqlite3.Connection, order_id: str) -> tuple[str, int, str]:
        """(status, version, customer_id) of an existing order, else ``UnknownOrder``."""
        row = tx.execute("SELECT status, version, customer_id FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            raise UnknownOrder(order_id)
        return row[0], row[1], row[2]

    @staticmethod
    def _bump(tx: sqlite3.Connection, order_id: str, version: int, now: float, status: str | None = None) -> int:
        tx.execute(
            "UPDATE orders SET version = ?, updated_at = ?, status = COALESCE(?, status) WHERE id = ?",
            (version + 1, now, status, order_id),
        )
        return version + 1

    def _totals(self, tx: sqlite3.Connection, order_id: str) -> tuple[int, int]:
        row = tx.execute(
            "SELECT COALESCE(SUM(quantity), 0), COALESCE(SUM(quantity * price_cents), 0)"
            " FROM order_items WHERE order_id = ?", (order_id,),
        ).fetchone()
        return int(row[0]), int(row[1])

    def _add_item(self, tx: sqlite3.Connection, cmd: AddItem, now: float) -> Emitted:
        status, version, customer_id = self._order(tx, cmd.order_id)
        if status != "draft":
            raise InvalidTransition(f"order {cmd.order_id!r} is {status}: items can only be added to a draft")
        tx.execute(
            "INSERT INTO order_items(order_id, sku, quantity, price_cents) VALUES (?, ?, ?, ?)",
            (cmd.order_id, cmd.sku, cmd.quantity, cmd.price_cents),
        )
        version = self._bump(tx, cmd.order_id, version, now)
        data = {"order_id": cmd.order_id, "customer_id": customer_id, "sku": cmd.sku, "quantity": cmd.quantity,
                "price_cents": cmd.price_cents, "version": version}
        return [("ItemAdded", cmd.order_id, data)]

    def _confirm(self, tx: sqlite3.Connection, cmd: ConfirmOrder, now: float) -> Emitted:
        status, version, customer_id = self._order(tx, cmd.order_id)
        if status != "draft":
            raise InvalidTransition(f"order {cmd.order_id!r} is {status}: only a draft can be confirmed")
        item_count, total = self._totals(tx, cmd.order_id)
        if item_count == 0:
            raise InvalidTransition(f"order {cmd.order_id!r} has no items: add one before confirming")
        version = self._bump(tx, cmd.order_id, version, now, "confirmed")
        data = {"order_id": cmd.order_id, "customer_id": customer_id, "item_count": item_count, "total_cents": total, "version": version}
        return [("OrderConfirmed", cmd.order_id, data)]

    def _cancel(self, tx: sqlite3.Connection, cmd: CancelOrder, now: float) -> Emitted:
        status, version, customer_id = self._order(tx, cmd.order_id)
        if status == "cancelled":
            raise InvalidTransition(f"order {cmd.order_id!r} is already cancelled")
        _, total = self._totals(tx, cmd.order_id)
        version = self._bump(tx, cmd.order_id, version, now, "cancelled")
        data = {"order_id": cmd.order_id, "customer_id": customer_id, "reason": cmd.reason, "previous_status": status,
                "total_cents": total, "version": version}
        return [("OrderCancelled", cmd.order_id, data)]

    # --- reads on the write side (the fallback for read-your-writes, and the reference) -------

    @property
    def position(self) -> int:
        """The seq of the last event written (0 before the first)."""
        with sqlite_errors(self.db.conn):
            row = self.db.conn.execute("SELECT value FROM write_meta WHERE name = 'last_seq'").fetchone()
        return int(row[0]) if row else 0

    def order_summary(self, order_id: str) -> dict[str, Any] | None:
        """The order's summary computed by joins on the normalized tables (always current)."""
        with sqlite_errors(self.db.conn):
            row = self.db.conn.execute(_SUMMARY_SQL + " WHERE o.id = ? GROUP BY o.id", (order_id,)).fetchone()
        return summary_row(row) if row else None

    def order_summaries(self) -> dict[str, dict[str, Any]]:
        """Every order's summary, by order id (what a correct read model must hold)."""
        with sqlite_errors(self.db.conn):
            rows = self.db.conn.execute(_SUMMARY_SQL + " GROUP BY o.id ORDER BY o.id").fetchall()
        return {r[0]: summary_row(r) for r in rows}

    def events(self) -> list[Event]:
        """Every event written so far, in seq order, from the outbox (as long as it is not purged)."""
        return [Event.from_dict(row.value) for row in self.outbox.rows() if row.topic == self.topic]

    def relay(self, broker: Broker, *, batch_size: int = 100) -> OutboxRelay:
        """An ``OutboxRelay`` to ``broker``; creates the single-partition events topic (idempotent)."""
        broker.create_topic(self.topic, partitions=1)
        return OutboxRelay(self.outbox, broker, batch_size=batch_size)
