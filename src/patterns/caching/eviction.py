"""Bounded caches for simulation: LRU and LFU with TTL, in memory, fast enough for sweeps.

Redis evicts under ``maxmemory`` with a ``maxmemory-policy`` such as ``allkeys-lru`` or
``allkeys-lfu`` (both approximated by sampling). These exact versions let a lab sweep cache size,
TTL and skew over tens of thousands of requests in milliseconds; a test checks that with unbounded
capacity the simulator counts the same hits as ``CacheAside`` on Redis.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable

__all__ = ["SimulatedCache", "simulate_hit_ratio"]

POLICIES = ("lru", "lfu")


class SimulatedCache:
    """``access(key, now)`` returns True on a hit; a miss fills the key (evicting if full).

    LRU evicts the least recently used key; LFU the least frequently used (ties: least recently
    used among them). An entry expires ``ttl`` seconds after its fill; an expired entry is a miss
    and its frequency restarts, as Redis forgets a deleted key's LFU counter.
    """

    def __init__(self, capacity: int | None, policy: str = "lru", ttl: float | None = None) -> None:
        if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int)):
            raise TypeError(f"capacity must be an int or None, got {type(capacity).__name__}")
        if capacity is not None and capacity < 1:
            raise ValueError(f"capacity must be an integer >= 1 or None, got {capacity}")
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
        if ttl is not None and not (isinstance(ttl, (int, float)) and ttl > 0):
            raise ValueError(f"ttl must be a number > 0 or None, got {ttl!r}")
        self.capacity = capacity
        self.policy = policy
        self.ttl = ttl
        self.expires: dict[str, float] = {}
        self._lru: OrderedDict[str, None] = OrderedDict()
        self._freq: dict[str, int] = {}
        self._buckets: defaultdict[int, OrderedDict[str, None]] = defaultdict(OrderedDict)
        self._min_freq = 0
        self.hits = self.misses = self.evictions = 0

    def __len__(self) -> int:
        return len(self.expires)

    def access(self, key: str, now: float = 0.0) -> bool:
        expires = self.expires.get(key)
        if expires is not None and now < expires:
            self.hits += 1
            self._touch(key)
            return True
        self.misses += 1
        if expires is not None:
            self._remove(key)
        if self.capacity is not None and len(self.expires) >= self.capacity:
            self._remove(self._victim())
            self.evictions += 1
        self.expires[key] = now + self.ttl if self.ttl is not None else float("inf")
        self._add(key)
        return False

    def _touch(self, key: str) -> None:
        if self.policy == "lru":
            self._lru.move_to_end(key)
            return
        freq = self._freq[key]
        del self._buckets[freq][key]
        if not self._buckets[freq]:
            del self._buckets[freq]
            if self._min_freq == freq:
                self._min_freq = freq + 1
        self._freq[key] = freq + 1
        self._buckets[freq + 1][key] = None

    def _add(self, key: str) -> None:
        if self.policy == "lru":
            self._lru[key] = None
        else:
            self._freq[key] = 1
            self._buckets[1][key] = None
            self._min_freq = 1

    def _victim(self) -> str:
        if self.policy == "lru":
            return next(iter(self._lru))
        if self._min_freq not in self._buckets:  # after removals the minimum may have moved
            self._min_freq = min(self._buckets)
        return next(iter(self._buckets[self._min_freq]))

    def _remove(self, key: str) -> None:
        del self.expires[key]
        if self.policy == "lru":
            del self._lru[key]
            return
        freq = self._freq.pop(key)
        del self._buckets[freq][key]
        if not self._buckets[freq]:
            del self._buckets[freq]

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


def simulate_hit_ratio(
    keys: Iterable[str], *, interval: float = 0.01, ttl: float | None = None, capacity: int | None = None,
    policy: str = "lru",
) -> float:
    """Replay ``keys`` one every ``interval`` seconds through a ``SimulatedCache``; the hit ratio."""
    cache = SimulatedCache(capacity, policy, ttl)
    for i, key in enumerate(keys):
        cache.access(key, i * interval)
    return cache.hit_ratio
