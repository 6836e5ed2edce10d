"""Bulkheads: cap how much of the process one dependency may occupy.

A ship's bulkheads keep one flooded compartment from sinking the ship. Here a slow dependency may
hold at most ``max_concurrent`` threads; the rest of the server keeps its threads for other work.

* ``Bulkhead(max_concurrent, max_wait)``: a counting semaphore in the caller's thread. A caller
  waits at most ``max_wait`` seconds (real time) for a slot, then gets ``BulkheadFull``. Guarantee:
  never more than ``max_concurrent`` calls inside at once. Not guaranteed: first-come-first-served
  order among waiters (a newcomer may take a slot freed just before a waiter wakes).
* ``ThreadPoolBulkhead(workers, queue)``: its own ``workers`` threads and a queue of at most
  ``queue`` waiting calls; a submission beyond that is refused at once with ``BulkheadFull``.
  A plain ``ThreadPoolExecutor`` is *not* a bulkhead: its queue is unbounded, so a slow dependency
  makes it grow without limit and every queued caller waits.

Where threads cannot start (the browser, see ``patterns.compat.threads_available``), both keep
their admission rules single-threaded: ``Bulkhead`` never waits for a slot (no other thread could
free one, so waiting would only waste ``max_wait``) and ``ThreadPoolBulkhead`` runs an admitted call
in the caller's thread and returns a finished ``Future``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import ParamSpec, TypeVar

from patterns._validate import require_callable, require_int, require_seconds, require_text
from patterns.compat import threads_available
from patterns.errors import BulkheadFull
from patterns.resilience._calls import require_sync

__all__ = ["Bulkhead", "ThreadPoolBulkhead"]

P = ParamSpec("P")
T = TypeVar("T")
#: Most worker threads a ``ThreadPoolBulkhead`` may start: a bulkhead caps a dependency, it does
#: not hand it the machine.
MAX_WORKERS = 10_000


class Bulkhead:
    """At most ``max_concurrent`` calls at once; wait up to ``max_wait`` seconds for a slot.

    Use ``bulkhead.call(fn, *args)``, ``@bulkhead``, or ``with bulkhead:`` around a block.
    ``max_wait=0`` never waits (reject at once when full).
    """

    def __init__(self, max_concurrent: int = 20, max_wait: float = 0.5, name: str = "bulkhead") -> None:
        self.max_concurrent = require_int(max_concurrent, "max_concurrent", minimum=1)
        self.max_wait = require_seconds(max_wait, "max_wait", positive=False)
        self.name = require_text(name, "name", max_length=200)
        self._can_wait = threads_available()  # single-threaded, nobody else could free a slot
        self._lock = threading.Lock()
        self._slot_freed = threading.Condition(self._lock)  # used only when a caller must wait
        self._waiting = 0
        self._in_flight = 0
        self.peak = 0  # the most calls ever inside at once
        self.rejected = 0

    @property
    def in_flight(self) -> int:
        """Calls inside the bulkhead now."""
        return self._in_flight

    @property
    def available(self) -> int:
        """Free slots now."""
        return self.max_concurrent - self._in_flight

    def acquire(self) -> None:
        """Take a slot, waiting at most ``max_wait`` seconds; ``BulkheadFull`` if none came free."""
        lock = self._lock  # explicit acquire/release: cheaper than ``with`` on CPython 3.11
        lock.acquire()
        try:
            if self._in_flight >= self.max_concurrent:
                self._wait_for_slot()
            self._in_flight += 1
            if self._in_flight > self.peak:
                self.peak = self._in_flight
        finally:
            lock.release()

    def _wait_for_slot(self) -> None:
        # caller holds the lock; Condition.wait releases it while waiting
        deadline = time.monotonic() + (self.max_wait if self._can_wait else 0.0)
        self._waiting += 1
        try:
            while self._in_flight >= self.max_concurrent:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.rejected += 1
                    raise BulkheadFull(
                        f"bulkhead {self.name!r}: all {self.max_concurrent} slots busy for {self.max_wait}s"
                    )
                self._slot_freed.wait(remaining)
        finally:
            self._waiting -= 1

    def release(self) -> None:
        """Give a slot back (exactly once per successful ``acquire``)."""
        lock = self._lock
        lock.acquire()
        try:
            if self._in_flight == 0:
                raise RuntimeError(f"bulkhead {self.name!r}: release() without a matching acquire()")
            self._in_flight -= 1
            if self._waiting:
                self._slot_freed.notify()
        finally:
            lock.release()

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        require_callable(fn, "fn")
        self.acquire()
        try:
            return fn(*args, **kwargs)
        finally:
            self.release()

    def __call__(self, fn: Callable[P, T]) -> Callable[P, T]:
        require_sync(fn, "Bulkhead")

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return self.call(fn, *args, **kwargs)

        return wrapper

    def __enter__(self) -> Bulkhead:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return (
            f"Bulkhead(name={self.name!r}, max_concurrent={self.max_concurrent}, "
            f"max_wait={self.max_wait}, in_flight={self._in_flight})"
        )


class ThreadPoolBulkhead:
    """``workers`` threads and at most ``queue`` waiting calls; beyond that, ``BulkheadFull`` at once.

    ``submit`` returns a ``Future``; ``call`` (and the decorator) waits for the result in the
    caller's thread. Close it with ``shutdown()`` or a ``with`` block.
    """

    def __init__(self, workers: int = 10, queue: int = 100, name: str = "pool-bulkhead") -> None:
        self.workers = require_int(workers, "workers", minimum=1, maximum=MAX_WORKERS)
        self.queue = require_int(queue, "queue")
        self.name = require_text(name, "name", max_length=200)
        self._capacity = self.workers + self.queue
        self._lock = threading.Lock()
        self._outstanding = 0  # running + queued
        self._running = 0
        self.rejected = 0
        # no pool where threads cannot start: admitted calls run in the caller's thread
        self._executor = (
            ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
            if threads_available()
            else None
        )
        self._closed = False

    @property
    def queued(self) -> int:
        """Accepted calls not yet started."""
        with self._lock:
            return self._outstanding - self._running

    @property
    def running(self) -> int:
        with self._lock:
            return self._running

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue ``fn(*args, **kwargs)``; ``BulkheadFull`` if ``workers + queue`` calls are already in."""
        require_callable(fn, "fn")
        with self._lock:
            if self._closed:
                raise RuntimeError(f"bulkhead {self.name!r} is shut down: cannot submit")
            if self._outstanding >= self._capacity:
                self.rejected += 1
                raise BulkheadFull(
                    f"bulkhead {self.name!r}: {self.workers} workers busy and {self.queue} calls queued"
                )
            self._outstanding += 1

        def run() -> T:
            with self._lock:
                self._running += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self._running -= 1
                    self._outstanding -= 1

        if self._executor is None:
            return _run_inline(run)
        try:
            return self._executor.submit(run)
        except BaseException:  # e.g. submit after shutdown: the slot was never used
            with self._lock:
                self._outstanding -= 1
            raise

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Submit and wait for the result (the caller's thread blocks, a pool thread works)."""
        return self.submit(fn, *args, **kwargs).result()

    def __call__(self, fn: Callable[P, T]) -> Callable[P, T]:
        require_sync(fn, "ThreadPoolBulkhead")

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return self.call(fn, *args, **kwargs)

        return wrapper

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=wait)

    def __enter__(self) -> ThreadPoolBulkhead:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"ThreadPoolBulkhead(name={self.name!r}, workers={self.workers}, queue={self.queue})"


def _run_inline(run: Callable[[], T]) -> Future[T]:
    """Run ``run()`` now, in the caller's thread, and hand its outcome over as a finished Future."""
    future: Future[T] = Future()
    future.set_running_or_notify_cancel()
    try:
        future.set_result(run())
    except BaseException as exc:  # the caller sees it through future.result(), as from a pool
        future.set_exception(exc)
    return future
