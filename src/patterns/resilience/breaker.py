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
import math
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import CoroutineType
from typing import Any, Literal, ParamSpec, TypeVar

from patterns._validate import (
    require_callable,
    require_instance,
    require_int,
    require_optional_seconds,
    require_probability,
    require_seconds,
    require_text,
)
from patterns.clock import Clock, SystemClock
from patterns.errors import CircuitOpen
from patterns.resilience._calls import ExceptionFilter, as_exception_filter, callable_name, not_callable
from patterns.resilience.windows import WindowSpec

__all__ = ["CircuitBreaker", "StateChange", "BreakerMetrics", "BreakerState", "TRANSITIONS"]

P = ParamSpec("P")
T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]
CLOSED: BreakerState = "closed"
OPEN: BreakerState = "open"
HALF_OPEN: BreakerState = "half_open"
#: Every move a breaker can make, and its cause. ``_transition`` refuses any other move, and the
#: book's state diagram is drawn from this table (``patterns.diagrams``), so neither can drift.
TRANSITIONS: tuple[tuple[BreakerState, BreakerState, str], ...] = (
    (CLOSED, OPEN, "failure (or slow) rate >= threshold\nover >= minimum_calls calls"),
    (OPEN, HALF_OPEN, "wait_in_open has passed"),
    (HALF_OPEN, CLOSED, "the trial calls pass"),
    (HALF_OPEN, OPEN, "the trial calls fail"),
    (OPEN, CLOSED, "reset()"),
    (HALF_OPEN, CLOSED, "reset()"),
)
_MOVES = frozenset((old, new) for old, new, _ in TRANSITIONS)
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
        self.failure_rate_threshold = require_probability(
            failure_rate_threshold, "failure_rate_threshold", allow_zero=False
        )
        self.slow_call_rate_threshold = require_probability(
            slow_call_rate_threshold, "slow_call_rate_threshold", allow_zero=False
        )
        window = WindowSpec.count(10) if window is None else window
        self.window: WindowSpec = require_instance(
            window, "window", WindowSpec, what="a WindowSpec (WindowSpec.count(n) or .time(s))"
        )
        self.minimum_calls = require_int(minimum_calls, "minimum_calls", minimum=1)
        if window.kind == "count" and self.minimum_calls > window.size:
            raise ValueError(
                f"minimum_calls must be <= the window size ({int(window.size)}) of a count window, "
                f"got {minimum_calls}: the window could never hold enough calls to judge"
            )
        self.wait_in_open = require_seconds(wait_in_open, "wait_in_open", positive=False)
        self.half_open_calls = require_int(half_open_calls, "half_open_calls", minimum=1)
        self.slow_call_threshold = require_optional_seconds(
            slow_call_threshold, "slow_call_threshold", positive=False
        )
        self._is_failure = as_exception_filter(failure_on, "failure_on")
        self._is_ignored = None if ignore_on is None else as_exception_filter(ignore_on, "ignore_on")
        self._clock: Clock = (
            SystemClock() if clock is None else require_instance(clock, "clock", Clock, what="a Clock")
        )
        self._now = self._clock.now
        self.name = require_text(name, "name", max_length=200)
        # Time is read only when something needs it: the start of each call to judge it slow, the
        # end of each call to place it in a time window.
        self._slow_after = math.inf if self.slow_call_threshold is None else self.slow_call_threshold
        self._times_calls = self.slow_call_threshold is not None
        self._reads_clock = self._times_calls or window.kind == "time"
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
        # A closed breaker admits without the lock: read the generation, then the state. If a
        # transition slips in between, the generation no longer matches when the outcome is
        # recorded (under the lock), so the call counts as "late" and changes nothing.
        gen = self._gen
        if self._state is not CLOSED or self._times_calls:
            return self._call_general(gen, fn, args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._record_error(gen, 0.0, exc, fn)
            raise
        if result.__class__ is CoroutineType:  # cheaper than isinstance, and exact here
            self._refuse_coroutine(gen, fn, result)  # type: ignore[arg-type]
        # The path of every healthy call, a success while closed, is written out here: it is
        # most of the breaker's cost per call. It does what ``_record(gen, 0.0, False)`` does,
        # minus what a success does not need (an explicit acquire/release also costs less than
        # a ``with`` block on CPython 3.11).
        lock = self._lock
        lock.acquire()
        try:
            if gen == self._gen:  # still the closed state that admitted the call
                self._successful += 1
                now = self._now() if self._reads_clock else 0.0
                window = self._window
                window.record_success(now)
                if not window.failures:
                    return result  # every rate is 0: nothing to judge
                events = self._judge_window(now)
            else:
                events = None
        finally:
            lock.release()
        if events is None:  # a late outcome: the state that admitted the call has ended
            self._record(gen, 0.0, False)
        else:
            self._dispatch(events)
        return result

    def _call_general(
        self, gen: int, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        """``call`` when not closed (admission) or when calls are timed (a slow-call threshold)."""
        if self._state is not CLOSED:
            gen = self._admit()
        start = self._now() if self._times_calls else 0.0
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._record_error(gen, start, exc, fn)
            raise
        if result.__class__ is CoroutineType:
            self._refuse_coroutine(gen, fn, result)  # type: ignore[arg-type]
        self._record(gen, start, False)
        return result

    async def call_async(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``call`` for coroutine functions: the outcome is recorded when the await finishes."""
        gen = self._gen
        if self._state is not CLOSED:
            gen = self._admit()
        start = self._now() if self._times_calls else 0.0
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._record_error(gen, start, exc, fn)
            raise
        self._record(gen, start, False)
        return result

    def __call__(self, fn: Callable[P, T]) -> Callable[P, T]:
        """Decorator form: ``@breaker`` over a plain or an ``async def`` function."""
        require_callable(fn, "fn")
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
        require_callable(listener, "listener")
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

    def _record(self, gen: int, start: float, failed: bool) -> None:
        """Count one outcome in the state that admitted its call, and decide on a transition."""
        with self._lock:
            now = self._now() if self._reads_clock else 0.0
            slow = now - start >= self._slow_after  # never with no slow-call threshold
            if failed:
                self._failed += 1
            else:
                self._successful += 1
            if slow:
                self._slow += 1
            if gen != self._gen:  # the state that admitted the call has ended
                self._late += 1
                return
            if self._state is CLOSED:
                self._window.record(failed, slow, now)
                events = self._judge_window(now)
            else:
                events = self._record_trial(failed, slow, now)
        self._dispatch(events)

    def _judge_window(self, now: float) -> list[StateChange]:
        """Open if the window's rates reach a threshold (closed; the caller holds the lock)."""
        w = self._window
        if w.calls < self.minimum_calls or not (w.failures or w.slow):
            return []  # nothing to judge yet, or no rate above 0
        reason = self._verdict(w.failures, w.slow, w.calls)
        return [] if reason is None else [self._open(now, f"{reason} over the last {w.calls} calls")]

    def _record_trial(self, failed: bool, slow: bool, now: float) -> list[StateChange]:
        """A half-open trial call finished: once all have, their rates decide (caller holds the lock)."""
        self._trials_done += 1
        self._trial_failures += failed
        self._trial_slow += slow
        if self._trials_done < self.half_open_calls:
            return []
        now = now if self._reads_clock else self._now()
        reason = self._verdict(self._trial_failures, self._trial_slow, self._trials_done)
        if reason is None:
            self._window.clear()
            return [self._transition(CLOSED, now, f"trial calls passed: {self._trial_summary()}")]
        return [self._open(now, f"trial calls failed: {reason}")]

    def _record_error(self, gen: int, start: float, exc: BaseException, fn: object) -> None:
        bug = not_callable(fn, "CircuitBreaker")
        if bug is not None:  # the caller's bug, not the dependency's failure
            self._forget(gen)
            raise bug from exc
        if not isinstance(exc, Exception) or (self._is_ignored is not None and self._is_ignored(exc)):
            self._forget(gen)
        else:
            self._record(gen, start, bool(self._is_failure(exc)))

    def _forget(self, gen: int) -> None:
        """An outcome that is not recorded: count it, and give a half-open permit back."""
        with self._lock:
            self._ignored += 1
            if gen == self._gen and self._state is HALF_OPEN:
                self._trials_admitted -= 1

    def _refuse_coroutine(self, gen: int, fn: Callable[..., object], coroutine: CoroutineType[Any, Any, Any]) -> None:
        """An async function called through the sync form would be recorded before it ran."""
        self._forget(gen)
        coroutine.close()
        raise TypeError(f"{callable_name(fn)} is a coroutine function: use call_async or @breaker")

    def _verdict(self, failures: int, slow: int, calls: int) -> str | None:
        """Why the breaker should open (a rate at or over its threshold), or None."""
        if failures / calls >= self.failure_rate_threshold:
            return f"failure rate {failures}/{calls} >= {self.failure_rate_threshold}"
        if slow / calls >= self.slow_call_rate_threshold:
            return f"slow-call rate {slow}/{calls} >= {self.slow_call_rate_threshold}"
        return None

    def _trial_summary(self) -> str:
        return f"{self._trial_failures} failed, {self._trial_slow} slow of {self._trials_done}"

    # -- transitions (caller holds the lock) ----------------------------------------------------

    def _open(self, now: float, reason: str) -> StateChange:
        self._opened_at = now if self._reads_clock else self._now()
        return self._transition(OPEN, self._opened_at, reason)

    def _maybe_half_open(self) -> list[StateChange]:
        if self._state is OPEN:
            due = self._opened_at + self.wait_in_open
            if self._clock.now() >= due:
                return [self._transition(HALF_OPEN, due, f"waited {self.wait_in_open}s in open")]
        return []

    def _transition(self, new: BreakerState, at: float, reason: str) -> StateChange:
        if (self._state, new) not in _MOVES:  # the table is the specification: a new move goes there first
            raise AssertionError(f"breaker {self.name!r}: {self._state} -> {new} is not in TRANSITIONS")
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
