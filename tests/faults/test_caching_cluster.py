"""The caches, the idempotency store and the CQRS read store on a real Redis Cluster (three
masters this test starts on loopback and stops by pid): a ``redis.cluster.RedisCluster`` client is
accepted, and no multi-key script or transaction is refused with CROSSSLOT, because the keys one
operation touches share a hash tag."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.cluster import RedisCluster

from patterns.api import IdempotencyKeys, RedisIdempotencyStore, Response
from patterns.caching import CacheAside, SlowStore, VersionedKeys, WriteBehind
from patterns.clock import ManualClock
from patterns.cqrs import (
    ORDER_SUMMARIES,
    AddItem,
    CreateOrder,
    Projector,
    RedisReadStore,
    RegisterCustomer,
    WriteModel,
)
from tests.redis_server import RedisClusterServers, key_slot


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with RedisClusterServers(Path(tmp_path_factory.mktemp("cluster"))) as servers:
        client = RedisCluster.from_url(servers.url)
        yield client
        client.close()


def test_caches_run_their_scripts_on_a_cluster(cluster) -> None:  # type: ignore[no-untyped-def]
    clock = ManualClock()
    store = SlowStore(clock, query_cost=0.0)
    store.seed([(f"item:{i}", i) for i in range(50)])
    cache = CacheAside(cluster, store.get, ttl=30, clock=clock, prefix="cluster-aside")
    keys = [f"item:{i}" for i in range(50)] + ["{odd}", "a}b{"]
    for key in keys:
        cache.get(key)
        cache.invalidate(key)  # a two-key script per key
        cache.get(key)
    slots = {key_slot(cache.entries.value_key(k)) for k in keys}
    assert len(slots) > 10  # the entries spread over the cluster...
    assert all(key_slot(cache.entries.value_key(k)) == key_slot(cache.entries.gen_key(k)) for k in keys)
    behind = WriteBehind(cluster, store, ttl=30, flush_every=1000, prefix="cluster-behind")
    for i in range(20):
        behind.put(f"item:{i}", -i)
    assert behind.flush() == 20 and store.peek("item:7") == -7
    versions = VersionedKeys(cluster, prefix="cluster-ver")
    versioned = CacheAside(cluster, store.get, ttl=30, clock=clock, prefix="cluster-v", versions=versions)
    versioned.get("item:1")
    versioned.invalidate("item:1")
    assert versioned.get("item:1") == -1
    assert cache.clear() > 0 and behind.clear() > 0 and versioned.clear() > 0 and versions.clear() > 0


def test_idempotency_store_on_a_cluster(cluster) -> None:  # type: ignore[no-untyped-def]
    keys = IdempotencyKeys(RedisIdempotencyStore(cluster, prefix="cluster-idem", clock=ManualClock(),
                                                 durability="off"))
    runs = []
    for _ in range(3):
        keys.execute_once("order-1", "fp", lambda: (runs.append(1), Response(201))[1], principal="alice")
    assert runs == [1]
    assert keys.store.clear() == 1  # type: ignore[attr-defined]


def test_cqrs_read_store_transaction_on_a_cluster(cluster) -> None:  # type: ignore[no-untyped-def]
    write = WriteModel(clock=ManualClock())
    write.handle(RegisterCustomer("c1", "Ada"))
    write.handle(CreateOrder("o1", "c1"))
    write.handle(AddItem("o1", "pen", 2, 100))
    store = RedisReadStore(cluster, prefix="cluster-cqrs")
    projector = Projector(store, clock=ManualClock())
    assert projector.apply(write.events()) == 3  # WATCH + MULTI/EXEC over rows, index and checkpoint
    assert store.rows(ORDER_SUMMARIES) == write.order_summaries()
    assert store.clear() >= 3
