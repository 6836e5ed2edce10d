"""The workloads the SIGKILL tests run, killed, in a subprocess, and then again, to recover.

Each workload is what a restarted process does: it opens the files a previous process left, finishes
whatever was unfinished, and (re)submits every request, relying on the component's idempotency. So
the same function is the killed run AND the recovery, and its end state can be checked.

Every SQLite connection runs with ``PRAGMA synchronous=OFF``: SIGKILL ends the process, not the
operating system, so a committed transaction is already in the page cache and survives without an
fsync (power loss is not what these tests probe). With fsync the suite takes minutes instead of
seconds on this machine.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from patterns.clock import ManualClock
from tests.faults.sqlite_broker import SqliteBroker

if TYPE_CHECKING:
    from patterns.messaging import Broker, Event
    from patterns.sagas import Order, Shop

# Each workload imports only what it runs: a killed process starts ~100 times per test, and
# importing patterns.sagas where the outbox alone is under test would double its start-up.

# --- sagas ------------------------------------------------------------------------------------

STOCK = 10
EXPECTED = {"o1": "COMPLETED", "o2": "CANCELLED", "o3": "CANCELLED", "o4": "CANCELLED", "o5": "COMPLETED"}


def orders() -> list[Order]:
    from patterns.sagas import Order

    return [
        Order("o1"),
        Order("o2", amount=5000.0),  # over the card limit: declined at payment
        Order("o3", qty=50),  # more than the stock: refused at inventory, the charge is refunded
        Order("o4", qty=2),  # shipping refuses: release, then refund
        Order("o5", qty=3),  # inventory's reply is lost once: retried, reserved once
    ]


def connect(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def shop_in(directory: str | Path) -> Shop:
    """``Shop(path=directory)`` whose files skip the fsync (see the module docstring)."""
    from patterns.sagas import FaultInjector, FaultPlan, Shop

    class FastShop(Shop):
        def database(self, name: str) -> sqlite3.Connection:
            assert self.path is not None
            return connect(Path(self.path) / f"{name}.db")

    plans = {
        "o3": FaultPlan(flaky_compensation={"payment": 1}),
        "o4": FaultPlan(reject="shipping"),
        "o5": FaultPlan(lost_reply="inventory"),
    }
    return FastShop(clock=ManualClock(), faults=FaultInjector(plans), stock={"book": STOCK}, latency=0.0,
                    path=directory)


def orchestrated(directory: str) -> dict[str, str]:
    """A (re)started orchestrator: resume what the log left unfinished, then run every order."""
    from patterns.sagas import Orchestrator, SagaLog, order_saga

    shop = shop_in(directory)
    log = SagaLog(connect(Path(directory) / "log.db"), clock=shop.clock)
    orchestrator = Orchestrator(order_saga(shop), log, clock=shop.clock)
    orchestrator.resume_all()
    return {order.order_id: orchestrator.run(order.order_id, order.data()).state for order in orders()}


def kafka_or_file_broker(directory: str) -> tuple[Broker, dict[str, Any]]:
    """The real Kafka-protocol broker if PATTERNS_KAFKA_BOOTSTRAP is set, else a SQLite file."""
    if os.environ.get("PATTERNS_KAFKA_BOOTSTRAP"):
        from patterns.messaging import broker_from_env

        return broker_from_env(), {"poll_timeout": 0.3}
    return SqliteBroker(Path(directory) / "broker.db"), {}


def choreographed(directory: str, topic_prefix: str = "orders") -> dict[str, str | None]:
    """(Re)started services: place every order (idempotent per id) and run until quiet.

    The topic is ``<topic_prefix>.<directory name>``: each kill point has its own flow, also on a
    shared Kafka broker.
    """
    from patterns.sagas import ChoreographedShop

    topic = f"{topic_prefix}.{Path(directory).name}"
    shop = shop_in(directory)
    broker, options = kafka_or_file_broker(directory)
    flow = ChoreographedShop(shop, broker, topic=topic, partitions=2, handler_attempts=3,
                             orders_db=connect(Path(directory) / "orders.db"), **options)
    try:
        for order in orders():
            flow.place(order)
        flow.run_until_quiet()
    finally:
        flow.close()
        broker.close()
    return {order.order_id: flow.state(order.order_id) for order in orders()}


# --- outbox relay -----------------------------------------------------------------------------

OUTBOX_ORDERS = 12


def outbox_relay(directory: str) -> None:
    """An order service writing orders + OrderPlaced events (one transaction each), relaying as it goes.

    Orders are submitted again after a restart; one already committed is skipped (the client's retry
    finds it). The relay runs every fourth order and at the end.
    """
    from patterns.messaging import Event, Outbox, OutboxRelay

    conn = connect(Path(directory) / "orders.db")
    conn.execute("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, qty INTEGER NOT NULL)")
    outbox = Outbox(conn, clock=ManualClock())
    broker = SqliteBroker(Path(directory) / "broker.db")
    broker.create_topic("orders", partitions=2)
    relay = OutboxRelay(outbox, broker, batch_size=3)
    for i in range(OUTBOX_ORDERS):
        order_id = f"o{i}"
        if conn.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone() is None:
            with outbox.transaction() as tx:
                tx.execute("INSERT INTO orders VALUES (?, ?)", (order_id, i + 1))
                event = Event("OrderPlaced", key=f"c{i % 3}", data={"order": order_id, "qty": i + 1},
                              event_id=f"e{i}")
                outbox.add(tx, "orders", event)
        if i % 4 == 3:
            relay.run_once()
    relay.run_until_empty()


# --- CQRS projector ---------------------------------------------------------------------------


def projector_history(count: int = 40, seed: int = 7) -> list[Event]:
    """A deterministic event history from the write model (customers, orders, items, confirmations)."""
    from patterns.cqrs import DomainError, WriteModel
    from patterns.cqrs.simulation import random_commands

    write = WriteModel(clock=ManualClock())
    commands = random_commands(random.Random(seed))
    while write.position < count:
        with contextlib.suppress(DomainError):
            write.handle(next(commands))
    return write.events()


def projector(directory: str) -> int:
    """A (re)started projector: read the events topic from the group's committed offset until idle."""
    from patterns.cqrs import CustomerStats, OrderSummaries, Projector, SQLiteReadStore

    broker = SqliteBroker(Path(directory) / "broker.db")
    store = SQLiteReadStore(connect(Path(directory) / "read.db"))
    worker = Projector(store, [OrderSummaries(), CustomerStats()], clock=ManualClock())
    consumer = broker.subscribe("events", group="projector")
    worker.run_until_idle(consumer, max_records=4)
    return worker.position


# --- the kill loop ----------------------------------------------------------------------------


def script(workload: str, directory: Path, *args: Any) -> str:
    """Python source that runs ``workload(directory, *args)`` from this module."""
    params = ", ".join(repr(a) for a in (str(directory), *args))
    return f"from tests.faults.crash_workloads import {workload}\n{workload}({params})\nprint('done')\n"


def kill_everywhere(
    root: Path,
    workload: str,
    *,
    watch: str,
    points: int,
    recover_and_check: Callable[[Path], None],
    prepare: Callable[[Path], None] | None = None,
    args: tuple[Any, ...] = (),
    pick: slice = slice(None),
    timeout: float = 60,
) -> list[int]:
    """Kill ``workload`` at ``points`` lines spread over its run, recover and check after each kill.

    Returns the kill points used. A dry run first counts the watched lines the workload executes.
    """
    from tests.faults.crash import count_points, kill_at, spread

    dry = root / "dry"
    dry.mkdir()
    if prepare is not None:
        prepare(dry)
    total = count_points(script(workload, dry, *args), watch=watch, timeout=timeout)
    used = spread(total, points)[pick]
    for point in used:
        directory = root / f"kill-{point}"
        directory.mkdir()
        if prepare is not None:
            prepare(directory)
        run = kill_at(script(workload, directory, *args), watch=watch, point=point, timeout=timeout)
        assert run.killed, f"point {point} of {total}: not killed (exit {run.returncode}): {run.stderr[-2000:]}"
        assert "done" not in run.stdout
        recover_and_check(directory)
    return used
