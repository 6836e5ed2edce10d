"""Helpers shared by tests that start threads, wait for something, or need a port nobody listens on.

Import as ``from tests.helpers import run_threads, wait_until, closed_port``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

LONG = 5.0  # upper bound for waits that only expire when something is broken


def run_threads(n: int, target: Callable[[int], None], *, timeout: float = 2 * LONG) -> list[BaseException]:
    """Run ``target(i)`` for i in range(n), each in its own thread; return the errors they raised.

    Fails the test if a thread is still running after ``timeout`` seconds (a hang, not a slow test).
    """
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # collected and asserted on by the caller
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return errors


def wait_until(condition: Callable[[], bool], *, timeout: float = LONG, interval: float = 0.005,
               what: str = "condition") -> None:
    """Poll ``condition`` until it is true; fail after ``timeout`` seconds naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
