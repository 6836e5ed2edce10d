"""HyperLogLog: how many *distinct* items, in 12 kB, within about 1%.

Hash every item to 64 bits. The low ``p`` bits pick one of ``m = 2**p`` registers; the rest of
the hash is a random bit string, and the register keeps the longest run of trailing zeros (plus
one) seen there. A run of ``k`` zeros turns up about once in ``2**k`` distinct items, so the
registers together say roughly how many distinct hashes went by; duplicates change nothing, as
they hash alike. Flajolet, Fusy, Gandouet and Meunier (2007) combine the registers with a
harmonic mean and show a relative standard error of about ``1.04 / sqrt(m)``: 0.81% for
Redis's ``m = 16384``.

The estimate here is Otmar Ertl's improved estimator (2017), which needs no empirical bias
tables and is accurate from 0 to billions, and the layout is Redis's (MurmurHash64A with Redis's
seed, register index from the low bits, rank from the bits above). With ``p = 14`` this sketch
holds exactly the registers Redis builds for the same ``PFADD``s, so ``count()`` equals
``PFCOUNT``. Merging two sketches (register-wise maximum) gives the sketch of the union, like
``PFMERGE``.

What it does not do: list the items, count one item's occurrences (that is the count-min
sketch), or delete (a register cannot forget).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from patterns._validate import require_int
from patterns.sketches.hashing import Item, item_bytes, murmur64, murmur64_many

__all__ = ["HyperLogLog", "standard_error", "REDIS_P"]

#: The precision Redis uses: 2**14 = 16384 registers of 6 bits (12 kB).
REDIS_P = 14
_ALPHA_INF = 1.0 / (2.0 * math.log(2.0))


def standard_error(p: int) -> float:
    """The relative standard error ``1.04 / sqrt(2**p)`` of a HyperLogLog with ``2**p`` registers."""
    return 1.04 / math.sqrt(1 << require_int(p, "p", minimum=4, maximum=18))


def _sigma(x: float) -> float:
    # sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1): the share of the estimate that empty registers carry
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if z == previous:
            return z


def _tau(x: float) -> float:
    # tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3: the same for saturated registers
    if x in (0.0, 1.0):
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z == previous:
            return z / 3.0


class HyperLogLog:
    """``hll = HyperLogLog(); hll.add_many(items); hll.count()``; ``p`` from 4 to 18 (default 14)."""

    def __init__(self, p: int = REDIS_P) -> None:
        self.p = require_int(p, "p", minimum=4, maximum=18)
        self.m = 1 << self.p
        self.q = 64 - self.p  # hash bits left for the rank
        self.registers = np.zeros(self.m, dtype=np.uint8)

    @property
    def standard_error(self) -> float:
        return standard_error(self.p)

    @property
    def size_bytes(self) -> int:
        """The size of the registers packed at 6 bits each, as Redis stores them."""
        return (self.m * 6 + 7) // 8

    def _index_rank(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = np.asarray(hashes, dtype=np.uint64)
        index = (h & np.uint64(self.m - 1)).astype(np.intp)
        rest = (h >> np.uint64(self.p)) | (np.uint64(1) << np.uint64(self.q))  # a sentinel caps the run
        lowest = rest & (~rest + np.uint64(1))  # the lowest set bit, a power of two: exact as float
        rank = np.frexp(lowest.astype(np.float64))[1].astype(np.uint8)  # trailing zeros + 1
        return index, rank

    def add_hashes(self, hashes: np.ndarray) -> None:
        """Add items given by their ``murmur64`` hashes (a ``uint64`` array)."""
        index, rank = self._index_rank(hashes)
        np.maximum.at(self.registers, index, rank)

    def add(self, item: Item) -> bool:
        """Add one item; True if a register changed (the estimate may have moved)."""
        index, rank = self._index_rank(np.array([murmur64(item_bytes(item))], dtype=np.uint64))
        i, r = int(index[0]), int(rank[0])
        if r > self.registers[i]:
            self.registers[i] = r
            return True
        return False

    def add_many(self, items: Iterable[Item]) -> None:
        self.add_hashes(murmur64_many(items))

    def histogram(self) -> np.ndarray:
        """How many registers hold each value ``0 .. q + 1``."""
        return np.bincount(self.registers.astype(np.intp), minlength=self.q + 2)

    def count(self) -> int:
        """The estimated number of distinct items (Ertl's improved estimator, rounded as Redis does)."""
        c = self.histogram().tolist()
        m = float(self.m)
        z = m * _tau((m - c[self.q + 1]) / m)
        for k in range(self.q, 0, -1):
            z = 0.5 * (z + c[k])
        z += m * _sigma(c[0] / m)
        return int(math.floor(_ALPHA_INF * m * m / z + 0.5))

    def merge(self, other: HyperLogLog) -> HyperLogLog:
        """A new sketch of the union of both sketches' items (register-wise maximum)."""
        if not isinstance(other, HyperLogLog):
            raise TypeError(f"other must be a HyperLogLog, got {type(other).__name__}")
        if other.p != self.p:
            raise ValueError(f"other must have the same p ({self.p}), got p={other.p}")
        merged = HyperLogLog(self.p)
        merged.registers = np.maximum(self.registers, other.registers)
        return merged

    def __len__(self) -> int:
        return self.count()

    def __repr__(self) -> str:
        return f"HyperLogLog(p={self.p}, count~{self.count()})"
