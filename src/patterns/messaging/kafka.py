"""The ``Broker`` protocol on kafka-python, for a real Kafka (or Kafka-protocol) cluster.

``broker_from_env()`` (in ``patterns.messaging.factory``) returns a ``KafkaBroker`` when
``PATTERNS_KAFKA_BOOTSTRAP`` is set, so the same lab cells run on the in-process broker and on a
workshop cluster. Semantics match ``InMemoryBroker`` where Kafka has them: murmur2 key partitioning
(the Kafka default), consumer groups with rebalancing, manual commits (``enable.auto.commit=false``),
``close`` without commit, ``seek``, the 1 MiB record limit (``MessageTooLarge`` on both), and
``start="latest"`` fixed at ``subscribe`` (kafka-python alone would fix it at the first poll).

**Namespaces.** On a shared cluster every topic and consumer group this broker creates is named
``<namespace>.<name>`` (``patterns.keys.kafka_name``; the namespace is ``PATTERNS_NAMESPACE`` or one
derived per process). Callers never see it: they create ``"orders"``, records say ``"orders"``,
``topics()`` lists only this namespace's topics without the prefix. Two learners on one broker both
have an ``orders`` topic and an ``email`` group, and neither sees the other's.

**Deliberate differences from ``InMemoryBroker``** (the contract does not fix them, so code must not
depend on them):

* *who owns which partition*: in memory, round-robin over members sorted by name; Kafka's range
  assignor orders members by their broker-generated member ids, so the split is the same size but
  may fall on different members;
* *records without a key*: round-robin over partitions in memory; kafka-python's default partitioner
  picks a random partition for each (the Java client's sticky partitioner fills a batch on one
  partition, then moves to another);
* *when a rebalance happens*: in memory at once, inside ``subscribe`` and ``close``; on Kafka during
  the members' next polls (a group only settles while every member polls), and a member that dies
  without ``close`` is noticed only after the session timeout (3 s here);
* ``max_deliveries`` and ``retention`` are memory-only options (Kafka has no per-record delivery
  counter; retention is the topic setting ``retention.ms``): use ``process_with_retries`` for dead
  letters, which works on both;
* a duplicate member name is refused only among members created by the same ``KafkaBroker`` object:
  Kafka identifies a member by an id the broker generates, and the name (``client.id``) is a label
  that another process may reuse.

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
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from patterns import infra
from patterns._validate import require_instance, require_seconds, require_text
from patterns.errors import BackendUnavailable
from patterns.keys import kafka_name, namespace, validate_namespace
from patterns.messaging.protocol import (
    DEFAULT_MAX_MESSAGE_BYTES,
    MessageTooLarge,
    PublishResult,
    Record,
    Start,
    UnknownTopicError,
    UnsupportedOperation,
)
from patterns.messaging.serde import JsonSerde, Serde
from patterns.messaging.validation import (
    prepare_record,
    require_group,
    require_growth,
    require_max_message_bytes,
    require_max_records,
    require_new_member,
    require_offset,
    require_partition,
    require_partitions,
    require_poll_timeout,
    require_subscription,
    require_topic,
)

__all__ = [
    "KafkaBroker",
    "KafkaConsumerAdapter",
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
        namespace: str | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        bootstrap = bootstrap if bootstrap is not None else infra.kafka_bootstrap()
        if not bootstrap:
            raise ValueError(
                f"bootstrap must be host:port (or set {infra.KAFKA_BOOTSTRAP_ENV}), got {bootstrap!r}"
            )
        require_text(bootstrap, "bootstrap")
        self.serde: Serde = require_instance(serde, "serde", Serde) if serde is not None else JsonSerde()
        self.auto_create_topics = require_instance(auto_create_topics, "auto_create_topics", bool)
        self.default_partitions = require_partitions(default_partitions, "default_partitions")
        self.client_id = require_text(client_id, "client_id", max_length=200)
        self.namespace = validate_namespace(namespace) if namespace is not None else _default_namespace()
        self._max_message_bytes = require_max_message_bytes(max_message_bytes)
        self._probe(bootstrap)
        kafka = _kafka()
        self.bootstrap = bootstrap
        self._admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{client_id}-admin")
        self._producer = kafka.KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=f"{client_id}-producer",
            max_request_size=self._max_message_bytes,  # the client's limit is ours: one number, one error
        )
        self._scanner: Any = None  # a group-less consumer for read() and end_offsets(), made on demand
        self._partitions: dict[str, int] = {}  # by caller's topic name
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
            raise BackendUnavailable(f"Kafka bootstrap {bootstrap} is unreachable")

    @property
    def in_process(self) -> bool:
        """Always False: see ``Broker.in_process``."""
        return False

    @property
    def max_message_bytes(self) -> int:
        return self._max_message_bytes

    # --- names on the cluster ------------------------------------------------------------------

    def wire_name(self, name: str) -> str:
        """The name a topic or group has on the cluster: ``<namespace>.<name>``."""
        return kafka_name(name, self.namespace)

    def _local(self, wire: str) -> str:
        return wire[len(self.namespace) + 1 :]

    # --- topics and publishing ---------------------------------------------------------------

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create ``name`` with ``partitions`` partitions; a no-op if it already exists."""
        require_topic(name)
        require_partitions(partitions)
        kafka = _kafka()
        if name in self._partitions or self._refresh(name):
            return
        wire = self.wire_name(name)
        with contextlib.suppress(kafka.errors.TopicAlreadyExistsError):  # created meanwhile: fine
            self._admin.create_topics([kafka.admin.NewTopic(wire, partitions, 1)])
        self._admin.wait_for_topics([wire])
        self._partitions[name] = partitions

    def add_partitions(self, topic: str, total: int) -> None:
        """Grow ``topic`` to ``total`` partitions (Kafka's CreatePartitions); never shrinks.

        Raises ``UnsupportedOperation`` if the cluster does not implement CreatePartitions (tansu
        0.6, the book's CI broker, does not).
        """
        require_partitions(total, "total")
        kafka = _kafka()
        current = self._topic(topic)
        if require_growth(total, current) == current:
            return
        try:
            self._admin.create_partitions({self.wire_name(topic): kafka.admin.NewPartitions(total)})
        except kafka.errors.IncompatibleBrokerVersion as exc:
            raise UnsupportedOperation(
                f"the Kafka-protocol broker at {self.bootstrap} cannot add partitions ({exc}); "
                "create a new topic with more partitions and move consumers to it"
            ) from exc
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while self._partitions.get(topic) != total and time.monotonic() < deadline:
            self._refresh(topic)

    def topics(self) -> dict[str, int]:
        """Every topic of this namespace on the cluster and its partition count."""
        prefix = f"{self.namespace}."
        names = [n for n in self._admin.list_topics() if n.startswith(prefix)]
        for info in self._admin.describe_topics(names) if names else []:
            if not info.get("error_code") and info.get("partitions"):
                self._partitions[self._local(info["name"])] = len(info["partitions"])
        local = [self._local(n) for n in names]
        return {n: self._partitions[n] for n in sorted(local) if n in self._partitions}

    def publish(
        self, topic: str, value: Any, *, key: str | None = None, headers: Mapping[str, str] | None = None
    ) -> PublishResult:
        """Send and wait for the broker's acknowledgement (so the offset is known)."""
        return self._send(topic, [(key, value)], headers)[0]

    def publish_many(self, topic: str, items: Sequence[tuple[str | None, Any]]) -> list[PublishResult]:
        """Send all ``(key, value)`` pairs, then wait once: far faster than one ``publish`` each.

        Every item is validated and encoded first: if one is refused, none is sent.
        """
        return self._send(topic, list(items), None)

    def _send(
        self, topic: str, items: list[tuple[str | None, Any]], headers: Mapping[str, str] | None
    ) -> list[PublishResult]:
        self._topic(topic)
        records = [
            prepare_record(self.serde, topic, value, key, headers, self._max_message_bytes)
            for key, value in items
        ]
        kafka = _kafka()
        wire = self.wire_name(topic)
        try:
            futures = [
                self._producer.send(
                    wire,
                    key=None if key is None else key.encode("utf-8"),
                    value=data,
                    headers=[(k, v.encode("utf-8")) for k, v in hdrs.items()],
                )
                for key, data, hdrs in records
            ]
            self._producer.flush(timeout=SEND_TIMEOUT_S)
            metas = [f.get(timeout=SEND_TIMEOUT_S) for f in futures]
        except kafka.errors.MessageSizeTooLargeError as exc:  # the cluster's own limit is lower
            raise MessageTooLarge(topic, max(len(r[1]) for r in records), self._max_message_bytes) from exc
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
        require_group(group)
        n = self._topic(topic)
        answer = self._admin.list_group_offsets(self.wire_name(group))
        offsets = answer.get(self.wire_name(group), answer) if isinstance(answer, dict) else {}
        wire = self.wire_name(topic)
        out = {p: 0 for p in range(n)}
        for tp, meta in offsets.items():
            if tp.topic == wire and meta is not None and meta.offset >= 0:
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
        """Join ``group`` as ``member``; the group assigns partitions during the first poll.

        ``start="latest"`` is fixed here, not at the first poll: the end offsets are read now, and
        a partition the group has never committed starts there when it is assigned.
        """
        names = require_subscription(topics, group, member, start)
        for name in names:
            self._topic(name)
        member = member if member is not None else f"{group}-{next(self._member_ids)}"
        live = (c.member for c in self._consumers if c.group == group and not c.closed)
        require_new_member(member, group, live)
        latest: dict[tuple[str, int], int] = {}
        if start == "latest":  # an exact scan costs a few hundred ms: only when it is needed
            latest = {(name, p): end for name in names for p, end in self.end_offsets(name).items()}
        consumer = _kafka().KafkaConsumer(
            *[self.wire_name(n) for n in names],
            bootstrap_servers=self.bootstrap,
            group_id=self.wire_name(group),
            client_id=member,
            enable_auto_commit=False,
            # "latest" is resolved by the adapter at the end offsets read below, not by the client
            # at the first poll: "none" makes the client ask (NoOffsetForPartitionError) instead
            auto_offset_reset="earliest" if start == "earliest" else "none",
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
        )
        adapter = KafkaConsumerAdapter(self, consumer, group, member, tuple(names), latest)
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
        wire = self.wire_name(topic)
        try:
            described = self._admin.describe_topics([wire])
        except _kafka().errors.UnknownTopicOrPartitionError:
            return False
        for info in described:
            if info.get("name") == wire and not info.get("error_code") and info.get("partitions"):
                self._partitions[topic] = len(info["partitions"])
                return True
        return False

    def _topic(self, topic: str) -> int:
        require_topic(topic)
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
        tps = [kafka.TopicPartition(self.wire_name(topic), p) for p in range(n)]
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
                records.append(self._to_record(raw))
            behind = any(self._scanner.position(tp) < reported[tp] for tp in tps)
            if (not batch and not behind) or time.monotonic() > deadline:
                break
        ends = {tp.partition: int(self._scanner.position(tp)) for tp in tps}
        return records, ends

    def _to_record(self, raw: Any) -> Record:
        headers = {k: (v.decode("utf-8") if isinstance(v, bytes) else str(v)) for k, v in (raw.headers or [])}
        key = raw.key.decode("utf-8") if raw.key is not None else None
        return Record(
            self._local(raw.topic),
            raw.partition,
            raw.offset,
            key,
            self.serde.loads(raw.value),
            headers,
            raw.timestamp / 1000.0,
        )

    def __repr__(self) -> str:
        return f"KafkaBroker(bootstrap={self.bootstrap!r}, namespace={self.namespace!r})"


def _default_namespace() -> str:
    return namespace()


class KafkaConsumerAdapter:
    """A group member on Kafka, with the ``Consumer`` protocol's calls (caller's topic names)."""

    def __init__(
        self,
        broker: KafkaBroker,
        consumer: Any,
        group: str,
        member: str,
        topics: tuple[str, ...],
        latest: dict[tuple[str, int], int] | None = None,
    ) -> None:
        self.broker = broker
        self.group = group
        self.member = member
        self.topics = topics
        self.start: Start = "earliest" if latest is None else "latest"
        self.closed = False
        self._consumer = consumer
        self._latest = latest  # start="latest": the end offsets read at subscribe
        self._joined = False  # the first poll waits for the group's assignment, later ones do not

    def poll(self, max_records: int = 100, timeout: float | None = None) -> list[Record]:
        """Up to ``max_records`` records; the first call also waits for the group to assign partitions."""
        require_max_records(max_records)
        timeout = require_poll_timeout(timeout)
        self._ensure_open()
        if timeout is None:
            if not self._joined:
                self.wait_for_assignment()
            timeout = POLL_TIMEOUT_S
        batch = self._poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        return [self.broker._to_record(raw) for raw in itertools.chain.from_iterable(batch.values())]

    def _poll(self, *, timeout_ms: int, max_records: int) -> Any:
        """The client's poll, starting never-committed partitions at the end read at subscribe."""
        errors = _kafka().errors
        for _ in range(3):  # a rebalance may hand over new partitions between two tries
            try:
                return self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
            except errors.NoOffsetForPartitionError as exc:  # only with start="latest"
                for tp in exc.args[0]:
                    local = (self.broker._local(tp.topic), tp.partition)
                    self._consumer.seek(tp, (self._latest or {}).get(local, 0))  # added since: 0
        return self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)

    def wait_for_assignment(self, timeout: float = JOIN_TIMEOUT_S) -> set[tuple[str, int]]:
        """Block (polling) until the group gave this member its partitions, or ``timeout`` passed.

        Polls with ``max_records=1`` and seeks back, so no record is consumed while waiting.
        """
        require_seconds(timeout, "timeout")
        deadline = time.monotonic() + timeout
        while not self._consumer.assignment() and time.monotonic() < deadline:
            batch = self._poll(timeout_ms=100, max_records=1)
            for tp, raws in batch.items():
                self._consumer.seek(tp, raws[0].offset)  # give it back: waiting must not consume
        self._joined = self._joined or bool(self._consumer.assignment())
        return self.assignment()

    def commit(self) -> None:
        self._ensure_open()
        self._consumer.commit()

    def seek(self, topic: str, partition: int, offset: int) -> None:
        require_topic(topic)
        require_partition(partition)
        require_offset(offset)
        self._ensure_open()
        self.wait_for_assignment()
        tp = _kafka().TopicPartition(self.broker.wire_name(topic), partition)
        if tp not in self._consumer.assignment():
            raise ValueError(
                f"partition {topic}/{partition} is not assigned to {self.member}; "
                f"assignment is {sorted(self.assignment())}"
            )
        self._consumer.seek(tp, offset)

    def seek_to_beginning(self) -> None:
        self._ensure_open()
        self.wait_for_assignment()
        self._consumer.seek_to_beginning()

    def assignment(self) -> set[tuple[str, int]]:
        if self.closed:
            return set()
        return {(self.broker._local(tp.topic), tp.partition) for tp in self._consumer.assignment()}

    def position(self, topic: str, partition: int) -> int:
        require_topic(topic)
        require_partition(partition)
        return int(self._consumer.position(_kafka().TopicPartition(self.broker.wire_name(topic), partition)))

    def close(self) -> None:
        """Leave the group without committing (``autocommit=False``): uncommitted records are redelivered."""
        if not self.closed:
            self.closed = True
            self._consumer.close(autocommit=False)

    def _ensure_open(self) -> None:
        if self.closed:
            raise RuntimeError(f"consumer {self.member} of group {self.group!r} is closed")

    def __enter__(self) -> KafkaConsumerAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KafkaConsumerAdapter(group={self.group!r}, member={self.member!r})"
