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
from typing import Literal, ParamSpec, TypeVar

from patterns.clock import Clock, SystemClock
from patterns.errors import RetryExhausted
from patterns.resilience._checks import (
    ExceptionFilter,
    as_exception_filter,
    check_int,
    check_number,
    require_sync,
)
from patterns.resilience._checks import callable_name as _name

__all__ = ["Backoff", "Retry", "RetryEvent", "JITTERS"]

P = ParamSpec("P")
T = TypeVar("T")
Jitter = Literal["none", "full", "equal", "decorrelated"]
JITTERS: tuple[str, ...] = ("none", "full", "equal", "decorrelated")


@dataclass(frozen=True)
class Backoff:
    """A pause schedule. Build with ``Backoff.fixed`` or ``Backoff.exponential``."""

    base: float
    cap: float
    multiplier: float
    jitter: Jitter

    def __post_init__(self) -> None:
        check_number(self.base, "base")
        check_number(self.cap, "cap")
        if self.cap < self.base:
            raise ValueError(f"cap must be >= base ({self.base}), got {self.cap}")
        if check_number(self.multiplier, "multiplier") < 1:
            raise ValueError(f"multiplier must be a finite number >= 1, got {self.multiplier}")
        if self.jitter not in JITTERS:
            raise ValueError(f"jitter must be one of {', '.join(map(repr, JITTERS))}, got {self.jitter!r}")

    @classmethod
    def fixed(cls, delay: float, jitter: Jitter = "none") -> Backoff:
        """The same ceiling ``delay`` before every retry (jitter: none, full or equal)."""
        delay = check_number(delay, "delay")
        if jitter not in ("none", "full", "equal"):
            raise ValueError(
                f"jitter for a fixed backoff must be one of 'none', 'full', 'equal', got {jitter!r}"
            )
        return cls(delay, delay, 1.0, jitter)

    @classmethod
    def exponential(
        cls, base: float = 0.1, cap: float = 5.0, jitter: Jitter = "full", multiplier: float = 2.0
    ) -> Backoff:
        """Ceiling ``min(cap, base * multiplier**n)`` with the given jitter (``base`` > 0)."""
        return cls(check_number(base, "base", positive=True), cap, multiplier, jitter)

    def ceiling(self, n: int) -> float:
        """The un-jittered pause after the ``n``-th failure (from 0): ``min(cap, base * multiplier**n)``."""
        check_int(n, "n", 0)
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
        lo, hi = self.bounds(n, previous)
        return lo if lo == hi else rng.uniform(lo, hi)

    def delays(self, attempts: int, rng: random.Random) -> list[float]:
        """The pauses between ``attempts`` consecutive failing calls (``attempts - 1`` of them)."""
        check_int(attempts, "attempts", 1)
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
        self.max_attempts = check_int(max_attempts, "max_attempts", 1)
        backoff = Backoff.exponential() if backoff is None else backoff
        if not isinstance(backoff, Backoff):
            raise TypeError(f"backoff must be a Backoff (Backoff.fixed/exponential), got {backoff!r}")
        self.backoff = backoff
        self._should_retry = as_exception_filter(retry_on, "retry_on")
        self.deadline = check_number(deadline, "deadline", allow_none=True)
        self._has_deadline = deadline is not None
        self._clock: Clock = SystemClock() if clock is None else clock
        self._rng = random.Random() if rng is None else rng
        if not isinstance(self._rng, random.Random):
            raise TypeError(f"rng must be a random.Random, got {type(rng).__name__}")
        if on_retry is not None and not callable(on_retry):
            raise TypeError(f"on_retry must be callable, got {type(on_retry).__name__}")
        self._on_retry = on_retry

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` until it succeeds, ``retry_on`` rejects its error, or the budget is spent."""
        started = self._clock.now() if self._has_deadline else 0.0
        try:
            return fn(*args, **kwargs)  # the success path costs one try block
        except Exception as exc:
            return self._retry(fn, args, kwargs, exc, started)

    def _retry(self, fn: Callable[..., T], args: tuple, kwargs: dict, exc: Exception, started: float) -> T:
        clock, backoff = self._clock, self.backoff
        previous = backoff.base
        attempt = 1  # attempts made so far
        while True:
            if not self._should_retry(exc):
                raise exc
            if attempt >= self.max_attempts:
                raise RetryExhausted(f"all {attempt} attempt(s) of {_name(fn)} failed") from exc
            pause = previous = backoff.delay(attempt - 1, previous, self._rng)
            if self._has_deadline and clock.now() + pause - started > self.deadline:
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
