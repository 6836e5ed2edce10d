"""Choreography: the same order flow with no coordinator, only services reacting to events.

Forward:   OrderCreated -> (payment) PaymentCharged -> (inventory) StockReserved
           -> (shipping) ShipmentScheduled -> (order) OrderCompleted
Backward:  PaymentFailed -> OrderCancelled
           StockUnavailable -> PaymentRefunded -> OrderCancelled
           ShipmentFailed -> StockReleased -> PaymentRefunded -> OrderCancelled

Each service keeps the saga's guarantees with two tools from ``patterns.messaging``:

* an ``IdempotentConsumer`` per service: a redelivered event (after a crash before the offset
  commit, or a lost acknowledgement) finds its id and changes nothing;
* an ``Outbox`` per service: the effect (a charge) and the event announcing it (PaymentCharged)
  are written in ONE local transaction, and a relay publishes afterwards. Without it a crash
  between "charge" and "publish" would leave a charge nobody hears about: a stuck saga.

Transient failures (a flaky refund) are retried in place with backoff on the injected clock. A
crash (``ProcessCrash``) stops a service without committing its offset; ``run_until_quiet``
restarts it as a new group member, its relay first publishes what the dead process left in the
outbox, and the redelivered events are deduplicated.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from patterns.messaging import (
    Broker,
    Event,
    IdempotentConsumer,
    InMemoryBroker,
    Outbox,
    OutboxRelay,
    unique_name,
)
from patterns.messaging.protocol import Consumer, Record
from patterns.resilience import Backoff
from patterns.sagas.log import CANCELLED, COMPLETED
from patterns.sagas.shop import Order, Shop
from patterns.sagas.steps import ProcessCrash, StepRejected, TransientError
from patterns.storage import transaction

__all__ = ["ChoreographedShop", "REACTIONS", "PENDING", "BROKEN_VARIANTS"]

PENDING = "PENDING"
# deliberately broken variants, for tests and the lab's "break it": the payment service ignores the
# events that ask for a refund ("no_refund"), or refunds without idempotency ("double_refund")
BROKEN_VARIANTS = (None, "no_refund", "double_refund")

# who reacts to which event, and what it may emit: (service, event) -> (on success, on refusal)
REACTIONS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("payment", "OrderCreated"): ("PaymentCharged", "PaymentFailed"),
    ("inventory", "PaymentCharged"): ("StockReserved", "StockUnavailable"),
    ("shipping", "StockReserved"): ("ShipmentScheduled", "ShipmentFailed"),
    ("order", "ShipmentScheduled"): ("OrderCompleted", None),
    ("inventory", "ShipmentFailed"): ("StockReleased", None),
    ("payment", "StockUnavailable"): ("PaymentRefunded", None),
    ("payment", "StockReleased"): ("PaymentRefunded", None),
    ("order", "PaymentFailed"): ("OrderCancelled", None),
    ("order", "PaymentRefunded"): ("OrderCancelled", None),
}

Reaction = Callable[[sqlite3.Connection, Event], tuple[str, bool]]  # -> (emitted type, refused?)


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
    undo_events: frozenset[str] = field(default_factory=frozenset)
    restarts: int = 0
    joined: bool = False


class ChoreographedShop:
    """The order flow as four event-driven services on one topic of ``broker``."""

    def __init__(
        self,
        shop: Shop,
        broker: Broker,
        *,
        topic: str | None = None,
        partitions: int = 1,
        seed: int = 0,
        backoff: Backoff | None = None,
        handler_attempts: int = 8,
        poll_timeout: float | None = None,
        broken: str | None = None,
    ) -> None:
        if broken not in BROKEN_VARIANTS:
            raise ValueError(f"broken must be one of {BROKEN_VARIANTS}, got {broken!r}")
        if isinstance(handler_attempts, bool) or not isinstance(handler_attempts, int) or handler_attempts < 1:
            raise ValueError(f"handler_attempts must be an integer >= 1, got {handler_attempts!r}")
        self.shop = shop
        self.broker = broker
        self.clock = shop.clock
        in_memory = isinstance(broker, InMemoryBroker)
        self.topic = topic or ("order-saga" if in_memory else unique_name("order-saga"))
        self.backoff = backoff if backoff is not None else Backoff.exponential(base=1.0, cap=30.0, jitter="none")
        self.handler_attempts = handler_attempts
        self.poll_timeout = poll_timeout
        self.broken = broken
        self.quiet_rounds = 1 if in_memory else 2  # a real broker may deliver a moment later
        self.history: list[tuple[float, str, str, str]] = []  # (time, service, emitted event, order id)
        self._rng = random.Random(seed)
        broker.create_topic(self.topic, partitions=partitions)
        self.orders = sqlite3.connect(":memory:")
        self.orders.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, data TEXT)")
        self.orders.commit()
        s = shop

        def refund(tx: sqlite3.Connection, ev: Event) -> object:
            if broken == "double_refund":
                return s.payments.naive_refund_in(tx, ev.key, float(ev.data["amount"]))
            return s.payments.refund_in(tx, ev.key)
        payment_reactions = {
            "OrderCreated": self._act("PaymentCharged", "PaymentFailed",
                                      lambda tx, ev: s.payments.charge_in(tx, ev.key, float(ev.data["amount"]))),
            "StockUnavailable": self._act("PaymentRefunded", None, refund),
            "StockReleased": self._act("PaymentRefunded", None, refund),
        }
        if broken == "no_refund":
            del payment_reactions["StockUnavailable"], payment_reactions["StockReleased"]
        self.nodes = {
            "order": self._node("order", self.orders, None, {
                "ShipmentScheduled": self._order_status(COMPLETED, "OrderCompleted"),
                "PaymentFailed": self._order_status(CANCELLED, "OrderCancelled"),
                "PaymentRefunded": self._order_status(CANCELLED, "OrderCancelled"),
            }),
            "payment": self._node("payment", s.payments.conn, "payment", payment_reactions,
                                  undo=("StockUnavailable", "StockReleased")),
            "inventory": self._node("inventory", s.inventory.conn, "inventory", {
                "PaymentCharged": self._act("StockReserved", "StockUnavailable",
                                            lambda tx, ev: s.inventory.reserve_in(tx, ev.key, ev.data["sku"], int(ev.data["qty"]))),
                "ShipmentFailed": self._act("StockReleased", None, lambda tx, ev: s.inventory.release_in(tx, ev.key)),
            }, undo=("ShipmentFailed",)),
            "shipping": self._node("shipping", s.shipping.conn, "shipping", {
                "StockReserved": self._act("ShipmentScheduled", "ShipmentFailed",
                                           lambda tx, ev: s.shipping.schedule_in(tx, ev.key)),
            }),
        }

    # --- public ------------------------------------------------------------------------------

    def place(self, order: Order) -> None:
        """The order service: write the PENDING order and its OrderCreated event in one transaction."""
        node = self.nodes["order"]
        with transaction(self.orders) as tx:
            tx.execute("INSERT INTO orders VALUES (?, ?, ?)", (order.order_id, PENDING, repr(order.data())))
            node.outbox.add(tx, self.topic, self._event("OrderCreated", order.order_id, order.data()))
        self.history.append((self.clock.now(), "order", "OrderCreated", order.order_id))

    def run_until_quiet(self, *, max_rounds: int = 200) -> int:
        """Pump every service until no event moves any more; returns the number of rounds."""
        quiet = 0
        for rounds in range(1, max_rounds + 1):
            moved = sum(self._pump(node) for node in self.nodes.values())
            quiet = quiet + 1 if moved == 0 else 0
            if quiet >= self.quiet_rounds:
                return rounds
        raise RuntimeError(f"choreography still busy after {max_rounds} rounds")

    def state(self, order_id: str) -> str | None:
        row = self.orders.execute("SELECT status FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        return None if row is None else row[0]

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

    def close(self) -> None:
        for node in self.nodes.values():
            node.consumer.close()

    # --- one service's loop --------------------------------------------------------------------

    def _pump(self, node: _Node) -> int:
        """Relay the node's outbox, then handle one poll of records; a crash restarts the node."""
        moved = node.relay.run_until_empty()
        timeout = None if not node.joined else self.poll_timeout
        records = node.consumer.poll(max_records=20, timeout=timeout)
        node.joined = True
        try:
            for record in records:
                self._handle(node, record)
        except ProcessCrash:
            self._restart(node)
            return moved + 1
        node.consumer.commit()
        return moved + len(records) + node.relay.run_until_empty()

    def _handle(self, node: _Node, record: Record) -> None:
        event = Event.from_dict(record.value)
        reaction = node.reactions.get(event.type)
        if reaction is None:
            return
        undo = event.type in node.undo_events
        pause = self.backoff.base
        for attempt in range(1, self.handler_attempts + 1):
            try:
                self.clock.sleep(self.shop.latency)
                emitted = self._apply(node, record, event, reaction, dedupe=not (undo and self.broken == "double_refund"))
                if emitted is not None:
                    self.history.append((self.clock.now(), node.name, emitted, event.key))
                    if node.step is not None and undo:
                        self.shop.faults.after_compensation(event.key, node.step)
                    elif node.step is not None:
                        self.shop.faults.after_action(event.key, node.step)
                return
            except TransientError:  # a flaky dependency or a lost acknowledgement: back off, retry
                if attempt == self.handler_attempts:
                    raise
                pause = self.backoff.delay(attempt - 1, pause, self._rng)
                self.clock.sleep(pause)

    @staticmethod
    def _apply(node: _Node, record: Record, event: Event, reaction: Reaction, *, dedupe: bool) -> str | None:
        """Run ``reaction`` in one local transaction; the emitted event type, or None for a duplicate."""
        emitted: list[str] = []
        if not dedupe:  # the broken variant: no idempotent consumer, every delivery has an effect
            with transaction(node.conn) as tx:
                emitted.append(reaction(tx, event)[0])
            return emitted[0]
        applied = node.idem.handle(record, lambda tx, _r: emitted.append(reaction(tx, event)[0]))
        return emitted[0] if applied else None

    def _restart(self, node: _Node) -> None:
        """The process died: leave the group without committing, come back as a new member."""
        node.consumer.close()
        node.restarts += 1
        node.consumer = self.broker.subscribe(
            self.topic, group=f"{self.topic}.{node.name}", member=f"{node.name}-{node.restarts + 1}"
        )
        node.joined = False

    # --- building blocks -------------------------------------------------------------------------

    def _node(
        self, name: str, conn: sqlite3.Connection, step: str | None, reactions: dict[str, Reaction],
        undo: tuple[str, ...] = (),
    ) -> _Node:
        outbox = Outbox(conn, clock=self.clock, rng=random.Random(self._rng.getrandbits(64)))
        consumer = self.broker.subscribe(self.topic, group=f"{self.topic}.{name}", member=f"{name}-1")
        return _Node(
            name, conn, outbox, OutboxRelay(outbox, self.broker), IdempotentConsumer(conn, name=name),
            consumer, reactions, step, frozenset(undo),
        )

    def _event(self, kind: str, order_id: str, data: dict[str, Any]) -> Event:
        return Event(kind, key=order_id, data=data, event_id=str(self._rng.getrandbits(128)))

    def _act(self, ok: str, refused: str | None, work: Callable[[sqlite3.Connection, Event], object]) -> Reaction:
        """A reaction: do ``work`` in the handler's transaction and queue ``ok`` (or ``refused``)."""

        def react(tx: sqlite3.Connection, event: Event) -> tuple[str, bool]:
            kind, was_refused = ok, False
            try:
                work(tx, event)
            except StepRejected:
                if refused is None:
                    raise
                kind, was_refused = refused, True
            self._emit(tx, event, kind)
            return kind, was_refused

        return react

    def _order_status(self, status: str, emits: str) -> Reaction:
        def react(tx: sqlite3.Connection, event: Event) -> tuple[str, bool]:
            tx.execute("UPDATE orders SET status = ? WHERE order_id = ? AND status = ?", (status, event.key, PENDING))
            self._emit(tx, event, emits)
            return emits, False

        return react

    def _emit(self, tx: sqlite3.Connection, cause: Event, kind: str) -> None:
        outbox = next(n.outbox for n in self.nodes.values() if n.conn is tx)
        outbox.add(tx, self.topic, self._event(kind, cause.key, dict(cause.data)))
