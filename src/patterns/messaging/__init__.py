"""Messaging: brokers, consumer groups, outbox, idempotent consumers and work queues.

One small ``Broker`` protocol, two implementations that pass one contract test suite:

* ``InMemoryBroker`` - Kafka's model in one process: partitions, keys, consumer groups, committed
  offsets, rebalancing, replay, retention, dead letters. Deterministic with a ``ManualClock``.
* ``KafkaBroker`` - the same calls on kafka-python against a real Kafka-protocol broker, every topic
  and group prefixed with the learner's namespace. ``broker_from_env()`` picks it when
  ``PATTERNS_KAFKA_BOOTSTRAP`` is set, so a lab runs unchanged on a laptop and on a workshop cluster.

On top of any broker:

* ``Outbox`` + ``OutboxRelay`` - write the business row and the event in ONE SQLite transaction,
  publish afterwards: no event lost, no event for a rolled-back change (the dual-write fix).
* ``IdempotentConsumer`` - remember processed event ids in the consumer's own transaction, so
  at-least-once delivery has a once-only effect.
* ``WorkQueue`` - the message-queue style: competing consumers, ack/nack, retries with backoff
  (``patterns.resilience.Backoff``), a dead-letter list.
* ``drain``, ``drain_together``, ``process_with_retries``, ``replay_dead_letters`` - consumer loops
  for any broker (``patterns.messaging.consumers``).

Files: ``protocol.py`` (the contract), ``memory.py``, ``kafka.py`` (the two brokers), ``consumers.py``,
``factory.py`` (``broker_from_env``, ``unique_name``), ``outbox.py``, ``idempotent.py``,
``workqueue.py``, ``serde.py`` (bytes, partitions, record sizes), ``ids.py`` (event ids),
``validation.py`` (the argument rules both brokers share).

Quick tour::

    from patterns.clock import ManualClock
    from patterns.messaging import Event, InMemoryBroker

    broker = InMemoryBroker(clock=ManualClock())
    broker.create_topic("orders", partitions=3)
    broker.publish("orders", Event("OrderPlaced", key="order-1", data={"total": 42.0}))
    email = broker.subscribe("orders", group="email", member="email-1")
    for record in email.poll():
        print(record.partition, record.offset, record.value["type"])
    email.commit()

The full API sketch is in the chapter "Event-driven architecture" and in each class's docstring.
"""

from patterns.messaging.consumers import (
    RetryStats,
    drain,
    drain_together,
    process_with_retries,
    replay_dead_letters,
)
from patterns.messaging.factory import broker_from_env, unique_name
from patterns.messaging.idempotent import IdempotentConsumer
from patterns.messaging.kafka import KafkaBroker, KafkaConsumerAdapter
from patterns.messaging.memory import InMemoryBroker, MemoryConsumer
from patterns.messaging.outbox import Outbox, OutboxRelay
from patterns.messaging.protocol import (
    DEFAULT_MAX_MESSAGE_BYTES,
    Broker,
    Consumer,
    Event,
    MessageTooLarge,
    PublishResult,
    Record,
    UnknownTopicError,
    UnsupportedOperation,
    new_event_id,
)
from patterns.messaging.serde import BytesSerde, JsonSerde, Serde, murmur2, partition_for, record_size
from patterns.messaging.workqueue import DeadLetter, Message, WorkQueue

__all__ = [
    "Broker",
    "Consumer",
    "Record",
    "PublishResult",
    "Event",
    "new_event_id",
    "UnknownTopicError",
    "MessageTooLarge",
    "UnsupportedOperation",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "drain",
    "drain_together",
    "process_with_retries",
    "replay_dead_letters",
    "RetryStats",
    "Serde",
    "JsonSerde",
    "BytesSerde",
    "murmur2",
    "partition_for",
    "record_size",
    "InMemoryBroker",
    "MemoryConsumer",
    "KafkaBroker",
    "KafkaConsumerAdapter",
    "broker_from_env",
    "unique_name",
    "Outbox",
    "OutboxRelay",
    "IdempotentConsumer",
    "WorkQueue",
    "Message",
    "DeadLetter",
]
