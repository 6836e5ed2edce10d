"""Worked examples for each algorithm: the numbers a reader can check by hand."""

from __future__ import annotations

import pytest

from patterns.clock import ManualClock
from patterns.ratelimit import (
    GCRA,
    LIMITERS,
    FixedWindow,
    LeakyBucket,
    SlidingWindowCounter,
    SlidingWindowLog,
    TokenBucket,
)


def admitted_at(lim: object, clock: ManualClock, times: list[float]) -> list[bool]:
    out = []
    for t in times:
        clock.set(t)
        out.append(lim.allow("k").allowed)  # type: ignore[attr-defined]
    return out


def test_fixed_window_lets_two_limits_through_around_a_boundary() -> None:
    clock = ManualClock()
    lim = FixedWindow(5, 60.0, clock=clock)
    # 5 at the end of window [0, 60), 5 at the start of [60, 120): 10 within 2 seconds
    assert admitted_at(lim, clock, [59.0] * 5 + [59.5] + [61.0] * 5) == [True] * 5 + [False] + [True] * 5
    d = lim.allow("k")
    assert not d.allowed and d.retry_after == pytest.approx(59.0) and d.reset_after == pytest.approx(59.0)


def test_fixed_windows_are_aligned_to_the_clock_not_to_the_first_request() -> None:
    clock = ManualClock(50.0)
    lim = FixedWindow(1, 60.0, clock=clock)
    assert lim.allow("k").reset_after == pytest.approx(10.0)  # window [0, 60) ends at 60
    assert admitted_at(lim, clock, [59.999999, 60.0]) == [False, True]


def test_sliding_log_counts_the_half_open_interval() -> None:
    clock = ManualClock()
    lim = SlidingWindowLog(2, 10.0, clock=clock)
    # admissions at 0 and 5; at 10 the one at 0 is out of (0, 10], at 9.9 it is not
    assert admitted_at(lim, clock, [0.0, 5.0, 9.9, 10.0, 10.0]) == [True, True, False, True, False]
    d = lim.allow("k")
    assert d.retry_after == pytest.approx(5.0) and d.remaining == 0  # the entry at 5 leaves at 15


def test_sliding_log_denied_cost_waits_for_enough_entries_to_expire() -> None:
    clock = ManualClock()
    lim = SlidingWindowLog(4, 10.0, clock=clock)
    for t in (0.0, 1.0, 2.0, 3.0):
        clock.set(t)
        lim.allow("k")
    d = lim.allow("k", 3)  # needs the entries of 0, 1 and 2 to expire: at 12
    assert not d.allowed and d.retry_after == pytest.approx(9.0)


def test_sliding_counter_weights_the_previous_window() -> None:
    clock = ManualClock()
    lim = SlidingWindowCounter(10, 60.0, clock=clock)
    clock.set(30.0)
    assert lim.allow("k", 10).allowed  # window [0, 60) full
    clock.set(75.0)  # 25% into [60, 120): estimate = 10 * 0.75 = 7.5
    d = lim.allow("k", 2)
    assert d.allowed and d.remaining == 0  # 7.5 + 2 = 9.5 fits; floor(10 - 9.5) = 0 left
    assert not lim.allow("k").allowed  # 10.5 > 10
    assert lim.allow("k").retry_after == pytest.approx(3.0)  # at 78: 10 * 0.7 + 2 + 1 = 10 <= 10


def test_token_bucket_refills_at_the_rate_up_to_burst() -> None:
    clock = ManualClock()
    lim = TokenBucket(limit=2, period=1.0, burst=4, clock=clock)  # 2 tokens/s, bucket of 4
    assert [lim.allow("k").allowed for _ in range(5)] == [True] * 4 + [False]
    clock.advance(1.0)  # +2 tokens
    assert [lim.allow("k").allowed for _ in range(3)] == [True, True, False]
    clock.advance(100.0)  # never more than the burst
    assert lim.allow("k", 4).remaining == 0


def test_gcra_stores_one_timestamp_and_agrees_with_the_bucket() -> None:
    clock = ManualClock()
    gcra, bucket = GCRA(3, 1.0, 2, clock=clock), TokenBucket(3, 1.0, 2, clock=clock)
    for dt in (0.0, 0.0, 0.0, 0.2, 0.4, 0.1, 0.0, 1.0):
        clock.advance(dt)
        assert gcra.allow("k") == bucket.allow("k")
    state, _ = gcra._step(None, 0, 1)
    assert len(state) == 2  # (TAT in ticks, remainder): one exact timestamp


def test_leaky_bucket_queues_and_releases_evenly() -> None:
    clock = ManualClock()
    lim = LeakyBucket(limit=4, period=1.0, capacity=3, clock=clock)  # one leaves every 0.25 s
    decisions = [lim.allow("k") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.delay for d in decisions[:3]] == [0.0, 0.25, 0.5]
    assert decisions[3].retry_after == pytest.approx(0.25)
    clock.advance(0.25)
    assert lim.allow("k").delay == pytest.approx(0.5)  # joins the back of the queue


def test_leaky_bucket_with_capacity_one_is_a_pure_policer() -> None:
    clock = ManualClock()
    lim = LeakyBucket(limit=10, period=1.0, capacity=1, clock=clock)
    assert admitted_at(lim, clock, [0.0, 0.05, 0.1, 0.15, 0.2]) == [True, False, True, False, True]
    assert all(lim.allow("k").delay == 0.0 for _ in range(3))


def test_gcra_admits_immediately_without_delay() -> None:
    lim = GCRA(limit=4, period=1.0, burst=3, clock=ManualClock())
    assert [lim.allow("k").delay for _ in range(3)] == [0.0, 0.0, 0.0]


class ScriptedClock:
    """A clock that can step backwards, like a second app server whose clock lags."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.mark.parametrize(
    "cls", LIMITERS
)
def test_a_lagging_clock_makes_the_limiter_stricter_never_looser(cls: type) -> None:
    clock = ScriptedClock()
    lim = cls(3, 10.0, clock=clock)
    clock.t = 100.0
    assert [lim.allow("k").allowed for _ in range(4)] == [True, True, True, False]
    for lagging in (99.0, 95.0, 50.0, 0.0):  # the past never has spare quota
        clock.t = lagging
        assert not lim.allow("k").allowed
    clock.t = 100.0 + 20.0  # and time moving on again refills as usual
    assert lim.allow("k").allowed


@pytest.mark.parametrize(
    "cls", LIMITERS
)
def test_a_clock_stepping_back_does_not_let_idle_key_sweeping_forget_live_state(cls: type) -> None:
    clock = ScriptedClock()
    lim = cls(3, 10.0, clock=clock)
    clock.t = 100.0
    assert lim.allow("k", 3).allowed
    clock.t = 0.0  # the clock steps back (say an NTP correction of a wall clock)...
    assert not lim.allow("k").allowed
    clock.t = 100.5  # ...and forward again; then many new keys make the table sweep itself
    for i in range(3_000):
        lim.allow(f"other:{i}")
    assert not lim.allow("k").allowed  # k's state (used up at 100) must still be there


@pytest.mark.parametrize("cls", LIMITERS)
def test_retry_after_is_true_on_a_clock_that_stepped_back(cls: type) -> None:
    clock = ScriptedClock()
    lim = cls(3, 10.0, clock=clock)
    clock.t = 100.0
    assert lim.allow("k", 3).allowed
    clock.t = 60.0  # 40 s back: the state looks 40 s in the future
    denied = lim.allow("k")
    assert not denied.allowed and denied.retry_after > 40.0
    clock.t += denied.retry_after - 1e-6
    assert not lim.allow("k").allowed  # not a microsecond early...
    clock.t += 1e-6
    assert lim.allow("k").allowed  # ...and exactly then
