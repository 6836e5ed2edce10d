"""broker_from_env and KafkaBroker's fail-fast checks (no Kafka needed: they must fail before any I/O)."""

from __future__ import annotations

import pytest

from patterns import infra
from patterns.errors import BackendUnavailable
from patterns.messaging import InMemoryBroker, KafkaBroker, broker_from_env
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
