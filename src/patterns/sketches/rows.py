"""Several hashes from one: the ``k`` bit positions of a Bloom filter, the rows of a count-min sketch.

Each item is hashed once (MurmurHash64A); hash number ``j`` is SplitMix64's finaliser applied to
``h + j * golden``, the way SplitMix64 steps through its sequence. The results behave as
independent hashes for these structures. (Kirsch and Mitzenmacher's ``h1 + j * h2`` is cheaper,
but two items that collide on two rows then collide on every row, which breaks the count-min
sketch's ``1 - e^-depth`` confidence.)
"""

from __future__ import annotations

import numpy as np

from patterns.sharding.hashing import mix64_array

__all__ = ["derived_hashes"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def derived_hashes(hashes: np.ndarray, count: int) -> np.ndarray:
    """A ``(len(hashes), count)`` uint64 array: ``count`` hashes per input hash."""
    h = np.asarray(hashes, dtype=np.uint64).reshape(-1, 1)
    steps = np.arange(count, dtype=np.uint64).reshape(1, -1) * _GOLDEN
    with np.errstate(over="ignore"):
        return np.asarray(mix64_array((h + steps).ravel()).reshape(len(h), count))
