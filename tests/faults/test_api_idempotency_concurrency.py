"""16 threads send the same payment with the same key at once: the handler runs exactly once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from patterns.api import (
    IdempotencyKeys,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    Request,
    Response,
    idempotent,
)
from patterns.clock import ManualClock

THREADS = 16


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, clock: ManualClock, unique: str, redis_backend: Any) -> Any:
    """Memory, or Redis on every configured backend (fakeredis, and the real server when set)."""
    if request.param == "memory":
        return MemoryIdempotencyStore(clock)
    return RedisIdempotencyStore(redis_backend, prefix=unique, clock=clock, durability="off")


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_duplicates_execute_once(store: Any, round_: int) -> None:
    executions = []
    lock = threading.Lock()
    others_done = threading.Event()
    start = threading.Barrier(THREADS)

    def charge(request: Request) -> Response:
        with lock:
            executions.append(request.body)
        others_done.wait(timeout=10)  # stay in flight until every duplicate has been answered
        return Response(201, {}, {"charged": len(executions)})

    api = idempotent(charge, IdempotencyKeys(store))
    req = Request("POST", "/payments", {"Idempotency-Key": f"order-{round_}"}, {"amount": 10})
    answered = []

    def client(_: int) -> Response:
        start.wait()
        resp = api(req)
        if resp.status == 409:
            with lock:
                answered.append(resp)
                if len(answered) == THREADS - 1:
                    others_done.set()
        return resp

    with ThreadPoolExecutor(THREADS) as pool:
        responses = list(pool.map(client, range(THREADS)))
    statuses = sorted(r.status for r in responses)
    assert len(executions) == 1, f"the handler ran {len(executions)} times"
    assert statuses == [201] + [409] * (THREADS - 1)
    retry = api(req)  # after completion, a retry replays
    assert retry.status == 201 and retry.header("Idempotent-Replayed") == "true" and len(executions) == 1


def test_concurrent_distinct_keys_all_execute(store: Any) -> None:
    executions = []
    lock = threading.Lock()

    def charge(request: Request) -> Response:
        with lock:
            executions.append(request.header("Idempotency-Key"))
        return Response(201)

    api = idempotent(charge, IdempotencyKeys(store))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: api(Request("POST", "/p", {"Idempotency-Key": f"k{i % 40}"}, {})), range(200)))
    assert sorted(executions) == sorted(f"k{i}" for i in range(40))
