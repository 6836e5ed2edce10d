"""An in-process broker with Kafka's model: partitioned logs, consumer groups, committed offsets.

Small enough to read in one sitting, deterministic under a ``ManualClock``, and thread-safe (one
lock guards all state, so consumers may run in threads). What it models:

* a topic is N partitions; a record's key picks its partition with Kafka's murmur2 hash, records
  without a key go round-robin; each partition is an append-only log numbered by offset;
* a consumer group splits the partitions of its topics among its live members (round-robin over
  members sorted by name), and re-splits whenever one joins or leaves (a *rebalance*); a member
  keeps its position in partitions it still owns, and starts a newly gained partition at the
  group's committed offset;
* ``commit`` stores the group's position; ``close`` without ``commit`` is a crash, so the next
  owner reads those records again (at-least-once);
* ``retention`` (seconds on the clock) drops old records from the head of each log; a group whose
  position fell behind the log start resumes at the start (those records are gone for it);
* ``max_deliveries``: a record handed to one group that many times without being committed
  (consumers keep crashing on it) is copied to ``<topic>.DLT`` and skipped by that group;
* ``max_message_bytes`` (default 1 MiB, Kafka's client default): a larger record is refused with
  ``MessageTooLarge``, as ``KafkaBroker`` refuses it;
* ``start="latest"`` starts a member at the end each partition had when it subscribed.

Where threads cannot run (the browser), ``poll`` never waits: no other thread could publish meanwhile.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from patterns import compat
from patterns._validate import require_instance, require_int, require_optional_seconds, require_seconds
from patterns.clock import Clock, SystemClock
from patterns.messaging.protocol import (
    DEFAULT_MAX_MESSAGE_BYTES,
    PublishResult,
    Record,
    Start,
    UnknownTopicError,
)
from patterns.messaging.serde import JsonSerde, Serde, partition_for
from patterns.messaging.validation import (
    prepare_record,
    require_group,
    require_growth,
    require_max_message_bytes,
    require_max_records,
    require_new_member,
    require_offset,
    require_partition,
    require_partitions,
    require_poll_timeout,
    require_subscription,
    require_topic,
)

__all__ = ["InMemoryBroker", "MemoryConsumer"]

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class _Stored:
    offset: int
    key: str | None
    data: bytes
    headers: Mapping[str, str]
    timestamp: float


@dataclass
class _Log:
    records: list[_Stored] = field(default_factory=list)
    start: int = 0  # offset of records[0]; grows when retention deletes the head

    @property
    def end(self) -> int:
        return self.start + len(self.records)


@dataclass
class _Group:
    members: dict[str, MemoryConsumer] = field(default_factory=dict)
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    deliveries: dict[TopicPartition, dict[int, int]] = field(default_factory=dict)
    dead: set[tuple[str, int, int]] = field(default_factory=set)
    generation: int = 0


class InMemoryBroker:
    """Kafka-like broker in one process (see the module docstring for what it models)."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        serde: Serde | None = None,
        auto_create_topics: bool = False,
        default_partitions: int = 1,
        retention: float | None = None,
        max_deliveries: int | None = None,
        poll_timeout: float = 0.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.clock: Clock = require_instance(clock, "clock", Clock) if clock is not None else SystemClock()
        self.serde: Serde = require_instance(serde, "serde", Serde) if serde is not None else JsonSerde()
        self.auto_create_topics = require_instance(auto_create_topics, "auto_create_topics", bool)
        self.default_partitions = require_partitions(default_partitions, "default_partitions")
        self.retention = require_optional_seconds(retention, "retention")
        if max_deliveries is not None:
            require_int(max_deliveries, "max_deliveries", minimum=1, maximum=1_000)
        self.max_deliveries = max_deliveries
        self.poll_timeout = require_seconds(poll_timeout, "poll_timeout", positive=False)
        self._max_message_bytes = require_max_message_bytes(max_message_bytes)
        self._logs: dict[str, list[_Log]] = {}
        self._groups: dict[str, _Group] = {}
        self._round_robin: dict[str, itertools.count[int]] = {}
        self._member_ids = itertools.count(1)
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)

    @property
    def in_process(self) -> bool:
        """Always True: see ``Broker.in_process``."""
        return True

    @property
    def max_message_bytes(self) -> int:
        return self._max_message_bytes

    # --- topics and publishing ---------------------------------------------------------------

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create ``name`` with ``partitions`` partitions; a no-op if it already exists."""
        require_topic(name)
        require_partitions(partitions)
        with self._lock:
            if name not in self._logs:
                self._logs[name] = [_Log() for _ in range(partitions)]
                self._round_robin[name] = itertools.count()
                self._rebalance_all()

    def add_partitions(self, topic: str, total: int) -> None:
        """Grow ``topic`` to ``total`` partitions; every group rebalances at once.

        Existing records stay where they are; new records of a key go to ``partition_for(key,
        total)``, which for most keys is a different partition than before: per-key order then
        holds only among records published after the change.
        """
        require_partitions(total, "total")
        with self._lock:
            logs = self._topic(topic)
            require_growth(total, len(logs))
            logs.extend(_Log() for _ in range(total - len(logs)))
            self._rebalance_all()

    def topics(self) -> dict[str, int]:
        with self._lock:
            return {name: len(logs) for name, logs in self._logs.items()}

    def publish(
        self, topic: str, value: Any, *, key: str | None = None, headers: Mapping[str, str] | None = None
    ) -> PublishResult:
        """Append ``value`` to the partition ``key`` maps to (an ``Event``'s key by default)."""
        record = prepare_record(self.serde, topic, value, key, headers, self._max_message_bytes)
        with self._lock:
            return self._append(topic, *record)

    def publish_many(self, topic: str, items: Sequence[tuple[str | None, Any]]) -> list[PublishResult]:
        """Publish ``(key, value)`` pairs in order; if any item is refused, none is written."""
        records = [
            prepare_record(self.serde, topic, value, key, None, self._max_message_bytes)
            for key, value in items
        ]
        with self._lock:
            self._topic(topic)
            return [self._append(topic, *record) for record in records]

    def _append(self, topic: str, key: str | None, data: bytes, headers: dict[str, str]) -> PublishResult:
        logs = self._topic(topic)
        if key is None:
            partition = next(self._round_robin[topic]) % len(logs)
        else:
            partition = partition_for(key, len(logs))
        log = logs[partition]
        log.records.append(_Stored(log.end, key, data, headers, self.clock.now()))
        self._enforce_retention(topic)
        self._arrived.notify_all()
        return PublishResult(topic, partition, log.end - 1)

    # --- reading without a group --------------------------------------------------------------

    def read(self, topic: str) -> list[Record]:
        """Every retained record of ``topic``, partition by partition, in offset order."""
        with self._lock:
            self._enforce_retention(topic)
            return [
                self._decode(topic, p, stored)
                for p, log in enumerate(self._topic(topic))
                for stored in log.records
            ]

    def end_offsets(self, topic: str) -> dict[int, int]:
        """The next offset each partition will assign (= records ever written to it)."""
        with self._lock:
            return {p: log.end for p, log in enumerate(self._topic(topic))}

    def log_start(self, topic: str) -> dict[int, int]:
        """The oldest retained offset of each partition (retention moves it forward)."""
        with self._lock:
            self._enforce_retention(topic)
            return {p: log.start for p, log in enumerate(self._topic(topic))}

    def committed(self, topic: str, *, group: str) -> dict[int, int]:
        """The group's committed offset per partition (0 where it never committed)."""
        require_group(group)
        with self._lock:
            state = self._groups.get(group, _Group())
            return {p: state.committed.get((topic, p), 0) for p in range(len(self._topic(topic)))}

    def lag(self, topic: str, *, group: str) -> dict[int, int]:
        """Records per partition that the group has not committed yet."""
        with self._lock:
            ends = self.end_offsets(topic)
            committed = self.committed(topic, group=group)
            starts = self.log_start(topic)
            return {p: ends[p] - max(committed[p], starts[p]) for p in ends}

    # --- groups --------------------------------------------------------------------------------

    def subscribe(
        self,
        topics: str | Sequence[str],
        *,
        group: str,
        member: str | None = None,
        start: Start = "earliest",
    ) -> MemoryConsumer:
        """Join ``group`` as ``member`` reading ``topics``; the group rebalances at once.

        ``start`` applies where the group has no committed offset: ``"earliest"`` reads the whole
        retained log, ``"latest"`` only records published after this call returns.
        """
        names = require_subscription(topics, group, member, start)
        with self._lock:
            latest = {(name, p): log.end for name in names for p, log in enumerate(self._topic(name))}
            state = self._groups.setdefault(group, _Group())
            member = member if member is not None else f"{group}-{next(self._member_ids)}"
            require_new_member(member, group, state.members)
            consumer = MemoryConsumer(self, group, member, tuple(names), start, latest)
            state.members[member] = consumer
            self._rebalance(group)
            return consumer

    def groups(self) -> dict[str, list[str]]:
        """Live members of each group (for labs: who is in which group)."""
        with self._lock:
            return {g: sorted(s.members) for g, s in self._groups.items()}

    def close(self) -> None:
        """Close every consumer (without committing)."""
        with self._lock:
            for state in list(self._groups.values()):
                for consumer in list(state.members.values()):
                    consumer.close()

    # --- internals (callers hold the lock) -----------------------------------------------------

    def _topic(self, topic: str) -> list[_Log]:
        logs = self._logs.get(topic) if isinstance(topic, str) else None
        if logs is not None:  # a known topic was validated when it was created
            return logs
        require_topic(topic)
        if topic not in self._logs:
            if not self.auto_create_topics:
                raise UnknownTopicError(topic)
            self.create_topic(topic, self.default_partitions)
        return self._logs[topic]

    def _decode(self, topic: str, partition: int, stored: _Stored) -> Record:
        value = self.serde.loads(stored.data)
        return Record(
            topic, partition, stored.offset, stored.key, value, dict(stored.headers), stored.timestamp
        )

    def _enforce_retention(self, topic: str) -> None:
        if self.retention is None:
            return
        horizon = self.clock.now() - self.retention
        for log in self._logs[topic]:
            drop = 0
            while drop < len(log.records) and log.records[drop].timestamp < horizon:
                drop += 1
            if drop:
                del log.records[:drop]
                log.start += drop

    def _rebalance_all(self) -> None:
        for group in self._groups:
            self._rebalance(group)

    def _rebalance(self, group: str) -> None:
        """Split every subscribed partition among the group's members, round-robin by name."""
        state = self._groups[group]
        state.generation += 1
        members = sorted(state.members.values(), key=lambda c: c.member)
        new: dict[str, set[TopicPartition]] = {c.member: set() for c in members}
        for topic in sorted({t for c in members for t in c.topics}):
            readers = [c for c in members if topic in c.topics]
            for p in range(len(self._logs[topic])):
                new[readers[p % len(readers)].member].add((topic, p))
        for consumer in members:
            kept = {tp: pos for tp, pos in consumer._positions.items() if tp in new[consumer.member]}
            for tp in new[consumer.member] - kept.keys():
                kept[tp] = self._start_position(state, tp, consumer)
            consumer._positions = kept

    def _start_position(self, state: _Group, tp: TopicPartition, consumer: MemoryConsumer) -> int:
        """Committed offset if any; else the log start, or (latest) the end when the member subscribed.

        A partition added after the member subscribed holds only later records: it starts at 0.
        """
        log = self._logs[tp[0]][tp[1]]
        if tp in state.committed:
            return max(state.committed[tp], log.start)
        if consumer.start == "earliest":
            return log.start
        return max(consumer._latest.get(tp, 0), log.start)

    def _fetch(self, consumer: MemoryConsumer, max_records: int) -> list[Record]:
        state = self._groups[consumer.group]
        out: list[Record] = []
        owned = sorted(consumer._positions)
        if not owned:
            return out
        shift = consumer._polls % len(owned)  # rotate the first partition: no partition starves
        consumer._polls += 1
        for tp in owned[shift:] + owned[:shift]:
            topic, p = tp
            self._enforce_retention(topic)
            log = self._logs[topic][p]
            pos = max(consumer._positions[tp], log.start)
            while pos < log.end and len(out) < max_records:
                stored = log.records[pos - log.start]
                pos += 1
                if self._dead_letter_if_poisoned(state, tp, stored):
                    continue
                out.append(self._decode(topic, p, stored))
            consumer._positions[tp] = pos
        return out

    def _dead_letter_if_poisoned(self, state: _Group, tp: TopicPartition, stored: _Stored) -> bool:
        """Count an uncommitted delivery; True if the record must be skipped (dead-lettered)."""
        if self.max_deliveries is None or stored.offset < state.committed.get(tp, 0):
            return False
        if (tp[0], tp[1], stored.offset) in state.dead:
            return True
        counts = state.deliveries.setdefault(tp, {})
        counts[stored.offset] = counts.get(stored.offset, 0) + 1
        if counts[stored.offset] <= self.max_deliveries:
            return False
        state.dead.add((tp[0], tp[1], stored.offset))
        dlt = f"{tp[0]}.DLT"
        if dlt not in self._logs:  # no group can read a topic that did not exist: no rebalance needed
            self._logs[dlt] = [_Log()]
            self._round_robin[dlt] = itertools.count()
        log = self._logs[dlt][0]
        headers = {
            **stored.headers,
            "dlt-original-topic": tp[0],
            "dlt-original-partition": str(tp[1]),
            "dlt-original-offset": str(stored.offset),
            "dlt-deliveries": str(self.max_deliveries),
        }
        log.records.append(_Stored(log.end, stored.key, stored.data, headers, self.clock.now()))
        return True

    def __repr__(self) -> str:
        return f"InMemoryBroker(topics={self.topics()})"


class MemoryConsumer:
    """A member of a consumer group on an ``InMemoryBroker`` (see ``patterns.messaging.Consumer``)."""

    def __init__(
        self,
        broker: InMemoryBroker,
        group: str,
        member: str,
        topics: tuple[str, ...],
        start: Start,
        latest: dict[TopicPartition, int],
    ):
        self.broker = broker
        self.group = group
        self.member = member
        self.topics = topics
        self.start: Start = start
        self.closed = False
        self._positions: dict[TopicPartition, int] = {}
        self._latest = latest  # end offsets when this member subscribed: where "latest" starts
        self._polls = 0

    def poll(self, max_records: int = 100, timeout: float | None = None) -> list[Record]:
        """Up to ``max_records`` new records from owned partitions; waits up to ``timeout`` s if none."""
        require_max_records(max_records)
        timeout = require_poll_timeout(timeout)
        wait = self.broker.poll_timeout if timeout is None else timeout
        if not compat.threads_available():
            wait = 0.0  # single-threaded: nobody could publish while we wait
        with self.broker._lock:
            self._ensure_open()
            records = self.broker._fetch(self, max_records)
            if not records and wait > 0:
                self.broker._arrived.wait(wait)
                self._ensure_open()
                records = self.broker._fetch(self, max_records)
            return records

    def commit(self) -> None:
        with self.broker._lock:
            self._ensure_open()
            state = self.broker._groups[self.group]
            state.committed.update(self._positions)
            for tp, pos in self._positions.items():
                counts = state.deliveries.get(tp)
                if counts:
                    for offset in [o for o in counts if o < pos]:
                        del counts[offset]

    def seek(self, topic: str, partition: int, offset: int) -> None:
        require_topic(topic)
        require_partition(partition)
        require_offset(offset)
        with self.broker._lock:
            self._ensure_open()
            if (topic, partition) not in self._positions:
                raise ValueError(
                    f"partition {topic}/{partition} is not assigned to {self.member}; "
                    f"assignment is {sorted(self._positions)}"
                )
            self._positions[(topic, partition)] = offset

    def seek_to_beginning(self) -> None:
        with self.broker._lock:
            self._ensure_open()
            for topic, p in self._positions:
                self._positions[(topic, p)] = self.broker._logs[topic][p].start

    def assignment(self) -> set[tuple[str, int]]:
        with self.broker._lock:
            return set(self._positions)

    def position(self, topic: str, partition: int) -> int:
        """The offset of the next record this member will read from an owned partition."""
        require_topic(topic)
        require_partition(partition)
        with self.broker._lock:
            return self._positions[(topic, partition)]

    def close(self) -> None:
        """Leave the group without committing; the group rebalances at once."""
        with self.broker._lock:
            if self.closed:
                return
            self.closed = True
            state = self.broker._groups[self.group]
            state.members.pop(self.member, None)
            self._positions = {}
            self.broker._rebalance(self.group)
            self.broker._arrived.notify_all()

    def _ensure_open(self) -> None:
        if self.closed:
            raise RuntimeError(f"consumer {self.member} of group {self.group!r} is closed")

    def __enter__(self) -> MemoryConsumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MemoryConsumer(group={self.group!r}, member={self.member!r}, assignment={sorted(self.assignment())})"
