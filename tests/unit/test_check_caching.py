"""The chapter 7 checkers accept right answers, reject wrong ones with a hint, never raise."""

from __future__ import annotations

import math

import pytest

from patterns.caching.simulation import write_behind_exposure
from patterns.check.caching import (
    check_db_queries,
    check_flush_interval,
    check_safe_update,
    check_xfetch,
    db_queries_for_hot_key,
)


def test_hot_key_query_count_is_computed():
    assert db_queries_for_hot_key() == 20
    assert db_queries_for_hot_key(ttl=60) == 10


def test_check_db_queries(capsys):
    assert check_db_queries(20)
    assert not check_db_queries(1200)
    assert not check_db_queries(19)
    assert not check_db_queries("20")
    assert not check_db_queries(...)
    out = capsys.readouterr().out
    assert "✓" in out and "not set yet" in out and "no cache at all" in out


def write_then_invalidate(store, cache, key, value):
    store.put(key, value)
    cache.invalidate(key)


def invalidate_then_write(store, cache, key, value):
    cache.invalidate(key)
    store.put(key, value)


def test_check_safe_update(capsys):
    assert check_safe_update(write_then_invalidate)
    assert not check_safe_update(invalidate_then_write)
    assert not check_safe_update(lambda store, cache, key, value: cache.invalidate(key))
    assert not check_safe_update(lambda store, cache, key, value: 1 / 0)
    assert not check_safe_update(lambda store: None)
    assert not check_safe_update(...)
    out = capsys.readouterr().out
    assert "Which step must come first" in out and "ZeroDivisionError" in out and "old price" in out


def test_check_xfetch(capsys):
    assert check_xfetch(lambda now, delta, beta, expiry, u: now - delta * beta * math.log(u) >= expiry)
    assert not check_xfetch(lambda now, delta, beta, expiry, u: now + delta * beta * math.log(u) >= expiry)
    assert not check_xfetch(lambda now, delta, beta, expiry, u: now >= expiry)
    assert not check_xfetch(lambda now, delta, beta, expiry, u: math.log(-1))
    assert not check_xfetch(None)
    assert "ValueError" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "ok"),
    [(2.0, True), (1.9, True), (2.1, False), (0.5, False), (0, False), ("2", False), (..., False)],
)
def test_check_flush_interval(answer, ok):
    assert check_flush_interval(answer) is ok


def test_worst_case_loss_grows_with_the_interval():
    assert write_behind_exposure(1.0) == 50 and write_behind_exposure(2.0) == 100
