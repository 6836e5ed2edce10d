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
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from typing import Any

from patterns.caching.core import RedisEntries, WallClock, check_ttl, check_value
from patterns.caching.invalidation import VersionedKeys
from patterns.caching.stampede import SingleFlight, XFetch
from patterns.caching.stats import CacheStats
from patterns.caching.store import SlowStore
from patterns.clock import Clock

__all__ = ["CacheAside", "ReadThrough", "WriteThrough", "WriteBehind"]


class CacheAside:
    """Lazy loading: ``get`` serves hits from Redis, loads misses with ``loader(key)`` and fills.

    Guarantees: an entry is never served at or after ``ttl`` seconds (clock time) from its fill;
    with ``jitter=j`` each fill's TTL is drawn uniformly from ``[ttl*(1-j), ttl]``, so synchronized
    expiries spread out without ever exceeding ``ttl``. With ``single_flight`` concurrent misses
    for one key in this process cause one load. With ``lease`` a fill that started before an
    ``invalidate`` is refused, so a slow reader cannot put back a value a writer just replaced.
    Not guaranteed: freshness between a source write and its ``invalidate`` (readers may see the
    old value in that window), or anything across processes without ``lease``.
    """

    def __init__(
        self,
        cache: Any,
        loader: Callable[[str], Any],
        ttl: float,
        clock: Clock | None = None,
        *,
        prefix: str = "aside:",
        jitter: float = 0.0,
        rng: random.Random | None = None,
        lease: bool = True,
        single_flight: bool = True,
        xfetch: XFetch | None = None,
        versions: VersionedKeys | None = None,
        audit: Callable[[str, Any], bool] | None = None,
        safety_margin: float = 3600.0,
    ) -> None:
        if not callable(loader):
            raise TypeError(f"loader must be callable, got {type(loader).__name__}")
        self.ttl = check_ttl(ttl)
        if isinstance(jitter, bool) or not isinstance(jitter, (int, float)):
            raise TypeError(f"jitter must be a number, got {type(jitter).__name__}")
        if not (math.isfinite(jitter) and 0.0 <= jitter < 1.0):
            raise ValueError(f"jitter must be in [0, 1), got {jitter!r}")
        if xfetch is not None and not isinstance(xfetch, XFetch):
            raise TypeError(f"xfetch must be an XFetch or None, got {type(xfetch).__name__}")
        if versions is not None and not isinstance(versions, VersionedKeys):
            raise TypeError(f"versions must be a VersionedKeys or None, got {type(versions).__name__}")
        if cache is None:
            from patterns.infra import redis_client

            cache = redis_client()
        self.clock: Clock = clock if clock is not None else WallClock()
        self.entries = RedisEntries(cache, self.clock, prefix=prefix, safety_margin=safety_margin)
        self.loader = loader
        self.jitter = float(jitter)
        self.rng = rng if rng is not None else random.Random(0)
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
        skey = self._storage_key(key)
        entry = self.entries.read(skey)
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

    def _fill(self, key: str, skey: str, *, recheck: bool) -> Any:
        def load() -> Any:
            if recheck:  # another flight may have filled it since our miss
                entry = self.entries.read(skey)
                if entry is not None:
                    return entry.value
            token = self.entries.token(skey) if self.lease else None
            start = self.clock.now()
            value = self.loader(key)
            delta = self.clock.now() - start
            self.stats.add("loads")
            if not self.entries.write(skey, value, self._fill_ttl(), delta=delta, token=token):
                self.stats.add("refused_fills")
            return value

        return load() if self.flight is None else self.flight.do(skey, load)

    def invalidate(self, key: str) -> None:
        """Make the next ``get`` reload: delete the entry, or bump its version with ``versions``."""
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
        kw.setdefault("prefix", "read:")
        self.store = store
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
    """

    def __init__(self, cache: Any, store: SlowStore, ttl: float, clock: Clock | None = None, **kw: Any) -> None:
        kw.setdefault("prefix", "through:")
        super().__init__(cache, store, ttl, clock, **kw)

    def put(self, key: str, value: Any) -> None:
        check_value(value)  # before the store: an uncachable value must not half-succeed
        skey = self._storage_key(key)
        token = self.entries.token(skey)
        self.store.put(key, value)
        if not self.entries.write(skey, value, self._fill_ttl(), token=token):
            self.entries.invalidate(skey)


class WriteBehind(ReadThrough):
    """Writes land in the cache at once and reach the store later, in batches (write-back).

    A flush runs when ``flush_every`` clock seconds have passed since the last one (checked on each
    ``put`` and ``tick``) or when ``batch_size`` keys are pending; each batch costs the store one
    query, and repeated writes to a key coalesce into one row write. Reads see pending writes
    (read-your-writes) even if the cache entry expired. Not guaranteed: durability. ``crash()``
    drops the pending buffer as a process crash would and returns what was lost.
    """

    def __init__(
        self, cache: Any, store: SlowStore, ttl: float, clock: Clock | None = None, *,
        flush_every: float = 1.0, batch_size: int = 100, **kw: Any,
    ) -> None:
        self.flush_every = check_ttl(flush_every, "flush_every")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size}")
        self.batch_size = batch_size
        kw.setdefault("prefix", "behind:")
        super().__init__(cache, store, ttl, clock, **kw)
        self._pending: dict[str, Any] = {}
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._last_flush = self.clock.now()
        self.flushes = 0
        self.rows_flushed = 0

    def _load(self, key: str) -> Any:
        with self._pending_lock:
            if key in self._pending:
                return self._pending[key]
        return self.store.get(key)

    @property
    def pending(self) -> int:
        """How many keys have writes not yet in the store."""
        with self._pending_lock:
            return len(self._pending)

    def put(self, key: str, value: Any) -> None:
        check_value(value)
        skey = self._storage_key(key)
        with self._pending_lock:
            self._pending.pop(key, None)  # re-insert: keeps flush order = order of last write
            self._pending[key] = value
        self.entries.write(skey, value, self._fill_ttl())
        self.tick()

    def tick(self) -> int:
        """Flush if the interval has passed or the buffer is full; returns rows flushed."""
        due = self.clock.now() - self._last_flush >= self.flush_every or self.pending >= self.batch_size
        return self.flush() if due else 0

    def flush(self) -> int:
        """Write every pending key to the store in batches of ``batch_size``; returns rows written."""
        with self._flush_lock:
            with self._pending_lock:
                items = list(self._pending.items())
                self._pending.clear()
            written = 0
            try:
                for start in range(0, len(items), self.batch_size):
                    self.store.put_many(items[start : start + self.batch_size])
                    written = start + len(items[start : start + self.batch_size])
            except BaseException:
                with self._pending_lock:  # put back what did not land, unless rewritten since
                    for key, value in items[written:]:
                        self._pending.setdefault(key, value)
                raise
            finally:
                self._last_flush = self.clock.now()
            self.flushes += 1 if items else 0
            self.rows_flushed += written
            return written

    def crash(self) -> dict[str, Any]:
        """Simulate the process dying: drop the unflushed writes and return them (key -> value)."""
        with self._pending_lock:
            lost = dict(self._pending)
            self._pending.clear()
        return lost
