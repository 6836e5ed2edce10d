"""Invalidation beyond delete-on-write: versioned keys and change events.

* Delete-on-write is ``CacheAside.invalidate(key)``: the writer updates the source, then deletes
  the entry (and bumps its lease generation, see ``core``).
* ``VersionedKeys``: the cache key embeds a version (``item:42@7``). A write bumps the version, so
  readers move to a fresh key and the old entry is simply never read again (it ages out). Nothing
  is deleted, which also defeats the stale-set race: a slow reader's late fill lands on the old
  version's key, which nobody reads any more.
* ``EventInvalidator``: a callback a broker (or the outbox of chapter 2) calls with change events;
  every subscribed cache invalidates the keys the event names. Handling is idempotent, so
  redelivered or duplicated events are harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from patterns._validate import require_callable, require_mapping, require_seconds
from patterns.caching.core import keyspace_of, require_redis
from patterns.infra import redis_errors
from patterns.keys import KeySpace

__all__ = ["VersionedKeys", "EventInvalidator", "Invalidatable"]


class VersionedKeys:
    """A version counter per key in Redis; ``storage_key(key)`` is ``key@version``.

    Counters are metadata that must outlive every entry written under them (a counter that vanished
    would restart at 0 and could resurrect an old ``key@0`` entry), so each access refreshes their
    Redis expiry to ``counter_ttl`` seconds; keep it above the caches' ``ttl + safety_margin``.
    Counters live in the ``KeySpace`` named by ``prefix`` (namespaced, one hash tag per key).
    """

    def __init__(self, redis: Any, *, prefix: str | KeySpace = "ver", counter_ttl: float = 7 * 86400.0) -> None:
        self.redis = require_redis(redis, "redis")
        self.keys = keyspace_of(prefix)
        self.counter_ttl = require_seconds(counter_ttl, "counter_ttl")
        self._px = int(self.counter_ttl * 1000)

    def counter_key(self, key: str) -> str:
        """The Redis key of ``key``'s version counter."""
        return self.keys.key(key)

    def current(self, key: str) -> int:
        with redis_errors(action="read a version from"):
            raw = self.redis.getex(self.counter_key(key), px=self._px)
        return 0 if raw is None else int(raw)

    def bump(self, key: str) -> int:
        """Move ``key`` to a new version (the old entry becomes unreachable); returns it."""
        with redis_errors(action="bump a version on"):
            pipe = self.redis.pipeline(transaction=True)
            pipe.incr(self.counter_key(key))
            pipe.pexpire(self.counter_key(key), self._px)
            return int(pipe.execute()[0])

    def clear(self) -> int:
        """Delete every counter of this ``KeySpace`` (glob-safe); returns how many."""
        with redis_errors(action="clear versions on"):
            return self.keys.clear(self.redis)

    def storage_key(self, key: str, version: int | None = None) -> str:
        return f"{key}@{self.current(key) if version is None else version}"


class Invalidatable(Protocol):
    def invalidate(self, key: str) -> None: ...


def _key_from_event(event: Mapping[str, Any]) -> Any:
    return event.get("key")


class EventInvalidator:
    """Fan change events out to caches as invalidations. ``handle`` is the broker callback.

    ``key_of(event)`` names the affected key(s): a string, an iterable of strings, or None for
    events that touch nothing cached. Default: ``event["key"]``.
    """

    def __init__(self, key_of: Callable[[Mapping[str, Any]], Any] = _key_from_event) -> None:
        self.key_of = require_callable(key_of, "key_of")
        self.caches: list[Invalidatable] = []
        self.events = 0
        self.invalidations = 0

    def subscribe(self, cache: Invalidatable) -> None:
        if not callable(getattr(cache, "invalidate", None)):
            raise TypeError(f"cache must have an invalidate(key) method, got {type(cache).__name__}")
        self.caches.append(cache)

    def handle(self, event: Mapping[str, Any]) -> list[str]:
        """Invalidate the event's keys in every subscribed cache; returns the keys."""
        require_mapping(event, "event")
        named = self.key_of(event)
        keys: list[str] = [] if named is None else [named] if isinstance(named, str) else list(named)
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"key_of must return str keys, got {type(key).__name__}")
            for cache in self.caches:
                cache.invalidate(key)
                self.invalidations += 1
        self.events += 1
        return keys

    __call__ = handle
