"""A ``Broker`` whose logs and committed offsets live in one SQLite file, for SIGKILL tests.

The in-process ``InMemoryBroker`` dies with the process that a crash test kills, so a test that
kills a choreographed service, an outbox relay or a projector with SIGKILL needs a broker that
outlives it. A real Kafka-protocol broker does (and is used where the test can afford its group
joins); this one does too, costs nothing to start, and keeps exactly what Kafka keeps across a
client's death: the records (a publish is durable once it returns, like ``acks=all``) and each
group's committed offsets. Positions that were polled but not committed are lost with the process,
so the next member of the group reads those records again (at-least-once), as on Kafka.

Deliberately small: one process uses the file at a time (the killed one, then the one that
recovers), and one member per group owns every partition (no rebalancing protocol). It keeps the
``patterns.messaging.Broker`` contract otherwise: key -> partition with Kafka's murmur2, offsets
per partition, ``seek``, ``commit``, ``close`` without commit. ``synchronous=OFF``: a killed
process leaves committed writes in the operating system's page cache, where they survive; only a
power cut would need the fsync this skips.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from patterns.messaging import PublishResult, Record
from patterns.messaging.serde import JsonSerde, partition_for
from patterns.storage import transaction

__all__ = ["SqliteBroker", "SqliteConsumer"]


class SqliteBroker:
    """Topics of partitioned logs and group offsets in the SQLite file ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        self.conn.execute("PRAGMA synchronous=OFF")  # survives SIGKILL (page cache), not power loss
        self.serde = JsonSerde()
        self.conn.execute("CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL)")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS records (topic TEXT, partition INTEGER, offset INTEGER, key TEXT,"
            " value TEXT NOT NULL, headers TEXT NOT NULL, PRIMARY KEY (topic, partition, offset))"
        )
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS commits (grp TEXT, topic TEXT, partition INTEGER, offset INTEGER,"
            " PRIMARY KEY (grp, topic, partition))"
        )
        self._round_robin = itertools.count()
        self._members: dict[str, SqliteConsumer] = {}

    @property
    def in_process(self) -> bool:
        """False: like a real broker, its topics outlive the process (the messaging branch's capability)."""
        return False

    @property
    def max_message_bytes(self) -> int:
        return 1_048_576  # Kafka's default message.max.bytes, near enough

    # --- topics and publishing ---------------------------------------------------------------

    def add_partitions(self, topic: str, total: int) -> None:
        with transaction(self.conn) as tx:
            tx.execute("UPDATE topics SET partitions = MAX(partitions, ?) WHERE name = ?", (total, topic))

    def create_topic(self, name: str, partitions: int = 1) -> None:
        with transaction(self.conn) as tx:
            tx.execute("INSERT OR IGNORE INTO topics VALUES (?, ?)", (name, partitions))

    def topics(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT name, partitions FROM topics").fetchall())

    def publish(
        self, topic: str, value: Any, *, key: str | None = None, headers: Mapping[str, str] | None = None
    ) -> PublishResult:
        if key is None and hasattr(value, "key"):
            key = value.key
        data = self.serde.dumps(value).decode("utf-8")
        with transaction(self.conn) as tx:
            partitions = self._partitions(topic)
            partition = next(self._round_robin) % partitions if key is None else partition_for(key, partitions)
            (offset,) = tx.execute(
                "SELECT COALESCE(MAX(offset) + 1, 0) FROM records WHERE topic = ? AND partition = ?",
                (topic, partition),
            ).fetchone()
            tx.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
                (topic, partition, offset, key, data, json.dumps(dict(headers or {}))),
            )
        return PublishResult(topic, partition, offset)

    def publish_many(self, topic: str, items: Sequence[tuple[str | None, Any]]) -> list[PublishResult]:
        return [self.publish(topic, value, key=key) for key, value in items]

    # --- reading ---------------------------------------------------------------------------

    def read(self, topic: str) -> list[Record]:
        self._partitions(topic)
        rows = self.conn.execute(
            "SELECT * FROM records WHERE topic = ? ORDER BY partition, offset", (topic,)
        ).fetchall()
        return [self._record(row) for row in rows]

    def end_offsets(self, topic: str) -> dict[int, int]:
        out = dict.fromkeys(range(self._partitions(topic)), 0)
        for partition, end in self.conn.execute(
            "SELECT partition, MAX(offset) + 1 FROM records WHERE topic = ? GROUP BY partition", (topic,)
        ):
            out[partition] = end
        return out

    def committed(self, topic: str, *, group: str) -> dict[int, int]:
        out = dict.fromkeys(range(self._partitions(topic)), 0)
        for partition, offset in self.conn.execute(
            "SELECT partition, offset FROM commits WHERE grp = ? AND topic = ?", (group, topic)
        ):
            out[partition] = offset
        return out

    def lag(self, topic: str, *, group: str) -> dict[int, int]:
        ends, done = self.end_offsets(topic), self.committed(topic, group=group)
        return {p: ends[p] - done[p] for p in ends}

    def subscribe(
        self, topics: str | Sequence[str], *, group: str, member: str | None = None, start: str = "earliest"
    ) -> SqliteConsumer:
        names = (topics,) if isinstance(topics, str) else tuple(topics)
        previous = self._members.get(group)
        if previous is not None:  # one member per group: the newcomer takes over
            previous.close()
        consumer = SqliteConsumer(self, group, member or f"{group}-1", names, start)
        self._members[group] = consumer
        return consumer

    def close(self) -> None:
        for consumer in list(self._members.values()):
            consumer.close()

    # --- internals -------------------------------------------------------------------------

    def _partitions(self, topic: str) -> int:
        row = self.conn.execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
        if row is None:
            raise LookupError(f"unknown topic {topic!r}")
        return int(row[0])

    def _record(self, row: tuple[Any, ...]) -> Record:
        topic, partition, offset, key, value, headers = row
        return Record(topic, partition, offset, key, json.loads(value), json.loads(headers))


class SqliteConsumer:
    """The one member of ``group``: positions in memory, committed offsets in the broker's file."""

    def __init__(self, broker: SqliteBroker, group: str, member: str, topics: tuple[str, ...], start: str) -> None:
        self.broker, self.group, self.member, self.topics = broker, group, member, topics
        self.closed = False
        self._positions: dict[tuple[str, int], int] = {}
        for topic in topics:
            committed = broker.committed(topic, group=group)
            ends = broker.end_offsets(topic)
            known = {p for (p,) in broker.conn.execute(
                "SELECT partition FROM commits WHERE grp = ? AND topic = ?", (group, topic))}
            for partition in committed:
                fresh = ends[partition] if start == "latest" else 0
                self._positions[(topic, partition)] = committed[partition] if partition in known else fresh

    def poll(self, max_records: int = 100, timeout: float | None = None) -> list[Record]:
        self._check_open()
        out: list[Record] = []
        for (topic, partition), position in sorted(self._positions.items()):
            rows = self.broker.conn.execute(
                "SELECT * FROM records WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (topic, partition, position, max_records - len(out)),
            ).fetchall()
            out.extend(self.broker._record(row) for row in rows)
            if rows:
                self._positions[(topic, partition)] = rows[-1][2] + 1
            if len(out) >= max_records:
                break
        return out

    def commit(self) -> None:
        self._check_open()
        with transaction(self.broker.conn) as tx:
            for (topic, partition), offset in self._positions.items():
                tx.execute("INSERT OR REPLACE INTO commits VALUES (?, ?, ?, ?)", (self.group, topic, partition, offset))

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._check_open()
        if (topic, partition) not in self._positions:
            raise ValueError(f"partition {topic}/{partition} is not assigned to {self.member}")
        self._positions[(topic, partition)] = offset

    def seek_to_beginning(self) -> None:
        self._check_open()
        for tp in self._positions:
            self._positions[tp] = 0

    def assignment(self) -> set[tuple[str, int]]:
        return set() if self.closed else set(self._positions)

    def position(self, topic: str, partition: int) -> int:
        return self._positions[(topic, partition)]

    def close(self) -> None:
        self.closed = True
        if self.broker._members.get(self.group) is self:
            del self.broker._members[self.group]

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError(f"consumer {self.member} of group {self.group!r} is closed")
