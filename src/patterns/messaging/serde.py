"""Turning values into bytes and keys into partitions.

Brokers move bytes. A ``Serde`` says how a Python value becomes bytes and back; the default
``JsonSerde`` accepts JSON values (and ``Event``s), and refuses anything else with a ``TypeError``
that names the way out, instead of guessing. ``partition_for`` is Kafka's own key hash (murmur2),
so a key lands in the same partition here as with the Java or Python Kafka clients, on every run
(Python's ``hash()`` of a string changes from one process to the next). ``record_size`` counts a
record's bytes the way Kafka's clients do before they refuse one as too large, so both brokers
enforce ``max_message_bytes`` on the same number.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from patterns._validate import require_instance, require_int
from patterns.messaging.protocol import Event

__all__ = ["Serde", "JsonSerde", "BytesSerde", "murmur2", "partition_for", "record_size"]


@runtime_checkable
class Serde(Protocol):
    """Encode a value to bytes and decode it back; ``loads(dumps(v)) == v`` for accepted values."""

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class JsonSerde:
    """UTF-8 JSON. Accepts dict, list, str, int, float, bool, None (nested) and ``Event``."""

    def dumps(self, value: Any) -> bytes:
        if isinstance(value, Event):
            value = value.to_dict()
        if isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(
                "value is bytes but the broker's serde is JsonSerde: build the broker with "
                "serde=BytesSerde() to send raw bytes"
            )
        try:
            return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"value must be JSON-serializable (dict, list, str, int, float, bool, None or an Event), "
                f"got {type(value).__name__} ({exc}); pass serde=... to the broker for other types"
            ) from exc

    def loads(self, data: bytes) -> Any:
        return json.loads(data.decode("utf-8"))

    def __repr__(self) -> str:
        return "JsonSerde()"


class BytesSerde:
    """Raw bytes in, bytes out: for payloads that are already encoded (protobuf, msgpack, images)."""

    def dumps(self, value: Any) -> bytes:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"value must be bytes with BytesSerde, got {type(value).__name__}")
        return bytes(value)

    def loads(self, data: bytes) -> bytes:
        return bytes(data)

    def __repr__(self) -> str:
        return "BytesSerde()"


def murmur2(data: bytes) -> int:
    """32-bit murmur2 with Kafka's seed, as the Kafka clients compute it (may be negative)."""
    require_instance(data, "data", (bytes, bytearray))
    length = len(data)
    seed = 0x9747B28C
    m = 0x5BD1E995
    r = 24
    h = (seed ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = int.from_bytes(data[4 * i : 4 * i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length & ~3
    extra = length % 4
    if extra == 3:
        h ^= data[tail + 2] << 16
    if extra >= 2:
        h ^= data[tail + 1] << 8
    if extra >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: str, partitions: int) -> int:
    """The partition of ``key`` among ``partitions``: stable across runs, machines and clients."""
    key = require_instance(key, "key", str)
    partitions = require_int(partitions, "partitions", minimum=1)
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions


# Kafka's record batch format (v2): a 61-byte batch header, and at most 21 bytes of per-record
# fields (length, attributes, timestamp and offset deltas as varints) besides key, value, headers.
_BATCH_HEADER = 61
_RECORD_OVERHEAD = 21


def _varint_size(n: int) -> int:
    """Bytes of ``n`` as a zig-zag varint (how Kafka's record format writes lengths)."""
    z = (n << 1) ^ (n >> 63)
    size = 1
    while z >= 0x80:
        z >>= 7
        size += 1
    return size


def record_size(key: bytes | None, value: bytes | None, headers: dict[str, bytes] | None = None) -> int:
    """A record's size in bytes as Kafka's client estimates it before sending (an upper bound).

    The producer refuses a record whose estimate exceeds ``max.request.size`` (1 MiB by default);
    both brokers of this package apply the same formula to the same limit.
    """
    size = _BATCH_HEADER + _RECORD_OVERHEAD
    for part in (key, value):
        size += 1 if part is None else _varint_size(len(part)) + len(part)
    items = (headers or {}).items()
    size += _varint_size(len(items))
    for name, data in items:
        raw = name.encode("utf-8")
        size += _varint_size(len(raw)) + len(raw) + _varint_size(len(data)) + len(data)
    return size
