"""The one hash function of the sketches: MurmurHash64A, the 64-bit hash Redis's HyperLogLog uses.

A sketch needs a hash that is fast, well mixed and the same in every process (Python's ``hash()``
is salted per process). MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit version, public
domain) is the one Redis applies to every ``PFADD`` element, with the seed ``0xadc83b19``. Using
it here, with that seed, makes ``patterns.sketches.HyperLogLog`` register-for-register the same
structure Redis builds, so the two can be compared exactly, not just statistically.

Items are hashed as the bytes Redis would receive: a ``str`` as UTF-8, an ``int`` as its decimal
digits (what redis-py sends), ``bytes`` as they are. ``murmur64_many`` hashes a whole list with
numpy, grouping the items by length so every 8-byte block of a group is mixed in one vector step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from patterns._validate import require_instance, require_int

__all__ = ["Item", "REDIS_SEED", "item_bytes", "murmur64", "murmur64_many", "MASK64"]

Item = str | bytes | int
REDIS_SEED = 0xADC83B19
MASK64 = (1 << 64) - 1
_M = 0xC6A4A7935BD1E995
_R = 47


def item_bytes(item: Item) -> bytes:
    """The bytes a Redis client sends for ``item`` (and that every sketch here hashes)."""
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode()
    if isinstance(item, int) and not isinstance(item, bool):
        return str(item).encode()
    raise TypeError(f"item must be a str, bytes or int, got {type(item).__name__}")


def murmur64(data: bytes, seed: int = REDIS_SEED) -> int:
    """MurmurHash64A of ``data`` (one item, pure Python; see ``murmur64_many`` for lists)."""
    require_instance(data, "data", (bytes, bytearray))
    require_int(seed, "seed", minimum=0, maximum=MASK64)
    length = len(data)
    h = (seed ^ (length * _M)) & MASK64
    tail_start = length - (length & 7)
    for i in range(0, tail_start, 8):
        k = int.from_bytes(data[i : i + 8], "little")
        k = (k * _M) & MASK64
        k ^= k >> _R
        k = (k * _M) & MASK64
        h ^= k
        h = (h * _M) & MASK64
    tail = data[tail_start:]
    if tail:
        h ^= int.from_bytes(tail, "little")
        h = (h * _M) & MASK64
    h ^= h >> _R
    h = (h * _M) & MASK64
    h ^= h >> _R
    return h


def _murmur_block(rows: np.ndarray, seed: int) -> np.ndarray:
    """MurmurHash64A of every row of a ``(count, length)`` uint8 array (all items one length)."""
    count, length = rows.shape
    m = np.uint64(_M)
    r = np.uint64(_R)
    h = np.full(count, (seed ^ (length * _M)) & MASK64, dtype=np.uint64)
    blocks = length // 8
    if blocks:
        words = np.ascontiguousarray(rows[:, : blocks * 8]).view("<u8").reshape(count, blocks)
        for j in range(blocks):
            k = words[:, j] * m
            k ^= k >> r
            k *= m
            h ^= k
            h *= m
    tail = length & 7
    if tail:
        t = np.zeros(count, dtype=np.uint64)
        for j in range(tail):
            t |= rows[:, blocks * 8 + j].astype(np.uint64) << np.uint64(8 * j)
        h ^= t
        h *= m
    h ^= h >> r
    h *= m
    h ^= h >> r
    return h


def murmur64_many(items: Iterable[Item] | Sequence[bytes], seed: int = REDIS_SEED) -> np.ndarray:
    """MurmurHash64A of every item, as a ``uint64`` array in the items' order."""
    require_instance(items, "items", Iterable, what="an iterable of items")
    require_int(seed, "seed", minimum=0, maximum=MASK64)
    encoded = [item_bytes(x) for x in items]
    out = np.empty(len(encoded), dtype=np.uint64)
    if not encoded:
        return out
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.intp, count=len(encoded))
    with np.errstate(over="ignore"):
        for length in np.unique(lengths).tolist():
            where = np.flatnonzero(lengths == length)
            if length == 0:
                out[where] = murmur64(b"", seed)
                continue
            joined = b"".join(encoded[i] for i in where.tolist())
            rows = np.frombuffer(joined, dtype=np.uint8).reshape(len(where), length)
            out[where] = _murmur_block(rows, seed)
    return out
