"""Failure injection: a crash between the read-model update and the checkpoint cannot split them."""

from __future__ import annotations

import random
import threading

import pytest

from patterns.clock import ManualClock
from patterns.cqrs import (
    CUSTOMER_STATS,
    ORDER_SUMMARIES,
    AddItem,
    ConfirmOrder,
    CreateOrder,
    CustomerStats,
    OrderSummaries,
    Projector,
    RedisReadStore,
    RegisterCustomer,
    SQLiteReadStore,
    WriteModel,
    rebuild,
)
from patterns.infra import redis_client


class Crash(Exception):
    """The process died here."""


def history() -> list:
    write = WriteModel(clock=ManualClock(), rng=random.Random(2))
    for cmd in [RegisterCustomer("c1", "Ada"), CreateOrder("o1", "c1"), AddItem("o1", "pen", 2, 150),
                AddItem("o1", "mug", 1, 900), ConfirmOrder("o1"), CreateOrder("o2", "c1"),
                AddItem("o2", "pen", 5, 150)]:
        write.handle(cmd)
    return write.events()


def make_store(kind: str):
    if kind == "sqlite":
        return SQLiteReadStore()
    return RedisReadStore(redis_client(url="", fresh=True), prefix="faults:")


def crash_once_at(stage_wanted: str):
    state = {"armed": True}

    def fault(stage: str) -> None:
        if stage == stage_wanted and state["armed"]:
            state["armed"] = False
            raise Crash(stage)

    return fault


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
@pytest.mark.parametrize("crash_batch", range(4))
def test_crash_after_rows_before_checkpoint_leaves_neither(kind: str, crash_batch: int) -> None:
    events = history()
    expected = rebuild(events, make_store(kind), [OrderSummaries(), CustomerStats()])
    store = make_store(kind)
    projector = Projector(store, [OrderSummaries(), CustomerStats()], clock=ManualClock())
    batches = [events[0:2], events[2:4], events[4:6], events[6:]]
    for i, batch in enumerate(batches):
        if i == crash_batch:
            before = (store.checkpoint("orders"), store.rows(ORDER_SUMMARIES), store.rows(CUSTOMER_STATS))
            store.fault = crash_once_at("rows-written")
            with pytest.raises(Crash):
                projector.apply(batch)
            # nothing of the batch is visible: not the rows, not the checkpoint
            assert (store.checkpoint("orders"), store.rows(ORDER_SUMMARIES), store.rows(CUSTOMER_STATS)) == before
            store.fault = None
            # restart: a new projector on the same store, the broker redelivers from the last commit
            projector = Projector(store, [OrderSummaries(), CustomerStats()], clock=ManualClock())
            projector.apply(events[: sum(len(b) for b in batches[: i + 1])])
        else:
            projector.apply(batch)
    for table in (ORDER_SUMMARIES, CUSTOMER_STATS):
        assert store.rows(table) == expected.store.rows(table)
    assert store.checkpoint("orders").position == len(events)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_projection_raising_mid_batch_rolls_the_batch_back(kind: str) -> None:
    events = history()
    store = make_store(kind)

    class Flaky(OrderSummaries):
        def apply(self, event, tx):
            super().apply(event, tx)
            if event.data["seq"] == 4:
                raise Crash("projection bug")

    projector = Projector(store, [Flaky()], clock=ManualClock())
    with pytest.raises(Crash):
        projector.apply(events)
    assert store.rows(ORDER_SUMMARIES) == {} and store.checkpoint("orders").position == 0


def test_two_projector_processes_on_one_redis_store_apply_each_event_once() -> None:
    """Two replicas race on the same events (e.g. during a rebalance): WATCH makes one retry."""
    events = history() * 1
    server_client = redis_client(url="", fresh=True)
    expected = rebuild(events, make_store("sqlite"), [OrderSummaries(), CustomerStats()])
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def replica() -> None:
        try:
            store = RedisReadStore(server_client, prefix="race:")
            projector = Projector(store, [OrderSummaries(), CustomerStats()], clock=ManualClock())
            barrier.wait()
            for i in range(len(events)):
                projector.apply(events[i:i + 1])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = RedisReadStore(server_client, prefix="race:")
    for table in (ORDER_SUMMARIES, CUSTOMER_STATS):
        assert store.rows(table) == expected.store.rows(table)


def test_threads_sharing_one_sqlite_store_apply_each_event_once() -> None:
    events = history()
    store = SQLiteReadStore()
    expected = rebuild(events, SQLiteReadStore(), [OrderSummaries(), CustomerStats()])
    projectors = [Projector(store, [OrderSummaries(), CustomerStats()], clock=ManualClock()) for _ in range(4)]
    barrier = threading.Barrier(4)

    def run(projector: Projector) -> None:
        barrier.wait()
        for i in range(len(events)):
            projector.apply(events[i:i + 1])

    threads = [threading.Thread(target=run, args=(p,)) for p in projectors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for table in (ORDER_SUMMARIES, CUSTOMER_STATS):
        assert store.rows(table) == expected.store.rows(table)
    assert sum(p.applied for p in projectors) == len(events)
