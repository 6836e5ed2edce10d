"""One contract for every lease service: the embedded one and, when PATTERNS_ETCD_URL is set, etcd.

Time is a ManualClock on both (etcd in simulated time), so expiry is exact and the suite is fast.
Keys are namespaced per test with the ``unique`` fixture.
"""

from __future__ import annotations

import pytest

from patterns.coordination import Election, LeaseExpired, Lock, Session


def test_grant_keep_alive_and_expiry(lease_backend, clock, unique):
    b = lease_backend
    lease = b.grant(10.0)
    assert b.time_to_live(lease) == pytest.approx(10.0)
    clock.advance(6.0)
    assert b.time_to_live(lease) == pytest.approx(4.0)
    assert b.keep_alive(lease) == pytest.approx(10.0)
    clock.advance(9.0)
    assert b.time_to_live(lease) == pytest.approx(1.0)
    clock.advance(1.0)  # deadline reached exactly: expired
    assert b.time_to_live(lease) == 0.0
    with pytest.raises(LeaseExpired):
        b.keep_alive(lease)


def test_keys_die_with_their_lease(lease_backend, clock, unique):
    b = lease_backend
    lease = b.grant(5.0)
    assert b.create(f"/{unique}a", "x", lease)
    assert b.create(f"/{unique}b", "y", lease)
    assert b.get(f"/{unique}a").value == "x"
    clock.advance(5.0)
    assert b.get(f"/{unique}a") is None and b.get(f"/{unique}b") is None


def test_revoke_deletes_keys_now_and_is_idempotent(lease_backend, unique):
    b = lease_backend
    lease = b.grant(30.0)
    b.create(f"/{unique}k", "v", lease)
    b.revoke(lease)
    assert b.get(f"/{unique}k") is None
    b.revoke(lease)  # again: nothing happens
    assert b.time_to_live(lease) == 0.0


def test_create_is_put_if_absent(lease_backend, unique):
    b = lease_backend
    one, two = b.grant(30.0), b.grant(30.0)
    assert b.create(f"/{unique}k", "first", one)
    assert not b.create(f"/{unique}k", "second", two)
    entry = b.get(f"/{unique}k")
    assert (entry.value, entry.lease, entry.version) == ("first", one, 1)


def test_create_on_an_expired_lease_is_refused(lease_backend, clock, unique):
    b = lease_backend
    lease = b.grant(1.0)
    clock.advance(2.0)
    with pytest.raises(LeaseExpired):
        b.create(f"/{unique}k", "v", lease)
    assert b.get(f"/{unique}k") is None
    with pytest.raises(LeaseExpired):
        b.acquire(f"/{unique}k", "v", lease, f"/{unique}c")


def test_acquire_counts_acquisitions(lease_backend, unique):
    b = lease_backend
    key, counter = f"/{unique}lock", f"/{unique}token"
    tokens = []
    for owner in ("a", "b", "c"):
        lease = b.grant(30.0)
        tokens.append(b.acquire(key, owner, lease, counter))
        assert b.acquire(key, "intruder", b.grant(30.0), counter) is None
        assert b.delete(key, if_value=owner)
    assert tokens == [1, 2, 3]


def test_revisions_order_creation(lease_backend, unique):
    b = lease_backend
    lease = b.grant(30.0)
    for name in ("c", "a", "b"):
        b.create(f"/{unique}p/{name}", name, lease)
    b.create(f"/{unique}q", "other prefix", lease)
    found = b.entries(f"/{unique}p/")
    assert [e.value for e in found] == ["c", "a", "b"]
    assert [e.create_revision for e in found] == sorted(e.create_revision for e in found)
    assert len({e.create_revision for e in found}) == 3


def test_conditional_delete(lease_backend, unique):
    b = lease_backend
    b.create(f"/{unique}k", "mine", b.grant(30.0))
    assert not b.delete(f"/{unique}k", if_value="yours")
    assert b.get(f"/{unique}k") is not None
    assert b.delete(f"/{unique}k", if_value="mine")
    assert not b.delete(f"/{unique}k")


def test_delete_prefix_touches_only_the_prefix(lease_backend, unique):
    b = lease_backend
    lease = b.grant(30.0)
    for key in ("x/1", "x/2", "y/1"):
        b.create(f"/{unique}{key}", "v", lease)
    assert b.delete_prefix(f"/{unique}x/") == 2
    assert [e.key for e in b.entries(f"/{unique}")] == [f"/{unique}y/1"]


def test_lock_fencing_tokens_grow_across_expiry(lease_backend, clock, unique):
    lock = Lock(lease_backend, f"{unique}ledger")
    a = Session(lease_backend, "a", ttl=5.0)
    b = Session(lease_backend, "b", ttl=5.0)
    assert lock.acquire(a) == 1
    assert lock.acquire(b) is None and lock.holder() == "a"
    clock.advance(3.0)
    b.keep_alive()
    clock.advance(2.0)  # a stopped renewing: its lease expires, so does its lock
    assert lock.holder() is None
    assert lock.acquire(b) == 2
    assert not lock.release(a)  # a no longer holds it
    assert lock.release(b) and lock.holder() is None
    lock.clear()


def test_election_follows_registration_order(lease_backend, clock, unique):
    election = Election(lease_backend, f"{unique}scheduler")
    s1 = Session(lease_backend, "node-1", ttl=10.0)
    s2 = Session(lease_backend, "node-2", ttl=10.0)
    s3 = Session(lease_backend, "node-3", ttl=10.0)
    assert election.campaign(s1)
    assert not election.campaign(s2) and not election.campaign(s3)
    assert election.candidates() == ["node-1", "node-2", "node-3"]
    clock.advance(6.0)
    s2.keep_alive()
    s3.keep_alive()
    clock.advance(4.0)  # node-1 stopped renewing
    assert election.leader() == "node-2" and election.is_leader(s2)
    s2.close()
    assert election.leader() == "node-3"
    assert election.resign(s3) and election.leader() is None
    election.clear()


# -- differential: the embedded service and etcd answer every operation alike -------------------
import os  # noqa: E402
import uuid  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from patterns.clock import ManualClock  # noqa: E402
from patterns.coordination import EtcdLeaseService, MemoryLeaseService  # noqa: E402

_op = st.one_of(
    st.tuples(st.just("advance"), st.sampled_from([0.5, 1.0, 2.5])),
    st.tuples(st.just("grant"), st.sampled_from([1.0, 2.0, 4.0])),
    st.tuples(st.sampled_from(["keep_alive", "revoke", "ttl"]), st.integers(0, 3)),
    st.tuples(st.sampled_from(["create", "acquire", "delete_if"]), st.tuples(st.integers(0, 2), st.integers(0, 3))),
    st.tuples(st.sampled_from(["get", "delete"]), st.integers(0, 2)),
)


def _apply(service, clock, leases, prefix, op, arg):
    if op == "advance":
        clock.advance(arg)
        return None
    if op == "grant":
        leases.append(service.grant(arg))
        return len(leases)
    if op in ("keep_alive", "revoke", "ttl"):
        if arg >= len(leases):
            return "no lease"
        lease = leases[arg]
        if op == "ttl":
            return round(service.time_to_live(lease), 6)
        if op == "revoke":
            return service.revoke(lease)
        try:
            return service.keep_alive(lease)
        except LeaseExpired:
            return "expired"
    if op in ("get", "delete"):
        key = f"{prefix}k{arg}"
        if op == "delete":
            return service.delete(key)
        entry = service.get(key)
        return None if entry is None else (entry.value, entry.version)
    (k, lease_index) = arg
    if lease_index >= len(leases):
        return "no lease"
    key, lease = f"{prefix}k{k}", leases[lease_index]
    try:
        if op == "create":
            return service.create(key, f"v{lease_index}", lease)
        if op == "acquire":
            return service.acquire(key, f"v{lease_index}", lease, f"{prefix}counter")
        return service.delete(key, if_value=f"v{lease_index}")
    except LeaseExpired:
        return "expired"


OTHER = ["memory"] + (["etcd"] if os.environ.get("PATTERNS_ETCD_URL") else [])


@pytest.mark.parametrize("lease_backend", OTHER)  # "etcd" is counted as a real-etcd test
@settings(max_examples=60)
@given(ops=st.lists(_op, max_size=25))
def test_every_backend_answers_like_the_embedded_service(lease_backend, ops):
    """Differential: the same random operations on the embedded service and on ``lease_backend``
    (etcd when configured; a second embedded service otherwise, which checks determinism)."""
    prefix = f"/diff-{uuid.uuid4().hex[:10]}/"
    mem_clock, etcd_clock = ManualClock(), ManualClock()
    memory = MemoryLeaseService(mem_clock)
    etcd = EtcdLeaseService(clock=etcd_clock) if lease_backend == "etcd" else MemoryLeaseService(etcd_clock)
    mem_leases: list[int] = []
    etcd_leases: list[int] = []
    try:
        for op, arg in ops:
            expected = _apply(memory, mem_clock, mem_leases, prefix, op, arg)
            got = _apply(etcd, etcd_clock, etcd_leases, prefix, op, arg)
            assert got == expected, (op, arg)
        assert [(e.key, e.value, e.version) for e in etcd.entries(prefix)] == [
            (e.key, e.value, e.version) for e in memory.entries(prefix)
        ]
    finally:
        etcd.delete_prefix(prefix)
        for lease in etcd_leases:
            etcd.revoke(lease)
        if isinstance(etcd, EtcdLeaseService):
            etcd.close()
