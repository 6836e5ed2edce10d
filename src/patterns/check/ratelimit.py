"""Checkers for the exercises of lab 10, rate limiting.

Each ``check_*`` function compares the learner's answer with the package's own limiters (replayed
on a ``ManualClock``) and prints either a tick or what is wrong with a hint. They return True/False
and never raise on a wrong answer, so a partly finished lab keeps running.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from patterns.check import not_ready, report
from patterns.clock import ManualClock

__all__ = [
    "ESTIMATE_SCENARIO",
    "PARTNER_QUOTA",
    "check_sliding_estimate",
    "check_fixed_window",
    "check_partner_bucket",
    "check_shared_limiter",
    "max_in_window",
]

# Exercise 1: a SlidingWindowCounter(limit=10, period=10 s) saw 8 requests in [0, 10) and 3 in
# [10, 12.5); a request arrives at t = 12.5 s.
ESTIMATE_SCENARIO: dict[str, Any] = {
    "limit": 10,
    "period": 10.0,
    "previous": [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    "current": [10.5, 11.0, 12.0],
    "now": 12.5,
}

# Exercise 3: the partner accepts at most 20 requests in any 10 s; we need >= 1.5 requests/s.
PARTNER_QUOTA: dict[str, float] = {"max_requests": 20, "window": 10.0, "min_rate": 1.5}




def max_in_window(times: Sequence[float], window: float) -> int:
    """The largest number of events in any interval (t - window, t] (two pointers, O(n log n)).

    Times are compared in whole microseconds, as the limiters do, so float noise such as
    12.678882 - 10 != 2.678882 cannot put one event too many in a window.
    """
    ordered = sorted(round(t * 1_000_000) for t in times)
    width = round(window * 1_000_000)
    best = start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - width:
            start += 1
        best = max(best, end - start + 1)
    return best


# -- exercise 1 ------------------------------------------------------------------------------------
def _scenario_estimate() -> tuple[float, bool]:
    """The true estimate (by the formula) and the package's decision at ``now``."""
    from patterns.ratelimit import SlidingWindowCounter

    s = ESTIMATE_SCENARIO
    clock = ManualClock()
    limiter = SlidingWindowCounter(limit=s["limit"], period=s["period"], clock=clock)
    for t in s["previous"] + s["current"]:
        clock.set(t)
        if not limiter.allow("scenario").allowed:  # pragma: no cover - the scenario is all admitted
            raise AssertionError("the exercise-1 scenario must admit every setup request")
    clock.set(s["now"])
    fraction = (s["now"] % s["period"]) / s["period"]
    estimate = (1 - fraction) * len(s["previous"]) + len(s["current"])
    return estimate, limiter.allow("scenario").allowed


def check_sliding_estimate(estimate: object, admitted: object) -> bool:
    """Exercise 1: the sliding-window-counter estimate at t = 12.5 s and whether it admits."""
    title = "Exercise 1 (sliding window counter)"
    if not_ready(title, estimate) or not_ready(title, admitted):
        return False
    problems = []
    truth, truth_admitted = _scenario_estimate()
    s = ESTIMATE_SCENARIO
    prev, cur = len(s["previous"]), len(s["current"])
    f = (s["now"] % s["period"]) / s["period"]
    if isinstance(estimate, bool) or not isinstance(estimate, (int, float)):
        problems.append(f"estimate_1 should be a number, got {type(estimate).__name__}.")
    elif not math.isclose(estimate, truth, abs_tol=1e-6):
        hints = {
            round(f * prev + cur, 6): "you weighted the previous window by the elapsed fraction f; the part "
            "of the previous window still inside the sliding interval is (1 - f).",
            float(prev + cur): "you counted the whole previous window; only the part still inside the "
            "sliding interval (1 - f of it) counts.",
            float(cur): "you ignored the previous window; a fraction (1 - f) of it still counts.",
            round((1 - f) * prev + cur + 1, 6): "that includes the new request; the estimate is what "
            "was already admitted, before this request.",
        }
        hint = hints.get(round(float(estimate), 6), "use estimate = (1 - f) * previous + current, with f "
                         "the fraction of the current window that has elapsed.")
        problems.append(f"estimate_1 = {estimate!r} is not the counter's estimate. Hint: {hint}")
    if not isinstance(admitted, bool):
        problems.append(f"admitted_1 should be True or False, got {admitted!r}.")
    elif admitted != truth_admitted:
        problems.append(
            f"admitted_1 = {admitted}, but the package's SlidingWindowCounter says {truth_admitted}. "
            f"Hint: a request is admitted when estimate + cost <= limit ({s['limit']}); equality admits."
        )
    return report(title, problems, f"The estimate is {truth:g}, so one more request fits exactly.")


# -- exercise 2 ------------------------------------------------------------------------------------
def _fixed_window_traces() -> list[tuple[list[float], int, float]]:
    """Traces that catch the usual mistakes: boundaries hit exactly, bursts, other limits/periods."""
    rng = random.Random(2024)
    traces = [
        ([0.0, 1.0, 2.0, 9.999, 10.0, 10.0, 10.5, 19.0, 20.0, 20.0], 2, 10.0),
        ([4.0 + 0.1 * i for i in range(12)] + [10.0 + 0.1 * i for i in range(12)], 5, 10.0),
    ]
    for limit, period in ((3, 1.0), (10, 60.0), (1, 0.5)):
        t, times = 0.0, []
        for _ in range(300):
            t += rng.expovariate(4 * limit / period)
            times.append(round(t, 4))
        traces.append((times, limit, period))
    return traces


def _reference_fixed_window(times: Sequence[float], limit: int, period: float) -> list[bool]:
    from patterns.ratelimit import FixedWindow

    clock = ManualClock()
    limiter = FixedWindow(limit=limit, period=period, clock=clock)
    out = []
    for t in times:
        clock.set(t)
        out.append(limiter.allow("k").allowed)
    return out


def check_fixed_window(func: object) -> bool:
    """Exercise 2: ``func(times, limit, period) -> list[bool]`` must decide like ``FixedWindow``."""
    title = "Exercise 2 (a fixed window of your own)"
    if not_ready(title, func):
        return False
    if not callable(func):
        return report(title, [f"my_fixed_window should be a function, got {type(func).__name__}."])
    fn: Callable[..., Any] = func
    for times, limit, period in _fixed_window_traces():
        expected = _reference_fixed_window(times, limit, period)
        try:
            got = fn(list(times), limit, period)
        except Exception as exc:  # the learner's code may fail in any way: report, never raise
            return report(title, [f"my_fixed_window({times[:3]}..., {limit}, {period}) raised "
                                  f"{type(exc).__name__}: {exc}"])
        problem = _compare_decisions(got, expected, times, limit, period)
        if problem:
            return report(title, [problem])
    return report(title, [], "It matches patterns.ratelimit.FixedWindow on every test trace.")


def _compare_decisions(got: object, expected: list[bool], times: Sequence[float], limit: int,
                       period: float) -> str:
    if not isinstance(got, (list, tuple)) or not all(isinstance(x, bool) for x in got):
        return "my_fixed_window should return a list of True/False, one per request."
    if len(got) != len(expected):
        return f"returned {len(got)} decisions for {len(times)} requests; return one per request."
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        if g == e:
            continue
        t = times[i]
        window = math.floor(t / period)
        in_window = [x for x, ok in zip(times[:i], got[:i], strict=True) if ok and math.floor(x / period) == window]
        where = f"request {i} at t={t:g} (limit={limit}, period={period:g}): you said {g}, expected {e}."
        if t % period == 0 and i > 0 and math.floor(times[i - 1] / period) < window:
            hint = (f"windows are [k*period, (k+1)*period): t={t:g} starts window {window}, with a "
                    "fresh count.")
        elif g and len(in_window) >= limit:
            hint = (f"window [{window * period:g}, {(window + 1) * period:g}) had already admitted "
                    f"{len(in_window)} of your requests (at t={', '.join(f'{x:g}' for x in in_window)}); "
                    "a window admits at most limit. Every request of a window must map to the same "
                    "index math.floor(t / period).")
        elif not g:
            hint = (f"window [{window * period:g}, {(window + 1) * period:g}) had admitted only "
                    f"{len(in_window)} of your requests before this one, fewer than limit={limit}. "
                    "Count only admitted requests, and start from 0 in each new window.")
        else:
            hint = "compare the window index math.floor(t / period) with the previous request's."
        return f"{where} Hint: {hint}"
    return ""


# -- exercise 3 ------------------------------------------------------------------------------------
def check_partner_bucket(params: object) -> bool:
    """Exercise 3: TokenBucket kwargs that never exceed the partner's quota and sustain the rate."""
    from patterns.ratelimit import TokenBucket

    title = "Exercise 3 (sizing a token bucket for a partner quota)"
    if not_ready(title, params):
        return False
    if not isinstance(params, dict) or not {"limit", "period"} <= set(params) or not set(params) <= {
        "limit", "period", "burst"
    }:
        return report(title, ["bucket_3 should be a dict with keys limit, period and (optionally) burst, "
                              "e.g. dict(limit=3, period=2.0, burst=4)."])
    try:
        limiter = TokenBucket(clock=(clock := ManualClock()), **params)
    except (TypeError, ValueError) as exc:
        return report(title, [f"TokenBucket rejected these parameters: {exc}"])
    quota = PARTNER_QUOTA
    rate = limiter.limit / limiter.period
    burst = params.get("burst") or limiter.limit
    problems = []
    if rate < quota["min_rate"]:
        problems.append(f"the sustained rate limit/period = {rate:g}/s is below the {quota['min_rate']:g}/s "
                        "you need.")
    admitted = []
    for i in range(6000):  # a flood: one request every 10 ms for a minute
        clock.set(i * 0.01)
        if limiter.allow("partner").allowed:
            admitted.append(i * 0.01)
    worst = max_in_window(admitted, quota["window"])
    if worst > quota["max_requests"]:
        problems.append(
            f"under a flood this bucket sent {worst} requests in some {quota['window']:g} s window; the "
            f"partner allows {quota['max_requests']:g}. Hint: in any interval of length T a token bucket "
            f"admits up to burst + rate*T = {burst} + {rate:g}*{quota['window']:g}."
        )
    return report(title, problems, f"Worst {quota['window']:g} s window: {worst} requests, sustained "
                  f"{rate:g}/s.")


# -- exercise 4 ------------------------------------------------------------------------------------
def check_shared_limiter(server_a: object, server_b: object) -> bool:
    """Exercise 4: two limiter objects that together admit one limit, not one limit each."""
    from patterns.ratelimit import RateLimiter

    title = "Exercise 4 (one limit shared by two app servers)"
    if not_ready(title, server_b):
        return False
    if not isinstance(server_b, RateLimiter) or not isinstance(server_a, RateLimiter):
        return report(title, [f"server_b should be a limiter such as SlidingWindowLog, got "
                              f"{type(server_b).__name__}."])
    problems = []
    if (server_b.limit, server_b.period) != (server_a.limit, server_a.period):
        problems.append(f"server_b has limit={server_b.limit}, period={server_b.period:g}; server_a has "
                        f"limit={server_a.limit}, period={server_a.period:g}. One policy, one limit.")
    if type(server_b) is not type(server_a):
        problems.append(f"server_b is a {type(server_b).__name__} but server_a is a "
                        f"{type(server_a).__name__}: both must run the same algorithm on the same state.")
    if server_b.backend is None:
        problems.append("server_b keeps its state in its own memory (backend=None), so it cannot see what "
                        "server_a admitted. Hint: pass backend=redis_client().")
    elif server_b.prefix != server_a.prefix:
        problems.append(f"server_b stores under prefix {server_b.prefix!r}, server_a under "
                        f"{server_a.prefix!r}: they count in different Redis keys.")
    elif server_b.keys != server_a.keys:
        problems.append("server_b and server_a use different namespaces: they count in different Redis "
                        "keys. Hint: leave namespace= out, so both use this process's namespace.")
    if problems:
        return report(title, problems)
    distinct = {id(server.clock): server.clock for server in (server_a, server_b)}.values()
    clocks = [c for c in distinct if isinstance(c, ManualClock)]
    if len(clocks) != len(distinct):
        return report(title, ["use the lab's ManualClock for both servers, so this check can move time."])
    key = f"check10:{uuid.uuid4().hex[:12]}"
    servers = (server_a, server_b)
    admitted = 0
    for i in range(3 * server_a.limit):  # all within 1/10 of the period, alternating servers
        for c in clocks:
            c.advance(server_a.period / (30 * server_a.limit))
        admitted += servers[i % 2].allow(key).allowed
    server_a.reset(key)
    if admitted != server_a.limit:
        return report(title, [f"together the two servers admitted {admitted} requests within one period; "
                              f"the shared limit is {server_a.limit}."])
    return report(title, [], f"Together they admitted exactly {admitted}, the shared limit.")
