"""Checkers for the chapter 7 lab (caching). Each prints a verdict and returns True/False."""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable
from typing import Any

from patterns import infra
from patterns.caching import CacheAside, SlowStore, XFetch
from patterns.caching.simulation import write_behind_exposure
from patterns.check import is_unanswered, report
from patterns.clock import ManualClock

__all__ = ["db_queries_for_hot_key", "check_db_queries", "check_safe_update", "check_xfetch",
           "check_flush_interval"]


def db_queries_for_hot_key(rate: float = 2.0, minutes: float = 10.0, ttl: float = 30.0,
                           query_cost: float = 0.02) -> int:
    """Replay ``rate`` requests/s for one key through cache-aside and count the store queries."""
    clock = ManualClock()
    store = SlowStore(clock, query_cost=query_cost)
    store.seed([("product:1", {"price": 10})])
    cache = CacheAside(infra.redis_client(url="", fresh=True), store.get, ttl=ttl, clock=clock)
    for i in range(int(rate * minutes * 60)):
        clock.set(max(clock.now(), i / rate))
        cache.get("product:1")
    return store.reads


def check_db_queries(answer: Any) -> bool:
    """Exercise 1: how many store queries does one hot key cost (2 req/s, 10 min, TTL 30 s)?"""
    title = "Exercise 1 (queries for a hot key)"
    if is_unanswered(answer):
        return report(title, ["answer_1 is not set yet: replace the ... with a number."])
    expected = db_queries_for_hot_key()
    requests = 2 * 10 * 60  # the exercise: 2 requests/s for 10 minutes (the function's defaults)
    problems = []
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        problems.append(f"answer_1 should be a number of queries, got {type(answer).__name__}.")
    elif answer != expected:
        hint = (f"{requests:,} would be no cache at all; a load happens only when the entry has expired."
                if answer >= requests else "Each expiry costs one load; count the expiries in 10 minutes (and the first miss).")
        problems.append(f"{answer} is not it. {hint}")
    return report(title, problems, f"{expected} queries instead of {requests:,}: the cache absorbed "
                                   f"{1 - expected / requests:.1%} of the load.")


def _update_scenario(update: Callable[..., Any]) -> list[str]:
    clock = ManualClock()
    store = SlowStore(clock, query_cost=0.01)
    store.seed([("price", 100)])
    cache = CacheAside(infra.redis_client(url="", fresh=True), store.get, ttl=300, clock=clock)
    cache.get("price")  # warm: the cache holds 100
    real_put, real_invalidate = store.put, cache.invalidate

    def put_with_reader(key: str, value: Any) -> int:
        cache.get(key)  # a concurrent reader arrives just before the store write
        return real_put(key, value)

    def invalidate_with_reader(key: str) -> None:
        cache.get(key)  # ...and just before the invalidation
        real_invalidate(key)

    store.put = put_with_reader  # type: ignore[method-assign]
    cache.invalidate = invalidate_with_reader  # type: ignore[method-assign]
    update(store, cache, "price", 120)
    store.put, cache.invalidate = real_put, real_invalidate  # type: ignore[method-assign]
    problems = []
    if store.peek("price") != 120:
        problems.append("the store still holds the old price: write the new value to the store.")
    served = cache.get("price")
    if served != 120:
        problems.append(f"after the update a reader still gets {served!r} from the cache: a reader that ran "
                        "between your two steps refilled the old value. Which step must come first?")
    return problems


def check_safe_update(update: Any) -> bool:
    """Exercise 2: ``update_price(store, cache, key, value)`` must leave no stale entry behind."""
    title = "Exercise 2 (a safe cache-aside write)"
    if is_unanswered(update):
        return report(title, ["update_price is not defined yet."])
    if not callable(update) or len(inspect.signature(update).parameters) != 4:
        return report(title, ["update_price should be a function of (store, cache, key, value)."])
    try:
        problems = _update_scenario(update)
    except Exception as exc:  # a learner's bug: explain instead of crashing the lab
        problems = [f"update_price raised {type(exc).__name__}: {exc}"]
    return report(title, problems, "Write the source first, then invalidate: a reader in between "
                                   "gets the old entry once, but cannot plant it back.")


def check_xfetch(fn: Any) -> bool:
    """Exercise 3: ``should_recompute(now, delta, beta, expiry, u)`` must follow the XFetch rule."""
    title = "Exercise 3 (XFetch)"
    if is_unanswered(fn):
        return report(title, ["should_recompute is not defined yet."])
    rng = random.Random(2015)
    cases = [(10.0, 1.0, 1.0, 10.0, 0.5), (9.0, 1.0, 1.0, 10.0, math.exp(-1.0)), (5.0, 0.0, 1.0, 10.0, 0.01)]
    cases += [(rng.uniform(0, 100), rng.uniform(0, 5), rng.choice([0.5, 1.0, 2.0]), rng.uniform(0, 110),
               1.0 - rng.random()) for _ in range(500)]
    problems = []
    for now, delta, beta, expiry, u in cases:
        expected = XFetch(beta).should_recompute(now, delta, expiry, u=u)
        try:
            got = fn(now, delta, beta, expiry, u)
        except Exception as exc:
            problems.append(f"should_recompute{(now, delta, beta, expiry, u)} raised {type(exc).__name__}: {exc}")
            break
        if bool(got) != expected:
            problems.append(f"should_recompute(now={now:.3f}, delta={delta:.3f}, beta={beta}, expiry={expiry:.3f}, "
                            f"u={u:.4f}) returned {got!r}, expected {expected}. Hint: ln(u) <= 0, so "
                            "now - delta*beta*ln(u) is now plus a random head start.")
            break
    return report(title, problems, "A reader recomputes early with a probability that grows near expiry.")


def check_flush_interval(answer: Any, limit: int = 100, rate: float = 50.0) -> bool:
    """Exercise 4: the largest ``flush_every`` that never loses more than ``limit`` writes."""
    title = "Exercise 4 (write-behind loss budget)"
    if is_unanswered(answer):
        return report(title, ["answer_4 is not set yet."])
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not answer > 0:
        return report(title, [f"answer_4 should be a number of seconds > 0, got {answer!r}."])
    loss = write_behind_exposure(answer, rate)
    problems = []
    if loss > limit:
        problems.append(f"with flush_every={answer} a crash can lose {loss} writes (> {limit}). Flush more often.")
    elif answer < 0.9 * limit / rate:
        problems.append(f"safe (worst loss {loss}), but you flush more often than needed: every flush is a "
                        "store query. How long does it take to accumulate the budget at this rate?")
    return report(title, problems, f"worst case {loss} writes lost; flushing costs {1 / answer:.2f} queries/s.")
