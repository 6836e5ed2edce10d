"""Crash the outbox flow at every point; no event may be lost, no effect doubled.

The pipeline: an order service writes an order and its OrderPlaced event in one SQLite
transaction (Outbox); a relay publishes to the broker and marks rows sent (OutboxRelay); an
inventory service applies each event through an IdempotentConsumer in its own database. The
effect table has NO unique constraint, so a doubled effect shows up as a second row.

Each scenario crashes one component at one point, restarts it, and runs everything to the end.
These tests fail if the relay marked rows before publishing, if the outbox row were written
outside the business transaction, or if the consumer kept its processed-ids outside its own
transaction (checked by breaking the code on purpose while writing them).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.messaging import (
    Event,
    IdempotentConsumer,
    InMemoryBroker,
    Outbox,
    OutboxRelay,
    Record,
)


class Crash(Exception):
    """A simulated process crash at a chosen point."""


class FaultyBroker:
    """Wraps a broker; each planned publish crashes 'before' storing or 'after' storing."""

    def __init__(self, inner: InMemoryBroker, plan: list[str]) -> None:
        self.inner = inner
        self.plan = plan

    def publish(self, topic: str, value: Any, **kwargs: Any) -> Any:
        mode = self.plan.pop(0) if self.plan else "ok"
        if mode == "before":
            raise Crash("relay crashed before the broker stored the event")
        result = self.inner.publish(topic, value, **kwargs)
        if mode == "after":
            raise Crash("relay crashed after publishing, before marking the row sent")
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Pipeline:
    service_crashes: list[bool] = field(default_factory=list)  # per order attempt: crash before commit?
    publish_plan: list[str] = field(default_factory=list)  # per publish: ok / before / after
    consumer_plan: list[str] = field(default_factory=list)  # per record: ok / mid_handler / before_commit

    def __post_init__(self) -> None:
        self.clock = ManualClock()
        self.broker = InMemoryBroker(clock=self.clock)
        self.broker.create_topic("orders", partitions=2)
        self.orders = sqlite3.connect(":memory:")
        self.orders.execute("CREATE TABLE orders (id TEXT PRIMARY KEY, sku TEXT, qty INTEGER)")
        self.outbox = Outbox(self.orders, clock=self.clock)
        self.inventory = sqlite3.connect(":memory:")
        self.inventory.execute("CREATE TABLE effects (event_id TEXT, order_id TEXT, qty INTEGER)")
        self.idem = IdempotentConsumer(self.inventory, name="inventory")
        self.consumer = self.broker.subscribe("orders", group="inventory")
        self.members = 1

    # the order service: a crash before commit rolls back both rows; the client retries
    def place_order(self, order_id: str, qty: int) -> None:
        while True:
            crash = self.service_crashes.pop(0) if self.service_crashes else False
            try:
                with self.outbox.transaction() as tx:
                    tx.execute("INSERT INTO orders VALUES (?, 'A', ?)", (order_id, qty))
                    self.outbox.add(tx, "orders", Event("OrderPlaced", key=order_id, data={"qty": qty}))
                    if crash:
                        raise Crash("service crashed before commit")
                return
            except Crash:
                continue

    # the relay: a crash ends this run; a fresh relay picks up what is still pending
    def relay_once(self) -> None:
        relay = OutboxRelay(self.outbox, FaultyBroker(self.broker, self.publish_plan))
        with contextlib.suppress(Crash):
            relay.run_until_empty()

    # the inventory service: a crash closes the consumer without committing; a new one joins
    def consume_once(self) -> None:
        try:
            for record in self.consumer.poll():
                mode = self.consumer_plan.pop(0) if self.consumer_plan else "ok"
                self.idem.handle(record, self._apply(mode))
                if mode == "before_commit":
                    raise Crash("consumer crashed after its effect, before committing the offset")
            self.consumer.commit()
        except Crash:
            self.consumer.close()
            self.members += 1
            self.consumer = self.broker.subscribe(
                "orders", group="inventory", member=f"inventory-{self.members}"
            )

    def _apply(self, mode: str) -> Any:
        def apply(tx: sqlite3.Connection, record: Record) -> None:
            event = Event.from_dict(record.value)
            tx.execute("INSERT INTO effects VALUES (?, ?, ?)", (event.event_id, event.key, event.data["qty"]))
            if mode == "mid_handler":
                raise Crash("consumer crashed in the middle of its transaction")

        return apply

    def settle(self) -> None:
        """Run relay and consumer without new faults until nothing is left."""
        self.publish_plan.clear()
        self.consumer_plan.clear()
        for _ in range(5):
            self.relay_once()
            self.consume_once()

    def check(self) -> None:
        orders = dict(self.orders.execute("SELECT id, qty FROM orders").fetchall())
        effects = self.inventory.execute("SELECT order_id, qty FROM effects").fetchall()
        applied = [order_id for order_id, _ in effects]
        assert sorted(applied) == sorted(orders), (
            f"every committed order must have exactly one effect: orders={sorted(orders)}, effects={sorted(applied)}"
        )
        assert dict(effects) == orders
        published = {r.value["key"] for r in self.broker.read("orders")}
        assert published == set(orders), "no event for a rolled-back order, none missing"
        assert self.outbox.pending() == []


def run(p: Pipeline, n_orders: int = 4) -> Pipeline:
    for i in range(n_orders):
        p.place_order(f"order-{i}", qty=i + 1)
        p.relay_once()
        p.consume_once()
    p.settle()
    p.check()
    return p


def test_no_crash_baseline() -> None:
    p = run(Pipeline())
    assert len(p.broker.read("orders")) == 4 and p.idem.duplicates == 0


def test_service_crash_before_commit_leaves_no_row_and_no_event() -> None:
    p = Pipeline(service_crashes=[True, False, True, True, False])
    run(p)
    assert p.orders.execute("SELECT COUNT(*) FROM outbox").fetchone() == (4,)


def test_relay_crash_after_commit_before_publish_loses_nothing() -> None:
    p = run(Pipeline(publish_plan=["before", "ok", "before", "before"]))
    assert len(p.broker.read("orders")) == 4, "each event published exactly once here"


def test_relay_crash_after_publish_before_mark_duplicates_but_the_consumer_drops_it() -> None:
    p = run(Pipeline(publish_plan=["after", "ok", "after"]))
    assert len(p.broker.read("orders")) == 6, "two events were published twice"
    assert p.idem.duplicates == 2


@pytest.mark.parametrize("mode", ["mid_handler", "before_commit"])
def test_consumer_crash_is_redelivered_and_applied_once(mode: str) -> None:
    p = run(Pipeline(consumer_plan=[mode, "ok", mode]))
    assert p.members > 1


def test_every_point_at_once() -> None:
    run(
        Pipeline(
            service_crashes=[True, False, False, True],
            publish_plan=["before", "after", "ok", "after", "before"],
            consumer_plan=["before_commit", "mid_handler", "ok", "before_commit"],
        ),
        n_orders=6,
    )


@given(
    service=st.lists(st.booleans(), max_size=8),
    publish=st.lists(st.sampled_from(["ok", "before", "after"]), max_size=10),
    consume=st.lists(st.sampled_from(["ok", "mid_handler", "before_commit"]), max_size=10),
    n_orders=st.integers(1, 6),
)
def test_any_crash_schedule_ends_with_each_committed_order_applied_once(
    service: list[bool], publish: list[str], consume: list[str], n_orders: int
) -> None:
    run(Pipeline(service_crashes=service, publish_plan=publish, consumer_plan=consume), n_orders=n_orders)
