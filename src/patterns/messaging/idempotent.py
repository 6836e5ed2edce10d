"""The idempotent consumer: at-least-once delivery with an exactly-once effect.

Brokers redeliver: after a crash before commit, after a rebalance, after an outbox relay re-sends.
A handler that charges a card or decrements stock must not do it twice. The fix is to remember
which event ids were processed, in the SAME transaction as the handler's own writes: either the
effect and the "processed" mark both commit, or neither does. A redelivered event then finds its
id and is skipped.

Guarantee: for events handled through one ``IdempotentConsumer`` (one ``name``), each event id's
effect on this database is applied at most once, and (if the handler eventually succeeds on a
redelivery) exactly once. Not covered: side effects outside the database (an email sent from the
handler can still go twice; make that call idempotent too, e.g. with an idempotency key).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from patterns._validate import require_callable, require_instance, require_text
from patterns.messaging.outbox import EVENT_ID_HEADER
from patterns.messaging.protocol import Record
from patterns.storage import connection_of, require_sql_name, transaction

__all__ = ["IdempotentConsumer", "event_id_of"]


def event_id_of(record: Record) -> str:
    """The event id: the ``event-id`` header (set by the outbox relay), else ``value['event_id']``."""
    if EVENT_ID_HEADER in record.headers:
        return record.headers[EVENT_ID_HEADER]
    value = record.value
    if isinstance(value, dict):
        event_id = value.get("event_id")
        if isinstance(event_id, str):
            return event_id
    raise ValueError(
        f"record {record.topic}/{record.partition}@{record.offset} has no event id: expected an "
        f"'{EVENT_ID_HEADER}' header or value['event_id']; pass id_of=... to IdempotentConsumer"
    )


class IdempotentConsumer:
    """Runs a handler at most once per event id, inside the consumer database's transaction."""

    def __init__(
        self,
        db: Any,
        *,
        name: str,
        id_of: Callable[[Record], str] = event_id_of,
        table: str = "processed_events",
    ) -> None:
        self.conn = connection_of(db)
        self.name = require_text(name, "name", max_length=200)
        self.id_of = require_callable(id_of, "id_of")
        self.table = require_sql_name(table, "table")
        self.applied = 0
        self.duplicates = 0
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " consumer TEXT NOT NULL, event_id TEXT NOT NULL, topic TEXT, partition INTEGER, offset INTEGER,"
            " PRIMARY KEY (consumer, event_id))"
        )
        if self.conn.in_transaction:
            self.conn.commit()

    def handle(self, record: Record, handler: Callable[[sqlite3.Connection, Record], object]) -> bool:
        """Apply ``handler(tx, record)`` unless this event id was applied before.

        Returns True if applied now, False for a duplicate. If the handler raises, nothing of it
        (and no "processed" mark) is kept, and the error propagates: the record is redelivered.
        """
        require_instance(record, "record", Record)
        require_callable(handler, "handler")
        event_id = require_text(self.id_of(record), "event id", max_length=200)
        with transaction(self.conn) as tx:
            cur = tx.execute(
                f"INSERT OR IGNORE INTO {self.table}(consumer, event_id, topic, partition, offset) VALUES (?, ?, ?, ?, ?)",
                (self.name, event_id, record.topic, record.partition, record.offset),
            )
            if cur.rowcount == 0:
                self.duplicates += 1
                return False
            handler(tx, record)
        self.applied += 1
        return True

    def seen(self, event_id: str) -> bool:
        """True if ``event_id`` was applied by this consumer."""
        require_text(event_id, "event_id", max_length=200)
        row = self.conn.execute(
            f"SELECT 1 FROM {self.table} WHERE consumer = ? AND event_id = ?", (self.name, event_id)
        ).fetchone()
        return row is not None
