"""One contract for every limiter: memory and Redis (fakeredis, and the real server when
PATTERNS_REDIS_URL is set) make identical decisions on the same trace; so do the Lua scripts and
their pure-Python twins (the browser path, forced with PATTERNS_BROWSER_MODE=1); Redis keys expire,
carry the namespace and a hash tag, and a denial never extends them."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.compat import BROWSER_MODE_ENV
from patterns.infra import redis_client
from patterns.keys import namespace
from patterns.ratelimit import (
    GCRA,
    LIMITERS,
    FixedWindow,
    LeakyBucket,
    SlidingWindowCounter,
    SlidingWindowLog,
    TokenBucket,
)
from patterns.ratelimit.base import KEEP_SLACK_MS
from tests.redis_server import key_slot

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
    keys = list(redis_backend.scan_iter(match=redis.keys.pattern()))
    assert len(keys) >= 4
    for key in keys:  # the state's longest lifetime (<= 2 periods) plus slack, never "no expiry" (-1)
        assert 0 < redis_backend.pttl(key) <= 2 * (2 * 2_000 + KEEP_SLACK_MS)


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


def stored_times(client: Any, limiter: Any, period_us: int) -> list[int]:
    """Every absolute time (us) a limiter stored: window starts, refill times, TATs, log entries."""
    times = []
    for key in client.scan_iter(match=limiter.keys.pattern()):
        if client.type(key) == b"list":  # the sliding log: admission times
            times += [int(entry) for entry in client.lrange(key, 0, -1)]
            continue
        numbers = [int(part) for part in client.get(key).split()]
        if isinstance(limiter, (FixedWindow, SlidingWindowCounter)):
            times.append(numbers[0] * period_us)  # the window number
        elif isinstance(limiter, TokenBucket):
            times.append(numbers[1])  # the last refill
        else:
            times.append(numbers[0])  # GCRA / leaky bucket: the theoretical arrival time
    return times


@pytest.mark.parametrize("cls", ALL)
def test_server_time_ignores_the_injected_clock(cls: type, redis_backend: Any, unique: str) -> None:
    extra = (2,) if cls in BUCKETS else ()
    clock = ManualClock(123.0)  # nowhere near the server's epoch time
    lim = cls(2, 3600.0, *extra, clock=clock, backend=redis_backend, prefix=unique, time_source="server")
    assert [lim.allow("k").allowed for _ in range(3)] == [True, True, False]
    server_us = int(redis_backend.time()[0]) * 1_000_000
    times = stored_times(redis_backend, lim, 3_600_000_000)
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


# -- the browser path: the same scripts in Python, on the same keys ---------------------------------
@pytest.fixture
def browser_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], None]]:
    """Switch PATTERNS_BROWSER_MODE on or off; a limiter picks its path when it is built."""

    def switch(on: bool) -> None:
        if on:
            monkeypatch.setenv(BROWSER_MODE_ENV, "1")
        else:
            monkeypatch.delenv(BROWSER_MODE_ENV, raising=False)

    yield switch


def lua_and_python(cls: type, limit: int, period: float, burst: int, switch: Callable[[bool], None],
                   client: Any, prefix: str, **kwargs: Any) -> tuple[Any, Any]:
    extra = (burst,) if cls in BUCKETS else ()
    switch(False)
    lua = cls(limit, period, *extra, backend=client, prefix=prefix, **kwargs)
    switch(True)
    python = cls(limit, period, *extra, backend=client, prefix=prefix + "py", **kwargs)
    switch(False)
    assert lua._store._lua and not python._store._lua
    return lua, python


@pytest.mark.parametrize("cls", ALL)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(1, 5), burst=st.integers(1, 6), period_us=st.integers(1, 100_000), trace=traces)
def test_the_lua_scripts_and_their_python_twins_decide_identically(
    cls: type, browser_mode: Callable[[bool], None], limit: int, burst: int, period_us: int, trace: list
) -> None:
    client = redis_client(url="", fresh=True)  # fakeredis: the only client where Lua may be missing
    clock = ManualClock(1_795_000_000.0)
    lua, python = lua_and_python(cls, limit, period_us / 1e6, burst, browser_mode, client, "t", clock=clock)
    replay(lua, python, clock, trace)


@pytest.mark.parametrize("cls", ALL)
def test_the_python_twin_reads_and_writes_the_scripts_keys(cls: type, browser_mode: Callable[[bool], None]) -> None:
    """Alternate the two paths on ONE key space: each continues from the other's state."""
    client = redis_client(url="", fresh=True)
    clock = ManualClock(1_795_000_000.0)
    extra = (4,) if cls in BUCKETS else ()
    browser_mode(False)
    lua = cls(3, 0.2, *extra, clock=clock, backend=client, prefix="shared")
    browser_mode(True)
    python = cls(3, 0.2, *extra, clock=clock, backend=client, prefix="shared")
    memory = cls(3, 0.2, *extra, clock=clock)
    rng = random.Random(11)
    for i in range(200):
        clock.advance(rng.choice([0.0, 0.0, 0.01, 0.05, 0.3]))
        cost = rng.randint(1, 3)
        key = rng.choice("ab")
        assert (lua if i % 2 else python).allow(key, cost) == memory.allow(key, cost), i


@pytest.mark.parametrize("cls", ALL)
def test_the_python_twin_reads_the_servers_clock(cls: type, browser_mode: Callable[[bool], None]) -> None:
    client = redis_client(url="", fresh=True)
    browser_mode(True)
    lim = cls(2, 3600.0, *((2,) if cls in BUCKETS else ()), backend=client, prefix="p")
    assert lim.time_source == "server" and not lim._store._lua
    assert [lim.allow("k").allowed for _ in range(3)] == [True, True, False]


# -- keys: namespace, hash tag, one slot ----------------------------------------------------------
@pytest.mark.parametrize("cls", ALL)
def test_each_decision_touches_one_namespaced_hash_tagged_key(cls: type, redis_backend: Any, unique: str) -> None:
    clock = ManualClock(1_000.0)
    lim = cls(3, 10.0, *((3,) if cls in BUCKETS else ()), clock=clock, backend=redis_backend, prefix=unique)
    entities = ["user:1", "a{b}c", "*", "tenant/7 :x"]
    for entity in entities:
        lim.allow(entity, 2)
    stored = sorted(k.decode() for k in redis_backend.scan_iter(match=lim.keys.pattern()))
    assert stored == sorted(lim.keys.key(e) for e in entities)
    for entity in entities:  # every key of one entity (here: exactly one) sits in one slot
        key = lim.keys.key(entity)
        assert key.startswith(f"{namespace()}:{unique.rstrip(':')}:{{")
        assert key_slot(key) == key_slot(lim.keys.key(entity, "any-suffix"))


def test_no_script_touches_a_key_it_was_not_given() -> None:
    """Redis Cluster routes a script by its KEYS: a script may only use KEYS[1]."""
    import re

    from patterns.ratelimit import lua

    for name in lua.__all__:
        script = getattr(lua, name)
        assert set(re.findall(r"KEYS\[(\d+)\]", script)) == {"1"}, name


@pytest.mark.parametrize("cls", ALL)
def test_two_namespaces_on_one_server_do_not_see_each_other(cls: type, redis_backend: Any, unique: str) -> None:
    clock = ManualClock(1_000.0)
    extra = (2,) if cls in BUCKETS else ()
    alice = cls(2, 60.0, *extra, clock=clock, backend=redis_backend, prefix=unique, namespace="alice-ws")
    bob = cls(2, 60.0, *extra, clock=clock, backend=redis_backend, prefix=unique, namespace="bob-ws")
    assert [alice.allow("k").allowed for _ in range(3)] == [True, True, False]
    assert [bob.allow("k").allowed for _ in range(3)] == [True, True, False]  # bob starts full
    bob.allow("other")
    assert alice.clear() == 1  # only alice's one key
    assert alice.allow("k").allowed and not bob.allow("k").allowed
    assert bob.tracked_keys == 2 and bob.clear() == 2


def test_clear_escapes_glob_characters_in_the_prefix(redis_backend: Any, unique: str) -> None:
    clock = ManualClock(1_000.0)
    star = SlidingWindowLog(1, 60.0, clock=clock, backend=redis_backend, prefix=unique + "x*")
    other = SlidingWindowLog(1, 60.0, clock=clock, backend=redis_backend, prefix=unique + "xy")
    star.allow("k")
    other.allow("k")
    assert star.clear() == 1
    assert not other.allow("k").allowed  # other's state survived the clear of "x*"


class CommandsOnly:
    """Not a redis.Redis: any object with the needed commands will do (like a RedisCluster)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.mark.parametrize("cls", ALL)
def test_any_client_with_the_needed_commands_is_accepted(cls: type, redis_backend: Any, unique: str) -> None:
    clock = ManualClock(1_000.0)
    lim = cls(1, 60.0, clock=clock, backend=CommandsOnly(redis_backend), prefix=unique)
    assert [lim.allow("k").allowed for _ in range(2)] == [True, False]


# -- time: the server's clock by default; skew, expiry and retry_after --------------------------
class OffsetClock:
    """Wall time shifted by ``offset`` seconds: an app server whose clock is wrong."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@pytest.mark.parametrize("cls", ALL)
def test_a_denial_never_extends_a_keys_life(cls: type, redis_backend: Any, unique: str) -> None:
    """Issue 12 item 8: a server an hour ahead wrote the state; a correct server's denials used to
    refresh the key's expiry (to an hour: the state's time seen from the correct clock)."""
    extra = (5,) if cls in BUCKETS else ()
    ahead, correct = ManualClock(1_000_000.0 + 3600.0), ManualClock(1_000_000.0)
    server_a = cls(5, 1.0, *extra, clock=ahead, backend=redis_backend, prefix=unique)
    server_b = cls(5, 1.0, *extra, clock=correct, backend=redis_backend, prefix=unique)
    assert server_a.allow("k", 5).allowed
    key = server_a.keys.key("k")
    before = redis_backend.pttl(key)
    assert 0 < before <= 2 * (1_000 + KEEP_SLACK_MS)  # at most the window plus slack, from any writer
    for _ in range(10):
        assert not server_b.allow("k").allowed
        correct.advance(0.2)
    assert 0 < redis_backend.pttl(key) <= before  # only real time moved it, downwards


@pytest.mark.parametrize("cls", ALL)
def test_retry_after_is_true_on_the_callers_clock_even_when_it_lags(cls: type, redis_backend: Any, unique: str) -> None:
    extra = (5,) if cls in BUCKETS else ()
    ahead, correct = ManualClock(1_000_000.0 + 3600.0), ManualClock(1_000_000.0)
    server_a = cls(5, 1.0, *extra, clock=ahead, backend=redis_backend, prefix=unique)
    server_b = cls(5, 1.0, *extra, clock=correct, backend=redis_backend, prefix=unique)
    assert server_a.allow("k", 5).allowed
    denied = server_b.allow("k")
    assert not denied.allowed and denied.retry_after > 3600  # the wait includes the lag: true
    correct.advance(denied.retry_after)
    assert server_b.allow("k").allowed


@pytest.mark.parametrize("cls", [SlidingWindowLog, TokenBucket])  # real time: two are enough
def test_a_server_an_hour_ahead_no_longer_blocks_a_correct_one_for_long(
    cls: type, redis_backend: Any, unique: str
) -> None:
    """The issue's case on real time: A's state expires with its window (plus slack), so B gets
    through within seconds instead of being refused for as long as it keeps retrying."""
    extra = (5,) if cls in BUCKETS else ()
    server_a = cls(5, 0.5, *extra, clock=OffsetClock(3600.0), backend=redis_backend, prefix=unique)
    server_b = cls(5, 0.5, *extra, clock=OffsetClock(0.0), backend=redis_backend, prefix=unique)
    assert server_a.allow("k", 5).allowed
    admitted = False
    deadline = time.monotonic() + 3 * (0.5 + KEEP_SLACK_MS / 1000)  # old code: refused for hours
    while not admitted and time.monotonic() < deadline:
        admitted = server_b.allow("k").allowed
        time.sleep(0.2)
    assert admitted


@pytest.mark.parametrize("cls", ALL)
def test_server_time_retry_after_is_true(cls: type, redis_backend: Any, unique: str) -> None:
    extra = (2,) if cls in BUCKETS else ()
    lim = cls(2, 0.4, *extra, backend=redis_backend, prefix=unique)  # time_source="server"
    assert lim.allow("k", 2).allowed
    denied = lim.allow("k", 2)
    assert not denied.allowed
    time.sleep(denied.retry_after + 0.002)  # the server's clock moves with real time (ms precision)
    assert lim.allow("k", 2).allowed
