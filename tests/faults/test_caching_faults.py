"""Failure injection and concurrency: the stale-set race, single-flight under 16 threads,
write-behind crash, a failing loader."""

from __future__ import annotations

import threading

import pytest

from patterns import infra
from patterns.caching import CacheAside, SlowStore, VersionedKeys, WriteBehind
from patterns.clock import ManualClock

THREADS = 16


def _race(cache_kwargs: dict, clock: ManualClock) -> tuple[CacheAside, SlowStore]:
    """Reader misses and reads v1 from the store; before it fills, a writer stores v2 and
    invalidates; then the reader's fill arrives. Deterministic: the writer runs inside the loader."""
    redis = infra.redis_client(url="", fresh=True)
    store = SlowStore(clock, query_cost=0.01)
    store.seed([("price", 100)])
    holder: dict[str, CacheAside] = {}

    def slow_reader_loader(key: str):
        value = store.get(key)  # reads the old row...
        if key == "price" and store.peek(key) == 100:
            store.put(key, 120)  # ...a writer updates the row
            holder["cache"].invalidate(key)  # ...and deletes the entry (delete-on-write)
        return value  # ...then the reader fills with what it read

    cache = CacheAside(redis, slow_reader_loader, ttl=300, clock=clock,
                       audit=lambda k, v: v == store.peek(k), **cache_kwargs)
    holder["cache"] = cache
    return cache, store


def test_race_without_a_lease_leaves_a_stale_entry(clock):
    cache, store = _race({"lease": False}, clock)
    assert cache.get("price") == 100
    assert cache.get("price") == 100  # stale: the store says 120, the cache says 100 for 300 s
    assert cache.stats.stale_reads == 1


@pytest.mark.parametrize("fix", ["lease", "versioned keys"])
def test_race_is_fixed(clock, fix):
    kwargs = {"lease": True} if fix == "lease" else {
        "lease": False, "versions": VersionedKeys(infra.redis_client(url="", fresh=True))}
    cache, store = _race(kwargs, clock)
    assert cache.get("price") == 100  # the racing reader itself saw the old value
    for _ in range(3):
        assert cache.get("price") == 120  # ...but it could not plant it in the cache
    assert cache.stats.stale_reads == 0
    if fix == "lease":
        assert cache.stats.refused_fills == 1


def _hammer_one_key(cache_factory) -> tuple[list, int, CacheAside]:
    calls = []
    release = threading.Event()
    lock = threading.Lock()

    def loader(key):
        with lock:
            calls.append(key)
        release.wait(timeout=10)
        return f"value of {key}"

    cache = cache_factory(loader)
    results: list = []
    start = threading.Barrier(THREADS)

    def worker():
        start.wait()
        results.append(cache.get("hot"))

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    waited = threading.Event()
    for _ in range(2000):  # until 15 callers wait on the leader's flight (bounded, not a timing assertion)
        if len(calls) == THREADS or (cache.flight is not None and cache.flight.waiters("hot") == THREADS - 1):
            break
        waited.wait(0.005)
    release.set()
    for t in threads:
        t.join(timeout=20)
    assert results == ["value of hot"] * THREADS
    return calls, len(results), cache


def test_sixteen_threads_missing_one_key_cause_one_load():
    redis = infra.redis_client(url="", fresh=True)
    calls, _, cache = _hammer_one_key(lambda loader: CacheAside(redis, loader, ttl=60, clock=ManualClock()))
    assert calls == ["hot"]
    assert cache.flight.shared == THREADS - 1
    assert (cache.stats.misses, cache.stats.loads) == (THREADS, 1)


def test_without_single_flight_every_thread_loads():
    redis = infra.redis_client(url="", fresh=True)
    calls, _, _ = _hammer_one_key(
        lambda loader: CacheAside(redis, loader, ttl=60, clock=ManualClock(), single_flight=False)
    )
    assert len(calls) == THREADS  # the stampede the single-flight test rules out


def test_failing_loader_fails_every_waiter_and_caches_nothing():
    redis = infra.redis_client(url="", fresh=True)
    gate = threading.Event()

    def loader(key):
        gate.wait(timeout=10)
        raise ConnectionError("database down")

    cache = CacheAside(redis, loader, ttl=60, clock=ManualClock())
    errors: list[BaseException] = []

    def worker():
        try:
            cache.get("k")
        except ConnectionError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    pause = threading.Event()
    for _ in range(2000):
        if cache.flight.waiters("k") == 3:
            break
        pause.wait(0.005)
    gate.set()
    for t in threads:
        t.join(timeout=20)
    assert len(errors) == 4 and cache.stats.loads == 0
    assert cache.entries.read("k") is None


def test_concurrent_hits_are_all_counted():
    redis = infra.redis_client(url="", fresh=True)
    cache = CacheAside(redis, lambda k: k.upper(), ttl=600, clock=ManualClock())
    keys = [f"k{i}" for i in range(8)]

    def worker():
        for _ in range(25):
            for key in keys:
                assert cache.get(key) == key.upper()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert cache.stats.requests == THREADS * 25 * len(keys)
    assert cache.stats.loads == len(keys)  # single-flight + re-check: one load per key


def test_write_behind_crash_loses_what_was_not_flushed(clock):
    store = SlowStore(clock, query_cost=0.001)
    cache = WriteBehind(infra.redis_client(url="", fresh=True), store, ttl=60, flush_every=1.0, batch_size=1000)
    acked = {}
    for i in range(250):  # 100 writes/s for 2.5 s: flushes at t=1.0 and t=2.0
        key = f"order:{i % 40}"
        cache.put(key, i)
        acked[key] = i
        clock.advance(0.01)
    lost = cache.crash()
    durable = {k: store.peek(k) for k in acked}
    assert lost and all(durable[k] != v for k, v in lost.items())
    assert all(durable[k] == v for k, v in acked.items() if k not in lost)
    # the cache still shows the lost values until they expire: readers saw writes the db never got
    assert all(cache.get(k) == v for k, v in lost.items())
    clock.advance(61)
    assert all(cache.get(k) == durable[k] for k in lost)


def test_write_behind_concurrent_writers_lose_nothing_on_flush():
    clock = ManualClock()
    store = SlowStore(clock, query_cost=0.0)
    cache = WriteBehind(infra.redis_client(url="", fresh=True), store, ttl=60, flush_every=0.5, batch_size=7)

    def writer(n):
        for i in range(50):
            cache.put(f"w{n}:{i}", i)
            clock.advance(0.01)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    cache.flush()
    assert len(store) == 400 and cache.pending == 0
