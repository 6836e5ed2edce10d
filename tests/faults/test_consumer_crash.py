"""Consumers crash (close without commit) at arbitrary moments: nothing is lost, per-key order holds.

A Hypothesis-generated schedule interleaves publishing, members joining, polling, committing and
crashing in two consumer groups. At the end a fresh member drains each group. Checked:

* every group received every published event at least once (no loss on crash);
* per key, the first deliveries arrive in publish order (redeliveries only repeat, never reorder);
* a record is redelivered only if it was not committed by the group.

These fail if ``close`` committed, if a rebalance started a partition past the committed offset,
or if ``commit`` stored more than what was returned (checked by breaking the code on purpose).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.messaging import InMemoryBroker, MemoryConsumer, Record, drain

KEYS = ["a", "b", "c", "d", "e"]
GROUPS = ["email", "audit"]

op = st.one_of(
    st.tuples(st.just("publish"), st.sampled_from(KEYS)),
    st.tuples(st.just("join"), st.sampled_from(GROUPS)),
    st.tuples(st.just("poll"), st.sampled_from(GROUPS), st.integers(0, 5), st.integers(1, 4)),
    st.tuples(st.just("commit"), st.sampled_from(GROUPS), st.integers(0, 5)),
    st.tuples(st.just("crash"), st.sampled_from(GROUPS), st.integers(0, 5)),
)


@dataclass
class GroupLog:
    members: list[MemoryConsumer] = field(default_factory=list)
    delivered: list[Record] = field(default_factory=list)  # every hand-over, in order
    pending: dict[str, list[Record]] = field(default_factory=dict)  # per member, since its last commit
    processed: list[Record] = field(default_factory=list)  # committed by the member that got them


def pick(log: GroupLog, i: int) -> MemoryConsumer | None:
    live = [m for m in log.members if not m.closed]
    return live[i % len(live)] if live else None


@given(ops=st.lists(op, max_size=60), partitions=st.integers(1, 4))
def test_crashes_lose_nothing_and_keep_per_key_order(ops: list[tuple], partitions: int) -> None:
    broker = InMemoryBroker(clock=ManualClock())
    broker.create_topic("orders", partitions=partitions)
    logs = {g: GroupLog() for g in GROUPS}
    published: list[tuple[str, int]] = []  # (key, seq)
    joined = 0
    for o in ops:
        kind = o[0]
        if kind == "publish":
            published.append((o[1], len(published)))
            broker.publish("orders", {"seq": len(published) - 1}, key=o[1])
        elif kind == "join":
            joined += 1
            logs[o[1]].members.append(broker.subscribe("orders", group=o[1], member=f"m{joined:03d}"))
        elif (member := pick(logs[o[1]], o[2])) is not None:
            log = logs[o[1]]
            if kind == "poll":
                batch = member.poll(max_records=o[3])
                log.delivered.extend(batch)
                log.pending.setdefault(member.member, []).extend(batch)
            elif kind == "commit":
                member.commit()
                log.processed.extend(log.pending.pop(member.member, []))
            else:
                member.close()  # crash: no commit, its pending work is lost with it
                log.pending.pop(member.member, None)
    for group, log in logs.items():
        committed_before = broker.committed("orders", group=group)
        final = broker.subscribe("orders", group=group, member="zz-final")
        for m in log.members:
            m.close()
        tail = drain(final)
        assert all(r.offset >= committed_before[r.partition] for r in tail), "committed records came back"
        delivered = log.delivered + tail
        done = {r.value["seq"] for r in log.processed + tail}
        assert done == set(range(len(published))), (
            f"group {group} lost events: {sorted(set(range(len(published))) - done)}"
        )
        first: dict[str, list[int]] = {}
        seen: set[int] = set()
        for r in delivered:
            if r.value["seq"] not in seen:
                seen.add(r.value["seq"])
                first.setdefault(r.key, []).append(r.value["seq"])
        for key, order in first.items():
            assert order == [s for k, s in published if k == key], f"key {key} reordered in {group}"


def test_crashing_worker_threads_lose_no_event() -> None:
    """Workers in threads crash every few records; replacements join; all events get processed."""
    broker = InMemoryBroker(clock=ManualClock())
    broker.create_topic("jobs", partitions=4)
    total = 600
    broker.publish_many("jobs", [(f"k{i % 13}", {"n": i}) for i in range(total)])
    processed: set[int] = set()
    lock = threading.Lock()
    counter = iter(range(10_000))

    def worker(slot: int) -> None:
        for life in range(1000):
            c = broker.subscribe("jobs", group="g", member=f"w{slot}-{life}-{next(counter)}")
            batch = c.poll(max_records=7)
            with lock:
                processed.update(r.value["n"] for r in batch)
            if life % 3 == 2:
                c.close()  # crash before commit: these 7 come back to someone
                continue
            c.commit()
            c.close()
            with lock:
                if len(processed) == total and sum(broker.lag("jobs", group="g").values()) == 0:
                    return

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert processed == set(range(total))
    assert sum(broker.lag("jobs", group="g").values()) == 0
