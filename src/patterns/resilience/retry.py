"""Retry with backoff and jitter: try again, later, and not all at the same moment.

``Backoff`` computes the pause after the ``n``-th failed attempt (``n = 0`` after the first):

* ``Backoff.fixed(delay)``: ``ceiling(n) = delay``, every time.
* ``Backoff.exponential(base, cap)``: ``ceiling(n) = min(cap, base * multiplier**n)``.

and spreads it with a jitter (Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture
Blog, 2015):

* ``"none"``: ``ceiling(n)``; every client waits the same, so retries arrive in waves.
* ``"full"``: uniform over ``[0, ceiling(n)]``; the least total work under contention.
* ``"equal"``: ``ceiling(n) / 2`` plus uniform over ``[0, ceiling(n) / 2]``; never less than half.
* ``"decorrelated"``: ``min(cap, uniform over [base, 3 * previous pause])``, the previous pause
  starting at ``base``; each pause grows from the last one drawn rather than from ``n``.

Full jitter draws over the capped ceiling, so once ``base * multiplier**n`` passes the cap the
pauses stay spread over ``[0, cap]``; capping *after* drawing would pile them onto the cap.

``Retry`` makes at most ``max_attempts`` calls in total (the first one included), sleeps through
the injected clock, retries only errors accepted by ``retry_on``, and never starts an attempt
after its total ``deadline``. When it gives up it raises ``RetryExhausted`` from the last error;
an error that ``retry_on`` rejects propagates at once, unchanged.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

from patterns._validate import (
    require_instance,
    require_int,
    require_number,
    require_one_of,
    require_optional_seconds,
    require_seconds,
)
from patterns.clock import Clock, SystemClock
from patterns.errors import RetryExhausted
from patterns.resilience._calls import ExceptionFilter, as_exception_filter, not_callable, require_sync
from patterns.resilience._calls import callable_name as _name

__all__ = ["Backoff", "Retry", "RetryEvent", "JITTERS"]

P = ParamSpec("P")
T = TypeVar("T")
Jitter = Literal["none", "full", "equal", "decorrelated"]
JITTERS: tuple[Jitter, ...] = ("none", "full", "equal", "decorrelated")
#: Largest growth factor between two pauses (a larger one reaches any cap after one retry).
MAX_MULTIPLIER = 1_000.0


@dataclass(frozen=True)
class Backoff:
    """A pause schedule. Build with ``Backoff.fixed`` or ``Backoff.exponential``."""

    base: float
    cap: float
    multiplier: float
    jitter: Jitter

    def __post_init__(self) -> None:
        base = require_seconds(self.base, "base", positive=False)
        if require_seconds(self.cap, "cap", positive=False) < base:
            raise ValueError(f"cap must be >= base ({self.base}), got {self.cap}")
        require_number(self.multiplier, "multiplier", minimum=1.0, maximum=MAX_MULTIPLIER)
        require_one_of(self.jitter, "jitter", JITTERS)

    @classmethod
    def fixed(cls, delay: float, jitter: Jitter = "none") -> Backoff:
        """The same ceiling ``delay`` before every retry (jitter: none, full or equal)."""
        delay = require_seconds(delay, "delay", positive=False)
        fixed: tuple[Jitter, ...] = ("none", "full", "equal")
        return cls(delay, delay, 1.0, require_one_of(jitter, "jitter (of a fixed backoff)", fixed))

    @classmethod
    def exponential(
        cls, base: float = 0.1, cap: float = 5.0, jitter: Jitter = "full", multiplier: float = 2.0
    ) -> Backoff:
        """Ceiling ``min(cap, base * multiplier**n)`` with the given jitter (``base`` > 0)."""
        return cls(require_seconds(base, "base"), cap, multiplier, jitter)

    def ceiling(self, n: int) -> float:
        """The un-jittered pause after the ``n``-th failure (from 0): ``min(cap, base * multiplier**n)``."""
        require_int(n, "n")
        try:
            return min(self.cap, self.base * self.multiplier**n)
        except OverflowError:  # multiplier**n beyond the float range: far past the cap
            return self.cap

    def bounds(self, n: int, previous: float) -> tuple[float, float]:
        """The interval the ``n``-th pause is drawn from (``previous``: the last pause)."""
        if self.jitter == "decorrelated":
            return min(self.cap, self.base), min(self.cap, max(self.base, 3 * previous))
        top = self.ceiling(n)
        if self.jitter == "none":
            return top, top
        if self.jitter == "full":
            return 0.0, top
        return top / 2, top

    def delay(self, n: int, previous: float, rng: random.Random) -> float:
        """Draw the ``n``-th pause; ``previous`` is the last pause (``base`` before the first)."""
        require_seconds(previous, "previous", positive=False)
        require_instance(rng, "rng", random.Random, what="a random.Random")
        lo, hi = self.bounds(n, previous)
        return lo if lo == hi else rng.uniform(lo, hi)

    def delays(self, attempts: int, rng: random.Random) -> list[float]:
        """The pauses between ``attempts`` consecutive failing calls (``attempts - 1`` of them)."""
        require_int(attempts, "attempts", minimum=1, maximum=100_000)
        require_instance(rng, "rng", random.Random, what="a random.Random")
        out: list[float] = []
        previous = self.base
        for n in range(attempts - 1):
            previous = self.delay(n, previous, rng)
            out.append(previous)
        return out


@dataclass(frozen=True)
class RetryEvent:
    """Passed to ``on_retry`` before each pause: which attempt failed, with what, and the pause."""

    attempt: int
    error: BaseException
    delay: float


class Retry:
    """Call again after a failure, at most ``max_attempts`` calls in all (see the module docstring).

    ``rng`` draws the jitter: give each client its own (the default is a fresh, OS-seeded
    ``random.Random``), because clients sharing one seed jitter in lockstep. ``deadline`` is the
    total budget in seconds from the first call: a pause that would end after it is not taken.
    """

    def __init__(
        self,
        max_attempts: int = 3,
        backoff: Backoff | None = None,
        retry_on: ExceptionFilter = Exception,
        deadline: float | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        self.max_attempts = require_int(max_attempts, "max_attempts", minimum=1)
        backoff = Backoff.exponential() if backoff is None else backoff
        self.backoff: Backoff = require_instance(
            backoff, "backoff", Backoff, what="a Backoff (Backoff.fixed/exponential)"
        )
        self._should_retry = as_exception_filter(retry_on, "retry_on")
        self.deadline = require_optional_seconds(deadline, "deadline", positive=False)
        self._clock: Clock = (
            SystemClock() if clock is None else require_instance(clock, "clock", Clock, what="a Clock")
        )
        self._rng: random.Random = random.Random() if rng is None else require_instance(rng, "rng", random.Random, what="a random.Random")
        if on_retry is not None and not callable(on_retry):
            raise TypeError(f"on_retry must be callable, got {type(on_retry).__name__}")
        self._on_retry = on_retry

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` until it succeeds, ``retry_on`` rejects its error, or the budget is spent."""
        started = self._clock.now() if self.deadline is not None else 0.0
        try:
            return fn(*args, **kwargs)  # the success path costs one try block
        except Exception as exc:
            bug = not_callable(fn, "Retry")
            if bug is not None:  # the caller's bug: nothing to retry
                raise bug from exc
            return self._retry(fn, args, kwargs, exc, started)

    def _retry(
        self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], exc: Exception, started: float
    ) -> T:
        clock, backoff, deadline = self._clock, self.backoff, self.deadline
        previous = backoff.base
        attempt = 1  # attempts made so far
        while True:
            if not self._should_retry(exc):
                raise exc
            if attempt >= self.max_attempts:
                raise RetryExhausted(f"all {attempt} attempt(s) of {_name(fn)} failed") from exc
            pause = previous = backoff.delay(attempt - 1, previous, self._rng)
            if deadline is not None and clock.now() + pause - started > deadline:
                raise RetryExhausted(
                    f"{attempt} attempt(s) of {_name(fn)} failed; the next would start after the "
                    f"{self.deadline}s deadline"
                ) from exc
            if self._on_retry is not None:
                self._on_retry(RetryEvent(attempt, exc, pause))
            if pause > 0:
                clock.sleep(pause)
            attempt += 1
            try:
                return fn(*args, **kwargs)
            except Exception as err:
                exc = err

    def __call__(self, fn: Callable[P, T]) -> Callable[P, T]:
        """Decorator form: ``@retry`` (sync functions only: the pauses block)."""
        require_sync(fn, "Retry", " (its pauses block the calling thread)")

        call = self.call

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return call(fn, *args, **kwargs)

        return wrapper

    def __repr__(self) -> str:
        return f"Retry(max_attempts={self.max_attempts}, backoff={self.backoff!r}, deadline={self.deadline})"
