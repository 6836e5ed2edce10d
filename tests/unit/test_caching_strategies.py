"""Unit tests: the four strategies, TTL, jitter, leases, versioned keys, write-behind."""

from __future__ import annotations

import math
import random
import re

import pytest

from patterns import infra
from patterns.caching import (
    CacheAside,
    ReadThrough,
    SlowStore,
    VersionedKeys,
    WriteBehind,
    WriteThrough,
    XFetch,
)
from patterns.clock import ManualClock


@pytest.fixture
def redis():
    return infra.redis_client(url="", fresh=True)


@pytest.fixture
def store(clock: ManualClock) -> SlowStore:
    db = SlowStore(clock, query_cost=0.01)
    db.seed([(f"item:{i}", i) for i in range(1, 11)])
    return db


def test_miss_loads_then_hits(redis, store, clock):
    cache = CacheAside(redis, store.get, ttl=30, clock=clock)
    assert cache.get("item:3") == 3
    assert cache.get("item:3") == 3
    assert (cache.stats.hits, cache.stats.misses, cache.stats.loads) == (1, 1, 1)
    assert store.reads == 1
    assert clock.now() == pytest.approx(0.01)  # one query's cost, the hit cost nothing


def test_ttl_is_exact_on_the_manual_clock(redis, store, clock):
    cache = CacheAside(redis, store.get, ttl=30, clock=clock)
    cache.get("item:1")
    filled_at = clock.now()
    clock.set(filled_at + 30 - 1e-6)
    cache.get("item:1")
    assert store.reads == 1
    clock.set(filled_at + 30)
    cache.get("item:1")
    assert store.reads == 2


def test_redis_safety_net_expiry_is_set(redis, store, clock):
    cache = CacheAside(redis, store.get, ttl=30, clock=clock, safety_margin=60)
    cache.get("item:1")
    pttl = cache.entries.redis_ttl_ms("item:1")
    assert 0 < pttl <= 90_000
    assert pttl > 60_000


def test_absent_rows_are_cached_as_none(redis, store, clock):
    cache = CacheAside(redis, store.get, ttl=30, clock=clock)
    assert cache.get("nope") is None
    assert cache.get("nope") is None
    assert store.reads == 1


def test_invalidate_forces_a_reload(redis, store, clock):
    cache = CacheAside(redis, store.get, ttl=30, clock=clock)
    cache.get("item:2")
    store.put("item:2", 200)
    assert cache.get("item:2") == 2  # stale until invalidated: cache-aside does not see writes
    cache.invalidate("item:2")
    assert cache.get("item:2") == 200
    assert cache.stats.invalidations == 1


def test_audit_counts_stale_reads(redis, store, clock):
    cache = CacheAside(redis, store.get, ttl=30, clock=clock, audit=lambda k, v: v == store.peek(k))
    cache.get("item:2")
    store.put("item:2", 200)
    cache.get("item:2")
    cache.get("item:2")
    assert cache.stats.stale_reads == 2


def test_jitter_shortens_ttl_within_bounds(redis, store, clock):
    cache = CacheAside(redis, store.get, ttl=100, clock=clock, jitter=0.2, rng=random.Random(7))
    expected = [100 * (1 - 0.2 * random.Random(7).random())]
    cache.get("item:1")
    entry = cache.entries.read("item:1")
    assert entry is not None
    assert entry.expires_at - 0.01 == pytest.approx(expected[0])  # filled after the 0.01 s query


def test_versioned_keys_invalidate_by_bumping(redis, store, clock):
    versions = VersionedKeys(redis, prefix="v:")
    cache = CacheAside(redis, store.get, ttl=30, clock=clock, versions=versions)
    cache.get("item:4")
    assert redis.exists(cache.entries.value_key("item:4@0"))
    store.put("item:4", 40)
    cache.invalidate("item:4")
    assert versions.current("item:4") == 1
    assert cache.get("item:4") == 40
    assert redis.exists(cache.entries.value_key("item:4@0"))  # never deleted: ages out
    assert redis.pttl(versions.counter_key("item:4")) > 0  # counters carry a safety expiry too


def test_read_through_put_writes_around(redis, store, clock):
    cache = ReadThrough(redis, store, ttl=30)
    assert cache.get("item:5") == 5
    cache.put("item:5", 55)
    assert store.peek("item:5") == 55
    assert cache.get("item:5") == 55
    assert cache.stats.loads == 2


def test_write_through_read_after_write_hits(redis, store, clock):
    cache = WriteThrough(redis, store, ttl=30)
    cache.put("item:6", 66)
    assert cache.get("item:6") == 66
    assert store.peek("item:6") == 66
    assert cache.stats.hits == 1 and cache.stats.loads == 0


def test_write_through_overtaken_writer_deletes(redis, store, clock):
    cache = WriteThrough(redis, store, ttl=30)
    token = cache.entries.token("item:6")
    cache.put("item:6", 1)  # someone else wrote after our token
    assert not cache.entries.write("item:6", 0, 30, token=token)


def test_xfetch_recomputes_early_in_cache_aside(redis, store, clock):
    cache = CacheAside(redis, store.get, ttl=10, clock=clock, xfetch=XFetch(beta=1.0, rng=random.Random(1)))
    cache.get("item:1")
    expiry = cache.entries.read("item:1").expires_at
    while cache.stats.loads == 1 and clock.now() < expiry:
        clock.advance(0.001)
        cache.get("item:1")
    assert cache.stats.loads == 2
    assert cache.stats.early_recomputes == 1
    assert clock.now() - 0.01 < expiry  # the recompute started before the entry expired
    assert cache.stats.misses == 1  # only the cold miss


@pytest.mark.parametrize(
    ("name", "value", "error", "words"),
    [
        ("ttl", 0, ValueError, "ttl must be a finite number of seconds in (0, "),
        ("ttl", 1e300, ValueError, "ttl must be a finite number of seconds"),
        ("ttl", math.inf, ValueError, "ttl"),
        ("ttl", -1, ValueError, "ttl"),
        ("ttl", math.nan, ValueError, "ttl"),
        ("ttl", "30", TypeError, "ttl"),
        ("ttl", True, TypeError, "ttl"),
        ("jitter", 1.0, ValueError, "jitter must be in [0, 1)"),
        ("jitter", -0.1, ValueError, "jitter"),
        ("prefix", "", ValueError, "prefix"),
        ("safety_margin", 0, ValueError, "safety_margin"),
        ("xfetch", 1.0, TypeError, "xfetch"),
        ("versions", "v", TypeError, "versions"),
        ("clock", "not a clock", TypeError, "clock must be a Clock"),
        ("rng", 7, TypeError, "rng must be a random.Random"),
        ("prefix", "a{b}", ValueError, "prefix"),
        ("prefix", 42, TypeError, "prefix"),
    ],
)
def test_bad_arguments_name_the_parameter(redis, store, clock, name, value, error, words):
    args = {"ttl": 30, name: value}
    with pytest.raises(error, match=re.escape(words)):
        CacheAside(redis, store.get, **{"clock": clock, **args})


@pytest.mark.parametrize("cache", ["redis://localhost", {"get": None}, 42])
def test_a_cache_that_is_not_a_redis_client_is_refused(cache, store, clock):
    with pytest.raises(TypeError, match="cache must be a redis-py client"):
        CacheAside(cache, store.get, ttl=30, clock=clock)


def test_loader_must_be_callable_and_key_a_string(redis, clock, store):
    with pytest.raises(TypeError, match="loader must be callable"):
        CacheAside(redis, "db", ttl=1, clock=clock)
    cache = CacheAside(redis, store.get, ttl=1, clock=clock)
    with pytest.raises(TypeError, match="key must be a str"):
        cache.get(3)


def test_default_cache_is_the_infra_client(clock, store):
    cache = CacheAside(None, store.get, ttl=1, clock=clock, prefix="default-client-test:")
    assert infra.is_redis_client(cache.entries.redis)


@pytest.mark.parametrize("value", [2**64, object(), {1, 2}])
def test_uncachable_values_are_refused_before_the_store_is_touched(redis, store, clock, value):
    through = WriteThrough(redis, store, ttl=30)
    with pytest.raises(TypeError, match="value must be msgpack-serialisable"):
        through.put("item:1", value)
    assert store.peek("item:1") == 1 and store.writes == 0
    behind = WriteBehind(redis, store, ttl=30)
    with pytest.raises(TypeError, match="value must be msgpack-serialisable"):
        behind.put("item:1", value)
    assert behind.pending == 0
    aside = CacheAside(redis, lambda key: value, ttl=30, clock=clock)
    with pytest.raises(TypeError, match="value must be msgpack-serialisable"):
        aside.get("k")
