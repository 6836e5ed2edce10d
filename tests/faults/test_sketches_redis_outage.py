"""Redis outages under RedisHyperLogLog: every call fails with BackendUnavailable (never a raw
redis error), and the sketch works again when the server is back. On an embedded
fakeredis switched off, and on a private ``redis-server`` this test SIGKILLs and restarts (never
the shared one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import fakeredis
import pytest

from patterns import infra
from patterns.errors import BackendUnavailable
from patterns.sketches import RedisHyperLogLog
from tests.redis_server import RedisServer


def _scenario(client: Any, take_down: Callable[[], None], bring_back: Callable[[], None], *, durable: bool) -> None:
    sketch = RedisHyperLogLog(client, "outage-visitors", batch=100)
    sketch.add_many(range(1_000))
    before = sketch.count()
    assert abs(before - 1_000) <= 30

    take_down()
    for call in (lambda: sketch.add_many(range(1_000, 2_000)), sketch.count, lambda: sketch.add("x"),
                 lambda: sketch.merge(sketch, into="outage-copy"), sketch.clear):
        with pytest.raises(BackendUnavailable):
            call()

    bring_back()
    assert sketch.count() == (before if durable else 0)  # nothing half-written during the outage
    sketch.add_many(range(500))
    assert abs(sketch.count() - (1_000 if durable else 500)) <= 30
    sketch.clear()


def test_outage_on_fakeredis() -> None:
    server = fakeredis.FakeServer()

    def down() -> None:
        server.connected = False

    def up() -> None:
        server.connected = True

    _scenario(fakeredis.FakeRedis(server=server), down, up, durable=True)


@pytest.mark.timeout(60)
def test_a_killed_and_restarted_redis_server(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as server:
        client = infra.redis_client(server.url, timeout=0.5)
        _scenario(client, lambda: server.stop(kill=True), server.start, durable=False)
