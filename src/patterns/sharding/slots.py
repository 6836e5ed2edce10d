"""Redis Cluster's hash slots: ``key_slot`` and a router that assigns slots to nodes.

Redis Cluster does not hash keys onto nodes directly. It hashes every key into one of 16,384
*slots* (``CRC16(key) mod 16384``, the CRC16/XMODEM variant) and keeps a table saying which master
owns which slot. Adding a node means moving some slots to it, with their keys; the hash of a key
never changes. Two consequences a client must know:

* **Hash tags.** If a key contains ``{...}`` with at least one character between the first ``{``
  and the next ``}``, only that text is hashed: ``{cart-7}:items`` and ``{cart-7}:total`` share a
  slot, so one Lua script or ``MULTI`` may touch both. Without a shared tag, a multi-key command
  fails with ``CROSSSLOT``. (``patterns.keys.KeySpace`` puts every entity in a tag for this reason.)
* **Even by construction, not by luck.** ``redis-cli --cluster create`` gives each master a
  contiguous range of about 16,384 / n slots, so the slot counts differ by at most one; how many
  *keys* each master holds then depends only on how evenly CRC16 spreads them.

``key_slot`` follows the cluster specification (and agrees with ``CLUSTER KEYSLOT``: a test checks
10,000 keys on a real cluster). ``SlotRouter`` is the same ownership table as a ``Router``, so the
keys-per-node skew of Redis Cluster can be compared with the ring and jump hash on the same keys.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from patterns._validate import require_instance, require_int
from patterns.sharding.base import require_nodes
from patterns.sharding.hashing import Key

__all__ = ["SLOTS", "crc16", "hash_tag", "key_slot", "slot_ranges", "SlotRouter"]

SLOTS = 16_384


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_TABLE = _crc16_table()


def crc16(data: bytes) -> int:
    """CRC16/XMODEM (polynomial 0x1021, initial value 0, no reflection): Redis Cluster's key hash.

    The check value of the specification: ``crc16(b"123456789") == 0x31C3``.
    """
    require_instance(data, "data", (bytes, bytearray))
    crc = 0
    table = _TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFF00) ^ table[((crc >> 8) ^ byte) & 0xFF]
    return crc


def _as_bytes(key: Key) -> bytes:
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode()
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key).encode()  # what redis-py sends for an int key
    raise TypeError(f"key must be a str, bytes or int, got {type(key).__name__}")


def hash_tag(key: Key) -> bytes:
    """The part of ``key`` that is hashed: the text inside the first ``{...}`` if it is not empty,
    else the whole key (``{}x``, ``x{`` and ``x}{`` have no tag)."""
    data = _as_bytes(key)
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            return data[start + 1 : end]
    return data


def key_slot(key: Key) -> int:
    """The Redis Cluster slot of ``key``: ``crc16(hash_tag(key)) % 16384``, what ``CLUSTER KEYSLOT``
    answers. An int key is hashed as its decimal digits, as redis-py sends it."""
    return crc16(hash_tag(key)) % SLOTS


def slot_ranges(masters: int) -> list[tuple[int, int]]:
    """The inclusive slot ranges ``redis-cli --cluster create`` gives ``masters`` masters.

    Each gets about 16,384 / n contiguous slots; for 3 masters: 0-5460, 5461-10922, 10923-16383.
    """
    masters = require_int(masters, "masters", minimum=1, maximum=SLOTS)
    per_node = SLOTS / masters
    ranges = []
    first, cursor = 0, 0.0
    for i in range(masters):
        last = math.floor(cursor + per_node - 1 + 0.5)  # C lround: halves away from zero
        if last > SLOTS - 1 or i == masters - 1:
            last = SLOTS - 1
        last = max(last, first)
        ranges.append((first, last))
        first = last + 1
        cursor += per_node
    return ranges


class SlotRouter:
    """Redis Cluster's routing as a ``Router``: ``key_slot(key)``, then the slot's owner.

    ``SlotRouter(["A", "B", "C"])`` splits the slots like ``redis-cli --cluster create``;
    ``assign(slot, node)`` moves one slot (what a resharding does, one slot at a time).
    """

    def __init__(self, nodes: Iterable[str]) -> None:
        names = require_nodes(nodes)
        if len(names) > SLOTS:
            raise ValueError(f"nodes must hold at most {SLOTS:,} names (every node owns a slot), got {len(names):,}")
        self._nodes = names
        self._owner: list[int] = [0] * SLOTS
        for index, (first, last) in enumerate(slot_ranges(len(names))):
            self._owner[first : last + 1] = [index] * (last - first + 1)

    @property
    def nodes(self) -> tuple[str, ...]:
        return self._nodes

    def node_for(self, key: Key) -> str:
        return self._nodes[self._owner[key_slot(key)]]

    def owner_of_slot(self, slot: int) -> str:
        return self._nodes[self._owner[require_int(slot, "slot", maximum=SLOTS - 1)]]

    def slots_of(self, node: str) -> list[int]:
        """Every slot ``node`` owns, in order."""
        index = self._index(node)
        return [slot for slot, owner in enumerate(self._owner) if owner == index]

    def assign(self, slot: int, node: str) -> None:
        """Give ``slot`` (and so every key hashing to it) to ``node``."""
        self._owner[require_int(slot, "slot", maximum=SLOTS - 1)] = self._index(node)

    def _index(self, node: str) -> int:
        if node not in self._nodes:
            raise ValueError(f"node must be one of {list(self._nodes)}, got {node!r}")
        return self._nodes.index(node)

    def __repr__(self) -> str:
        return f"SlotRouter({list(self._nodes)!r})"
