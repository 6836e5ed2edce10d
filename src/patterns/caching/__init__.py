"""Caching patterns over Redis (fakeredis by default): strategies, invalidation, stampede cures.

Start with ``CacheAside`` (``strategies``); the store in labs is ``SlowStore`` (SQLite that charges
simulated time per query). See ``core`` for why expiry is judged on the injected clock.
"""

from patterns.caching.core import Entry, RedisEntries, WallClock
from patterns.caching.eviction import SimulatedCache, simulate_hit_ratio
from patterns.caching.invalidation import EventInvalidator, VersionedKeys
from patterns.caching.simulation import StampedeResult, simulate_stampede, write_behind_exposure
from patterns.caching.stampede import SingleFlight, XFetch
from patterns.caching.stats import CacheStats
from patterns.caching.store import SlowStore
from patterns.caching.strategies import CacheAside, ReadThrough, WriteBehind, WriteThrough
from patterns.caching.workload import ZipfWorkload

__all__ = [
    "CacheAside",
    "ReadThrough",
    "WriteThrough",
    "WriteBehind",
    "CacheStats",
    "SlowStore",
    "SingleFlight",
    "XFetch",
    "VersionedKeys",
    "EventInvalidator",
    "Entry",
    "RedisEntries",
    "WallClock",
    "SimulatedCache",
    "simulate_hit_ratio",
    "simulate_stampede",
    "StampedeResult",
    "write_behind_exposure",
    "ZipfWorkload",
]
