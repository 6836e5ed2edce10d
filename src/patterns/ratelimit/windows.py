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
from patterns.ratelimit.base import Outcome, RateLimiter

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
        # State: (end, count). The Lua script stores the window number k; its end tick (k + 1) * P
        # is the same information, and keeping it spares every call a division and a product of
        # large integers (now >= end is the same test as now // P > k).
        if state is None or now >= state[0]:
            P = self._P
            end, count = (now // P + 1) * P, 0
        else:
            end, count = state
        limit = self.limit
        allowed = count + cost <= limit
        if allowed:
            count += cost
        window_end = end - now
        return (end, count), (allowed, limit - count, 0 if allowed else window_end, window_end, 0)


class _Log:
    """A sliding log: deque of [expiry tick, cost] (same-time admissions merged), their running sum."""

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
        # Each entry holds the tick at which it leaves the window (admission time + P) rather than
        # the admission time that Lua stores: same information, fewer big-integer sums per call.
        log: _Log = _Log() if state is None else state
        entries, limit = log.entries, self.limit
        # (time is monotonic here: the base class holds a stepped-back clock)
        while entries and entries[0][0] <= now:  # drop what has left the window (t <= now - P)
            log.total -= entries.popleft()[1]
        total = log.total
        if total + cost <= limit:
            log.total = total = total + cost
            expiry = now + self._P
            if entries and entries[-1][0] == expiry:
                entries[-1][1] += cost
            else:
                entries.append([expiry, cost])
            # the newest entry is now: a full quota is back one period from now
            return log, (True, limit - total, 0, self._P, 0)
        # Denied, so the log is not empty (total + cost > limit >= cost). Wait until enough of the
        # oldest entries expire: at most `need` of them (each costs >= 1).
        need, oldest = total + cost - limit, entries[0]
        if oldest[1] >= need:  # the common case: the oldest entry alone frees enough
            retry = oldest[0] - now
        else:
            retry = 0
            freed = 0
            for expiry, c in entries:
                freed += c
                if freed >= need:
                    retry = expiry - now
                    break
        return log, (False, limit - total, retry, entries[-1][0] - now, 0)


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
        # State: (end of the current window in ticks, prev, curr). Lua keeps the window number k
        # instead; end = (k + 1) * P says the same and spares most calls a big-integer division.
        if state is None:
            end, prev, curr = (now // P + 1) * P, 0, 0
        else:
            end, prev, curr = state
            if now >= end:  # a new window: the current count becomes the previous one, or expires
                prev = curr if now < end + P else 0
                end, curr = (now // P + 1) * P, 0
        weight = end - now  # ticks of the sliding window that still overlap the previous window
        retry = 0
        previous = prev * weight  # scaled by P, like everything compared below
        allowed = previous + (curr + cost) * P <= self._limit_scaled
        if allowed:
            curr += cost
        else:
            room = limit - curr - cost
            if room >= 0:  # wait in this window until prev's weight has shrunk enough
                retry = -((room * P - previous) // prev)  # ceil((previous - room * P) / prev)
                if retry > weight:
                    retry = weight
            else:  # wait into the next window, until this window's count (then prev) weighs less
                retry = weight - room * P // curr  # room < 0: that is + ceil(-room * P / curr)
        if previous:  # floor((limit * P - previous) / P), kept >= 0
            remaining = (self._limit_scaled - previous) // P - curr
            if remaining < 0:
                remaining = 0
        else:  # the previous window is empty or out of reach: skip the (big-integer) division
            remaining = limit - curr
        reset = weight + P if curr > 0 else weight if prev > 0 else 0
        return (end, prev, curr), (allowed, remaining, retry, reset, 0)
