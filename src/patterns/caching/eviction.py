"""Bounded caches for simulation: LRU and LFU with TTL, in memory, fast enough for sweeps.

Redis evicts under ``maxmemory`` with a ``maxmemory-policy`` such as ``allkeys-lru`` or
``allkeys-lfu`` (both approximated by sampling). These exact versions let a lab sweep cache size,
TTL and skew over tens of thousands of requests in milliseconds; a test checks that with unbounded
capacity the simulator counts the same hits as ``CacheAside`` on Redis.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque
from collections.abc import Iterable

from patterns._validate import (
    require_instance,
    require_int,
    require_number,
    require_one_of,
    require_optional_seconds,
)

__all__ = ["SimulatedCache", "simulate_hit_ratio"]

POLICIES = ("lru", "lfu")


class SimulatedCache:
    """``access(key, now)`` returns True on a hit; a miss fills the key (evicting if full).

    LRU evicts the least recently used key; LFU the least frequently used (ties: least recently
    used among them). An entry expires ``ttl`` seconds after its fill; an expired entry is a miss
    and its frequency restarts, as Redis forgets a deleted key's LFU counter. Expired entries are
    purged as time passes (``expired`` counts them), as Redis's active expiry reclaims them: they
    never hold a slot that a live key needs, so with a TTL the policy only ever evicts live keys.
    (Without the purge, LFU keeps once-popular expired keys in its high-frequency buckets and
    evicts live keys instead: on a Zipf 0.9 workload with TTL 60 s and 200 slots the hit ratio
    drops noticeably, which is a flaw of the model, not of LFU.)

    Requests must come in time order (``now`` never decreases).
    """

    def __init__(self, capacity: int | None, policy: str = "lru", ttl: float | None = None) -> None:
        if capacity is not None:
            require_int(capacity, "capacity", minimum=1, maximum=10_000_000)
        self.capacity = capacity
        self.policy = require_one_of(policy, "policy", POLICIES)
        self.ttl = require_optional_seconds(ttl, "ttl")
        self.expires: dict[str, float] = {}
        self._lru: OrderedDict[str, None] = OrderedDict()
        self._freq: dict[str, int] = {}
        self._buckets: defaultdict[int, OrderedDict[str, None]] = defaultdict(OrderedDict)
        self._min_freq = 0
        self._fills: deque[tuple[float, str]] = deque()  # (expires, key) in fill order = expiry order
        self.hits = self.misses = self.evictions = self.expired = 0

    def __len__(self) -> int:
        return len(self.expires)

    def access(self, key: str, now: float = 0.0) -> bool:
        self._purge(now)
        expires = self.expires.get(key)
        if expires is not None and now < expires:
            self.hits += 1
            self._touch(key)
            return True
        self.misses += 1
        if self.capacity is not None and len(self.expires) >= self.capacity:
            self._remove(self._victim())
            self.evictions += 1
        self.expires[key] = now + self.ttl if self.ttl is not None else float("inf")
        if self.ttl is not None:
            self._fills.append((self.expires[key], key))
        self._add(key)
        return False

    def _purge(self, now: float) -> None:
        """Drop every entry whose expiry has passed (a constant TTL keeps fills in expiry order)."""
        fills = self._fills
        while fills and fills[0][0] <= now:
            expires, key = fills.popleft()
            if self.expires.get(key) == expires:  # not refilled since
                self._remove(key)
                self.expired += 1

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
    require_number(interval, "interval", minimum=0.0, maximum=3600.0)
    require_instance(keys, "keys", Iterable, what="an iterable of keys")
    cache = SimulatedCache(capacity, policy, ttl)
    for i, key in enumerate(keys):
        cache.access(key, i * interval)
    return cache.hit_ratio
