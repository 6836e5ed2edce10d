"""One contract for every IdempotencyStore: memory, fakeredis, and the real Redis when configured."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from patterns.api import (
    ANONYMOUS,
    Claim,
    IdempotencyKeys,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    Request,
    RequestInFlight,
    Response,
    fingerprint,
    idempotent,
    scoped_key,
)
from patterns.clock import ManualClock
from patterns.errors import BackendUnavailable, IdempotencyConflict


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, clock: ManualClock, unique: str, redis_backend: Any) -> Any:
    """Memory, or Redis on every configured backend (fakeredis, and the real server when set)."""
    if request.param == "memory":
        return MemoryIdempotencyStore(clock)
    return RedisIdempotencyStore(redis_backend, prefix=unique, clock=clock, durability="off")


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
    claim = store.begin(scoped_key(ANONYMOUS, "k"), fp, 30.0)  # a server claimed the key, then died
    assert claim.state == "new"
    with pytest.raises(RequestInFlight):
        keys.execute_once("k", fp, lambda: Response(200))
    clock.advance(30.0)
    response, replayed = keys.execute_once("k", fp, lambda: Response(201))
    assert response.status == 201 and not replayed
    late = store.complete(scoped_key(ANONYMOUS, "k"), claim.token, Response(500), 60.0, fp)
    assert late is False  # the late server cannot overwrite
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


def test_keys_are_scoped_to_the_caller(store: Any) -> None:
    """Issue 12 (4): Mallory reusing Alice's key gets neither Alice's payment nor a 422 that would
    confirm the key exists; she is simply a different caller with a new key."""
    charge = Counter()
    api = idempotent(charge, IdempotencyKeys(store))
    alice = {"Idempotency-Key": "k1", "Authorization": "Bearer alice-token"}
    mallory = {"Idempotency-Key": "k1", "Authorization": "Bearer mallory-token"}
    first = api(Request("POST", "/payments", alice, {"amount": 5}))
    same_body = api(Request("POST", "/payments", mallory, {"amount": 5}))
    other_body = api(Request("POST", "/payments", mallory, {"amount": 9}))
    assert first.body == {"charge": 1, "amount": 5}
    assert same_body.status == 201 and same_body.body == {"charge": 2, "amount": 5}
    assert same_body.header("Idempotent-Replayed") is None
    assert other_body.status == 422  # her own key, reused by her with another body
    again = api(Request("POST", "/payments", alice, {"amount": 5}))
    assert again.body == first.body and again.header("Idempotent-Replayed") == "true"
    by_account = api(Request("POST", "/payments", {"Idempotency-Key": "k1"}, {"amount": 5}, principal="acct_1"))
    assert by_account.body == {"charge": 3, "amount": 5}


def test_a_failed_store_write_never_causes_a_second_execution(store: Any) -> None:
    """Issue 12 (5): the handler ran, storing its response failed. Three retries: one charge."""
    charge = Counter()
    keys = IdempotencyKeys(store)
    api = idempotent(charge, keys)
    real = store.complete
    fail = {"on": True}

    def flaky(*args: Any) -> bool:
        if fail["on"]:
            raise BackendUnavailable("could not reach Redis: store write lost")
        return bool(real(*args))

    store.complete = flaky
    responses = [api(pay("k")) for _ in range(3)]
    assert charge.executed == 1
    assert [r.body for r in responses] == [{"charge": 1, "amount": 10}] * 3
    assert [r.header("Idempotent-Replayed") for r in responses] == [None, "true", "true"]
    assert keys.store_failures == 1 and keys.unstored == 1
    fail["on"] = False
    assert api(pay("k")).body == {"charge": 1, "amount": 10}  # replayed, and now stored
    assert keys.unstored == 0
    other_server = idempotent(charge, IdempotencyKeys(store))
    assert other_server(pay("k")).header("Idempotent-Replayed") == "true" and charge.executed == 1
    assert api(pay("k", 99)).status == 422


def test_an_unreachable_store_is_a_503_and_nothing_runs(store: Any) -> None:
    charge = Counter()

    def down(*args: Any) -> Claim:
        raise BackendUnavailable("could not reach Redis")

    store.begin = down
    resp = idempotent(charge, IdempotencyKeys(store))(pay("k"))
    assert resp.status == 503 and resp.header("Retry-After") == "1" and charge.executed == 0
