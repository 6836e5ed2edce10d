"""Coordination under stress: threads racing for one lock, and a real etcd's own lease timers."""

from __future__ import annotations

import os
import threading

import pytest

from patterns.coordination import EtcdLeaseService, LeaseExpired, Lock, MemoryLeaseService, Session
from tests.helpers import run_threads, wait_until


def test_threads_racing_for_one_lock_never_overlap_and_get_distinct_tokens():
    service = MemoryLeaseService()  # real time; leases far longer than the test
    lock = Lock(service, "hammer")
    inside = 0
    worst = 0
    tokens: list[int] = []
    guard = threading.Lock()

    def worker(i: int) -> None:
        nonlocal inside, worst
        session = Session(service, f"t{i}", ttl=600.0)
        done = 0
        while done < 30:
            token = lock.acquire(session)
            if token is None:
                continue
            with guard:
                inside += 1
                worst = max(worst, inside)
                tokens.append(token)
            with guard:
                inside -= 1
            assert lock.release(session)
            done += 1

    assert run_threads(6, worker) == []
    assert worst == 1
    assert sorted(tokens) == list(range(1, 181))


REAL_TIME = ["memory"] + (["etcd"] if os.environ.get("PATTERNS_ETCD_URL") else [])


@pytest.mark.parametrize("lease_backend", REAL_TIME)  # "etcd" is counted as a real-etcd test
@pytest.mark.timeout(60)
def test_a_lease_expires_in_real_time_unless_kept_alive(lease_backend):
    # real time: etcd counts the TTL down on its own timer (the embedded service on time.monotonic)
    service = EtcdLeaseService() if lease_backend == "etcd" else MemoryLeaseService()
    try:
        lock = Lock(service, f"real-time-{os.getpid()}")
        kept = Session(service, "kept", ttl=2.0)
        dropped = Session(service, "dropped", ttl=2.0)
        assert lock.acquire(dropped) is not None

        def renew_and_check() -> bool:
            kept.keep_alive()
            return lock.holder() is None

        wait_until(renew_and_check, timeout=15.0, interval=0.3, what="etcd to expire the lease")
        assert not dropped.alive()
        with pytest.raises(LeaseExpired):
            dropped.keep_alive()
        assert kept.alive()  # renewed all along
        assert lock.acquire(kept) is not None
        kept.close()
        lock.clear()
    finally:
        if isinstance(service, EtcdLeaseService):
            service.close()
