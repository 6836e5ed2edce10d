"""Unit tests: write-behind batching, coalescing, read-your-writes, crash, failed flush."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import fakeredis
import pytest

from patterns import infra
from patterns.caching import ReadThrough, SlowStore, WriteBehind
from patterns.clock import ManualClock
from patterns.errors import BackendUnavailable
from tests.helpers import LONG


@pytest.fixture
def setup(clock: ManualClock):
    store = SlowStore(clock, query_cost=0.0)
    cache = WriteBehind(infra.redis_client(url="", fresh=True), store, ttl=30, flush_every=5, batch_size=3)
    return cache, store


def test_writes_are_deferred_until_the_interval(setup, clock):
    cache, store = setup
    cache.put("a", 1)
    cache.put("b", 2)
    assert store.peek("a") is None and cache.pending == 2
    assert cache.get("a") == 1  # the cache already has it
    clock.advance(5)
    assert cache.tick() == 2
    assert store.peek("a") == 1 and store.peek("b") == 2 and cache.pending == 0
    assert (cache.flushes, cache.rows_flushed) == (1, 2)
    clock.advance(5)
    assert cache.tick() == 0 and cache.flushes == 1 and store.writes == 1  # nothing pending: no query


def test_full_buffer_flushes_in_batches_of_batch_size(setup, clock):
    cache, store = setup
    for key in "abc":
        cache.put(key, key)
    assert cache.pending == 0 and store.writes == 1  # three keys, one batch, one query
    cache.batch_size = 1_000  # fill past the batch size without ticking
    for i, key in enumerate("defgh"):
        cache.put(key, i)
    cache.batch_size = 3
    assert cache.flush() == 5
    assert store.writes == 3  # batches of 3 + 2


def test_repeated_writes_coalesce(setup, clock):
    cache, store = setup
    for value in range(10):
        cache.put("hot", value)
    assert cache.pending == 1
    cache.flush()
    assert store.peek("hot") == 9 and store.writes == 1


def test_reads_see_pending_writes_after_the_entry_expired(setup, clock):
    cache, store = setup
    store.seed([("k", "old")])
    cache.flush_every = 1000.0
    cache.put("k", "new")
    clock.advance(31)  # cache entry expired, not flushed yet
    assert cache.get("k") == "new"


def test_crash_loses_exactly_the_unflushed_writes(setup, clock):
    cache, store = setup
    cache.put("a", 1)
    clock.advance(5)
    cache.put("b", 2)  # triggers a flush of a and b
    cache.put("c", 3)
    cache.put("d", 4)
    lost = cache.crash()
    assert lost == {"c": 3, "d": 4}
    assert cache.pending == 0
    assert [store.peek(k) for k in "abcd"] == [1, 2, None, None]


def test_failed_flush_keeps_the_writes(clock):
    store = SlowStore(clock, query_cost=0.0)
    cache = WriteBehind(infra.redis_client(url="", fresh=True), store, ttl=30, flush_every=5, batch_size=10)
    for key in "abc":
        cache.put(key, key)
    cache.batch_size = 2
    real = store.put_many
    calls = []

    def flaky(items):
        calls.append(items)
        if len(calls) == 2:
            raise ConnectionError("db down")
        return real(items)

    store.put_many = flaky
    with pytest.raises(ConnectionError):
        cache.flush()
    assert cache.pending == 1 and store.peek("a") == "a"
    store.put_many = real
    assert cache.flush() == 1
    assert store.peek("c") == "c"


@pytest.mark.parametrize(
    ("name", "value", "error", "words"),
    [
        ("flush_every", 0, ValueError, "flush_every must be"),
        ("batch_size", 0, ValueError, "batch_size must be an integer in [1, "),
        ("batch_size", 2.5, TypeError, "batch_size must be an integer"),
        ("flush_every", float("inf"), ValueError, "flush_every must be"),
        ("ttl", 1e300, ValueError, "ttl must be"),
    ],
)
def test_bad_arguments(clock, name, value, error, words):
    store = SlowStore(clock)
    with pytest.raises(error, match=re.escape(words)):
        WriteBehind(infra.redis_client(url="", fresh=True), store, **{"ttl": 30, name: value})


def _block_put_many(store: SlowStore) -> tuple[threading.Event, threading.Event, Callable[[], None]]:
    """Make the store's next ``put_many`` wait (inside ``flush``) until released."""
    entered, release = threading.Event(), threading.Event()
    real = store.put_many

    def blocking(items: Any) -> dict[str, int]:
        entered.set()
        assert release.wait(LONG), "the test never released the store write"
        return real(items)

    store.put_many = blocking  # type: ignore[method-assign]

    def restore() -> None:
        store.put_many = real  # type: ignore[method-assign]

    return entered, release, restore


def test_a_read_during_a_flush_never_caches_the_old_value(clock):
    """Issue 20 (1): put v2, let the entry expire, block the store write inside flush() on a
    thread, read, release. The read must see v2, and the cache must keep answering v2 after the
    flush (on the old code it answered v1 until the entry's TTL ran out)."""
    store = SlowStore(clock, query_cost=0.0)
    store.seed([("k", "v1")])
    cache = WriteBehind(infra.redis_client(url="", fresh=True), store, ttl=30, flush_every=1000)
    assert cache.get("k") == "v1"
    cache.put("k", "v2")
    clock.advance(31)  # the cached v2 expired; v2 is only in the write buffer
    entered, release, restore = _block_put_many(store)
    flusher = threading.Thread(target=cache.flush)
    flusher.start()
    assert entered.wait(LONG)
    during = cache.get("k")
    release.set()
    flusher.join(LONG)
    restore()
    assert store.peek("k") == "v2"
    after = [cache.get("k") for _ in range(3)]
    clock.advance(10)  # well inside a TTL of the fill made during the flush
    after.append(cache.get("k"))
    assert (during, after) == ("v2", ["v2"] * 4)
    assert cache.pending == 0


def test_a_stale_fill_from_another_process_is_dropped_when_the_flush_lands(clock):
    """A second app server (no view of this one's write buffer) reads the store while a flush is
    writing it and fills the old value; when the batch lands, the flush drops that entry."""
    redis = infra.redis_client(url="", fresh=True)
    store = SlowStore(clock, query_cost=0.0)
    store.seed([("k", "v1")])
    writer = WriteBehind(redis, store, ttl=30, flush_every=1000)
    other = ReadThrough(redis, store, ttl=30, prefix="behind")  # same keys, another process
    writer.put("k", "v2")
    clock.advance(31)
    entered, release, restore = _block_put_many(store)
    flusher = threading.Thread(target=writer.flush)
    flusher.start()
    assert entered.wait(LONG)
    assert other.get("k") == "v1"  # the store does not have v2 yet: write-behind's known lag
    release.set()
    flusher.join(LONG)
    restore()
    assert other.get("k") == "v2" and writer.get("k") == "v2"


def test_a_fill_that_took_its_lease_before_the_flush_landed_is_refused(clock):
    redis = infra.redis_client(url="", fresh=True)
    store = SlowStore(clock, query_cost=0.0)
    store.seed([("k", "v1")])
    writer = WriteBehind(redis, store, ttl=30, flush_every=1000)
    writer.put("k", "v2")
    clock.advance(31)
    token = writer.entries.token("k")  # a reader takes its lease, then reads the store (v1)...
    writer.flush()  # ...the batch lands...
    assert not writer.entries.write("k", "v1", 30, token=token)  # ...and its fill is refused
    assert writer.get("k") == "v2"


def test_a_put_that_raised_is_never_flushed_later(clock):
    server = fakeredis.FakeServer()
    store = SlowStore(clock, query_cost=0.0)
    cache = WriteBehind(fakeredis.FakeRedis(server=server), store, ttl=30, flush_every=1000)
    server.connected = False
    with pytest.raises(BackendUnavailable):
        cache.put("k", "lost")
    assert cache.pending == 0
    server.connected = True
    cache.flush()
    assert store.peek("k") is None and cache.get("k") is None
