"""Protocol buffers' wire format, by hand, for the order messages of ``orders.proto``.

The protobuf library (and gRPC) do not run in the browser, but counting what protobuf puts on the
wire needs neither: a message is a sequence of fields, each written as

* a *key*: ``field_number << 3 | wire_type`` as a varint (one byte for field numbers up to 15);
* then the value: wire type 0 is a *varint* (integers: 7 bits per byte, low bits first, the top bit
  of each byte saying "more follows"); wire type 2 is *length-delimited* (a varint length, then the
  bytes: UTF-8 text, or an embedded message).

proto3 leaves a field out when it holds its default value (0, ""), and writes each element of a
repeated message field as its own length-delimited field. That is all the order messages use.
``Message.encode`` produces exactly the bytes of the protobuf library's ``SerializeToString`` for
these schemas (a test compares them byte for byte), so the sizes printed in the lab are protobuf's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from patterns._validate import require_instance, require_int, require_mapping, require_text

__all__ = ["Field", "Message", "LINE_ITEM", "ORDER", "ORDER_REQUEST", "ORDERS_REQUEST", "varint"]

VARINT, LENGTH_DELIMITED = 0, 2
_INT64_MASK = (1 << 64) - 1


def varint(value: int) -> bytes:
    """An unsigned varint; a negative integer is written as its 64-bit two's complement (10 bytes)."""
    value = require_int(value, "value", minimum=-(2**63), maximum=2**64 - 1) & _INT64_MASK
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if not value:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint longer than 10 bytes")


@dataclass(frozen=True)
class Field:
    """One field of a message: its number, name, and kind ("string", "int" or a ``Message``)."""

    number: int
    name: str
    kind: str | Message
    repeated: bool = False

    def __post_init__(self) -> None:
        require_int(self.number, "number", minimum=1, maximum=2**29 - 1)
        require_text(self.name, "name", max_length=100)
        if not isinstance(self.kind, Message) and self.kind not in ("string", "int"):
            raise ValueError(f"kind must be 'string', 'int' or a Message, got {self.kind!r}")


@dataclass(frozen=True)
class Message:
    """A message type: named fields, encoded in field-number order as protobuf does."""

    name: str
    fields: tuple[Field, ...]

    def encode(self, value: Mapping[str, Any]) -> bytes:
        """The message's bytes on the wire; missing fields and default values are left out."""
        value = require_mapping(value, self.name)
        unknown = set(value) - {f.name for f in self.fields}
        if unknown:
            raise ValueError(f"{self.name} has no field(s) {sorted(unknown)}")
        out = bytearray()
        for field in sorted(self.fields, key=lambda f: f.number):
            items = value.get(field.name, [] if field.repeated else None)
            for item in items if field.repeated else [items]:
                out += _encode_field(field, item)
        return bytes(out)

    def decode(self, data: bytes) -> dict[str, Any]:
        """The fields of ``data`` as a dict (defaults filled in); unknown field numbers are skipped."""
        data = require_instance(data, "data", (bytes, bytearray))
        by_number = {f.number: f for f in self.fields}
        result: dict[str, Any] = {f.name: [] if f.repeated else _default(f) for f in self.fields}
        pos = 0
        while pos < len(data):
            key, pos = _read_varint(data, pos)
            number, wire_type = key >> 3, key & 7
            if wire_type == VARINT:
                raw, pos = _read_varint(data, pos)
                item: Any = raw - (1 << 64) if raw >> 63 else raw
            elif wire_type == LENGTH_DELIMITED:
                length, pos = _read_varint(data, pos)
                if pos + length > len(data):
                    raise ValueError("truncated length-delimited field")
                item, pos = bytes(data[pos : pos + length]), pos + length
            else:
                raise ValueError(f"wire type {wire_type} is not used by these messages")
            field = by_number.get(number)
            if field is None:
                continue  # a newer writer's field: old readers skip it (schema evolution)
            if isinstance(field.kind, Message):
                item = field.kind.decode(item)
            elif field.kind == "string":
                item = item.decode("utf-8")
            if field.repeated:
                result[field.name].append(item)
            else:
                result[field.name] = item
        return result


def _default(field: Field) -> Any:
    if isinstance(field.kind, Message):
        return None
    return "" if field.kind == "string" else 0


def _encode_field(field: Field, item: Any) -> bytes:
    if isinstance(field.kind, Message):
        if item is None:
            return b""
        body = field.kind.encode(item)
        return varint(field.number << 3 | LENGTH_DELIMITED) + varint(len(body)) + body
    if field.kind == "string":
        text = "" if item is None else item
        if not isinstance(text, str):
            raise TypeError(f"{field.name} must be a string, got {type(text).__name__}")
        if not text:
            return b""  # proto3: a default value is not written
        raw = text.encode("utf-8")
        return varint(field.number << 3 | LENGTH_DELIMITED) + varint(len(raw)) + raw
    number = 0 if item is None else require_int(item, field.name, minimum=-(2**63), maximum=2**63 - 1)
    if not number:
        return b""
    return varint(field.number << 3 | VARINT) + varint(number)


LINE_ITEM = Message("LineItem", (Field(1, "sku", "string"), Field(2, "qty", "int"), Field(3, "price_cents", "int")))
ORDER = Message(
    "Order",
    (
        Field(1, "event_id", "string"),
        Field(2, "type", "string"),
        Field(3, "order_id", "string"),
        Field(4, "customer_id", "string"),
        Field(5, "total_cents", "int"),
        Field(6, "currency", "string"),
        Field(7, "items", LINE_ITEM, repeated=True),
        Field(8, "occurred_at", "string"),
    ),
)
ORDER_REQUEST = Message("OrderRequest", (Field(1, "order_id", "string"),))
ORDERS_REQUEST = Message("OrdersRequest", (Field(1, "count", "int"),))
