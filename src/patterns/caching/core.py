"""Entries in Redis whose expiry is judged on the injected clock, guarded by leases.

Why not rely on Redis's own TTL? Redis expires keys on the *server's* wall clock. Labs and tests
run on a ``ManualClock`` that jumps an hour in a microsecond, so a Redis TTL would never fire (or
fire at the wrong moment) and "the entry expires after exactly 30 s" could not be shown or tested.
So every entry carries its own ``expires_at`` in the injected clock's time base and a read past that
instant is a miss. Redis still gets an expiry of ``ttl + safety_margin`` seconds (wall time) as a
safety net, so a key that nobody reads again is eventually reclaimed and never lives forever.

Every process sharing one cache must share the clock's time base: ``ManualClock`` in a lab,
``WallClock`` (epoch seconds) in production. ``SystemClock`` is monotonic and per-process, so it
is the wrong choice for a cache shared by several servers.

Leases (after Nishtala et al., "Scaling Memcache at Facebook", NSDI 2013): each key has a
generation counter. A filler takes ``token(key)`` *before* reading the source and its write lands
only if the generation is unchanged; every landed write and every invalidation bumps it. So a fill
computed from data older than a concurrent invalidation is refused instead of resurrecting stale
data for a whole TTL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import msgpack

from patterns.clock import Clock, WallClock

__all__ = ["Entry", "RedisEntries", "WallClock", "check_ttl", "check_value"]

_GUARDED_SET = """
local gen = redis.call('GET', KEYS[2]) or '0'
if ARGV[3] ~= '' and gen ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

_INVALIDATE = """
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
"""


@dataclass(frozen=True)
class Entry:
    """A cached value with its logical expiry and how long it took to compute (for XFetch)."""

    value: Any
    expires_at: float
    delta: float


def check_ttl(ttl: object, name: str = "ttl") -> float:
    """Validate a TTL: a finite number of seconds > 0."""
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(ttl).__name__}")
    if not math.isfinite(ttl) or ttl <= 0:
        raise ValueError(f"{name} must be a finite number of seconds > 0, got {ttl!r}")
    return float(ttl)


def check_value(value: Any) -> bytes:
    """Encode ``value`` as msgpack, or raise ``TypeError`` saying what can be cached.

    Writers call this *before* touching the store, so an uncachable value cannot leave the store
    updated and the cache behind.
    """
    try:
        return msgpack.packb(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(
            "value must be msgpack-serialisable (None, bool, int in [-2**63, 2**64), float, str, bytes, "
            f"list, dict), got {type(value).__name__}: {exc}"
        ) from exc


class RedisEntries:
    """The storage layer every strategy shares: msgpack entries, clock-judged expiry, leases.

    An entry is ``[value, expires_at, delta]`` in msgpack (compact and several times faster to
    decode than JSON, which matters on the hit path). Values must be JSON-like: None, bool, numbers,
    str, bytes, lists and dicts; tuples come back as lists. ``None`` is a value like any other:
    caching "not found" protects the source from repeated lookups of absent keys. ``prefix``
    namespaces the keys of one cache.
    """

    def __init__(self, redis: Any, clock: Clock, *, prefix: str, safety_margin: float = 3600.0) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"prefix must be a non-empty string, got {prefix!r}")
        check_ttl(safety_margin, "safety_margin")
        self.redis = redis
        self.clock = clock
        self.prefix = prefix
        self.safety_margin = float(safety_margin)
        self._guarded_set = redis.register_script(_GUARDED_SET)
        self._invalidate = redis.register_script(_INVALIDATE)

    def value_key(self, key: str) -> str:
        return f"{self.prefix}v:{key}"

    def gen_key(self, key: str) -> str:
        return f"{self.prefix}g:{key}"

    def read(self, key: str) -> Entry | None:
        """The live entry for ``key``, or None if absent or past its ``expires_at``."""
        raw = self.redis.get(self.value_key(key))
        if raw is None:
            return None
        value, expires_at, delta = msgpack.unpackb(raw)
        if self.clock.now() >= expires_at:
            return None
        return Entry(value, expires_at, delta)

    def token(self, key: str) -> str:
        """The key's current lease generation; pass it to ``write`` after reading the source."""
        raw = self.redis.get(self.gen_key(key))
        return "0" if raw is None else raw.decode() if isinstance(raw, bytes) else str(raw)

    def write(self, key: str, value: Any, ttl: float, *, delta: float = 0.0, token: str | None = None) -> bool:
        """Store ``value`` for ``ttl`` seconds of clock time; False if the lease ``token`` is stale.

        ``token=None`` writes unconditionally (the writer owns the key). Either way a landed write
        bumps the generation, so older in-flight fills are refused.
        """
        ttl = check_ttl(ttl)
        check_value(value)
        payload = msgpack.packb([value, self.clock.now() + ttl, float(delta)])
        px = self._safety_px(ttl)
        done = self._guarded_set(
            keys=[self.value_key(key), self.gen_key(key)], args=[payload, px, "" if token is None else token]
        )
        return bool(done)

    def invalidate(self, key: str) -> bool:
        """Delete the entry and bump the generation; True if an entry was there."""
        deleted = self._invalidate(keys=[self.value_key(key), self.gen_key(key)], args=[self._safety_px(0.0)])
        return bool(deleted)

    def _safety_px(self, ttl: float) -> int:
        return max(1, math.ceil((ttl + self.safety_margin) * 1000))

    def redis_ttl_ms(self, key: str) -> int:
        """Redis's own remaining TTL for the entry (the safety net), in ms; -2 if absent."""
        return int(self.redis.pttl(self.value_key(key)))
