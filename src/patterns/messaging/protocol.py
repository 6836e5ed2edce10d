"""The small contract every broker keeps, and the value types that cross it.

A ``Broker`` stores an append-only log per topic partition and hands records to consumer groups.
Two implementations pass one contract suite (``tests/contract/test_broker_contract.py``):
``InMemoryBroker`` (in-process, deterministic, for labs and tests) and ``KafkaBroker`` (kafka-python
against a real Kafka-protocol broker). Later patterns (CQRS projectors, saga choreography) depend on
this protocol only, never on one implementation.

Guarantees both brokers give:

* records with the same key land in the same partition, and a partition is read in offset order;
* every consumer group sees every record; inside a group each partition has exactly one owner;
* delivery is at-least-once: a consumer that stops without ``commit()`` leaves its records to be
  delivered again to whoever owns the partition next;
* ``seek`` replays from any retained offset.

Not guaranteed: order across partitions or across keys, exactly-once (pair a consumer with
``IdempotentConsumer`` for "effectively once").
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from patterns.errors import PatternError

__all__ = [
    "Broker",
    "Consumer",
    "Record",
    "PublishResult",
    "Event",
    "new_event_id",
    "UnknownTopicError",
    "Start",
    "check_topic_name",
    "check_partitions",
    "check_group",
    "check_key",
    "check_headers",
    "drain",
    "drain_together",
    "process_with_retries",
    "RetryStats",
]

Start = Literal["earliest", "latest"]


class UnknownTopicError(PatternError, LookupError):
    """A topic was used before ``create_topic`` while auto-creation is off."""

    def __init__(self, topic: str) -> None:
        super().__init__(
            f"unknown topic {topic!r}: call broker.create_topic({topic!r}, partitions=N) first, "
            "or build the broker with auto_create_topics=True"
        )
        self.topic = topic


@dataclass(frozen=True)
class PublishResult:
    """Where a published record was stored."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Record:
    """One record as a consumer sees it; ``value`` is already decoded by the broker's serde."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    timestamp: float = 0.0


def new_event_id(rng: random.Random | None = None) -> str:
    """A random UUID4 string; pass a seeded ``rng`` for the same ids on every run (labs)."""
    if rng is None:
        return str(uuid.uuid4())
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class Event:
    """A domain event: something that happened, named in the past tense (``OrderPlaced``).

    ``key`` is the aggregate id (the order id): brokers use it as the message key, so all events
    of one aggregate stay in one partition, in order. ``event_id`` is what consumers deduplicate on.
    """

    type: str
    key: str
    data: Mapping[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=new_event_id)

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type:
            raise ValueError(f"type must be a non-empty string, got {self.type!r}")
        check_key(self.key)
        if self.key is None:
            raise ValueError("key must be the aggregate id (a string), got None")
        if not isinstance(self.data, Mapping):
            raise TypeError(f"data must be a mapping, got {type(self.data).__name__}")

    def to_dict(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "type": self.type, "key": self.key, "data": dict(self.data)}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Event:
        """Rebuild an event from ``to_dict()`` output (e.g. ``record.value``)."""
        missing = {"event_id", "type", "key"} - set(value)
        if missing:
            raise ValueError(f"value is not an Event dict: missing {sorted(missing)}")
        return cls(value["type"], value["key"], value.get("data", {}), value["event_id"])


@runtime_checkable
class Consumer(Protocol):
    """One member of a consumer group, reading the partitions the group assigned to it."""

    broker: Any  # the Broker it belongs to
    group: str
    member: str
    topics: tuple[str, ...]

    def poll(self, max_records: int = 100, timeout: float | None = None) -> list[Record]:
        """Up to ``max_records`` records after the current positions (``timeout`` None: broker default)."""
        ...

    def commit(self) -> None:
        """Record, for the group, the position after every record ``poll`` returned so far."""
        ...

    def seek(self, topic: str, partition: int, offset: int) -> None:
        """Move this member's position in an owned partition (replay or skip)."""
        ...

    def seek_to_beginning(self) -> None: ...

    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member owns now."""
        ...

    def close(self) -> None:
        """Leave the group without committing: uncommitted records go to the next owner."""
        ...


@runtime_checkable
class Broker(Protocol):
    """Topics of partitioned logs, and consumer groups reading them (see the module docstring)."""

    def create_topic(self, name: str, partitions: int = 1) -> None: ...

    def topics(self) -> dict[str, int]: ...

    def publish(
        self, topic: str, value: Any, *, key: str | None = None, headers: Mapping[str, str] | None = None
    ) -> PublishResult: ...

    def publish_many(self, topic: str, items: Sequence[tuple[str | None, Any]]) -> list[PublishResult]: ...

    def subscribe(
        self, topics: str | Sequence[str], *, group: str, member: str | None = None, start: Start = "earliest"
    ) -> Consumer: ...

    def read(self, topic: str) -> list[Record]: ...

    def end_offsets(self, topic: str) -> dict[int, int]: ...

    def committed(self, topic: str, *, group: str) -> dict[int, int]: ...

    def lag(self, topic: str, *, group: str) -> dict[int, int]: ...

    def close(self) -> None: ...


# --- argument checks shared by both brokers (one wording everywhere) ---------------------------


def check_topic_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"topic must be a string, got {type(name).__name__}")
    if not name or len(name) > 200 or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise ValueError(f"topic must be 1-200 characters of letters, digits, '.', '_', '-', got {name!r}")
    return name


def check_partitions(partitions: object) -> int:
    if isinstance(partitions, bool) or not isinstance(partitions, int):
        raise TypeError(f"partitions must be an integer >= 1, got {type(partitions).__name__}")
    if partitions < 1:
        raise ValueError(f"partitions must be an integer >= 1, got {partitions}")
    return partitions


def check_group(group: object) -> str:
    if not isinstance(group, str):
        raise TypeError(f"group must be a non-empty string, got {type(group).__name__}")
    if not group.strip():
        raise ValueError(f"group must be a non-empty string, got {group!r}")
    return group


def check_subscription(topics: str | Sequence[str], group: object, start: object) -> list[str]:
    """Validate ``subscribe`` arguments the same way on every broker; returns the topic names."""
    names = [topics] if isinstance(topics, str) else list(topics)
    if not names:
        raise ValueError("topics must name at least one topic")
    check_group(group)
    if start not in ("earliest", "latest"):
        raise ValueError(f"start must be 'earliest' or 'latest', got {start!r}")
    return names


def check_key(key: object) -> str | None:
    if key is not None and not isinstance(key, str):
        raise TypeError(f"key must be a string or None, got {type(key).__name__}")
    return key


def check_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise TypeError("headers must be a mapping of str to str")
    return dict(headers)


def check_max_records(max_records: object) -> int:
    if isinstance(max_records, bool) or not isinstance(max_records, int) or max_records < 1:
        raise ValueError(f"max_records must be an integer >= 1, got {max_records!r}")
    return max_records


# --- helpers that work on any broker -----------------------------------------------------------


def drain(consumer: Consumer, *, max_records: int = 500, limit: int | None = None) -> list[Record]:
    """Poll until a poll returns nothing (or ``limit`` records were read); return all records."""
    out: list[Record] = []
    while limit is None or len(out) < limit:
        batch = consumer.poll(
            max_records=max_records if limit is None else min(max_records, limit - len(out))
        )
        if not batch:
            break
        out.extend(batch)
    return out


def drain_together(consumers: Sequence[Consumer], *, timeout: float = 30.0) -> dict[str, list[Record]]:
    """Drain all live members of one group at once, each in its own thread, as separate processes would.

    First lets the group settle (every partition of the topics owned by exactly one member), so no
    member reads a partition it is about to lose; then each member drains its own partitions.
    Returns the records per member name. On Kafka a rebalance only completes while every member
    polls, which is why draining members one after the other stalls there; in-process it settles
    at once and the result is the same.
    """
    members = list(consumers)
    _settle(members, timeout)
    results: dict[str, list[Record]] = {c.member: [] for c in members}
    threads = [threading.Thread(target=lambda c=c: results[c.member].extend(drain(c))) for c in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _settle(members: list[Consumer], timeout: float) -> None:
    wanted = {(t, p) for c in members for t in c.topics for p in range(c.broker.topics()[t])}

    def settled() -> bool:
        owned = [c.assignment() for c in members]
        return sum(len(a) for a in owned) == len(wanted) and set().union(*owned) == wanted

    stop = threading.Event()

    def peek(c: Consumer) -> None:  # poll to take part in the rebalance, but give every record back
        while not stop.is_set() and not settled():
            for r in c.poll(max_records=1, timeout=0.1):
                with contextlib.suppress(ValueError):  # revoked meanwhile: the new owner starts at the commit
                    c.seek(r.topic, r.partition, r.offset)

    threads = [threading.Thread(target=peek, args=(c,)) for c in members]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    while not settled() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    if not settled():
        raise TimeoutError(
            f"group did not settle within {timeout}s: {[sorted(c.assignment()) for c in members]}"
        )


@dataclass
class RetryStats:
    """What ``process_with_retries`` did: records handled, handler failures, records dead-lettered."""

    handled: int = 0
    failures: int = 0
    dead_lettered: int = 0


def process_with_retries(
    consumer: Consumer,
    handler: Callable[[Record], object],
    broker: Broker,
    *,
    max_attempts: int = 3,
    dead_letter_topic: str | None = None,
    max_records: int = 100,
) -> RetryStats:
    """Handle one poll's records, retrying each up to ``max_attempts`` times, then dead-letter it.

    A poison record (the handler always raises) must not block its partition forever: after
    ``max_attempts`` failures it is copied to ``dead_letter_topic`` (default ``<topic>.DLT``) with
    headers naming the error and its origin, and the consumer moves on. Commits after the batch, so
    a crash mid-batch redelivers (at-least-once). Works on every ``Broker``.
    """
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
    stats = RetryStats()
    for record in consumer.poll(max_records=max_records):
        for attempt in range(1, max_attempts + 1):
            try:
                handler(record)
            except Exception as exc:  # noqa: BLE001 - any handler failure counts as a failed delivery
                stats.failures += 1
                if attempt == max_attempts:
                    topic = dead_letter_topic or f"{record.topic}.DLT"
                    broker.create_topic(topic, partitions=1)  # idempotent
                    broker.publish(
                        topic,
                        record.value,
                        key=record.key,
                        headers=_dead_letter_headers(record, exc, attempt),
                    )
                    stats.dead_lettered += 1
            else:
                stats.handled += 1
                break
    consumer.commit()
    return stats


def _dead_letter_headers(record: Record, exc: BaseException, attempts: int) -> dict[str, str]:
    return {
        **record.headers,
        "dlt-original-topic": record.topic,
        "dlt-original-partition": str(record.partition),
        "dlt-original-offset": str(record.offset),
        "dlt-attempts": str(attempts),
        "dlt-error": f"{type(exc).__name__}: {exc}"[:500],
    }
