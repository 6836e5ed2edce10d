"""Sketches: approximate answers in fixed, small memory (chapter 14).

* ``BloomFilter``: "seen before?" with no false negatives; ``bloom_size``, ``bloom_fp_rate``.
* ``CountMinSketch``: "how often?", never underestimated, off by at most ``epsilon * N`` with
  probability ``1 - delta``; ``countmin_size``.
* ``HyperLogLog``: "how many distinct?" within about ``1.04 / sqrt(m)``; Redis-compatible, so its
  estimate equals ``PFCOUNT``'s. ``RedisHyperLogLog`` is Redis's own, behind the same methods.
* ``murmur64`` / ``murmur64_many``: the one hash all of them use (Redis's MurmurHash64A).
"""

from patterns.sketches.bloom import MAX_BITS, BloomFilter, bloom_fp_rate, bloom_size
from patterns.sketches.countmin import CountMinSketch, countmin_size
from patterns.sketches.hashing import REDIS_SEED, Item, item_bytes, murmur64, murmur64_many
from patterns.sketches.hyperloglog import REDIS_P, HyperLogLog, standard_error
from patterns.sketches.redis_hll import RedisHyperLogLog

__all__ = [
    "BloomFilter",
    "bloom_fp_rate",
    "bloom_size",
    "MAX_BITS",
    "CountMinSketch",
    "countmin_size",
    "HyperLogLog",
    "standard_error",
    "REDIS_P",
    "RedisHyperLogLog",
    "Item",
    "item_bytes",
    "murmur64",
    "murmur64_many",
    "REDIS_SEED",
]
