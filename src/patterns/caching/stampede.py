"""Cache stampede cures: single-flight and probabilistic early recomputation (XFetch).

A popular key expires and every request that misses it recomputes it at once: the database gets
a burst of identical queries exactly when it can least afford one. Two cures:

* ``SingleFlight``: concurrent callers for the same key share one computation; the first runs
  it, the rest wait for its result (or its exception). Guarantee: one call per key per flight, in
  this process. (Across servers the same idea needs a distributed lock or a lease.)
* ``XFetch`` (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache Stampede
  Prevention", VLDB 2015): before the entry expires, each reader recomputes early with a
  probability that rises as expiry nears and with how long a recompute takes (``delta``), so one
  reader usually refreshes the value while the others are still served the old one.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from patterns._validate import require_callable, require_instance, require_number, require_text

__all__ = ["SingleFlight", "XFetch"]

T = TypeVar("T")


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.waiters = 0
        self.result: Any = None
        self.error: BaseException | None = None


class SingleFlight:
    """Deduplicate concurrent calls per key; thread-safe.

    ``calls`` counts the functions actually run, ``shared`` the callers who waited for another's
    result. An exception from the function is re-raised in every caller of that flight.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self.calls = 0
        self.shared = 0

    def do(self, key: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` unless a flight for ``key`` is running; then wait for its result."""
        require_text(key, "key", min_length=0, max_length=1_000_000)
        require_callable(fn, "fn")
        with self._lock:
            found = self._flights.get(key)
            if found is None:
                flight = self._flights[key] = _Flight()
                self.calls += 1
            else:
                flight = found
                flight.waiters += 1
                self.shared += 1
        if found is not None:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            result: T = flight.result
            return result
        try:
            value = fn()
            flight.result = value
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()
        return value

    def waiters(self, key: str) -> int:
        """How many callers are waiting on the flight for ``key`` right now (0 if none)."""
        with self._lock:
            flight = self._flights.get(key)
            return flight.waiters if flight else 0


class XFetch:
    """The XFetch early-recompute rule: recompute when ``now - delta*beta*ln(u) >= expiry``.

    ``u`` is uniform in (0, 1], so ``-ln(u)`` is an exponential random variable: most readers see a
    small head start, a few see a large one. ``beta`` > 1 favours earlier recomputation, < 1 later;
    ``beta = 1`` is the paper's optimum. With ``delta = 0`` it never fires early.

    ``rng`` defaults to a ``random.Random()`` seeded by the operating system, per instance: with a
    fixed seed every server would draw the same head starts in the same order and recompute at the
    same moment, the stampede XFetch exists to prevent. Pass a seeded ``rng`` to replay a run.
    """

    def __init__(self, beta: float = 1.0, rng: random.Random | None = None) -> None:
        self.beta = require_number(beta, "beta", minimum=0.0, maximum=1e6, strict_min=True)
        if rng is not None:
            require_instance(rng, "rng", random.Random, what="a random.Random or None")
        self.rng = rng if rng is not None else random.Random()
        self._lock = threading.Lock()

    def head_start(self, delta: float, u: float | None = None) -> float:
        """How many seconds before expiry this reader would recompute: ``-delta*beta*ln(u)``."""
        delta = require_number(delta, "delta", minimum=0.0)
        if u is None:
            with self._lock:
                u = 1.0 - self.rng.random()  # in (0, 1]: ln(0) is undefined
        if isinstance(u, bool) or not isinstance(u, (int, float)):
            raise TypeError(f"u must be a number in (0, 1], got {type(u).__name__}")
        if not 0.0 < u <= 1.0:
            raise ValueError(f"u must be in (0, 1], got {u!r}")
        return -delta * self.beta * math.log(u)

    def should_recompute(self, now: float, delta: float, expiry: float, u: float | None = None) -> bool:
        """True if this reader should recompute now (always True once ``now >= expiry``)."""
        return now + self.head_start(delta, u) >= expiry

    def probability(self, now: float, delta: float, expiry: float) -> float:
        """The chance one reader recomputes at ``now``: ``exp(-(expiry-now)/(delta*beta))``."""
        if now >= expiry:
            return 1.0
        if delta <= 0:
            return 0.0
        return math.exp(-(expiry - now) / (delta * self.beta))
