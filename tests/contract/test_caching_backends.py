"""Contract: the caches behave the same on fakeredis and on a real Redis server
(the real one runs when PATTERNS_REDIS_URL is set; keys are prefixed with ``unique``)."""

from __future__ import annotations

import threading

import pytest

from patterns.caching import (
    CacheAside,
    SlowStore,
    VersionedKeys,
    WriteBehind,
    WriteThrough,
)
from patterns.caching.core import RedisEntries
from patterns.clock import ManualClock
from patterns.keys import KeySpace


@pytest.fixture
def store(clock: ManualClock) -> SlowStore:
    db = SlowStore(clock, query_cost=0.01)
    db.seed([(f"item:{i}", {"id": i, "name": f"thing {i}"}) for i in range(1, 6)])
    return db


def test_round_trip_and_exact_ttl(redis_backend, unique, store, clock):
    cache = CacheAside(redis_backend, store.get, ttl=30, clock=clock, prefix=unique)
    assert cache.get("item:1") == {"id": 1, "name": "thing 1"}
    filled = clock.now()
    clock.set(filled + 29.999)
    assert cache.get("item:1")["id"] == 1 and store.reads == 1
    clock.set(filled + 30)
    cache.get("item:1")
    assert store.reads == 2


def test_safety_net_expiry_on_the_server(redis_backend, unique, store, clock):
    cache = CacheAside(redis_backend, store.get, ttl=30, clock=clock, prefix=unique, safety_margin=600)
    cache.get("item:2")
    assert 600_000 < cache.entries.redis_ttl_ms("item:2") <= 630_000
    assert 0 < redis_backend.pttl(cache.entries.gen_key("item:2")) <= 630_000


def test_invalidate_and_lease(redis_backend, unique, store, clock):
    cache = CacheAside(redis_backend, store.get, ttl=30, clock=clock, prefix=unique)
    cache.get("item:3")
    token = cache.entries.token("item:3")
    cache.invalidate("item:3")
    assert cache.entries.read("item:3") is None
    assert not cache.entries.write("item:3", "stale", 30, token=token)  # overtaken lease: refused
    assert cache.entries.write("item:3", "fresh", 30, token=cache.entries.token("item:3"))
    assert cache.entries.read("item:3").value == "fresh"


def test_versioned_keys(redis_backend, unique, store, clock):
    versions = VersionedKeys(redis_backend, prefix=unique + "ver:")
    cache = CacheAside(redis_backend, store.get, ttl=30, clock=clock, prefix=unique, versions=versions)
    assert cache.get("item:4")["id"] == 4
    store.put("item:4", "renamed")
    cache.invalidate("item:4")
    assert cache.get("item:4") == "renamed" and versions.current("item:4") == 1


def test_write_through_and_write_behind(redis_backend, unique, store, clock):
    through = WriteThrough(redis_backend, store, ttl=30, prefix=unique + "wt:")
    through.put("item:5", "new")
    assert through.get("item:5") == "new" and store.peek("item:5") == "new"
    behind = WriteBehind(redis_backend, store, ttl=30, prefix=unique + "wb:", flush_every=10, batch_size=50)
    behind.put("item:1", "later")
    assert behind.get("item:1") == "later" and store.peek("item:1") != "later"
    assert behind.crash() == {"item:1": "later"}


def test_single_flight_with_sixteen_threads(redis_backend, unique):
    calls = []
    release = threading.Event()

    def loader(key):
        calls.append(key)
        release.wait(timeout=10)
        return key

    cache = CacheAside(redis_backend, loader, ttl=60, clock=ManualClock(), prefix=unique)
    start = threading.Barrier(16)
    results = []

    def worker():
        start.wait()
        results.append(cache.get("hot"))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    pause = threading.Event()
    for _ in range(2000):
        if cache.flight.waiters("hot") == 15:
            break
        pause.wait(0.005)
    release.set()
    for t in threads:
        t.join(timeout=20)
    assert calls == ["hot"] and results == ["hot"] * 16


def test_two_namespaces_never_see_each_other(redis_backend, unique, clock):
    room = unique.rstrip(":")
    alice = CacheAside(redis_backend, lambda k: 10, ttl=60, clock=clock, prefix=KeySpace.of("aside", ns=f"{room}-a"))
    bob = CacheAside(redis_backend, lambda k: 99, ttl=60, clock=clock, prefix=KeySpace.of("aside", ns=f"{room}-b"))
    assert (alice.get("price"), bob.get("price")) == (10, 99)
    assert bob.clear() == 2
    assert alice.get("price") == 10 and alice.stats.hits == 1
    assert alice.clear() == 2


def test_lua_and_python_paths_agree_on_the_server(redis_backend, unique, clock):
    outcomes = []
    for lua in (True, False):
        entries = RedisEntries(redis_backend, clock, keys=f"{unique}{'lua' if lua else 'py'}")
        entries.lua = lua and entries.lua
        token = entries.token("k")
        steps = [entries.write("k", 1, 30, token=token), entries.write("k", 2, 30, token=token),
                 entries.read("k").value, entries.invalidate("k"), entries.invalidate("k"), entries.token("k")]
        payload = entries.payload(3, 30)
        entries.write_payload("k", payload, 30)
        steps += [entries.settle("k", payload, 30), entries.read("k").value,
                  entries.settle("k", entries.payload(4, 30), 30), entries.read("k"), entries.token("k")]
        outcomes.append(steps)
    assert outcomes[0] == outcomes[1] == [True, False, 1, True, False, "3", False, 3, True, None, "6"]
