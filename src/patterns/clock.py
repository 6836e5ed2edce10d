"""Injected time.

Every pattern that reads time takes a ``Clock``. Production code passes ``SystemClock``; labs and
tests pass ``ManualClock`` so that a one-hour experiment runs in microseconds and gives the same
numbers on every machine.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "WallClock", "ManualClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now()`` (seconds, float) and ``sleep(seconds)``."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time: ``time.monotonic`` for measuring and ``time.sleep`` for waiting."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        _check_duration(seconds, "seconds")
        time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


class WallClock:
    """Epoch seconds (``time.time``): the time base for state shared between processes.

    ``SystemClock`` is monotonic but private to one process, so two servers sharing a Redis cache or
    limiter would disagree about "now". Wall time is shared (given NTP), at the price that it can step
    backwards; the shared-state patterns tolerate a small step instead of trusting it.
    """

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        _check_duration(seconds, "seconds")
        time.sleep(seconds)

    def __repr__(self) -> str:
        return "WallClock()"


class ManualClock:
    """Simulated time that moves only when told to.

    ``sleep`` advances the clock instead of blocking, so code that backs off or waits can be tested
    deterministically. Safe to share between threads.
    """

    def __init__(self, start: float = 0.0) -> None:
        if isinstance(start, bool) or not isinstance(start, (int, float)):
            raise TypeError(f"start must be a number, got {type(start).__name__}")
        if not math.isfinite(start):
            raise ValueError(f"start must be finite, got {start!r}")
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        # Reading one attribute is atomic; the lock only guards the read-modify-write in advance()
        # and set(), so a reader never waits for it (limiters read the clock on every request).
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (>= 0) and return the new time."""
        _check_duration(seconds, "seconds")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def set(self, when: float) -> None:
        """Jump to an absolute time; time never goes backwards."""
        _check_duration(when, "when")
        with self._lock:
            if when < self._now:
                raise ValueError(f"when must be >= now ({self._now}), got {when}")
            self._now = float(when)

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now()!r})"


def _check_duration(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
