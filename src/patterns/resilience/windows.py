"""Sliding windows of call outcomes: what a circuit breaker looks at before it judges.

A breaker must not judge a dependency on its whole history (one bad hour last week would keep the
rate high forever) nor on the last call alone (one blip would open it). It looks at a *window*:

* ``WindowSpec.count(n)``: the last ``n`` recorded calls, whatever their age.
* ``WindowSpec.time(seconds)``: the calls recorded in the last ``seconds`` seconds, i.e. with a
  record time ``t`` such that ``now - seconds < t <= now``.

Both windows are exact (no approximation by buckets) and keep running totals, so recording an
outcome and reading the rates are O(1) (amortised: the time window drops expired entries as it
records). The time window stores one entry per distinct record time in the window, so its memory
grows with the call rate times the window length. Neither class locks: the breaker that owns a
window serialises access to it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

from patterns._validate import require_int, require_seconds

__all__ = ["WindowSpec", "OutcomeWindow", "CountWindow", "TimeWindow", "MAX_WINDOW_CALLS"]

#: Largest count window: its ring buffer is allocated up front.
MAX_WINDOW_CALLS = 1_000_000


@dataclass(frozen=True)
class WindowSpec:
    """How many calls a breaker judges: a count of calls or a span of seconds.

    Build one with ``WindowSpec.count(n)`` or ``WindowSpec.time(seconds)``.
    """

    kind: Literal["count", "time"]
    size: float

    @classmethod
    def count(cls, n: int) -> WindowSpec:
        """The last ``n`` calls (an integer from 1 to ``MAX_WINDOW_CALLS``)."""
        return cls("count", require_int(n, "window size n", minimum=1, maximum=MAX_WINDOW_CALLS))

    @classmethod
    def time(cls, seconds: float) -> WindowSpec:
        """The calls of the last ``seconds`` seconds (a finite number > 0)."""
        return cls("time", require_seconds(seconds, "window seconds"))

    def build(self) -> OutcomeWindow:
        """A fresh, empty window of this shape."""
        if self.kind == "count":
            return CountWindow(int(self.size))
        return TimeWindow(self.size)

    def __repr__(self) -> str:
        if self.kind == "count":
            return f"WindowSpec.count({int(self.size)})"
        return f"WindowSpec.time({self.size!r})"


class OutcomeWindow(Protocol):
    """Running totals of the outcomes inside a window."""

    calls: int
    failures: int
    slow: int

    def record(self, failed: bool, slow: bool, now: float) -> None: ...

    def record_success(self, now: float) -> None:
        """``record(False, False, now)``, minus the work a plain success does not need."""

    def expire(self, now: float) -> None: ...

    def clear(self) -> None: ...


class CountWindow:
    """The last ``size`` outcomes, in a ring buffer with running totals (O(1) per call)."""

    __slots__ = ("size", "calls", "failures", "slow", "_ring", "_next")
    calls: int
    failures: int
    slow: int
    _next: int

    def __init__(self, size: int) -> None:
        self.size = require_int(size, "size", minimum=1, maximum=MAX_WINDOW_CALLS)
        self._ring: list[int] = [0] * size  # bit 1: failed, bit 2: slow
        self.clear()

    def record(self, failed: bool, slow: bool, now: float) -> None:
        code = failed | slow << 1  # bools are ints
        i = self._next
        old = self._ring[i]  # 0 in a slot not yet used since the last clear
        self._ring[i] = code
        self._next = i + 1 if i + 1 < self.size else 0
        if self.calls < self.size:
            self.calls += 1
        if code != old:  # the common case (same outcome in, same out) changes no total
            self.failures += (code & 1) - (old & 1)
            self.slow += (code >> 1) - (old >> 1)

    def record_success(self, now: float) -> None:
        """``record(False, False, now)``, minus the work a plain success does not need."""
        i = self._next
        old = self._ring[i]
        self._ring[i] = 0
        self._next = i + 1 if i + 1 < self.size else 0
        if self.calls < self.size:
            self.calls += 1
        if old:
            self.failures -= old & 1
            self.slow -= old >> 1

    def expire(self, now: float) -> None:
        """A count window never expires by age."""

    def clear(self) -> None:
        self.calls = self.failures = self.slow = 0
        self._next = 0
        self._ring[:] = [0] * self.size


class TimeWindow:
    """Outcomes recorded in the last ``seconds`` seconds (exact: one entry per recorded call).

    ``_times`` holds the record time of every outcome in the window, oldest first; ``_bad`` holds
    ``(time, failed, slow)`` for the failed or slow ones only, so a success costs one append.
    """

    __slots__ = ("seconds", "calls", "failures", "slow", "_times", "_bad")
    calls: int
    failures: int
    slow: int

    def __init__(self, seconds: float) -> None:
        self.seconds = require_seconds(seconds, "seconds")
        self._times: deque[float] = deque()
        self._bad: deque[tuple[float, bool, bool]] = deque()
        self.clear()

    def record(self, failed: bool, slow: bool, now: float) -> None:
        times = self._times
        if times and times[0] <= now - self.seconds:  # the oldest outcome has left the window
            self.expire(now)
        times.append(now)
        self.calls += 1
        if failed or slow:
            self._bad.append((now, failed, slow))
            self.failures += failed
            self.slow += slow

    def record_success(self, now: float) -> None:
        """``record(False, False, now)``, minus the work a plain success does not need."""
        times = self._times
        if times and times[0] <= now - self.seconds:
            self.expire(now)
        times.append(now)
        self.calls += 1

    def expire(self, now: float) -> None:
        """Drop the outcomes recorded at or before ``now - seconds``."""
        horizon = now - self.seconds
        times, bad = self._times, self._bad
        while times and times[0] <= horizon:
            times.popleft()
        while bad and bad[0][0] <= horizon:
            _, failed, slow = bad.popleft()
            self.failures -= failed
            self.slow -= slow
        self.calls = len(times)

    def clear(self) -> None:
        self._times.clear()
        self._bad.clear()
        self.calls = self.failures = self.slow = 0
