"""Issue 12 (10) for caching, API and CQRS: absurd, non-finite and wrong-typed arguments are refused
at the door with ValueError/TypeError naming the parameter, never an AttributeError, an
OverflowError, a Redis error or a hang later."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from patterns import infra
from patterns.api import (
    CursorCodec,
    IdempotencyKeys,
    MemoryIdempotencyStore,
    OffsetPaginator,
    create_items_table,
    idempotent,
    page_through_changing_feed,
)
from patterns.caching import (
    CacheAside,
    EventInvalidator,
    ReadThrough,
    SimulatedCache,
    SlowStore,
    VersionedKeys,
    XFetch,
    ZipfWorkload,
    simulate_hit_ratio,
    simulate_stampede,
    write_behind_exposure,
)
from patterns.clock import ManualClock
from patterns.cqrs import AddItem, CreateOrder, OrderQueries, SQLiteReadStore, rebuild, simulate_lag
from patterns.infra import sqlite_db

REDIS = infra.redis_client(url="", fresh=True)

CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("cache ttl 1e300", lambda: CacheAside(REDIS, str, ttl=1e300), ValueError, "ttl"),
    ("cache ttl inf", lambda: CacheAside(REDIS, str, ttl=math.inf), ValueError, "ttl"),
    ("cache safety margin 1e300", lambda: CacheAside(REDIS, str, ttl=1, safety_margin=1e300), ValueError,
     "safety_margin"),
    ("cache clock str", lambda: CacheAside(REDIS, str, ttl=1, clock="now"), TypeError, "clock"),
    ("cache not a client", lambda: CacheAside("redis://x", str, ttl=1), TypeError, "cache"),
    ("read-through store str", lambda: ReadThrough(REDIS, "db", ttl=1), TypeError, "store"),
    ("versioned counter ttl inf", lambda: VersionedKeys(REDIS, counter_ttl=math.inf), ValueError, "counter_ttl"),
    ("versioned not a client", lambda: VersionedKeys({}), TypeError, "redis"),
    ("slow store table select", lambda: SlowStore(table="select"), ValueError, "table"),
    ("slow store table int", lambda: SlowStore(table=42), TypeError, "table"),
    ("slow store clock", lambda: SlowStore(clock=3), TypeError, "clock"),
    ("slow store cost inf", lambda: SlowStore(query_cost=math.inf), ValueError, "query_cost"),
    ("simulated ttl inf", lambda: SimulatedCache(10, ttl=math.inf), ValueError, "ttl"),
    ("simulated capacity float", lambda: SimulatedCache(2.5), TypeError, "capacity"),
    ("simulated policy", lambda: SimulatedCache(10, "fifo"), ValueError, "policy"),
    ("hit ratio interval nan", lambda: simulate_hit_ratio(["a"], interval=math.nan), ValueError, "interval"),
    ("xfetch beta inf", lambda: XFetch(math.inf), ValueError, "beta"),
    ("xfetch delta nan", lambda: XFetch().head_start(math.nan), ValueError, "delta"),
    ("zipf 10**9 keys", lambda: ZipfWorkload(10**9), ValueError, "n_keys"),
    ("zipf skew inf", lambda: ZipfWorkload(10, math.inf), ValueError, "skew"),
    ("stampede rate 1e300", lambda: simulate_stampede("none", rate=1e300), ValueError, "rate"),
    ("stampede 10**8 requests", lambda: simulate_stampede("none", rate=100_000, duration=86_400), ValueError,
     "at most 2,000,000 requests"),
    ("stampede strategy", lambda: simulate_stampede("lock"), ValueError, "strategy"),
    ("exposure inf", lambda: write_behind_exposure(math.inf), ValueError, "flush_every"),
    ("invalidator key_of", lambda: EventInvalidator(key_of="key"), TypeError, "key_of"),
    ("idempotency ttl inf", lambda: IdempotencyKeys(MemoryIdempotencyStore(), ttl=math.inf), ValueError, "ttl"),
    ("idempotency lease 1e16", lambda: IdempotencyKeys(MemoryIdempotencyStore(), lease=1e16), ValueError, "lease"),
    ("memory store clock", lambda: MemoryIdempotencyStore(clock="now"), TypeError, "clock"),
    ("idempotent keys", lambda: idempotent(str, "keys"), TypeError, "keys"),
    ("paginator table select", lambda: OffsetPaginator(sqlite_db(), "select"), ValueError, "table"),
    ("paginator db str", lambda: OffsetPaginator("db.sqlite", "items"), TypeError, "db"),
    ("items table count 10**12", lambda: create_items_table(sqlite_db(), "t", 10**12), ValueError, "count"),
    ("feed rows 10**9", lambda: page_through_changing_feed("offset", rows=10**9), ValueError, "rows"),
    ("cursor secret str", lambda: CursorCodec("a-long-enough-secret"), TypeError, "secret"),
    ("lag rate 1e300", lambda: simulate_lag(1e300, 10), ValueError, "command_rate"),
    ("lag seconds inf", lambda: simulate_lag(10, 10, math.inf), ValueError, "seconds"),
    ("lag burst", lambda: simulate_lag(10, 10, 5, burst=(4, 2, 10)), ValueError, "burst end"),
    ("order limit", lambda: OrderQueries(SQLiteReadStore()).orders_for_customer("c1", limit=10**6), ValueError,
     "limit"),
    ("order status", lambda: OrderQueries(SQLiteReadStore()).orders_for_customer("c1", status="open"), ValueError,
     "status"),
    ("rebuild batch", lambda: rebuild([], SQLiteReadStore(), batch_size=0), ValueError, "batch_size"),
    ("add item quantity", lambda: AddItem("o1", "pen", 0, 250), ValueError, "quantity must be an integer in"),
    ("add item price bool", lambda: AddItem("o1", "pen", 1, True), TypeError, "price_cents"),
    ("create order id", lambda: CreateOrder("o 1", "c1"), ValueError, "order_id"),
]


@pytest.mark.timeout(5)
@pytest.mark.parametrize(("what", "build", "error", "words"), CASES, ids=[c[0] for c in CASES])
def test_refused_at_the_door(what: str, build: Callable[[], Any], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        build()


def test_lab_scale_arguments_still_work() -> None:
    assert simulate_stampede("xfetch", rate=200, cost=0.5, ttl=30, duration=120, seed=1).loads == 12
    assert write_behind_exposure(1.0, 50.0) == 50
    assert simulate_lag(10, 30, 25, burst=(2, 6, 90)).max_backlog == 234
    assert ZipfWorkload(300, 1.0, seed=7).sample(3) == ZipfWorkload(300, 1.0, seed=7).sample(3)
    assert CacheAside(REDIS, str, ttl=3600, clock=ManualClock()).get("k") == "k"
