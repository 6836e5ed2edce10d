"""WorkQueue: competing consumers, ack/nack, backoff on the ManualClock, visibility timeout, DLQ."""

from __future__ import annotations

import threading

import pytest

from patterns.clock import ManualClock
from patterns.messaging import Backoff, WorkQueue


def test_backoff_grows_exponentially_and_is_capped() -> None:
    b = Backoff(initial=1.0, factor=2.0, maximum=5.0)
    assert [b.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    with pytest.raises(ValueError, match="factor must be"):
        Backoff(factor=0.5)
    with pytest.raises(ValueError, match="maximum must be"):
        Backoff(initial=10, maximum=1)
    with pytest.raises(ValueError, match="failures must be"):
        b.delay(0)


def test_each_message_goes_to_one_worker_and_ack_removes_it() -> None:
    q = WorkQueue(ManualClock())
    ids = [q.put({"job": i}) for i in range(3)]
    got = [q.get("w1"), q.get("w2"), q.get("w1")]
    assert [m.id for m in got if m] == ids and q.get("w3") is None
    assert all(q.ack(m) for m in got if m)
    assert len(q) == 0 and q.stats()["acked"] == 3


def test_nack_retries_after_backoff_then_dead_letters() -> None:
    clock = ManualClock()
    q = WorkQueue(clock, max_attempts=3, backoff=Backoff(initial=2.0, factor=3.0, maximum=100.0))
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
    q = WorkQueue(clock, visibility_timeout=10.0, backoff=Backoff(initial=1.0))
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
