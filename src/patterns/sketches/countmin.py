"""Count-min sketch: how often has this item occurred, in fixed memory, never underestimated.

``depth`` rows of ``width`` counters. Adding an item adds its count to one counter per row (each
row hashes differently); the estimate is the smallest of the item's ``depth`` counters. Every
counter holds the item's true count plus whatever collided with it, so the estimate is never too
low. Cormode and Muthukrishnan (2005): with ``width = ceil(e / epsilon)`` and
``depth = ceil(ln(1 / delta))``, the estimate exceeds the true count by more than
``epsilon * N`` (``N``: the total of all counts) with probability at most ``delta``.

The bound is relative to the *total*: a heavy hitter's count is estimated well, a rare item's
may be swamped by collisions. That is why the sketch suits "top talkers" and "how many requests
from this IP in this window", and not exact billing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from patterns._validate import require_int, require_number, require_probability
from patterns.sketches.hashing import Item, item_bytes, murmur64, murmur64_many
from patterns.sketches.rows import derived_hashes

__all__ = ["CountMinSketch", "countmin_size"]


def countmin_size(epsilon: float, delta: float) -> tuple[int, int]:
    """``(width, depth)`` for error at most ``epsilon * N`` with probability at least ``1 - delta``."""
    eps = require_number(epsilon, "epsilon", minimum=0.0, maximum=1.0, strict_min=True)
    d = require_probability(delta, "delta", allow_zero=False, allow_one=False)
    if eps < 1e-7:
        raise ValueError(f"epsilon must be >= 1e-7 (a sketch of more than 2.7e7 counters per row), got {epsilon!r}")
    return math.ceil(math.e / eps), math.ceil(math.log(1.0 / d))


class CountMinSketch:
    """``CountMinSketch(width, depth)`` or ``CountMinSketch.for_error(0.001, 0.01)``."""

    def __init__(self, width: int, depth: int) -> None:
        self.width = require_int(width, "width", minimum=1, maximum=1 << 28)
        self.depth = require_int(depth, "depth", minimum=1, maximum=64)
        self.table = np.zeros((self.depth, self.width), dtype=np.int64)
        self.total = 0

    @classmethod
    def for_error(cls, epsilon: float, delta: float) -> CountMinSketch:
        return cls(*countmin_size(epsilon, delta))

    @property
    def epsilon(self) -> float:
        """The error per unit of total count the width guarantees: ``e / width``."""
        return math.e / self.width

    @property
    def confidence(self) -> float:
        """The probability an estimate stays within ``epsilon * total``: ``1 - e^-depth``."""
        return 1.0 - math.exp(-self.depth)

    @property
    def error_bound(self) -> float:
        """``epsilon * total``: the overestimate an item exceeds with probability ``<= e^-depth``."""
        return self.epsilon * self.total

    def _columns(self, hashes: np.ndarray) -> np.ndarray:
        return (derived_hashes(hashes, self.depth) % np.uint64(self.width)).astype(np.intp)

    def add_hashes(self, hashes: np.ndarray, counts: Sequence[int] | np.ndarray | None = None) -> None:
        h = np.asarray(hashes, dtype=np.uint64)
        c = np.ones(len(h), dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
        if c.shape != h.shape:
            raise ValueError(f"counts must have one count per item ({len(h)}), got {c.shape}")
        if len(c) and int(c.min()) < 0:
            raise ValueError("counts must be >= 0 (a count-min sketch only counts up)")
        columns = self._columns(h)
        for row in range(self.depth):
            np.add.at(self.table[row], columns[:, row], c)
        self.total += int(c.sum())

    def add(self, item: Item, count: int = 1) -> None:
        count = require_int(count, "count", minimum=0)
        self.add_hashes(np.array([murmur64(item_bytes(item))], dtype=np.uint64), [count])

    def add_many(self, items: Iterable[Item], counts: Sequence[int] | None = None) -> None:
        self.add_hashes(murmur64_many(items), counts)

    def estimate_hashes(self, hashes: np.ndarray) -> np.ndarray:
        columns = self._columns(np.asarray(hashes, dtype=np.uint64))
        rows = np.arange(self.depth, dtype=np.intp)
        return np.asarray(self.table[rows, columns].min(axis=1))

    def estimate(self, item: Item) -> int:
        """The item's count plus collisions: never below the true count."""
        return int(self.estimate_hashes(np.array([murmur64(item_bytes(item))], dtype=np.uint64))[0])

    def estimate_many(self, items: Iterable[Item]) -> np.ndarray:
        return self.estimate_hashes(murmur64_many(items))

    @property
    def size_bytes(self) -> int:
        """Counters of 4 bytes, as a deployment with 32-bit counters stores them."""
        return self.width * self.depth * 4

    def __repr__(self) -> str:
        return f"CountMinSketch(width={self.width}, depth={self.depth}, total={self.total})"
