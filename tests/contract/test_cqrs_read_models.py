"""One suite, every read-model store: SQLite, fakeredis, and the real Redis when configured."""

from __future__ import annotations

import contextlib
import random

import pytest

from patterns.clock import ManualClock
from patterns.cqrs import (
    CUSTOMER_STATS,
    ORDER_SUMMARIES,
    AddItem,
    CreateOrder,
    CustomerStats,
    DomainError,
    OrderQueries,
    OrderSummaries,
    Projector,
    RedisReadStore,
    RegisterCustomer,
    SQLiteReadStore,
    WriteModel,
    rebuild,
)
from patterns.cqrs.simulation import random_commands
from patterns.keys import KeySpace
from tests.redis_server import key_slot


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


def _seven_events() -> WriteModel:
    write = WriteModel(clock=ManualClock(), rng=random.Random(1))
    write.handle(RegisterCustomer("c1", "Ada"))
    write.handle(CreateOrder("o1", "c1"))
    for i in range(5):
        write.handle(AddItem("o1", f"sku{i}", 1, 100))
    return write


def test_two_learners_on_one_redis_never_see_each_other(redis_backend, unique) -> None:
    """Issue 11: with fixed keys, a second learner's projector named 'orders' applied 0 of 7 events
    (the first learner's checkpoint existed) and clear() wiped everyone's read model."""
    room = unique.rstrip(":")
    write = _seven_events()
    stores = [RedisReadStore(redis_backend, prefix=KeySpace.of("cqrs", ns=f"{room}-{who}")) for who in "ab"]
    applied = [Projector(store, clock=ManualClock()).apply(write.events()) for store in stores]
    assert applied == [7, 7]
    deleted = stores[1].clear()
    assert deleted >= 3 and stores[0].checkpoint("orders").position == 7
    assert stores[0].rows(ORDER_SUMMARIES) == write.order_summaries()
    assert stores[1].rows(ORDER_SUMMARIES) == {} and stores[1].checkpoint("orders").position == 0
    assert stores[0].clear() == deleted


@pytest.mark.parametrize("glob", ["c*", "c?", "c[q]", "c\\"])
def test_clear_with_glob_characters_touches_only_its_own_store(redis_backend, unique, glob) -> None:
    write = _seven_events()
    mine = RedisReadStore(redis_backend, prefix=f"{unique}{glob}")
    neighbours = [RedisReadStore(redis_backend, prefix=f"{unique}cqrs"),
                  RedisReadStore(redis_backend, prefix=f"{unique}{glob}", name="other-store")]
    for store in (mine, *neighbours):
        Projector(store, clock=ManualClock()).apply(write.events())
    assert mine.clear() > 0
    for store in neighbours:
        assert store.checkpoint("orders").position == 7 and store.rows(ORDER_SUMMARIES) == write.order_summaries()
    for store in neighbours:
        store.clear()


def test_every_key_of_a_store_is_in_one_slot(redis_backend, unique) -> None:
    store = RedisReadStore(redis_backend, prefix=f"{unique}cqrs", name="orders-db")
    Projector(store, [OrderSummaries(), CustomerStats()], clock=ManualClock()).apply(workload(60).events())
    keys = [k.decode() for k in redis_backend.scan_iter(match=f"*{unique}cqrs*")]
    assert len(keys) > 5
    assert {key_slot(k) for k in keys} == {key_slot("orders-db")}
    store.clear()
