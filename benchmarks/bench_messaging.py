"""Messaging throughput, side by side, in one run.

1. In-process: ``InMemoryBroker`` publish + group consume (poll, commit per batch) in events/s,
   beside a plain ``queue.Queue`` carrying the same JSON bytes (the floor: no partitions, keys,
   groups or offsets) for scale.
2. Kafka (when ``PATTERNS_KAFKA_BOOTSTRAP`` is set or ``--kafka host:port`` is given): the same
   produce-then-consume job through ``KafkaBroker`` and through raw kafka-python on the same
   broker, with the same JSON encoding and group settings. The ratio is our overhead (target <= 1.2x).
   Group joins happen before the clock starts; each round uses fresh topics and groups. Wall time
   is what a user waits; client CPU time (all threads of this process) isolates the wrapper's own
   cost from broker latency and from other load on a shared machine.

Usage: python benchmarks/bench_messaging.py [--events N] [--kafka-events N] [--rounds R] [--kafka host:port]
Speed is machine-dependent; this is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import statistics
import sys
import time
import uuid
import warnings
from collections.abc import Callable

from patterns import infra
from patterns.clock import ManualClock
from patterns.messaging import InMemoryBroker, KafkaBroker
from patterns.messaging.kafka import HEARTBEAT_INTERVAL_MS, SESSION_TIMEOUT_MS, _kafka

PARTITIONS = 4


def payload(i: int) -> dict:
    return {"type": "OrderPlaced", "order_id": f"order-{i}", "customer": f"c-{i % 97}", "total": i * 1.5}


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    n = fn()
    return time.perf_counter() - start, n


def timed_cpu(fn: Callable[[], int]) -> tuple[tuple[float, float], int]:
    """(wall seconds, CPU seconds of this process, all threads) for fn()."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn()
    return (time.perf_counter() - wall, time.process_time() - cpu), n


def bench_memory(n: int) -> tuple[float, float]:
    """Seconds for publish+consume of n events: InMemoryBroker, then queue.Queue."""
    broker = InMemoryBroker(clock=ManualClock())
    broker.create_topic("orders", partitions=PARTITIONS)
    consumer = broker.subscribe("orders", group="bench")

    def run_broker() -> int:
        for i in range(n):
            broker.publish("orders", payload(i), key=f"order-{i}")
        got = 0
        while batch := consumer.poll(max_records=500):
            got += len(batch)
            consumer.commit()
        return got

    def run_queue() -> int:
        q: queue.Queue[bytes] = queue.Queue()
        for i in range(n):
            q.put(json.dumps(payload(i)).encode())
        got = 0
        while not q.empty():
            json.loads(q.get_nowait())
            got += 1
        return got

    t_broker, got = timed(run_broker)
    assert got == n, f"in-process broker delivered {got} of {n}"
    t_queue, got = timed(run_queue)
    assert got == n
    return t_broker, t_queue


def bench_kafka_ours(bootstrap: str, n: int) -> tuple[float, float]:
    broker = KafkaBroker(bootstrap)
    topic, group = f"bench-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex[:8]}"
    broker.create_topic(topic, partitions=PARTITIONS)
    consumer = broker.subscribe(topic, group=group)
    consumer.wait_for_assignment()

    def run() -> int:
        broker.publish_many(topic, [(f"order-{i}", payload(i)) for i in range(n)])
        got = 0
        while got < n:
            batch = consumer.poll(max_records=500)
            got += len(batch)
            consumer.commit()
        return got

    seconds, got = timed_cpu(run)
    assert got == n, f"KafkaBroker delivered {got} of {n}"
    broker.close()
    return seconds


def bench_kafka_raw(bootstrap: str, n: int) -> tuple[float, float]:
    kafka = _kafka()
    topic, group = f"raw-{uuid.uuid4().hex[:8]}", f"raw-{uuid.uuid4().hex[:8]}"
    admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([kafka.admin.NewTopic(topic, PARTITIONS, 1)])
    admin.wait_for_topics([topic])
    producer = kafka.KafkaProducer(bootstrap_servers=bootstrap)
    consumer = kafka.KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
    )
    while not consumer.assignment():
        consumer.poll(timeout_ms=100)

    def run() -> int:
        futures = [
            producer.send(topic, key=f"order-{i}".encode(), value=json.dumps(payload(i)).encode())
            for i in range(n)
        ]
        producer.flush()
        for f in futures:
            f.get()
        got = 0
        while got < n:
            for records in consumer.poll(timeout_ms=1000, max_records=500).values():
                for r in records:
                    json.loads(r.value)
                    got += 1
            consumer.commit()
        return got

    seconds, got = timed_cpu(run)
    assert got == n
    consumer.close(autocommit=False)
    producer.close()
    admin.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000, help="events for the in-process run")
    parser.add_argument("--kafka-events", type=int, default=10_000, help="events per Kafka round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--kafka", default=os.environ.get(infra.KAFKA_BOOTSTRAP_ENV), help="bootstrap host:port"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)

    print(f"python {platform.python_version()}, nproc {os.cpu_count()}, {time.strftime('%Y-%m-%d')}")
    mem = [bench_memory(args.events) for _ in range(args.rounds)]
    t_broker = statistics.median(t for t, _ in mem)
    t_queue = statistics.median(q for _, q in mem)
    print(f"\nin-process, {args.events} events, {PARTITIONS} partitions, median of {args.rounds}:")
    print(f"  InMemoryBroker publish+consume+commit : {args.events / t_broker:>10,.0f} events/s")
    print(f"  queue.Queue + json (floor)            : {args.events / t_queue:>10,.0f} events/s")
    print(f"  ratio broker/queue time               : {t_broker / t_queue:>10.2f}x")

    if not args.kafka:
        print(f"\nKafka: skipped ({infra.KAFKA_BOOTSTRAP_ENV} not set and no --kafka)")
        return
    host, _, port = args.kafka.split(",")[0].rpartition(":")
    if not infra.probe_tcp(host, int(port), timeout=3.0):
        sys.exit(f"Kafka at {args.kafka} is unreachable")
    ours, raw = [], []
    for r in range(args.rounds):  # alternate who goes first, so drift in the broker hits both alike
        if r % 2 == 0:
            raw.append(bench_kafka_raw(args.kafka, args.kafka_events))
        ours.append(bench_kafka_ours(args.kafka, args.kafka_events))
        if r % 2 == 1:
            raw.append(bench_kafka_raw(args.kafka, args.kafka_events))
    n = args.kafka_events
    wall_ours, wall_raw = statistics.median(w for w, _ in ours), statistics.median(w for w, _ in raw)
    cpu_ours, cpu_raw = statistics.median(c for _, c in ours), statistics.median(c for _, c in raw)
    print(f"\nKafka at {args.kafka}, {n} events, produce then consume, median of {args.rounds}:")
    print(
        f"  raw kafka-python                      : {n / wall_raw:>10,.0f} events/s   client CPU {cpu_raw:.2f} s"
    )
    print(
        f"  KafkaBroker (patterns.messaging)      : {n / wall_ours:>10,.0f} events/s   client CPU {cpu_ours:.2f} s"
    )
    print(f"  overhead ratio, wall time             : {wall_ours / wall_raw:>10.2f}x  (target <= 1.2x)")
    print(
        f"  overhead ratio, client CPU time       : {cpu_ours / cpu_raw:>10.2f}x  (robust on a busy machine)"
    )


if __name__ == "__main__":
    main()
