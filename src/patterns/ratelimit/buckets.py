"""Bucket algorithms: a steady rate of ``limit / period`` with room for a burst.

* ``TokenBucket``: a bucket of ``burst`` tokens refilled at the rate; a request takes ``cost`` tokens.
* ``GCRA``: the same policy stored as one "theoretical arrival time" per key (what redis-cell and
  many gateways do); it makes exactly the token bucket's decisions.
* ``LeakyBucket``: the queue (shaper) form: requests wait in a queue of ``capacity`` and leave
  evenly spaced, one unit every ``period / limit`` seconds.

Units: a token is worth ``P`` (the period in ticks) "scaled units", and the bucket refills ``limit``
scaled units per tick, so the fractional rate ``limit / period`` becomes integer arithmetic.
Durations round up: ``-(x // limit)`` with ``x <= 0`` is ``ceil(-x / limit)`` (``base.cdiv``, written
out because these lines run on every call and a function call would cost more than the division).
"""

from __future__ import annotations

from typing import Any

from patterns import clock as _clock
from patterns.ratelimit import lua
from patterns.ratelimit.base import Outcome, RateLimiter, check_int

__all__ = ["TokenBucket", "GCRA", "LeakyBucket"]


class _BucketLimiter(RateLimiter):
    """Rate ``limit / period`` per second, bucket size ``burst`` (default ``limit``)."""

    def __init__(
        self,
        limit: int,
        period: float,
        burst: int | None = None,
        *,
        clock: _clock.Clock | None = None,
        backend: Any = None,
        prefix: str | None = None,
        time_source: str = "clock",
    ) -> None:
        self.burst = check_int(limit, "limit") if burst is None else check_int(burst, "burst")
        super().__init__(limit, period, clock=clock, backend=backend, prefix=prefix, time_source=time_source)

    def _quota(self) -> int:
        return self.burst

    def _scale(self) -> int:
        return 2 * self.burst + 1

    def _lua_args(self) -> list[int]:
        return [self._P, self.limit, self.burst]

    def __repr__(self) -> str:
        size = "capacity" if isinstance(self, LeakyBucket) else "burst"
        return super().__repr__().replace(", ", f", {size}={self.burst}, ", 1)


class TokenBucket(_BucketLimiter):
    """Refill ``limit / period`` tokens per second up to ``burst``; a request takes ``cost`` tokens.

    Guarantee: over any interval [t1, t2] the admitted cost is <= burst + rate * (t2 - t1).
    State per key: tokens and the time of the last refill.
    """

    algorithm = "token-bucket"
    _lua = lua.TOKEN_BUCKET

    def _step(self, state: Any, now: int, cost: int) -> tuple[Any, Outcome]:
        P, limit = self._P, self.limit
        cap = self.burst * P
        if state is None:
            tokens, last = cap, now
        else:
            tokens, last = state
            if now > last:  # refill; a clock that steps back refills nothing
                tokens = min(cap, tokens + (now - last) * limit)
                last = now
        need = cost * P
        retry = 0
        allowed = tokens >= need
        if allowed:
            tokens -= need
        else:
            retry = -((tokens - need) // limit)
        return (tokens, last), (allowed, tokens // P, retry, -((tokens - cap) // limit), 0)


class GCRA(_BucketLimiter):
    """Generic Cell Rate Algorithm: one timestamp per key, the token bucket's exact decisions.

    The timestamp is the theoretical arrival time TAT: when the bucket would be full again. A
    request is admitted if, after adding ``cost`` emission intervals (``period / limit`` each),
    TAT is at most ``burst`` intervals ahead of now. Admitted requests go at once (``delay`` 0). TAT is kept exactly as whole ticks plus a
    remainder in 1/limit of a tick, so no rounding ever separates it from ``TokenBucket``.
    """

    algorithm = "gcra"
    _lua = lua.GCRA

    def _step(self, state: Any, now: int, cost: int) -> tuple[Any, Outcome]:
        P, limit = self._P, self.limit
        cap = self.burst * P
        tat, rem = (now, 0) if state is None or state[0] < now else state
        debt = (tat - now) * limit + rem  # scaled units the bucket is below full
        retry = delay = 0
        allowed = debt + cost * P <= cap
        if allowed:
            if self._reports_delay:
                delay = -(-debt // limit)
            carry, rem = divmod(rem + cost * P, limit)
            tat += carry
            debt += cost * P
        else:
            retry = -((cap - debt - cost * P) // limit)
        return (tat, rem), (allowed, (cap - debt) // P, retry, -(-debt // limit), delay)


class LeakyBucket(GCRA):
    """The leaky bucket as a queue: accept while the queue has room, release at a steady pace.

    An accepted request's ``Decision.delay`` says how long it waits before it leaves; departures
    are spaced at least ``period / limit`` seconds per unit of cost apart (rounded up to whole
    ticks). A full queue denies (``retry_after`` = when room frees up). With ``capacity=1``
    nothing waits: it is a pure policer. As a meter this is GCRA with ``burst=capacity``.
    """

    algorithm = "leaky-bucket"
    _reports_delay = True

    def __init__(
        self,
        limit: int,
        period: float,
        capacity: int | None = None,
        *,
        clock: _clock.Clock | None = None,
        backend: Any = None,
        prefix: str | None = None,
        time_source: str = "clock",
    ) -> None:
        if capacity is not None:
            check_int(capacity, "capacity")
        super().__init__(
            limit, period, capacity, clock=clock, backend=backend, prefix=prefix, time_source=time_source
        )
