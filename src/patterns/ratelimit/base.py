"""What every limiter shares: argument checks, time in integer ticks, where the state lives (a
store, see ``store.py``), and what to answer when that store is a Redis that does not answer.

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
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from patterns._validate import (
    require_instance,
    require_int,
    require_number,
    require_one_of,
    require_seconds,
    require_text,
)
from patterns.clock import Clock, SystemClock, WallClock
from patterns.errors import BackendUnavailable, RateLimited
from patterns.keys import KeySpace
from patterns.ratelimit.decision import Decision
from patterns.ratelimit.store import (
    NUMBERS,
    Layout,
    MemoryStore,
    Outcome,
    RedisClient,
    RedisStore,
    Store,
)

__all__ = ["Outcome", "RateLimiter", "US_PER_SECOND", "MAX_SCALED", "cdiv", "choose_tick"]

US_PER_SECOND = 1_000_000
MAX_SCALED = 2**50  # every integer the algorithms compute stays below 2**53 (exact in Lua doubles)
KEEP_SLACK_MS = 2_000  # a Redis key outlives its longest useful state by max(that state, 2 s)
BACKEND_POLICIES = ("raise", "allow", "deny")
_new_tuple = tuple.__new__  # builds a Decision from its seven fields (see ``RateLimiter.allow``)


def cdiv(a: int, b: int) -> int:
    """Ceiling of a / b for b > 0 (the Lua scripts write floor((a + b - 1) / b), the same value)."""
    return -(-a // b)


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

    Where the state lives:

    * ``backend=None``: in this object (thread-safe: one lock per limiter). Idle keys are dropped
      lazily, so memory stays bounded by the number of recently active keys.
    * ``backend=<a redis-py client>`` (``redis.Redis``, ``redis.cluster.RedisCluster``, fakeredis,
      e.g. ``patterns.infra.redis_client()``): in Redis, one key per limited entity, changed by one
      atomic Lua script per decision, so several processes share one limit. Keys are
      ``<namespace>:<prefix>:{<key>}`` (``patterns.keys``): the namespace keeps learners sharing a
      server apart, and the hash tag keeps each decision on one Redis Cluster slot.

    Whose clock (``time_source``):

    * ``"clock"``: the injected ``clock`` (default ``SystemClock``: monotonic, per process). Tests
      and labs inject a ``ManualClock``.
    * ``"server"``: the Redis server's ``TIME``, read inside the script: one clock for every app
      server, so their clock skew cannot matter. This is the default for a Redis backend when no
      clock is given. (``clock`` is then a ``WallClock``, unused for decisions.)

    With injected clocks, a client whose clock lags behind a key's state is decided at the state's
    time (no refill, no new window): lag makes a limiter stricter, never looser. Its
    ``retry_after`` includes the lag, so it stays true on that client's own clock. A denial writes
    nothing, so it never extends a key's life; a Redis key expires ``max(window, 2 s)`` after the
    algorithm's longest state lifetime ("window": the period, or the time to refill a full bucket).

    When Redis is unreachable (``on_backend_error``): ``allow`` raises
    ``patterns.errors.BackendUnavailable`` under ``"raise"`` (the default: the caller decides);
    ``"allow"`` fails open (admit everything: the limit stops protecting anything until Redis is
    back; right for limits that exist for fairness); ``"deny"`` fails closed (refuse everything:
    an outage of the limiter becomes an outage of the service; right for limits that guard money
    or security). Either way the ``Decision`` has ``fallback=True``, nothing is counted, and
    ``fallbacks`` counts such decisions. A hung Redis costs each call at most the client's socket
    timeout (0.25 s for ``patterns.infra.redis_client``); a call that timed out may still be counted
    if the server wakes up and runs the script it had already received.
    """

    algorithm: ClassVar[str]  # default key prefix, e.g. "token-bucket"
    _script: ClassVar[str]  # the Redis side of ``_step`` (see lua.py)
    _layout: ClassVar[Layout[Any]] = NUMBERS  # how the state is stored in Redis

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Clock | None = None,
        backend: RedisClient | None = None,
        prefix: str | None = None,
        namespace: str | None = None,
        time_source: str | None = None,
        on_backend_error: str = "raise",
    ) -> None:
        self.limit = require_int(limit, "limit", minimum=1, maximum=MAX_SCALED)
        self.period = _require_period(period)
        self._capacity = self._quota()
        self._tick, self._P = choose_tick(self.period, self._scale())
        self._ticks_per_second = US_PER_SECOND / self._tick
        if backend is not None:
            _require_client(backend)
        self.backend = backend
        if time_source is None:
            time_source = "server" if backend is not None and clock is None else "clock"
        self.time_source = require_one_of(time_source, "time_source", ("clock", "server"))
        self._server_time = self.time_source == "server"
        if self._server_time and backend is None:
            raise ValueError("time_source='server' needs a Redis backend (backend=None keeps state in memory)")
        if clock is None:
            clock = SystemClock() if backend is None else WallClock()
        self.clock: Clock = _require_clock(clock)
        self.on_backend_error = require_one_of(on_backend_error, "on_backend_error", BACKEND_POLICIES)
        self.prefix = require_text(f"ratelimit:{self.algorithm}" if prefix is None else prefix, "prefix")
        self.keys = KeySpace.of(self.prefix, ns=namespace)
        self._store: Store = self._make_store(backend)
        self._fallbacks = 0
        self._fallback_lock = threading.Lock()

    def _make_store(self, backend: RedisClient | None) -> Store:
        if backend is None:
            return MemoryStore(self._step)
        window_ms = math.ceil(self._window() * self._tick / 1000)
        return RedisStore(
            backend,
            self.keys,
            script=self._script,
            step=self._step,
            layout=self._layout,
            tick_us=self._tick,
            keep_ms=window_ms + max(window_ms, KEEP_SLACK_MS),
            params=self._params(),
        )

    # -- what each algorithm provides ----------------------------------------------------------
    def _quota(self) -> int:
        """The quota ``remaining`` counts against, and the largest cost of one call."""
        return self.limit

    def _scale(self) -> int:
        """The largest multiple of the period (in ticks) that the algorithm computes."""
        return 1

    def _window(self) -> int:
        """The longest a key's state stays useful after an admission, in ticks."""
        return self._P

    @abstractmethod
    def _step(self, state: Any, now: int, cost: int) -> tuple[Any, Outcome]:
        """The decision: (state or None, now in ticks, cost) -> (new state, outcome).

        Each algorithm has its own state type (a tuple of integers, or a deque for the log).
        Must mirror the class's Lua script exactly. Only an admitted request's new state is
        stored; state that has run out (after ``reset`` ticks) must be equivalent to no state."""

    @abstractmethod
    def _params(self) -> tuple[int, ...]:
        """The algorithm's integers for the Lua script (after now, tick, cost and keep_ms)."""

    # -- the public API ----------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        """The largest cost one call may ask for (``limit``, or ``burst``/``capacity`` for buckets)."""
        return self._capacity

    def allow(self, key: str, cost: int = 1) -> Decision:
        """Decide for one request of ``cost`` units on ``key``; admitted requests use up quota."""
        if type(key) is not str or not key:
            require_text(key, "key", max_length=2**20)
        if type(cost) is not int or not 0 < cost <= self._capacity:
            cost = int(require_int(cost, "cost", minimum=1, maximum=self._capacity))
        per_second = self._ticks_per_second
        # now in ticks from the injected clock, or None: "the store reads its own clock"
        now = None if self._server_time else round(self.clock.now() * per_second)
        try:
            allowed, remaining, retry, reset, delay = self._store.run(key, now, cost)
        except BackendUnavailable:
            if self.on_backend_error == "raise":
                raise
            return self._without_backend(cost)
        # ``tuple.__new__`` builds the NamedTuple directly: ``Decision(...)`` would first run the
        # Python ``__new__`` that NamedTuple generates, which only passes its arguments on to this
        # call (about 80 ns, a tenth of a whole in-memory decision). All seven fields, in order.
        return _new_tuple(Decision, (
            allowed, self._capacity, remaining, retry / per_second, reset / per_second, delay / per_second, False
        ))

    def _without_backend(self, cost: int) -> Decision:
        """The ``on_backend_error`` policy's answer: nothing is counted, ``fallback`` says so.
        A refusal asks the client to come back after one request's share of the period."""
        with self._fallback_lock:
            self._fallbacks += 1
        if self.on_backend_error == "allow":
            return Decision(True, self._capacity, self._capacity - cost, 0.0, 0.0, fallback=True)
        return Decision(False, self._capacity, 0, self.period / self.limit, 0.0, fallback=True)

    @property
    def fallbacks(self) -> int:
        """How many decisions the ``on_backend_error`` policy made because Redis was unreachable."""
        with self._fallback_lock:
            return self._fallbacks

    def require(self, key: str, cost: int = 1) -> Decision:
        """Like ``allow``, but raise ``patterns.errors.RateLimited`` (with ``retry_after``) if denied."""
        decision = self.allow(key, cost)
        if not decision.allowed:
            raise RateLimited(key, decision.retry_after)
        return decision

    def reset(self, key: str) -> None:
        """Forget ``key``'s state: its next request sees a full quota."""
        self._store.delete(require_text(key, "key", max_length=2**20))

    def clear(self) -> int:
        """Forget every key of this limiter (in Redis: only this limiter's namespace and prefix).
        Returns how many keys were removed."""
        return self._store.clear()

    @property
    def tracked_keys(self) -> int:
        """How many keys hold state now (in memory idle ones are dropped lazily; in Redis they expire)."""
        return len(self._store)

    def __repr__(self) -> str:
        where = self._store.describe()
        if where != "memory":
            where = f"{where}({self.prefix!r}, time={self.time_source})"
        return f"{type(self).__name__}(limit={self.limit}, period={self.period!r}, {where})"


_BACKEND_WANTED = (
    "a Redis client (redis.Redis, redis.cluster.RedisCluster or fakeredis.FakeRedis, e.g. "
    "patterns.infra.redis_client()) or None for memory"
)
_CLIENT_COMMANDS = tuple(name for name in vars(RedisClient) if not name.startswith("_"))


def _require_client(backend: object) -> None:
    """Anything with the commands of ``RedisClient`` is a backend, asked with ``getattr``.

    Not ``isinstance(backend, RedisClient)``: since Python 3.12 that looks the commands up statically,
    so a stand-in that answers every command through ``__getattr__`` (lab 10's ``RedisDown``, a test
    double, a proxy) passed on 3.11 and failed on 3.12 (Pyodide runs 3.12).
    """
    if not all(callable(getattr(backend, command, None)) for command in _CLIENT_COMMANDS):
        raise TypeError(f"backend must be {_BACKEND_WANTED}, got {type(backend).__name__}")


def _require_period(period: object) -> float:
    seconds = require_seconds(period, "period")
    if round(seconds * US_PER_SECOND) < 1:
        raise ValueError(f"period must be at least one microsecond (1e-06 s), got {period!r}")
    return seconds


def _require_clock(clock: object) -> Clock:
    """A ``Clock`` whose ``now()`` tells the time as a finite number of seconds."""
    wanted = "a Clock with now() and sleep() (e.g. patterns.clock.ManualClock)"
    require_instance(clock, "clock", Clock, what=wanted)
    if isinstance(clock, type) or not (callable(getattr(clock, "now", None)) and callable(getattr(clock, "sleep", None))):
        kind = f"the class {clock.__name__}" if isinstance(clock, type) else type(clock).__name__
        raise TypeError(f"clock must be {wanted}, got {kind}")
    checked: Clock = clock  # type: ignore[assignment]
    require_number(checked.now(), "clock.now()")
    return checked
