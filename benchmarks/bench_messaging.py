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

Usage: python benchmarks/bench_messaging.py [--events N] [--kafka-events N] [--runs R] [--kafka host:port]
The harness (benchmarks/harness.py) interleaves the two sides of each comparison, run after run.
Speed is machine-dependent; this is a script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import sys
import time
import uuid
import warnings
from collections.abc import Callable

from harness import Report, interleave, ratios, spread

from patterns import infra
from patterns.clock import ManualClock
from patterns.messaging import InMemoryBroker, KafkaBroker
from patterns.messaging.kafka import HEARTBEAT_INTERVAL_MS, SESSION_TIMEOUT_MS, _kafka

PARTITIONS = 4


def payload(i: int) -> dict[str, object]:
    return {"type": "OrderPlaced", "order_id": f"order-{i}", "customer": f"c-{i % 97}", "total": i * 1.5}


class Job:
    """One timed job (``__call__`` returns the events delivered) and what to release after it."""

    def __init__(self, run: Callable[[], int], n: int, close: Callable[[], object] = lambda: None) -> None:
        self.run, self.n, self.close = run, n, close

    def __call__(self) -> None:
        got = self.run()
        assert got == self.n, f"delivered {got} of {self.n}"


def memory_broker(n: int) -> Job:
    broker = InMemoryBroker(clock=ManualClock())
    broker.create_topic("orders", partitions=PARTITIONS)
    consumer = broker.subscribe("orders", group="bench")

    def run() -> int:
        for i in range(n):
            broker.publish("orders", payload(i), key=f"order-{i}")
        got = 0
        while batch := consumer.poll(max_records=500):
            got += len(batch)
            consumer.commit()
        return got

    return Job(run, n)


def memory_queue(n: int) -> Job:
    def run() -> int:
        q: queue.Queue[bytes] = queue.Queue()
        for i in range(n):
            q.put(json.dumps(payload(i)).encode())
        got = 0
        while not q.empty():
            json.loads(q.get_nowait())
            got += 1
        return got

    return Job(run, n)


def kafka_ours(bootstrap: str, n: int) -> Job:
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

    return Job(run, n, broker.close)


def kafka_raw(bootstrap: str, n: int) -> Job:
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

    def close() -> None:
        consumer.close(autocommit=False)
        producer.close()
        admin.close()

    return Job(run, n, close)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="events for the in-process run")
    parser.add_argument("--kafka-events", type=int, default=5_000, help="events per Kafka run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--kafka", default=os.environ.get(infra.KAFKA_BOOTSTRAP_ENV), help="bootstrap host:port"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    report = Report("messaging", "Messaging: in-process broker and KafkaBroker next to their floors",
                    ("kafka-python",), runs=args.runs, events=args.events, kafka_events=args.kafka_events)

    print(f"python {platform.python_version()}, nproc {os.cpu_count()}, {time.strftime('%Y-%m-%d')}")
    n = args.events
    mem = interleave({"broker": lambda: memory_broker(n), "queue": lambda: memory_queue(n)},
                     runs=args.runs, number=1, cpu="process")
    report.timing("in-process: InMemoryBroker, per event published, consumed and committed", mem["broker"],
                  "process", scale=1e6 / n, group="in-process")
    report.timing("in-process: queue.Queue + json (the floor), per event", mem["queue"], "process",
                  scale=1e6 / n, group="in-process")
    floor = report.figure("in-process: InMemoryBroker / queue.Queue time", ratios(mem["broker"].wall,
                          mem["queue"].wall), "×", "wall", group="in-process")
    print(f"\nin-process, {n} events, {PARTITIONS} partitions, median (min-max) of {args.runs} runs:")
    print(f"  InMemoryBroker publish+consume+commit : {spread([n / t for t in mem['broker'].wall], 1, 0)} events/s")
    print(f"  queue.Queue + json (floor)            : {spread([n / t for t in mem['queue'].wall], 1, 0)} events/s")
    print(f"  ratio broker/queue time               : {spread(floor)}x")

    if not args.kafka:
        print(f"\nKafka: skipped ({infra.KAFKA_BOOTSTRAP_ENV} not set and no --kafka)")
        report.save()
        return
    host, _, port = args.kafka.split(",")[0].rpartition(":")
    if not infra.probe_tcp(host, int(port), timeout=3.0):
        sys.exit(f"Kafka at {args.kafka} is unreachable")
    k = args.kafka_events
    # Best of three rounds per side and run: the client CPU includes kafka-python's I/O threads, and
    # one burst of load in a single round moved a run's ratio by 0.25 x (1.29 once, else 1.03-1.14).
    t = interleave({"raw": lambda: kafka_raw(args.kafka, k), "ours": lambda: kafka_ours(args.kafka, k)},
                   runs=args.runs, number=1, rounds=3, cpu="process")
    report.timing("Kafka: raw kafka-python, per event produced and consumed", t["raw"], "process",
                  scale=1e6 / k, group="kafka")
    report.timing("Kafka: KafkaBroker, per event produced and consumed", t["ours"], "process", scale=1e6 / k,
                  group="kafka")
    cpu_ratio = report.figure("Kafka: KafkaBroker / raw kafka-python, client CPU", ratios(t["ours"].cpu,
                              t["raw"].cpu), "×", "process", group="kafka")
    wall_ratio = report.figure("Kafka: KafkaBroker / raw kafka-python, wall", ratios(t["ours"].wall, t["raw"].wall),
                               "×", "wall", group="kafka")
    report.target("KafkaBroker over raw kafka-python, client CPU", cpu_ratio, "×", at_most=1.2)
    print(f"\nKafka at {args.kafka}, {k} events, produce then consume, median (min-max) of {args.runs} runs:")
    print(f"  raw kafka-python                      : {spread([k / w for w in t['raw'].wall], 1, 0)} events/s")
    print(f"  KafkaBroker (patterns.messaging)      : {spread([k / w for w in t['ours'].wall], 1, 0)} events/s")
    print(f"  overhead ratio, client CPU time       : {spread(cpu_ratio)}x  (target <= 1.2x)")
    print(f"  overhead ratio, wall time             : {spread(wall_ratio)}x  (moves with the broker's load)")
    report.save()


if __name__ == "__main__":
    main()
