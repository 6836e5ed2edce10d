"""Rate limiters: six algorithms, in memory or shared through Redis, one ``Decision`` type.

>>> from patterns.clock import ManualClock
>>> lim = SlidingWindowLog(limit=2, period=60.0, clock=ManualClock())
>>> [lim.allow("user:42").allowed for _ in range(3)]
[True, True, False]

Pass ``backend=patterns.infra.redis_client()`` to share the limit between processes: each decision
is one atomic Lua script on one key (``<namespace>:<prefix>:{<key>}``), timed by the Redis server's
clock unless you pass a clock, and memory and Redis decide identically on the same trace. Choose
what a decision answers while Redis is unreachable with ``on_backend_error`` (raise, allow or deny).

Files, in reading order: ``decision.py`` (the answer), ``base.py`` (what all limiters share),
``windows.py`` and ``buckets.py`` (the algorithms), ``store.py`` (memory or Redis) and ``lua.py``
(each algorithm again, as the script Redis runs).
"""

from patterns.ratelimit.base import RateLimiter
from patterns.ratelimit.buckets import GCRA, LeakyBucket, TokenBucket
from patterns.ratelimit.decision import Decision
from patterns.ratelimit.windows import FixedWindow, SlidingWindowCounter, SlidingWindowLog

LIMITERS = (FixedWindow, SlidingWindowLog, SlidingWindowCounter, TokenBucket, GCRA, LeakyBucket)
"""Every algorithm, in the order the chapter introduces them (tests and labs iterate over it)."""

__all__ = [
    "LIMITERS",
    "Decision",
    "RateLimiter",
    "FixedWindow",
    "SlidingWindowLog",
    "SlidingWindowCounter",
    "TokenBucket",
    "GCRA",
    "LeakyBucket",
]
