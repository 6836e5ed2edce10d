"""Choreography: the same order flow with no coordinator, only services reacting to events.

Forward:   OrderCreated -> (payment) PaymentCharged -> (inventory) StockReserved
           -> (shipping) ShipmentScheduled -> (order) OrderCompleted
Backward:  PaymentFailed -> OrderCancelled
           StockUnavailable -> PaymentRefunded -> OrderCancelled
           ShipmentFailed -> StockReleased -> PaymentRefunded -> OrderCancelled

The whole flow is the ``REACTIONS`` table below; the services are wired from it and from nothing
else. Each service keeps the saga's guarantees with two tools from ``patterns.messaging``:

* an ``IdempotentConsumer`` per service: a redelivered event (after a crash before the offset
  commit, or a lost acknowledgement) finds its id and changes nothing;
* an ``Outbox`` per service: the effect (a charge) and the event announcing it (PaymentCharged)
  are written in ONE local transaction, and a relay publishes afterwards. Without it a crash
  between "charge" and "publish" would leave a charge nobody hears about: a stuck saga.

Event ids are derived from the event that caused them (a UUID5 of the cause's id and the new
event's type), so they are the same on every run and unique across processes and restarts.

Failures, from the mildest:

* a ``TransientError`` (a flaky refund) is retried in place, ``handler_attempts`` times, with
  backoff on the injected clock;
* any other handler error (or transient errors past that budget) fails the *delivery*: the node
  seeks back to the failing record and commits only the records before it, so nothing after it
  is skipped; the failure is recorded in ``failures`` and the record is delivered again;
* a record whose delivery failed ``dead_letter_after`` times is a poison message: it goes to the
  dead-letter topic ``<topic>.DLT`` (counted in ``dead_lettered``, listed by ``dead_letters()``,
  sent back by ``replay_dead_letters()``) and the node moves on. ``run_until_quiet`` then raises
  ``DeadLettered`` naming them: a run that set records aside never reports "quiet";
* a crash (``ProcessCrash``) stops a service without committing its offset; ``run_until_quiet``
  restarts it as a new group member, its relay first publishes what the dead process left in the
  outbox, and the redelivered events are deduplicated.
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from patterns._validate import (
    require_instance,
    require_int,
    require_one_of,
    require_optional_seconds,
    require_text,
)
from patterns.errors import IdempotencyConflict, PatternError
from patterns.messaging import (
    Broker,
    Consumer,
    Event,
    IdempotentConsumer,
    Outbox,
    OutboxRelay,
    Record,
    unique_name,
)
from patterns.resilience import Backoff
from patterns.sagas.log import CANCELLED, COMPLETED
from patterns.sagas.shop import Order, Shop
from patterns.sagas.steps import ProcessCrash, StepRejected, TransientError
from patterns.storage import connection_of, transaction

__all__ = [
    "ChoreographedShop",
    "Reaction",
    "REACTIONS",
    "PENDING",
    "BROKEN_VARIANTS",
    "DeadLettered",
    "HandlerFailure",
]

PENDING = "PENDING"
# deliberately broken variants, for tests and the lab's "break it": the payment service ignores the
# events that ask for a refund ("no_refund"), or compensates without idempotency ("double_refund")
BROKEN_VARIANTS = (None, "no_refund", "double_refund")
MAX_DELIVERY_ATTEMPTS = 100
_IDS = uuid.UUID("6f1c2b1e-5a8d-4c3e-9b7a-0d2e4f6a8c10")  # namespace of the flow's event ids


@dataclass(frozen=True)
class Reaction:
    """What a service does when an event arrives: run ``work``, then emit ``emits``.

    ``refused`` is emitted instead when the work raises ``StepRejected`` (None: a refusal is an
    error); ``undo`` marks a compensation (fault injection treats it as one).
    """

    work: str
    emits: str
    refused: str | None = None
    undo: bool = False


# the whole flow: (service, event it reacts to) -> its reaction
REACTIONS: dict[tuple[str, str], Reaction] = {
    ("payment", "OrderCreated"): Reaction("charge", "PaymentCharged", "PaymentFailed"),
    ("inventory", "PaymentCharged"): Reaction("reserve", "StockReserved", "StockUnavailable"),
    ("shipping", "StockReserved"): Reaction("schedule", "ShipmentScheduled", "ShipmentFailed"),
    ("order", "ShipmentScheduled"): Reaction("complete", "OrderCompleted"),
    ("inventory", "ShipmentFailed"): Reaction("release", "StockReleased", undo=True),
    ("payment", "StockUnavailable"): Reaction("refund", "PaymentRefunded", undo=True),
    ("payment", "StockReleased"): Reaction("refund", "PaymentRefunded", undo=True),
    ("order", "PaymentFailed"): Reaction("cancel", "OrderCancelled"),
    ("order", "PaymentRefunded"): Reaction("cancel", "OrderCancelled"),
}
SERVICES = ("order", "payment", "inventory", "shipping")


@dataclass(frozen=True)
class HandlerFailure:
    """One failed delivery: which service, which event, which order, what went wrong."""

    at: float
    node: str
    event_type: str
    order_id: str | None
    event_id: str
    error: str
    delivery: int  # how many deliveries of this event to this service have failed so far


class DeadLettered(PatternError):
    """``run_until_quiet`` set poison messages aside; ``failures`` holds the last failure of each."""

    def __init__(self, failures: Sequence[HandlerFailure], topic: str) -> None:
        self.failures = list(failures)
        listed = "; ".join(f"{f.node}: {f.event_type} for {f.order_id} ({f.error})" for f in self.failures)
        super().__init__(
            f"{len(self.failures)} event(s) moved to the dead-letter topic {topic!r} after failing "
            f"{self.failures[0].delivery if self.failures else 0} deliveries: {listed}. Inspect them with "
            "dead_letters(), fix the cause, then replay_dead_letters() and run again."
        )


Work = Callable[[sqlite3.Connection, Event], object]


@dataclass
class _Node:
    """One service as a process: its database, outbox, relay, idempotent consumer and group member."""

    name: str
    conn: sqlite3.Connection
    outbox: Outbox
    relay: OutboxRelay
    idem: IdempotentConsumer
    consumer: Consumer
    reactions: dict[str, Reaction]
    step: str | None  # the fault-injection step name (None for the order service)
    restarts: int = 0
    joined: bool = False
    pending_failures: Counter[str] = field(default_factory=Counter)  # event id -> failed deliveries


class ChoreographedShop:
    """The order flow as four event-driven services on one topic of ``broker``.

    ``orders_db`` is the order service's database (a connection; default a fresh in-memory one):
    pass a file's connection, with the services' files (``Shop(path=...)``) and a broker that
    outlives the process, and a new process picks the flow up where a dead one stopped (on Kafka,
    with the same explicit ``topic`` and the same ``PATTERNS_NAMESPACE``: the namespace is
    otherwise derived per process, and the new process would find neither topic nor offsets).
    """

    def __init__(
        self,
        shop: Shop,
        broker: Broker,
        *,
        topic: str | None = None,
        partitions: int = 1,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        handler_attempts: int = 8,
        dead_letter_after: int = 3,
        poll_timeout: float | None = None,
        broken: str | None = None,
        orders_db: Any = None,
    ) -> None:
        self.shop = require_instance(shop, "shop", Shop)
        self.broker = require_instance(broker, "broker", Broker, what="a patterns.messaging Broker")
        self.broken = require_one_of(broken, "broken", BROKEN_VARIANTS)
        self.handler_attempts = require_int(handler_attempts, "handler_attempts", minimum=1,
                                            maximum=MAX_DELIVERY_ATTEMPTS)
        self.dead_letter_after = require_int(dead_letter_after, "dead_letter_after", minimum=1,
                                             maximum=MAX_DELIVERY_ATTEMPTS)
        self.poll_timeout = require_optional_seconds(poll_timeout, "poll_timeout", positive=False, maximum=60.0)
        partitions = require_int(partitions, "partitions", minimum=1, maximum=1000)
        self.backoff = (
            Backoff.exponential(base=1.0, cap=30.0, jitter="none")
            if backoff is None
            else require_instance(backoff, "backoff", Backoff, what="a patterns.resilience.Backoff")
        )
        self.rng = random.Random() if rng is None else require_instance(rng, "rng", random.Random)  # jitter
        self.clock = shop.clock
        in_memory = broker.in_process  # the broker's capability, not its class
        self.topic = require_text(topic, "topic", max_length=200) if topic is not None else (
            "order-saga" if in_memory else unique_name("order-saga")
        )
        self.dead_letter_topic = f"{self.topic}.DLT"
        self.quiet_rounds = 1 if in_memory else 2  # a real broker may deliver a moment later
        self.history: list[tuple[float, str, str, str]] = []  # (time, service, emitted event, order id)
        self.failures: list[HandlerFailure] = []
        self.dead_lettered = 0
        self._dead_now: list[HandlerFailure] = []  # dead-lettered during the current run
        self._unchecked = itertools.count(1)  # salt for event ids emitted WITHOUT deduplication
        broker.create_topic(self.topic, partitions=partitions)
        self.orders = sqlite3.connect(":memory:") if orders_db is None else connection_of(orders_db)
        self.orders.execute(
            "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, data TEXT)"
        )
        if self.orders.in_transaction:
            self.orders.commit()
        connections = {"order": self.orders, "payment": shop.payments.conn,
                       "inventory": shop.inventory.conn, "shipping": shop.shipping.conn}
        steps = {"order": None, "payment": shop.payments.step, "inventory": shop.inventory.step,
                 "shipping": shop.shipping.step}
        self.nodes = {name: self._node(name, connections[name], steps[name]) for name in SERVICES}

    # --- public ------------------------------------------------------------------------------

    def place(self, order: Order) -> bool:
        """The order service: write the PENDING order and its OrderCreated event in one transaction.

        Idempotent per order id: placing the same order again changes nothing and returns False;
        different data under a known id raises ``IdempotencyConflict``.
        """
        order = require_instance(order, "order", Order)
        data = json.dumps(order.data(), sort_keys=True)
        node = self.nodes["order"]
        with transaction(self.orders) as tx:
            row = tx.execute("SELECT data FROM orders WHERE order_id = ?", (order.order_id,)).fetchone()
            if row is not None:
                if row[0] != data:
                    raise IdempotencyConflict(f"order {order.order_id!r} already exists with different data")
                return False
            tx.execute("INSERT INTO orders VALUES (?, ?, ?)", (order.order_id, PENDING, data))
            event = Event("OrderCreated", key=order.order_id, data=order.data(),
                          event_id=_event_id(f"order:{order.order_id}", "OrderCreated"))
            node.outbox.add(tx, self.topic, event)
        self.history.append((self.clock.now(), "order", "OrderCreated", order.order_id))
        return True

    def run_until_quiet(self, *, max_rounds: int = 200) -> int:
        """Pump every service until no event moves any more; returns the number of rounds.

        Raises ``DeadLettered`` (once quiet) if poison messages were set aside during this run.
        """
        max_rounds = require_int(max_rounds, "max_rounds", minimum=1, maximum=1_000_000)
        self._dead_now = []
        quiet = 0
        for rounds in range(1, max_rounds + 1):
            moved = sum(self._pump(node) for node in self.nodes.values())
            quiet = quiet + 1 if moved == 0 else 0
            if quiet >= self.quiet_rounds:
                if self._dead_now:
                    raise DeadLettered(self._dead_now, self.dead_letter_topic)
                return rounds
        raise RuntimeError(f"choreography still busy after {max_rounds} rounds")

    def state(self, order_id: str) -> str | None:
        row = self.orders.execute("SELECT status FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        return None if row is None else str(row[0])

    def states(self) -> dict[str, int]:
        """Number of orders per status."""
        out = {PENDING: 0, COMPLETED: 0, CANCELLED: 0}
        for status, n in self.orders.execute("SELECT status, COUNT(*) FROM orders GROUP BY status"):
            out[status] = n
        return out

    @property
    def restarts(self) -> int:
        return sum(node.restarts for node in self.nodes.values())

    @property
    def duplicates(self) -> int:
        """Redelivered events that the idempotent consumers recognised and skipped."""
        return sum(node.idem.duplicates for node in self.nodes.values())

    def events_of(self, order_id: str) -> list[str]:
        """The event types emitted for one order, in the order they were committed."""
        return [ev for _, _, ev, oid in self.history if oid == order_id]

    def dead_letters(self) -> list[Record]:
        """Every record on the dead-letter topic (headers say which service failed, how often, why)."""
        if self.dead_letter_topic not in self.broker.topics():
            return []
        return self.broker.read(self.dead_letter_topic)

    def replay_dead_letters(self) -> int:
        """Send dead letters not replayed before back to the flow's topic (same event ids); returns how many.

        Run after fixing the cause. The service that failed never marked the event as processed, so
        it applies it now; services that handled it already recognise the id and skip it. Which
        letters were replayed is the committed offset of the group ``<topic>.DLT.replay``.
        """
        if self.dead_letter_topic not in self.broker.topics():
            return 0
        reader = self.broker.subscribe(self.dead_letter_topic, group=f"{self.dead_letter_topic}.replay",
                                       member="replay-1")
        replayed = 0
        try:
            while records := reader.poll(max_records=100):
                for record in records:
                    headers = {k: v for k, v in record.headers.items() if not k.startswith("dlt-")}
                    self.broker.publish(self.topic, record.value, key=record.key, headers=headers)
                    replayed += 1
                reader.commit()
        finally:
            reader.close()
        return replayed

    def close(self) -> None:
        for node in self.nodes.values():
            node.consumer.close()

    # --- one service's loop --------------------------------------------------------------------

    def _pump(self, node: _Node) -> int:
        """Relay the node's outbox, then handle one poll of records; returns how much moved."""
        moved = node.relay.run_until_empty()
        timeout = None if not node.joined else self.poll_timeout
        records = node.consumer.poll(max_records=20, timeout=timeout)
        node.joined = True
        for i, record in enumerate(records):
            try:
                self._handle(node, record)
            except ProcessCrash:
                self._restart(node)
                return moved + 1
            except Exception as exc:  # noqa: BLE001 - any handler error fails this delivery, visibly
                if not self._failed(node, record, exc):
                    self._rewind(node, records[i:])
                    node.consumer.commit()  # only the records before the failing one
                    return moved + i + 1
        node.consumer.commit()
        return moved + len(records) + node.relay.run_until_empty()

    def _handle(self, node: _Node, record: Record) -> None:
        event = Event.from_dict(record.value)
        reaction = node.reactions.get(event.type)
        if reaction is None:
            return
        pause = self.backoff.base
        for attempt in range(1, self.handler_attempts + 1):
            try:
                self.clock.sleep(self.shop.latency)
                emitted = self._apply(node, record, event, reaction)
                if emitted is not None:
                    self.history.append((self.clock.now(), node.name, emitted, event.key))
                    if node.step is not None and reaction.undo:
                        self.shop.faults.after_compensation(event.key, node.step)
                    elif node.step is not None:
                        self.shop.faults.after_action(event.key, node.step)
                return
            except TransientError:  # a flaky dependency or a lost acknowledgement: back off, retry
                if attempt == self.handler_attempts:
                    raise
                pause = self.backoff.delay(attempt - 1, pause, self.rng)
                self.clock.sleep(pause)

    def _apply(self, node: _Node, record: Record, event: Event, reaction: Reaction) -> str | None:
        """Run ``reaction`` in one local transaction; the emitted event type, or None for a duplicate."""
        emitted: list[str] = []
        if reaction.undo and self.broken == "double_refund":  # broken: every delivery has an effect
            with transaction(node.conn) as tx:
                emitted.append(self._react(node, tx, event, reaction, salt=f"#{next(self._unchecked)}"))
            return emitted[0]
        applied = node.idem.handle(record, lambda tx, _r: emitted.append(self._react(node, tx, event, reaction)))
        return emitted[0] if applied else None

    def _react(self, node: _Node, tx: sqlite3.Connection, event: Event, reaction: Reaction, salt: str = "") -> str:
        """Do the reaction's work in ``tx`` and queue the event it emits in the node's outbox."""
        kind = reaction.emits
        try:
            self._work(reaction.work)(tx, event)
        except StepRejected:
            if reaction.refused is None:
                raise
            kind = reaction.refused
        new = Event(kind, key=event.key, data=dict(event.data), event_id=_event_id(event.event_id + salt, kind))
        node.outbox.add(tx, self.topic, new)
        return kind

    def _work(self, name: str) -> Work:
        """The service operation a reaction names, run inside the handler's transaction."""
        s = self.shop
        if name == "charge":
            return lambda tx, ev: s.payments.charge_in(tx, ev.key, ev.data["amount"])
        if name == "refund" and self.broken == "double_refund":
            return lambda tx, ev: s.payments.naive_refund_in(tx, ev.key, ev.data["amount"])
        if name == "refund":
            return lambda tx, ev: s.payments.refund_in(tx, ev.key)
        if name == "reserve":
            return lambda tx, ev: s.inventory.reserve_in(tx, ev.key, ev.data["sku"], ev.data["qty"])
        if name == "release":
            return lambda tx, ev: s.inventory.release_in(tx, ev.key)
        if name == "schedule":
            return lambda tx, ev: s.shipping.schedule_in(tx, ev.key)
        if name in ("complete", "cancel"):
            status = COMPLETED if name == "complete" else CANCELLED
            return lambda tx, ev: tx.execute(
                "UPDATE orders SET status = ? WHERE order_id = ? AND status = ?", (status, ev.key, PENDING)
            )
        raise ValueError(f"no service operation {name!r}")  # pragma: no cover - REACTIONS names only these

    def _failed(self, node: _Node, record: Record, exc: Exception) -> bool:
        """Count a failed delivery; True if the record was dead-lettered (the node may move on)."""
        event_id = _event_id_of(record)
        node.pending_failures[event_id] += 1
        value = record.value if isinstance(record.value, dict) else {}
        failure = HandlerFailure(self.clock.now(), node.name, str(value.get("type", "?")), record.key, event_id,
                                 f"{type(exc).__name__}: {exc}"[:500], node.pending_failures[event_id])
        self.failures.append(failure)
        if failure.delivery < self.dead_letter_after:
            return False
        self.broker.create_topic(self.dead_letter_topic, partitions=1)  # a no-op if it exists
        headers = {**record.headers, "dlt-node": node.name, "dlt-error": failure.error,
                   "dlt-attempts": str(failure.delivery), "dlt-original-topic": record.topic,
                   "dlt-original-partition": str(record.partition), "dlt-original-offset": str(record.offset)}
        self.broker.publish(self.dead_letter_topic, record.value, key=record.key, headers=headers)
        del node.pending_failures[event_id]
        self.dead_lettered += 1
        self._dead_now.append(failure)
        return True

    @staticmethod
    def _rewind(node: _Node, unhandled: Sequence[Record]) -> None:
        """Seek every partition back to its first unhandled record, so the next poll starts there."""
        first: dict[tuple[str, int], int] = {}
        for record in unhandled:
            tp = (record.topic, record.partition)
            first[tp] = min(first.get(tp, record.offset), record.offset)
        for (topic, partition), offset in first.items():
            node.consumer.seek(topic, partition, offset)

    def _restart(self, node: _Node) -> None:
        """The process died: leave the group without committing, come back as a new member."""
        node.consumer.close()
        node.restarts += 1
        node.consumer = self.broker.subscribe(
            self.topic, group=f"{self.topic}.{node.name}", member=f"{node.name}-{node.restarts + 1}"
        )
        node.joined = False

    # --- building blocks -------------------------------------------------------------------------

    def _node(self, name: str, conn: sqlite3.Connection, step: str | None) -> _Node:
        """A service wired from ``REACTIONS``: the events it reacts to and nothing else."""
        reactions = {
            event: reaction
            for (service, event), reaction in REACTIONS.items()
            if service == name and not (self.broken == "no_refund" and reaction.work == "refund")
        }
        outbox = Outbox(conn, clock=self.clock)
        consumer = self.broker.subscribe(self.topic, group=f"{self.topic}.{name}", member=f"{name}-1")
        return _Node(name, conn, outbox, OutboxRelay(outbox, self.broker), IdempotentConsumer(conn, name=name),
                     consumer, reactions, step)


def _event_id(cause: str, kind: str) -> str:
    """The id of the ``kind`` event caused by ``cause``: the same on every run, unique across runs."""
    return str(uuid.uuid5(_IDS, f"{cause}>{kind}"))


def _event_id_of(record: Record) -> str:
    value = record.value
    event_id = value.get("event_id") if isinstance(value, dict) else None
    return event_id if isinstance(event_id, str) else f"{record.topic}/{record.partition}@{record.offset}"
