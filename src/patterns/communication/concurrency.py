"""Waiting for a slow dependency: a thread per request against asyncio (chapter 03).

A service that calls a slow dependency spends its time *waiting*. How many calls it can have in
flight, and what each waiting call costs in memory, depends on what waits:

* a **thread per request** (the classic servlet or WSGI model): each waiting call holds an OS thread
  with its own stack. A pool of ``pool`` threads caps the calls in flight at ``pool``; more threads
  cost memory and scheduling.
* **asyncio** (the Python counterpart of Java's reactive WebClient): a waiting call is a suspended
  coroutine, a small object on the heap; one thread runs them all.

Java 21's virtual threads take a third way (blocking code, but the runtime parks the virtual thread
instead of the OS thread); CPython has no equivalent, so the comparison here is the two models a
Python service chooses between.

``slow_dependency(delay)`` runs a real TCP server in a subprocess that answers each request after
``delay`` seconds (asyncio, any number of connections), so the client side measured in this process
is all that is counted. ``compare_waiting`` sends ``calls`` requests with each model and reports the
time for all of them, the throughput, and the resident memory per waiting call (Linux ``/proc``).
Real sockets, threads and wall time: the figures vary by machine and are not checked by tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from patterns._validate import require_int, require_seconds
from patterns.communication.rpc import LOOPBACK, require_network

__all__ = ["slow_dependency", "WaitReport", "wait_with_threads", "wait_with_asyncio", "compare_waiting"]

T = TypeVar("T")
#: Most concurrent calls one experiment may make (each holds a socket, and a thread or a coroutine).
MAX_CALLS = 5_000
REQUEST = b"GET\n"


# -- the slow dependency (runs in its own process) ------------------------------------------------


async def _serve(delay: float, ready: Callable[[int], None]) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readline():
                await asyncio.sleep(delay)
                writer.write(b"OK\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, LOOPBACK, 0, backlog=MAX_CALLS)
    ready(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def _main() -> None:
    parser = argparse.ArgumentParser(description="a TCP server that answers each line after a delay")
    parser.add_argument("--delay", type=float, required=True)
    delay = require_seconds(parser.parse_args().delay, "delay", maximum=60.0)
    _raise_file_limit(2 * MAX_CALLS + 100)
    asyncio.run(_serve(delay, lambda port: print(port, flush=True)))


@contextlib.contextmanager
def slow_dependency(delay: float) -> Iterator[int]:
    """Start the slow dependency in a subprocess; yield its port; stop it (by pid) on exit."""
    require_network()
    delay = require_seconds(delay, "delay", maximum=60.0)
    process = subprocess.Popen(
        [sys.executable, "-m", "patterns.communication.concurrency", "--delay", repr(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"the slow dependency did not start (exit code {process.poll()})")
        yield int(line)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()


# -- the two ways to wait ---------------------------------------------------------------------


@dataclass(frozen=True)
class WaitReport:
    """What ``calls`` calls to the slow dependency cost with one way of waiting."""

    style: str
    calls: int
    seconds: float  # wall time until every call had its answer
    max_in_flight: int  # most calls waiting at the same moment
    memory_per_waiting_call: float | None  # resident bytes per waiting call at the peak (Linux), else None

    @property
    def throughput(self) -> float:
        """Calls answered per second."""
        return self.calls / self.seconds

    def row(self) -> str:
        memory = (
            "n/a" if self.memory_per_waiting_call is None else f"{self.memory_per_waiting_call / 1024:.1f} KiB"
        )
        return (
            f"{self.style:32} {self.calls:>6} {self.seconds:>8.2f} s {self.throughput:>8.0f}/s "
            f"{self.max_in_flight:>10} {memory:>12}"
        )


def _rss() -> int | None:
    """Resident memory of this process in bytes (Linux), else None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _raise_file_limit(needed: int) -> None:
    """Allow ``needed`` open files (each call holds a socket); Unix only."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class _Gauge:
    """Calls waiting now, the peak, and the resident memory measured at the peak."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.now = self.peak = 0
        self.rss_at_peak: int | None = None
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            if self.now > self.peak:  # the most calls waiting so far: measure what they hold
                self.peak = self.now
                self.rss_at_peak = _rss()

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


def _per_call(before: int | None, gauge: _Gauge) -> float | None:
    if before is None or gauge.rss_at_peak is None or not gauge.peak:
        return None
    return max(0, gauge.rss_at_peak - before) / gauge.peak


def wait_with_threads(port: int, calls: int, pool: int | None = None) -> WaitReport:
    """``calls`` blocking calls, one per thread: a pool of ``pool`` threads, or (None) a thread each."""
    require_network()
    calls = require_int(calls, "calls", minimum=1, maximum=MAX_CALLS)
    workers = calls if pool is None else require_int(pool, "pool", minimum=1, maximum=MAX_CALLS)
    _raise_file_limit(calls + 100)
    gauge = _Gauge(calls)

    def call() -> None:
        with socket.create_connection((LOOPBACK, port), timeout=60) as conn:
            conn.sendall(REQUEST)
            gauge.enter()
            try:
                conn.recv(16)  # the thread blocks here until the dependency answers
            finally:
                gauge.leave()

    before = _rss()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        for future in [executor.submit(call) for _ in range(calls)]:
            future.result()
    seconds = time.perf_counter() - start
    style = "a thread per call" if pool is None else f"a pool of {workers} threads"
    return WaitReport(style, calls, seconds, gauge.peak, _per_call(before, gauge))


def wait_with_asyncio(port: int, calls: int) -> WaitReport:
    """``calls`` calls as coroutines on one event loop (in a thread of its own if one is running)."""
    require_network()
    calls = require_int(calls, "calls", minimum=1, maximum=MAX_CALLS)
    _raise_file_limit(calls + 100)
    gauge = _Gauge(calls)

    async def call() -> None:
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        try:
            writer.write(REQUEST)
            await writer.drain()
            gauge.enter()
            try:
                await reader.readline()  # the coroutine is suspended here; the thread runs others
            finally:
                gauge.leave()
        finally:
            writer.close()
            await writer.wait_closed()

    async def all_calls() -> None:
        await asyncio.gather(*(call() for _ in range(calls)))

    before = _rss()
    start = time.perf_counter()
    _run(all_calls)
    seconds = time.perf_counter() - start
    return WaitReport("asyncio, one coroutine per call", calls, seconds, gauge.peak, _per_call(before, gauge))


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())``, in a helper thread when this thread already runs a loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    box: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box.append(asyncio.run(main()))
        except BaseException as exc:  # handed to the caller
            errors.append(exc)

    worker = threading.Thread(target=target, name="asyncio-runner")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return box[0]


def compare_waiting(calls: int = 1000, delay: float = 0.5, pool: int = 50) -> list[WaitReport]:
    """The three ways to wait for ``calls`` calls to a dependency that answers after ``delay`` s."""
    require_network()
    with slow_dependency(delay) as port:
        return [
            wait_with_threads(port, calls, pool=pool),
            wait_with_threads(port, calls),
            wait_with_asyncio(port, calls),
        ]


def report_table(reports: list[WaitReport]) -> str:
    """The reports as aligned text."""
    header = f"{'':32} {'calls':>6} {'all done':>10} {'throughput':>10} {'in flight':>10} {'memory/call':>12}"
    return "\n".join([header, *(r.row() for r in reports)])


if __name__ == "__main__":
    _main()
