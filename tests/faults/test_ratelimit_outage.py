"""A real Redis that stops, hangs and comes back: each ``on_backend_error`` policy, then recovery.

Each test starts its own ``redis-server`` on a free port (``tests.redis_server``) and stops it by
pid: the shared server is never touched.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from patterns.clock import ManualClock
from patterns.errors import BackendUnavailable
from patterns.infra import redis_client
from patterns.ratelimit import GCRA, LIMITERS, LeakyBucket, TokenBucket
from tests.helpers import closed_port
from tests.redis_server import RedisServer

PASSWORD = "s3cret-pw"
BUCKETS = (TokenBucket, GCRA, LeakyBucket)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path) as redis:
        yield redis


def pause(server: RedisServer) -> None:
    """SIGSTOP: the process stays alive and the port open, but nothing answers."""
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)


def resume(server: RedisServer) -> None:
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGCONT)


def make(cls: type, client: Any, policy: str) -> Any:
    extra = (3,) if cls in BUCKETS else ()
    return cls(3, 60.0, *extra, backend=client, prefix=f"outage-{policy}", on_backend_error=policy)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cls", LIMITERS)
def test_each_policy_while_redis_is_down_and_recovery_after(cls: type, server: RedisServer) -> None:
    client = redis_client(server.url)  # 0.25 s timeout, no hidden retries
    limiters = {policy: make(cls, client, policy) for policy in ("raise", "allow", "deny")}
    for lim in limiters.values():  # mid-run: some quota used before the outage
        assert lim.allow("k", 2).allowed and lim.fallbacks == 0

    server.stop()
    with pytest.raises(BackendUnavailable) as info:
        limiters["raise"].allow("k")
    assert f"127.0.0.1:{server.port}" in str(info.value)  # it names the server
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no raw redis error chained
    opened = limiters["allow"].allow("k", 3)
    assert opened.allowed and opened.fallback and opened.remaining == 0
    closed = limiters["deny"].allow("k")
    assert not closed.allowed and closed.fallback and closed.retry_after == pytest.approx(60.0 / 3)
    assert [lim.fallbacks for lim in limiters.values()] == [0, 1, 1]
    with pytest.raises(BackendUnavailable):
        limiters["allow"].reset("k")  # the policy covers decisions; maintenance calls still raise

    server.start()  # same port, no persistence: the state is gone, the limit starts afresh
    for lim in limiters.values():
        fresh = lim.allow("k", 3)
        assert fresh.allowed and not fresh.fallback
        assert not lim.allow("k").allowed  # counting again
    assert [lim.fallbacks for lim in limiters.values()] == [0, 1, 1]


@pytest.mark.timeout(60)
def test_a_hung_redis_costs_one_socket_timeout_per_call_not_a_hang(server: RedisServer) -> None:
    client = redis_client(server.url, timeout=0.25)
    strict = GCRA(5, 1.0, backend=client, prefix="hung", clock=ManualClock())
    lenient = GCRA(5, 1.0, backend=client, prefix="hung", on_backend_error="allow", clock=ManualClock())
    assert strict.allow("k").allowed
    pause(server)
    try:
        with pytest.raises(BackendUnavailable, match="Timeout"):  # the client's socket timeout fired
            strict.allow("k")
        assert lenient.allow("k").fallback
    finally:
        resume(server)
    # A timed-out call may still run when the server wakes up (its command was sent): each of the
    # two may or may not have used quota. But the timed-out connection is dropped, not reused with a
    # stale reply in it, so the answers are consistent again: one unit per call.
    first, second = (strict.allow("k").remaining for _ in range(2))
    assert first in (1, 2, 3) and second == first - 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("policy", ["raise", "allow", "deny"])
def test_a_server_that_never_was_follows_the_policy(policy: str) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=closed_port(), password=PASSWORD, socket_timeout=0.25,
                         socket_connect_timeout=0.25)
    lim = TokenBucket(2, 1.0, backend=client, on_backend_error=policy)
    if policy == "raise":
        with pytest.raises(BackendUnavailable) as info:
            lim.allow("k")
        assert PASSWORD not in str(info.value)
    else:
        decision = lim.allow("k")
        assert decision.fallback and decision.allowed == (policy == "allow") and lim.fallbacks == 1
