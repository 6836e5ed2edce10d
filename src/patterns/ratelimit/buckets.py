"""Bucket algorithms: a steady rate of ``limit / period`` with room for a burst.

* ``TokenBucket``: a bucket of ``burst`` tokens refilled at the rate; a request takes ``cost`` tokens.
* ``GCRA``: the same policy stored as one "theoretical arrival time" per key (what redis-cell and
  many gateways do); it makes exactly the token bucket's decisions.
* ``LeakyBucket``: the queue (shaper) form: requests wait in a queue of ``capacity`` and leave
  evenly spaced, one unit every ``period / limit`` seconds.

Units: a token is worth ``P`` (the period in ticks) "scaled units", and the bucket refills ``limit``
scaled units per tick, so the fractional rate ``limit / period`` becomes integer arithmetic, and
``cdiv(x, limit)`` is how many ticks it takes to refill x scaled units. Each ``_step`` is mirrored
line for line by its Lua script in ``lua.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from patterns._validate import require_int
from patterns.clock import Clock
from patterns.ratelimit import lua
from patterns.ratelimit.base import MAX_SCALED, RateLimiter, cdiv
from patterns.ratelimit.store import Outcome, RedisClient

__all__ = ["TokenBucket", "GCRA", "LeakyBucket"]

Pair = tuple[int, ...]


class _BucketLimiter(RateLimiter):
    """Rate ``limit / period`` per second, bucket size ``burst`` (default ``limit``)."""

    _size_name: ClassVar[str] = "burst"

    def __init__(
        self,
        limit: int,
        period: float,
        burst: int | None = None,
        *,
        clock: Clock | None = None,
        backend: RedisClient | None = None,
        prefix: str | None = None,
        namespace: str | None = None,
        time_source: str | None = None,
        on_backend_error: str = "raise",
    ) -> None:
        size = limit if burst is None else burst
        self.burst = require_int(size, "limit" if burst is None else self._size_name, minimum=1, maximum=MAX_SCALED)
        super().__init__(
            limit,
            period,
            clock=clock,
            backend=backend,
            prefix=prefix,
            namespace=namespace,
            time_source=time_source,
            on_backend_error=on_backend_error,
        )
        self._cap = self.burst * self._P  # a full bucket, in scaled units

    def _quota(self) -> int:
        return self.burst

    def _scale(self) -> int:
        return 2 * self.burst + 1

    def _window(self) -> int:
        return cdiv(self.burst * self._P, self.limit)  # the time to refill an empty bucket

    def _params(self) -> tuple[int, ...]:
        return self._P, self.limit, self.burst

    def __repr__(self) -> str:
        return super().__repr__().replace(", ", f", {self._size_name}={self.burst}, ", 1)


class TokenBucket(_BucketLimiter):
    """Refill ``limit / period`` tokens per second up to ``burst``; a request takes ``cost`` tokens.

    Guarantee: over any interval [t1, t2] the admitted cost is <= burst + rate * (t2 - t1).
    State per key: tokens (scaled) and the time of the last refill.
    """

    algorithm = "token-bucket"
    _script = lua.TOKEN_BUCKET

    def _step(self, state: Pair | None, now: int, cost: int) -> tuple[Pair, Outcome]:
        P, limit, cap = self._P, self.limit, self._cap
        tokens, last = (cap, now) if state is None else state
        at = now
        if last > now:  # a lagging clock is decided at the last refill: it earns nothing
            at = last
        lag = at - now
        tokens += (at - last) * limit  # refill, up to a full bucket
        if tokens > cap:
            tokens = cap
        need = cost * P
        if tokens < need:
            return (tokens, at), (False, tokens // P, lag + cdiv(need - tokens, limit), lag + cdiv(cap - tokens, limit), 0)
        tokens -= need
        return (tokens, at), (True, tokens // P, 0, lag + cdiv(cap - tokens, limit), 0)


class GCRA(_BucketLimiter):
    """Generic Cell Rate Algorithm: one timestamp per key, the token bucket's exact decisions.

    The timestamp is the theoretical arrival time TAT: when the bucket would be full again. A
    request is admitted if, after adding ``cost`` emission intervals (``period / limit`` each),
    TAT is at most ``burst`` intervals ahead of now. Admitted requests go at once (``delay`` 0).
    TAT is kept exactly, as whole ticks plus a remainder in 1/limit of a tick, so no rounding ever
    separates it from ``TokenBucket``.
    """

    algorithm = "gcra"
    _script = lua.GCRA
    _reports_delay: ClassVar[bool] = False

    def _step(self, state: Pair | None, now: int, cost: int) -> tuple[Pair, Outcome]:
        P, limit, cap = self._P, self.limit, self._cap
        tat, rem = (now, 0) if state is None or state[0] < now else state
        debt = (tat - now) * limit + rem  # scaled units the bucket is below full
        need = cost * P  # the request, in scaled units
        if debt + need > cap:
            remaining = (cap - debt) // P
            if remaining < 0:  # (a lagging clock can see more debt than cap)
                remaining = 0
            return (tat, rem), (False, remaining, cdiv(debt + need - cap, limit), cdiv(debt, limit), 0)
        delay = cdiv(debt, limit) if self._reports_delay else 0
        total = rem + need  # TAT moves on by `need` scaled units: whole ticks, and a new remainder
        tat, rem = tat + total // limit, total % limit
        debt += need
        return (tat, rem), (True, (cap - debt) // P, 0, cdiv(debt, limit), delay)


class LeakyBucket(GCRA):
    """The leaky bucket as a queue: accept while the queue has room, release at a steady pace.

    An accepted request's ``Decision.delay`` says how long it waits before it leaves; departures
    are spaced at least ``period / limit`` seconds per unit of cost apart (rounded up to whole
    ticks). A full queue denies (``retry_after`` = when room frees up). With ``capacity=1``
    nothing waits: it is a pure policer. As a meter this is GCRA with ``burst=capacity``.
    """

    algorithm = "leaky-bucket"
    _script = lua.LEAKY_BUCKET
    _reports_delay = True
    _size_name = "capacity"

    def __init__(self, limit: int, period: float, capacity: int | None = None, **options: Any) -> None:
        """``capacity``: how many units the queue holds (the bucket's size, default ``limit``); the
        keyword options are the other limiters' (clock, backend, prefix, namespace, ...)."""
        super().__init__(limit, period, capacity, **options)
