"""Unit tests: write-behind batching, coalescing, read-your-writes, crash, failed flush."""

from __future__ import annotations

import pytest

from patterns import infra
from patterns.caching import SlowStore, WriteBehind
from patterns.clock import ManualClock


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
    for i, key in enumerate("defgh"):
        cache._pending[key] = i  # fill past the batch size without ticking
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
    cache = WriteBehind(infra.redis_client(url="", fresh=True), store, ttl=30, flush_every=5, batch_size=2)
    for key in "ab":
        cache._pending[key] = key
    cache._pending["c"] = "c"
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
        ("batch_size", 0, ValueError, "batch_size must be an integer >= 1"),
        ("batch_size", 2.5, TypeError, "batch_size must be an int"),
    ],
)
def test_bad_arguments(clock, name, value, error, words):
    store = SlowStore(clock)
    with pytest.raises(error, match=words):
        WriteBehind(infra.redis_client(url="", fresh=True), store, ttl=30, **{name: value})
