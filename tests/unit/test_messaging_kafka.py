"""broker_from_env and KafkaBroker's fail-fast checks (no Kafka needed: they must fail before any I/O),
and, on the real broker, namespace isolation (issue 11)."""

from __future__ import annotations

import os
import uuid

import pytest

from patterns import infra
from patterns.errors import BackendUnavailable
from patterns.messaging import InMemoryBroker, KafkaBroker, broker_from_env, drain
from patterns.messaging import kafka as kafka_module
from tests.helpers import closed_port


def test_without_the_variable_the_in_process_broker_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(infra.KAFKA_BOOTSTRAP_ENV, raising=False)
    broker = broker_from_env(retention=60.0, auto_create_topics=True)
    assert isinstance(broker, InMemoryBroker) and broker.retention == 60.0


def test_an_unreachable_bootstrap_fails_fast_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    address = f"127.0.0.1:{closed_port()}"
    monkeypatch.setenv(infra.KAFKA_BOOTSTRAP_ENV, address)
    with pytest.raises(BackendUnavailable, match=address):
        broker_from_env()
    with pytest.raises(BackendUnavailable, match=address):
        KafkaBroker(address)


def test_memory_only_options_are_refused_for_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_module.infra, "kafka_bootstrap", lambda: "127.0.0.1:9")
    with pytest.raises(ValueError, match="InMemoryBroker only"):
        broker_from_env(max_deliveries=3)


def test_bad_bootstrap_strings_are_refused() -> None:
    with pytest.raises(ValueError, match="host:port"):
        KafkaBroker("localhost")
    with pytest.raises(ValueError, match="bootstrap must be"):
        KafkaBroker("")


def test_group_timeouts_suit_labs_and_keep_kafkas_rules() -> None:
    assert kafka_module.HEARTBEAT_INTERVAL_MS * 3 <= kafka_module.SESSION_TIMEOUT_MS <= 10_000
    assert kafka_module.JOIN_TIMEOUT_S > kafka_module.SESSION_TIMEOUT_MS / 1000


REAL = ["kafka"] if os.environ.get(infra.KAFKA_BOOTSTRAP_ENV) else []


@pytest.mark.parametrize("broker_kind", REAL)
def test_two_namespaces_on_one_real_broker_never_see_each_others_topics_records_or_groups(
    broker_kind: str,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    a = KafkaBroker(os.environ[infra.KAFKA_BOOTSTRAP_ENV], namespace=f"alice-{suffix}")
    b = KafkaBroker(os.environ[infra.KAFKA_BOOTSTRAP_ENV], namespace=f"bob-{suffix}")
    try:
        for broker in (a, b):
            broker.create_topic("orders", partitions=2)  # callers say "orders", as labs do
        a.create_topic("only-alice")
        a.publish_many("orders", [(f"o{i}", {"by": "alice", "n": i}) for i in range(3)])
        b.publish("orders", {"by": "bob", "n": 0}, key="o0")
        assert [r.value["by"] for r in a.read("orders")] == ["alice"] * 3
        assert [(r.topic, r.value["by"]) for r in b.read("orders")] == [("orders", "bob")]
        assert "only-alice" in a.topics() and "only-alice" not in b.topics()
        assert set(b.topics()) == {"orders"}
        wire = set(a._admin.list_topics())
        assert {f"alice-{suffix}.orders", f"bob-{suffix}.orders", f"alice-{suffix}.only-alice"} <= wire
        email_a = a.subscribe("orders", group="email")  # the same group name in both namespaces
        email_b = b.subscribe("orders", group="email")
        got_a = [r.value["n"] for r in drain(email_a)]
        got_b = [r.value["by"] for r in drain(email_b)]
        email_a.commit()
        assert sorted(got_a) == [0, 1, 2] and got_b == ["bob"]
        assert sum(a.committed("orders", group="email").values()) == 3
        assert sum(b.committed("orders", group="email").values()) == 0, "bob's group is another group"
        assert email_a.assignment() == {("orders", 0), ("orders", 1)}
        groups = {g["group_id"] if isinstance(g, dict) else g[0] for g in a._admin.list_groups()}
        assert f"alice-{suffix}.email" in groups and "email" not in groups
    finally:
        a.close()
        b.close()
