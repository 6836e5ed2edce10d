"""Pick a broker from the environment, and name things so that runs never collide.

``broker_from_env()`` returns a ``KafkaBroker`` when ``PATTERNS_KAFKA_BOOTSTRAP`` is set, else an
``InMemoryBroker``: the same lab cells run on a laptop and on a workshop cluster. kafka-python is
imported only when a Kafka broker is asked for.
"""

from __future__ import annotations

import uuid
from typing import Any

from patterns import infra
from patterns._validate import require_text
from patterns.clock import Clock
from patterns.messaging.memory import InMemoryBroker
from patterns.messaging.protocol import Broker

__all__ = ["broker_from_env", "unique_name", "MEMORY_ONLY_OPTIONS"]

#: ``InMemoryBroker`` options that a Kafka cluster configures on its side (or does not have).
MEMORY_ONLY_OPTIONS = frozenset({"retention", "max_deliveries", "poll_timeout"})


def broker_from_env(clock: Clock | None = None, **options: Any) -> Broker:
    """``KafkaBroker`` if ``PATTERNS_KAFKA_BOOTSTRAP`` is set (and reachable), else ``InMemoryBroker``.

    ``options`` common to both (``serde``, ``auto_create_topics``, ``default_partitions``,
    ``max_message_bytes``) are passed on; memory-only ones (``retention``, ``max_deliveries``,
    ``poll_timeout``) are refused for Kafka. The clock only drives the in-process broker: Kafka stamps
    records with the broker's time.
    """
    bootstrap = infra.kafka_bootstrap()
    if bootstrap:
        memory_only = set(options) & MEMORY_ONLY_OPTIONS
        if memory_only:
            raise ValueError(
                f"{sorted(memory_only)} apply to InMemoryBroker only, not to Kafka at {bootstrap}"
            )
        from patterns.messaging.kafka import KafkaBroker

        return KafkaBroker(bootstrap, **options)
    return InMemoryBroker(clock=clock, **options)


def unique_name(prefix: str) -> str:
    """``prefix`` plus a random suffix: a topic or group name no earlier run has used.

    A shared cluster keeps topics after a run; with ``PATTERNS_NAMESPACE`` set, a re-run of a lab
    would otherwise find its own old records.
    """
    return f"{require_text(prefix, 'prefix', max_length=180)}-{uuid.uuid4().hex[:8]}"
