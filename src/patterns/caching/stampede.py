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
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
                self.calls += 1
            else:
                flight.waiters += 1
                self.shared += 1
        assert flight is not None
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.result
        try:
            flight.result = fn()
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()
        return flight.result

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
    """

    def __init__(self, beta: float = 1.0, rng: random.Random | None = None) -> None:
        if isinstance(beta, bool) or not isinstance(beta, (int, float)):
            raise TypeError(f"beta must be a number, got {type(beta).__name__}")
        if not math.isfinite(beta) or beta <= 0:
            raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
        self.beta = float(beta)
        self.rng = rng if rng is not None else random.Random(0)
        self._lock = threading.Lock()

    def head_start(self, delta: float, u: float | None = None) -> float:
        """How many seconds before expiry this reader would recompute: ``-delta*beta*ln(u)``."""
        if u is None:
            with self._lock:
                u = 1.0 - self.rng.random()  # in (0, 1]: ln(0) is undefined
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
