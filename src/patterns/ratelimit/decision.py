"""The answer a rate limiter gives: allowed or not, how much is left, and when to come back."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Decision", "make_decision"]


@dataclass(frozen=True, slots=True)
class Decision:
    """One limiter decision, immutable so it can be logged, cached or compared safely.

    * ``allowed``: admit the request (for ``LeakyBucket``: accepted into the queue).
    * ``limit``: the quota ``remaining`` counts against (``limit`` for the window algorithms,
      ``burst`` for the buckets, ``capacity`` for the leaky-bucket queue).
    * ``remaining``: how much cost could still be admitted at this instant, after this decision.
    * ``retry_after``: seconds to wait before the same request would be admitted (0.0 if allowed).
      With no other traffic, retrying after exactly this long succeeds.
    * ``reset_after``: seconds until the key is back to a full quota (no state left).
    * ``delay``: ``LeakyBucket`` only: seconds the accepted request waits in the queue before it
      leaves; 0.0 for the policing algorithms.

    All durations are whole microseconds expressed in seconds, rounded up, never down.
    """

    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    reset_after: float
    delay: float = 0.0

    def headers(self) -> dict[str, str]:
        """HTTP response headers: ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``
        (IETF httpapi draft, whole seconds, rounded up), plus ``Retry-After`` when denied (RFC 9110:
        whole seconds, rounded up so that a client that waits that long is admitted)."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_after)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return headers


def _factory() -> Callable[[bool, int, int, float, float, float], Decision]:
    """A constructor for ``Decision`` that skips the frozen-dataclass ``__init__`` (which pays
    ``object.__setattr__`` per field): limiters build one per call, so this halves its cost."""
    new = object.__new__
    setters = [getattr(Decision, name).__set__ for name in Decision.__slots__]
    s_allowed, s_limit, s_remaining, s_retry, s_reset, s_delay = setters

    def make_decision(
        allowed: bool, limit: int, remaining: int, retry_after: float, reset_after: float, delay: float
    ) -> Decision:
        d = new(Decision)
        s_allowed(d, allowed)
        s_limit(d, limit)
        s_remaining(d, remaining)
        s_retry(d, retry_after)
        s_reset(d, reset_after)
        s_delay(d, delay)
        return d

    return make_decision


make_decision = _factory()
