"""The four classic caching strategies over Redis: cache-aside, read-through, write-through,
write-behind.

They differ in who talks to the source of truth and when:

* ``CacheAside``: the application reads the cache, loads from the source on a miss and fills the
  cache; on a write it updates the source and then invalidates the entry.
* ``ReadThrough``: the same read path, but the cache owns the loader (the app only calls ``get``).
* ``WriteThrough``: a write goes to the source and then to the cache, synchronously, so a read
  after a write returns the write.
* ``WriteBehind``: a write goes to the cache at once and to the source later, in batches; fast
  writes, but a crash loses what was not flushed yet (``crash()`` shows how much).

All of them: TTL (optionally with jitter) judged on the injected clock (see ``core``), stats,
single-flight on misses, leases against the stale-set race, optional XFetch early recomputation,
optional versioned keys, and an optional ``audit(key, value) -> bool`` oracle that counts stale
reads (labs pass ``store.peek``-based checks; production code does not).

When Redis is down (``patterns.errors.BackendUnavailable``): reads fall back to the source of truth
and count it in ``stats.fallbacks`` (slower, never wrong); writes and invalidations raise, because
silently skipping them would leave a stale entry behind. ``WriteBehind.put`` raises *before*
buffering anything: a write that raised is never flushed later.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from patterns._validate import (
    require_callable,
    require_instance,
    require_int,
    require_number,
    require_seconds,
)
from patterns.caching.core import RedisEntries, WallClock, encode_value, keyspace_of, require_redis
from patterns.caching.invalidation import VersionedKeys
from patterns.caching.stampede import SingleFlight, XFetch
from patterns.caching.stats import CacheStats
from patterns.caching.store import SlowStore
from patterns.clock import Clock
from patterns.errors import BackendUnavailable
from patterns.keys import KeySpace

__all__ = ["CacheAside", "ReadThrough", "WriteThrough", "WriteBehind"]


class CacheAside:
    """Lazy loading: ``get`` serves hits from Redis, loads misses with ``loader(key)`` and fills.

    Guarantees: an entry is never served at or after ``ttl`` seconds (clock time) from its fill;
    with ``jitter=j`` each fill's TTL is drawn uniformly from ``[ttl*(1-j), ttl]``, so synchronized
    expiries spread out without ever exceeding ``ttl``. With ``single_flight`` concurrent misses
    for one key in this process cause one load. With ``lease`` a fill that started before an
    ``invalidate`` is refused, so a slow reader cannot put back a value a writer just replaced.
    If Redis cannot be reached, ``get`` asks ``loader`` directly (counted in ``stats.fallbacks``).
    Not guaranteed: freshness between a source write and its ``invalidate`` (readers may see the
    old value in that window), or anything across processes without ``lease``.

    Defaults, and why: ``clock`` is ``WallClock`` because the entries are shared by every process
    using this Redis and must be judged on a time base they all share. ``rng`` (the jitter) is a
    ``random.Random()`` seeded from the operating system, so every process draws different jitter:
    a fixed seed would give every server the same "random" expiries and bring back the
    synchronized expiry that jitter exists to break. Pass a seeded ``rng`` to reproduce a run.
    ``prefix`` names the cache's ``KeySpace`` in this process's namespace (``patterns.keys``).
    """

    def __init__(
        self,
        cache: Any,
        loader: Callable[[str], Any],
        ttl: float,
        clock: Clock | None = None,
        *,
        prefix: str | KeySpace = "aside",
        jitter: float = 0.0,
        rng: random.Random | None = None,
        lease: bool = True,
        single_flight: bool = True,
        xfetch: XFetch | None = None,
        versions: VersionedKeys | None = None,
        audit: Callable[[str, Any], bool] | None = None,
        safety_margin: float = 3600.0,
    ) -> None:
        self.loader = require_callable(loader, "loader")
        self.ttl = require_seconds(ttl, "ttl")
        self.jitter = require_number(jitter, "jitter", minimum=0.0, maximum=1.0)
        if self.jitter == 1.0:  # a fill could get a TTL of 0
            raise ValueError(f"jitter must be in [0, 1), got {jitter!r}")
        if xfetch is not None:
            require_instance(xfetch, "xfetch", XFetch, what="an XFetch or None")
        if versions is not None:
            require_instance(versions, "versions", VersionedKeys, what="a VersionedKeys or None")
        if rng is not None:
            require_instance(rng, "rng", random.Random, what="a random.Random or None")
        if audit is not None:
            require_callable(audit, "audit")
        if cache is None:
            from patterns.infra import redis_client

            cache = redis_client()
        require_redis(cache)
        if clock is not None:
            require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
        self.clock: Clock = clock if clock is not None else WallClock()
        self.entries = RedisEntries(cache, self.clock, keys=keyspace_of(prefix), safety_margin=safety_margin)
        self.rng = rng if rng is not None else random.Random()
        self.lease = bool(lease)
        self.flight = SingleFlight() if single_flight else None
        self.xfetch = xfetch
        self.versions = versions
        self.audit = audit
        self.stats = CacheStats()
        self._rng_lock = threading.Lock()

    def _storage_key(self, key: str) -> str:
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        return key if self.versions is None else self.versions.storage_key(key)

    def _fill_ttl(self) -> float:
        if not self.jitter:
            return self.ttl
        with self._rng_lock:
            u = self.rng.random()
        return self.ttl * (1.0 - self.jitter * u)

    def get(self, key: str) -> Any:
        """The value for ``key``: from the cache if live, else from the loader (then cached)."""
        try:
            skey = self._storage_key(key)
            entry = self.entries.read(skey)
        except BackendUnavailable:
            return self._fallback(key)
        if entry is not None:
            self.stats.add("hits")
            if self.xfetch is not None and self.xfetch.should_recompute(
                self.clock.now(), entry.delta, entry.expires_at
            ):
                self.stats.add("early_recomputes")
                return self._fill(key, skey, recheck=False)
            if self.audit is not None and not self.audit(key, entry.value):
                self.stats.add("stale_reads")
            return entry.value
        self.stats.add("misses")
        return self._fill(key, skey, recheck=True)

    def _fallback(self, key: str) -> Any:
        """Redis is down: serve from the source of truth (slower, never stale) and count it."""
        self.stats.add("fallbacks")
        self.stats.add("loads")
        return self.loader(key)

    def _fill(self, key: str, skey: str, *, recheck: bool) -> Any:
        def load() -> Any:
            try:
                if recheck:  # another flight may have filled it since our miss
                    entry = self.entries.read(skey)
                    if entry is not None:
                        return entry.value
                token = self.entries.token(skey) if self.lease else None
            except BackendUnavailable:
                return self._fallback(key)
            start = self.clock.now()
            value = self.loader(key)
            delta = self.clock.now() - start
            self.stats.add("loads")
            try:
                if not self.entries.write(skey, value, self._fill_ttl(), delta=delta, token=token):
                    self.stats.add("refused_fills")
            except BackendUnavailable:
                self.stats.add("fallbacks")  # served from the source, not cached
            return value

        return load() if self.flight is None else self.flight.do(skey, load)

    def clear(self) -> int:
        """Delete every entry of this cache (its ``KeySpace`` only, glob-safe); returns how many keys.

        Other caches, other learners' namespaces and the ``versions`` counters are untouched.
        """
        return self.entries.clear()

    def invalidate(self, key: str) -> None:
        """Make the next ``get`` reload: delete the entry, or bump its version with ``versions``.

        Raises ``BackendUnavailable`` if Redis cannot be reached: the caller must know that an
        entry it meant to remove may still be served (until its TTL).
        """
        if self.versions is not None:
            self.versions.bump(key)
        else:
            self.entries.invalidate(self._storage_key(key))
        self.stats.add("invalidations")


class ReadThrough(CacheAside):
    """Cache-aside's read path with the cache owning the loader: the app calls only ``get``.

    ``put`` writes the store and invalidates (write-around), so the next read loads the new row.
    """

    def __init__(self, cache: Any, store: SlowStore, ttl: float, clock: Clock | None = None, **kw: Any) -> None:
        kw.setdefault("prefix", "read")
        self.store = require_instance(store, "store", SlowStore)
        super().__init__(cache, self._load, ttl, clock if clock is not None else store.clock, **kw)

    def _load(self, key: str) -> Any:
        return self.store.get(key)

    def put(self, key: str, value: Any) -> None:
        self.store.put(key, value)
        self.invalidate(key)


class WriteThrough(ReadThrough):
    """Writes go to the store, then to the cache, before ``put`` returns.

    Guarantee: a ``get`` after a ``put`` returns that value (until a later write). Two concurrent
    writers cannot leave the cache disagreeing with the store: each takes a lease before writing
    the store, and a writer whose lease was overtaken deletes the entry instead of setting it.
    With Redis down, ``put`` raises before touching the store.
    """

    def __init__(self, cache: Any, store: SlowStore, ttl: float, clock: Clock | None = None, **kw: Any) -> None:
        kw.setdefault("prefix", "through")
        super().__init__(cache, store, ttl, clock, **kw)

    def put(self, key: str, value: Any) -> None:
        encode_value(value)  # before the store: an uncachable value must not half-succeed
        skey = self._storage_key(key)
        token = self.entries.token(skey)
        self.store.put(key, value)
        if not self.entries.write(skey, value, self._fill_ttl(), token=token):
            self.entries.invalidate(skey)


@dataclass(frozen=True)
class _Pending:
    """A write not yet in the store: the value, where it is cached, and the exact bytes cached."""

    value: Any
    skey: str
    payload: bytes
    ttl: float


class WriteBehind(ReadThrough):
    """Writes land in the cache at once and reach the store later, in batches (write-back).

    A flush runs when ``flush_every`` clock seconds have passed since the last one (checked on each
    ``put`` and ``tick``) or when ``batch_size`` keys are pending; each batch costs the store one
    query, and repeated writes to a key coalesce into one row write. Reads see pending writes
    (read-your-writes) even if the cache entry expired, including while a flush is writing them:
    a write leaves the buffer only after the store has it. When a batch lands, the flush bumps the
    lease generation of its keys and drops any entry that no longer holds the written bytes, so a
    fill that read the store before the batch landed (here or in another process) cannot keep an
    old value in the cache for a TTL.

    ``put`` writes Redis first and buffers only if that worked: if Redis is down it raises
    ``BackendUnavailable`` and the write is never flushed later (a reply lost after the server
    applied it can leave the value in the cache, not the store, until the entry's TTL).
    Not guaranteed: durability. ``crash()`` drops the pending buffer as a process crash would
    and returns what was lost.
    """

    def __init__(
        self, cache: Any, store: SlowStore, ttl: float, clock: Clock | None = None, *,
        flush_every: float = 1.0, batch_size: int = 100, **kw: Any,
    ) -> None:
        self.flush_every = require_seconds(flush_every, "flush_every")
        self.batch_size = require_int(batch_size, "batch_size", minimum=1, maximum=100_000)
        kw.setdefault("prefix", "behind")
        super().__init__(cache, store, ttl, clock, **kw)
        self._pending: dict[str, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._last_flush = self.clock.now()
        self.flushes = 0
        self.rows_flushed = 0

    def _load(self, key: str) -> Any:
        with self._pending_lock:
            if key in self._pending:
                return self._pending[key].value
        return self.store.get(key)

    @property
    def pending(self) -> int:
        """How many keys have writes not yet in the store."""
        with self._pending_lock:
            return len(self._pending)

    def pending_items(self) -> dict[str, Any]:
        """The writes not yet in the store, key -> value, in flush order."""
        with self._pending_lock:
            return {key: item.value for key, item in self._pending.items()}

    def put(self, key: str, value: Any) -> None:
        """Write ``value`` to the cache now and to the store at a later flush."""
        encode_value(value)
        skey = self._storage_key(key)
        ttl = self._fill_ttl()
        payload = self.entries.payload(value, ttl)
        self.entries.write_payload(skey, payload, ttl)  # raises BackendUnavailable: nothing buffered
        with self._pending_lock:
            self._pending.pop(key, None)  # re-insert: keeps flush order = order of last write
            self._pending[key] = _Pending(value, skey, payload, ttl)
        self.tick()

    def tick(self) -> int:
        """Flush if the interval has passed or the buffer is full; returns rows flushed."""
        due = self.clock.now() - self._last_flush >= self.flush_every or self.pending >= self.batch_size
        return self.flush() if due else 0

    def flush(self) -> int:
        """Write every pending key to the store in batches of ``batch_size``; returns rows written.

        A batch leaves the buffer only after ``store.put_many`` returned; if it raises, that batch
        and the ones after it stay pending for the next flush. If Redis fails after a batch landed,
        the rows are in the store and ``BackendUnavailable`` is raised: entries filled from the
        store before the batch landed may then be served until their TTL.
        """
        with self._flush_lock:
            with self._pending_lock:
                items = list(self._pending.items())
            written = 0
            try:
                for start in range(0, len(items), self.batch_size):
                    batch = items[start : start + self.batch_size]
                    self.store.put_many([(key, item.value) for key, item in batch])
                    written += len(batch)
                    self.rows_flushed += len(batch)
                    self._landed(batch)
            finally:
                self._last_flush = self.clock.now()
            self.flushes += 1 if items else 0
            return written

    def _landed(self, batch: list[tuple[str, _Pending]]) -> None:
        with self._pending_lock:
            for key, item in batch:
                if self._pending.get(key) is item:  # not rewritten since the snapshot
                    del self._pending[key]
        for _, item in batch:
            self.entries.settle(item.skey, item.payload, item.ttl)

    def crash(self) -> dict[str, Any]:
        """Simulate the process dying: drop the unflushed writes and return them (key -> value)."""
        with self._pending_lock:
            lost = {key: item.value for key, item in self._pending.items()}
            self._pending.clear()
        return lost
