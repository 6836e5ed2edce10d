"""Properties over random command sequences: live == rebuild == write model, redelivery-proof."""

from __future__ import annotations

import contextlib
import random

from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.cqrs import (
    CUSTOMER_STATS,
    ORDER_SUMMARIES,
    AddItem,
    CancelOrder,
    ConfirmOrder,
    CreateOrder,
    CustomerStats,
    DomainError,
    OrderSummaries,
    Projector,
    RegisterCustomer,
    RenameCustomer,
    SQLiteReadStore,
    WriteModel,
    events_from_broker,
    rebuild,
)
from patterns.messaging import InMemoryBroker

CUSTOMERS = st.sampled_from(["c1", "c2", "c3"])
ORDERS = st.sampled_from(["o1", "o2", "o3", "o4", "o5"])
NAMES = st.sampled_from(["Ada", "Grace", "Edsger", "Barbara"])

commands = st.lists(
    st.one_of(
        st.builds(RegisterCustomer, CUSTOMERS, NAMES),
        st.builds(RenameCustomer, CUSTOMERS, NAMES),
        st.builds(CreateOrder, ORDERS, CUSTOMERS),
        st.builds(AddItem, ORDERS, st.sampled_from(["pen", "mug"]), st.integers(1, 5), st.integers(0, 2000)),
        st.builds(ConfirmOrder, ORDERS),
        st.builds(CancelOrder, ORDERS),
    ),
    max_size=40,
)
PROJECTIONS = (OrderSummaries, CustomerStats)


def run_live(cmds, polls: list[int], crashes: list[bool], clock_steps: list[float]):
    """Handle ``cmds`` and project them live with random batch sizes and consumer crashes."""
    clock = ManualClock()
    write = WriteModel(clock=clock, rng=random.Random(0))
    broker = InMemoryBroker(clock=clock)
    relay = write.relay(broker)
    projector = Projector(SQLiteReadStore(), [p() for p in PROJECTIONS], clock=clock)
    member = 0
    consumer = broker.subscribe(write.topic, group="live", member=f"m{member}")
    for i, cmd in enumerate(cmds):
        clock.advance(clock_steps[i % len(clock_steps)])
        with contextlib.suppress(DomainError):
            write.handle(cmd)
        relay.run_once()
        records = consumer.poll(max_records=polls[i % len(polls)])
        if records:
            projector.apply(records)
            if crashes[i % len(crashes)]:  # applied but not committed: the batch comes back
                consumer.close()
                member += 1
                consumer = broker.subscribe(write.topic, group="live", member=f"m{member}")
            else:
                consumer.commit()
    relay.run_until_empty()
    projector.run_until_idle(consumer)
    return write, broker, projector


@given(commands, st.lists(st.integers(1, 6), min_size=1, max_size=5),
       st.lists(st.booleans(), min_size=1, max_size=5),
       st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=1, max_size=4))
def test_live_projection_equals_rebuild_and_the_write_model(cmds, polls, crashes, steps) -> None:
    write, broker, live = run_live(cmds, polls, crashes, steps)
    assert live.position == write.position
    fresh = rebuild(events_from_broker(broker, write.topic), SQLiteReadStore(), [p() for p in PROJECTIONS])
    for table in (ORDER_SUMMARIES, CUSTOMER_STATS):
        assert fresh.store.rows(table) == live.store.rows(table)
    assert live.store.rows(ORDER_SUMMARIES) == write.order_summaries()
    spent = {}
    for row in write.order_summaries().values():
        if row["status"] == "confirmed":
            spent[row["customer_id"]] = spent.get(row["customer_id"], 0) + row["total_cents"]
    for cid, row in live.store.rows(CUSTOMER_STATS).items():
        assert row["spent_cents"] == spent.get(cid, 0)


@given(commands, st.data())
def test_applying_any_redelivery_pattern_gives_the_same_read_model(cmds, data) -> None:
    """Events duplicated and re-batched arbitrarily (at-least-once) give the exactly-once rows."""
    clock = ManualClock()
    write = WriteModel(clock=clock, rng=random.Random(0))
    for cmd in cmds:
        with contextlib.suppress(DomainError):
            write.handle(cmd)
    events = write.events()
    once = rebuild(events, SQLiteReadStore(), [p() for p in PROJECTIONS])
    # a delivery stream: in order, but any prefix may be delivered again (a redelivery)
    stream = []
    for i, event in enumerate(events):
        stream.append(event)
        back = data.draw(st.integers(0, i), label=f"redeliver before {i}")
        stream.extend(events[i + 1 - back:i + 1] if back else [])
    twice = Projector(SQLiteReadStore(), [p() for p in PROJECTIONS], clock=clock)
    cut = 0
    while cut < len(stream):
        size = data.draw(st.integers(1, 7), label="batch")
        twice.apply(stream[cut:cut + size])
        cut += size
    twice.apply(events)  # and the whole history once more
    for table in (ORDER_SUMMARIES, CUSTOMER_STATS):
        assert twice.store.rows(table) == once.store.rows(table)
    assert twice.applied == len(events)
