"""A wall clock for experiments in which time steps backwards.

ID generators read wall-clock time (epoch seconds), and wall clocks do step backwards: NTP
corrects a clock that ran fast by setting it back, a VM resumes with a stale clock, an operator
fixes the time by hand. ``ManualClock`` refuses to go back, rightly, for everything else in the
package; ``SteppableClock`` exists to reproduce those steps on purpose.
"""

from __future__ import annotations

import threading

from patterns._validate import MAX_SECONDS, require_number, require_seconds

__all__ = ["SteppableClock"]


class SteppableClock:
    """Simulated epoch time: ``advance``/``sleep`` move forward, ``step`` moves either way."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = require_number(start, "start", minimum=0.0, maximum=4e9, unit="seconds")
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        seconds = require_seconds(seconds, "seconds", positive=False)
        with self._lock:
            self._now += seconds
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def step(self, seconds: float) -> float:
        """Jump by ``seconds``, negative for backwards (an NTP step); returns the new time."""
        seconds = require_number(seconds, "seconds", minimum=-MAX_SECONDS, maximum=MAX_SECONDS, unit="seconds")
        with self._lock:
            if self._now + seconds < 0:
                raise ValueError(f"seconds must not take the clock before 0, got {seconds!r} at {self._now!r}")
            self._now += seconds
            return self._now

    def __repr__(self) -> str:
        return f"SteppableClock(now={self.now()!r})"
