"""Idempotency helpers: key rules, fingerprints, construction errors."""

from __future__ import annotations

import math

import pytest

from patterns.api import (
    BadRequest,
    IdempotencyKeys,
    MemoryIdempotencyStore,
    RedisIdempotencyStore,
    Request,
    fingerprint,
    require_key,
)
from patterns.clock import ManualClock


def test_require_key_accepts_uuids_and_rejects_empty_or_odd_keys() -> None:
    assert require_key("0b6f6d3c-1f0e-4d8e-9d62-1d2a4c1b9f00")
    for bad in ("", " ", "a\nb", "é", "k" * 256):
        with pytest.raises(BadRequest, match="Idempotency-Key"):
            require_key(bad)
    with pytest.raises(ValueError, match="string"):
        require_key(42)


def test_fingerprint_ignores_key_order_but_not_values_method_or_path() -> None:
    a = Request("POST", "/p", {}, {"amount": 5, "currency": "EUR"})
    b = Request("POST", "/p", {"X": "1"}, {"currency": "EUR", "amount": 5})
    assert fingerprint(a) == fingerprint(b)  # headers (the key itself) are not part of it
    assert fingerprint(a) != fingerprint(a.with_(body={"amount": 6, "currency": "EUR"}))
    assert fingerprint(a) != fingerprint(a.with_(path="/q"))
    assert fingerprint(a) != fingerprint(a.with_(method="PUT"))


def test_idempotency_keys_validate_ttl_lease_and_store() -> None:
    store = MemoryIdempotencyStore(ManualClock())
    for name, kwargs in (("ttl", {"ttl": 0}), ("lease", {"lease": -1}), ("ttl", {"ttl": math.inf}),
                         ("ttl", {"ttl": 1e16}), ("lease", {"lease": math.inf}), ("lease", {"lease": math.nan})):
        with pytest.raises(ValueError, match=name):
            IdempotencyKeys(store, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ttl"):
        IdempotencyKeys(store, ttl=True)
    with pytest.raises(TypeError, match="store"):
        IdempotencyKeys(object())  # type: ignore[arg-type]
    with pytest.raises(BadRequest):
        IdempotencyKeys(store).execute_once("", "fp", lambda: None)  # type: ignore[arg-type,return-value]


def test_redis_store_rejects_non_clients() -> None:
    with pytest.raises(TypeError, match="client"):
        RedisIdempotencyStore(client={}, clock=ManualClock())
    with pytest.raises(TypeError, match="prefix"):
        RedisIdempotencyStore(prefix=3, clock=ManualClock())  # type: ignore[arg-type]


def test_memory_store_counts_live_keys() -> None:
    clock = ManualClock()
    store = MemoryIdempotencyStore(clock)
    store.begin("a", "fp", 10.0)
    assert len(store) == 1
    clock.advance(10.0)
    assert len(store) == 0
