"""Hammering one key from 8 threads admits exactly the bound: no lost update, no double admit.

The clock is frozen (ManualClock), so the bound is exact: ``limit`` for the window algorithms,
``burst`` for the buckets, ``capacity`` for the leaky-bucket queue. In memory the thread switch
interval is shrunk so that, without the limiter's lock, threads really do interleave inside
``allow``; on Redis the network round trip interleaves them anyway.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from patterns.clock import ManualClock
from patterns.ratelimit import (
    GCRA,
    LIMITERS,
    LeakyBucket,
    TokenBucket,
)

ALL = list(LIMITERS)
THREADS = 8


@pytest.fixture
def eager_thread_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def hammer(limiter: Any, calls_per_thread: int) -> int:
    """Run THREADS threads, each calling ``allow`` on one key; return how many were admitted."""
    admitted = [0] * THREADS
    start = threading.Barrier(THREADS)

    def worker(i: int) -> None:
        start.wait()
        for _ in range(calls_per_thread):
            if limiter.allow("hot-key").allowed:
                admitted[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(admitted)


def make(cls: type, bound: int, **kwargs: Any) -> Any:
    """A limiter whose frozen-clock bound is ``bound`` (buckets: burst; refill 1/hour is moot)."""
    if cls in (TokenBucket, GCRA, LeakyBucket):
        return cls(1, 3600.0, bound, clock=ManualClock(), **kwargs)
    return cls(bound, 3600.0, clock=ManualClock(), **kwargs)


@pytest.mark.parametrize("cls", ALL)
def test_memory_admits_exactly_the_bound_under_8_threads(cls: type, eager_thread_switching: None) -> None:
    limiter = make(cls, 1_000)
    assert hammer(limiter, 2_000) == 1_000


@pytest.mark.parametrize("cls", ALL)
def test_redis_admits_exactly_the_bound_under_8_threads(cls: type, redis_backend: Any, unique: str) -> None:
    # fakeredis runs Lua in-process and slowly: a short hammer (8 x 40 calls, bound 100); the real
    # server gets the full 8 x 2,000 calls with a bound of 500
    real = not type(redis_backend).__module__.startswith("fakeredis")
    bound, calls = (500, 2_000) if real else (100, 40)
    limiter = make(cls, bound, backend=redis_backend, prefix=unique)
    assert hammer(limiter, calls) == bound
