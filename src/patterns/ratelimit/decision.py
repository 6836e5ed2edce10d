"""The answer a rate limiter gives: allowed or not, how much is left, and when to come back."""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["Decision"]


class Decision(NamedTuple):
    """One limiter decision: an immutable record that can be logged, cached or compared safely.

    * ``allowed``: admit the request (for ``LeakyBucket``: accepted into the queue).
    * ``limit``: the quota ``remaining`` counts against (``limit`` for the window algorithms,
      ``burst`` for the buckets, ``capacity`` for the leaky-bucket queue).
    * ``remaining``: how much cost could still be admitted at this instant, after this decision.
    * ``retry_after``: seconds to wait before the same request would be admitted (0.0 if allowed).
      With no other traffic, retrying after exactly this long on the same clock succeeds.
    * ``reset_after``: seconds until the key is back to a full quota (no state left).
    * ``delay``: ``LeakyBucket`` only: seconds the accepted request waits in the queue before it
      leaves; 0.0 for the policing algorithms.
    * ``fallback``: True when the shared store (Redis) could not be reached and the limiter's
      ``on_backend_error`` policy decided instead, without counting the request.

    Durations are whole ticks (one microsecond, unless a huge quota coarsens the tick) expressed
    in seconds, rounded up, never down.

    A ``NamedTuple`` is the cheapest immutable record Python has (limiters build one per request);
    like any tuple it also unpacks: ``allowed, limit, remaining, *_ = decision``.
    """

    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    reset_after: float
    delay: float = 0.0
    fallback: bool = False

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

    def __repr__(self) -> str:
        # ``fallback`` is shown only when it is set: almost every decision is an ordinary one.
        text = (
            f"Decision(allowed={self.allowed!r}, limit={self.limit!r}, remaining={self.remaining!r}, "
            f"retry_after={self.retry_after!r}, reset_after={self.reset_after!r}, delay={self.delay!r}"
        )
        return text + (", fallback=True)" if self.fallback else ")")
