"""WorkQueue: competing consumers, ack/nack, backoff on the ManualClock, visibility timeout, DLQ."""

from __future__ import annotations

import random
import sqlite3
import threading

import pytest

from patterns.clock import ManualClock
from patterns.messaging import WorkQueue
from patterns.resilience import Backoff


def retry_times(q: WorkQueue, clock: ManualClock, attempts: int) -> list[float]:
    """Fail the only message ``attempts`` times; the clock times of its deliveries."""
    times = []
    for _ in range(attempts):
        while (m := q.get()) is None:
            clock.set(q.next_available_at())  # type: ignore[arg-type]
        times.append(clock.now())
        q.nack(m, error="boom")
    return times


def test_the_queue_uses_the_resilience_backoff_exponential_and_capped() -> None:
    clock = ManualClock()
    q = WorkQueue(clock, max_attempts=6, backoff=Backoff.exponential(base=1.0, cap=5.0, jitter="none"))
    q.put("poison")
    assert retry_times(q, clock, 6) == [0.0, 1.0, 3.0, 7.0, 12.0, 17.0], "waits 1, 2, 4, 5, 5"
    default = WorkQueue(clock).backoff
    assert (default.base, default.cap, default.multiplier, default.jitter) == (1.0, 60.0, 2.0, "none")


def test_jittered_backoffs_draw_from_the_queue_rng_within_their_bounds() -> None:
    for jitter in ("full", "equal", "decorrelated"):
        backoff = Backoff.exponential(base=1.0, cap=8.0, jitter=jitter)
        runs = []
        for _ in range(2):
            clock = ManualClock()
            q = WorkQueue(clock, max_attempts=5, backoff=backoff, rng=random.Random(4))
            q.put("poison")
            runs.append(retry_times(q, clock, 5))
        assert runs[0] == runs[1], "a seeded rng gives the same pauses"
        waits = [b - a for a, b in zip(runs[0], runs[0][1:], strict=False)]
        previous = backoff.base
        for n, wait in enumerate(waits):
            low, high = backoff.bounds(n, previous)
            assert low <= wait <= high
            previous = wait


def test_one_backoff_for_the_queue_the_retry_policy_and_the_saga_orchestrator() -> None:
    """Issue 16: the orchestrator used to demand the messaging Backoff (TypeError on this one)."""
    from patterns.sagas import FaultInjector, FaultPlan, Orchestrator, Order, SagaLog, Shop, order_saga

    clock = ManualClock()
    shop = Shop(clock=clock, faults=FaultInjector(FaultPlan(reject="shipping", flaky_compensation={"payment": 2})),
                latency=0.0)
    log = SagaLog(sqlite3.connect(":memory:"), clock=clock)
    backoff = Backoff.exponential(base=1.0, cap=30.0, jitter="none")
    orchestrator = Orchestrator(order_saga(shop), log, clock=clock, backoff=backoff)
    assert orchestrator.run("o1", Order("o1").data()).state == "CANCELLED"
    assert clock.now() == pytest.approx(1.0 + 2.0), "two compensation retries, 1 s then 2 s"


def test_each_message_goes_to_one_worker_and_ack_removes_it() -> None:
    q = WorkQueue(ManualClock())
    ids = [q.put({"job": i}) for i in range(3)]
    got = [q.get("w1"), q.get("w2"), q.get("w1")]
    assert [m.id for m in got if m] == ids and q.get("w3") is None
    assert all(q.ack(m) for m in got if m)
    assert len(q) == 0 and q.stats()["acked"] == 3


def test_nack_retries_after_backoff_then_dead_letters() -> None:
    clock = ManualClock()
    q = WorkQueue(clock, max_attempts=3, backoff=Backoff.exponential(base=2.0, cap=100.0, jitter="none", multiplier=3.0))
    q.put("poison")
    retry_times = []
    for attempt in (1, 2, 3):
        while (m := q.get()) is None:
            clock.advance(0.5)
        assert m.attempt == attempt
        retry_times.append(clock.now())
        q.nack(m, error=f"boom {attempt}")
    assert retry_times == [0.0, 2.0, 8.0], "waits of 2 s then 6 s (2 * 3**1)"
    (dead,) = q.dead_letters
    assert dead.error == "boom 3" and dead.message.attempt == 3 and dead.message.payload == "poison"
    clock.advance(1000)
    assert q.get() is None and q.stats()["dead"] == 1
    assert q.redrive() == 1 and q.get().attempt == 1  # type: ignore[union-attr]


def test_a_vanished_worker_loses_its_message_after_the_visibility_timeout() -> None:
    clock = ManualClock()
    q = WorkQueue(clock, visibility_timeout=10.0, backoff=Backoff.exponential(base=1.0, jitter="none"))
    q.put("job")
    slow = q.get("slow")
    assert slow is not None and q.get("fast") is None
    clock.advance(10.0)  # slow never acks: presumed dead
    clock.advance(1.0)  # plus the backoff after that failed attempt
    fast = q.get("fast")
    assert fast is not None and fast.attempt == 2 and q.stats()["expired"] == 1
    assert q.ack(slow) is False, "a late ack of a stale delivery is refused"
    assert q.nack(slow) is False
    assert q.ack(fast) is True and len(q) == 0


def test_delayed_put_and_next_available_at() -> None:
    clock = ManualClock()
    q = WorkQueue(clock)
    q.put("later", delay=5.0)
    assert q.get() is None and q.next_available_at() == 5.0
    assert q.stats()["delayed"] == 1
    clock.advance(5.0)
    assert q.get().payload == "later"  # type: ignore[union-attr]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts must be"):
        WorkQueue(max_attempts=0)
    with pytest.raises(ValueError, match="visibility_timeout must be"):
        WorkQueue(visibility_timeout=0)
    with pytest.raises(ValueError, match="delay must be"):
        WorkQueue().put("x", delay=-1)


def test_competing_worker_threads_process_every_job_exactly_once() -> None:
    q = WorkQueue(ManualClock(), visibility_timeout=1e9)
    for i in range(2000):
        q.put(i)
    done: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while (m := q.get(name)) is not None:
            assert q.ack(m)
            with lock:
                done.append(m.payload)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(done) == list(range(2000))
