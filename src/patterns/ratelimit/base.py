"""What every limiter shares: argument checks, time in integer ticks, the in-memory state
table (thread-safe, idle keys dropped lazily) and the dispatch to the Redis store.

Why integer time: the same trace must give the same decisions in Python and in Redis's Lua (where
every number is a double), and GCRA must decide exactly like the token bucket. Integers below 2**53
are exact in both languages, so every algorithm works on whole "ticks" and integer "scaled"
quantities, and converts to float seconds only when it builds the ``Decision``. A tick is one
microsecond, unless ``limit``/``burst`` times the period would leave the exact range (say a million
requests a day): then the tick coarsens to 10 us, 100 us, ... (at most 1 s), so huge quotas still work.
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from patterns.clock import Clock, SystemClock, WallClock
from patterns.errors import RateLimited
from patterns.ratelimit.decision import Decision, make_decision

__all__ = ["Outcome", "RateLimiter", "US_PER_SECOND", "MAX_SCALED", "to_us", "cdiv", "choose_tick"]

US_PER_SECOND = 1_000_000
MAX_SCALED = 2**50  # every integer the algorithms compute stays below 2**53 (exact in Lua doubles)
_MIN_SWEEP = 1024  # the memory table is swept for idle keys when it doubles past this size
_round_float = float.__round__  # round(x) for a float x, called directly (it runs on every call)
_DIRECT_NOW = {SystemClock: time.monotonic, WallClock: time.time}  # exactly what their now() returns


# A decision in integers: (allowed, remaining, retry, reset, delay), durations in ticks. ``_step``
# and the Lua scripts both return this shape (a plain tuple: it is built on every call).
Outcome = tuple[bool, int, int, int, int]


def to_us(seconds: float) -> int:
    """Seconds (float) to whole microseconds, rounded to nearest (absorbs float noise)."""
    return round(seconds * US_PER_SECOND)


def cdiv(a: int, b: int) -> int:
    """Ceiling of a / b for b > 0 (the Lua scripts use floor((a + b - 1) / b), the same value)."""
    return -(-a // b)


def check_int(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def check_period(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"period must be a number of seconds > 0, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"period must be a finite number of seconds > 0, got {value!r}")
    if to_us(value) < 1:
        raise ValueError(f"period must be >= 1e-06 seconds (one microsecond), got {value!r}")
    return float(value)


def choose_tick(period: float, scale: int) -> tuple[int, int]:
    """(tick in microseconds, period in ticks): the finest power-of-ten tick, 1 us to 1 s, that
    keeps ``scale * period`` (the largest product an algorithm forms) below ``MAX_SCALED``."""
    tick = 1
    while tick <= US_PER_SECOND:
        period_ticks = round(period * (US_PER_SECOND / tick))
        if period_ticks >= 1 and scale * period_ticks <= MAX_SCALED:
            return tick, period_ticks
        tick *= 10
    raise ValueError(
        f"limit/burst ({scale}) times period ({period!r} s) is too large to count exactly; "
        "use a smaller quota or a shorter period"
    )


class RateLimiter(ABC):
    """Base class: ``allow(key, cost)`` returns a ``Decision``; state lives in memory or in Redis.

    ``backend=None`` keeps state in this object (thread-safe: one lock per limiter). A redis-py or
    fakeredis client keeps it in Redis, updated atomically by one Lua script per call, so several
    processes share one limit. Every Redis key gets an expiry; in memory, keys whose state has run
    out are dropped lazily, so state stays bounded by the number of recently active keys.

    Time: decisions use the injected ``clock``. The default is ``SystemClock`` (per-process,
    monotonic) in memory and ``WallClock`` (epoch seconds) with a Redis backend, because processes
    sharing a Redis limiter must agree on time. ``time_source="server"`` uses the Redis server's
    ``TIME`` instead (one clock for everyone, at the cost of ignoring the injected one). A client
    whose clock lags behind a key's state gets no refill and no new window: lag makes a limiter
    stricter, never looser.
    """

    algorithm: ClassVar[str]  # default Redis key namespace, e.g. "token-bucket"
    _lua: ClassVar[str]  # the Redis script body (see lua.py)
    _reports_delay: ClassVar[bool] = False  # only the shaper (LeakyBucket) delays requests

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Clock | None = None,
        backend: Any = None,
        prefix: str | None = None,
        time_source: str = "clock",
    ) -> None:
        self.limit = check_int(limit, "limit")
        self.period = check_period(period)
        self._capacity = self._quota()
        self._tick, self._P = choose_tick(self.period, self._scale())
        self._ticks_per_second = US_PER_SECOND / self._tick
        self._limit_scaled = self.limit * self._P  # the limit times P, precomputed (sliding counter)
        if clock is None:
            clock = SystemClock() if backend is None else WallClock()
        elif not (callable(getattr(clock, "now", None)) and callable(getattr(clock, "sleep", None))):
            raise TypeError(f"clock must have now() and sleep() (a patterns.clock.Clock), got {clock!r}")
        self.clock: Clock = clock
        # Read the clock once per call, through a bound callable. The two real clocks are thin
        # wrappers, so call what they wrap directly: same time, one Python call less per request.
        direct = _DIRECT_NOW.get(type(clock))
        self._clock_now = direct if direct is not None and "now" not in vars(clock) else clock.now
        if prefix is None:
            prefix = f"ratelimit:{self.algorithm}:"
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a string, got {type(prefix).__name__}")
        self.prefix = prefix
        if time_source not in ("clock", "server"):
            raise ValueError(f"time_source must be 'clock' or 'server', got {time_source!r}")
        if time_source == "server" and backend is None:
            raise ValueError(
                "time_source='server' needs a Redis backend (backend=None keeps state in memory)"
            )
        self.time_source = time_source
        self._store: Any = None
        if backend is not None:
            from patterns.ratelimit.redis_store import RedisStore

            self._store = RedisStore(backend, self._lua)
        self.backend = backend
        self._lock = threading.Lock()
        self._states: dict[str, tuple[Any, int]] = {}  # key -> (state, tick at which it runs out)
        self._sweep_at = _MIN_SWEEP
        self._last_now = -(2**63)  # latest time seen in memory (ticks)

    # -- what each algorithm provides ----------------------------------------------------------
    def _quota(self) -> int:
        """The quota ``remaining`` counts against, and the largest cost of one call."""
        return self.limit

    def _scale(self) -> int:
        """The largest multiple of the period (in ticks) that the algorithm computes."""
        return 1

    @abstractmethod
    def _step(self, state: Any, now: int, cost: int) -> tuple[Any, Outcome]:
        """The in-memory decision: (state or None, now in ticks, cost) -> (new state, outcome).

        Must mirror the class's Lua script exactly; the state after ``reset`` ticks must be
        equivalent to no state (that is what lets idle keys be dropped)."""

    @abstractmethod
    def _lua_args(self) -> list[int]:
        """The algorithm's parameters for the Lua script (after now, tick and cost)."""

    def _redis_keys(self, key: str) -> list[str]:
        return [self.prefix + key]

    # -- the public API ----------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        """The largest cost one call may ask for (``limit``, or ``burst``/``capacity`` for buckets)."""
        return self._capacity

    def allow(self, key: str, cost: int = 1) -> Decision:
        """Decide for one request of ``cost`` units on ``key``; admitted requests use up quota."""
        if type(key) is not str or not key:
            _bad_key(key)
        if type(cost) is not int or not 0 < cost <= self._capacity:
            cost = _checked_cost(cost, self._capacity)
        per_second = self._ticks_per_second
        if self._store is not None:
            return self._allow_redis(key, cost, per_second)
        # The in-memory hot path, tuned because it runs on every request (about 1.7 us a call on a
        # small shared VM): acquire/release in try/finally costs less than a ``with`` block, each
        # attribute is read once, and the decision is built by the fast ``make_decision``.
        lock = self._lock
        lock.acquire()
        try:  # read the clock under the lock: time never moves backwards here
            t = self._clock_now() * per_second
            now = _round_float(t) if type(t) is float else round(t)  # the same, minus a lookup
            if now < self._last_now:  # a clock stepped back: hold time still instead
                now = self._last_now
            self._last_now = now
            states = self._states
            entry = states.get(key)
            state, (allowed, remaining, retry, reset, delay) = self._step(entry and entry[0], now, cost)
            states[key] = (state, now + reset)
            if entry is None and len(states) >= self._sweep_at:  # only a new key grows the table
                self._sweep(now)
        finally:
            lock.release()
        return make_decision(
            allowed, self._capacity, remaining, retry / per_second, reset / per_second, delay / per_second
        )

    def _allow_redis(self, key: str, cost: int, per_second: float) -> Decision:
        now = None if self.time_source == "server" else round(self._clock_now() * per_second)
        out = self._store.run(self._redis_keys(key), now, self._tick, cost, self._lua_args())
        delay = out[4] if self._reports_delay else 0
        return make_decision(
            out[0], self._capacity, out[1], out[2] / per_second, out[3] / per_second, delay / per_second
        )

    def require(self, key: str, cost: int = 1) -> Decision:
        """Like ``allow``, but raise ``patterns.errors.RateLimited`` (with ``retry_after``) if denied."""
        decision = self.allow(key, cost)
        if not decision.allowed:
            raise RateLimited(key, decision.retry_after)
        return decision

    def reset(self, key: str) -> None:
        """Forget ``key``'s state: its next request sees a full quota."""
        if type(key) is not str or not key:
            _bad_key(key)
        if self._store is not None:
            self._store.delete(self._redis_keys(key))
        else:
            with self._lock:
                self._states.pop(key, None)

    @property
    def tracked_keys(self) -> int:
        """How many keys the in-memory table holds now (idle ones are dropped lazily)."""
        with self._lock:
            return len(self._states)

    def _sweep(self, now: int) -> None:
        """Drop keys whose state has run out (equivalent to no state); amortised O(1) per call."""
        states = self._states
        for key in [k for k, (_, until) in states.items() if until <= now]:
            del states[key]
        self._sweep_at = max(_MIN_SWEEP, 2 * len(states))

    def __repr__(self) -> str:
        where = "memory" if self._store is None else f"redis({self.prefix!r}, time={self.time_source})"
        return f"{type(self).__name__}(limit={self.limit}, period={self.period!r}, {where})"


def _bad_key(key: object) -> None:
    if not isinstance(key, str):
        raise TypeError(f"key must be a non-empty string, got {type(key).__name__}")
    if not key:
        raise ValueError("key must be a non-empty string, got ''")


def _checked_cost(cost: object, capacity: int) -> int:
    """The slow path of the cost check: accept int subclasses, explain everything else."""
    if isinstance(cost, bool) or not isinstance(cost, int):
        raise TypeError(f"cost must be an integer in 1..{capacity}, got {type(cost).__name__}")
    if not 0 < cost <= capacity:
        raise ValueError(f"cost must be an integer in 1..{capacity} (the limiter's capacity), got {cost}")
    return int(cost)
