"""Projector, queries, read-your-writes, rebuild and lag on the in-process broker."""

from __future__ import annotations

import random

import pytest

from patterns.clock import ManualClock
from patterns.cqrs import (
    CUSTOMER_STATS,
    ORDER_SUMMARIES,
    AddItem,
    CancelOrder,
    ConfirmOrder,
    CreateOrder,
    CustomerStats,
    OrderQueries,
    OrderSummaries,
    ProjectionGap,
    Projector,
    ReadYourWrites,
    RegisterCustomer,
    RenameCustomer,
    SQLiteReadStore,
    WriteModel,
    events_from_broker,
    rebuild,
    simulate_lag,
)
from patterns.messaging import Event, InMemoryBroker


class Shop:
    """Write model -> outbox relay -> in-process broker -> projector, on one ManualClock."""

    def __init__(self, projections=None) -> None:
        self.clock = ManualClock()
        self.write = WriteModel(clock=self.clock, rng=random.Random(0))
        self.broker = InMemoryBroker(clock=self.clock)
        self.relay = self.write.relay(self.broker)
        self.store = SQLiteReadStore()
        self.projector = Projector(self.store, projections, clock=self.clock)
        self.consumer = self.broker.subscribe(self.write.topic, group="read-model", member="p1")

    def sync(self) -> int:
        self.relay.run_until_empty()
        return self.projector.run_until_idle(self.consumer)


@pytest.fixture
def shop() -> Shop:
    s = Shop([OrderSummaries(), CustomerStats()])
    for cid, name in (("c1", "Ada"), ("c2", "Grace")):
        s.write.handle(RegisterCustomer(cid, name))
    return s


def test_read_model_is_stale_until_the_projector_runs(shop: Shop) -> None:
    shop.write.handle(CreateOrder("o1", "c1"))
    queries = OrderQueries(shop.store)
    assert queries.order("o1") is None  # written, not yet projected: eventual consistency
    assert shop.sync() == 3
    assert queries.order("o1").status == "draft"
    assert shop.projector.position == shop.write.position == 3


def test_live_read_model_matches_the_write_model(shop: Shop) -> None:
    w = shop.write
    for cmd in [CreateOrder("o1", "c1"), AddItem("o1", "pen", 2, 150), CreateOrder("o2", "c1"),
                AddItem("o2", "lamp", 1, 4000), ConfirmOrder("o2"), CreateOrder("o3", "c2"),
                AddItem("o3", "mug", 4, 500), ConfirmOrder("o3"), CancelOrder("o3"), RenameCustomer("c1", "Ada L.")]:
        shop.clock.advance(1)
        w.handle(cmd)
    shop.sync()
    assert shop.store.rows(ORDER_SUMMARIES) == w.order_summaries()
    stats = shop.store.rows(CUSTOMER_STATS)
    assert stats["c1"] == {"customer_id": "c1", "name": "Ada L.", "orders": 2, "confirmed": 1,
                           "cancelled": 0, "spent_cents": 4000}
    assert stats["c2"]["spent_cents"] == 0 and stats["c2"]["cancelled"] == 1


def test_queries_filter_sort_and_limit(shop: Shop) -> None:
    for i in range(1, 5):
        shop.clock.advance(1)
        shop.write.handle(CreateOrder(f"o{i}", "c1"))
    shop.write.handle(AddItem("o2", "pen", 1, 100))
    shop.write.handle(ConfirmOrder("o2"))
    shop.sync()
    q = OrderQueries(shop.store)
    assert [o.order_id for o in q.orders_for_customer("c1")] == ["o4", "o3", "o2", "o1"]
    assert [o.order_id for o in q.orders_for_customer("c1", limit=2)] == ["o4", "o3"]
    assert [o.order_id for o in q.orders_for_customer("c1", status="confirmed")] == ["o2"]
    assert q.orders_for_customer("c2") == []
    assert [r["customer_id"] for r in q.top_customers()] == ["c1", "c2"]
    with pytest.raises(ValueError, match="limit"):
        q.orders_for_customer("c1", limit=0)
    with pytest.raises(ValueError, match="status"):
        q.orders_for_customer("c1", status="shipped")


def test_rename_updates_every_copied_name(shop: Shop) -> None:
    for i in range(3):
        shop.write.handle(CreateOrder(f"o{i}", "c1"))
    shop.write.handle(CreateOrder("x", "c2"))
    shop.write.handle(RenameCustomer("c1", "Countess"))
    shop.sync()
    names = {k: r["customer_name"] for k, r in shop.store.rows(ORDER_SUMMARIES).items()}
    assert names == {"o0": "Countess", "o1": "Countess", "o2": "Countess", "x": "Grace"}


def test_redelivered_events_are_skipped_by_the_checkpoint(shop: Shop) -> None:
    shop.write.handle(CreateOrder("o1", "c1"))
    shop.write.handle(AddItem("o1", "pen", 2, 100))
    shop.sync()
    before = shop.store.rows(ORDER_SUMMARIES)
    assert shop.projector.apply(shop.write.events()) == 0  # the whole history again
    assert shop.projector.skipped == 4
    assert shop.store.rows(ORDER_SUMMARIES) == before
    assert before["o1"]["item_count"] == 2


def test_a_consumer_crash_before_commit_redelivers_but_applies_once(shop: Shop) -> None:
    shop.write.handle(CreateOrder("o1", "c1"))
    shop.write.handle(AddItem("o1", "pen", 2, 100))
    shop.relay.run_until_empty()
    records = shop.consumer.poll()
    shop.projector.apply(records)
    shop.consumer.close()  # crash: applied, but the broker offset was never committed
    again = shop.broker.subscribe(shop.write.topic, group="read-model", member="p2")
    assert len(again.poll()) == len(records)  # redelivered ...
    assert shop.store.rows(ORDER_SUMMARIES)["o1"]["item_count"] == 2  # ... yet counted once


def test_a_missing_event_raises_projection_gap(shop: Shop) -> None:
    shop.write.handle(CreateOrder("o1", "c1"))
    events = shop.write.events()
    with pytest.raises(ProjectionGap, match="missing"):
        shop.projector.apply([events[0], events[2]])
    assert shop.projector.position == 0  # the whole batch rolled back


def test_events_without_seq_are_refused(shop: Shop) -> None:
    with pytest.raises(ValueError, match="seq"):
        shop.projector.apply([Event("OrderCreated", "o1", {"order_id": "o1"})])
    with pytest.raises(TypeError, match="events"):
        shop.projector.apply([42])


def test_projector_arguments_are_checked() -> None:
    store = SQLiteReadStore()
    with pytest.raises(TypeError, match="store"):
        Projector({}, clock=ManualClock())
    with pytest.raises(ValueError, match="projections"):
        Projector(store, [])
    with pytest.raises(ValueError, match="distinct"):
        Projector(store, [OrderSummaries(), OrderSummaries()])


def test_lag_is_measured_on_the_manual_clock(shop: Shop) -> None:
    shop.clock.set(10.0)
    shop.write.handle(CreateOrder("o1", "c1"))
    shop.relay.run_until_empty()
    shop.clock.advance(2.5)
    shop.projector.run_until_idle(shop.consumer)
    sample = shop.projector.samples[-1]
    assert (sample.seq, sample.written_at, sample.applied_at, sample.lag) == (3, 10.0, 12.5, 2.5)
    assert shop.store.checkpoint("orders").applied_at == 12.5


def test_rebuild_gives_the_same_rows_and_adds_a_read_model_after_the_fact() -> None:
    shop = Shop()  # only OrderSummaries live
    shop.write.handle(RegisterCustomer("c1", "Ada"))
    shop.write.handle(CreateOrder("o1", "c1"))
    shop.write.handle(AddItem("o1", "pen", 2, 100))
    shop.write.handle(ConfirmOrder("o1"))
    shop.sync()
    history = events_from_broker(shop.broker, shop.write.topic)
    fresh = rebuild(history, SQLiteReadStore())
    assert fresh.store.rows(ORDER_SUMMARIES) == shop.store.rows(ORDER_SUMMARIES)
    stats = rebuild(history, SQLiteReadStore(), [CustomerStats()], name="stats")
    assert stats.store.rows(CUSTOMER_STATS)["c1"]["spent_cents"] == 200
    with pytest.raises(ValueError, match="empty"):
        rebuild(history, shop.store)
    with pytest.raises(ValueError, match="batch_size"):
        rebuild(history, SQLiteReadStore(), batch_size=0)


def test_read_your_writes_waits_for_the_checkpoint(shop: Shop) -> None:
    shop.relay.run_until_empty()
    result = shop.write.handle(CreateOrder("o1", "c1"))
    ticks = []

    def projector_catches_up_after_two_waits() -> None:
        ticks.append(shop.clock.now())
        if len(ticks) == 2:
            shop.sync()

    reader = ReadYourWrites(shop.write, shop.store, clock=shop.clock, timeout=1.0, poll_interval=0.1,
                            on_wait=projector_catches_up_after_two_waits)
    read = reader.order("o1", after=result)
    assert (read.source, read.waited, read.row["status"]) == ("read-model", 0.2, "draft")
    assert read.checkpoint >= result.position


def test_read_your_writes_falls_back_to_the_write_model(shop: Shop) -> None:
    shop.sync()
    shop.write.handle(CreateOrder("o1", "c1"))
    result = shop.write.handle(AddItem("o1", "pen", 1, 700))
    reader = ReadYourWrites(shop.write, shop.store, clock=shop.clock, timeout=0.3, poll_interval=0.1)
    read = reader.order("o1", after=result)
    assert read.source == "write-model" and read.waited == pytest.approx(0.3)
    assert read.row["total_cents"] == 700  # the user sees their own write
    assert OrderQueries(shop.store).order("o1") is None  # while the read model is still behind
    shop.sync()
    assert reader.order("o1", after=result).row == read.row  # both sources give the same row
    assert (reader.fallbacks, reader.fresh_reads) == (1, 1)


def test_read_your_writes_arguments() -> None:
    shop = Shop()
    with pytest.raises(ValueError, match="poll_interval"):
        ReadYourWrites(shop.write, shop.store, poll_interval=0)
    with pytest.raises(ValueError, match="timeout"):
        ReadYourWrites(shop.write, shop.store, timeout=-1)
    with pytest.raises(ValueError, match="position"):
        ReadYourWrites(shop.write, shop.store, clock=shop.clock).wait_for(-1)


def test_simulated_lag_grows_only_when_commands_outrun_the_projector() -> None:
    calm = simulate_lag(10, 50, 10)
    assert calm.max_backlog <= 1 and calm.max_lag <= 0.1 + 1e-9
    burst = simulate_lag(10, 30, 20, burst=(2, 6, 90))
    assert burst.max_backlog > 100 and burst.max_lag > 2
    assert burst.final_backlog == 0  # it catches up once the burst ends
    slow = simulate_lag(40, 20, 10)
    assert slow.final_backlog > 150  # a projector slower than the writes never catches up
    assert simulate_lag(10, 30, 5, seed=9).samples == simulate_lag(10, 30, 5, seed=9).samples


@pytest.mark.parametrize("kwargs", [{"command_rate": -1}, {"projector_rate": float("nan")},
                                    {"tick": 0}, {"burst": (5, 2, 10)}])
def test_simulation_arguments(kwargs) -> None:
    args = {"command_rate": 1, "projector_rate": 1, "seconds": 1} | kwargs
    with pytest.raises(ValueError, match=next(iter(kwargs)).split("_")[0]):
        simulate_lag(**args)
