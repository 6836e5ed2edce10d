"""Concurrency: the breaker never serialises callers and caps half-open trials; bulkheads cap
concurrency. Threads are lined up with barriers and events; the few real waits are milliseconds."""

from __future__ import annotations

import random
import threading
import time

import pytest

from patterns.clock import ManualClock
from patterns.errors import BulkheadFull, CircuitOpen
from patterns.resilience import Bulkhead, CircuitBreaker, ThreadPoolBulkhead, WindowSpec
from tests.helpers import LONG, run_threads


def test_breaker_does_not_hold_its_lock_while_the_call_runs() -> None:
    breaker = CircuitBreaker(clock=ManualClock())
    both_inside = threading.Barrier(2, timeout=LONG)

    def slow_call(i: int) -> None:
        # each call waits until the other one is inside too: only possible if they overlap
        breaker.call(both_inside.wait)

    assert run_threads(2, slow_call) == []
    assert breaker.metrics().successful == 2


@pytest.mark.parametrize("half_open_calls", [1, 3, 5])
def test_half_open_admits_at_most_half_open_calls_under_16_threads(half_open_calls: int) -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(
        0.5, WindowSpec.count(2), 2, wait_in_open=10.0, half_open_calls=half_open_calls, clock=clock
    )
    for _ in range(2):
        with pytest.raises(ZeroDivisionError):
            breaker.call(lambda: 1 / 0)
    clock.advance(10.0)
    start = threading.Barrier(16, timeout=LONG)
    release = threading.Event()
    lock = threading.Lock()
    inside, refused = [0], [0]

    def trial() -> str:
        with lock:
            inside[0] += 1
        release.wait(LONG)  # hold the permit until every thread has tried
        return "ok"

    def caller(i: int) -> None:
        start.wait()
        try:
            breaker.call(trial)
        except CircuitOpen:
            with lock:
                refused[0] += 1
                if refused[0] == 16 - half_open_calls:
                    release.set()

    assert run_threads(16, caller) == []
    assert (inside[0], refused[0]) == (half_open_calls, 16 - half_open_calls)
    assert breaker.state == "closed"


def test_breaker_bookkeeping_stays_exact_under_8_threads() -> None:
    breaker = CircuitBreaker(
        0.99, WindowSpec.count(50), 50, wait_in_open=0.0, half_open_calls=4, clock=ManualClock()
    )
    made = [0] * 8
    refused = [0] * 8
    changes: list[str] = []
    breaker.add_listener(lambda change: changes.append(change.new))

    def hammer(i: int) -> None:
        rng = random.Random(i)
        for _ in range(400):
            failed = rng.random() < 0.6

            def dep(failed: bool) -> None:
                if failed:
                    raise ConnectionError

            try:
                breaker.call(dep, failed)
            except ConnectionError:
                pass
            except CircuitOpen:
                refused[i] += 1
                continue
            made[i] += 1

    assert run_threads(8, hammer) == []
    m = breaker.metrics()
    assert m.successful + m.failed == sum(made)
    assert m.not_permitted == sum(refused)
    assert 0 <= m.window_calls <= 50 and m.window_failures <= m.window_calls
    assert m.transitions == len(changes)


def test_bulkhead_never_exceeds_max_concurrent_under_32_threads() -> None:
    bulkhead = Bulkhead(max_concurrent=4, max_wait=LONG)
    lock = threading.Lock()
    current, peak = [0], [0]
    start = threading.Barrier(32, timeout=LONG)

    full = threading.Event()

    def work() -> None:
        with lock:
            current[0] += 1
            peak[0] = max(peak[0], current[0])
            if current[0] >= 4:
                full.set()
        full.wait(LONG)  # the first entrants hold their slots until all 4 are taken
        time.sleep(0.002)  # then each holds its slot briefly so that others pile up behind it
        with lock:
            current[0] -= 1

    def caller(i: int) -> None:
        start.wait()
        bulkhead.call(work)

    assert run_threads(32, caller) == []
    assert peak[0] == 4  # full use, never more
    assert bulkhead.peak == 4 and bulkhead.in_flight == 0 and bulkhead.rejected == 0


def test_bulkhead_rejects_the_overflow_after_max_wait_under_32_threads() -> None:
    bulkhead = Bulkhead(max_concurrent=5, max_wait=0.02)
    start = threading.Barrier(32, timeout=LONG)
    release = threading.Event()
    lock = threading.Lock()
    admitted, rejected = [0], [0]

    def caller(i: int) -> None:
        start.wait()
        try:
            with bulkhead:
                with lock:
                    admitted[0] += 1
                release.wait(LONG)
        except BulkheadFull:
            with lock:
                rejected[0] += 1
                if rejected[0] == 27:
                    release.set()

    assert run_threads(32, caller) == []
    assert (admitted[0], rejected[0], bulkhead.rejected) == (5, 27, 27)


def test_pool_bulkhead_accepts_at_most_workers_plus_queue_under_32_threads() -> None:
    release = threading.Event()
    start = threading.Barrier(32, timeout=LONG)
    lock = threading.Lock()
    accepted: list = []
    rejected = [0]
    with ThreadPoolBulkhead(workers=3, queue=5) as pool:

        def caller(i: int) -> None:
            start.wait()
            try:
                future = pool.submit(release.wait, LONG)
            except BulkheadFull:
                with lock:
                    rejected[0] += 1
                return
            with lock:
                accepted.append(future)

        assert run_threads(32, caller) == []
        assert (len(accepted), rejected[0]) == (8, 24)
        release.set()
        assert all(f.result(LONG) for f in accepted)
