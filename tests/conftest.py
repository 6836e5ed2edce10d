"""Shared fixtures: backends for contract tests and a count of tests that ran on real servers.

When ``PATTERNS_REDIS_URL`` / ``PATTERNS_REDIS_CLUSTER_URL`` / ``PATTERNS_KAFKA_BOOTSTRAP`` is set,
the ``redis`` / ``cluster`` / ``kafka`` parameter of the backend fixtures is included and those tests
run; they never skip. An unreachable server fails the test with a message naming the address
(``patterns.errors.BackendUnavailable``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from patterns import infra
from patterns.clock import ManualClock

REDIS_BACKENDS = (
    ["fakeredis"]
    + (["redis"] if os.environ.get(infra.REDIS_URL_ENV) else [])
    + (["cluster"] if os.environ.get(infra.REDIS_CLUSTER_URL_ENV) else [])
)
KAFKA_BACKENDS = ["memory"] + (["kafka"] if os.environ.get(infra.KAFKA_BOOTSTRAP_ENV) else [])
ETCD_URL_ENV = "PATTERNS_ETCD_URL"
LEASE_BACKENDS = ["memory"] + (["etcd"] if os.environ.get(ETCD_URL_ENV) else [])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tag every test that uses a real server, so the summary can count them."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        if params.get("redis_backend") == "redis":
            item.add_marker(pytest.mark.real_redis)
        if params.get("redis_backend") == "cluster":
            item.add_marker(pytest.mark.real_cluster)
        if params.get("broker_kind") == "kafka":
            item.add_marker(pytest.mark.real_kafka)
        if params.get("lease_backend") == "etcd":
            item.add_marker(pytest.mark.real_etcd)


_real_counts: dict[str, dict[str, int]] = {"real_redis": {}, "real_cluster": {}, "real_kafka": {}, "real_etcd": {}}
_REAL_ENVS = (
    ("real_redis", infra.REDIS_URL_ENV, "the real server"),
    ("real_cluster", infra.REDIS_CLUSTER_URL_ENV, "the real Redis Cluster"),
    ("real_kafka", infra.KAFKA_BOOTSTRAP_ENV, "the real server"),
    ("real_etcd", ETCD_URL_ENV, "the real etcd"),
)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    for marker in _real_counts:
        if marker in report.keywords:
            counts = _real_counts[marker]
            counts[report.outcome] = counts.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = []
    for marker, env, what in _REAL_ENVS:
        counts = _real_counts[marker]
        total = sum(counts.values())
        where = os.environ.get(env)
        if where:
            detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
            lines.append(f"{total} tests ran against {what} at {infra.mask_url(where)} ({detail})")
        else:
            lines.append(f"{env} not set: real-server tests not collected (embedded backends only)")
    terminalreporter.write_sep("-", "real servers")
    for line in lines:
        terminalreporter.write_line(line)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def unique() -> str:
    """A key prefix no other test uses, so tests can share a real server safely."""
    return f"t{uuid.uuid4().hex[:12]}:"


@pytest.fixture(params=REDIS_BACKENDS)
def redis_backend(request: pytest.FixtureRequest, unique: str) -> Iterator[Any]:
    """A Redis client: fakeredis (isolated); the real server when PATTERNS_REDIS_URL is set; a
    ``redis.cluster.RedisCluster`` when PATTERNS_REDIS_CLUSTER_URL is set. The same contract runs on
    each and must make identical decisions."""
    if request.param == "fakeredis":
        yield infra.redis_client(url="", fresh=True)
        return
    if request.param == "cluster":
        client = infra.redis_cluster_client()
    else:
        client = infra.redis_client(os.environ[infra.REDIS_URL_ENV])
    yield client
    for key in client.scan_iter(match=f"*{unique}*", count=500):  # a cluster scans every master
        client.delete(key)
    client.close()  # (an unclosed socket warns when collected, failing whichever test runs then)


@pytest.fixture(params=KAFKA_BACKENDS)
def broker_kind(request: pytest.FixtureRequest) -> str:
    """'memory' always; 'kafka' too when PATTERNS_KAFKA_BOOTSTRAP is set."""
    return request.param


@pytest.fixture(params=LEASE_BACKENDS)
def lease_backend(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[Any]:
    """A lease service on the ``clock`` fixture: embedded, or the real etcd when PATTERNS_ETCD_URL is set."""
    from patterns.coordination import EtcdLeaseService, MemoryLeaseService

    if request.param == "memory":
        yield MemoryLeaseService(clock)
        return
    service = EtcdLeaseService(os.environ[ETCD_URL_ENV], clock=clock)
    yield service
    service.close()


# Hypothesis: no per-example deadline (CI machines are shared and slow); a fixed number of examples.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "default", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
