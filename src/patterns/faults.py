"""Failure injection that simulations of several families share.

``Outage`` is one window of simulated time in which a dependency misbehaves: the payment service
of chapter 06 (``patterns.resilience.simulation``) and the delivery providers of the capstone
(``patterns.capstone.providers``) both take a tuple of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from patterns._validate import require_instance, require_probability, require_seconds

__all__ = ["Outage"]


@dataclass(frozen=True)
class Outage:
    """Between ``start`` and ``end`` (simulated seconds, ``[start, end)``) each call fails with
    probability ``failure_rate`` (1.0, the default: every call fails)."""

    start: float
    end: float
    failure_rate: float = 1.0

    def __post_init__(self) -> None:
        start = require_seconds(self.start, "start", positive=False)
        if require_seconds(self.end, "end", positive=False) <= start:
            raise ValueError(f"an outage needs 0 <= start < end, got start={self.start}, end={self.end}")
        require_probability(self.failure_rate, "failure_rate")

    def covers(self, t: float) -> bool:
        """Whether time ``t`` falls inside the outage."""
        return self.start <= t < self.end

    def strikes(self, rng: random.Random) -> bool:
        """Whether one call inside the outage fails; draws from ``rng`` only for a partial outage."""
        if self.failure_rate >= 1.0:
            return True
        return require_instance(rng, "rng", random.Random).random() < self.failure_rate
