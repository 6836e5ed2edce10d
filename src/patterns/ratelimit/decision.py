"""The answer a rate limiter gives: allowed or not, how much is left, and when to come back."""

from __future__ import annotations

import math
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


class _DecisionBuilder:
    """Same slots as ``Decision``, but writable: the cheap way to fill in a new ``Decision``."""

    __slots__ = Decision.__slots__


_new = object.__new__


def make_decision(
    allowed: bool, limit: int, remaining: int, retry_after: float, reset_after: float, delay: float
) -> Decision:
    """``Decision(...)`` with every field given, several times faster (limiters call it on every request).

    The frozen dataclass ``__init__`` pays one ``object.__setattr__`` call per field. Here we fill
    the slots of a writable twin with plain stores, then turn it into a ``Decision`` (``__class__``
    assignment is allowed because the two slot layouts are identical). From then on it is as frozen,
    comparable and hashable as any other ``Decision``.
    """
    d = _new(_DecisionBuilder)
    d.allowed = allowed
    d.limit = limit
    d.remaining = remaining
    d.retry_after = retry_after
    d.reset_after = reset_after
    d.delay = delay
    d.__class__ = Decision  # type: ignore[assignment]
    return d  # type: ignore[return-value]
