"""Simulated delivery providers (email, SMS, push) with failure injection.

A real provider (SendGrid, Twilio, FCM) is a remote call that can be slow, fail at random, or be
down for minutes. ``SimulatedProvider`` models exactly that on simulated time: each ``send``
draws its latency and its failure from a seeded ``random.Random`` and reads the injected clock to
know whether an outage window is open. It never sleeps: it *returns* how long the call took (or
puts it on the error), and the caller charges that time to its own capacity.

Every successful send is written to a ``Ledger``: the outside world's record of what users
actually received, which the end-to-end audit compares with what the service accepted.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from patterns._validate import require_instance
from patterns.clock import Clock
from patterns.errors import PatternError
from patterns.faults import Outage

__all__ = ["Outage", "ProviderSpec", "ProviderError", "SimulatedProvider", "Ledger", "Delivery"]


class ProviderError(PatternError):
    """A provider call failed; ``elapsed`` is how long the caller waited to learn it (seconds)."""

    def __init__(self, provider: str, reason: str, elapsed: float) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason
        self.elapsed = elapsed


@dataclass(frozen=True)
class ProviderSpec:
    """How a simulated provider behaves.

    ``latency``: mean seconds of a successful call (drawn uniformly in [0.5x, 1.5x]);
    ``error_rate``: probability in [0, 1) that a call fails fast with a 5xx;
    ``timeout``: seconds a caller waits during an outage before giving up;
    ``outages``: windows in which calls time out (each with the outage's ``failure_rate``; by
    default every call).
    """

    name: str
    channel: str
    latency: float = 0.2
    error_rate: float = 0.01
    timeout: float = 2.0
    outages: tuple[Outage, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must be a non-empty string")
        if not self.latency > 0:
            raise ValueError(f"latency must be > 0 seconds, got {self.latency!r}")
        if not 0 <= self.error_rate < 1:
            raise ValueError(f"error_rate must be in [0, 1), got {self.error_rate!r}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout!r}")


@dataclass(frozen=True)
class Delivery:
    """One message a user received: which request, on which channel, through whom, when."""

    request_id: str
    channel: str
    provider: str
    at: float


class Ledger:
    """What users actually received, across every provider (the ground truth for the audit)."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    def record(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)

    def counts(self) -> Counter[tuple[str, str]]:
        """How many times each (request_id, channel) reached the user."""
        return Counter((d.request_id, d.channel) for d in self.deliveries)

    def __len__(self) -> int:
        return len(self.deliveries)


class SimulatedProvider:
    """A provider on simulated time: deterministic for a given clock trace and rng seed."""

    def __init__(self, spec: ProviderSpec, *, clock: Clock, rng: random.Random, ledger: Ledger) -> None:
        if not isinstance(rng, random.Random):
            raise TypeError(f"rng must be a random.Random, got {type(rng).__name__}")
        self.spec = require_instance(spec, "spec", ProviderSpec)
        self.name = spec.name
        self.clock = require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
        self.rng = require_instance(rng, "rng", random.Random)
        self.ledger = require_instance(ledger, "ledger", Ledger)
        self.calls = 0
        self.failures = 0

    def is_down(self, t: float | None = None) -> bool:
        t = self.clock.now() if t is None else t
        return any(o.covers(t) for o in self.spec.outages)

    def send(self, request_id: str, channel: str) -> float:
        """Deliver one message; returns the call's latency. Raises ``ProviderError`` on failure."""
        if channel != self.spec.channel:
            raise ValueError(f"channel must be {self.spec.channel!r} for {self.name}, got {channel!r}")
        self.calls += 1
        now = self.clock.now()
        outage = next((o for o in self.spec.outages if o.covers(now)), None)
        if outage is not None and outage.strikes(self.rng):
            self.failures += 1
            raise ProviderError(self.name, "timeout (provider down)", self.spec.timeout)
        latency = self.spec.latency * self.rng.uniform(0.5, 1.5)
        if self.rng.random() < self.spec.error_rate:
            self.failures += 1
            raise ProviderError(self.name, "HTTP 503", latency)
        self.ledger.record(Delivery(request_id, channel, self.name, now + latency))
        return latency

    def __repr__(self) -> str:
        return f"SimulatedProvider({self.name!r}, calls={self.calls}, failures={self.failures})"
