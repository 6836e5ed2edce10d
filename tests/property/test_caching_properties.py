"""Hypothesis properties: exact TTL, jitter bounds, read-after-write, lease safety under any
interleaving, write-behind durability accounting, LRU against a reference model."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from patterns import infra
from patterns.caching import CacheAside, SimulatedCache, SlowStore, WriteBehind, WriteThrough
from patterns.clock import ManualClock

ttls = st.floats(min_value=0.001, max_value=1e5, allow_nan=False)


@given(ttl=ttls, fraction=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(min_value=0.0, max_value=2.0)))
def test_ttl_expiry_is_exact(ttl, fraction):
    clock = ManualClock(1000.0)
    loads = []
    cache = CacheAside(infra.redis_client(url="", fresh=True), lambda k: loads.append(k) or len(loads),
                       ttl=ttl, clock=clock)
    cache.get("k")
    elapsed = ttl * fraction
    clock.advance(elapsed)
    cache.get("k")
    expired = clock.now() >= 1000.0 + ttl
    assert len(loads) == (2 if expired else 1)


@given(ttl=ttls, jitter=st.floats(min_value=0.0, max_value=0.99), seed=st.integers(0, 2**32))
def test_jitter_never_exceeds_ttl(ttl, jitter, seed):
    clock = ManualClock()
    cache = CacheAside(infra.redis_client(url="", fresh=True), str, ttl=ttl, clock=clock, jitter=jitter,
                       rng=random.Random(seed))
    cache.get("k")
    lifetime = cache.entries.read("k").expires_at - clock.now()
    assert ttl * (1 - jitter) - 1e-9 * ttl <= lifetime <= ttl


write_through_ops = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.sampled_from("abc"), st.integers(-(2**63), 2**64 - 1)),
        st.tuples(st.just("get"), st.sampled_from("abc")),
        st.tuples(st.just("advance"), st.floats(min_value=0, max_value=50)),
    ),
    max_size=30,
)


@given(ops=write_through_ops)
def test_write_through_reads_return_the_last_write(ops):
    clock = ManualClock()
    store = SlowStore(clock, query_cost=0.0)
    cache = WriteThrough(infra.redis_client(url="", fresh=True), store, ttl=20)
    model: dict[str, int] = {}
    for op in ops:
        if op[0] == "put":
            cache.put(op[1], op[2])
            model[op[1]] = op[2]
        elif op[0] == "get":
            assert cache.get(op[1]) == model.get(op[1])
        else:
            clock.advance(op[1])


# --- leases: any interleaving of readers and writers leaves the cache empty or agreeing with the store


class HookedStore(SlowStore):
    """A store whose reads and writes run scheduled operations right after them."""

    def __init__(self, clock):
        super().__init__(clock, query_cost=0.0)
        self.after_get: list = []
        self.after_put: list = []

    def get(self, key):
        value = super().get(key)
        if self.after_get:
            self.after_get.pop()()
        return value

    def put(self, key, value):
        version = super().put(key, value)
        if self.after_put:
            self.after_put.pop()()
        return version


def _schedules():
    leaf = st.one_of(
        st.tuples(st.just("aside_write"), st.integers(0, 9)),
        st.tuples(st.just("through_write"), st.integers(0, 9), st.just(())),
        st.tuples(st.just("read"), st.just(())),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.just("read"), st.lists(inner, max_size=3)),
            st.tuples(st.just("through_write"), st.integers(0, 9), st.lists(inner, max_size=3)),
        ),
        max_leaves=8,
    )


@given(schedule=st.lists(_schedules(), min_size=1, max_size=5))
def test_leases_keep_the_cache_consistent_under_any_interleaving(schedule):
    clock = ManualClock()
    store = HookedStore(clock)
    redis = infra.redis_client(url="", fresh=True)
    aside = CacheAside(redis, store.get, ttl=100, clock=clock, prefix="p:", single_flight=False)
    through = WriteThrough(redis, store, ttl=100, prefix="p:", single_flight=False)

    def run(op):
        def nested(ops):
            return lambda: [run(o) for o in ops]

        if op[0] == "aside_write":
            store.put("k", op[1])
            aside.invalidate("k")
        elif op[0] == "through_write":
            store.after_put.append(nested(op[2]))
            through.put("k", op[1])
        else:
            store.after_get.append(nested(op[1]))
            aside.get("k")

    for op in schedule:
        run(op)
    entry = aside.entries.read("k")
    assert entry is None or entry.value == store.peek("k")


# --- write-behind: what a crash loses is exactly what was written since the last flush

wb_ops = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.sampled_from("abcde"), st.integers(-(2**63), 2**64 - 1)),
        st.tuples(st.just("advance"), st.floats(min_value=0, max_value=3)),
        st.tuples(st.just("flush")),
        st.tuples(st.just("crash")),
    ),
    max_size=40,
)


@given(ops=wb_ops, batch_size=st.integers(1, 4))
def test_write_behind_loses_exactly_the_unflushed_writes(ops, batch_size):
    clock = ManualClock()
    store = SlowStore(clock, query_cost=0.0)
    cache = WriteBehind(infra.redis_client(url="", fresh=True), store, ttl=10, flush_every=2.0,
                        batch_size=batch_size)
    acked: dict[str, int] = {}
    durable: dict[str, int] = {}  # what the store must hold: acked as of the last full flush
    for op in ops:
        if op[0] == "put":
            cache.put(op[1], op[2])
            acked[op[1]] = op[2]
        elif op[0] == "advance":
            clock.advance(op[1])
            cache.tick()
        elif op[0] == "flush":
            cache.flush()
        else:
            lost = cache.crash()
            assert {k for k in acked if durable.get(k) != acked[k]} <= set(lost) <= set(acked)
            for key, value in acked.items():
                assert store.peek(key) == (durable.get(key) if key in lost else value)
                if key in lost:
                    assert lost[key] == value
            acked = {k: store.peek(k) for k in acked if store.peek(k) is not None}
        if cache.pending == 0:
            durable = dict(acked)
    cache.flush()
    assert {k: store.peek(k) for k in acked} == acked


@given(keys=st.lists(st.sampled_from("abcdefgh"), max_size=200), capacity=st.integers(1, 6))
def test_lru_matches_a_reference_model(keys, capacity):
    cache = SimulatedCache(capacity, "lru")
    recent: list[str] = []
    for key in keys:
        expected_hit = key in recent
        assert cache.access(key) == expected_hit
        if expected_hit:
            recent.remove(key)
        elif len(recent) == capacity:
            recent.pop(0)
        recent.append(key)
        assert len(cache) <= capacity


@given(keys=st.lists(st.sampled_from("abcdefgh"), max_size=200), capacity=st.integers(1, 6),
       ttl=st.one_of(st.none(), st.floats(0.5, 20)))
def test_lfu_respects_capacity_and_keeps_the_most_frequent(keys, capacity, ttl):
    cache = SimulatedCache(capacity, "lfu", ttl)
    for i, key in enumerate(keys):
        cache.access(key, float(i))
        assert len(cache) <= capacity
    assert cache.hits + cache.misses == len(keys)
