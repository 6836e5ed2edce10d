"""The idempotency store keeps its promise across restarts, clocks, namespaces and browsers.

Real servers here are private ``redis-server`` processes this test starts and stops by pid (with and
without the append-only file); the shared server is never restarted.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Any

import pytest

from patterns import compat, infra
from patterns.api import (
    DurabilityWarning,
    IdempotencyKeys,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    Request,
    Response,
    idempotent,
    scoped_key,
)
from patterns.clock import ManualClock
from patterns.keys import KeySpace
from tests.redis_server import RedisServer, key_slot


def _charging_api(client: Any, clock: ManualClock, **store_options: Any) -> tuple[Any, list[int]]:
    charges: list[int] = []

    def charge(request: Request) -> Response:
        charges.append(request.body["amount"])
        return Response(201, {}, {"payment": len(charges)})

    store = RedisIdempotencyStore(client, prefix="pay", clock=clock, **store_options)
    return idempotent(charge, IdempotencyKeys(store)), charges


PAY = Request("POST", "/payments", {"Idempotency-Key": "order-1"}, {"amount": 25})


@pytest.mark.parametrize(("fsync", "kill"), [("everysec", False), ("always", True)])
def test_with_aof_a_key_survives_a_restart(tmp_path: Path, fsync: str, kill: bool) -> None:
    """Stop (or SIGKILL, with appendfsync always) a Redis running with appendonly yes: the retry
    after the restart is replayed, not charged again."""
    with RedisServer(tmp_path, appendonly=True, appendfsync=fsync) as server:
        clock = ManualClock()
        with warnings.catch_warnings():
            warnings.simplefilter("error", DurabilityWarning)  # a durable server: no warning
            api, charges = _charging_api(infra.redis_client(server.url), clock, durability="require")
        assert api(PAY).status == 201
        server.restart(kill=kill)
        retry = api(PAY)
        assert retry.header("Idempotent-Replayed") == "true" and charges == [25]


def test_without_persistence_the_store_warns_or_refuses(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server:
        client = infra.redis_client(server.url)
        with pytest.warns(DurabilityWarning, match="appendonly yes"):
            store = RedisIdempotencyStore(client, clock=ManualClock())
        assert store.durable is False
        with pytest.raises(ValueError, match="appendonly yes"):
            RedisIdempotencyStore(client, clock=ManualClock(), durability="require")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert RedisIdempotencyStore(client, clock=ManualClock(), durability="off").durable is None
        api, charges = _charging_api(client, ManualClock(), durability="off")
        api(PAY)
        server.restart()
        api(PAY)
        assert charges == [25, 25]  # what the warning is about: the key was forgotten


def test_an_embedded_store_is_not_checked() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert RedisIdempotencyStore(infra.redis_client(url="", fresh=True), clock=ManualClock()).durable is None


def test_expiry_follows_the_injected_clock_not_the_servers() -> None:
    """Issue 20 (3): with ttl=0.25 on a ManualClock that never moves, the record must outlive any
    short wall-clock interval (the old code gave Redis an expiry of ttl + 1 s of real time, so
    after 1.3 s fakeredis and real Redis ran the handler again while memory replayed)."""
    client = infra.redis_client(url="", fresh=True)
    clock = ManualClock()
    store = RedisIdempotencyStore(client, clock=clock)
    keys = IdempotencyKeys(store, ttl=0.25)
    keys.execute_once("k", "fp", lambda: Response(201))
    (record,) = list(client.scan_iter())
    assert client.pttl(record) > store.safety_margin * 1000 - 1000  # a GC far after the logical expiry
    clock.advance(0.25)
    _, replayed = keys.execute_once("k", "fp", lambda: Response(202))
    assert not replayed  # and the injected clock alone decides the expiry


def test_memory_and_redis_agree_step_by_step() -> None:
    clock = ManualClock()
    stores = [MemoryIdempotencyStore(clock), RedisIdempotencyStore(infra.redis_client(url="", fresh=True), clock=clock)]
    keys = [IdempotencyKeys(s, ttl=10, lease=3) for s in stores]
    counter = itertools.count()
    trace: list[list[object]] = [[], []]
    for step in range(40):
        for i, k in enumerate(keys):
            try:
                response, replayed = k.execute_once(f"k{step % 3}", f"fp{step % 2}", lambda step=step: Response(200, {}, step))
                trace[i].append((response.body, replayed))
            except Exception as exc:  # noqa: BLE001 - the kind of refusal is what we compare
                trace[i].append(type(exc).__name__)
        clock.advance(next(counter) % 4)
    assert trace[0] == trace[1]


def test_browser_mode_runs_the_same_steps_without_lua(monkeypatch: pytest.MonkeyPatch) -> None:
    def run() -> list[object]:
        clock = ManualClock()
        client = infra.redis_client(url="", fresh=True)
        store = RedisIdempotencyStore(client, clock=clock)
        keys = IdempotencyKeys(store, ttl=10, lease=3)
        out: list[object] = [store.lua]
        claim = store.begin(scoped_key("p", "crash"), "fp", 3)  # a server that died mid-request
        for step in range(30):
            try:
                response, replayed = keys.execute_once(f"k{step % 4}", f"fp{step % 3}",
                                                       lambda step=step: Response(200, {}, step), principal="p")
                out.append((response.body, replayed))
            except Exception as exc:  # noqa: BLE001
                out.append(type(exc).__name__)
            if step == 5:
                out.append(store.complete(scoped_key("p", "crash"), "not-the-token", Response(500), 10, "fp"))
                out.append(store.complete(scoped_key("p", "crash"), str(claim.token), Response(200), 10, "fp"))
            clock.advance(step % 3)
        out.append(sorted((k, client.hgetall(k)[b"state"]) for k in client.scan_iter()))
        return out

    lua = run()
    monkeypatch.setenv(compat.BROWSER_MODE_ENV, "1")
    browser = run()
    assert lua[0] is True and browser[0] is False
    assert lua[1:] == browser[1:]


def test_two_namespaces_never_share_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    client = infra.redis_client(url="", fresh=True)
    clock = ManualClock()
    monkeypatch.setenv("PATTERNS_NAMESPACE", "alice")
    alice, alice_charges = _charging_api(client, clock)
    monkeypatch.setenv("PATTERNS_NAMESPACE", "bob")
    bob, bob_charges = _charging_api(client, clock)
    alice(PAY)
    assert bob(PAY).header("Idempotent-Replayed") is None and (alice_charges, bob_charges) == ([25], [25])
    keys = sorted(k.decode() for k in client.scan_iter())
    assert [k.split(":")[0] for k in keys] == ["alice", "bob"]
    assert KeySpace.of("pay", ns="bob").clear(client) == 1
    assert alice(PAY).header("Idempotent-Replayed") == "true"


def test_each_script_touches_one_key_in_one_slot() -> None:
    store = RedisIdempotencyStore(infra.redis_client(url="", fresh=True), clock=ManualClock())
    key = store._key(scoped_key("p", "{odd}key"))
    assert key.count("{") == 1 and key_slot(key) == key_slot(key.split("{")[1].split("}")[0])
