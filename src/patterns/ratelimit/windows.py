"""Window algorithms: count what was admitted in a window of ``period`` seconds.

* ``FixedWindow``: one counter per aligned window; cheapest, but up to 2 x limit can pass in one
  period straddling a window boundary.
* ``SlidingWindowLog``: remembers every admission; exact, memory grows with the limit.
* ``SlidingWindowCounter``: two counters and a weighted estimate; nearly exact, constant memory.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from patterns.ratelimit import lua
from patterns.ratelimit.base import Outcome, RateLimiter, cdiv

__all__ = ["FixedWindow", "SlidingWindowLog", "SlidingWindowCounter"]


class _WindowLimiter(RateLimiter):
    """``limit`` units per ``period``; a single call may cost at most ``limit``."""

    def _lua_args(self) -> list[int]:
        return [self._P, self.limit]


class FixedWindow(_WindowLimiter):
    """At most ``limit`` per clock-aligned window ``[k*period, (k+1)*period)``.

    Guarantee: admitted cost in every aligned window <= limit. Not guaranteed: any sliding interval
    of length ``period`` can hold up to 2 x limit (the end of one window plus the start of the next).
    ``retry_after`` when denied is the time to the next window start.
    """

    algorithm = "fixed-window"
    _lua = lua.FIXED_WINDOW

    def _step(self, state: Any, now: int, cost: int) -> tuple[Any, Outcome]:
        P = self._P
        k_now = now // P
        if state is None or k_now > state[0]:
            k, count = k_now, 0
        else:
            k, count = state
        allowed = count + cost <= self.limit
        if allowed:
            count += cost
        window_end = (k + 1) * P - now
        return (k, count), (allowed, self.limit - count, 0 if allowed else window_end, window_end, 0)


class _Log:
    """A sliding log: deque of [time, cost] (same-time admissions merged) and their running sum."""

    __slots__ = ("entries", "total")

    def __init__(self) -> None:
        self.entries: deque[list[int]] = deque()
        self.total = 0


class SlidingWindowLog(_WindowLimiter):
    """Exact: in every interval ``(t - period, t]`` the admitted cost is <= ``limit``.

    Keeps one entry per distinct admission time (at most ``limit`` entries per key); each call does
    O(1) amortised work (append at the right, expire from the left, running sum), plus O(cost)
    on a denial to compute ``retry_after``: when enough of the oldest entries will have expired.
    """

    algorithm = "sliding-log"
    _lua = lua.SLIDING_LOG

    def _redis_keys(self, key: str) -> list[str]:
        base = self.prefix + key
        return [base + ":log", base + ":sum"]

    def _step(self, state: Any, now: int, cost: int) -> tuple[Any, Outcome]:
        log: _Log = _Log() if state is None else state
        entries, P, limit = log.entries, self._P, self.limit
        boundary = now - P  # (time is monotonic here: the base class holds a stepped-back clock)
        while entries and entries[0][0] <= boundary:
            log.total -= entries.popleft()[1]
        total = log.total
        retry = 0
        allowed = total + cost <= limit
        if allowed:
            log.total = total = total + cost
            if entries and entries[-1][0] == now:
                entries[-1][1] += cost
            else:
                entries.append([now, cost])
        else:  # wait until enough of the oldest entries expire: at most `need` of them (each >= 1)
            need, oldest = total + cost - limit, entries[0]
            if oldest[1] >= need:  # the common case: the oldest entry alone frees enough
                retry = oldest[0] + P - now
            else:
                freed = 0
                for t, c in entries:
                    freed += c
                    if freed >= need:
                        retry = t + P - now
                        break
        reset = entries[-1][0] + P - now if entries else 0
        return log, (allowed, limit - total, retry, reset, 0)


class SlidingWindowCounter(_WindowLimiter):
    """Estimate = previous window's count x (share of the sliding window still over it) + current.

    Admits only if estimate + cost <= limit, so admitted cost in every aligned window is <= limit.
    The estimate assumes the previous window's traffic was spread evenly: bursty traffic can make a
    sliding interval hold more or less than ``limit`` (the chapter measures by how much).
    """

    algorithm = "sliding-counter"
    _lua = lua.SLIDING_COUNTER

    def _scale(self) -> int:
        return 3 * self.limit

    def _step(self, state: Any, now: int, cost: int) -> tuple[Any, Outcome]:
        P, limit = self._P, self.limit
        k_now = now // P
        if state is None:
            k, prev, curr = k_now, 0, 0
        else:
            k, prev, curr = state
            if k_now == k + 1:
                k, prev, curr = k_now, curr, 0
            elif k_now > k + 1:
                k, prev, curr = k_now, 0, 0
        weight = (k + 1) * P - now  # ticks of the sliding window that still overlap window k-1
        retry = 0
        previous = prev * weight  # scaled by P, like everything compared below
        allowed = previous + (curr + cost) * P <= limit * P
        if allowed:
            curr += cost
        else:
            room = limit - curr - cost
            if room >= 0:  # wait in this window until prev's weight has shrunk enough
                retry = cdiv(previous - room * P, prev)
                if retry > weight:
                    retry = weight
            else:  # wait into the next window, until this window's count (then prev) weighs less
                retry = weight + cdiv((curr + cost - limit) * P, curr)
        remaining = (limit * P - previous) // P - curr
        if remaining < 0:
            remaining = 0
        reset = weight + P if curr > 0 else weight if prev > 0 else 0
        return (k, prev, curr), (allowed, remaining, retry, reset, 0)
