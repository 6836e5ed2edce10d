"""Bulkhead, ThreadPoolBulkhead and Fallback, one thread at a time (see tests/faults for hammering)."""

from __future__ import annotations

import threading

import pytest

from patterns.errors import BulkheadFull, CallTimeout, CircuitOpen
from patterns.resilience import Bulkhead, Fallback, ThreadPoolBulkhead

LONG = 5.0


def test_slots_are_taken_and_given_back() -> None:
    b = Bulkhead(max_concurrent=2, max_wait=0)
    b.acquire()
    with b:
        assert (b.in_flight, b.available) == (2, 0)
        with pytest.raises(BulkheadFull, match="all 2 slots busy"):
            b.acquire()
    b.release()
    assert (b.in_flight, b.peak, b.rejected) == (0, 2, 1)
    assert b.call(lambda x: x + 1, 1) == 2


def test_rejects_after_max_wait_when_no_slot_frees() -> None:
    b = Bulkhead(max_concurrent=1, max_wait=0.02)
    b.acquire()
    with pytest.raises(BulkheadFull):
        b.acquire()
    assert b.rejected == 1 and b.in_flight == 1


def test_a_waiter_gets_the_slot_released_within_max_wait() -> None:
    b = Bulkhead(max_concurrent=1, max_wait=LONG)
    b.acquire()
    got = threading.Event()

    def waiter() -> None:
        with b:
            got.set()

    t = threading.Thread(target=waiter)
    t.start()
    assert not got.wait(0.01)
    b.release()
    assert got.wait(LONG)
    t.join(LONG)
    assert b.in_flight == 0 and b.rejected == 0


def test_errors_release_the_slot() -> None:
    b = Bulkhead(max_concurrent=1, max_wait=0)

    @b
    def fails() -> None:
        raise ValueError

    for _ in range(3):
        with pytest.raises(ValueError):
            fails()
    assert b.in_flight == 0


def test_release_without_acquire_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="without a matching acquire"):
        Bulkhead().release()


def test_pool_bulkhead_queue_is_bounded() -> None:
    release = threading.Event()
    with ThreadPoolBulkhead(workers=2, queue=3) as pool:
        futures = [pool.submit(release.wait, LONG) for _ in range(5)]  # 2 running + 3 queued
        with pytest.raises(BulkheadFull, match="2 workers busy and 3 calls queued"):
            pool.submit(release.wait, LONG)
        assert pool.rejected == 1
        release.set()
        assert all(f.result(LONG) for f in futures)
        assert pool.call(lambda a, b: a * b, 6, 7) == 42
    assert (pool.running, pool.queued) == (0, 0)


def test_pool_bulkhead_without_queue_and_decorator() -> None:
    release, started = threading.Event(), threading.Event()
    pool = ThreadPoolBulkhead(workers=1, queue=0)

    def hold() -> str:
        started.set()
        release.wait(LONG)
        return "held"

    future = pool.submit(hold)
    assert started.wait(LONG)
    assert (pool.running, pool.queued) == (1, 0)

    @pool
    def other() -> str:
        return "other"

    with pytest.raises(BulkheadFull):
        other()
    release.set()
    assert future.result(LONG) == "held"
    assert other() == "other"
    pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(other)
    assert pool.queued == 0  # a refused submission gives its slot back


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: Bulkhead(max_concurrent=0), ValueError, r"max_concurrent must be an integer in \[1, .*\], got 0"),
        (lambda: Bulkhead(max_concurrent=1.5), TypeError, "max_concurrent"),
        (lambda: Bulkhead(max_wait=-0.1), ValueError, r"max_wait must be a finite number of seconds in \[0, "),
        (lambda: ThreadPoolBulkhead(workers=0), ValueError, r"workers must be an integer in \[1, 10000\]"),
        (lambda: ThreadPoolBulkhead(queue=-1), ValueError, r"queue must be an integer in \[0, "),
        (lambda: Fallback("cached"), TypeError, "fn must be callable"),
        (lambda: Fallback(print, on="errors"), TypeError, "on must be an exception type"),
    ],
)
def test_bad_arguments_name_the_parameter(build, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_fallback_answers_matched_errors_with_the_arguments() -> None:
    fallback = Fallback(
        lambda error, order_id: f"deferred {order_id} ({type(error).__name__})", on=(CircuitOpen, CallTimeout)
    )

    @fallback
    def charge(order_id: int) -> str:
        raise CircuitOpen("payments down")

    assert charge(42) == "deferred 42 (CircuitOpen)"
    assert fallback.used == 1


def test_fallback_lets_unmatched_errors_and_handler_errors_through() -> None:
    def bug() -> None:
        raise TypeError("a bug, not an outage")

    with pytest.raises(TypeError, match="a bug"):
        Fallback.value("cached", on=CircuitOpen).call(bug)

    def broken_handler(error: Exception) -> None:
        raise LookupError("no cache either")

    with pytest.raises(LookupError):
        Fallback(broken_handler).call(bug)


def test_fallback_value_and_success_path() -> None:
    fallback = Fallback.value([])
    assert fallback.call(lambda: [1, 2]) == [1, 2]
    assert fallback.call(lambda: 1 / 0) == []
    assert fallback.used == 1
    assert "Fallback(" in repr(fallback)


@pytest.mark.parametrize(
    "policy", [Bulkhead(), ThreadPoolBulkhead(workers=1, queue=0), Fallback.value(None)], ids=repr
)
def test_sync_policies_refuse_coroutine_functions(policy) -> None:
    async def co() -> None:
        return None

    with pytest.raises(TypeError, match="wraps synchronous functions, got coroutine function"):
        policy(co)
    if isinstance(policy, ThreadPoolBulkhead):
        policy.shutdown()
