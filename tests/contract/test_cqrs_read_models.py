"""One suite, every read-model store: SQLite, fakeredis, and the real Redis when configured."""

from __future__ import annotations

import contextlib
import random

import pytest

from patterns.clock import ManualClock
from patterns.cqrs import (
    CUSTOMER_STATS,
    ORDER_SUMMARIES,
    CustomerStats,
    DomainError,
    OrderQueries,
    OrderSummaries,
    Projector,
    RedisReadStore,
    SQLiteReadStore,
    WriteModel,
    rebuild,
)
from patterns.cqrs.simulation import random_commands


def workload(n: int = 150, seed: int = 5) -> WriteModel:
    write = WriteModel(clock=ManualClock(), rng=random.Random(seed))
    stream = random_commands(random.Random(seed))
    for _ in range(n):
        write.clock.advance(0.25)
        with contextlib.suppress(DomainError):
            write.handle(next(stream))
    return write


@pytest.fixture(params=["sqlite", "redis"])
def store(request, redis_backend, unique):
    if request.param == "sqlite":
        return SQLiteReadStore()
    return RedisReadStore(redis_backend, prefix=f"{unique}cqrs:")


def test_every_store_holds_the_same_rows_as_sqlite(store) -> None:
    write = workload()
    events = write.events()
    reference = rebuild(events, SQLiteReadStore(), [OrderSummaries(), CustomerStats()])
    projector = Projector(store, [OrderSummaries(), CustomerStats()], clock=ManualClock())
    for i in range(0, len(events), 7):
        projector.apply(events[i:i + 7])
    for table in (ORDER_SUMMARIES, CUSTOMER_STATS):
        assert store.rows(table) == reference.store.rows(table)
    assert store.rows(ORDER_SUMMARIES) == write.order_summaries()
    assert store.checkpoint("orders").position == write.position


def test_queries_answer_the_same_on_every_store(store) -> None:
    write = workload()
    reference = OrderQueries(rebuild(write.events(), SQLiteReadStore(), [OrderSummaries(), CustomerStats()]).store)
    rebuild(write.events(), store, [OrderSummaries(), CustomerStats()])
    queries = OrderQueries(store)
    for cid in ("c0", "c1", "c2", "c3", "c4", "nobody"):
        assert queries.orders_for_customer(cid, limit=5) == reference.orders_for_customer(cid, limit=5)
        assert queries.orders_for_customer(cid, status="confirmed") == reference.orders_for_customer(
            cid, status="confirmed")
        assert queries.customer_stats(cid) == reference.customer_stats(cid)
    assert queries.top_customers(3) == reference.top_customers(3)


def test_types_survive_the_round_trip(store) -> None:
    write = workload(30)
    rebuild(write.events(), store)
    row = next(iter(store.rows(ORDER_SUMMARIES).values()))
    assert isinstance(row["item_count"], int) and isinstance(row["created_at"], float)
    assert isinstance(row["customer_name"], str)


def test_checkpoints_of_two_projectors_are_independent(store) -> None:
    write = workload(40)
    events = write.events()
    Projector(store, [OrderSummaries()], name="summaries", clock=ManualClock()).apply(events[:10])
    Projector(store, [CustomerStats()], name="stats", clock=ManualClock()).apply(events[:25])
    assert (store.checkpoint("summaries").position, store.checkpoint("stats").position) == (10, 25)
    assert store.checkpoint("never-ran").position == 0


def test_find_needs_an_indexed_column(store) -> None:
    Projector(store, clock=ManualClock())
    with pytest.raises(ValueError, match="indexed"):
        store.find(ORDER_SUMMARIES, "status", "draft")
