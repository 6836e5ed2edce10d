"""Entries in Redis whose expiry is judged on the injected clock, guarded by leases.

Why not rely on Redis's own TTL? Redis expires keys on the *server's* wall clock. Labs and tests
run on a ``ManualClock`` that jumps an hour in a microsecond, so a Redis TTL would never fire (or
fire at the wrong moment) and "the entry expires after exactly 30 s" could not be shown or tested.
So every entry carries its own ``expires_at`` in the injected clock's time base and a read past that
instant is a miss. Redis still gets an expiry of ``ttl + safety_margin`` seconds (wall time) as a
safety net, so a key that nobody reads again is eventually reclaimed and never lives forever.

Which clock: every process sharing one cache must share the clock's time base, so the caches
default to ``WallClock`` (epoch seconds, the same on every server given NTP). ``SystemClock`` is
monotonic but counts from each machine's boot: two servers would disagree about when an entry
expires. Labs and tests pass a ``ManualClock``.

Leases (after Nishtala et al., "Scaling Memcache at Facebook", NSDI 2013): each key has a
generation counter. A filler takes ``token(key)`` *before* reading the source and its write lands
only if the generation is unchanged; every landed write and every invalidation bumps it. So a fill
computed from data older than a concurrent invalidation is refused instead of resurrecting stale
data for a whole TTL.

Keys: ``<namespace>:<component>:{<key>}`` holds the entry and ``...:{<key>}:gen`` its generation.
The braces are a Redis Cluster hash tag, so the two keys each script touches share a slot. Every
multi-key step is one Lua script; where Lua is unavailable (fakeredis in the browser, see
``patterns.compat``) the same step runs as a ``WATCH``/``MULTI`` transaction in Python, with the
same results. A Redis that cannot be reached raises ``patterns.errors.BackendUnavailable``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NoReturn

import msgpack

from patterns import compat, infra
from patterns._validate import require_instance, require_seconds
from patterns.clock import Clock, WallClock
from patterns.keys import KeySpace

__all__ = ["Entry", "RedisEntries", "WallClock", "encode_value", "keyspace_of", "require_redis"]

# KEYS: entry, generation. ARGV: payload, px, token ('' = unconditional). Returns 1 if written.
_GUARDED_SET = """
local gen = redis.call('GET', KEYS[2]) or '0'
if ARGV[3] ~= '' and gen ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

# KEYS: entry, generation. ARGV: px. Returns how many entries were deleted (0 or 1).
_INVALIDATE = """
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
"""

# KEYS: entry, generation. ARGV: the payload the writer put, px. Bumps the generation (refusing
# fills that started before) and deletes the entry unless it still holds exactly that payload.
# Returns 1 if an entry was deleted.
_SETTLE = """
local deleted = 0
if redis.call('GET', KEYS[1]) ~= ARGV[1] then deleted = redis.call('DEL', KEYS[1]) end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return deleted
"""


@dataclass(frozen=True)
class Entry:
    """A cached value with its logical expiry and how long it took to compute (for XFetch)."""

    value: Any
    expires_at: float
    delta: float


def encode_value(value: Any) -> bytes:
    """Encode ``value`` as msgpack, or raise ``TypeError`` saying what can be cached.

    Writers call this *before* touching the store, so an uncachable value cannot leave the store
    updated and the cache behind.
    """
    try:
        packed = msgpack.packb(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(
            "value must be msgpack-serialisable (None, bool, int in [-2**63, 2**64), float, str, bytes, "
            f"list, dict), got {type(value).__name__}: {exc}"
        ) from exc
    return bytes(packed)


def require_redis(client: object, name: str = "cache") -> Any:
    """A redis-py client (``redis.Redis``, fakeredis, ``redis.cluster.RedisCluster``), or TypeError."""
    return infra.require_redis_client(client, name)


def keyspace_of(prefix: object, name: str = "prefix") -> KeySpace:
    """``prefix`` as a ``KeySpace``: a string becomes ``KeySpace.of(prefix)`` in this process's
    namespace; a ``KeySpace`` is used as given (e.g. one built with an explicit ``ns=``)."""
    if isinstance(prefix, KeySpace):
        return prefix
    if not isinstance(prefix, str):
        raise TypeError(f"{name} must be a string or a KeySpace, got {type(prefix).__name__}")
    if not prefix.rstrip(":") or "{" in prefix or "}" in prefix:
        raise ValueError(f"{name} must be a non-empty string without braces, got {prefix!r}")
    return KeySpace.of(prefix)


def _reraise(exc: Exception, action: str) -> NoReturn:
    """Raise ``exc`` again through ``infra.redis_errors``: an unreachable server becomes
    ``BackendUnavailable``, anything else passes through unchanged. (A plain ``try`` on the hit
    path costs nothing until something fails; a context manager costs a microsecond per call.)"""
    with infra.redis_errors(action=action):
        raise exc
    raise AssertionError("unreachable")  # pragma: no cover


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class RedisEntries:
    """The storage layer every strategy shares: msgpack entries, clock-judged expiry, leases.

    An entry is ``[value, expires_at, delta]`` in msgpack (compact and several times faster to
    decode than JSON, which matters on the hit path). Values must be JSON-like: None, bool, numbers,
    str, bytes, lists and dicts; tuples come back as lists. ``None`` is a value like any other:
    caching "not found" protects the source from repeated lookups of absent keys. ``keys`` is the
    ``KeySpace`` of one cache (namespaced, so learners sharing a Redis never read each other's).
    """

    def __init__(
        self, redis: Any, clock: Clock, *, keys: KeySpace | str, safety_margin: float = 3600.0
    ) -> None:
        self.redis = require_redis(redis)
        self.clock: Clock = require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
        self.keys = keyspace_of(keys, "keys")
        self.safety_margin = require_seconds(safety_margin, "safety_margin")
        self.lua = compat.lua_available(redis)
        if self.lua:
            self._guarded_set = redis.register_script(_GUARDED_SET)
            self._invalidate = redis.register_script(_INVALIDATE)
            self._settle = redis.register_script(_SETTLE)

    def value_key(self, key: str) -> str:
        return self.keys.key(key)

    def gen_key(self, key: str) -> str:
        return self.keys.key(key, "gen")

    def read(self, key: str) -> Entry | None:
        """The live entry for ``key``, or None if absent or past its ``expires_at``."""
        try:
            raw = self.redis.get(self.value_key(key))
        except Exception as exc:
            _reraise(exc, "read the cache from")
        if raw is None:
            return None
        value, expires_at, delta = msgpack.unpackb(raw)
        if self.clock.now() >= expires_at:
            return None
        return Entry(value, expires_at, delta)

    def token(self, key: str) -> str:
        """The key's current lease generation; pass it to ``write`` after reading the source."""
        try:
            raw = self.redis.get(self.gen_key(key))
        except Exception as exc:
            _reraise(exc, "read a lease from")
        return "0" if raw is None else _text(raw)

    def payload(self, value: Any, ttl: float, delta: float = 0.0) -> bytes:
        """The stored bytes of an entry holding ``value`` for ``ttl`` seconds from now."""
        ttl = require_seconds(ttl, "ttl")
        encode_value(value)
        return bytes(msgpack.packb([value, self.clock.now() + ttl, float(delta)]))

    def write(self, key: str, value: Any, ttl: float, *, delta: float = 0.0, token: str | None = None) -> bool:
        """Store ``value`` for ``ttl`` seconds of clock time; False if the lease ``token`` is stale.

        ``token=None`` writes unconditionally (the writer owns the key). Either way a landed write
        bumps the generation, so older in-flight fills are refused.
        """
        return self.write_payload(key, self.payload(value, ttl, delta), ttl, token=token)

    def write_payload(self, key: str, payload: bytes, ttl: float, *, token: str | None = None) -> bool:
        """``write`` with the bytes from ``payload`` (a writer that must recognise its entry later)."""
        keys = [self.value_key(key), self.gen_key(key)]
        args: list[Any] = [payload, self._safety_px(ttl), "" if token is None else token]
        with infra.redis_errors(action="write the cache on"):
            done = self._guarded_set(keys=keys, args=args) if self.lua else self._guarded_set_py(keys, args)
        return bool(done)

    def invalidate(self, key: str) -> bool:
        """Delete the entry and bump the generation; True if an entry was there."""
        keys, args = [self.value_key(key), self.gen_key(key)], [self._safety_px(0.0)]
        with infra.redis_errors(action="invalidate the cache on"):
            deleted = self._invalidate(keys=keys, args=args) if self.lua else self._invalidate_py(keys, args)
        return bool(deleted)

    def settle(self, key: str, payload: bytes, ttl: float) -> bool:
        """After the source of truth took a write: refuse every fill that started before it (bump the
        generation) and drop the entry unless it still holds ``payload``. True if one was dropped."""
        keys, args = [self.value_key(key), self.gen_key(key)], [payload, self._safety_px(ttl)]
        with infra.redis_errors(action="settle the cache on"):
            deleted = self._settle(keys=keys, args=args) if self.lua else self._settle_py(keys, args)
        return bool(deleted)

    def clear(self) -> int:
        """Delete every key of this cache's ``KeySpace`` (SCAN + DEL, glob-safe); returns the count."""
        with infra.redis_errors(action="clear the cache on"):
            return self.keys.clear(self.redis)

    def _safety_px(self, ttl: float) -> int:
        return max(1, math.ceil((ttl + self.safety_margin) * 1000))

    def redis_ttl_ms(self, key: str) -> int:
        """Redis's own remaining TTL for the entry (the safety net), in ms; -2 if absent."""
        with infra.redis_errors(action="read a TTL from"):
            return int(self.redis.pttl(self.value_key(key)))

    # --- the same three steps without Lua: optimistic WATCH/MULTI transactions ----------------

    def _guarded_set_py(self, keys: list[str], args: list[Any]) -> int:
        payload, px, token = args

        def step(pipe: Any) -> int:
            gen = pipe.get(keys[1])
            if token != "" and ("0" if gen is None else _text(gen)) != token:
                return 0
            pipe.multi()
            pipe.set(keys[0], payload, px=px)
            pipe.incr(keys[1])
            pipe.pexpire(keys[1], px)
            return 1

        return int(self.redis.transaction(step, *keys, value_from_callable=True))

    def _invalidate_py(self, keys: list[str], args: list[Any]) -> int:
        def step(pipe: Any) -> None:
            pipe.multi()
            pipe.incr(keys[1])
            pipe.pexpire(keys[1], args[0])
            pipe.delete(keys[0])

        results = self.redis.transaction(step, *keys)
        return int(results[-1])

    def _settle_py(self, keys: list[str], args: list[Any]) -> int:
        payload, px = args

        def step(pipe: Any) -> None:
            stale = pipe.get(keys[0]) != payload
            pipe.multi()
            if stale:
                pipe.delete(keys[0])
            pipe.incr(keys[1])
            pipe.pexpire(keys[1], px)

        results = self.redis.transaction(step, *keys)
        return int(results[0]) if len(results) == 3 else 0
