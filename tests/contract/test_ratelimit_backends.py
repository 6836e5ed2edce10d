"""One contract for every limiter: memory and Redis (fakeredis, and the real server when
PATTERNS_REDIS_URL is set) make identical decisions on the same trace, and Redis keys expire."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.ratelimit import (
    GCRA,
    LIMITERS,
    LeakyBucket,
    SlidingWindowLog,
    TokenBucket,
)
from patterns.ratelimit.lua import EXPIRY_GRACE_MS

ALL = list(LIMITERS)
BUCKETS = (TokenBucket, GCRA, LeakyBucket)


def pair(cls: type, limit: int, period: float, burst: int, backend: Any, prefix: str) -> tuple:
    """The same limiter twice, in memory and on ``backend``, sharing one ManualClock that starts at
    an epoch-like time (16-digit microseconds: the range where Lua's default number printing
    would lose digits)."""
    clock = ManualClock(1_795_000_000.0)
    extra = (burst,) if cls in BUCKETS else ()
    memory = cls(limit, period, *extra, clock=clock)
    redis = cls(limit, period, *extra, clock=clock, backend=backend, prefix=prefix)
    return memory, redis, clock


def replay(memory: Any, redis: Any, clock: ManualClock, trace: list[tuple[int, int, str]]) -> None:
    now_us = round(clock.now() * 1e6)
    for gap_us, cost, key in trace:
        now_us += gap_us  # set absolute times: no float drift, so window boundaries are hit exactly
        clock.set(now_us / 1e6)
        cost = min(cost, memory.capacity)
        assert redis.allow(key, cost) == memory.allow(key, cost), (now_us, key, cost)


traces = st.lists(
    st.tuples(st.integers(0, 40_000), st.integers(1, 5), st.sampled_from(["a", "b"])), min_size=1, max_size=20
)


@pytest.mark.parametrize("cls", ALL)
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(1, 5), burst=st.integers(1, 6), period_us=st.integers(1, 100_000), trace=traces)
def test_memory_and_redis_decide_identically(
    cls: type, redis_backend: Any, unique: str, limit: int, burst: int, period_us: int, trace: list
) -> None:
    prefix = f"{unique}{uuid.uuid4().hex[:8]}:"  # a fresh namespace per example
    replay(*pair(cls, limit, period_us / 1e6, burst, redis_backend, prefix), trace)


@pytest.mark.parametrize("cls", ALL)
def test_identical_on_a_long_bursty_trace(cls: type, redis_backend: Any, unique: str) -> None:
    rng = random.Random(2)  # bursts of back-to-back calls separated by pauses, three keys
    trace = [
        (rng.choice([0, 0, 0, 900, 25_000, 140_000]), rng.randint(1, 8), rng.choice("xyz"))
        for _ in range(150)
    ]
    replay(*pair(cls, 8, 0.1, 12, redis_backend, unique), trace)


@pytest.mark.parametrize("cls", ALL)
def test_every_redis_key_gets_an_expiry(cls: type, redis_backend: Any, unique: str) -> None:
    _, redis, clock = pair(cls, 3, 2.0, 3, redis_backend, unique)
    for i in range(10):
        redis.allow(f"user:{i % 4}")
        clock.advance(0.05)
    keys = list(redis_backend.scan_iter(match=f"{unique}*"))
    assert len(keys) >= 4
    for key in keys:  # the state's own lifetime (<= 2 periods) plus the grace, never "no expiry" (-1)
        assert 0 < redis_backend.pttl(key) <= 2 * 2_000 + EXPIRY_GRACE_MS


@pytest.mark.parametrize("cls", ALL)
def test_two_app_servers_share_one_limit(cls: type, redis_backend: Any, unique: str) -> None:
    clock = ManualClock()
    extra = (5,) if cls in BUCKETS else ()
    server_a = cls(5, 60.0, *extra, clock=clock, backend=redis_backend, prefix=unique)
    server_b = cls(5, 60.0, *extra, clock=clock, backend=redis_backend, prefix=unique)
    results = [(server_a if i % 2 else server_b).allow("tenant:1").allowed for i in range(8)]
    assert results == [True] * 5 + [False] * 3
    other = cls(5, 60.0, *extra, clock=clock, backend=redis_backend, prefix=unique + "other:")
    assert other.allow("tenant:1").allowed  # a different prefix is a different namespace


def stored_times(client: Any, prefix: str, period_us: int) -> list[int]:
    """Every absolute time (us) a limiter stored under ``prefix``: window starts and timestamps."""
    times = []
    for key in client.scan_iter(match=f"{prefix}*"):
        kind = client.type(key)
        if kind == b"hash":
            fields = client.hgetall(key)
            times += [int(fields[f]) for f in (b"l", b"a") if f in fields]  # bucket last / GCRA TAT
            if b"k" in fields:  # window index
                times.append(int(fields[b"k"]) * period_us)
        elif kind == b"list":
            times += [int(entry.split(b":")[0]) for entry in client.lrange(key, 0, -1)]
    return times


@pytest.mark.parametrize("cls", ALL)
def test_server_time_ignores_the_injected_clock(cls: type, redis_backend: Any, unique: str) -> None:
    extra = (2,) if cls in BUCKETS else ()
    clock = ManualClock(123.0)  # nowhere near the server's epoch time
    lim = cls(2, 3600.0, *extra, clock=clock, backend=redis_backend, prefix=unique, time_source="server")
    assert [lim.allow("k").allowed for _ in range(3)] == [True, True, False]
    server_us = int(redis_backend.time()[0]) * 1_000_000
    times = stored_times(redis_backend, unique, 3_600_000_000)
    assert times and all(abs(t - server_us) <= 2 * 3_600_000_000 for t in times), (times, server_us)


@pytest.mark.parametrize("cls", ALL)
def test_an_app_server_with_a_lagging_clock_gets_no_extra_quota(
    cls: type, redis_backend: Any, unique: str
) -> None:
    extra = (3,) if cls in BUCKETS else ()
    ahead, behind = ManualClock(1_000.0), ManualClock(940.0)  # the second server is a minute late
    server_a = cls(3, 10.0, *extra, clock=ahead, backend=redis_backend, prefix=unique)
    server_b = cls(3, 10.0, *extra, clock=behind, backend=redis_backend, prefix=unique)
    assert [server_a.allow("k").allowed for _ in range(3)] == [True, True, True]
    assert not server_b.allow("k").allowed and not server_a.allow("k").allowed


@pytest.mark.parametrize("cls", ALL)
def test_retry_after_stays_right_after_a_lagging_server_wrote(
    cls: type, redis_backend: Any, unique: str
) -> None:
    extra = (2,) if cls in BUCKETS else ()
    ahead, behind = ManualClock(1_000.0), ManualClock(940.0)
    server_a = cls(2, 10.0, *extra, clock=ahead, backend=redis_backend, prefix=unique)
    server_b = cls(2, 10.0, *extra, clock=behind, backend=redis_backend, prefix=unique)
    assert server_a.allow("k").allowed
    server_b.allow("k")  # admitted or not, it must not corrupt the state for the others
    ahead.advance(1.0)  # too soon for 2 more (buckets: 1.2 tokens)
    denied = server_a.allow("k", 2)
    assert not denied.allowed and denied.retry_after > 0
    ahead.advance(denied.retry_after)
    assert server_a.allow("k", 2).allowed


@pytest.mark.parametrize("cls", ALL)
def test_identical_when_calls_land_exactly_on_boundaries(cls: type, redis_backend: Any, unique: str) -> None:
    rng = random.Random(5)  # gaps are exact fractions of the 0.2 s period: windows and expiries hit exactly
    gaps = [0, 0, 25_000, 50_000, 100_000, 200_000, 40_000]
    trace = [(rng.choice(gaps), rng.randint(1, 4), rng.choice("pq")) for _ in range(120)]
    replay(*pair(cls, 4, 0.2, 5, redis_backend, unique), trace)


def test_reset_forgets_a_key_in_redis(redis_backend: Any, unique: str) -> None:
    lim = SlidingWindowLog(1, 60.0, clock=ManualClock(), backend=redis_backend, prefix=unique)
    assert lim.allow("k").allowed and not lim.allow("k").allowed
    lim.reset("k")
    assert lim.allow("k").allowed
