"""A consumer group of three OS processes on the real Kafka-protocol broker; one is SIGKILLed.

Issue 13 item 5. Three worker processes (``worker_main`` below, started with ``python -c``) join one
group over a 6-partition topic and apply every record through an ``IdempotentConsumer`` into one
shared SQLite file, committing their offsets only every few polls (so a kill leaves handled but
uncommitted records behind). The test publishes a steady stream, kills one worker with SIGKILL (no
``close``, no LeaveGroup: the broker must notice the silence), keeps publishing, and checks:

* every published event has exactly one effect (the survivors got the dead worker's partitions,
  its uncommitted records were delivered again, and the idempotent consumer dropped the repeats);
* the rebalance pause: from the kill to the first record a survivor handled on a partition the
  dead worker owned (bounded below by the 3 s session timeout), and the longest stall the
  survivors' own partitions saw meanwhile. The figures are printed (run with ``-s``), not asserted:
  wall time belongs in the chapter's measured figures, not in a test's pass/fail.

Runs only when ``PATTERNS_KAFKA_BOOTSTRAP`` is set (the ``real_kafka`` marker counts it).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from patterns import infra
from patterns.messaging import Event, IdempotentConsumer, KafkaBroker, Record
from tests.helpers import wait_until

REPO = Path(__file__).resolve().parents[2]
REAL = ["kafka"] if os.environ.get(infra.KAFKA_BOOTSTRAP_ENV) else []
PARTITIONS = 6
WORKERS = 3
BEFORE, AFTER = 200, 400  # events published before and after the kill
COMMIT_EVERY = 3  # polls with records between two offset commits


def worker_main(bootstrap: str, namespace: str, topic: str, group: str, member: str, db: str) -> None:
    """One group member as its own process: poll, apply once, commit every few polls, forever."""
    broker = KafkaBroker(bootstrap, namespace=namespace)
    consumer = broker.subscribe(topic, group=group, member=member)
    conn = sqlite3.connect(db, isolation_level=None, timeout=30.0)
    idem = IdempotentConsumer(conn, name="billing")
    owned: list[list[int]] = []
    unsaved = 0

    def apply(tx: sqlite3.Connection, record: Record) -> None:
        tx.execute(
            "INSERT INTO effects VALUES (?, ?, ?, ?, ?)",
            (record.value["event_id"], member, record.partition, record.offset, time.time()),
        )

    while True:
        records = consumer.poll(max_records=20, timeout=0.2)
        now = sorted(p for _, p in consumer.assignment())
        if not owned or owned[-1] != now:
            owned.append(now)
            conn.execute("INSERT INTO assignments VALUES (?, ?, ?)", (member, json.dumps(now), time.time()))
        for record in records:
            conn.execute(
                "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?)",
                (member, record.partition, record.offset, record.value["event_id"], time.time()),
            )
            idem.handle(record, apply)
        if records:
            unsaved += 1
            if unsaved >= COMMIT_EVERY:
                consumer.commit()
                unsaved = 0


def start_worker(
    bootstrap: str, namespace: str, topic: str, group: str, member: str, db: Path
) -> subprocess.Popen[bytes]:
    """``worker_main`` in a new interpreter; its stderr goes to ``<db dir>/<member>.log``."""
    code = (
        "from tests.faults.test_messaging_group_processes import worker_main; "
        f"worker_main({bootstrap!r}, {namespace!r}, {topic!r}, {group!r}, {member!r}, {str(db)!r})"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open(db.parent / f"{member}.log", "wb") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stderr=log)


def prepare(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE effects (event_id TEXT, member TEXT, partition INTEGER, offset INTEGER, at REAL)")
    conn.execute("CREATE TABLE deliveries (member TEXT, partition INTEGER, offset INTEGER, event_id TEXT, at REAL)")
    conn.execute("CREATE TABLE assignments (member TEXT, partitions TEXT, at REAL)")
    conn.close()


def latest_assignment(conn: sqlite3.Connection) -> dict[str, list[int]]:
    rows = conn.execute("SELECT member, partitions FROM assignments ORDER BY at").fetchall()
    return {member: json.loads(parts) for member, parts in rows}


@pytest.mark.parametrize("broker_kind", REAL)
def test_a_group_of_three_processes_survives_a_sigkill_and_applies_every_record_once(
    broker_kind: str, tmp_path: Path
) -> None:
    bootstrap = os.environ[infra.KAFKA_BOOTSTRAP_ENV]
    suffix = uuid.uuid4().hex[:8]
    namespace, topic, group = f"procs-{suffix}", "payments", "billing"
    broker = KafkaBroker(bootstrap, namespace=namespace)
    broker.create_topic(topic, partitions=PARTITIONS)
    db = tmp_path / "billing.db"
    prepare(db)
    members = [f"billing-{i}" for i in range(WORKERS)]
    procs = {m: start_worker(bootstrap, namespace, topic, group, m, db) for m in members}
    conn = sqlite3.connect(db, isolation_level=None, timeout=30.0)
    published: list[str] = []
    try:

        def split_evenly() -> bool:
            owned = latest_assignment(conn)
            return len(owned) == WORKERS and sorted(p for ps in owned.values() for p in ps) == list(range(PARTITIONS))

        wait_until(split_evenly, timeout=90.0)

        def publish(count: int, stop: threading.Event | None = None) -> None:
            for _ in range(count // 10):
                batch = [Event("PaymentCaptured", key=f"order-{len(published) + i}", data={"n": len(published) + i})
                         for i in range(10)]
                broker.publish_many(topic, [(e.key, e) for e in batch])
                published.extend(e.event_id for e in batch)
                time.sleep(0.1)

        victim = members[0]
        publish(BEFORE)

        def victim_busy() -> bool:
            row = conn.execute("SELECT COUNT(*) FROM deliveries WHERE member = ?", (victim,)).fetchone()
            return int(row[0]) >= 30

        wait_until(victim_busy, timeout=60.0)
        victim_partitions = latest_assignment(conn)[victim]
        killed_at = time.time()
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait(timeout=10)
        publish(AFTER)

        def all_applied() -> bool:
            return int(conn.execute("SELECT COUNT(*) FROM effects").fetchone()[0]) >= len(published)

        wait_until(all_applied, timeout=120.0)
        time.sleep(1.0)  # a late duplicate would show up now

        effects = conn.execute("SELECT event_id, COUNT(*) FROM effects GROUP BY event_id").fetchall()
        assert sorted(e for e, _ in effects) == sorted(published), "every event applied"
        assert all(n == 1 for _, n in effects), "no event applied twice"
        deliveries = int(conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0])
        survivors = [m for m in members if m != victim]
        taken_over = conn.execute(
            f"SELECT MIN(at) FROM deliveries WHERE at > ? AND member IN (?, ?) AND partition IN "
            f"({','.join('?' * len(victim_partitions))})",
            (killed_at, *survivors, *victim_partitions),
        ).fetchone()[0]
        assert taken_over is not None, "the survivors took the dead member's partitions over"
        final = latest_assignment(conn)
        assert sorted(p for m in survivors for p in final[m]) == list(range(PARTITIONS))

        gaps = []
        for partition in range(PARTITIONS):
            if partition in victim_partitions:
                continue
            times = [row[0] for row in conn.execute(
                "SELECT at FROM deliveries WHERE partition = ? AND at > ? ORDER BY at", (partition, killed_at - 1.0)
            )]
            gaps.extend(b - a for a, b in zip(times, times[1:], strict=False))
        figures = {
            "published": len(published),
            "deliveries": deliveries,
            "redelivered_and_deduplicated": deliveries - len(published),
            "dead_member_partitions": victim_partitions,
            "pause_on_dead_members_partitions_s": round(taken_over - killed_at, 2),
            "longest_stall_on_survivors_partitions_s": round(max(gaps, default=0.0), 2),
        }
        print("\nconsumer group of 3 processes, one SIGKILLed:", json.dumps(figures))
        (tmp_path / "figures.json").write_text(json.dumps(figures))
        assert deliveries >= len(published)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        conn.close()
        broker.close()
