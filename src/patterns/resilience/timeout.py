"""Timeouts: stop *waiting* for a call after a budget of seconds.

A timeout answers "how long will I wait?", not "did it happen?": when it fires, the remote side may
have done the work, may still be doing it, or may never have started. Two variants:

* ``Timeout(seconds)`` for synchronous code runs the call in a worker thread and waits for it at
  most ``seconds``. Python cannot kill a thread, so **the work is not cancelled**: after the caller
  got ``CallTimeout`` the worker keeps running to its end and its result is discarded. Calls that
  never end therefore pile up as abandoned threads; ``running`` shows how many are in flight.
  Pass real deadlines to the client library too (socket timeouts) so the work itself stops.
* ``AsyncTimeout(seconds)`` for coroutines *does* cancel: the awaited task receives
  ``CancelledError`` at its next ``await`` and ``CallTimeout`` is raised to the caller.

``Timeout`` judges in the caller's thread instead, with no worker, in two cases: when it is given a
``clock`` (simulated time, as in the labs: no thread can wait for a ``ManualClock``), and where
threads cannot start (the browser, ``patterns.compat.threads_available()``). It then runs the call
to its end and measures it on the clock; a call that took longer than the budget raises
``CallTimeout`` *after* it finished, its result discarded. The caller's answer is the same ("it did
not finish within the budget, and the work may have happened"); what is lost is the early return.
``AsyncTimeout`` waits on the event loop's clock.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from patterns._validate import require_callable, require_instance, require_seconds
from patterns.clock import Clock, SystemClock
from patterns.compat import threads_available
from patterns.errors import CallTimeout
from patterns.resilience._calls import callable_name as _name
from patterns.resilience._calls import require_sync

__all__ = ["Timeout", "AsyncTimeout"]

P = ParamSpec("P")
T = TypeVar("T")


class _Outcome:
    """Where the worker thread leaves its result or error for the waiting caller."""

    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class Timeout:
    """Wait at most ``seconds`` for a synchronous call; raise ``CallTimeout`` after that.

    By default the call runs in a new daemon thread (with the caller's context variables), which
    finishes on its own even after the caller has stopped waiting: the work is NOT cancelled.
    Starting a thread costs tens of microseconds, fine around a network call, wasteful around a
    cheap one. With a ``clock``, or without threads, the call runs in the caller's thread and is
    judged on the clock when it returns (see the module docstring).
    """

    def __init__(self, seconds: float, clock: Clock | None = None) -> None:
        self.seconds = require_seconds(seconds, "seconds")
        self._clock: Clock | None = (
            None if clock is None else require_instance(clock, "clock", Clock, what="a Clock")
        )
        self._lock = threading.Lock()
        self._running = 0
        self.timed_out = 0  # calls whose caller gave up waiting

    @property
    def threaded(self) -> bool:
        """Whether calls run in a worker thread (real time, threads available) or in the caller's."""
        return self._clock is None and threads_available()

    @property
    def running(self) -> int:
        """Calls still running, abandoned worker threads included."""
        with self._lock:
            return self._running

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)``, or ``CallTimeout`` if it has not finished within the budget."""
        require_callable(fn, "fn")
        if self.threaded:
            return self._call_in_thread(fn, *args, **kwargs)
        return self._call_and_measure(fn, *args, **kwargs)

    def _call_in_thread(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        outcome = _Outcome()
        context = contextvars.copy_context()

        def work() -> None:
            try:
                outcome.value = context.run(fn, *args, **kwargs)
            except BaseException as exc:  # handed over to the caller, who re-raises it
                outcome.error = exc
            finally:
                with self._lock:
                    self._running -= 1
                outcome.done.set()

        with self._lock:
            self._running += 1
        worker = threading.Thread(target=work, name=f"timeout-{_name(fn)}", daemon=True)
        try:
            worker.start()
        except BaseException:
            with self._lock:
                self._running -= 1
            raise
        if not outcome.done.wait(self.seconds):
            self._give_up(fn, "it may still be running")
        if outcome.error is not None:
            raise outcome.error
        return outcome.value  # type: ignore[no-any-return]

    def _call_and_measure(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        clock = SystemClock() if self._clock is None else self._clock
        with self._lock:
            self._running += 1
        started = clock.now()
        try:
            result = fn(*args, **kwargs)
        finally:
            with self._lock:
                self._running -= 1
        if clock.now() - started > self.seconds:
            self._give_up(fn, "it ran to its end: the work was done")
        return result

    def _give_up(self, fn: Callable[..., object], what_happened: str) -> None:
        with self._lock:
            self.timed_out += 1
        raise CallTimeout(f"{_name(fn)} did not finish within {self.seconds}s ({what_happened})")

    def __call__(self, fn: Callable[P, T]) -> Callable[P, T]:
        """Decorator form; use ``AsyncTimeout`` for ``async def`` functions."""
        require_sync(fn, "Timeout", "; use AsyncTimeout for coroutines")

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return self.call(fn, *args, **kwargs)

        return wrapper

    def __repr__(self) -> str:
        clock = "" if self._clock is None else f", clock={self._clock!r}"
        return f"Timeout(seconds={self.seconds}{clock})"


class AsyncTimeout:
    """Await a coroutine for at most ``seconds``; on expiry cancel it and raise ``CallTimeout``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = require_seconds(seconds, "seconds")

    async def call(self, fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        require_callable(fn, "fn")
        budget = asyncio.timeout(self.seconds)
        try:
            async with budget:
                return await fn(*args, **kwargs)
        except TimeoutError as exc:
            if not budget.expired():  # the coroutine's own TimeoutError, not our budget
                raise
            raise CallTimeout(f"{_name(fn)} did not finish within {self.seconds}s and was cancelled") from exc

    def __call__(self, fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        """Decorator form for ``async def`` functions."""
        if not inspect.iscoroutinefunction(fn):
            raise TypeError("AsyncTimeout wraps coroutine functions; use Timeout for synchronous code")

        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return await self.call(fn, *args, **kwargs)

        return wrapper

    def __repr__(self) -> str:
        return f"AsyncTimeout(seconds={self.seconds})"
