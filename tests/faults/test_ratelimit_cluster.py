"""The six limiters on a real Redis Cluster (three masters this test starts on loopback, ports
7100-7199, and stops by pid): a ``redis.cluster.RedisCluster`` client is accepted, each decision's
script runs on the node that owns its key's slot (one key per decision, so no CROSSSLOT), and the
decisions are exactly those of the in-memory limiter."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.cluster import RedisCluster

from patterns.clock import ManualClock
from patterns.ratelimit import GCRA, LIMITERS, LeakyBucket, TokenBucket
from tests.redis_server import RedisClusterServers, key_slot

BUCKETS = (TokenBucket, GCRA, LeakyBucket)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with RedisClusterServers(Path(tmp_path_factory.mktemp("cluster")), ports=range(7100, 7200)) as servers:
        client = RedisCluster.from_url(servers.url)
        yield client
        client.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cls", LIMITERS)
def test_a_limiter_on_a_cluster_decides_like_one_in_memory(cls: type, cluster: Any) -> None:
    clock = ManualClock(1_795_000_000.0)
    extra = (4,) if cls in BUCKETS else ()
    shared = cls(3, 0.5, *extra, clock=clock, backend=cluster, prefix=f"cluster-{cls.algorithm}")
    memory = cls(3, 0.5, *extra, clock=clock)
    rng = random.Random(13)
    keys = [f"user:{i}" for i in range(40)] + ["{odd}", "a}b{", "*"]
    for _ in range(300):
        clock.advance(rng.choice([0.0, 0.0, 0.01, 0.05, 0.2]))
        key, cost = rng.choice(keys), rng.randint(1, 3)
        assert shared.allow(key, cost) == memory.allow(key, cost)
    slots = {key_slot(shared.keys.key(k)) for k in keys}
    assert len(slots) > 10  # the keys really are spread over the cluster's nodes
    server_time = cls(1, 60.0, *((1,) if cls in BUCKETS else ()), backend=cluster, prefix=f"cluster-t-{cls.algorithm}")
    assert [server_time.allow("k").allowed for _ in range(2)] == [True, False]  # TIME on the key's node
    shared.reset("user:1")
    assert shared.clear() > 0 and server_time.clear() == 1  # SCAN on every master
    assert shared.tracked_keys == 0
