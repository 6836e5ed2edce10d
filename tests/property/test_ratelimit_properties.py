"""Each limiter's guarantee as a Hypothesis property over random traces (ManualClock, whole us).

A trace is a start time, sorted arrival times and costs. Times are generated in integer
microseconds, so the properties are checked in exact integer arithmetic, like the limiters work.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil

from hypothesis import given
from hypothesis import strategies as st

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

ALL = list(LIMITERS)
BUCKETS = (TokenBucket, GCRA, LeakyBucket)


@st.composite
def scenarios(draw: st.DrawFn, bucket: bool = False) -> dict:
    """limit, period (us), burst, start (us) and a trace of (arrival us, cost)."""
    limit = draw(st.integers(1, 7))
    period_us = draw(st.one_of(st.integers(1, 50), st.integers(51, 5_000), st.just(60_000_000)))
    burst = draw(st.integers(1, 9)) if bucket else limit
    start = draw(st.integers(0, 10**9))
    step = max(1, period_us // max(1, limit))
    gap = st.one_of(st.just(0), st.integers(0, step), st.integers(0, 3 * period_us))
    cost = st.one_of(st.just(1), st.integers(1, burst))
    events = draw(st.lists(st.tuples(gap, cost), min_size=1, max_size=30))
    trace, t = [], start
    for g, c in events:
        t += g
        trace.append((t, c))
    return {"limit": limit, "period_us": period_us, "burst": burst, "start": start, "trace": trace}


def build(cls: type, sc: dict) -> tuple:
    clock = ManualClock(sc["start"] / 1e6)
    if cls in BUCKETS:
        lim = cls(sc["limit"], sc["period_us"] / 1e6, sc["burst"], clock=clock)
    else:
        lim = cls(sc["limit"], sc["period_us"] / 1e6, clock=clock)
    return lim, clock


def run(cls: type, sc: dict, trace: list | None = None) -> tuple:
    """Replay the trace on a fresh limiter: (limiter, clock, [(t, cost, decision)])."""
    lim, clock = build(cls, sc)
    out = []
    for t, c in sc["trace"] if trace is None else trace:
        clock.set(t / 1e6)
        out.append((t, c, lim.allow("k", c)))
    return lim, clock, out


def admitted(out: list) -> list[tuple[int, int]]:
    return [(t, c) for t, c, d in out if d.allowed]


@given(scenarios())
def test_fixed_window_at_most_limit_per_aligned_window_and_exact(sc: dict) -> None:
    _, _, out = run(FixedWindow, sc)
    P, used = sc["period_us"], {}
    for t, c, d in out:
        window = t // P
        if d.allowed:
            used[window] = used.get(window, 0) + c
            assert used[window] <= sc["limit"]
        else:  # it denies only when the window really is full
            assert used.get(window, 0) + c > sc["limit"]


@given(scenarios())
def test_sliding_log_is_exact_in_every_interval(sc: dict) -> None:
    _, _, out = run(SlidingWindowLog, sc)
    P, done = sc["period_us"], []
    for t, c, d in out:
        in_window = sum(ci for ti, ci in done if t - P < ti <= t)
        if d.allowed:
            done.append((t, c))
            assert in_window + c <= sc["limit"]  # the max over intervals (s - P, s] ends at an admission
        else:
            assert in_window + c > sc["limit"]
        assert d.remaining == sc["limit"] - sum(ci for ti, ci in done if t - P < ti <= t)


@given(scenarios())
def test_sliding_counter_bounds_aligned_windows_and_matches_the_weighted_estimate(sc: dict) -> None:
    _, _, out = run(SlidingWindowCounter, sc)
    P, limit, per_window = sc["period_us"], sc["limit"], {}
    for t, c, d in out:
        k = t // P
        prev, curr = per_window.get(k - 1, 0), per_window.get(k, 0)
        estimate = Fraction(prev * ((k + 1) * P - t), P) + curr  # exact reference arithmetic
        assert d.allowed == (estimate + c <= limit)
        if d.allowed:
            per_window[k] = curr + c
            assert per_window[k] <= limit


def token_bucket_oracle(sc: dict) -> list[bool]:
    """The token bucket in exact rationals: tokens refill limit/P per us up to burst."""
    rate = Fraction(sc["limit"], sc["period_us"])
    tokens, last, result = Fraction(sc["burst"]), sc["start"], []
    for t, c in sc["trace"]:
        tokens, last = min(Fraction(sc["burst"]), tokens + (t - last) * rate), t
        result.append(tokens >= c)
        if tokens >= c:
            tokens -= c
    return result


@given(scenarios(bucket=True))
def test_token_bucket_and_gcra_bound_every_interval_and_decide_identically(sc: dict) -> None:
    _, _, bucket = run(TokenBucket, sc)
    _, _, gcra = run(GCRA, sc)
    assert [d for _, _, d in gcra] == [d for _, _, d in bucket]  # every field, not just `allowed`
    assert [d.allowed for _, _, d in bucket] == token_bucket_oracle(sc)
    done, P = admitted(bucket), sc["period_us"]
    for i in range(len(done)):  # admitted in [t_i, t_j] <= burst + rate * (t_j - t_i)
        total = 0
        for j in range(i, len(done)):
            total += done[j][1]
            assert total * P <= sc["burst"] * P + sc["limit"] * (done[j][0] - done[i][0])


@given(scenarios(bucket=True))
def test_leaky_bucket_queues_up_to_capacity_and_spaces_departures(sc: dict) -> None:
    _, _, out = run(LeakyBucket, sc)
    P, limit, cap = sc["period_us"], sc["limit"], sc["burst"]
    emission = Fraction(P, limit)  # us per unit of cost
    free_at, last_departure, last_cost = Fraction(sc["start"]), None, 0
    for t, c, d in out:
        backlog = max(0, ceil((free_at - t) / emission))  # units queued (or leaving) at t
        assert d.allowed == (backlog + c <= cap)
        if d.allowed:
            start = max(Fraction(t), free_at)
            free_at = start + c * emission
            departure = t + round(d.delay * 1e6)
            assert departure == ceil(start)
            if last_departure is not None:  # spaced by the previous request's cost, up to rounding
                assert (departure - last_departure + 1) * limit > last_cost * P
            last_departure, last_cost = departure, c
        else:
            assert d.delay == 0.0


def _trace_then_burst(cls: type, sc: dict, cost: int) -> tuple[list, object]:
    """The trace followed by requests of ``cost`` at the same instant until one is denied."""
    lim, clock, out = run(cls, sc)
    t = sc["trace"][-1][0]
    calls = list(sc["trace"])
    for _ in range(lim.capacity + 1):
        calls.append((t, cost))
        d = lim.allow("k", cost)
        if not d.allowed:
            return calls, d
    raise AssertionError("frozen time admitted more than the capacity")


@given(data=st.data())
def test_retry_after_is_exactly_when_the_same_request_succeeds(data: st.DataObject) -> None:
    sc = data.draw(scenarios(bucket=True))
    cost = data.draw(st.integers(1, sc["burst"]))
    for cls in ALL:
        case = sc if cls in BUCKETS else window_case(sc)
        c = min(cost, case["burst"])
        calls, denied = _trace_then_burst(cls, case, c)
        wait_us = round(denied.retry_after * 1e6)
        assert wait_us >= 1 and denied.headers()["Retry-After"] == str(ceil(denied.retry_after))
        for delta, expected in ((wait_us, True), (wait_us - 1, False)):  # enough, and not 1 us less
            lim, clock, _ = run(cls, case, calls)
            clock.advance(delta / 1e6)
            assert lim.allow("k", c).allowed is expected, (cls.__name__, delta)


@given(scenarios(bucket=True))
def test_remaining_and_reset_after_are_exact(sc: dict) -> None:
    for cls in ALL:
        case = sc if cls in BUCKETS else window_case(sc)
        _, _, out = run(cls, case)
        last = out[-1][2]
        lim, _, _ = run(cls, case)
        if last.remaining >= 1:  # `remaining` more fits now...
            assert lim.allow("k", last.remaining).allowed, cls.__name__
        if last.remaining + 1 <= lim.capacity:  # ...and not one more
            lim, _, _ = run(cls, case)
            assert not lim.allow("k", last.remaining + 1).allowed, cls.__name__
        reset_us = round(last.reset_after * 1e6)
        for delta, expected in ((reset_us, True), (reset_us - 1, False)):  # full quota exactly then
            if delta >= 0:
                lim, clock, _ = run(cls, case)
                clock.advance(delta / 1e6)
                assert lim.allow("k", lim.capacity).allowed is expected, (cls.__name__, delta)


def window_case(sc: dict) -> dict:
    """The same trace for a window limiter: costs capped at ``limit`` (its capacity)."""
    trace = [(t, min(c, sc["limit"])) for t, c in sc["trace"]]
    return {**sc, "burst": sc["limit"], "trace": trace}
