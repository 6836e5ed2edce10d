"""The latency ladder: reference numbers with their sources, and a few rungs measured here.

``DEAN_2009`` is the table from Jeff Dean's LADIS 2009 keynote ("numbers everyone should know").
``SCOTT_2020`` evaluates the trend models of Colin Scott's interactive page for the year 2020. The
page was written in December 2012: it fits each number to a hardware trend from sources of 2012 and
earlier and extrapolates it, so its "2020" values are 2012 *projections*, not measurements (the
values are rounded as the page shows them). Some projections overshoot: 1 MB from memory in 3 µs
is 333 GB/s, 1 MB from disk in 825 µs is a 1.2 GB/s disk. Some are not projections at all: the
datacenter round trip is held at Dean's 500 µs for every year. Both tables are reference data,
orders of magnitude, not promises about any machine; ``published_vs_measured`` puts the rungs this
module can measure beside them.

``measure_ladder()`` times a few rungs on the reader's own machine with ``time.perf_counter`` and
returns per-operation medians. Timings vary run to run and machine to machine; only their order of
magnitude (and their order) is meaningful. Each timing includes the Python loop overhead of a few
nanoseconds, which dominates the fastest rungs.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from patterns._validate import (
    require_callable,
    require_int,
    require_mapping,
    require_number,
    require_seconds,
)
from patterns.compat import sockets_available, threads_available

__all__ = [
    "Rung",
    "DEAN_2009",
    "SCOTT_2020",
    "DEAN_SOURCE",
    "SCOTT_SOURCE",
    "MEASURED_RUNGS",
    "COMPARABLE_RUNGS",
    "Comparison",
    "ladder",
    "measure",
    "measure_ladder",
    "published_vs_measured",
]

DEAN_SOURCE = (
    "J. Dean, 'Designs, Lessons and Advice from Building Large Distributed Systems', "
    "LADIS keynote, 2009"
)
SCOTT_SOURCE = (
    "C. Scott, 'Latency Numbers Every Programmer Should Know' (interactive, by year; trend models "
    "written in December 2012), "
    "https://colin-scott.github.io/personal_website/research/interactive_latency.html, "
    "projection for the year 2020"
)


@dataclass(frozen=True)
class Rung:
    """One step of the ladder: an operation and its typical latency in seconds."""

    name: str
    seconds: float
    source: str


def _rungs(source: str, table: list[tuple[str, float]]) -> tuple[Rung, ...]:
    return tuple(Rung(name, ns * 1e-9, source) for name, ns in table)


DEAN_2009: tuple[Rung, ...] = _rungs(
    DEAN_SOURCE,
    [
        ("L1 cache reference", 0.5),
        ("branch mispredict", 5),
        ("L2 cache reference", 7),
        ("mutex lock/unlock", 25),
        ("main memory reference", 100),
        ("compress 1 KB (Zippy)", 3_000),
        ("send 2 KB over 1 Gbps network", 20_000),
        ("read 1 MB sequentially from memory", 250_000),
        ("round trip within a datacenter", 500_000),
        ("disk seek", 10_000_000),
        ("read 1 MB sequentially from disk", 20_000_000),
        ("packet California -> Netherlands -> California", 150_000_000),
    ],
)

SCOTT_2020: tuple[Rung, ...] = _rungs(
    SCOTT_SOURCE,
    [
        ("L1 cache reference", 1),
        ("branch mispredict", 3),
        ("L2 cache reference", 4),
        ("mutex lock/unlock", 17),
        ("send 2 KB over commodity network", 44),
        ("main memory reference", 100),
        ("compress 1 KB (Zippy)", 2_000),
        ("read 1 MB sequentially from memory", 3_000),
        ("SSD random read (4 KB)", 16_000),
        ("read 1 MB sequentially from SSD", 49_000),
        ("round trip within a datacenter", 500_000),
        ("read 1 MB sequentially from disk", 825_000),
        ("disk seek", 2_000_000),  # as commonly quoted from the page; its model formula gives about 2.5 ms
        ("packet California -> Netherlands -> California", 150_000_000),
    ],
)


def ladder(which: str = "2020") -> list[Rung]:
    """A reference ladder sorted from fastest to slowest: ``'2009'`` (Dean) or ``'2020'`` (Scott)."""
    tables = {"2009": DEAN_2009, "2020": SCOTT_2020}
    if which not in tables:
        raise ValueError(f"which must be '2009' or '2020', got {which!r}")
    return sorted(tables[which], key=lambda r: r.seconds)


MEASURED_RUNGS: dict[str, str] = {
    "dict lookup": "d[key] on a 1,000-entry dict",
    "function call": "calling a Python function that returns its argument",
    "JSON encode 1 KB": "json.dumps of a dict whose encoding is about 1 KB",
    "copy 1 MB in memory": "bytes(buffer) of a 1 MB bytearray",
    "SQLite point query": "SELECT by primary key from a 10,000-row table in a temp file",
    "fakeredis GET": "GET of a 100-byte value from an in-process fakeredis",
    "loopback TCP round trip": "send 100 bytes to an in-process echo server on 127.0.0.1 and read them back",
}


# A measured rung and the reference rung it can honestly be set beside, with the bytes it moves
# (None when it is a round trip whose size does not matter).
COMPARABLE_RUNGS: dict[str, tuple[str, int | None]] = {
    "copy 1 MB in memory": ("read 1 MB sequentially from memory", 1_000_000),
    "loopback TCP round trip": ("round trip within a datacenter", None),
}


@dataclass(frozen=True)
class Comparison:
    """One rung three ways: Dean's 2009 value, Scott's 2012 projection for 2020, and this machine."""

    measured_name: str
    reference_name: str
    dean_2009: float
    scott_2020: float
    measured: float
    payload_bytes: int | None

    def bandwidth(self, seconds: float) -> float | None:
        """Bytes per second implied by moving ``payload_bytes`` in ``seconds`` (None for round trips)."""
        return None if self.payload_bytes is None else self.payload_bytes / seconds


def published_vs_measured(measured: Mapping[str, float]) -> list[Comparison]:
    """Set each measured rung of ``COMPARABLE_RUNGS`` beside the published values of the same rung.

    ``measured`` is what ``measure_ladder()`` returns; rungs it lacks (the loopback round trip in a
    browser) are left out.
    """
    given = require_mapping(measured, "measured")
    dean = {r.name: r.seconds for r in DEAN_2009}
    scott = {r.name: r.seconds for r in SCOTT_2020}
    rows = []
    for name, (reference, payload) in COMPARABLE_RUNGS.items():
        if name in given:
            seconds = require_number(given[name], f"measured[{name!r}]", minimum=0.0, strict_min=True)
            rows.append(Comparison(name, reference, dean[reference], scott[reference], seconds, payload))
    return rows


def measure(operation: Callable[[], object], *, repeat: int = 5, min_batch_seconds: float = 0.002) -> float:
    """The median time of one call of ``operation``, in seconds.

    Calls are batched (the batch grows until it lasts ``min_batch_seconds``) so the timer's own
    resolution does not matter; ``repeat`` batches are timed and the median per-call time returned.
    """
    require_callable(operation, "operation")
    repeat = require_int(repeat, "repeat", minimum=1, maximum=1_000)
    min_batch_seconds = require_seconds(min_batch_seconds, "min_batch_seconds", maximum=10.0)
    number = 1
    while True:
        elapsed = _time_batch(operation, number)
        if elapsed >= min_batch_seconds or number >= 10_000_000:
            break
        number *= 10 if elapsed < min_batch_seconds / 10 else 2
    samples = [elapsed / number] + [_time_batch(operation, number) / number for _ in range(repeat - 1)]
    return statistics.median(samples)


def _time_batch(operation: Callable[[], object], number: int) -> float:
    loop = range(number)
    start = time.perf_counter()
    for _ in loop:
        operation()
    return time.perf_counter() - start


@contextmanager
def _echo_server() -> Iterator[socket.socket]:
    """A client socket connected to a one-connection echo server thread on 127.0.0.1."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    thread = threading.Thread(target=serve, name="estimate-echo", daemon=True)
    thread.start()
    client = socket.create_connection(listener.getsockname(), timeout=5.0)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        yield client
    finally:
        client.close()
        thread.join(timeout=5.0)
        listener.close()


def _round_trip(client: socket.socket, payload: bytes) -> None:
    client.sendall(payload)
    received = 0
    while received < len(payload):
        chunk = client.recv(4096)
        if not chunk:
            raise ConnectionError("echo server closed the connection")
        received += len(chunk)


def measure_ladder(*, repeat: int = 5, min_batch_seconds: float = 0.002) -> dict[str, float]:
    """Median seconds per operation for each rung of ``MEASURED_RUNGS``, measured on this machine.

    Takes well under a second with the defaults. Uses a temporary SQLite file (deleted afterwards),
    an isolated in-process fakeredis, and a loopback echo server that is shut down on return.
    Where there are no sockets (in the browser, ``patterns.compat.sockets_available()`` is False)
    the loopback rung is left out: the result then has no ``"loopback TCP round trip"`` key.
    """
    from patterns.infra import redis_client

    repeat = require_int(repeat, "repeat", minimum=1, maximum=1_000)
    min_batch_seconds = require_seconds(min_batch_seconds, "min_batch_seconds", maximum=10.0)

    def timed(operation: Callable[[], object]) -> float:
        return measure(operation, repeat=repeat, min_batch_seconds=min_batch_seconds)

    table = {f"key{i}": i for i in range(1_000)}
    document = {f"field{i:02d}": "x" * 20 for i in range(30)}  # json.dumps -> about 1 KB
    buffer = bytearray(1_000_000)

    def identity(x: object) -> object:
        return x

    results: dict[str, float] = {
        "dict lookup": timed(lambda: table["key500"]),
        "function call": timed(lambda: identity(1)),
        "JSON encode 1 KB": timed(lambda: json.dumps(document)),
        "copy 1 MB in memory": timed(lambda: bytes(buffer)),
    }
    with tempfile.TemporaryDirectory(prefix="estimate-") as folder:
        db = sqlite3.connect(os.path.join(folder, "ladder.db"))
        try:
            db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
            db.executemany("INSERT INTO t VALUES (?, ?)", ((i, "x" * 100) for i in range(10_000)))
            db.commit()
            results["SQLite point query"] = timed(
                lambda: db.execute("SELECT body FROM t WHERE id = ?", (4242,)).fetchone()
            )
        finally:
            db.close()
    cache = redis_client(url="", fresh=True)
    cache.set("ladder", b"x" * 100)
    try:
        results["fakeredis GET"] = timed(lambda: cache.get("ladder"))
    finally:
        cache.close()
    if sockets_available() and threads_available():
        payload = b"x" * 100
        with _echo_server() as client:
            results["loopback TCP round trip"] = timed(lambda: _round_trip(client, payload))
    return results
