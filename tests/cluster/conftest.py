"""A real Redis Cluster for the tests in this folder, and the figures they report.

``cluster_url`` is ``PATTERNS_REDIS_CLUSTER_URL`` when set (CI starts one with
``scripts/redis_cluster.sh``); otherwise these tests start a private 3-master + 3-replica cluster on
loopback for the session and stop it by pid: they never skip. Tests that kill nodes (failover)
always start their own cluster.

Figures the experiments measure (redirections, lost writes) are collected with ``report_figure``
and printed in the terminal summary, so the CI log shows them without ``-s``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from patterns import infra
from patterns.sharding import SLOTS, SlotRouter
from patterns.sharding.cluster import LiveCluster
from tests.redis_server import RedisClusterServers

_FIGURES: list[str] = []
_FIGURE = "redis-cluster-figure"  # the user_properties name a figure travels under


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Count the tests that use the configured cluster with the contract tests' cluster runs.

    This folder's tests migrate slots on one shared cluster, so two of them must never run at once:
    ``make unit`` runs the folder in a pytest of its own, without pytest-xdist."""
    if not infra.redis_cluster_url():
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent != here:
            continue
        callspec = getattr(item, "callspec", None)
        live_param = callspec is not None and callspec.params.get("cluster") == "live"
        if live_param or {"cluster_url", "live"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real_cluster)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.write_sep("-", "Redis Cluster figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Gather the figures from the test reports: under pytest-xdist a test runs in a worker process,
    and its report (with its ``user_properties``) is what reaches the process that prints."""
    if report.when == "teardown":
        _FIGURES.extend(str(value) for name, value in report.user_properties if name == _FIGURE)


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``report_figure("...")``: a line for the terminal summary (and the captured output)."""

    def report(line: str) -> None:
        print(line)
        request.node.user_properties.append((_FIGURE, line))

    return report


@pytest.fixture(scope="session")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = infra.redis_cluster_url()
    if configured:
        yield configured
        return
    with RedisClusterServers(tmp_path_factory.mktemp("cluster"), masters=3, replicas=1) as servers:
        yield servers.cluster_url


@pytest.fixture
def live(cluster_url: str) -> Iterator[LiveCluster]:
    """The cluster, checked after the test: every master still sees the slots as
    ``redis-cli --cluster create`` laid them out, and no slot is left migrating or importing."""
    cluster = LiveCluster(cluster_url)
    yield cluster
    try:
        layout = SlotRouter(cluster.masters)
        expected = [layout.owner_of_slot(slot) for slot in range(SLOTS)]
        for master in cluster.masters:
            assert cluster.slot_owners(master) == expected, f"{master} sees a changed slot layout"
            assert cluster.open_slots(master) == {}, f"{master} has open slots"
    finally:
        cluster.close()
