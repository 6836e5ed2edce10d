"""Bad input is refused at the door by every public constructor and main method (issue 12 item 10),
and the single-threaded browser paths print what the threaded ones do (issue 10 item 2).

Before: ``poll(timeout=inf)`` raised ``OverflowError`` from ``threading``; ``create_topic("t", 10**8)``
hung allocating partitions; ``WorkQueue(visibility_timeout=inf)`` and ``Outbox(clock="x")`` were
accepted and failed later with an unrelated error.
"""

from __future__ import annotations

import math
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.messaging import (
    Event,
    IdempotentConsumer,
    InMemoryBroker,
    JsonSerde,
    MessageTooLarge,
    Outbox,
    OutboxRelay,
    Record,
    WorkQueue,
    drain,
    drain_together,
    process_with_retries,
    record_size,
    replay_dead_letters,
)
from patterns.messaging.validation import prepare_record

INF, NAN = math.inf, math.nan


def broker() -> InMemoryBroker:
    b = InMemoryBroker(clock=ManualClock())
    b.create_topic("orders", partitions=2)
    return b


def consumer() -> Any:
    return broker().subscribe("orders", group="g")


def outbox() -> Outbox:
    return Outbox(sqlite3.connect(":memory:", isolation_level=None), clock=ManualClock())


def idem() -> IdempotentConsumer:
    return IdempotentConsumer(sqlite3.connect(":memory:", isolation_level=None), name="c")


RECORD = Record("orders", 0, 0, "k", {"event_id": "e1"})

BAD_CALLS: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    ("poll timeout inf", lambda: consumer().poll(timeout=INF), ValueError, "timeout"),
    ("poll timeout nan", lambda: consumer().poll(timeout=NAN), ValueError, "timeout"),
    ("poll timeout -1", lambda: consumer().poll(timeout=-1), ValueError, "timeout"),
    ("poll timeout 1e300", lambda: consumer().poll(timeout=1e300), ValueError, "timeout"),
    ("poll timeout str", lambda: consumer().poll(timeout="1"), TypeError, "timeout"),
    ("poll max_records huge", lambda: consumer().poll(max_records=10**12), ValueError, "max_records"),
    ("create_topic 10**8", lambda: broker().create_topic("big", 10**8), ValueError, "partitions"),
    ("create_topic float", lambda: broker().create_topic("big", 2.0), TypeError, "partitions"),
    ("create_topic name", lambda: broker().create_topic(""), ValueError, "topic"),
    ("create_topic type", lambda: broker().create_topic(7), TypeError, "topic"),
    ("add_partitions shrink", lambda: broker().add_partitions("orders", 1), ValueError, "total"),
    ("add_partitions huge", lambda: broker().add_partitions("orders", 10**9), ValueError, "total"),
    ("seek offset huge", lambda: consumer().seek("orders", 0, 2**70), ValueError, "offset"),
    ("seek partition neg", lambda: consumer().seek("orders", -1, 0), ValueError, "partition"),
    ("subscribe member", lambda: broker().subscribe("orders", group="g", member=""), ValueError, "member"),
    ("subscribe member type", lambda: broker().subscribe("orders", group="g", member=3), TypeError, "member"),
    ("subscribe start", lambda: broker().subscribe("orders", group="g", start="now"), ValueError, "start"),
    ("subscribe topics", lambda: broker().subscribe([], group="g"), ValueError, "topics"),
    ("subscribe group type", lambda: broker().subscribe("orders", group=None), TypeError, "group"),
    ("publish headers", lambda: broker().publish("orders", 1, headers={"a": 1}), TypeError, "headers"),
    ("broker clock", lambda: InMemoryBroker(clock="now"), TypeError, "clock"),
    ("broker serde", lambda: InMemoryBroker(serde=object()), TypeError, "serde"),
    ("broker retention inf", lambda: InMemoryBroker(retention=INF), ValueError, "retention"),
    ("broker retention 0", lambda: InMemoryBroker(retention=0), ValueError, "retention"),
    ("broker poll_timeout nan", lambda: InMemoryBroker(poll_timeout=NAN), ValueError, "poll_timeout"),
    ("broker max_deliveries", lambda: InMemoryBroker(max_deliveries=10**19), ValueError, "max_deliveries"),
    ("broker max_message_bytes", lambda: InMemoryBroker(max_message_bytes=10), ValueError, "max_message_bytes"),
    ("broker max_message_bytes type", lambda: InMemoryBroker(max_message_bytes=1e6), TypeError, "max_message_bytes"),
    ("broker auto_create", lambda: InMemoryBroker(auto_create_topics="yes"), TypeError, "auto_create_topics"),
    ("broker default_partitions", lambda: InMemoryBroker(default_partitions=0), ValueError, "default_partitions"),
    ("event type", lambda: Event(3, key="k"), TypeError, "type"),
    ("event data", lambda: Event("X", key="k", data=[("a", 1)]), TypeError, "data"),
    ("event id", lambda: Event("X", key="k", event_id=""), ValueError, "event_id"),
    ("outbox table", lambda: Outbox(sqlite3.connect(":memory:"), table="select"), ValueError, "table"),
    ("outbox table type", lambda: Outbox(sqlite3.connect(":memory:"), table=None), TypeError, "table"),
    ("outbox clock", lambda: Outbox(sqlite3.connect(":memory:"), clock="x"), TypeError, "clock"),
    ("outbox rng", lambda: Outbox(sqlite3.connect(":memory:"), rng=7), TypeError, "rng"),
    ("outbox purge inf", lambda: outbox().purge_sent(INF), ValueError, "older_than"),
    ("outbox pending limit", lambda: outbox().pending(limit=0), ValueError, "limit"),
    ("relay broker", lambda: OutboxRelay(outbox(), object()), TypeError, "broker"),
    ("relay outbox", lambda: OutboxRelay(object(), broker()), TypeError, "outbox"),
    ("relay batch inf", lambda: OutboxRelay(outbox(), broker(), batch_size=INF), TypeError, "batch_size"),
    ("relay batch huge", lambda: OutboxRelay(outbox(), broker(), batch_size=10**12), ValueError, "batch_size"),
    ("relay rounds", lambda: OutboxRelay(outbox(), broker()).run_until_empty(0), ValueError, "max_rounds"),
    ("idem name", lambda: IdempotentConsumer(sqlite3.connect(":memory:"), name=""), ValueError, "name"),
    ("idem id_of", lambda: IdempotentConsumer(sqlite3.connect(":memory:"), name="c", id_of=3), TypeError, "id_of"),
    ("idem table", lambda: IdempotentConsumer(sqlite3.connect(":memory:"), name="c", table="a b"), ValueError, "table"),
    ("idem handler", lambda: idem().handle(RECORD, None), TypeError, "handler"),
    ("idem record", lambda: idem().handle({"event_id": "e"}, lambda tx, r: None), TypeError, "record"),
    ("queue attempts", lambda: WorkQueue(max_attempts=0), ValueError, "max_attempts"),
    ("queue attempts huge", lambda: WorkQueue(max_attempts=10**19), ValueError, "max_attempts"),
    ("queue visibility inf", lambda: WorkQueue(visibility_timeout=INF), ValueError, "visibility_timeout"),
    ("queue visibility 1e300", lambda: WorkQueue(visibility_timeout=1e300), ValueError, "visibility_timeout"),
    ("queue backoff", lambda: WorkQueue(backoff=2.0), TypeError, "backoff"),
    ("queue rng", lambda: WorkQueue(rng=1), TypeError, "rng"),
    ("queue clock", lambda: WorkQueue(clock=1), TypeError, "clock"),
    ("queue put delay nan", lambda: WorkQueue().put("x", delay=NAN), ValueError, "delay"),
    ("queue get consumer", lambda: WorkQueue().get(""), ValueError, "consumer"),
    ("queue ack type", lambda: WorkQueue().ack("m"), TypeError, "message"),
    ("drain limit", lambda: drain(consumer(), limit=0), ValueError, "limit"),
    ("drain_together timeout", lambda: drain_together([consumer()], timeout=INF), ValueError, "timeout"),
    ("retries attempts", lambda: process_with_retries(consumer(), print, broker(), max_attempts=0), ValueError, "max_attempts"),
    ("retries handler", lambda: process_with_retries(consumer(), None, broker()), TypeError, "handler"),
    ("retries dlt", lambda: process_with_retries(consumer(), print, broker(), dead_letter_topic="a b"), ValueError, "dead_letter_topic"),
    ("replay group", lambda: replay_dead_letters(broker(), "orders.DLT", group=""), ValueError, "group"),
]


@pytest.mark.parametrize(("case", "call", "error", "parameter"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_is_refused_at_once_naming_the_parameter(
    case: str, call: Callable[[], object], error: type[Exception], parameter: str
) -> None:
    started = time.monotonic()
    with pytest.raises(error, match=parameter):
        call()
    assert time.monotonic() - started < 1.0, f"{case}: refused, but only after a long time"


def test_a_topic_of_the_largest_allowed_size_is_created_promptly() -> None:
    b = InMemoryBroker()
    b.create_topic("wide", partitions=10_000)
    assert b.topics() == {"wide": 10_000}


# --- the browser path (PATTERNS_BROWSER_MODE=1): no thread ever starts, same results -------------


def no_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATTERNS_BROWSER_MODE", "1")

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")  # what Pyodide says

    monkeypatch.setattr(threading.Thread, "start", refuse)


def group_result() -> dict[str, list[tuple[int, int]]]:
    b = InMemoryBroker(clock=ManualClock())
    b.create_topic("work", partitions=4)
    for i in range(60):
        b.publish("work", {"n": i}, key=f"order-{i}")
    members = [b.subscribe("work", group="workers", member=f"w{m}") for m in range(3)]
    got = drain_together(members)
    return {m: [(r.partition, r.offset) for r in records] for m, records in got.items()}


def test_drain_together_in_the_browser_starts_no_thread_and_returns_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threaded = group_result()
    no_threads(monkeypatch)
    assert group_result() == threaded


def test_poll_with_a_timeout_does_not_wait_in_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    no_threads(monkeypatch)
    b = InMemoryBroker(clock=ManualClock(), poll_timeout=30.0)
    b.create_topic("t")
    c = b.subscribe("t", group="g")
    started = time.monotonic()
    assert c.poll(timeout=30.0) == [] and c.poll() == []
    assert time.monotonic() - started < 5.0, "nobody can publish meanwhile: waiting would only hang"
    b.publish("t", {"n": 1})
    assert [r.value for r in c.poll(timeout=30.0)] == [{"n": 1}]


def test_the_work_queue_runs_without_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    no_threads(monkeypatch)
    clock = ManualClock()
    q = WorkQueue(clock, rng=random.Random(1))
    q.put("job")
    m = q.get("w")
    assert m is not None and q.nack(m) and q.get("w") is None
    clock.advance(1.0)
    assert q.get("w") is not None


# --- the record size both brokers enforce is the one Kafka's client computes -----------------------


@given(
    key=st.none() | st.text(max_size=300),
    value=st.text(max_size=3000),
    headers=st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=300), max_size=3),
    limit=st.integers(1024, 4096),
)
def test_a_record_is_refused_exactly_when_kafkas_count_exceeds_the_limit(
    key: str | None, value: str, headers: dict[str, str], limit: int
) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka.record.default_records import DefaultRecordBatchBuilder

    data = JsonSerde().dumps(value)
    raw_key = None if key is None else key.encode("utf-8")
    raw_headers = [(k, v.encode("utf-8")) for k, v in headers.items()]
    kafkas = DefaultRecordBatchBuilder.estimate_size_in_bytes(raw_key, data, raw_headers)
    assert record_size(raw_key, data, dict(raw_headers)) == kafkas
    try:
        prepare_record(JsonSerde(), "t", value, key, headers, limit)
    except MessageTooLarge as exc:
        assert kafkas > limit and exc.size == kafkas
    else:
        assert kafkas <= limit
