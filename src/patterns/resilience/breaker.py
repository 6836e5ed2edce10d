"""Circuit breaker: stop calling a dependency that is failing, and probe it before trusting it again.

States and transitions (all decided under one lock, never while the protected call runs):

* ``closed``: calls go through; each outcome enters a sliding window (``WindowSpec``). Once the
  window holds at least ``minimum_calls`` outcomes and ``failures / calls >= failure_rate_threshold``
  (or ``slow / calls >= slow_call_rate_threshold``), the breaker opens. Never before. The rates
  are judged each time an outcome is recorded (a time window that merely ages is judged at the
  next outcome).
* ``open``: calls fail fast with ``CircuitOpen``, without touching the dependency, until
  ``wait_in_open`` seconds have passed since opening; at exactly that clock time it is half-open.
  The change is observed lazily (next call, ``state`` or ``metrics()``), but the ``StateChange``
  carries the exact due time.
* ``half_open``: at most ``half_open_calls`` trial calls are admitted (others get ``CircuitOpen``).
  When all trials have finished, their failure (or slow) rate decides: at or over the threshold,
  open again; under it, closed with an empty window.

Guarantees: callers are never serialised (the lock is held only to admit and to record); an
outcome is only counted in the state that admitted its call (a slow call started while closed and
finishing after the breaker opened changes nothing); listeners run after the lock is released.
Not guaranteed: a trial call that never returns keeps its half-open permit (wrap the call in a
``Timeout``); listeners of two threads may run out of order (use ``StateChange.seq``).
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import CoroutineType
from typing import Any, Literal, ParamSpec, TypeVar

from patterns.clock import Clock, SystemClock
from patterns.errors import CircuitOpen
from patterns.resilience._checks import (
    ExceptionFilter,
    as_exception_filter,
    callable_name,
    check_int,
    check_number,
    check_rate,
)
from patterns.resilience.windows import WindowSpec

__all__ = ["CircuitBreaker", "StateChange", "BreakerMetrics", "BreakerState"]

P = ParamSpec("P")
T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]
CLOSED: BreakerState = "closed"
OPEN: BreakerState = "open"
HALF_OPEN: BreakerState = "half_open"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StateChange:
    """One transition, as listeners receive it. ``seq`` orders transitions of one breaker."""

    breaker: str
    seq: int
    old: BreakerState
    new: BreakerState
    at: float
    reason: str


@dataclass(frozen=True)
class BreakerMetrics:
    """A consistent snapshot: the window the breaker judges, and lifetime counters."""

    state: BreakerState
    window_calls: int
    window_failures: int
    window_slow: int
    failure_rate: float  # failures / calls in the window (0.0 when empty)
    slow_call_rate: float
    successful: int  # lifetime counts of recorded outcomes
    failed: int
    slow: int
    ignored: int  # errors matching ``ignore_on`` (not recorded)
    not_permitted: int  # calls refused with CircuitOpen
    late: int  # outcomes that arrived after the state that admitted them had ended
    transitions: int


class CircuitBreaker:
    """A thread-safe circuit breaker with count- or time-based windows (see the module docstring).

    ``failure_on`` says which errors count as failures (default: every ``Exception``; other errors
    count as successes, e.g. a "not found" that proves the dependency answered). ``ignore_on``
    errors are not recorded at all. Both take an exception type, a tuple of types or a predicate.
    Use it as ``breaker.call(fn, *args)`` or as a decorator ``@breaker`` (async functions too).
    """

    def __init__(
        self,
        failure_rate_threshold: float = 0.5,
        window: WindowSpec | None = None,
        minimum_calls: int = 10,
        wait_in_open: float = 30.0,
        half_open_calls: int = 3,
        slow_call_threshold: float | None = None,
        slow_call_rate_threshold: float = 1.0,
        failure_on: ExceptionFilter = Exception,
        ignore_on: ExceptionFilter | None = None,
        clock: Clock | None = None,
        name: str = "breaker",
    ) -> None:
        self.failure_rate_threshold = check_rate(failure_rate_threshold, "failure_rate_threshold")
        self.slow_call_rate_threshold = check_rate(slow_call_rate_threshold, "slow_call_rate_threshold")
        window = WindowSpec.count(10) if window is None else window
        if not isinstance(window, WindowSpec):
            raise TypeError(f"window must be a WindowSpec (WindowSpec.count(n) or .time(s)), got {window!r}")
        self.window = window
        self.minimum_calls = check_int(minimum_calls, "minimum_calls", 1)
        if window.kind == "count" and minimum_calls > window.size:
            raise ValueError(
                f"minimum_calls must be <= the window size ({int(window.size)}) of a count window, "
                f"got {minimum_calls}: the window could never hold enough calls to judge"
            )
        self.wait_in_open = check_number(wait_in_open, "wait_in_open")
        self.half_open_calls = check_int(half_open_calls, "half_open_calls", 1)
        self.slow_call_threshold = (
            None if slow_call_threshold is None else check_number(slow_call_threshold, "slow_call_threshold")
        )
        self._is_failure = as_exception_filter(failure_on, "failure_on")
        self._is_ignored = None if ignore_on is None else as_exception_filter(ignore_on, "ignore_on")
        self._clock: Clock = SystemClock() if clock is None else clock
        self.name = str(name)
        # time is read per call only when something needs it (slow calls, a time window)
        self._timed = self.slow_call_threshold is not None or window.kind == "time"
        self._lock = threading.Lock()
        self._listeners: list[Callable[[StateChange], None]] = []
        self._window = window.build()
        self._state: BreakerState = CLOSED
        self._gen = 0  # bumps at every transition; outcomes of an older generation are "late"
        self._opened_at = 0.0
        self._trials_admitted = self._trials_done = self._trial_failures = self._trial_slow = 0
        self._successful = self._failed = self._slow = self._ignored = 0
        self._not_permitted = self._late = 0

    # -- public API ---------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """'closed', 'open' or 'half_open'; an open breaker reads half-open once its wait is over."""
        with self._lock:
            events = self._maybe_half_open()
            state = self._state
        self._dispatch(events)
        return state

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` if the breaker admits it; raise ``CircuitOpen`` if not."""
        # Closed admits without the lock: read the generation, then the state. If a transition
        # slips in between, the generation no longer matches when the outcome is recorded
        # (under the lock), so the call counts as "late" and changes nothing.
        gen = self._gen
        if self._state is not CLOSED or self._timed:
            return self._call_general(gen, fn, args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._record_error(gen, 0.0, exc)
            raise
        if result.__class__ is CoroutineType:
            self._refuse_coroutine(gen, fn, result)
        # Fast path: a success, closed, count window, no slow-call threshold. A success cannot
        # raise the failure rate, so it can only open the breaker by bringing the window up to
        # minimum_calls. (Explicit acquire/release: cheaper than ``with`` on CPython 3.11.)
        lock = self._lock
        lock.acquire()
        try:
            if gen == self._gen and self._state is CLOSED:
                self._successful += 1
                w = self._window
                w.record_success()
                if w.calls != self.minimum_calls or w.failures / w.calls < self.failure_rate_threshold:
                    return result
                events = [self._open_on_window(0.0)]
            else:
                events = []
        finally:
            lock.release()
        if events:
            self._dispatch(events)
        else:  # a late outcome: the state that admitted the call has ended
            self._record(gen, 0.0, False)
        return result

    def _call_general(self, gen: int, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        """``call`` when not closed (admission) or when calls must be timed."""
        if self._state is not CLOSED:
            gen = self._admit()
        start = self._clock.now() if self._timed else 0.0
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._record_error(gen, start, exc)
            raise
        if result.__class__ is CoroutineType:
            self._refuse_coroutine(gen, fn, result)
        self._record(gen, start, False)
        return result

    def _refuse_coroutine(self, gen: int, fn: Callable[..., object], coroutine: CoroutineType) -> None:
        """An async function called through the sync form would be recorded before it ran."""
        self._forget(gen)
        coroutine.close()
        raise TypeError(f"{callable_name(fn)} is a coroutine function: use call_async or @breaker")

    async def call_async(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``call`` for coroutine functions: the outcome is recorded when the await finishes."""
        gen = self._gen
        if self._state is not CLOSED:
            gen = self._admit()
        start = self._clock.now() if self._timed else 0.0
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._record_error(gen, start, exc)
            raise
        self._record(gen, start, False)
        return result

    def __call__(self, fn: Callable[P, T]) -> Callable[P, T]:
        """Decorator form: ``@breaker`` over a plain or an ``async def`` function."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self.call_async(fn, *args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        call = self.call

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return call(fn, *args, **kwargs)

        return wrapper

    def add_listener(self, listener: Callable[[StateChange], None]) -> None:
        """Call ``listener(change)`` after every state change (in the thread that caused it)."""
        if not callable(listener):
            raise TypeError(f"listener must be callable, got {type(listener).__name__}")
        with self._lock:
            self._listeners = [*self._listeners, listener]

    def remove_listener(self, listener: Callable[[StateChange], None]) -> None:
        with self._lock:
            self._listeners = [x for x in self._listeners if x != listener]

    def metrics(self) -> BreakerMetrics:
        """A snapshot taken under the lock (the time window is expired to ``now`` first)."""
        with self._lock:
            events = self._maybe_half_open()
            w = self._window
            if self._timed:
                w.expire(self._clock.now())
            snapshot = BreakerMetrics(
                state=self._state,
                window_calls=w.calls,
                window_failures=w.failures,
                window_slow=w.slow,
                failure_rate=w.failures / w.calls if w.calls else 0.0,
                slow_call_rate=w.slow / w.calls if w.calls else 0.0,
                successful=self._successful,
                failed=self._failed,
                slow=self._slow,
                ignored=self._ignored,
                not_permitted=self._not_permitted,
                late=self._late,
                transitions=self._gen,
            )
        self._dispatch(events)
        return snapshot

    def reset(self) -> None:
        """Back to closed with an empty window (an operator's manual override)."""
        with self._lock:
            events = [self._transition(CLOSED, self._clock.now(), "reset")] if self._state != CLOSED else []
            self._window.clear()
        self._dispatch(events)

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker(name={self.name!r}, state={self._state!r}, "
            f"failure_rate_threshold={self.failure_rate_threshold}, window={self.window!r}, "
            f"minimum_calls={self.minimum_calls}, wait_in_open={self.wait_in_open}, "
            f"half_open_calls={self.half_open_calls})"
        )

    # -- admission and recording (the lock is held only inside these) --------------------------

    def _admit(self) -> int:
        """Admission when not closed: fail fast, or take a half-open trial permit."""
        with self._lock:
            events = self._maybe_half_open()
            if self._state is OPEN or (
                self._state is HALF_OPEN and self._trials_admitted >= self.half_open_calls
            ):
                self._not_permitted += 1
                raise CircuitOpen(f"circuit {self.name!r} is {self._state}: call not permitted")
            if self._state is HALF_OPEN:
                self._trials_admitted += 1
            gen = self._gen
        self._dispatch(events)
        return gen

    def _record_error(self, gen: int, start: float, exc: BaseException) -> None:
        ignored = not isinstance(exc, Exception) or (self._is_ignored is not None and self._is_ignored(exc))
        if ignored:
            self._forget(gen)
        else:
            self._record(gen, start, bool(self._is_failure(exc)))

    def _forget(self, gen: int) -> None:
        """An outcome that is not recorded: count it, and give a half-open permit back."""
        with self._lock:
            self._ignored += 1
            if gen == self._gen and self._state is HALF_OPEN:
                self._trials_admitted -= 1

    def _record(self, gen: int, start: float, failed: bool) -> None:
        with self._lock:
            if self._timed:
                now = self._clock.now()
                slow = self.slow_call_threshold is not None and now - start >= self.slow_call_threshold
                self._slow += slow
            else:
                now, slow = 0.0, False
            if failed:
                self._failed += 1
            else:
                self._successful += 1
            if gen != self._gen:
                self._late += 1
                return
            if self._state is CLOSED:
                w = self._window
                w.record(failed, slow, now)
                calls = w.calls
                if calls < self.minimum_calls or (  # the common case, judged without a call
                    w.failures / calls < self.failure_rate_threshold
                    and (self.slow_call_threshold is None or w.slow / calls < self.slow_call_rate_threshold)
                ):
                    return
                events = [self._open_on_window(now)]
            elif self._state is HALF_OPEN:
                self._trials_done += 1
                self._trial_failures += failed
                self._trial_slow += slow
                if self._trials_done < self.half_open_calls:
                    return
                now = now if self._timed else self._clock.now()
                reason = self._verdict(self._trial_failures, self._trial_slow, self._trials_done)
                if reason is None:
                    self._window.clear()
                    events = [self._transition(CLOSED, now, f"trial calls passed: {self._trial_summary()}")]
                else:
                    events = [self._open(now, f"trial calls failed: {reason}")]
            else:  # unreachable: an open breaker admits no call of its own generation
                return
        self._dispatch(events)

    def _verdict(self, failures: int, slow: int, calls: int) -> str | None:
        """Why the breaker should open (a rate at or over its threshold), or None."""
        if failures / calls >= self.failure_rate_threshold:
            return f"failure rate {failures}/{calls} >= {self.failure_rate_threshold}"
        if self.slow_call_threshold is not None and slow / calls >= self.slow_call_rate_threshold:
            return f"slow-call rate {slow}/{calls} >= {self.slow_call_rate_threshold}"
        return None

    def _trial_summary(self) -> str:
        return f"{self._trial_failures} failed, {self._trial_slow} slow of {self._trials_done}"

    # -- transitions (caller holds the lock) ----------------------------------------------------

    def _open(self, now: float, reason: str) -> StateChange:
        now = self._clock.now() if not self._timed else now
        self._opened_at = now
        return self._transition(OPEN, now, reason)

    def _open_on_window(self, now: float) -> StateChange:
        w = self._window
        return self._open(now, f"{self._verdict(w.failures, w.slow, w.calls)} over the last {w.calls} calls")

    def _maybe_half_open(self) -> list[StateChange]:
        if self._state is OPEN:
            due = self._opened_at + self.wait_in_open
            if self._clock.now() >= due:
                return [self._transition(HALF_OPEN, due, f"waited {self.wait_in_open}s in open")]
        return []

    def _transition(self, new: BreakerState, at: float, reason: str) -> StateChange:
        old, self._state = self._state, new
        self._gen += 1
        self._trials_admitted = self._trials_done = self._trial_failures = self._trial_slow = 0
        return StateChange(self.name, self._gen, old, new, at, reason)

    def _dispatch(self, events: list[StateChange]) -> None:
        if not events:
            return
        listeners = self._listeners
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:  # a broken listener must not break the protected call
                    _log.exception("circuit breaker %r: listener %r failed", self.name, listener)
