"""The transactional outbox: the fix for the dual-write problem.

A service that updates its database and then publishes an event does two writes to two systems;
a crash between them leaves either a change nobody hears about or an event about a change that
never happened. The outbox makes it one write: the business row and an outbox row go into the
SAME SQLite transaction, so both exist or neither does. A relay then reads unsent outbox rows in
order, publishes each, and only afterwards marks it sent.

Guarantees: every committed event is published at least once, in commit order per aggregate (the
aggregate id is the message key, so one partition); no event for a rolled-back change. Not
guaranteed: exactly once. A crash after publishing and before marking publishes that row again on
the next run; consumers deduplicate on the ``event-id`` header (``IdempotentConsumer``).
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from patterns._validate import (
    MAX_SECONDS,
    require_instance,
    require_int,
    require_seconds,
    require_text,
)
from patterns.clock import Clock, SystemClock
from patterns.messaging.protocol import Broker, Event, new_event_id
from patterns.messaging.validation import require_key, require_topic
from patterns.storage import connection_of, require_sql_name, transaction

__all__ = ["Outbox", "OutboxRelay", "OutboxRow", "EVENT_ID_HEADER"]

EVENT_ID_HEADER = "event-id"
#: Table names refused because hand-written SQL would need them quoted.


@dataclass(frozen=True)
class OutboxRow:
    """One event waiting in (or already relayed from) the outbox."""

    seq: int
    event_id: str
    topic: str
    key: str | None
    value: Any
    created_at: float
    sent_at: float | None


class Outbox:
    """An ``outbox`` table next to the business tables in the same SQLite database."""

    def __init__(
        self, db: Any, *, table: str = "outbox", clock: Clock | None = None, rng: random.Random | None = None
    ) -> None:
        self.conn = connection_of(db)
        self.table = require_sql_name(table, "table")
        self.clock: Clock = require_instance(clock, "clock", Clock) if clock is not None else SystemClock()
        self.rng = require_instance(rng, "rng", random.Random) if rng is not None else None
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " event_id TEXT NOT NULL UNIQUE,"
            " topic TEXT NOT NULL,"
            " key TEXT,"
            " value TEXT NOT NULL,"
            " created_at REAL NOT NULL,"
            " sent_at REAL)"
        )
        self.conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_unsent ON {table}(seq) WHERE sent_at IS NULL")
        if self.conn.in_transaction:
            self.conn.commit()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction for the business rows and the outbox rows (use ``add`` inside it)."""
        with transaction(self.conn) as tx:
            yield tx

    def add(
        self,
        tx: sqlite3.Connection,
        topic: str,
        value: Any,
        *,
        key: str | None = None,
        event_id: str | None = None,
    ) -> str:
        """Queue ``value`` for ``topic`` inside the open transaction ``tx``; returns the event id.

        An ``Event`` brings its own key (the aggregate id) and id. Other values must be JSON.
        """
        if tx is not self.conn or not tx.in_transaction:
            raise RuntimeError("add() must be called inside `with outbox.transaction() as tx:` with that tx")
        require_topic(topic)
        if isinstance(value, Event):
            key = value.key if key is None else key
            event_id = value.event_id if event_id is None else event_id
            value = value.to_dict()
        require_key(key)
        event_id = event_id if event_id is not None else new_event_id(self.rng)
        require_text(event_id, "event_id", max_length=200)
        try:
            payload = json.dumps(value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"value must be JSON-serializable or an Event, got {type(value).__name__}"
            ) from exc
        tx.execute(
            f"INSERT INTO {self.table}(event_id, topic, key, value, created_at) VALUES (?, ?, ?, ?, ?)",
            (event_id, topic, key, payload, self.clock.now()),
        )
        return event_id

    def pending(self, limit: int | None = None) -> list[OutboxRow]:
        """Unsent rows, oldest first (commit order)."""
        if limit is not None:
            require_int(limit, "limit", minimum=1)
        sql = f"SELECT * FROM {self.table} WHERE sent_at IS NULL ORDER BY seq"
        rows = self.conn.execute(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ()).fetchall()
        return [self._row(r) for r in rows]

    def rows(self) -> list[OutboxRow]:
        """Every row, sent or not, oldest first."""
        return [self._row(r) for r in self.conn.execute(f"SELECT * FROM {self.table} ORDER BY seq")]

    def mark_sent(self, seq: int) -> None:
        require_int(seq, "seq", minimum=1)
        with transaction(self.conn) as tx:
            tx.execute(f"UPDATE {self.table} SET sent_at = ? WHERE seq = ?", (self.clock.now(), seq))

    def purge_sent(self, older_than: float) -> int:
        """Delete rows sent more than ``older_than`` seconds ago (the outbox is not an archive)."""
        require_seconds(older_than, "older_than", positive=False, maximum=MAX_SECONDS)
        with transaction(self.conn) as tx:
            cur = tx.execute(
                f"DELETE FROM {self.table} WHERE sent_at IS NOT NULL AND sent_at < ?",
                (self.clock.now() - older_than,),
            )
            return cur.rowcount

    @staticmethod
    def _row(r: tuple[Any, ...]) -> OutboxRow:
        seq, event_id, topic, key, value, created_at, sent_at = r
        return OutboxRow(seq, event_id, topic, key, json.loads(value), created_at, sent_at)


class OutboxRelay:
    """Moves outbox rows to the broker: publish first, then mark sent, one row at a time.

    The order matters. Marking first and crashing before the publish would lose the event for
    good; publishing first and crashing before the mark only publishes it again (a duplicate that
    the event id lets consumers drop). If a publish fails, the run stops there, so later events of
    the same aggregate never overtake an earlier one.
    """

    def __init__(self, outbox: Outbox, broker: Broker, *, batch_size: int = 100) -> None:
        self.outbox = require_instance(outbox, "outbox", Outbox)
        self.broker = require_instance(broker, "broker", Broker, what="a Broker (InMemoryBroker, KafkaBroker)")
        self.batch_size = require_int(batch_size, "batch_size", minimum=1, maximum=100_000)
        self.published = 0

    def run_once(self) -> int:
        """Relay up to ``batch_size`` pending rows; returns how many were published and marked."""
        done = 0
        for row in self.outbox.pending(self.batch_size):
            self.broker.publish(row.topic, row.value, key=row.key, headers={EVENT_ID_HEADER: row.event_id})
            self.outbox.mark_sent(row.seq)
            done += 1
        self.published += done
        return done

    def run_until_empty(self, max_rounds: int = 1000) -> int:
        """Call ``run_once`` until nothing is pending; returns the total relayed."""
        require_int(max_rounds, "max_rounds", minimum=1)
        total = 0
        for _ in range(max_rounds):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total
