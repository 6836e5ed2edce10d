"""Turning values into bytes and keys into partitions.

Brokers move bytes. A ``Serde`` says how a Python value becomes bytes and back; the default
``JsonSerde`` accepts JSON values (and ``Event``s), and refuses anything else with a ``TypeError``
that names the way out, instead of guessing. ``partition_for`` is Kafka's own key hash (murmur2),
so a key lands in the same partition here as with the Java or Python Kafka clients, on every run
(Python's ``hash()`` of a string changes from one process to the next).
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

from patterns.messaging.protocol import Event

__all__ = ["Serde", "JsonSerde", "BytesSerde", "murmur2", "partition_for"]


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
    if partitions < 1:
        raise ValueError(f"partitions must be an integer >= 1, got {partitions}")
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions
