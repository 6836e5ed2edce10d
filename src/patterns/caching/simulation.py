"""A discrete-event model of one hot key under load, to show a stampede and its cures.

Threads cannot show a stampede deterministically, so this replays a seeded Poisson stream of
requests for one key on simulated time. A recompute takes ``cost`` seconds and its result lands
when it finishes; requests that miss meanwhile behave according to the strategy:

* ``"none"``: every miss starts its own recompute (the stampede: about ``rate * cost`` of them).
* ``"single_flight"``: a miss while a recompute is in flight waits for it: one load per expiry.
* ``"xfetch"``: a reader of a live entry recomputes early when ``XFetch.should_recompute`` says
  so, while the others keep being served the old value; misses still behave as ``"none"``.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field

from patterns._validate import require_int, require_number, require_one_of, require_seconds
from patterns.caching.stampede import XFetch
from patterns.caching.store import SlowStore
from patterns.caching.strategies import WriteBehind
from patterns.clock import ManualClock

__all__ = ["StampedeResult", "simulate_stampede", "STRATEGIES", "write_behind_exposure"]

STRATEGIES = ("none", "single_flight", "xfetch")
MAX_REQUESTS = 2_000_000  # a simulation replays every request: keep a run under a few seconds


@dataclass
class StampedeResult:
    strategy: str
    requests: int = 0
    loads: int = 0
    waited: int = 0  # requests that had to wait for a recompute (slow responses)
    peak_concurrent_loads: int = 0
    load_starts: list[float] = field(default_factory=list)


def simulate_stampede(
    strategy: str, *, rate: float = 200.0, cost: float = 0.5, ttl: float = 30.0, duration: float = 120.0,
    beta: float = 1.0, seed: int = 0,
) -> StampedeResult:
    """Replay ``rate`` requests/s for ``duration`` s against one key, warm at t=0 with ``ttl`` left."""
    require_one_of(strategy, "strategy", STRATEGIES)
    rate = require_number(rate, "rate", minimum=0.0, maximum=100_000.0, strict_min=True)
    cost = require_seconds(cost, "cost", maximum=3600.0)
    ttl = require_seconds(ttl, "ttl")
    duration = require_seconds(duration, "duration", maximum=86_400.0)
    if rate * duration > MAX_REQUESTS:
        raise ValueError(f"rate * duration must be at most {MAX_REQUESTS:,} requests, got {rate * duration:,.0f}")
    require_int(seed, "seed", minimum=0, maximum=2**63 - 2)
    rng = random.Random(seed)
    xfetch = XFetch(beta, random.Random(seed + 1))
    result = StampedeResult(strategy)
    expiry = ttl
    finishes: list[float] = []  # completion times of recomputes in flight, sorted
    t = 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= duration:
            return result
        while finishes and finishes[0] <= t:  # landed recomputes refresh the entry
            expiry = max(expiry, finishes.pop(0) + ttl)
        result.requests += 1
        live = t < expiry
        if live and not (strategy == "xfetch" and xfetch.should_recompute(t, cost, expiry)):
            continue  # a plain hit
        result.waited += 1
        if strategy == "single_flight" and finishes:
            continue  # join the recompute in flight
        bisect.insort(finishes, t + cost)
        result.loads += 1
        result.load_starts.append(t)
        result.peak_concurrent_loads = max(result.peak_concurrent_loads, len(finishes))


def write_behind_exposure(flush_every: float, rate: float = 50.0, seconds: float = 6.0) -> int:
    """The most acknowledged writes a crash could lose: ``WriteBehind`` fed ``rate`` distinct
    writes/s for ``seconds`` on a ``ManualClock``, worst moment chosen (just before a flush)."""
    from patterns import infra

    flush_every = require_seconds(flush_every, "flush_every", maximum=86_400.0)
    rate = require_number(rate, "rate", minimum=0.0, maximum=10_000.0, strict_min=True)
    seconds = require_seconds(seconds, "seconds", maximum=3600.0)
    if rate * seconds > 100_000:
        raise ValueError(f"rate * seconds must be at most 100,000 writes, got {rate * seconds:,.0f}")

    clock = ManualClock()
    cache = WriteBehind(infra.redis_client(url="", fresh=True), SlowStore(clock, query_cost=0.0), ttl=600,
                        flush_every=flush_every, batch_size=10_000)
    worst = 0
    for i in range(int(rate * seconds)):
        clock.set(max(clock.now(), i / rate))
        cache.put(f"order:{i}", i)
        worst = max(worst, cache.pending)  # a crash right now would lose these
    return worst
