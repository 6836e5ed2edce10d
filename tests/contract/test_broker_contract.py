"""One contract, every broker: InMemoryBroker always, KafkaBroker when PATTERNS_KAFKA_BOOTSTRAP is set.

Topic and group names are unique per test (a shared real broker keeps everything). Kafka group
joins take about 2 s with the short timeouts in patterns.messaging.kafka, so the Kafka run of
this file stays well under a minute; the tests never skip when the variable is set.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from patterns import infra
from patterns.clock import ManualClock
from patterns.messaging import (
    DEFAULT_MAX_MESSAGE_BYTES,
    Broker,
    Consumer,
    Event,
    InMemoryBroker,
    JsonSerde,
    KafkaBroker,
    MessageTooLarge,
    Record,
    UnknownTopicError,
    UnsupportedOperation,
    drain_together,
    partition_for,
    process_with_retries,
    record_size,
    replay_dead_letters,
)


@pytest.fixture
def broker(broker_kind: str) -> Iterator[Broker]:
    if broker_kind == "memory":
        b: Broker = InMemoryBroker(clock=ManualClock())
    else:
        b = KafkaBroker(os.environ[infra.KAFKA_BOOTSTRAP_ENV])
    yield b
    b.close()


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def collect(consumer: Consumer, n: int, *, patience: int = 5) -> list[Record]:
    """Poll until ``n`` records arrived or ``patience`` polls in a row came back empty."""
    out: list[Record] = []
    empty = 0
    while len(out) < n and empty < patience:
        batch = consumer.poll()
        empty = 0 if batch else empty + 1
        out.extend(batch)
    return out


def keyed_events(n: int, keys: int) -> list[Event]:
    return [
        Event("OrderUpdated", key=f"order-{i % keys}", data={"seq": i}, event_id=f"e{i}") for i in range(n)
    ]


def test_publish_assigns_consecutive_offsets_and_keeps_a_key_in_one_partition(broker: Broker) -> None:
    topic = name("orders")
    broker.create_topic(topic, partitions=3)
    broker.create_topic(topic, partitions=3)  # idempotent
    assert broker.topics()[topic] == 3
    results = [broker.publish(topic, e) for e in keyed_events(12, keys=4)]
    by_key: dict[str, set[int]] = {}
    for e, r in zip(keyed_events(12, keys=4), results, strict=True):
        by_key.setdefault(e.key, set()).add(r.partition)
    assert all(len(parts) == 1 for parts in by_key.values())
    for p in range(3):
        offsets = [r.offset for r in results if r.partition == p]
        assert offsets == list(range(len(offsets)))
    assert broker.end_offsets(topic) == {p: sum(r.partition == p for r in results) for p in range(3)}


def test_values_keys_and_headers_round_trip(broker: Broker) -> None:
    topic = name("roundtrip")
    broker.create_topic(topic)
    event = Event("OrderPlaced", key="order-7", data={"items": [{"sku": "A", "qty": 2}], "total": 9.5})
    broker.publish(topic, event, headers={"trace-id": "abc"})
    broker.publish(topic, {"plain": True, "n": None}, key=None)
    first, second = broker.read(topic)
    assert first.key == "order-7" and first.headers.get("trace-id") == "abc"
    assert Event.from_dict(first.value) == event
    assert second.key is None and second.value == {"plain": True, "n": None}


def test_per_key_order_holds_for_a_consumer(broker: Broker) -> None:
    topic = name("orders")
    broker.create_topic(topic, partitions=3)
    events = keyed_events(30, keys=5)
    broker.publish_many(topic, [(e.key, e) for e in events])
    consumer = broker.subscribe(topic, group=name("g"))
    records = collect(consumer, len(events))
    assert sorted(r.value["event_id"] for r in records) == sorted(e.event_id for e in events)
    for key in {e.key for e in events}:
        seen = [r.value["data"]["seq"] for r in records if r.key == key]
        assert seen == sorted(seen), f"events of {key} arrived out of order: {seen}"


def test_every_group_sees_every_event(broker: Broker) -> None:
    topic = name("orders")
    broker.create_topic(topic, partitions=2)
    events = keyed_events(10, keys=3)
    broker.publish_many(topic, [(e.key, e) for e in events])
    email = broker.subscribe(topic, group=name("email"))
    audit = broker.subscribe(topic, group=name("audit"))
    for consumer in (email, audit):
        got = collect(consumer, len(events))
        assert sorted(r.value["event_id"] for r in got) == sorted(e.event_id for e in events)


def test_crash_before_commit_redelivers_to_the_next_member(broker: Broker) -> None:
    topic, group = name("orders"), name("billing")
    broker.create_topic(topic, partitions=2)
    broker.publish_many(topic, [(e.key, e) for e in keyed_events(6, keys=2)])
    first = broker.subscribe(topic, group=group, member="billing-1")
    done = collect(first, 6)
    first.commit()  # the first six are processed and committed
    broker.publish_many(topic, [(e.key, e) for e in keyed_events(10, keys=2)[6:]])
    in_flight = collect(first, 4)
    assert len(done) == 6 and len(in_flight) == 4
    first.close()  # crash: no commit for the last four
    second = broker.subscribe(topic, group=group, member="billing-2")
    redelivered = collect(second, 4)
    assert sorted(r.value["event_id"] for r in redelivered) == ["e6", "e7", "e8", "e9"]
    second.commit()
    assert broker.lag(topic, group=group) == {0: 0, 1: 0}


def test_committed_offsets_survive_a_restart_and_nothing_is_read_twice(broker: Broker) -> None:
    topic, group = name("orders"), name("search")
    broker.create_topic(topic, partitions=2)
    broker.publish_many(topic, [(e.key, e) for e in keyed_events(8, keys=4)])
    consumer = broker.subscribe(topic, group=group)
    assert len(collect(consumer, 8)) == 8
    consumer.commit()
    committed = broker.committed(topic, group=group)
    assert committed == broker.end_offsets(topic)
    consumer.close()
    again = broker.subscribe(topic, group=group)
    assert collect(again, 1, patience=1) == []


def test_seek_replays_from_an_offset(broker: Broker) -> None:
    topic = name("ledger")
    broker.create_topic(topic, partitions=1)
    broker.publish_many(topic, [("acct-1", {"n": i}) for i in range(5)])
    consumer = broker.subscribe(topic, group=name("rebuild"))
    assert [r.value["n"] for r in collect(consumer, 5)] == [0, 1, 2, 3, 4]
    consumer.seek(topic, 0, 2)
    assert [r.value["n"] for r in collect(consumer, 3)] == [2, 3, 4]
    consumer.seek_to_beginning()
    assert [r.value["n"] for r in collect(consumer, 5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="offset must be"):
        consumer.seek(topic, 0, -1)


def poll_together(
    consumers: list[Consumer], done: Callable[[list[Record]], bool], *, limit: float = 30.0
) -> list[Record]:
    """Poll every member in its own thread (as separate processes would) until ``done(records)``.

    A Kafka rebalance completes only while every member keeps polling, so members must poll
    concurrently; the in-memory broker is thread-safe, so it runs the same way.
    """
    stop = threading.Event()
    got: list[Record] = []
    lock = threading.Lock()

    def run(consumer: Consumer) -> None:
        while not stop.is_set():
            batch = consumer.poll(timeout=0.2)
            with lock:
                got.extend(batch)

    threads = [threading.Thread(target=run, args=(c,)) for c in consumers]
    for t in threads:
        t.start()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with lock:
            if done(got):
                break
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    return got


def test_members_of_a_group_split_the_partitions_and_rebalance_on_leave(broker: Broker) -> None:
    topic, group = name("orders"), name("inventory")
    everything = {(topic, p) for p in range(4)}
    broker.create_topic(topic, partitions=4)
    a = broker.subscribe(topic, group=group, member="a")
    assert collect(a, 1, patience=1) == [] and a.assignment() == everything  # alone, a owns all
    b = broker.subscribe(topic, group=group, member="b")

    def split(_: object = None) -> bool:
        return bool(a.assignment()) and bool(b.assignment()) and not a.assignment() & b.assignment()

    poll_together([a, b], split)
    assert split() and a.assignment() | b.assignment() == everything
    owners = {tp: m for m in (a, b) for tp in m.assignment()}
    events = keyed_events(12, keys=6)
    broker.publish_many(topic, [(e.key, e) for e in events])
    got = poll_together([a, b], lambda records: len(records) >= 12, limit=15.0)
    got += [r for m in (a, b) for r in m.poll(timeout=0)]  # nothing more may come
    assert sorted(r.value["event_id"] for r in got) == sorted(e.event_id for e in events), "each once"
    assert all((r.topic, r.partition) in owners for r in got)
    b.close()  # b leaves: a takes its partitions over
    poll_together([a], lambda _: a.assignment() == everything)
    assert a.assignment() == everything


def test_drain_together_gives_each_member_its_own_partitions(broker: Broker) -> None:
    topic, group = name("orders"), name("email")
    broker.create_topic(topic, partitions=2)
    events = keyed_events(12, keys=6)
    broker.publish_many(topic, [(e.key, e) for e in events])
    members = [broker.subscribe(topic, group=group, member=m) for m in ("email-a", "email-b")]
    got = drain_together(members)
    assert set(got) == {"email-a", "email-b"}
    all_ids = [r.value["event_id"] for records in got.values() for r in records]
    assert sorted(all_ids) == sorted(e.event_id for e in events), "every event exactly once across the group"
    for member in members:
        assert len(member.assignment()) == 1
        assert {(r.topic, r.partition) for r in got[member.member]} <= member.assignment()


def test_poison_record_goes_to_the_dead_letter_topic_after_n_attempts(broker: Broker) -> None:
    topic = name("payments")
    broker.create_topic(topic, partitions=1)
    broker.publish_many(topic, [("p1", {"amount": 5}), ("p2", {"amount": -1}), ("p3", {"amount": 7})])
    handled: list[int] = []
    attempts: list[int] = []

    def handler(record: Record) -> None:
        attempts.append(record.value["amount"])
        if record.value["amount"] < 0:
            raise ValueError("negative amount")
        handled.append(record.value["amount"])

    consumer = broker.subscribe(topic, group=name("payments"))
    totals = [0, 0, 0]
    for _ in range(5):  # Kafka may hand the three records over in more than one poll
        stats = process_with_retries(consumer, handler, broker, max_attempts=3)
        totals = [totals[0] + stats.handled, totals[1] + stats.failures, totals[2] + stats.dead_lettered]
        if totals[0] + totals[2] == 3:
            break
    assert handled == [5, 7] and attempts.count(-1) == 3
    assert totals == [2, 3, 1]
    assert broker.lag(topic, group=consumer.group) == {0: 0}, "the batch, poison included, is committed"
    (dead,) = broker.read(f"{topic}.DLT")
    assert dead.value == {"amount": -1} and dead.key == "p2"
    assert dead.headers["dlt-attempts"] == "3" and dead.headers["dlt-original-offset"] == "1"
    assert "negative amount" in dead.headers["dlt-error"]


def test_bad_input_is_refused_with_the_parameter_named(broker: Broker) -> None:
    topic = name("strict")
    with pytest.raises(UnknownTopicError, match=topic):
        broker.publish(topic, {"a": 1})
    with pytest.raises(UnknownTopicError):
        broker.subscribe(topic, group="g")
    with pytest.raises(ValueError, match=r"partitions must be an integer in \[1, 10000\], got 0"):
        broker.create_topic(topic, partitions=0)
    broker.create_topic(topic)
    with pytest.raises(ValueError, match="group must be a non-empty string"):
        broker.subscribe(topic, group="")
    with pytest.raises(TypeError, match="JSON-serializable"):
        broker.publish(topic, {1, 2, 3})
    with pytest.raises(TypeError, match="BytesSerde"):
        broker.publish(topic, b"\x00raw")
    with pytest.raises(TypeError, match="key must be a string"):
        broker.publish(topic, {"a": 1}, key=42)  # type: ignore[arg-type]
    assert broker.end_offsets(topic) == {0: 0}, "a refused publish must not write anything"


# --- issue 19: the edges where the two brokers used to differ -------------------------------------


def make_broker(broker_kind: str, **options: object) -> Broker:
    if broker_kind == "memory":
        return InMemoryBroker(clock=ManualClock(), **options)  # type: ignore[arg-type]
    return KafkaBroker(os.environ[infra.KAFKA_BOOTSTRAP_ENV], **options)  # type: ignore[arg-type]


def value_of_size(broker: Broker, size: int) -> str:
    """A JSON string value whose record (no key, no headers) is exactly ``size`` bytes."""
    for n in range(size, 0, -1):
        if record_size(None, broker_json(n), {}) == size:
            return "x" * n
    raise AssertionError(size)


def broker_json(n: int) -> bytes:
    return JsonSerde().dumps("x" * n)


def test_a_record_over_the_limit_is_refused_with_one_error_on_both_brokers(broker: Broker) -> None:
    topic = name("big")
    broker.create_topic(topic, partitions=1)
    assert broker.max_message_bytes == DEFAULT_MAX_MESSAGE_BYTES == 1_048_576  # Kafka's client default
    with pytest.raises(MessageTooLarge) as refused:
        broker.publish(topic, "x" * 2_000_000)
    assert refused.value.size > refused.value.limit == 1_048_576 and isinstance(refused.value, ValueError)
    at_limit = value_of_size(broker, broker.max_message_bytes)
    assert broker.publish(topic, at_limit).offset == 0, "exactly at the limit is accepted"
    with pytest.raises(MessageTooLarge, match="1048577 bytes"):
        broker.publish(topic, at_limit + "x")
    with pytest.raises(MessageTooLarge):  # one bad item in a batch: nothing of the batch is written
        broker.publish_many(topic, [("k1", "small"), ("k2", "x" * 2_000_000), ("k3", "small")])
    assert broker.end_offsets(topic) == {0: 1}


def test_the_size_limit_is_configurable_the_same_way_on_both(broker_kind: str) -> None:
    small = make_broker(broker_kind, max_message_bytes=2048)
    try:
        topic = name("small")
        small.create_topic(topic)
        small.publish(topic, value_of_size(small, 2048))
        with pytest.raises(MessageTooLarge, match="max_message_bytes=2048"):
            small.publish(topic, value_of_size(small, 2048) + "x")
        with pytest.raises(MessageTooLarge):  # headers count too
            small.publish(topic, value_of_size(small, 2000), headers={"trace": "t" * 100})
    finally:
        small.close()


def test_latest_means_everything_published_after_subscribe_returned(broker: Broker) -> None:
    topic, group = name("latest"), name("g")
    broker.create_topic(topic, partitions=2)
    broker.publish_many(topic, [(f"k{i}", {"n": i, "when": "before"}) for i in range(4)])
    consumer = broker.subscribe(topic, group=group, start="latest")
    broker.publish_many(topic, [(f"k{i}", {"n": i, "when": "between"}) for i in range(3)])  # before any poll
    got = collect(consumer, 3)
    assert sorted(r.value["n"] for r in got) == [0, 1, 2]
    assert {r.value["when"] for r in got} == {"between"}, "nothing published before subscribe"
    consumer.commit()
    consumer.close()
    again = broker.subscribe(topic, group=group, start="latest")  # committed offsets win over start
    broker.publish(topic, {"n": 9, "when": "after"}, key="k0")
    assert [r.value["n"] for r in collect(again, 1)] == [9]


def test_two_live_members_with_one_name_in_a_group_are_refused_by_both(broker: Broker) -> None:
    topic, group = name("names"), name("g")
    broker.create_topic(topic, partitions=2)
    first = broker.subscribe(topic, group=group, member="worker-1")
    with pytest.raises(ValueError, match="member 'worker-1' is already in group"):
        broker.subscribe(topic, group=group, member="worker-1")
    other = broker.subscribe(topic, group=name("other"), member="worker-1")  # another group: fine
    first.close()
    broker.subscribe(topic, group=group, member="worker-1")  # the name is free again
    other.close()


def test_capability_and_absurd_arguments(broker: Broker) -> None:
    assert broker.in_process is isinstance(broker, InMemoryBroker)
    topic = name("absurd")
    with pytest.raises(ValueError, match="partitions must be an integer in"):
        broker.create_topic(topic, partitions=10**8)
    broker.create_topic(topic, partitions=1)
    consumer = broker.subscribe(topic, group=name("g"))
    for bad in (float("inf"), float("nan"), -1.0, 1e300):
        with pytest.raises(ValueError, match="timeout must be a finite number of seconds"):
            consumer.poll(timeout=bad)
    with pytest.raises(TypeError, match="timeout must be"):
        consumer.poll(timeout="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_records must be"):
        consumer.poll(max_records=10**9)
    with pytest.raises(TypeError, match="headers must be a mapping"):
        broker.publish(topic, {"a": 1}, headers=[("a", "b")])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="topic must be"):
        broker.create_topic("bad name!")
    with pytest.raises(TypeError, match="offset must be"):
        consumer.seek(topic, 0, 1.5)  # type: ignore[arg-type]


def test_adding_partitions_moves_the_keys_the_hash_says(broker: Broker) -> None:
    topic = name("grow")
    broker.create_topic(topic, partitions=3)
    keys = [f"order-{i}" for i in range(40)]
    first = broker.publish_many(topic, [(k, {"k": k}) for k in keys])
    assert [r.partition for r in first] == [partition_for(k, 3) for k in keys]
    try:
        broker.add_partitions(topic, 5)
    except UnsupportedOperation as exc:  # tansu 0.6 (the CI broker) has no CreatePartitions
        assert not broker.in_process and "cannot add partitions" in str(exc)
        assert broker.topics()[topic] == 3
        return
    assert broker.topics()[topic] == 5
    second = broker.publish_many(topic, [(k, {"k": k}) for k in keys])
    assert [r.partition for r in second] == [partition_for(k, 5) for k in keys]
    moved = {k for k in keys if partition_for(k, 3) != partition_for(k, 5)}
    assert moved == {k for k, a, b in zip(keys, first, second, strict=True) if a.partition != b.partition}
    with pytest.raises(ValueError, match="never shrinks"):
        broker.add_partitions(topic, 2)


def test_dead_letters_are_replayed_once_to_their_original_topic(broker: Broker) -> None:
    topic = name("refunds")
    broker.create_topic(topic, partitions=1)
    broker.publish_many(topic, [("r1", {"amount": -5}), ("r2", {"amount": 3})])
    broker.publish(topic, {"amount": -7}, key="r3", headers={"event-id": "e-r3"})
    fixed = False

    def handler(record: Record) -> None:
        if record.value["amount"] < 0 and not fixed:
            raise ValueError("negative amount")

    consumer = broker.subscribe(topic, group=name("refunds"))
    dead = 0
    for _ in range(5):
        dead += process_with_retries(consumer, handler, broker, max_attempts=2).dead_lettered
        if dead == 2:
            break
    assert dead == 2
    fixed = True  # the bug is fixed: replay
    replay_group = name("replay")
    assert replay_dead_letters(broker, f"{topic}.DLT", group=replay_group) == 2
    assert replay_dead_letters(broker, f"{topic}.DLT", group=replay_group) == 0, "each dead letter once"
    replayed = [r for r in broker.read(topic) if r.offset >= 3]
    assert [(r.key, r.value["amount"]) for r in replayed] == [("r1", -5), ("r3", -7)]
    assert all(not any(h.startswith("dlt-") and h != "dlt-replayed-from" for h in r.headers) for r in replayed)
    assert replayed[0].headers["dlt-replayed-from"] == f"{topic}.DLT/0@0"
    assert replayed[1].headers["event-id"] == "e-r3", "the event id survives, so consumers still dedupe"
    assert replay_dead_letters(broker, name("never-dead"), group=replay_group) == 0
