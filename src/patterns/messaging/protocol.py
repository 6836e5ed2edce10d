"""The small contract every broker keeps, and the value types that cross it.

A ``Broker`` stores an append-only log per topic partition and hands records to consumer groups.
Two implementations pass one contract suite (``tests/contract/test_broker_contract.py``):
``InMemoryBroker`` (in-process, deterministic, for labs and tests) and ``KafkaBroker`` (kafka-python
against a real Kafka-protocol broker). Later patterns (CQRS projectors, saga choreography) depend on
this protocol only, never on one implementation. Helpers that work on any broker (``drain``,
``process_with_retries``, ...) live in ``patterns.messaging.consumers``.

Guarantees both brokers give:

* records with the same key land in the same partition, and a partition is read in offset order;
* every consumer group sees every record; inside a group each partition has exactly one owner;
* delivery is at-least-once: a consumer that stops without ``commit()`` leaves its records to be
  delivered again to whoever owns the partition next;
* ``seek`` replays from any retained offset;
* a record larger than ``max_message_bytes`` (default 1 MiB, Kafka's client default, measured as
  Kafka's client measures it: key + value + headers + record overhead) is refused with
  ``MessageTooLarge`` and nothing is written;
* ``start="latest"`` means "every record published after ``subscribe`` returned, none before": the
  start point is fixed when the member subscribes, not when it first polls;
* two live members with the same name in one group are refused (``ValueError``) by the broker object
  that created the first one.

Not guaranteed: order across partitions or across keys, exactly-once (pair a consumer with
``IdempotentConsumer`` for "effectively once"). The deliberate differences between the two brokers
(who gets which partition, where keyless records go, when a rebalance happens) are listed in the
``patterns.messaging.kafka`` docstring and in chapter 02.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from patterns._validate import require_mapping, require_text
from patterns.errors import PatternError
from patterns.messaging.ids import new_event_id

__all__ = [
    "Broker",
    "Consumer",
    "Record",
    "PublishResult",
    "Event",
    "new_event_id",
    "UnknownTopicError",
    "MessageTooLarge",
    "UnsupportedOperation",
    "Start",
    "DEFAULT_MAX_MESSAGE_BYTES",
]

Start = Literal["earliest", "latest"]

#: Largest record a broker accepts by default: Kafka's client default ``max.request.size`` (1 MiB).
DEFAULT_MAX_MESSAGE_BYTES = 1_048_576


class UnknownTopicError(PatternError, LookupError):
    """A topic was used before ``create_topic`` while auto-creation is off."""

    def __init__(self, topic: str) -> None:
        super().__init__(
            f"unknown topic {topic!r}: call broker.create_topic({topic!r}, partitions=N) first, "
            "or build the broker with auto_create_topics=True"
        )
        self.topic = topic


class MessageTooLarge(PatternError, ValueError):
    """A record is larger than the broker's ``max_message_bytes``; nothing was written.

    ``size`` is the record's size as Kafka's client counts it (key + value + headers + overhead).
    """

    def __init__(self, topic: str, size: int, limit: int) -> None:
        super().__init__(
            f"record for topic {topic!r} is {size} bytes, over the broker's max_message_bytes={limit} "
            "(key + value + headers + Kafka's record overhead): store large payloads elsewhere and "
            "send a reference, or raise max_message_bytes on the broker (and on the Kafka cluster)"
        )
        self.topic = topic
        self.size = size
        self.limit = limit


class UnsupportedOperation(PatternError, NotImplementedError):
    """The broker at the other end does not implement this operation (e.g. adding partitions)."""


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
        require_text(self.type, "type", max_length=200)
        if self.key is None:
            raise ValueError("key must be the aggregate id (a string), got None")
        require_text(self.key, "key", min_length=0, max_length=10_000)
        require_mapping(self.data, "data")
        require_text(self.event_id, "event_id", max_length=200)

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

    @property
    def in_process(self) -> bool:
        """True if the broker lives inside this process (``InMemoryBroker``).

        Then a published record is visible to the very next poll, a group settles at once, and no
        other process shares its topics (no leftovers from earlier runs). False for a real broker:
        delivery may lag a moment behind ``publish``, and topics outlive the process.
        """
        ...

    @property
    def max_message_bytes(self) -> int:
        """Largest record accepted (key + value + headers + overhead, as Kafka's client counts)."""
        ...

    def create_topic(self, name: str, partitions: int = 1) -> None: ...

    def add_partitions(self, topic: str, total: int) -> None:
        """Grow ``topic`` to ``total`` partitions (never shrinks): keys may move to new partitions."""
        ...

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
