"""Redis's own HyperLogLog beside the package's: one contract on fakeredis, the real server and a
real Redis Cluster.

fakeredis keeps an exact set behind PFADD, so there the count is exact; a real Redis keeps the
sketch, and its PFCOUNT equals ``patterns.sketches.HyperLogLog``'s estimate for the same items.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from patterns import infra
from patterns.errors import BackendUnavailable
from patterns.keys import KeySpace
from patterns.sketches import HyperLogLog, RedisHyperLogLog, standard_error


def sketch(client: Any, unique: str, name: str, **kwargs: Any) -> RedisHyperLogLog:
    return RedisHyperLogLog(client, f"{unique}{name}", **kwargs)


def test_counts_within_the_stated_error_and_equal_to_the_package_on_a_real_server(
    redis_backend: Any, unique: str
) -> None:
    items = [f"visitor:{i}" for i in range(50_000)] * 2  # every visitor twice
    remote = sketch(redis_backend, unique, "visitors", batch=5_000)
    remote.add_many(items)
    local = HyperLogLog()
    local.add_many(items)
    assert abs(remote.count() - 50_000) <= 3 * standard_error(14) * 50_000
    if remote.backend == "fakeredis":
        assert remote.count() == 50_000  # fakeredis counts exactly
    else:  # a real server or a real cluster: Redis's own sketch, register for register
        assert remote.count() == local.count()
    remote.clear()
    assert remote.count() == 0


def test_merge_counts_the_union(redis_backend: Any, unique: str) -> None:
    monday = sketch(redis_backend, unique, "mon")
    tuesday = sketch(redis_backend, unique, "tue")
    monday.add_many(range(0, 6_000))
    tuesday.add_many(range(4_000, 10_000))
    week = monday.merge(tuesday, into=f"{unique}week")
    assert abs(week.count() - 10_000) <= 3 * standard_error(14) * 10_000
    assert week.key.split(":{")[1].startswith("hll}")  # one hash tag for the group: cluster-safe
    for s in (monday, tuesday, week):
        s.clear()


def test_keys_are_namespaced_and_clear_touches_only_its_own(redis_backend: Any, unique: str) -> None:
    a = sketch(redis_backend, unique, "a")
    b = sketch(redis_backend, unique, "b")
    a.add("x")
    b.add("y")
    assert a.key.startswith(KeySpace.of("sketches:hll").prefix + ":")
    a.clear()
    assert a.count() == 0 and b.count() == 1
    b.clear()


def test_single_add_reports_a_change(redis_backend: Any, unique: str) -> None:
    s = sketch(redis_backend, unique, "one")
    assert s.add("x") is True and s.add("x") is False
    s.clear()


def test_bad_arguments() -> None:
    client = infra.redis_client(url="", fresh=True)
    with pytest.raises(TypeError):
        RedisHyperLogLog("redis://", "x")
    with pytest.raises(ValueError):
        RedisHyperLogLog(client, "a{b}")
    with pytest.raises(ValueError):
        RedisHyperLogLog(client, "x", batch=0)
    a = RedisHyperLogLog(client, "a")
    with pytest.raises(ValueError):
        a.merge(RedisHyperLogLog(client, "b", group="other"), into="c")
    with pytest.raises(TypeError):
        a.merge(HyperLogLog(), into="c")  # type: ignore[arg-type]


def test_an_unreachable_server_is_backend_unavailable() -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from tests.helpers import closed_port

    client = redis.Redis(port=closed_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    s = RedisHyperLogLog(client, "x")
    for call in (lambda: s.add_many(["a"]), s.count, lambda: s.add("a"), s.clear):
        with pytest.raises(BackendUnavailable):
            call()


# Collected only with a real server, like the "redis" parameter of redis_backend (never skipped).
if os.environ.get(infra.REDIS_URL_ENV):

    @pytest.mark.real_redis
    @pytest.mark.slow
    def test_one_million_items_redis_pfcount_and_the_package_agree(unique: str) -> None:
        """Issue 15: on the same 1M items Redis's PFCOUNT and the package's HyperLogLog agree within
        the stated error (here: exactly, since they hash and estimate alike), and both are within
        3 standard errors (2.4%) of the truth."""
        client = infra.redis_client(timeout=5.0)
        items = [f"item:{i}" for i in range(1_000_000)]
        remote = RedisHyperLogLog(client, f"{unique}million")
        try:
            remote.add_many(items)
            local = HyperLogLog()
            local.add_many(items)
            stated = standard_error(14)
            assert abs(remote.count() - local.count()) <= stated * 1_000_000
            assert remote.count() == local.count()
            assert abs(local.count() - 1_000_000) <= 3 * stated * 1_000_000
        finally:
            remote.clear()
