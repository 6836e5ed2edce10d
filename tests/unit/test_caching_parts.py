"""Unit tests: store, stats, XFetch, single-flight, events, workload, eviction, stampede model."""

from __future__ import annotations

import math
import random

import pytest

from patterns import infra
from patterns.caching import (
    CacheAside,
    CacheStats,
    EventInvalidator,
    SimulatedCache,
    SingleFlight,
    SlowStore,
    XFetch,
    ZipfWorkload,
    simulate_hit_ratio,
    simulate_stampede,
)
from patterns.caching.core import WallClock
from patterns.clock import Clock, ManualClock


def test_store_charges_each_query_on_the_clock(clock):
    store = SlowStore(clock, query_cost=0.02)
    assert store.put("k", {"a": 1}) == 1
    assert store.put("k", {"a": 2}) == 2
    assert store.get_versioned("k") == ({"a": 2}, 2)
    assert store.get("missing") is None
    assert store.peek("k") == {"a": 2}  # free
    assert (store.reads, store.writes, store.queries) == (2, 2, 4)
    assert clock.now() == pytest.approx(0.08)
    store.put_many([("x", 1), ("y", 2), ("x", 3)])
    assert store.writes == 3 and store.peek("x") == 3 and store.get_versioned("x")[1] == 2
    store.delete("x")
    assert store.peek("x") is None and len(store) == 2


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("query_cost", -1, ValueError),
        ("query_cost", math.inf, ValueError),
        ("query_cost", "1", TypeError),
        ("table", "no spaces", ValueError),
    ],
)
def test_store_bad_arguments(name, value, error):
    with pytest.raises(error, match=name):
        SlowStore(ManualClock(), **{name: value})


def test_stats_ratio_and_names():
    stats = CacheStats()
    assert stats.hit_ratio == 0.0
    stats.add("hits", 3)
    stats.add("misses")
    assert stats.hit_ratio == 0.75 and stats.as_dict()["hit_ratio"] == 0.75
    with pytest.raises(ValueError, match="name must be one of"):
        stats.add("bogus")
    stats.reset()
    assert stats.requests == 0


def test_xfetch_rule_matches_the_paper():
    x = XFetch(beta=2.0)
    # recompute iff now - delta*beta*ln(u) >= expiry
    assert x.should_recompute(now=9.0, delta=1.0, expiry=10.0, u=math.exp(-0.5))  # 9 + 1 >= 10
    assert not x.should_recompute(now=9.0, delta=1.0, expiry=10.0, u=math.exp(-0.49))
    assert x.should_recompute(now=10.0, delta=0.0, expiry=10.0)  # always at expiry
    assert not x.should_recompute(now=9.999, delta=0.0, expiry=10.0)  # never early without delta
    assert x.probability(9.0, 1.0, 10.0) == pytest.approx(math.exp(-0.5))
    assert x.probability(11.0, 1.0, 10.0) == 1.0 and x.probability(9.0, 0.0, 10.0) == 0.0


def test_xfetch_empirical_probability_matches_formula():
    x = XFetch(beta=1.0, rng=random.Random(3))
    n = 20000
    fired = sum(x.should_recompute(now=8.0, delta=2.0, expiry=10.0) for _ in range(n))
    assert fired / n == pytest.approx(math.exp(-1.0), abs=0.015)


@pytest.mark.parametrize(
    ("beta", "error"), [(0, ValueError), (-1, ValueError), (math.nan, ValueError), ("1", TypeError)]
)
def test_xfetch_bad_beta(beta, error):
    with pytest.raises(error, match="beta"):
        XFetch(beta)


def test_xfetch_bad_u():
    with pytest.raises(ValueError, match=r"u must be in \(0, 1\]"):
        XFetch().head_start(1.0, u=0.0)


def test_single_flight_sequential_calls_each_run():
    flight = SingleFlight()
    assert flight.do("k", lambda: 1) == 1
    assert flight.do("k", lambda: 2) == 2
    assert flight.calls == 2 and flight.shared == 0 and flight.waiters("k") == 0


def test_single_flight_error_propagates_and_clears():
    flight = SingleFlight()
    with pytest.raises(KeyError):
        flight.do("k", lambda: {}["x"])
    assert flight.do("k", lambda: 5) == 5


def test_event_invalidator_fans_out(clock):
    store = SlowStore(clock, query_cost=0)
    store.seed([("a", 1), ("b", 2)])
    caches = [
        CacheAside(infra.redis_client(url="", fresh=True), store.get, ttl=60, clock=clock) for _ in range(2)
    ]
    bus = EventInvalidator()
    for cache in caches:
        cache.get("a")
        bus.subscribe(cache)
    store.put("a", 10)
    assert bus.handle({"type": "updated", "key": "a"}) == ["a"]
    assert bus({"type": "updated", "key": "a"}) == ["a"]  # duplicates are harmless
    assert [c.get("a") for c in caches] == [10, 10]
    assert bus.handle({"type": "heartbeat"}) == []
    multi = EventInvalidator(key_of=lambda e: e["keys"])
    multi.subscribe(caches[0])
    assert multi.handle({"keys": ["a", "b"]}) == ["a", "b"] and multi.invalidations == 2
    with pytest.raises(TypeError, match="event must be a mapping"):
        bus.handle("a")
    with pytest.raises(TypeError, match="cache must have an invalidate"):
        bus.subscribe(object())
    with pytest.raises(TypeError, match="key_of must be callable"):
        EventInvalidator(key_of=3)
    with pytest.raises(TypeError, match="key_of must return str"):
        EventInvalidator(key_of=lambda e: [1]).handle({})


def test_zipf_workload_is_seeded_and_skewed():
    w = ZipfWorkload(100, skew=1.0, seed=5)
    assert w.sample(50) == ZipfWorkload(100, skew=1.0, seed=5).sample(50)
    keys = w.sample(20000)
    top10 = sum(keys.count(f"item:{r}") for r in range(1, 11)) / len(keys)
    assert top10 == pytest.approx(w.top_share(10), abs=0.02)
    assert ZipfWorkload(10, skew=0).top_share(5) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("args", "error", "words"),
    [
        ((0,), ValueError, "n_keys"),
        ((1.5,), TypeError, "n_keys"),
        ((10, -1), ValueError, "skew"),
        ((10, "a"), TypeError, "skew"),
    ],
)
def test_zipf_bad_arguments(args, error, words):
    with pytest.raises(error, match=words):
        ZipfWorkload(*args)


def test_lru_evicts_least_recently_used():
    cache = SimulatedCache(2, "lru")
    for key in ["a", "b", "a", "c"]:  # c evicts b
        cache.access(key)
    assert cache.access("a") and not cache.access("b")
    assert cache.evictions == 2


def test_lfu_evicts_least_frequently_used():
    cache = SimulatedCache(2, "lfu")
    for key in ["a", "a", "a", "b", "c"]:  # c evicts b (freq 1) not a (freq 3)
        cache.access(key)
    assert cache.access("a") and not cache.access("b")


def test_simulated_ttl_expires_exactly():
    cache = SimulatedCache(None, "lru", ttl=10)
    assert not cache.access("k", 0.0)
    assert cache.access("k", 9.999)
    assert not cache.access("k", 10.0)


@pytest.mark.parametrize(
    ("args", "error"),
    [((0,), ValueError), ((1.5,), TypeError), ((2, "fifo"), ValueError), ((2, "lru", 0), ValueError)],
)
def test_simulated_cache_bad_arguments(args, error):
    with pytest.raises(error):
        SimulatedCache(*args)


def test_simulator_agrees_with_cache_aside_on_redis():
    clock = ManualClock()
    store = SlowStore(clock, query_cost=0.0)
    cache = CacheAside(infra.redis_client(url="", fresh=True), store.get, ttl=2.0, clock=clock)
    keys = ZipfWorkload(50, 1.0, seed=2).sample(600)
    for key in keys:
        cache.get(key)
        clock.advance(0.01)
    assert cache.stats.hit_ratio == simulate_hit_ratio(keys, interval=0.01, ttl=2.0)


def test_stampede_model_shows_the_stampede_and_the_cures():
    none = simulate_stampede("none", rate=200, cost=0.5, ttl=30, duration=100)
    single = simulate_stampede("single_flight", rate=200, cost=0.5, ttl=30, duration=100)
    xfetch = simulate_stampede("xfetch", rate=200, cost=0.5, ttl=30, duration=100)
    assert none.requests == single.requests == xfetch.requests
    assert none.peak_concurrent_loads > 50  # about rate * cost = 100 identical queries at once
    assert single.peak_concurrent_loads == 1 and single.loads == 3  # one per expiry (t=30, 60.5, 91)
    assert single.waited > 100  # ...but everyone who missed waited for it
    assert xfetch.loads < none.loads / 10 and xfetch.waited < single.waited / 10
    with pytest.raises(ValueError, match="strategy must be one of"):
        simulate_stampede("lock")
    with pytest.raises(ValueError, match="rate must be"):
        simulate_stampede("none", rate=0)


def test_wall_clock_is_a_clock_in_epoch_seconds():
    clock = WallClock()
    assert isinstance(clock, Clock) and clock.now() > 1.6e9  # epoch seconds, shared across servers
    assert repr(clock) == "WallClock()"
