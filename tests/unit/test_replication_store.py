"""Primary/replica: lag on the ManualClock, routing, stale reads, sessions, failover loss."""

from __future__ import annotations

import random

import pytest

from patterns.clock import ManualClock
from patterns.replication import NoPrimary, ReadResult, Replica, ReplicatedStore, Session


@pytest.fixture
def store(clock: ManualClock) -> ReplicatedStore:
    return ReplicatedStore({"fast": 0.5, "slow": 2.0}, clock=clock)


def test_replicas_apply_the_log_exactly_lag_seconds_after_commit(store, clock):
    store.write("x", 1)
    assert (store.lag_entries("fast"), store.lag_entries("slow")) == (1, 1)
    clock.advance(0.4999)
    assert store.lag_entries("fast") == 1
    clock.advance(0.0001)
    assert (store.lag_entries("fast"), store.lag_entries("slow")) == (0, 1)
    clock.set(2.0)
    assert store.lag_entries("slow") == 0


def test_round_robin_reads_count_stale_answers(store, clock):
    store.write("x", "v1")
    clock.advance(1.0)  # fast has it, slow does not
    results = [store.read("x") for _ in range(4)]
    assert [r.node for r in results] == ["fast", "slow", "fast", "slow"]
    assert [r.value for r in results] == ["v1", None, "v1", None]
    assert [r.stale for r in results] == [False, True, False, True]
    assert (store.stats.reads, store.stats.stale_reads, store.stats.replica_reads) == (4, 2, 4)
    assert store.stats.stale_ratio == 0.5


def test_an_old_value_is_stale_but_a_missing_never_written_key_is_not(store, clock):
    assert store.read("never").stale is False
    store.write("x", 1)
    clock.advance(5)
    store.write("x", 2)
    result = store.read("x")
    assert (result.value, result.stale) == (1, True)


def test_a_replica_that_missed_a_delete_is_stale():
    """Issue 21: the delete removed the key's version from the primary, so the replica still holding
    the deleted value answered stale=False. A delete now leaves a tombstone with its LSN."""
    clock = ManualClock()
    store = ReplicatedStore({"r": 5.0}, clock=clock)
    store.write("k", "v")
    clock.advance(6)
    store.delete("k")
    assert store.read("k") == ReadResult(value="v", node="r", node_lsn=1, stale=True)
    clock.advance(6)
    assert store.read("k") == ReadResult(value=None, node="r", node_lsn=2, stale=False)
    assert store.replicas["r"].items() == {}  # a tombstone is not a value


def test_read_your_writes_with_a_session_token(store, clock):
    session = Session(monotonic_reads=False)
    token = store.write("profile", "new name", session=session)
    assert session.last_write_lsn == token == store.lsn
    first = store.read("profile", session=session)
    assert (first.value, first.node) == ("new name", "primary")  # no replica has it yet: fallback
    clock.advance(0.5)
    assert {store.read("profile", session=session).node for _ in range(4)} == {"fast"}  # slow is skipped
    # the explicit token works without a session object
    assert store.read("profile", min_lsn=token).value == "new name"
    assert store.stats.fallbacks == 1


def test_without_a_session_the_writer_can_miss_its_own_write(store):
    store.write("profile", "new name")
    assert store.read("profile").value is None


def test_monotonic_reads_never_go_back_in_time(clock):
    store = ReplicatedStore({"r1": 0.1, "r2": 3.0}, clock=clock)
    store.write("x", "old")
    clock.advance(5)
    store.write("x", "new")
    clock.advance(0.2)  # r1 has "new", r2 still "old"
    plain = [store.read("x").value for _ in range(4)]
    assert plain == ["new", "old", "new", "old"]  # time goes backwards for a plain reader
    session = Session(read_your_writes=False)
    seen = [store.read("x", session=session).value for _ in range(4)]
    assert seen == ["new"] * 4


def test_random_policy_is_seeded_and_primary_policy_reads_the_primary(clock):
    a = ReplicatedStore({"r1": 0, "r2": 0, "r3": 0}, clock=clock, read_policy="random", rng=random.Random(4))
    b = ReplicatedStore({"r1": 0, "r2": 0, "r3": 0}, clock=clock, read_policy="random", rng=random.Random(4))
    assert [a.read("k").node for _ in range(20)] == [b.read("k").node for _ in range(20)]
    p = ReplicatedStore({"r1": 5}, clock=clock, read_policy="primary")
    p.write("k", 1)
    assert p.read("k").node == "primary" and p.stats.fallbacks == 0


def test_async_failover_loses_exactly_the_unreplicated_writes(store, clock):
    store.write("a", 1)
    clock.advance(1.0)
    store.write("b", 2)
    store.write("c", 3)
    clock.advance(0.2)
    report = store.failover()
    assert (report.old_primary, report.new_primary) == ("primary", "fast")  # the furthest along
    assert [(e.key, e.value) for e in report.lost] == [("b", 2), ("c", 3)]
    assert report.lost_keys == ["b", "c"]
    assert store.primary == "fast" and store.lsn == 1 and list(store.replicas) == ["slow"]
    assert store.read("b", min_lsn=store.lsn).value is None  # gone for good
    # the log continues from the new primary's position and the surviving replica follows it
    assert store.write("d", 4) == 2
    clock.advance(2.0)
    assert store.read("d").value == 4 and store.read("a").value == 1


def test_a_synchronous_replica_loses_nothing_on_failover(clock):
    store = ReplicatedStore(
        [Replica("sync", lag=1.0, synchronous=True), Replica("async", lag=1.0)], clock=clock
    )
    for i in range(5):
        store.write(f"k{i}", i)
    assert store.lag_entries("sync") == 0 and store.lag_entries("async") == 5
    report = store.failover()
    assert report.new_primary == "sync" and report.lost == []


def test_promoting_a_laggard_rolls_back_replicas_that_were_ahead(clock):
    store = ReplicatedStore({"r1": 0.0, "r2": 10.0, "r3": 0.0}, clock=clock)
    store.write("a", 1)
    store.write("b", 2)
    report = store.failover(promote="r2")
    assert [e.key for e in report.lost] == ["a", "b"]
    assert report.rolled_back == {"r1": 2, "r3": 2}
    assert store.read("a").value is None


def test_disconnected_replicas_stop_applying_and_cannot_be_auto_promoted(clock):
    store = ReplicatedStore({"r1": 0.0}, clock=clock)
    store.replicas["r1"].connected = False
    store.write("a", 1)
    assert store.lag_entries("r1") == 1
    assert store.read("a").node == "primary"  # the only replica is unreachable
    with pytest.raises(NoPrimary):
        store.failover()
    store.replicas["r1"].connected = True
    assert store.lag_entries("r1") == 0


def test_bad_input_is_rejected(clock):
    with pytest.raises(ValueError, match="read_policy"):
        ReplicatedStore({"r": 1}, clock=clock, read_policy="nearest")
    with pytest.raises(ValueError, match="lag"):
        ReplicatedStore({"r": -1}, clock=clock)
    with pytest.raises(TypeError, match="lag"):
        ReplicatedStore({"r": "1s"}, clock=clock)
    with pytest.raises(ValueError, match="distinct"):
        ReplicatedStore({"primary": 1}, clock=clock)
    with pytest.raises(TypeError, match="replicas"):
        ReplicatedStore(["r1"], clock=clock)
    store = ReplicatedStore({"r": 1}, clock=clock)
    with pytest.raises(TypeError, match="key"):
        store.write(1, "x")
    with pytest.raises(ValueError, match="min_lsn"):
        store.read("k", min_lsn=-1)
    with pytest.raises(ValueError, match="name"):
        store.failover(promote="nobody")
