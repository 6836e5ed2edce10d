"""Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm", 2014).

``jump_hash(key, n)`` maps a 64-bit key to a bucket in ``[0, n)`` with no table at all: a few
multiplications. Growing from ``n`` to ``n + 1`` buckets moves only about ``1 / (n + 1)`` of the keys,
and every moved key goes to the new bucket ``n``.

What it does not do: buckets are numbered, so you can only add or remove at the *end*. Removing
bucket 3 of 10 is not expressible; real systems put a replica set behind each bucket number instead.
"""

from __future__ import annotations

import numpy as np

from patterns.sharding.base import require_hashes
from patterns.sharding.hashing import MASK64

__all__ = ["jump_hash", "jump_hash_array", "MAX_BUCKETS"]

MAX_BUCKETS = 2**31 - 1  # the reference takes an int32 bucket count
_LCG_MULT = 2862933555777941757  # the reference's 64-bit linear congruential generator
_TWO_31 = float(1 << 31)


def jump_hash(key: int, num_buckets: int) -> int:
    """The bucket in ``[0, num_buckets)`` for a 64-bit unsigned ``key`` (the reference algorithm)."""
    if (type(key) is not int or type(num_buckets) is not int or not 0 <= key <= 0xFFFFFFFFFFFFFFFF
            or not 1 <= num_buckets <= 0x7FFFFFFF):
        key, num_buckets = _checked(key, num_buckets)
    # The reference loop with j kept as a double: b is the last j below num_buckets, floor(b) the
    # bucket. Literals, not the module constants: a constant load is faster than a global lookup.
    b = j = 0.0
    while j < num_buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & 0xFFFFFFFFFFFFFFFF  # _LCG_MULT, MASK64
        j = (b // 1.0 + 1.0) * (2147483648.0 / ((key >> 33) + 1))  # _TWO_31
    return int(b)


def _checked(key: object, num_buckets: object) -> tuple[int, int]:
    if isinstance(key, bool) or not isinstance(key, int):
        raise TypeError(f"key must be an int in [0, 2**64), got {type(key).__name__}")
    if isinstance(num_buckets, bool) or not isinstance(num_buckets, int):
        raise TypeError(f"num_buckets must be an int, got {type(num_buckets).__name__}")
    if not 0 <= key <= MASK64:
        raise ValueError(f"key must be an int in [0, 2**64) (hash strings first), got {key}")
    if not 1 <= num_buckets <= MAX_BUCKETS:
        raise ValueError(f"num_buckets must be an int in [1, {MAX_BUCKETS}], got {num_buckets}")
    return int(key), int(num_buckets)


def jump_hash_array(keys: np.ndarray, num_buckets: int) -> np.ndarray:
    """``jump_hash`` for every key of a ``uint64`` array (same results, vectorised)."""
    if isinstance(num_buckets, bool) or not isinstance(num_buckets, int):
        raise TypeError(f"num_buckets must be an int, got {type(num_buckets).__name__}")
    if not 1 <= num_buckets <= MAX_BUCKETS:
        raise ValueError(f"num_buckets must be an int in [1, {MAX_BUCKETS}], got {num_buckets}")
    keys = require_hashes(keys, "keys")
    key = np.array(keys, dtype=np.uint64, ndmin=1).ravel()
    # np.intp: buckets are array indices, and numpy on 32-bit wasm (Pyodide) indexes with int32
    result = np.zeros(key.shape, dtype=np.intp)
    where = np.arange(key.size)  # positions of the keys still jumping
    bucket = np.zeros(key.shape, dtype=np.intp)  # every key starts in bucket 0
    mult, one, shift = np.uint64(_LCG_MULT), np.uint64(1), np.uint64(33)
    while where.size:
        key = key * mult + one
        jump = np.floor((bucket + 1) * (_TWO_31 / ((key >> shift).astype(np.float64) + 1.0)))
        going = jump < num_buckets
        result[where[~going]] = bucket[~going]  # the next jump lands past the end: done
        where, key, bucket = where[going], key[going], jump[going].astype(np.intp)
    return result.reshape(np.shape(keys)) if np.ndim(keys) else result
