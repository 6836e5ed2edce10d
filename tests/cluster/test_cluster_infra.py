"""``patterns.infra`` gives a ``redis.cluster.RedisCluster`` for a ``redis+cluster://`` URL or
``PATTERNS_REDIS_CLUSTER_URL``, with the same rules as ``redis_client``: short timeouts, no hidden
retries, ``BackendUnavailable`` with the password masked when no node (or no cluster) answers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redis.cluster import RedisCluster
from redis.exceptions import ClusterDownError, ResponseError, SlotNotCoveredError

from patterns import infra
from patterns.errors import BackendUnavailable
from tests.helpers import closed_port
from tests.redis_server import RedisServer


def test_a_cluster_url_gives_a_cluster_client(cluster_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = infra.redis_client(cluster_url)
    try:
        assert isinstance(client, RedisCluster) and infra.is_cluster_client(client)
        assert infra.backend_name(client) == "cluster" and infra.is_redis_client(client)
        assert client.get_connection_kwargs()["socket_timeout"] == infra.DEFAULT_REDIS_TIMEOUT
        assert client.retry.get_retries() == 0  # no hidden retries (redirections are still followed)
    finally:
        client.close()
    monkeypatch.setenv(infra.REDIS_CLUSTER_URL_ENV, cluster_url)
    plain = cluster_url.replace("redis+cluster://", "redis://")
    for client in (infra.redis_cluster_client(), infra.redis_cluster_client(plain, timeout=1.0)):
        assert isinstance(client, RedisCluster) and client.ping()
        client.close()


def test_no_cluster_configured_is_a_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(infra.REDIS_CLUSTER_URL_ENV, raising=False)
    assert infra.redis_cluster_url() is None
    with pytest.raises(ValueError, match=infra.REDIS_CLUSTER_URL_ENV):
        infra.redis_cluster_client()
    with pytest.raises(ValueError, match="only database 0"):
        infra.redis_client("redis+cluster://127.0.0.1:7000/3")
    with pytest.raises(ValueError, match="redis\\+cluster://"):
        infra.redis_cluster_client("http://127.0.0.1:7000")


def test_an_unreachable_cluster_fails_fast_with_the_password_masked() -> None:
    url = f"redis+cluster://alice:s3cret@127.0.0.1:{closed_port()}"
    start = time.monotonic()
    with pytest.raises(BackendUnavailable) as caught:
        infra.redis_client(url)
    assert time.monotonic() - start < 2.5
    assert "s3cret" not in str(caught.value) and "alice:***@127.0.0.1" in str(caught.value)


def test_a_plain_redis_is_not_a_cluster(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server, pytest.raises(BackendUnavailable, match="Cluster mode is not enabled"):
        infra.redis_cluster_client(f"redis+cluster://127.0.0.1:{server.port}")


@pytest.mark.parametrize("error", [ClusterDownError("CLUSTERDOWN The cluster is down"),
                                   SlotNotCoveredError("slot 7 is not covered")])
def test_a_cluster_with_no_node_for_a_slot_is_unavailable(error: Exception) -> None:
    with pytest.raises(BackendUnavailable, match="could not reach"), infra.redis_errors("redis+cluster://:pw@x:7000"):
        raise error


def test_crossslot_is_a_bug_and_passes_through() -> None:
    with pytest.raises(ResponseError, match="CROSSSLOT"), infra.redis_errors("redis+cluster://127.0.0.1:7000"):
        raise ResponseError("CROSSSLOT Keys in request don't hash to the same slot")
