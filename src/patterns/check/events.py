"""Checkers for the exercises of lab 02, "Event-driven architecture".

The reference answers are computed with ``patterns.messaging`` (an ``InMemoryBroker`` on a
``ManualClock``) or from generated cases, never stored.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from patterns.check import NOT_ANSWERED, is_unanswered, report
from patterns.clock import ManualClock

__all__ = [
    "idle_members",
    "check_idle_members",
    "check_in_order_per_key",
    "check_revenue_projection",
    "DLQ_RECORDS",
    "DLQ_POISON",
    "DLQ_FLAKY",
    "DLQ_MAX_ATTEMPTS",
    "dead_letter_outcome",
    "check_dead_letters",
]


def idle_members(partitions: int, members: int) -> int:
    """How many members of one group own no partition, measured on an ``InMemoryBroker``."""
    from patterns.messaging import InMemoryBroker

    broker = InMemoryBroker(clock=ManualClock())
    broker.create_topic("orders", partitions=partitions)
    consumers = [broker.subscribe("orders", group="email", member=f"m{i}") for i in range(members)]
    return sum(1 for c in consumers if not c.assignment())


def check_idle_members(answer: object, partitions: int = 3, members: int = 5) -> bool:
    """Exercise: members of one group that receive nothing when members > partitions."""
    title = f"idle members ({members} members, {partitions} partitions)"
    if is_unanswered(answer):
        return report(title, ["set answer_idle to an integer"])
    want = idle_members(partitions, members)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return report(title, [f"answer_idle must be an integer, got {answer!r}"])
    problems = []
    if answer != want:
        problems.append(f"{answer} is not it")
        problems.append("hint: inside a group each partition has exactly one owner")
    return report(title, problems, "Partitions, not members, bound a group's parallelism.")


def _record(key: str, seq: int, partition: int) -> dict[str, Any]:
    return {"key": key, "seq": seq, "partition": partition}


def _order_cases(rng: random.Random) -> list[tuple[list[dict[str, Any]], bool]]:
    """Consumed sequences: interleaved keys in order (True) and with one key's order broken (False)."""
    cases: list[tuple[list[dict[str, Any]], bool]] = [([], True)]
    for _ in range(40):
        keys = [f"order-{i}" for i in range(rng.randint(1, 5))]
        streams = {k: [_record(k, s, int(k.split("-")[1]) % 3) for s in range(rng.randint(1, 6))] for k in keys}
        merged: list[dict[str, Any]] = []
        while any(streams.values()):
            k = rng.choice([k for k, v in streams.items() if v])
            merged.append(streams[k].pop(0))
        cases.append((list(merged), True))
        same_key = [i for i in range(len(merged) - 1) for j in range(i + 1, len(merged))
                    if merged[i]["key"] == merged[j]["key"]]
        if same_key:
            i = rng.choice(same_key)
            j = next(j for j in range(i + 1, len(merged)) if merged[j]["key"] == merged[i]["key"])
            broken = list(merged)
            broken[i], broken[j] = broken[j], broken[i]
            cases.append((broken, False))
    return cases


def check_in_order_per_key(fn: Callable[[Sequence[dict[str, Any]]], bool]) -> bool:
    """Exercise: ``fn(records)`` is True iff each key's ``seq`` values arrive strictly increasing."""
    title = "per-key order"
    if is_unanswered(fn) or not callable(fn):
        return report(title, ["define in_order_per_key(records) first"])
    problems = []
    for records, want in _order_cases(random.Random(2)):
        try:
            got = fn([dict(r) for r in records])
        except Exception as exc:  # a learner's bug is feedback
            problems.append(f"raised {type(exc).__name__}: {exc} on {records[:4]}...")
            break
        if got is not want:
            shown = [(r["key"], r["seq"]) for r in records]
            problems.append(f"returned {got!r}, expected {want} for (key, seq) = {shown}")
            if want:
                problems.append("hint: events of DIFFERENT keys may interleave in any order")
            else:
                problems.append("hint: compare each record's seq with the last seq seen for its key")
            break
    return report(title, problems, "Order is a per-key promise, not a global one.")


def _revenue_case(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, float]]:
    customers = ["c-1", "c-2", "c-3", "c-4"]
    events, truth = [], dict.fromkeys(customers, 0.0)
    for i in range(30):
        customer = rng.choice(customers)
        total = round(rng.uniform(5, 200), 2)
        kind = rng.choice(["OrderPlaced", "OrderPlaced", "OrderPlaced", "OrderShipped"])
        event = {"event_id": f"e-{i}", "type": kind, "key": f"o-{i}",
                 "data": {"customer": customer, "total": total}}
        if kind == "OrderPlaced":
            truth[customer] += total
        events.append(event)
        if rng.random() < 0.3:  # at-least-once: a redelivered copy, later in the stream
            events.append(dict(event))
    return events, {c: round(v, 2) for c, v in truth.items() if v}


def check_revenue_projection(fn: Callable[[Sequence[dict[str, Any]]], dict[str, float]]) -> bool:
    """Exercise: rebuild revenue per customer by replaying events that include duplicates."""
    title = "revenue projection rebuilt by replay"
    if is_unanswered(fn) or not callable(fn):
        return report(title, ["define revenue_by_customer(events) first"])
    problems = []
    for seed in range(5):
        events, want = _revenue_case(random.Random(seed))
        try:
            got = fn([dict(e) for e in events])
        except Exception as exc:
            problems.append(f"raised {type(exc).__name__}: {exc}")
            break
        if not isinstance(got, dict):
            problems.append(f"must return a dict customer -> revenue, got {type(got).__name__}")
            break
        got = {k: round(v, 2) for k, v in got.items() if v}
        if got != want:
            problems.append(f"got {got}, expected {want}")
            if any(got.get(c, 0) > v for c, v in want.items()):
                problems.append("hint: too much revenue: skip event ids you have already applied, "
                                "and count only OrderPlaced events")
            break
    return report(title, problems, "Replay + dedup by event id rebuilds the same state every time.")


# --- exercise 4: poison records, the dead-letter topic and its replay ---------------------------

DLQ_RECORDS = 6  # payments p1..p6 on a one-partition topic
DLQ_POISON = (2, 5)  # these fail every time (a field the handler cannot parse)
DLQ_FLAKY = (4,)  # these fail once (a timeout), then succeed
DLQ_MAX_ATTEMPTS = 3


def dead_letter_outcome(
    records: int = DLQ_RECORDS,
    poison: Sequence[int] = DLQ_POISON,
    flaky: Sequence[int] = DLQ_FLAKY,
    max_attempts: int = DLQ_MAX_ATTEMPTS,
) -> dict[str, int]:
    """Run the exercise's scenario on an ``InMemoryBroker`` and count what happened.

    ``calls``: handler calls by ``process_with_retries``; ``dead_lettered``: records moved to the
    dead-letter topic; ``replayed``: records the fixed consumer receives when the dead-letter topic
    is replayed twice with the same replay group.
    """
    from patterns.messaging import InMemoryBroker, Record, drain, process_with_retries, replay_dead_letters

    broker = InMemoryBroker(clock=ManualClock())
    broker.create_topic("payments", partitions=1)
    broker.publish_many("payments", [(f"p{n}", {"n": n}) for n in range(1, records + 1)])
    calls = 0
    failures_left = {n: 1 for n in flaky}

    def handle(record: Record) -> None:
        nonlocal calls
        calls += 1
        n = record.value["n"]
        if n in poison:
            raise ValueError("cannot parse the amount")
        if failures_left.get(n, 0):
            failures_left[n] -= 1
            raise TimeoutError("the bank did not answer in time")

    consumer = broker.subscribe("payments", group="payments")
    stats = process_with_retries(consumer, handle, broker, max_attempts=max_attempts)
    consumer.close()
    fixed = broker.subscribe("payments", group="payments-fixed", start="latest")
    for _ in range(2):  # an operator runs the replay twice: the replay group remembers
        replay_dead_letters(broker, "payments.DLT", group="dlt-replay")
    return {"calls": calls, "dead_lettered": stats.dead_lettered, "replayed": len(drain(fixed))}


def check_dead_letters(answer: object) -> bool:
    """Exercise: predict handler calls, dead letters and replayed records for the scenario above."""
    title = "poison records and the dead-letter topic"
    if is_unanswered(answer):
        return report(title, [NOT_ANSWERED])
    keys = ("calls", "dead_lettered", "replayed")
    if not isinstance(answer, dict) or set(answer) != set(keys):
        return report(title, [f"answer_dlq must be a dict with the keys {list(keys)}, got {answer!r}"])
    if not all(isinstance(answer[k], int) and not isinstance(answer[k], bool) for k in keys):
        return report(title, ["each value of answer_dlq must be an integer"])
    want = dead_letter_outcome()
    hints = {
        "calls": f"each poison record is tried {DLQ_MAX_ATTEMPTS} times, a flaky one until it succeeds, "
        "the others once",
        "dead_lettered": "only records that fail on every attempt are dead-lettered; a record that "
        "succeeds on a retry is not",
        "replayed": "the replay group commits how far it got: a second run replays only dead letters "
        "that arrived since",
    }
    problems = []
    for key in keys:
        if answer[key] != want[key]:
            problems.append(f"{key}: {answer[key]} is not it")
            problems.append(f"hint: {hints[key]}")
    return report(
        title,
        problems,
        f"{want['calls']} calls, {want['dead_lettered']} dead letters, {want['replayed']} replayed once the "
        "bug is fixed.",
    )
