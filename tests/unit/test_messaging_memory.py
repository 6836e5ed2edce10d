"""InMemoryBroker behaviour beyond the shared contract: rebalancing, retention, dead letters, threads."""

from __future__ import annotations

import threading
import warnings

import pytest

from patterns.clock import ManualClock
from patterns.messaging import (
    BytesSerde,
    Event,
    InMemoryBroker,
    UnknownTopicError,
    drain,
    murmur2,
    partition_for,
)


def make(clock: ManualClock | None = None, **options: object) -> InMemoryBroker:
    broker = InMemoryBroker(clock=clock or ManualClock(), **options)  # type: ignore[arg-type]
    broker.create_topic("orders", partitions=3)
    return broker


def test_key_hash_matches_the_kafka_clients() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka.partitioner.default import murmur2 as kafka_murmur2
    for key in ["", "a", "ab", "abc", "order-1", "order-42", "ünïcødé", "x" * 101]:
        data = key.encode("utf-8")
        assert murmur2(data) & 0x7FFFFFFF == kafka_murmur2(data) & 0x7FFFFFFF
    assert partition_for("order-1", 3) == partition_for("order-1", 3)
    with pytest.raises(ValueError, match="partitions must be an integer"):
        partition_for("k", 0)


def test_keyless_records_go_round_robin() -> None:
    broker = make()
    parts = [broker.publish("orders", {"n": i}).partition for i in range(6)]
    assert parts == [0, 1, 2, 0, 1, 2]


def test_join_and_leave_rebalance_the_group() -> None:
    broker = make()
    a = broker.subscribe("orders", group="g", member="a")
    assert a.assignment() == {("orders", 0), ("orders", 1), ("orders", 2)}
    b = broker.subscribe("orders", group="g", member="b")
    assert a.assignment() == {("orders", 0), ("orders", 2)} and b.assignment() == {("orders", 1)}
    c = broker.subscribe("orders", group="g", member="c")
    d = broker.subscribe("orders", group="g", member="d")  # more members than partitions: d idles
    assert [len(m.assignment()) for m in (a, b, c, d)] == [1, 1, 1, 0]
    assert d.poll() == []
    a.close()
    assert broker.groups() == {"g": ["b", "c", "d"]}
    assert set().union(*(m.assignment() for m in (b, c, d))) == {("orders", p) for p in range(3)}
    with pytest.raises(RuntimeError, match="closed"):
        a.poll()


def test_a_kept_partition_keeps_its_position_through_a_rebalance() -> None:
    broker = make()
    key = next(f"order-{i}" for i in range(100) if partition_for(f"order-{i}", 3) == 0)
    broker.publish_many("orders", [(key, {"n": i}) for i in range(4)])
    a = broker.subscribe("orders", group="g", member="a")
    assert len(a.poll(max_records=2)) == 2
    broker.subscribe("orders", group="g", member="z")  # z sorts after a: a keeps partition 0
    assert ("orders", 0) in a.assignment()
    assert a.position("orders", 0) == 2
    assert [r.value["n"] for r in a.poll()] == [2, 3]


def test_start_latest_skips_history_and_duplicate_member_is_refused() -> None:
    broker = make()
    broker.publish("orders", {"old": True}, key="k")
    late = broker.subscribe("orders", group="new", member="m", start="latest")
    assert late.poll() == []
    broker.publish("orders", {"old": False}, key="k")
    assert [r.value for r in late.poll()] == [{"old": False}]
    with pytest.raises(ValueError, match="already in group"):
        broker.subscribe("orders", group="new", member="m")
    with pytest.raises(ValueError, match="start must be"):
        broker.subscribe("orders", group="x", start="middle")  # type: ignore[arg-type]


def test_retention_drops_old_records_and_moves_lagging_groups_forward() -> None:
    clock = ManualClock()
    broker = make(clock, retention=60.0)
    broker.publish("orders", {"n": 0}, key="k")
    clock.advance(30)
    broker.publish("orders", {"n": 1}, key="k")
    clock.advance(31)  # record 0 is now 61 s old
    p = partition_for("k", 3)
    assert broker.log_start("orders")[p] == 1
    assert [r.value["n"] for r in broker.read("orders")] == [1]
    slow = broker.subscribe("orders", group="slow")
    assert [r.offset for r in slow.poll()] == [1], "a group behind the log start resumes at the start"
    assert broker.lag("orders", group="slow")[p] == 1
    with pytest.raises(ValueError, match="retention must be"):
        InMemoryBroker(retention=0)


def test_max_deliveries_sends_a_crash_looping_record_to_the_dead_letter_topic() -> None:
    broker = make(max_deliveries=3)
    broker.create_topic("pay", partitions=1)
    broker.publish_many("pay", [("a", {"n": 0}), ("a", {"poison": True}), ("a", {"n": 2})])
    ok = broker.subscribe("pay", group="g", member="m0")
    first = ok.poll(max_records=1)
    ok.commit()
    assert first[0].value == {"n": 0}
    ok.close()
    for i in range(3):  # three consumers in a row crash on the poison record
        victim = broker.subscribe("pay", group="g", member=f"m{i + 1}")
        assert victim.poll(max_records=1)[0].value == {"poison": True}
        victim.close()
    survivor = broker.subscribe("pay", group="g", member="m9")
    assert [r.value for r in survivor.poll()] == [{"n": 2}]
    (dead,) = broker.read("pay.DLT")
    assert dead.value == {"poison": True} and dead.headers["dlt-original-offset"] == "1"
    survivor.commit()
    again = broker.subscribe("pay", group="other", member="o")
    assert len(again.poll()) == 3, "dead-lettering is per group: other groups still see the record"
    assert len(broker.read("pay.DLT")) == 1


def test_replaying_committed_records_does_not_count_as_failed_deliveries() -> None:
    broker = make(max_deliveries=1)
    broker.create_topic("log", partitions=1)
    broker.publish_many("log", [(None, {"n": i}) for i in range(3)])
    c = broker.subscribe("log", group="g")
    assert len(drain(c)) == 3
    c.commit()
    for _ in range(3):
        c.seek_to_beginning()
        assert len(drain(c)) == 3
    assert "log.DLT" not in broker.topics()


def test_seek_on_a_partition_the_member_does_not_own_is_refused() -> None:
    broker = make()
    a = broker.subscribe("orders", group="g", member="a")
    broker.subscribe("orders", group="g", member="b")
    with pytest.raises(ValueError, match="not assigned"):
        a.seek("orders", 1, 0)


def test_auto_create_and_bytes_serde() -> None:
    broker = InMemoryBroker(auto_create_topics=True, default_partitions=2, serde=BytesSerde())
    broker.publish("raw", b"\x00\x01", key="k")
    assert broker.topics() == {"raw": 2}
    assert broker.read("raw")[0].value == b"\x00\x01"
    with pytest.raises(TypeError, match="bytes with BytesSerde"):
        broker.publish("raw", "text")
    strict = InMemoryBroker()
    with pytest.raises(UnknownTopicError, match="create_topic"):
        strict.read("nope")
    with pytest.raises(ValueError, match="topic must be"):
        strict.create_topic("bad topic")
    with pytest.raises(TypeError, match="partitions must be an integer"):
        strict.create_topic("t", partitions=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_records must be"):
        strict.create_topic("t") or strict.subscribe("t", group="g").poll(max_records=0)
    with pytest.raises(ValueError, match="max_deliveries must be"):
        InMemoryBroker(max_deliveries=0)


def test_consumers_do_not_see_each_others_mutations() -> None:
    broker = make()
    broker.publish("orders", {"items": [1]}, key="k")
    a = broker.subscribe("orders", group="a").poll()[0]
    a.value["items"].append(2)
    assert broker.subscribe("orders", group="b").poll()[0].value == {"items": [1]}


def test_event_validation_and_round_trip() -> None:
    e = Event("OrderPlaced", key="o1", data={"total": 3})
    assert Event.from_dict(e.to_dict()) == e
    with pytest.raises(ValueError, match="type must be"):
        Event("", key="o1")
    with pytest.raises(ValueError, match="key must be the aggregate id"):
        Event("X", key=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing"):
        Event.from_dict({"type": "X"})


def test_concurrent_publishers_and_a_group_of_threads_lose_and_duplicate_nothing() -> None:
    broker = make()
    n_per_thread, publishers = 300, 4
    members = [broker.subscribe("orders", group="g", member=f"m{i}") for i in range(3)]
    seen: list[str] = []
    lock = threading.Lock()
    published = threading.Event()

    def publish(t: int) -> None:
        for i in range(n_per_thread):
            broker.publish("orders", {"id": f"{t}-{i}"}, key=f"k{i % 7}")

    def consume(member: object) -> None:
        while True:
            finished = published.is_set()  # read BEFORE polling: later polls see every record
            batch = member.poll(max_records=50, timeout=0.01)  # type: ignore[attr-defined]
            member.commit()  # type: ignore[attr-defined]
            with lock:
                seen.extend(r.value["id"] for r in batch)
            if not batch and finished:
                return

    consumers = [threading.Thread(target=consume, args=(m,)) for m in members]
    producers = [threading.Thread(target=publish, args=(t,)) for t in range(publishers)]
    for t in consumers + producers:
        t.start()
    for t in producers:
        t.join()
    published.set()
    for t in consumers:
        t.join()
    assert len(seen) == n_per_thread * publishers
    assert len(set(seen)) == len(seen)
    assert sum(broker.end_offsets("orders").values()) == n_per_thread * publishers
    assert broker.lag("orders", group="g") == {0: 0, 1: 0, 2: 0}
