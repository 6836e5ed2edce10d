"""Invariants of patterns.messaging, checked on generated inputs."""

from __future__ import annotations

import contextlib
import sqlite3
import warnings

from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.messaging import (
    Event,
    InMemoryBroker,
    JsonSerde,
    Outbox,
    OutboxRelay,
    WorkQueue,
    murmur2,
    partition_for,
)
from patterns.resilience import Backoff

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.partitioner.default import murmur2 as kafka_murmur2

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(key=st.text(max_size=40), partitions=st.integers(1, 64))
def test_partition_is_stable_in_range_and_equal_to_kafkas(key: str, partitions: int) -> None:
    p = partition_for(key, partitions)
    assert 0 <= p < partitions and p == partition_for(key, partitions)
    assert p == (kafka_murmur2(key.encode()) & 0x7FFFFFFF) % partitions
    assert murmur2(key.encode()) & 0x7FFFFFFF == kafka_murmur2(key.encode()) & 0x7FFFFFFF


@given(value=json_values)
def test_json_serde_round_trips(value: object) -> None:
    serde = JsonSerde()
    assert serde.loads(serde.dumps(value)) == value


@given(keys=st.lists(st.sampled_from("abcdefg"), max_size=40), partitions=st.integers(1, 5))
def test_same_key_same_partition_and_offsets_are_dense(keys: list[str], partitions: int) -> None:
    broker = InMemoryBroker(clock=ManualClock())
    broker.create_topic("t", partitions=partitions)
    results = [broker.publish("t", {"i": i}, key=k) for i, k in enumerate(keys)]
    for k in set(keys):
        assert len({r.partition for r, kk in zip(results, keys, strict=True) if kk == k}) == 1
    for p in range(partitions):
        assert [r.offset for r in results if r.partition == p] == list(
            range(sum(r.partition == p for r in results))
        )
    records = broker.read("t")
    for k in set(keys):
        assert [r.value["i"] for r in records if r.key == k] == [i for i, kk in enumerate(keys) if kk == k]


@given(stamps=st.lists(st.floats(0, 10), max_size=20), retention=st.floats(0.5, 30))
def test_retention_keeps_exactly_the_recent_records(stamps: list[float], retention: float) -> None:
    clock = ManualClock()
    broker = InMemoryBroker(clock=clock, retention=retention)
    broker.create_topic("t")
    times = []
    for gap in stamps:
        clock.advance(gap)
        times.append(clock.now())
        broker.publish("t", {"at": clock.now()})
    kept = [r.value["at"] for r in broker.read("t")]
    horizon = clock.now() - retention
    assert kept == [t for t in times if t >= horizon]
    assert broker.log_start("t")[0] == len(times) - len(kept)


work_op = st.one_of(
    st.tuples(st.just("put")),
    st.tuples(st.just("get"), st.integers(0, 2)),
    st.tuples(st.just("ack"), st.integers(0, 5)),
    st.tuples(st.just("nack"), st.integers(0, 5)),
    st.tuples(st.just("wait"), st.floats(0, 20)),
)


@given(ops=st.lists(work_op, max_size=80), max_attempts=st.integers(1, 4))
def test_work_queue_each_job_ends_acked_once_or_dead_never_both(ops: list[tuple], max_attempts: int) -> None:
    clock = ManualClock()
    q = WorkQueue(clock, max_attempts=max_attempts, backoff=Backoff.exponential(base=1.0, cap=8.0, jitter="none"), visibility_timeout=10.0)
    held: list = []
    acked: list[int] = []
    put = 0
    for o in ops:
        if o[0] == "put":
            q.put(put)
            put += 1
        elif o[0] == "get":
            m = q.get(f"w{o[1]}")
            if m is not None:
                assert m.attempt <= max_attempts
                held.append(m)
        elif o[0] in ("ack", "nack") and held:
            m = held.pop(o[1] % len(held))
            if o[0] == "ack" and q.ack(m):
                acked.append(m.payload)
            elif o[0] == "nack":
                q.nack(m, "failed")
        elif o[0] == "wait":
            clock.advance(o[1])
    # drain: whoever still holds a job vanishes; workers ack everything from now on
    for _ in range(10 * (max_attempts + 1)):
        clock.advance(20.0)
        while (m := q.get("drain")) is not None:
            assert q.ack(m)
            acked.append(m.payload)
    dead = [d.message.payload for d in q.dead_letters]
    assert len(acked) == len(set(acked)), "a job was acked twice"
    assert not set(acked) & set(dead), "a job was both acked and dead-lettered"
    assert sorted(acked + dead) == list(range(put)), "a job vanished"
    assert all(d.message.attempt == max_attempts for d in q.dead_letters)


@given(
    plan=st.lists(st.tuples(st.sampled_from(["o1", "o2", "o3"]), st.booleans()), max_size=25),
    crashes=st.lists(st.booleans(), max_size=25),
)
def test_outbox_relay_keeps_commit_order_per_aggregate_despite_crashes(
    plan: list[tuple[str, bool]], crashes: list[bool]
) -> None:
    clock = ManualClock()
    broker = InMemoryBroker(clock=clock)
    broker.create_topic("orders", partitions=2)
    outbox = Outbox(sqlite3.connect(":memory:"), clock=clock)
    relay = OutboxRelay(outbox, broker, batch_size=3)
    real_publish = broker.publish

    def flaky(*args: object, **kwargs: object) -> object:
        if crashes and crashes.pop(0):
            raise ConnectionError("broker unreachable")
        return real_publish(*args, **kwargs)  # type: ignore[arg-type]

    broker.publish = flaky  # type: ignore[method-assign]
    committed: list[tuple[str, str]] = []
    for i, (aggregate, relay_now) in enumerate(plan):
        with outbox.transaction() as tx:
            event_id = outbox.add(tx, "orders", Event("Changed", key=aggregate, data={"i": i}))
        committed.append((aggregate, event_id))
        if relay_now:
            with contextlib.suppress(ConnectionError):
                relay.run_once()
    crashes.clear()
    relay.run_until_empty()
    seen: dict[str, list[str]] = {}
    for r in broker.read("orders"):
        ids = seen.setdefault(r.key, [])
        if r.headers["event-id"] not in ids:
            ids.append(r.headers["event-id"])
    for aggregate in {a for a, _ in committed}:
        assert seen[aggregate] == [e for a, e in committed if a == aggregate]
