"""The argument rules both brokers apply, so a bad call fails the same way on either one.

Each helper returns the value in its canonical type or raises ``TypeError``/``ValueError`` naming
the parameter and the allowed range (through ``patterns._validate``). Upper bounds exist so that an
absurd value fails here and not later: ``create_topic("t", 10**8)`` would allocate for minutes, and
``poll(timeout=inf)`` would raise ``OverflowError`` deep inside ``threading``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from patterns._validate import (
    MAX_INT64,
    require_int,
    require_mapping,
    require_one_of,
    require_optional_seconds,
    require_text,
)
from patterns.messaging.protocol import Event, MessageTooLarge, Start
from patterns.messaging.serde import Serde, record_size

__all__ = [
    "MAX_PARTITIONS",
    "MAX_POLL_RECORDS",
    "MAX_MESSAGE_BYTES_LIMIT",
    "require_topic",
    "require_topics",
    "require_partitions",
    "require_group",
    "require_member",
    "require_start",
    "require_key",
    "require_headers",
    "require_max_records",
    "require_offset",
    "require_poll_timeout",
    "require_max_message_bytes",
    "require_partition",
    "require_new_member",
    "require_subscription",
    "require_growth",
    "prepare_record",
]

#: Most partitions one topic may have. Kafka has no hard limit, but a cluster is comfortable with a
#: few thousand per broker; a topic of 10**8 partitions is a typo, not a design.
MAX_PARTITIONS = 10_000
#: Most records one ``poll`` may return.
MAX_POLL_RECORDS = 100_000
#: Largest ``max_message_bytes``: Kafka's ``max.request.size`` is a signed 32-bit integer.
MAX_MESSAGE_BYTES_LIMIT = 2**31 - 1
# record_size(key, data, {}) <= 93 + len(data) + 4 * len(key): 82 bytes of overhead, two length
# varints of at most 5 bytes, one byte for "no headers", and at most 4 UTF-8 bytes per character
_SMALL_RECORD_BOUND = 93
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,200}")


def require_topic(name: object, what: str = "topic") -> str:
    """A topic name: 1-200 letters, digits, ``.``, ``_``, ``-`` (Kafka's alphabet, with room for a namespace)."""
    if isinstance(name, str) and _TOPIC.fullmatch(name):
        return name
    text = require_text(name, what, max_length=200)
    raise ValueError(f"{what} must be 1-200 characters of letters, digits, '.', '_', '-', got {text!r}")


def require_topics(topics: object) -> list[str]:
    """One topic name or a non-empty list/tuple of them."""
    if isinstance(topics, str):
        return [require_topic(topics, "topics")]
    if not isinstance(topics, Sequence) or isinstance(topics, bytes):
        raise TypeError(f"topics must be a topic name or a list of names, got {type(topics).__name__}")
    if not topics:
        raise ValueError("topics must name at least one topic")
    return [require_topic(t, "topics") for t in topics]


def require_partitions(partitions: object, name: str = "partitions") -> int:
    return require_int(partitions, name, minimum=1, maximum=MAX_PARTITIONS)


def require_partition(partition: object) -> int:
    return require_int(partition, "partition", minimum=0, maximum=MAX_PARTITIONS - 1)


def require_group(group: object) -> str:
    text = require_text(group, "group", min_length=0, max_length=200)
    if not text.strip():
        raise ValueError(f"group must be a non-empty string, got {group!r}")
    return text


def require_member(member: object) -> str:
    text = require_text(member, "member", min_length=0, max_length=200)
    if not text.strip():
        raise ValueError(f"member must be a non-empty string, got {member!r}")
    return text


def require_start(start: object) -> Start:
    value: Start = require_one_of(start, "start", ("earliest", "latest"))
    return value


def require_key(key: object) -> str | None:
    """A message key: a string (the aggregate id) or None (no key: any partition)."""
    if key is not None and not isinstance(key, str):
        raise TypeError(f"key must be a string or None, got {type(key).__name__}")
    return key


def require_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is None:
        return {}
    mapping = require_mapping(headers, "headers")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise TypeError("headers must be a mapping of str to str")
    return dict(mapping)


def require_max_records(max_records: object) -> int:
    return require_int(max_records, "max_records", minimum=1, maximum=MAX_POLL_RECORDS)


def require_offset(offset: object) -> int:
    return require_int(offset, "offset", minimum=0, maximum=MAX_INT64)


def require_poll_timeout(timeout: object, name: str = "timeout") -> float | None:
    """None (the broker's default) or a finite number of seconds >= 0."""
    return require_optional_seconds(timeout, name, positive=False)


def require_max_message_bytes(value: object) -> int:
    return require_int(value, "max_message_bytes", minimum=1024, maximum=MAX_MESSAGE_BYTES_LIMIT)


def require_subscription(topics: object, group: object, member: object, start: object) -> list[str]:
    """The arguments of ``subscribe``, checked the same way on both brokers; returns the topic names."""
    names = require_topics(topics)
    require_group(group)
    require_start(start)
    if member is not None:
        require_member(member)
    return names


def require_growth(total: object, current: int) -> int:
    """A new partition count for a topic that has ``current``: Kafka grows topics, never shrinks them."""
    wanted = require_partitions(total, "total")
    if wanted < current:
        raise ValueError(
            f"total must be >= the current {current} partitions (Kafka never shrinks a topic), got {wanted}"
        )
    return wanted


def require_new_member(member: str, group: str, live: Iterable[str]) -> str:
    """Refuse a second live member named ``member`` in ``group`` (both brokers, one message)."""
    if member in set(live):
        raise ValueError(
            f"member {member!r} is already in group {group!r}: give each live member its own name "
            "(e.g. service-host-pid), or close the old one first"
        )
    return member


def prepare_record(
    serde: Serde,
    topic: str,
    value: Any,
    key: str | None,
    headers: Mapping[str, str] | None,
    max_message_bytes: int,
) -> tuple[str | None, bytes, dict[str, str]]:
    """Validate and encode one record: ``(key, value bytes, headers)``, or raise before anything is written.

    An ``Event`` brings its key (the aggregate id). A record over ``max_message_bytes``, counted as
    Kafka's client counts it, raises ``MessageTooLarge``.
    """
    if key is None and isinstance(value, Event):
        key = value.key
    require_key(key)
    hdrs = require_headers(headers)
    data = serde.dumps(value)
    if not hdrs and _SMALL_RECORD_BOUND + len(data) + 4 * len(key or "") <= max_message_bytes:
        return key, data, hdrs  # surely under the limit: skip the exact count (most records)
    size = record_size(
        None if key is None else key.encode("utf-8"),
        data,
        {k: v.encode("utf-8") for k, v in hdrs.items()},
    )
    if size > max_message_bytes:
        raise MessageTooLarge(topic, size, max_message_bytes)
    return key, data, hdrs
