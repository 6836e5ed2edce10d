"""Window algorithms: count what was admitted in a window of ``period`` seconds.

* ``FixedWindow``: one counter per aligned window; cheapest, but up to 2 x limit can pass in one
  period straddling a window boundary.
* ``SlidingWindowLog``: remembers every admission; exact, memory grows with the limit.
* ``SlidingWindowCounter``: two counters and a weighted estimate; nearly exact, constant memory.

Time is in integer ticks (``base.py``); ``P`` is the period in ticks. Each ``_step`` is mirrored
line for line by its Lua script in ``lua.py``.
"""

from __future__ import annotations

from collections import deque

from patterns.ratelimit import lua
from patterns.ratelimit.base import RateLimiter, cdiv
from patterns.ratelimit.store import LOG, Outcome

__all__ = ["FixedWindow", "SlidingWindowLog", "SlidingWindowCounter"]

Counts = tuple[int, ...]


class FixedWindow(RateLimiter):
    """At most ``limit`` per clock-aligned window ``[k*period, (k+1)*period)``.

    Guarantee: admitted cost in every aligned window <= limit. Not guaranteed: any sliding interval
    of length ``period`` can hold up to 2 x limit (the end of one window plus the start of the next).
    ``retry_after`` when denied is the time to the next window start. State: (window number, count).
    """

    algorithm = "fixed-window"
    _script = lua.FIXED_WINDOW

    def _params(self) -> tuple[int, ...]:
        return self._P, self.limit

    def _step(self, state: Counts | None, now: int, cost: int) -> tuple[Counts, Outcome]:
        P, limit = self._P, self.limit
        window, count = now // P, 0
        if state is not None and state[0] >= window:  # the same window (or, for a lagging clock,
            window, count = state  # a later one: keep counting in it, never restart early)
        window_end = (window + 1) * P - now
        if count + cost > limit:
            return (window, count), (False, limit - count, window_end, window_end, 0)
        count += cost
        return (window, count), (True, limit - count, 0, window_end, 0)


class SlidingWindowLog(RateLimiter):
    """Exact: in every interval ``(t - period, t]`` the admitted cost is <= ``limit``.

    State: the admission times still in the window, oldest first, one entry per unit of cost (at
    most ``limit``). Each call drops the entries that have left the window (O(1) amortised); a
    denial waits until enough of the oldest entries leave. In Redis it is one list per key.
    """

    algorithm = "sliding-log"
    _script = lua.SLIDING_LOG
    _layout = LOG

    def _params(self) -> tuple[int, ...]:
        return self._P, self.limit

    def _step(self, state: deque[int] | None, now: int, cost: int) -> tuple[deque[int], Outcome]:
        P, limit = self._P, self.limit
        log = deque() if state is None else state
        newest = log[-1] if log else now
        at = now
        if newest > now:  # a lagging clock is decided at the newest entry's time
            at = newest
        while log and log[0] <= at - P:  # drop what has left the window (at - P, at]
            log.popleft()
        count = len(log)
        if count + cost > limit:  # wait until `need` of the oldest entries have left
            need = count + cost - limit
            return log, (False, limit - count, log[need - 1] + P - now, newest + P - now, 0)
        log.extend([at] * cost)
        return log, (True, limit - count - cost, 0, at + P - now, 0)


class SlidingWindowCounter(RateLimiter):
    """Estimate = previous window's count x (share of the sliding window still over it) + current.

    Admits only if estimate + cost <= limit, so admitted cost in every aligned window is <= limit.
    The estimate assumes the previous window's traffic was spread evenly: bursty traffic can make a
    sliding interval hold more or less than ``limit`` (the chapter measures by how much).
    State: (window number, previous window's count, current window's count).
    """

    algorithm = "sliding-counter"
    _script = lua.SLIDING_COUNTER

    def _scale(self) -> int:
        return 3 * self.limit

    def _window(self) -> int:
        return 2 * self._P  # a count weighs on decisions until the end of the next window

    def _params(self) -> tuple[int, ...]:
        return self._P, self.limit

    def _step(self, state: Counts | None, now: int, cost: int) -> tuple[Counts, Outcome]:
        P, limit = self._P, self.limit
        limit_P = limit * P  # the limit, scaled like the estimate
        window, prev, curr = now // P, 0, 0
        if state is not None:
            k, p, c = state
            if k >= window:  # the same window (or a later one, for a lagging clock)
                window, prev, curr = k, p, c
            elif k == window - 1:  # the stored window has just ended: it is the previous one now
                prev = c
        start = window * P
        at = now
        if start > now:  # a lagging clock is decided at the start of the stored window
            at = start
        lag = at - now
        weight = start + P - at  # ticks of the sliding window still over the previous window
        previous = prev * weight  # the previous window's share, scaled by P like the rest
        allowed, retry = False, 0
        if previous + (curr + cost) * P <= limit_P:  # estimate + cost <= limit, times P
            allowed = True
            curr += cost
        else:
            room = limit - curr - cost
            if room >= 0:  # wait in this window until the previous one weighs little enough
                retry = cdiv(previous - room * P, prev)
                if retry > weight:
                    retry = weight
            else:  # wait into the next window, until this window's count (then previous) fits
                retry = weight + cdiv((curr + cost - limit) * P, curr)
            retry = lag + retry
        remaining = (limit_P - previous) // P - curr
        if remaining < 0:
            remaining = 0
        reset = lag + weight + P if curr > 0 else lag + weight if prev > 0 else 0
        return (window, prev, curr), (allowed, remaining, retry, reset, 0)
