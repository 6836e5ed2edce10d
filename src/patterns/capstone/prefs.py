"""User preferences behind a small cache-aside (the caching chapter's first pattern).

Every delivery asks "does this user accept this channel?". The answer lives in a preferences
database that is slow and shared; it changes rarely. So each worker reads through a cache-aside:
look in the cache, on a miss read the database and keep the answer for ``ttl`` seconds.
Guarantee: an answer is at most ``ttl`` seconds stale; ``invalidate(user)`` (called on a write)
makes the next read fresh. Not guaranteed: a write racing a concurrent miss can be cached stale
until the TTL ends (the classic cache-aside race, bounded by the TTL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from patterns._validate import require_instance, require_seconds
from patterns.clock import Clock

__all__ = ["PreferenceStore", "PreferenceCache"]


class PreferenceStore:
    """The source of truth: user -> channels the user has opted OUT of. Counts its reads."""

    def __init__(self, opted_out: Mapping[str, Iterable[str]] | None = None) -> None:
        self._opted_out = {user: frozenset(chs) for user, chs in (opted_out or {}).items()}
        self.reads = 0
        self._lock = threading.Lock()

    def opted_out(self, user: str) -> frozenset[str]:
        with self._lock:
            self.reads += 1
            return self._opted_out.get(user, frozenset())

    def set_opted_out(self, user: str, channels: Iterable[str]) -> None:
        with self._lock:
            self._opted_out[user] = frozenset(channels)

    def allows(self, user: str, channel: str) -> bool:
        """Ground truth without counting a read (for audits)."""
        with self._lock:
            return channel not in self._opted_out.get(user, frozenset())


class PreferenceCache:
    """Cache-aside over a ``PreferenceStore`` with a TTL on the injected clock (``ttl=0``: no cache)."""

    def __init__(self, store: PreferenceStore, *, clock: Clock, ttl: float = 60.0) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl >= 0:
            raise ValueError(f"ttl must be a number of seconds >= 0, got {ttl!r}")
        self.store = require_instance(store, "store", PreferenceStore)
        self.clock = require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
        self.ttl = require_seconds(ttl, "ttl", positive=False)  # 0 = never cache
        self._entries: dict[str, tuple[frozenset[str], float]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def allows(self, user: str, channel: str) -> bool:
        return channel not in self.opted_out(user)

    def opted_out(self, user: str) -> frozenset[str]:
        now = self.clock.now()
        with self._lock:
            entry = self._entries.get(user)
            if entry is not None and entry[1] > now:
                self.hits += 1
                return entry[0]
            self.misses += 1
        value = self.store.opted_out(user)
        if self.ttl > 0:
            with self._lock:
                self._entries[user] = (value, now + self.ttl)
        return value

    def invalidate(self, user: str) -> None:
        with self._lock:
            self._entries.pop(user, None)

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0
