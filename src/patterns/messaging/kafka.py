"""The ``Broker`` protocol on kafka-python, for a real Kafka (or Kafka-protocol) cluster.

``broker_from_env()`` returns a ``KafkaBroker`` when ``PATTERNS_KAFKA_BOOTSTRAP`` is set, so the
same lab cells run on the in-process broker and on a workshop cluster. Semantics match
``InMemoryBroker`` where Kafka has them: murmur2 key partitioning (the Kafka default), consumer
groups with rebalancing, manual commits (``enable.auto.commit=false``), ``close`` without commit,
``seek``. Kafka has no per-record delivery counter, so ``max_deliveries`` does not exist here; use
``process_with_retries`` for dead letters (it works on both). Retention is a topic setting of the
cluster (``retention.ms``), not a constructor argument.

Group timeouts live in ONE place, the constants below. Kafka's defaults (45 s session) make the
first join of a group take about 23 s; labs and tests cannot wait that long, so we use a 3 s session
and a 1 s heartbeat: a join takes about 2 s, and a consumer that dies without ``close`` is noticed
after 3 s. That is right for a laptop or a classroom, too twitchy for production, where a long GC
pause or a slow batch would then trigger needless rebalances. ``max.poll.interval.ms`` stays at its
default (5 min): a small one would force rejoins while a learner pauses in a notebook.
"""

from __future__ import annotations

import contextlib
import itertools
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from patterns import infra
from patterns.clock import Clock
from patterns.messaging.memory import InMemoryBroker
from patterns.messaging.protocol import (
    Broker,
    Event,
    PublishResult,
    Record,
    Start,
    UnknownTopicError,
    check_group,
    check_headers,
    check_key,
    check_max_records,
    check_partitions,
    check_subscription,
    check_topic_name,
)
from patterns.messaging.serde import JsonSerde, Serde

__all__ = [
    "KafkaBroker",
    "KafkaConsumerAdapter",
    "broker_from_env",
    "unique_name",
    "SESSION_TIMEOUT_MS",
    "HEARTBEAT_INTERVAL_MS",
    "JOIN_TIMEOUT_S",
    "POLL_TIMEOUT_S",
]

SESSION_TIMEOUT_MS = 3000  # a member silent this long is evicted; Kafka's default is 45000
HEARTBEAT_INTERVAL_MS = 1000  # must be well below the session timeout; Kafka's default is 3000
JOIN_TIMEOUT_S = 20.0  # the first poll waits at most this long for the group to assign partitions
POLL_TIMEOUT_S = 1.0  # poll(timeout=None) waits this long for records once partitions are assigned
SCAN_POLL_MS = 300  # group-less scans (read, end_offsets) stop after a poll this long comes back empty
SEND_TIMEOUT_S = 10.0  # publish waits this long for the broker's acknowledgement


def _kafka() -> Any:
    """Import kafka-python, silencing its import-time DeprecationWarning (fatal under -W error)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r".*(read_text|open_text) is deprecated", DeprecationWarning)
        import kafka
        import kafka.admin
        import kafka.errors
    return kafka


class KafkaBroker:
    """A ``Broker`` backed by a Kafka cluster at ``bootstrap`` (``host:port[,host:port]``)."""

    def __init__(
        self,
        bootstrap: str | None = None,
        *,
        serde: Serde | None = None,
        auto_create_topics: bool = False,
        default_partitions: int = 1,
        client_id: str = "patterns",
    ) -> None:
        bootstrap = bootstrap if bootstrap is not None else infra.kafka_bootstrap()
        if not bootstrap:
            raise ValueError(
                f"bootstrap must be host:port (or set {infra.KAFKA_BOOTSTRAP_ENV}), got {bootstrap!r}"
            )
        self._probe(bootstrap)
        kafka = _kafka()
        self.bootstrap = bootstrap
        self.serde: Serde = serde if serde is not None else JsonSerde()
        self.auto_create_topics = auto_create_topics
        self.default_partitions = check_partitions(default_partitions)
        self.client_id = client_id
        self._admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{client_id}-admin")
        self._producer = kafka.KafkaProducer(bootstrap_servers=bootstrap, client_id=f"{client_id}-producer")
        self._scanner: Any = None  # a group-less consumer for read() and end_offsets(), made on demand
        self._partitions: dict[str, int] = {}
        self._consumers: list[KafkaConsumerAdapter] = []
        self._member_ids = itertools.count(1)

    @staticmethod
    def _probe(bootstrap: str) -> None:
        """Fail within about 3 s, naming the address, instead of a 30 s client hang."""
        first = bootstrap.split(",")[0].strip()
        host, _, port = first.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"bootstrap must look like host:port, got {bootstrap!r}")
        if not infra.probe_tcp(host, int(port), timeout=3.0):
            from patterns.errors import BackendUnavailable

            raise BackendUnavailable(f"Kafka bootstrap {bootstrap} is unreachable")

    # --- topics and publishing ---------------------------------------------------------------

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create ``name`` with ``partitions`` partitions; a no-op if it already exists."""
        check_topic_name(name)
        check_partitions(partitions)
        kafka = _kafka()
        if name in self._partitions or self._refresh(name):
            return
        with contextlib.suppress(kafka.errors.TopicAlreadyExistsError):  # created meanwhile: fine
            self._admin.create_topics([kafka.admin.NewTopic(name, partitions, 1)])
        self._admin.wait_for_topics([name])
        self._partitions[name] = partitions

    def topics(self) -> dict[str, int]:
        """Every (non-internal) topic on the cluster and its partition count."""
        names = [n for n in self._admin.list_topics() if not n.startswith("__")]
        for info in self._admin.describe_topics(names) if names else []:
            if not info.get("error_code") and info.get("partitions"):
                self._partitions[info["name"]] = len(info["partitions"])
        return {n: self._partitions[n] for n in names if n in self._partitions}

    def publish(
        self, topic: str, value: Any, *, key: str | None = None, headers: Mapping[str, str] | None = None
    ) -> PublishResult:
        """Send and wait for the broker's acknowledgement (so the offset is known)."""
        return self._send([(key, value)], topic, headers)[0]

    def publish_many(self, topic: str, items: Sequence[tuple[str | None, Any]]) -> list[PublishResult]:
        """Send all ``(key, value)`` pairs, then wait once: far faster than one ``publish`` each."""
        return self._send(list(items), topic, None)

    def _send(
        self, items: list[tuple[str | None, Any]], topic: str, headers: Mapping[str, str] | None
    ) -> list[PublishResult]:
        self._topic(topic)
        hdrs = [(k, v.encode("utf-8")) for k, v in check_headers(headers).items()]
        futures = []
        for key, value in items:
            if key is None and isinstance(value, Event):
                key = value.key
            check_key(key)
            data = self.serde.dumps(value)
            raw_key = None if key is None else key.encode("utf-8")
            futures.append(self._producer.send(topic, key=raw_key, value=data, headers=hdrs))
        self._producer.flush(timeout=SEND_TIMEOUT_S)
        metas = [f.get(timeout=SEND_TIMEOUT_S) for f in futures]
        return [PublishResult(topic, m.partition, m.offset) for m in metas]

    # --- reading without a group --------------------------------------------------------------

    def read(self, topic: str) -> list[Record]:
        """Every retained record of ``topic``, partition by partition, in offset order."""
        records = self._scan(topic, from_end=False)[0]
        return sorted(records, key=lambda r: (r.partition, r.offset))

    def end_offsets(self, topic: str) -> dict[int, int]:
        """The next offset of each partition, confirmed by fetching past the reported end.

        (Some Kafka-protocol brokers, tansu among them, report a too-small end after batched
        sends; reading from the reported end to the true one makes the answer exact everywhere.)
        """
        return self._scan(topic, from_end=True)[1]

    def committed(self, topic: str, *, group: str) -> dict[int, int]:
        """The group's committed offset per partition (0 where it never committed)."""
        check_group(group)
        n = self._topic(topic)
        answer = self._admin.list_group_offsets(group)
        offsets = answer.get(group, answer) if isinstance(answer, dict) else {}
        out = {p: 0 for p in range(n)}
        for tp, meta in offsets.items():
            if tp.topic == topic and meta is not None and meta.offset >= 0:
                out[tp.partition] = meta.offset
        return out

    def lag(self, topic: str, *, group: str) -> dict[int, int]:
        ends = self.end_offsets(topic)
        committed = self.committed(topic, group=group)
        return {p: ends[p] - committed[p] for p in ends}

    # --- groups --------------------------------------------------------------------------------

    def subscribe(
        self,
        topics: str | Sequence[str],
        *,
        group: str,
        member: str | None = None,
        start: Start = "earliest",
    ) -> KafkaConsumerAdapter:
        """Join ``group`` as ``member``; the group assigns partitions during the first poll."""
        names = check_subscription(topics, group, start)
        for name in names:
            self._topic(name)
        member = member if member is not None else f"{group}-{next(self._member_ids)}"
        consumer = _kafka().KafkaConsumer(
            *names,
            bootstrap_servers=self.bootstrap,
            group_id=group,
            client_id=member,
            enable_auto_commit=False,
            auto_offset_reset=start,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
        )
        adapter = KafkaConsumerAdapter(self, consumer, group, member, tuple(names))
        self._consumers.append(adapter)
        return adapter

    def close(self) -> None:
        """Close consumers (without committing), the producer and the admin client."""
        for adapter in self._consumers:
            adapter.close()
        if self._scanner is not None:
            self._scanner.close(autocommit=False)
        self._producer.close(timeout=SEND_TIMEOUT_S)
        self._admin.close()

    # --- internals ------------------------------------------------------------------------------

    def _refresh(self, topic: str) -> bool:
        """Learn ``topic``'s partition count from the cluster; False if it does not exist."""
        try:
            described = self._admin.describe_topics([topic])
        except _kafka().errors.UnknownTopicOrPartitionError:
            return False
        for info in described:
            if info.get("name") == topic and not info.get("error_code") and info.get("partitions"):
                self._partitions[topic] = len(info["partitions"])
                return True
        return False

    def _topic(self, topic: str) -> int:
        check_topic_name(topic)
        if topic in self._partitions or self._refresh(topic):
            return self._partitions[topic]
        if not self.auto_create_topics:
            raise UnknownTopicError(topic)
        self.create_topic(topic, self.default_partitions)
        return self._partitions[topic]

    def _scan(self, topic: str, *, from_end: bool) -> tuple[list[Record], dict[int, int]]:
        kafka = _kafka()
        n = self._topic(topic)
        if self._scanner is None:
            self._scanner = kafka.KafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=None,
                enable_auto_commit=False,
                client_id=f"{self.client_id}-scanner",
            )
        tps = [kafka.TopicPartition(topic, p) for p in range(n)]
        self._scanner.assign(tps)
        reported = self._scanner.end_offsets(tps)
        if from_end:
            for tp, end in reported.items():
                self._scanner.seek(tp, end)
        else:
            self._scanner.seek_to_beginning(*tps)
        records: list[Record] = []
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while True:
            batch = self._scanner.poll(timeout_ms=SCAN_POLL_MS)
            for raw in itertools.chain.from_iterable(batch.values()):
                records.append(_to_record(raw, self.serde))
            behind = any(self._scanner.position(tp) < reported[tp] for tp in tps)
            if (not batch and not behind) or time.monotonic() > deadline:
                break
        ends = {tp.partition: self._scanner.position(tp) for tp in tps}
        return records, ends

    def __repr__(self) -> str:
        return f"KafkaBroker(bootstrap={self.bootstrap!r})"


def _to_record(raw: Any, serde: Serde) -> Record:
    headers = {k: (v.decode("utf-8") if isinstance(v, bytes) else str(v)) for k, v in (raw.headers or [])}
    key = raw.key.decode("utf-8") if raw.key is not None else None
    return Record(
        raw.topic, raw.partition, raw.offset, key, serde.loads(raw.value), headers, raw.timestamp / 1000.0
    )


class KafkaConsumerAdapter:
    """A group member on Kafka, with the ``Consumer`` protocol's calls."""

    def __init__(
        self, broker: KafkaBroker, consumer: Any, group: str, member: str, topics: tuple[str, ...]
    ) -> None:
        self.broker = broker
        self.group = group
        self.member = member
        self.topics = topics
        self.closed = False
        self._consumer = consumer
        self._joined = False  # the first poll waits for the group's assignment, later ones do not

    def poll(self, max_records: int = 100, timeout: float | None = None) -> list[Record]:
        """Up to ``max_records`` records; the first call also waits for the group to assign partitions."""
        check_max_records(max_records)
        self._check_open()
        if timeout is None:
            if not self._joined:
                self.wait_for_assignment()
            timeout = POLL_TIMEOUT_S
        batch = self._consumer.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        records = [
            _to_record(raw, self.broker.serde) for raw in itertools.chain.from_iterable(batch.values())
        ]
        return records

    def wait_for_assignment(self, timeout: float = JOIN_TIMEOUT_S) -> set[tuple[str, int]]:
        """Block (polling) until the group gave this member its partitions, or ``timeout`` passed.

        Polls with ``max_records=1`` and seeks back, so no record is consumed while waiting.
        """
        deadline = time.monotonic() + timeout
        while not self._consumer.assignment() and time.monotonic() < deadline:
            batch = self._consumer.poll(timeout_ms=100, max_records=1)
            for tp, raws in batch.items():
                self._consumer.seek(tp, raws[0].offset)  # give it back: waiting must not consume
        self._joined = self._joined or bool(self._consumer.assignment())
        return self.assignment()

    def commit(self) -> None:
        self._check_open()
        self._consumer.commit()

    def seek(self, topic: str, partition: int, offset: int) -> None:
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be an integer >= 0, got {offset!r}")
        self._check_open()
        self.wait_for_assignment()
        tp = _kafka().TopicPartition(topic, partition)
        if tp not in self._consumer.assignment():
            raise ValueError(
                f"partition {topic}/{partition} is not assigned to {self.member}; "
                f"assignment is {sorted(self.assignment())}"
            )
        self._consumer.seek(tp, offset)

    def seek_to_beginning(self) -> None:
        self._check_open()
        self.wait_for_assignment()
        self._consumer.seek_to_beginning()

    def assignment(self) -> set[tuple[str, int]]:
        if self.closed:
            return set()
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def position(self, topic: str, partition: int) -> int:
        return self._consumer.position(_kafka().TopicPartition(topic, partition))

    def close(self) -> None:
        """Leave the group without committing (``autocommit=False``): uncommitted records are redelivered."""
        if not self.closed:
            self.closed = True
            self._consumer.close(autocommit=False)

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError(f"consumer {self.member} of group {self.group!r} is closed")

    def __enter__(self) -> KafkaConsumerAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KafkaConsumerAdapter(group={self.group!r}, member={self.member!r})"


def broker_from_env(clock: Clock | None = None, **options: Any) -> Broker:
    """``KafkaBroker`` if ``PATTERNS_KAFKA_BOOTSTRAP`` is set (and reachable), else ``InMemoryBroker``.

    ``options`` common to both (``serde``, ``auto_create_topics``, ``default_partitions``) are
    passed on; memory-only ones (``retention``, ``max_deliveries``) are refused for Kafka.
    The clock only drives the in-process broker: Kafka stamps records with the broker's time.
    """
    bootstrap = infra.kafka_bootstrap()
    if bootstrap:
        memory_only = set(options) & {"retention", "max_deliveries", "poll_timeout"}
        if memory_only:
            raise ValueError(
                f"{sorted(memory_only)} apply to InMemoryBroker only, not to Kafka at {bootstrap}"
            )
        return KafkaBroker(bootstrap, **options)
    return InMemoryBroker(clock=clock, **options)


def unique_name(prefix: str) -> str:
    """``prefix`` plus a random suffix: topic and group names that never collide on a shared cluster."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
