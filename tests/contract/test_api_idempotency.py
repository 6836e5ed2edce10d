"""One contract for every IdempotencyStore: memory, fakeredis, and the real Redis when configured."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from patterns.api import (
    IdempotencyKeys,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    Request,
    RequestInFlight,
    Response,
    fingerprint,
    idempotent,
)
from patterns.clock import ManualClock
from patterns.errors import IdempotencyConflict


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, clock: ManualClock, unique: str, redis_backend: Any) -> Any:
    """Memory, or Redis on every configured backend (fakeredis, and the real server when set)."""
    if request.param == "memory":
        return MemoryIdempotencyStore(clock)
    return RedisIdempotencyStore(redis_backend, prefix=unique, clock=clock)


class Counter:
    """A handler that charges a card: counts executions and returns the charge number."""

    def __init__(self) -> None:
        self.calls = itertools.count(1)
        self.executed = 0

    def __call__(self, request: Request) -> Response:
        self.executed = next(self.calls)
        return Response(201, {"Location": f"/payments/{self.executed}"}, {"charge": self.executed, **request.body})


def pay(key: str | None, amount: int = 10) -> Request:
    headers = {} if key is None else {"Idempotency-Key": key}
    return Request("POST", "/payments", headers, {"amount": amount})


def test_first_request_executes_and_a_retry_replays(store: Any) -> None:
    charge = Counter()
    api = idempotent(charge, IdempotencyKeys(store))
    first = api(pay("k1"))
    again = api(pay("k1"))
    assert charge.executed == 1
    assert (again.status, again.body) == (first.status, first.body) == (201, {"charge": 1, "amount": 10})
    assert again.header("Idempotent-Replayed") == "true" and first.header("Idempotent-Replayed") is None
    assert again.header("Location") == "/payments/1"


def test_different_keys_execute_separately(store: Any) -> None:
    charge = Counter()
    api = idempotent(charge, IdempotencyKeys(store))
    api(pay("a"))
    api(pay("b"))
    assert charge.executed == 2


def test_same_key_different_body_is_a_422_conflict(store: Any) -> None:
    charge = Counter()
    keys = IdempotencyKeys(store)
    api = idempotent(charge, keys)
    api(pay("k", 10))
    resp = api(pay("k", 99))
    assert resp.status == 422 and resp.body["title"] == "Idempotency key reused"
    assert charge.executed == 1
    with pytest.raises(IdempotencyConflict):
        keys.execute_once("k", fingerprint(pay("k", 99)), lambda: Response(200))


def test_duplicate_while_in_flight_is_a_409(store: Any) -> None:
    keys = IdempotencyKeys(store)
    fp = fingerprint(pay("k"))
    inner: list[Response] = []

    def slow() -> Response:
        inner.append(idempotent(Counter(), keys)(pay("k")))  # the duplicate arrives mid-flight
        with pytest.raises(RequestInFlight):
            keys.execute_once("k", fp, lambda: Response(200))
        return Response(201, {}, {"ok": True})

    response, replayed = keys.execute_once("k", fp, slow)
    assert not replayed and response.status == 201
    assert inner[0].status == 409 and inner[0].header("Retry-After") == "1"
    assert keys.execute_once("k", fp, lambda: Response(500)) == (response, True)


def test_keys_expire_after_ttl_on_the_injected_clock(store: Any, clock: ManualClock) -> None:
    charge = Counter()
    api = idempotent(charge, IdempotencyKeys(store, ttl=60.0))
    api(pay("k"))
    clock.advance(59.9)
    api(pay("k"))
    assert charge.executed == 1
    clock.advance(0.2)
    assert api(pay("k")).body["charge"] == 2  # expired: a new execution


def test_a_failed_handler_releases_the_key(store: Any) -> None:
    keys = IdempotencyKeys(store)
    fp = fingerprint(pay("k"))

    def boom() -> Response:
        raise ConnectionError("card network down")

    with pytest.raises(ConnectionError):
        keys.execute_once("k", fp, boom)
    assert keys.execute_once("k", fp, lambda: Response(201, {}, {"ok": 1})) == (Response(201, {}, {"ok": 1}), False)


def test_a_crashed_request_lease_lapses(store: Any, clock: ManualClock) -> None:
    keys = IdempotencyKeys(store, lease=30.0)
    fp = fingerprint(pay("k"))
    claim = store.begin("k", fp, 30.0)  # a server claimed the key, then died
    assert claim.state == "new"
    with pytest.raises(RequestInFlight):
        keys.execute_once("k", fp, lambda: Response(200))
    clock.advance(30.0)
    response, replayed = keys.execute_once("k", fp, lambda: Response(201))
    assert response.status == 201 and not replayed
    assert store.complete("k", claim.token, Response(500), 60.0) is False  # the late server cannot overwrite
    assert keys.execute_once("k", fp, lambda: Response(500)) == (Response(201), True)


def test_error_responses_are_stored_too(store: Any) -> None:
    keys = IdempotencyKeys(store)
    fp = fingerprint(pay("k"))
    declined = Response(402, {"Content-Type": "application/problem+json"}, {"title": "card declined"})
    keys.execute_once("k", fp, lambda: declined)
    assert keys.execute_once("k", fp, lambda: Response(201)) == (declined, True)


def test_missing_or_bad_keys_are_400(store: Any) -> None:
    charge = Counter()
    api = idempotent(charge, IdempotencyKeys(store))
    for bad in (None, "", " padded ", "x" * 256, "naïve"):
        resp = api(pay(bad))
        assert resp.status == 400 and "Idempotency-Key" in resp.body["detail"], bad
    assert charge.executed == 0
    optional = idempotent(charge, IdempotencyKeys(store), required=False)
    optional(pay(None))
    optional(pay(None))
    assert charge.executed == 2  # no key, no protection: the double charge


def test_safe_methods_pass_straight_through(store: Any) -> None:
    charge = Counter()
    api = idempotent(lambda r: Response(200, {}, {"n": charge.executed}), IdempotencyKeys(store))
    assert api(Request("GET", "/payments/1")).status == 200
