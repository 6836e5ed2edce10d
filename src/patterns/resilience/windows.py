"""Sliding windows of call outcomes: what a circuit breaker looks at before it judges.

A breaker must not judge a dependency on its whole history (one bad hour last week would keep the
rate high forever) nor on the last call alone (one blip would open it). It looks at a *window*:

* ``WindowSpec.count(n)``: the last ``n`` recorded calls, whatever their age.
* ``WindowSpec.time(seconds)``: the calls recorded in the last ``seconds`` seconds, i.e. with a
  record time ``t`` such that ``now - seconds < t <= now``.

Both windows are exact (no approximation by buckets) and keep running totals, so reading the
rates is O(1). The time window stores one entry per distinct record time in the window, so its
memory grows with the call rate times the window length. Neither class locks: the breaker that
owns a window serialises access to it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["WindowSpec", "OutcomeWindow", "CountWindow", "TimeWindow"]


@dataclass(frozen=True)
class WindowSpec:
    """How many calls a breaker judges: a count of calls or a span of seconds.

    Build one with ``WindowSpec.count(n)`` or ``WindowSpec.time(seconds)``.
    """

    kind: Literal["count", "time"]
    size: float

    @classmethod
    def count(cls, n: int) -> WindowSpec:
        """The last ``n`` calls (``n`` an integer >= 1)."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"window size n must be an integer >= 1, got {type(n).__name__}")
        if n < 1:
            raise ValueError(f"window size n must be an integer >= 1, got {n}")
        return cls("count", n)

    @classmethod
    def time(cls, seconds: float) -> WindowSpec:
        """The calls of the last ``seconds`` seconds (a finite number > 0)."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"window seconds must be a number > 0, got {type(seconds).__name__}")
        if not math.isfinite(seconds) or seconds <= 0:
            raise ValueError(f"window seconds must be a finite number > 0, got {seconds!r}")
        return cls("time", float(seconds))

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

    def expire(self, now: float) -> None: ...

    def clear(self) -> None: ...


class CountWindow:
    """The last ``size`` outcomes, in a ring buffer with running totals (O(1) per call)."""

    __slots__ = ("size", "calls", "failures", "slow", "_ring", "_next")

    def __init__(self, size: int) -> None:
        self.size = size
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

    def record_success(self) -> None:
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
    """Outcomes recorded in the last ``seconds`` seconds (exact; one entry per record time)."""

    __slots__ = ("seconds", "calls", "failures", "slow", "_entries")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        # [time, calls, failures, slow]; consecutive records at the same time share one entry
        self._entries: deque[list[float]] = deque()
        self.clear()

    def record(self, failed: bool, slow: bool, now: float) -> None:
        self.expire(now)
        entries = self._entries
        if entries and entries[-1][0] == now:
            entry = entries[-1]
        else:
            entry = [now, 0, 0, 0]
            entries.append(entry)
        f, s = int(failed), int(slow)
        entry[1] += 1
        entry[2] += f
        entry[3] += s
        self.calls += 1
        self.failures += f
        self.slow += s

    def expire(self, now: float) -> None:
        """Drop the outcomes recorded at or before ``now - seconds``."""
        horizon = now - self.seconds
        entries = self._entries
        while entries and entries[0][0] <= horizon:
            _, calls, failures, slow = entries.popleft()
            self.calls -= int(calls)
            self.failures -= int(failures)
            self.slow -= int(slow)

    def clear(self) -> None:
        self._entries.clear()
        self.calls = self.failures = self.slow = 0
