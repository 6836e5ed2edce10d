"""Chapter 7 (caching): cache-aside's read and write paths and the stale-set race, traced.

Each scenario runs the real ``CacheAside`` on an in-process Redis (fakeredis, with Lua) and a
``SlowStore``; the cache's storage layer (``RedisEntries``) and the store are wrapped by a
``Tracer``, so every arrow is a call the pattern made, in the order it made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import fakeredis

from patterns.caching import CacheAside, SlowStore
from patterns.clock import ManualClock
from patterns.diagrams.dot import Diagram
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.diagrams.tracing import Tracer, short

__all__ = ["cache_aside_paths", "stale_set_race", "stale_set_race_lease"]


def _redis_call(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    key = args[0] if args else "?"
    if method == "read":
        return f"GET {key}"
    if method == "token":
        return f"GET {key}'s lease generation"
    if method == "write":
        ttl = args[2] if len(args) > 2 else kwargs.get("ttl")
        token = kwargs.get("token")
        guard = "" if token is None else f" if generation is still {token}"
        return f"SET {key} = {short(args[1], 16)}, ttl {ttl:g} s{guard}"
    if method == "invalidate":
        return f"DEL {key}, generation + 1"
    return None


def _redis_answer(method: str, result: Any) -> str | None:
    if method == "read":
        return "miss" if result is None else f"hit: {short(result.value, 20)}"
    if method == "token":
        return f"generation {result}"
    if method == "write":
        return "stored" if result else "refused: the generation moved"
    if method == "invalidate":
        return "deleted" if result else "nothing to delete"
    return None


def _store_call(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    if method == "get":
        return f"SELECT {args[0]}"
    if method == "put":
        return f"UPDATE {args[0]} = {short(args[1], 16)}"
    return None


def _store_answer(method: str, result: Any) -> str | None:
    return short(result, 20) if method == "get" else None


def _setup(trace: Trace) -> tuple[ManualClock, SlowStore, Any, Tracer]:
    clock = ManualClock()
    store = SlowStore(clock, query_cost=0.005)
    tracer = Tracer(trace)
    return clock, store, fakeredis.FakeRedis(), tracer


def _traced_cache(tracer: Tracer, redis: Any, loader: Any, clock: ManualClock, caller: str, **options: Any) -> Any:
    cache = CacheAside(redis, loader, clock=clock, **options)
    cache.entries = tracer.wrap(cache.entries, "Redis", caller=caller, describe=_redis_call, replies=_redis_answer)
    return cache


def cache_aside_paths() -> Diagram:
    """Read path (a miss, then a hit) and write path (the store first, then delete) of ``CacheAside``."""
    trace = Trace(["app", "Redis", "database"], kinds={"Redis": "cache", "database": "store"})
    clock, store, redis, tracer = _setup(trace)
    store.seed([("item:42", {"price": 10})])
    db = tracer.wrap(store, "database", caller="app", describe=_store_call, replies=_store_answer)
    cache = _traced_cache(tracer, redis, db.get, clock, "app", ttl=60.0, prefix="paths:")
    trace.note("app", "read item:42")
    cache.get("item:42")
    clock.advance(1)
    trace.note("app", "read item:42 again")
    cache.get("item:42")
    clock.advance(1)
    trace.note("app", "write item:42")
    db.put("item:42", {"price": 12})
    cache.invalidate("item:42")
    return sequence_diagram(trace, title="cache-aside: read (miss, then hit), then write",
                            generated_from="patterns.caching.CacheAside (a traced run)")


def _race(lease: bool) -> tuple[Trace, str]:
    trace = Trace(["reader", "Redis", "database", "writer"], kinds={"Redis": "cache", "database": "store"})
    clock, store, redis, tracer = _setup(trace)
    store.seed([("price", 100)])
    prefix = f"race-{int(lease)}:"
    writer_db = tracer.wrap(store, "database", caller="writer", describe=_store_call)
    writer = _traced_cache(tracer, redis, store.get, clock, "writer", ttl=300.0, prefix=prefix, lease=lease)
    reader_db = tracer.wrap(store, "database", caller="reader", describe=_store_call, replies=_store_answer)

    def slow_reader(key: str) -> Any:
        value = reader_db.get(key)  # 1. the reader reads the old price ...
        if store.peek(key) == 100:  # 2. ... a writer changes the row and deletes the entry ...
            writer_db.put(key, 120)
            writer.invalidate(key)
        return value  # 3. ... and the reader's fill arrives last

    reader = _traced_cache(tracer, redis, slow_reader, clock, "reader", ttl=300.0, prefix=prefix, lease=lease)
    trace.note("reader", "read price")
    first = reader.get("price")
    clock.advance(60)
    trace.note("reader", "a minute later: read price")
    later = reader.get("price")
    stale = "stale" if later != store.peek("price") else "fresh"
    return trace, f"served {first}, then {later} a minute later ({stale})"


def stale_set_race() -> Diagram:
    """The stale-set race without protection: the reader's late fill plants the old price."""
    trace, outcome = _race(lease=False)
    return sequence_diagram(trace, title=f"the stale-set race, no lease: {outcome}",
                            generated_from="patterns.caching.CacheAside (a traced run, lease=False)")


def stale_set_race_lease() -> Diagram:
    """The same schedule with a lease: the late fill is refused, the next reader loads the new price."""
    trace, outcome = _race(lease=True)
    return sequence_diagram(trace, title=f"the same race with a lease: {outcome}",
                            generated_from="patterns.caching.CacheAside (a traced run, lease=True)")
