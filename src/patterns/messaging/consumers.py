"""Consumer loops that work on any ``Broker``: drain, drain a group together, retry and dead-letter.

* ``drain`` polls one member until nothing more comes;
* ``drain_together`` drains every member of a group at once, as separate processes would;
* ``process_with_retries`` handles a poll's records, retrying each, and moves a record that keeps
  failing (a *poison* record) to a dead-letter topic so it cannot block its partition;
* ``replay_dead_letters`` sends dead letters back to the topic they came from, once the cause is
  fixed, each exactly once per replay group.

Dead letters carry headers naming where they came from (``dlt-original-topic``, ``-partition``,
``-offset``), how often they were tried (``dlt-attempts``) and the last error (``dlt-error``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from patterns import compat
from patterns._validate import require_callable, require_instance, require_int, require_seconds
from patterns.messaging.protocol import Broker, Consumer, Record, UnknownTopicError
from patterns.messaging.validation import require_group, require_max_records, require_topic

__all__ = [
    "drain",
    "drain_together",
    "process_with_retries",
    "replay_dead_letters",
    "RetryStats",
    "DLT_SUFFIX",
    "DLT_HEADERS",
]

DLT_SUFFIX = ".DLT"
#: The headers a dead letter carries besides the original record's own.
DLT_HEADERS = (
    "dlt-original-topic",
    "dlt-original-partition",
    "dlt-original-offset",
    "dlt-attempts",
    "dlt-deliveries",
    "dlt-error",
)
MAX_ATTEMPTS = 1_000


def drain(consumer: Consumer, *, max_records: int = 500, limit: int | None = None) -> list[Record]:
    """Poll until a poll returns nothing (or ``limit`` records were read); return all records."""
    require_max_records(max_records)
    if limit is not None:
        require_int(limit, "limit", minimum=1)
    out: list[Record] = []
    while limit is None or len(out) < limit:
        batch = consumer.poll(
            max_records=max_records if limit is None else min(max_records, limit - len(out))
        )
        if not batch:
            break
        out.extend(batch)
    return out


def drain_together(consumers: Sequence[Consumer], *, timeout: float = 30.0) -> dict[str, list[Record]]:
    """Drain all live members of one group at once, each in its own thread, as separate processes would.

    First lets the group settle (every partition of the topics owned by exactly one member), so no
    member reads a partition it is about to lose; then each member drains its own partitions.
    Returns the records per member name. On Kafka a rebalance only completes while every member
    polls, which is why draining members one after the other stalls there; in-process it settles
    at once and the result is the same. Where threads cannot start (in the browser) the members
    are drained one after the other: only the in-process broker exists there, so the result is too.
    """
    members = list(consumers)
    require_seconds(timeout, "timeout")
    results: dict[str, list[Record]] = {c.member: [] for c in members}
    if not compat.threads_available():
        for c in members:
            results[c.member].extend(drain(c))
        return results
    _settle(members, timeout)
    threads = [threading.Thread(target=lambda c=c: results[c.member].extend(drain(c))) for c in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _settle(members: list[Consumer], timeout: float) -> None:
    wanted = {(t, p) for c in members for t in c.topics for p in range(c.broker.topics()[t])}

    def settled() -> bool:
        owned = [c.assignment() for c in members]
        return sum(len(a) for a in owned) == len(wanted) and set().union(*owned) == wanted

    stop = threading.Event()

    def peek(c: Consumer) -> None:  # poll to take part in the rebalance, but give every record back
        while not stop.is_set() and not settled():
            for r in c.poll(max_records=1, timeout=0.1):
                with contextlib.suppress(ValueError):  # revoked meanwhile: the new owner starts at the commit
                    c.seek(r.topic, r.partition, r.offset)

    threads = [threading.Thread(target=peek, args=(c,)) for c in members]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    while not settled() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    if not settled():
        raise TimeoutError(
            f"group did not settle within {timeout}s: {[sorted(c.assignment()) for c in members]}"
        )


@dataclass
class RetryStats:
    """What ``process_with_retries`` did: records handled, handler failures, records dead-lettered."""

    handled: int = 0
    failures: int = 0
    dead_lettered: int = 0


def process_with_retries(
    consumer: Consumer,
    handler: Callable[[Record], object],
    broker: Broker,
    *,
    max_attempts: int = 3,
    dead_letter_topic: str | None = None,
    max_records: int = 100,
) -> RetryStats:
    """Handle one poll's records, retrying each up to ``max_attempts`` times, then dead-letter it.

    A poison record (the handler always raises) must not block its partition forever: after
    ``max_attempts`` failures it is copied to ``dead_letter_topic`` (default ``<topic>.DLT``) with
    headers naming the error and its origin, and the consumer moves on. Commits after the batch, so
    a crash mid-batch redelivers (at-least-once). Works on every ``Broker``.

    Retries here are immediate: they suit errors that a second try may not repeat (a lost
    connection). An error that needs time to clear (a dependency down for minutes) belongs in a
    retry topic or a work queue with backoff, not in a loop that holds up the partition.
    """
    require_callable(handler, "handler")
    require_int(max_attempts, "max_attempts", minimum=1, maximum=MAX_ATTEMPTS)
    if dead_letter_topic is not None:
        require_topic(dead_letter_topic, "dead_letter_topic")
    stats = RetryStats()
    for record in consumer.poll(max_records=require_max_records(max_records)):
        for attempt in range(1, max_attempts + 1):
            try:
                handler(record)
            except Exception as exc:  # noqa: BLE001 - any handler failure counts as a failed delivery
                stats.failures += 1
                if attempt == max_attempts:
                    topic = dead_letter_topic or f"{record.topic}{DLT_SUFFIX}"
                    broker.create_topic(topic, partitions=1)  # idempotent
                    broker.publish(
                        topic,
                        record.value,
                        key=record.key,
                        headers=_dead_letter_headers(record, exc, attempt),
                    )
                    stats.dead_lettered += 1
            else:
                stats.handled += 1
                break
    consumer.commit()
    return stats


def _dead_letter_headers(record: Record, exc: BaseException, attempts: int) -> dict[str, str]:
    return {
        **record.headers,
        "dlt-original-topic": record.topic,
        "dlt-original-partition": str(record.partition),
        "dlt-original-offset": str(record.offset),
        "dlt-attempts": str(attempts),
        "dlt-error": f"{type(exc).__name__}: {exc}"[:500],
    }


def replay_dead_letters(
    broker: Broker,
    dead_letter_topic: str,
    *,
    group: str,
    to_topic: str | None = None,
    max_records: int = 500,
) -> int:
    """Publish every dead letter not yet replayed by ``group`` back to its original topic.

    Run it after fixing what made the records fail. ``group`` remembers how far the replay got (a
    consumer group on the dead-letter topic, committed after each batch), so running it again
    replays only dead letters that arrived since, and a crash mid-way replays at most one batch
    twice. The replayed record keeps its key and its own headers (an ``event-id`` header, for
    instance, so idempotent consumers still recognise it) without the ``dlt-*`` ones, and gains
    ``dlt-replayed-from``. ``to_topic`` overrides the destination (default: the
    ``dlt-original-topic`` header). Returns how many records were replayed (0 if the dead-letter
    topic does not exist: nothing was ever dead-lettered).

    A replayed record goes to the END of its topic: consumers see it after events of the same key
    that were published meanwhile. Replay is safe only where that reordering is (see chapter 02).
    """
    require_instance(broker, "broker", Broker, what="a Broker")
    require_topic(dead_letter_topic, "dead_letter_topic")
    require_group(group)
    if to_topic is not None:
        require_topic(to_topic, "to_topic")
    require_max_records(max_records)
    try:
        consumer = broker.subscribe(dead_letter_topic, group=group)
    except UnknownTopicError:  # nothing was ever dead-lettered
        return 0
    replayed = 0
    try:
        while batch := consumer.poll(max_records=max_records):
            for record in batch:
                destination = to_topic or record.headers.get("dlt-original-topic")
                if destination is None:
                    raise ValueError(
                        f"record {record.topic}/{record.partition}@{record.offset} has no "
                        "dlt-original-topic header: pass to_topic=..."
                    )
                headers = {k: v for k, v in record.headers.items() if k not in DLT_HEADERS}
                headers["dlt-replayed-from"] = f"{record.topic}/{record.partition}@{record.offset}"
                broker.publish(destination, record.value, key=record.key, headers=headers)
                replayed += 1
            consumer.commit()
    finally:
        consumer.close()
    return replayed
