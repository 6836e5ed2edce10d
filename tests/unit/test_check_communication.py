"""The lab-03 checkers accept right answers, reject wrong ones with a hint, and never raise."""

from __future__ import annotations

import pytest

from patterns.check import communication as chk


def test_p_any_slow_checker(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_p_any_slow(lambda p, n: 1 - (1 - p) ** n)
    assert not chk.check_p_any_slow(lambda p, n: p * n)
    assert "first approximation" in capsys.readouterr().out
    assert not chk.check_p_any_slow(lambda p, n: (1 - p) ** n)
    assert "NO call is slow" in capsys.readouterr().out
    assert not chk.check_p_any_slow(lambda p, n: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not chk.check_p_any_slow(...)


def _w(lam: float, mu: float) -> float:
    if lam >= mu:
        raise ValueError("unstable")
    return 1 / (mu - lam)


def test_mm1_checker(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_mm1_time_in_system(_w)
    assert not chk.check_mm1_time_in_system(lambda lam, mu: 1 / (mu - lam))  # no ValueError
    assert "should raise ValueError" in capsys.readouterr().out
    assert not chk.check_mm1_time_in_system(lambda lam, mu: _w(lam, mu) - 1 / mu)  # Wq, not W
    assert "queue only" in capsys.readouterr().out
    assert not chk.check_mm1_time_in_system(None)


def test_workers_checker_finds_the_smallest_pool(capsys: pytest.CaptureFixture[str]) -> None:
    waits = {c: chk._max_wait(c) for c in range(1, 8)}
    smallest = min(c for c, w in waits.items() if w <= chk.SPIKE_MAX_WAIT)
    assert all(waits[c] > chk.SPIKE_MAX_WAIT for c in range(1, smallest))
    assert chk.check_workers_for_spike(smallest)
    assert not chk.check_workers_for_spike(smallest - 1)
    assert "add workers" in capsys.readouterr().out
    assert not chk.check_workers_for_spike(smallest + 1)
    assert "already keep" in capsys.readouterr().out
    for bad in (0, 2.5, True, "5", 99, ...):
        assert not chk.check_workers_for_spike(bad)


def test_dead_letter_time_follows_the_backoff() -> None:
    # attempts at t = 0, 1, 3, 7: three waits of 1, 2, 4 seconds
    assert chk.dead_letter_time(4, 1.0, 2.0) == 7.0
    assert chk.dead_letter_time(1, 1.0, 2.0) == 0.0
    assert chk.dead_letter_time(3, 0.5, 3.0) == 0.5 + 1.5


def test_dead_letter_checker(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_dead_letter_time(7)
    assert chk.check_dead_letter_time(7.0)
    assert not chk.check_dead_letter_time(15)
    assert "3 waits" in capsys.readouterr().out
    assert not chk.check_dead_letter_time("7")
    assert not chk.check_dead_letter_time(...)
