"""Chapters 2 and 3 (events, communication): consumer groups, the outbox, a work queue's retries."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Mapping
from typing import Any

from patterns.clock import ManualClock
from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.diagrams.tracing import Tracer, describe_sql
from patterns.messaging import (
    Event,
    IdempotentConsumer,
    InMemoryBroker,
    Outbox,
    OutboxRelay,
    WorkQueue,
    new_event_id,
)
from patterns.resilience import Backoff

__all__ = ["consumer_groups", "outbox_flow", "work_queue_retries"]


def consumer_groups() -> Diagram:
    """The chapter's broker after its fan-out: one topic, three partitions, groups and their members.

    Drawn from the broker's state: the records in each partition (``end_offsets``) and the
    partitions each member owns (``assignment``) after the group's rebalance.
    """
    clock = ManualClock()
    rng = random.Random(2)
    broker = InMemoryBroker(clock=clock)
    broker.create_topic("orders", partitions=3)
    for i in range(1, 7):
        broker.publish("orders", Event("OrderPlaced", key=f"order-{i}", data={}, event_id=new_event_id(rng)))
    groups: dict[str, list[Any]] = {
        "email": [broker.subscribe("orders", group="email", member="email-1")],
        "inventory": [broker.subscribe("orders", group="inventory", member="inventory-1")],
        "email-scaled": [broker.subscribe("orders", group="email-scaled", member=f"email-{m}") for m in "abcd"],
    }
    for members in groups.values():
        for member in members:
            member.poll()  # join: take part in the group's assignment
    ends = broker.end_offsets("orders")
    g = Graph(rankdir="LR", label="topic orders: 3 partitions, 3 consumer groups")
    g.attrs.update({"ranksep": "1.1", "nodesep": "0.3"})
    g.node("producer", "order service")
    topic = g.cluster("topic", "topic: orders")
    for p, end in sorted(ends.items()):
        topic.node(f"p{p}", f"partition {p}\n{_records(end)}", kind="queue")
        g.edge("producer", f"p{p}", "publish" if p == 1 else None, style="solid")
    owned = []
    for group, members in groups.items():
        box = g.cluster(group, f"group: {group}")
        for member in members:
            parts = sorted(p for _, p in member.assignment())
            box.node(member.member, member.member + ("\n(idle)" if not parts else ""))
            for p in parts:
                g.edge(f"p{p}", member.member)
            owned.append(f"{member.member} of group {group} owns "
                         + (", ".join(f"partition {p}" for p in parts) if parts else "no partition (idle)"))
    for members in groups.values():
        for member in members:
            member.close()
    alt = ("The order service publishes to topic orders, split into partitions "
           + ", ".join(f"{p} ({_records(end)})" for p, end in sorted(ends.items()))
           + ". Every consumer group reads every partition; inside a group each partition has one owner: "
           + "; ".join(owned) + ".")
    return Diagram(g.source(), alt, "patterns.messaging.InMemoryBroker (assignments after a rebalance)")


def _records(n: int) -> str:
    return f"{n} record{'' if n == 1 else 's'}"


def _publish_label(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    if method != "publish":
        return None
    value = args[1] if len(args) > 1 else kwargs.get("value")
    kind = value.get("type", "event") if isinstance(value, dict) else type(value).__name__
    return f"publish {kind} (key {kwargs.get('key')})"


def _published(method: str, result: Any) -> str | None:
    return f"stored at partition {result.partition}, offset {result.offset}" if method == "publish" else None


def _poll_label(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    return {"poll": "poll", "commit": "commit offsets"}.get(method)


def _polled(method: str, result: Any) -> str | None:
    if method != "poll":
        return None
    return ", ".join(f"{r.value['type']} p{r.partition}@{r.offset}" for r in result) or "nothing"


def outbox_flow() -> Diagram:
    """The transactional outbox and an idempotent consumer, traced statement by statement.

    The order service writes its order and the event in one transaction; the relay publishes the
    row and marks it sent; the inventory consumer applies the event and its id in one transaction,
    crashes before committing its offset, gets the event again and skips it. Every SQL statement
    and broker call below is one the package made in this run.
    """
    clock = ManualClock()
    rng = random.Random(7)
    trace = Trace(["order service", "orders DB", "relay", "broker", "inventory", "inventory DB"],
                  kinds={"orders DB": "store", "broker": "queue", "inventory DB": "store"})
    tracer = Tracer(trace)
    tracer.enabled = False  # set-up is not part of the story
    orders = sqlite3.connect(":memory:", isolation_level=None)
    orders.execute("CREATE TABLE orders (id TEXT PRIMARY KEY, total REAL)")
    stock = sqlite3.connect(":memory:", isolation_level=None)
    stock.execute("CREATE TABLE reserved (order_id TEXT PRIMARY KEY)")
    broker = InMemoryBroker(clock=clock)
    broker.create_topic("orders", partitions=3)
    service_outbox = Outbox(tracer.wrap(orders, "orders DB", caller="order service", describe=describe_sql),
                            clock=clock)
    relay = OutboxRelay(Outbox(tracer.wrap(orders, "orders DB", caller="relay", describe=describe_sql),
                               clock=clock),
                        tracer.wrap(broker, "broker", caller="relay", describe=_publish_label, replies=_published))
    idem = IdempotentConsumer(tracer.wrap(stock, "inventory DB", caller="inventory", describe=describe_sql),
                              name="inventory")

    def reserve(tx: sqlite3.Connection, record: Any) -> None:
        tx.execute("INSERT INTO reserved VALUES (?)", (record.key,))

    tracer.enabled = True
    with service_outbox.transaction() as tx:
        tx.execute("INSERT INTO orders VALUES (?, ?)", ("order-1", 20.0))
        service_outbox.add(tx, "orders", Event("OrderPlaced", key="order-1", data={"total": 20.0},
                                               event_id=new_event_id(rng)))
    relay.run_once()
    for attempt in (1, 2):
        consumer = tracer.wrap(broker.subscribe("orders", group="inventory", member=f"inventory-{attempt}"),
                               "broker", caller="inventory", describe=_poll_label, replies=_polled)
        for record in consumer.poll():
            applied = idem.handle(record, reserve)
            tracer.note("inventory", "applied" if applied else "duplicate: skipped")
        if attempt == 1:
            tracer.note("inventory", "crash before the offset commit")
            consumer.close()
        else:
            consumer.commit()
    return sequence_diagram(trace, title="transactional outbox + idempotent consumer",
                            generated_from="patterns.messaging Outbox, OutboxRelay, IdempotentConsumer "
                                           "(a traced run)")


def work_queue_retries() -> Diagram:
    """Chapter 3's poison message, traced: retries with exponential backoff, then the dead-letter queue."""
    clock = ManualClock()
    trace = Trace(["producer", "queue", "worker-1", "dead-letter queue"],
                  kinds={"queue": "queue", "dead-letter queue": "queue"})
    queue = WorkQueue(clock, max_attempts=4, backoff=Backoff.exponential(base=1.0, cap=60.0, jitter="none"))
    for payload in ({"order": "o-1"}, {"order": None}, {"order": "o-3"}):
        queue.put(payload)
        trace.send("producer", "queue", f"put order {payload['order'] or '(missing)'}")
    while len(queue):
        message = queue.get("worker-1")
        if message is None:
            due = queue.next_available_at()
            assert due is not None
            clock.set(due)
            continue
        order = message.payload["order"]
        trace.send("queue", "worker-1", f"t={clock.now():g} s: order {order or '(missing)'}, "
                                        f"attempt {message.attempt}")
        if order is None:
            dead_before = len(queue.dead_letters)
            queue.nack(message, error="order id missing")
            trace.reply("worker-1", "queue", "nack: order id missing")
            if len(queue.dead_letters) > dead_before:
                letter = queue.dead_letters[-1]
                trace.send("queue", "dead-letter queue", f"t={letter.at:g} s: parked after {message.attempt} attempts")
        else:
            queue.ack(message)
            trace.reply("worker-1", "queue", "ack")
    return sequence_diagram(trace, title="a work queue: backoff 1, 2, 4 s, then the dead-letter queue",
                            generated_from="patterns.messaging.WorkQueue (a recorded run)")


