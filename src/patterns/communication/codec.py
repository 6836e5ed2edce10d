"""Wire formats side by side: JSON, MessagePack and protobuf (chapter 03).

JSON and msgpack are schemaless: any dict encodes, with every field name in every message; the
comparison of the two isolates "text against binary". Protobuf needs a schema (``orders.proto``)
and in exchange writes field numbers instead of names and leaves default values out:
``ORDER_PROTOBUF`` encodes the order messages of that schema, with the hand-written encoder of
``patterns.communication.wire`` (byte for byte what the protobuf library writes). Sizes here are
deterministic; timings are wall-clock and vary by machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgpack

from patterns._validate import require_callable, require_instance, require_int, require_text
from patterns.communication.wire import ORDER

__all__ = [
    "Codec",
    "JSON",
    "MSGPACK",
    "ORDER_PROTOBUF",
    "CODECS",
    "CodecReport",
    "payload_sizes",
    "roundtrips",
    "compare",
]


@dataclass(frozen=True)
class Codec:
    """A named pair of functions: ``encode(obj) -> bytes`` and ``decode(bytes) -> obj``."""

    name: str
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]

    def __post_init__(self) -> None:
        require_text(self.name, "name", max_length=100)
        require_callable(self.encode, "encode")
        require_callable(self.decode, "decode")


def _json_encode(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _msgpack_decode(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False)


JSON = Codec("json", _json_encode, json.loads)
MSGPACK = Codec("msgpack", lambda obj: msgpack.packb(obj, use_bin_type=True), _msgpack_decode)
#: Protobuf for ``Order`` messages only (a schema-based format encodes what its schema declares).
ORDER_PROTOBUF = Codec("protobuf", ORDER.encode, ORDER.decode)
#: The schemaless codecs, used when no codec is named.
CODECS: dict[str, Codec] = {c.name: c for c in (JSON, MSGPACK)}


@dataclass(frozen=True)
class CodecReport:
    """One codec's size (bytes) and mean encode/decode time (microseconds) for one payload."""

    codec: str
    size: int
    encode_us: float
    decode_us: float


def _codecs(codecs: Iterable[Codec] | None) -> list[Codec]:
    chosen = list(CODECS.values() if codecs is None else codecs)
    if not chosen or not all(isinstance(c, Codec) for c in chosen):
        raise TypeError("codecs must be a non-empty iterable of Codec")
    return chosen


def payload_sizes(obj: Any, codecs: Iterable[Codec] | None = None) -> dict[str, int]:
    """Encoded size in bytes of ``obj`` per codec (deterministic)."""
    return {c.name: len(c.encode(obj)) for c in _codecs(codecs)}


def roundtrips(obj: Any, codec: Codec) -> bool:
    """True if ``decode(encode(obj)) == obj``: tuples, int keys, bytes... do not survive every codec."""
    require_instance(codec, "codec", Codec)
    try:
        return bool(codec.decode(codec.encode(obj)) == obj)
    except (TypeError, ValueError):
        return False


def compare(
    obj: Any,
    *,
    number: int = 1000,
    codecs: Iterable[Codec] | None = None,
    timer: Callable[[], float] = time.perf_counter,
) -> list[CodecReport]:
    """Size and mean encode/decode time of ``obj`` under each codec, timed ``number`` times each."""
    number = require_int(number, "number", minimum=1, maximum=10_000_000)
    require_callable(timer, "timer")
    reports = []
    for codec in _codecs(codecs):
        data = codec.encode(obj)
        start = timer()
        for _ in range(number):
            codec.encode(obj)
        encoded = timer()
        for _ in range(number):
            codec.decode(data)
        decoded = timer()
        reports.append(
            CodecReport(
                codec=codec.name,
                size=len(data),
                encode_us=(encoded - start) / number * 1e6,
                decode_us=(decoded - encoded) / number * 1e6,
            )
        )
    return reports
