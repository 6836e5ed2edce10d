"""Timeouts and bulkheads where threads cannot start (the browser), forced on CPython.

``PATTERNS_BROWSER_MODE=1`` makes ``patterns.compat.threads_available()`` answer False, and
``threading.Thread.start`` is made to fail as it does in Pyodide, so a path that still starts a
thread fails these tests instead of passing by accident.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from patterns.clock import ManualClock
from patterns.compat import BROWSER_MODE_ENV
from patterns.errors import BulkheadFull, CallTimeout
from patterns.resilience import Bulkhead, ThreadPoolBulkhead, Timeout


@pytest.fixture
def no_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BROWSER_MODE_ENV, "1")

    def start(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", start)


def test_timeout_without_threads_judges_the_call_after_it_returns(no_threads: None) -> None:
    clock = ManualClock()
    charged: list[float] = []

    def slow_charge(amount: float) -> str:
        clock.sleep(2.0)  # the remote side takes 2 s...
        charged.append(amount)  # ...and does the work
        return "receipt"

    timeout = Timeout(0.05)
    assert not timeout.threaded
    assert timeout.call(lambda: "fast") == "fast"
    on_clock = Timeout(0.05, clock=clock)
    with pytest.raises(CallTimeout, match=r"did not finish within 0.05s \(it ran to its end: the work was done\)"):
        on_clock.call(slow_charge, 25.0)
    assert charged == [25.0] and on_clock.timed_out == 1 and on_clock.running == 0


def test_timeout_without_threads_passes_errors_and_values_through(no_threads: None) -> None:
    clock = ManualClock()
    timeout = Timeout(1.0, clock=clock)
    assert timeout.call(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(KeyError):
        timeout.call(lambda: {}["missing"])
    assert timeout.timed_out == 0 and timeout.running == 0


def test_an_injected_clock_runs_the_call_in_the_callers_thread_even_with_threads() -> None:
    clock = ManualClock()
    timeout = Timeout(1.0, clock=clock)
    assert not timeout.threaded and Timeout(1.0).threaded
    seen: list[str] = []
    timeout.call(lambda: seen.append(threading.current_thread().name))
    assert seen == [threading.current_thread().name]
    with pytest.raises(CallTimeout):
        timeout.call(clock.sleep, 1.5)
    timeout.call(clock.sleep, 1.0)  # exactly the budget is in time


def test_bulkhead_without_threads_rejects_at_once_instead_of_waiting(no_threads: None) -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_wait=30.0)

    def never(timeout: float | None = None) -> bool:
        raise AssertionError("waited for a slot that no other thread could free")

    bulkhead._slot_freed.wait = never  # type: ignore[method-assign]
    with bulkhead, pytest.raises(BulkheadFull, match="all 1 slots busy"):
        bulkhead.call(lambda: "second")
    assert (bulkhead.in_flight, bulkhead.rejected, bulkhead.call(lambda: "free again")) == (0, 1, "free again")


def test_pool_bulkhead_without_threads_runs_admitted_calls_inline(no_threads: None) -> None:
    inner: list[object] = []
    with ThreadPoolBulkhead(workers=1, queue=0) as pool:

        def outer() -> str:
            assert (pool.running, pool.queued) == (1, 0)
            try:  # the only slot is taken by this very call
                pool.submit(lambda: "nested")
            except BulkheadFull as error:
                inner.append(error)
            return "done"

        future = pool.submit(outer)
        assert isinstance(future, Future) and future.done() and future.result() == "done"
        assert len(inner) == 1 and pool.rejected == 1
        failing = pool.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failing.result()
        assert pool.call(lambda x: x * 2, 21) == 42
        assert (pool.running, pool.queued) == (0, 0)
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(lambda: None)
