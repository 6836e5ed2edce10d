"""Bloom filter: "have I seen this item?" with no false negatives and a tunable false-positive rate.

``m`` bits, all zero. Adding an item sets the ``k`` bits its ``k`` hashes point at; asking about
an item checks those ``k`` bits. An added item always finds its bits set (no false negatives). A
new item finds them all set by chance with probability about

    (1 - e^(-k n / m))^k

after ``n`` distinct items (Bloom 1970; the formula assumes independent uniform hashes and is a
close approximation, slightly low for small filters). For a target rate ``p`` the best choice is
``m = -n ln p / (ln 2)^2`` bits and ``k = (m / n) ln 2`` hashes: about 9.6 bits per item and 7
hashes for 1%, whatever the items' size.

What it does not do: delete (clearing a bit could forget other items: a counting Bloom filter
keeps small counters instead), list its items, or keep its promise past its capacity (the rate
climbs quickly once ``n`` exceeds the ``n`` it was sized for).

Bits are kept one per byte in a numpy ``bool`` array for speed and clarity; ``size_bytes`` is the
size of the packed bit array a real deployment stores (``m / 8``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from patterns._validate import require_int, require_probability
from patterns.sketches.hashing import Item, item_bytes, murmur64, murmur64_many
from patterns.sketches.rows import derived_hashes

__all__ = ["BloomFilter", "bloom_fp_rate", "bloom_size", "MAX_BITS"]

#: The largest filter accepted: 2**33 bits (1 GiB packed; a numpy array eight times that).
MAX_BITS = 1 << 33


def bloom_fp_rate(bits: int, hashes: int, items: int) -> float:
    """The textbook false-positive rate ``(1 - e^(-k n / m))^k``."""
    m = require_int(bits, "bits", minimum=1, maximum=MAX_BITS)
    k = require_int(hashes, "hashes", minimum=1, maximum=64)
    n = require_int(items, "items", minimum=0)
    return float((1.0 - math.exp(-k * n / m)) ** k)


def bloom_size(capacity: int, fp_rate: float) -> tuple[int, int]:
    """``(bits, hashes)`` for ``capacity`` items at false-positive rate ``fp_rate``."""
    n = require_int(capacity, "capacity", minimum=1, maximum=1 << 30)
    p = require_probability(fp_rate, "fp_rate", allow_zero=False, allow_one=False)
    m = math.ceil(-n * math.log(p) / math.log(2) ** 2)
    k = max(1, round(m / n * math.log(2)))
    return min(m, MAX_BITS), min(k, 64)


class BloomFilter:
    """``BloomFilter(bits, hashes)`` or ``BloomFilter.for_capacity(1_000_000, 0.01)``."""

    def __init__(self, bits: int, hashes: int) -> None:
        self.m = require_int(bits, "bits", minimum=8, maximum=MAX_BITS)
        self.k = require_int(hashes, "hashes", minimum=1, maximum=64)
        self.bits = np.zeros(self.m, dtype=bool)
        self.added = 0  # add calls, duplicates included

    @classmethod
    def for_capacity(cls, capacity: int, fp_rate: float = 0.01) -> BloomFilter:
        return cls(*bloom_size(capacity, fp_rate))

    @property
    def size_bytes(self) -> int:
        return (self.m + 7) // 8

    def _positions(self, hashes: np.ndarray) -> np.ndarray:
        return (derived_hashes(hashes, self.k) % np.uint64(self.m)).astype(np.intp)

    def add_hashes(self, hashes: np.ndarray) -> None:
        h = np.asarray(hashes, dtype=np.uint64)
        self.bits[self._positions(h).ravel()] = True
        self.added += len(h)

    def add(self, item: Item) -> None:
        self.add_hashes(np.array([murmur64(item_bytes(item))], dtype=np.uint64))

    def add_many(self, items: Iterable[Item]) -> None:
        self.add_hashes(murmur64_many(items))

    def contains_hashes(self, hashes: np.ndarray) -> np.ndarray:
        """For each hash, whether every one of its ``k`` bits is set (a bool array)."""
        return np.asarray(self.bits[self._positions(np.asarray(hashes, dtype=np.uint64))].all(axis=1))

    def __contains__(self, item: object) -> bool:
        if isinstance(item, bool) or not isinstance(item, (str, bytes, int)):
            raise TypeError(f"item must be a str, bytes or int, got {type(item).__name__}")
        return bool(self.contains_hashes(np.array([murmur64(item_bytes(item))], dtype=np.uint64))[0])

    def contains_many(self, items: Iterable[Item]) -> np.ndarray:
        return self.contains_hashes(murmur64_many(items))

    @property
    def fill_ratio(self) -> float:
        """The fraction of bits set."""
        return float(self.bits.mean())

    def expected_fp_rate(self, items: int | None = None) -> float:
        """``(1 - e^(-k n / m))^k`` for ``items`` (default: the number of add calls so far)."""
        return bloom_fp_rate(self.m, self.k, self.added if items is None else items)

    def current_fp_rate(self) -> float:
        """The false-positive rate implied by the bits actually set now: ``fill_ratio ** k``."""
        return self.fill_ratio**self.k

    def estimated_items(self) -> float:
        """Distinct items added, estimated from the set bits: ``-m/k ln(1 - X/m)`` (Swamidass & Baldi)."""
        x = int(self.bits.sum())
        if x >= self.m:
            return math.inf
        return -self.m / self.k * math.log1p(-x / self.m)

    def __repr__(self) -> str:
        return f"BloomFilter(bits={self.m}, hashes={self.k}, added={self.added})"
