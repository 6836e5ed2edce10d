"""Redis outages: reads fall back to the source of truth (counted), writes raise and leave nothing
behind to be written later. On an embedded fakeredis whose server is "disconnected", and on a real
``redis-server`` this test starts, stops and restarts itself (never the shared one)."""

from __future__ import annotations

from pathlib import Path

import fakeredis
import pytest

from patterns import infra
from patterns.caching import CacheAside, SlowStore, VersionedKeys, WriteBehind, WriteThrough
from patterns.clock import ManualClock
from patterns.errors import BackendUnavailable
from tests.redis_server import RedisServer


def _scenario(client, set_up, take_down, bring_back, clock: ManualClock) -> None:
    store = SlowStore(clock, query_cost=0.001)
    store.seed([("price", 100)])
    aside = CacheAside(client, store.get, ttl=60, clock=clock, prefix="outage-aside")
    behind = WriteBehind(client, store, ttl=60, flush_every=1000, prefix="outage-behind")
    through = WriteThrough(client, store, ttl=60, prefix="outage-through")
    assert aside.get("price") == 100 and store.reads == 1
    assert aside.get("price") == 100 and store.reads == 1  # a hit

    take_down()
    assert [aside.get("price") for _ in range(3)] == [100, 100, 100]  # served from the store
    assert aside.stats.fallbacks == 3 and store.reads == 4
    with pytest.raises(BackendUnavailable):
        aside.invalidate("price")  # the caller must know the entry may still be served
    with pytest.raises(BackendUnavailable):
        behind.put("price", 999)
    assert behind.pending == 0
    with pytest.raises(BackendUnavailable):
        through.put("price", 998)
    assert store.peek("price") == 100  # write-through raised before touching the store

    bring_back()
    behind.flush()
    assert store.peek("price") == 100  # the put that raised is never written later
    assert aside.get("price") == 100
    behind.put("price", 120)
    assert behind.get("price") == 120
    behind.flush()
    assert store.peek("price") == 120


def test_outage_on_fakeredis(clock):
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server)

    def down() -> None:
        server.connected = False

    def up() -> None:
        server.connected = True

    _scenario(client, None, down, up, clock)


def test_outage_on_a_real_server_stopped_and_restarted(tmp_path: Path, clock):
    with RedisServer(tmp_path) as server:
        client = infra.redis_client(server.url)
        _scenario(client, None, server.stop, server.start, clock)


def test_versioned_keys_outage_falls_back_on_reads(clock):
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server)
    store = SlowStore(clock, query_cost=0.0)
    store.seed([("k", 1)])
    cache = CacheAside(client, store.get, ttl=60, clock=clock, versions=VersionedKeys(client))
    assert cache.get("k") == 1
    server.connected = False
    assert cache.get("k") == 1 and cache.stats.fallbacks == 1
    with pytest.raises(BackendUnavailable):
        cache.invalidate("k")


def test_a_fill_that_fails_is_counted_and_the_value_still_returned(clock):
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server)

    def loader(key: str) -> str:
        server.connected = False  # Redis dies while the source is being read
        return "fresh"

    cache = CacheAside(client, loader, ttl=60, clock=clock)
    assert cache.get("k") == "fresh"
    assert (cache.stats.loads, cache.stats.fallbacks) == (1, 1)
