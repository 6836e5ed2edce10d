"""The lab-10 checkers accept right answers and reject typical wrong ones with a helpful message."""

from __future__ import annotations

import math

import pytest

from patterns.check import ratelimit as chk
from patterns.clock import ManualClock
from patterns.infra import redis_client
from patterns.ratelimit import FixedWindow, SlidingWindowCounter, SlidingWindowLog, TokenBucket


def kw(**kwargs: object) -> tuple[tuple[str, object], ...]:
    """Keyword arguments as a hashable tuple (the shared conftest puts parameters in a set)."""
    return tuple(kwargs.items())


def verdict(capsys: pytest.CaptureFixture[str], ok: bool) -> str:
    out = capsys.readouterr().out
    assert out.startswith("✓" if ok else "✗"), out
    return out


# -- max_in_window ---------------------------------------------------------------------------------
def test_max_in_window_counts_half_open_intervals() -> None:
    assert chk.max_in_window([], 10.0) == 0
    assert chk.max_in_window([0.0, 10.0], 10.0) == 1  # (0, 10] excludes 0
    assert chk.max_in_window([0.0, 9.999, 10.0], 10.0) == 2
    assert chk.max_in_window([5.0, 1.0, 3.0], 10.0) == 3  # unsorted input


def test_max_in_window_is_immune_to_float_noise() -> None:
    times = [2.678882 + i for i in range(11)]  # spaced exactly 1 s: at most 10 in any 10 s
    assert chk.max_in_window(times, 10.0) == 10


# -- exercise 1 ------------------------------------------------------------------------------------
def test_estimate_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_sliding_estimate(0.75 * 8 + 3, True) is True
    assert "9" in verdict(capsys, True)


def test_estimate_scenario_matches_the_package() -> None:
    estimate, admitted = chk._scenario_estimate()
    assert estimate == 9.0 and admitted is True
    s = chk.ESTIMATE_SCENARIO
    clock = ManualClock()
    lim = SlidingWindowCounter(limit=s["limit"], period=s["period"], clock=clock)
    for t in s["previous"] + s["current"] + [s["now"]]:
        clock.set(t)
        assert lim.allow("x").allowed
    clock.advance(0.1)  # the estimate is now 8 * 0.74 + 4 = 9.92: one more does not fit
    assert not lim.allow("x").allowed


@pytest.mark.parametrize(
    ("estimate", "fragment"),
    [
        (0.25 * 8 + 3, "elapsed fraction f"),
        (11.0, "whole previous window"),
        (3, "ignored the previous window"),
        (10.0, "includes the new request"),
        (7.5, "(1 - f) * previous + current"),
    ],
)
def test_estimate_typical_mistakes(
    capsys: pytest.CaptureFixture[str], estimate: float, fragment: str
) -> None:
    assert chk.check_sliding_estimate(estimate, True) is False
    assert fragment in verdict(capsys, False)


def test_estimate_wrong_decision_and_types(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_sliding_estimate(9.0, False) is False
    assert "equality admits" in verdict(capsys, False)
    assert chk.check_sliding_estimate("9", "yes") is False
    out = verdict(capsys, False)
    assert "should be a number" in out and "True or False" in out


def test_estimate_unanswered(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_sliding_estimate(..., ...) is False
    assert "not answered yet" in verdict(capsys, False)


# -- exercise 2 ------------------------------------------------------------------------------------
def good_fixed_window(times: list[float], limit: int, period: float) -> list[bool]:
    out, window, used = [], None, 0
    for t in times:
        if (k := math.floor(t / period)) != window:
            window, used = k, 0
        ok = used < limit
        used += ok
        out.append(ok)
    return out


def test_fixed_window_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_fixed_window(good_fixed_window) is True
    verdict(capsys, True)


def test_fixed_window_reference_is_the_package() -> None:
    for times, limit, period in chk._fixed_window_traces():
        clock = ManualClock()
        lim = FixedWindow(limit=limit, period=period, clock=clock)
        expected = []
        for t in times:
            clock.set(t)
            expected.append(lim.allow("k").allowed)
        assert good_fixed_window(times, limit, period) == expected


def off_by_one_boundary(times: list[float], limit: int, period: float) -> list[bool]:
    """Windows (k*P, (k+1)*P]: a request exactly on a boundary counts in the old window."""
    out, window, used = [], None, 0
    for t in times:
        if (k := math.ceil(t / period)) != window:
            window, used = k, 0
        ok = used < limit
        used += ok
        out.append(ok)
    return out


def rounds_window_index(times: list[float], limit: int, period: float) -> list[bool]:
    out, window, used = [], None, 0
    for t in times:
        if (k := round(t / period)) != window:
            window, used = k, 0
        ok = used < limit
        used += ok
        out.append(ok)
    return out


def never_resets(times: list[float], limit: int, period: float) -> list[bool]:
    used, out = 0, []
    for _ in times:
        out.append(used < limit)
        used += out[-1]
    return out


def denies_too_early(times: list[float], limit: int, period: float) -> list[bool]:
    out, window, used = [], None, 0
    for t in times:
        if (k := math.floor(t / period)) != window:
            window, used = k, 0
        ok = used < limit - 1
        used += ok
        out.append(ok)
    return out


def allows_one_extra(times: list[float], limit: int, period: float) -> list[bool]:
    out, window, used = [], None, 0
    for t in times:
        if (k := math.floor(t / period)) != window:
            window, used = k, 0
        ok = used <= limit
        used += ok
        out.append(ok)
    return out


@pytest.mark.parametrize(
    ("func", "fragment"),
    [
        (off_by_one_boundary, "math.floor(t / period)"),
        (allows_one_extra, "at most limit"),
        (never_resets, "fresh count"),
        (rounds_window_index, "expected"),
        (denies_too_early, "start from 0 in each new window"),
        (lambda times, limit, period: [True] * (len(times) - 1), "one per request"),
        (lambda times, limit, period: [1] * len(times), "list of True/False"),
        (lambda times, limit, period: 1 / 0, "ZeroDivisionError"),
        (42, "should be a function"),
        (..., "not answered yet"),
    ],
)
def test_fixed_window_typical_mistakes(
    capsys: pytest.CaptureFixture[str], func: object, fragment: str
) -> None:
    assert chk.check_fixed_window(func) is False
    assert fragment in verdict(capsys, False)


# -- exercise 3 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [kw(limit=3, period=2.0, burst=5), kw(limit=3, period=2.0, burst=4), kw(limit=15, period=10.0, burst=5)],
)
def test_partner_bucket_right_answers(capsys: pytest.CaptureFixture[str], params: tuple) -> None:
    assert chk.check_partner_bucket(dict(params)) is True
    verdict(capsys, True)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (kw(limit=3, period=2.0, burst=8), "burst + rate*T = 8 + 1.5*10"),
        (kw(limit=20, period=10.0), "burst + rate*T = 20 + 2*10"),  # burst defaults to limit
        (kw(limit=1, period=1.0, burst=5), "below the 1.5/s"),
        (kw(limit=3, period=0.0, burst=5), "TokenBucket rejected"),
        (kw(rate=1.5, burst=5), "should be a dict with keys"),
        ((3, 2.0, 5), "should be a dict with keys"),
        (..., "not answered yet"),
    ],
)
def test_partner_bucket_typical_mistakes(
    capsys: pytest.CaptureFixture[str], params: object, fragment: str
) -> None:
    answer = dict(params) if isinstance(params, tuple) and params and isinstance(params[0], tuple) else params
    assert chk.check_partner_bucket(answer) is False
    assert fragment in verdict(capsys, False)


@pytest.mark.parametrize(("burst", "worst"), [(6, 20), (7, 21)])
def test_partner_flood_reaches_the_bound(burst: int, worst: int) -> None:
    """The checker's flood is dense enough to reach burst + rate*T in a half-open 10 s window
    (one instant fewer than the closed bound), so burst=7 at 1.5/s is caught and burst=6 passes."""
    clock = ManualClock()
    lim = TokenBucket(limit=3, period=2.0, burst=burst, clock=clock)
    admitted = []
    for i in range(6000):
        clock.set(i * 0.01)
        if lim.allow("p").allowed:
            admitted.append(i * 0.01)
    assert chk.max_in_window(admitted, 10.0) == worst
    assert chk.check_partner_bucket(dict(limit=3, period=2.0, burst=burst)) is (worst <= 20)


# -- exercise 4 ------------------------------------------------------------------------------------
def server_pair(**b_kwargs: object) -> tuple[SlidingWindowLog, object]:
    clock = ManualClock()
    a = SlidingWindowLog(limit=5, period=10.0, clock=clock, backend=redis_client(url="", fresh=True))
    kwargs = dict(limit=5, period=10.0, clock=clock, backend=a.backend)
    kwargs.update(b_kwargs)
    return a, SlidingWindowLog(**kwargs)


def test_shared_limiter_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    a, b = server_pair()
    assert chk.check_shared_limiter(a, b) is True
    assert "exactly 5" in verdict(capsys, True)


def test_shared_limiter_right_answer_with_two_clients_and_clocks(capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = server_pair()
    b = SlidingWindowLog(limit=5, period=10.0, clock=ManualClock(), backend=redis_client(url="", fresh=True))
    assert chk.check_shared_limiter(a, b) is False  # a different (isolated) Redis server
    assert "together the two servers admitted 10" in verdict(capsys, False)


@pytest.mark.parametrize(
    ("b_kwargs", "fragment"),
    [
        (kw(backend=None), "own memory"),
        (kw(prefix="other:"), "different Redis keys"),
        (kw(namespace="someone-else"), "different namespaces"),
        (kw(limit=6), "One policy, one limit"),
        (kw(clock=None), "ManualClock"),
    ],
)
def test_shared_limiter_typical_mistakes(
    capsys: pytest.CaptureFixture[str], b_kwargs: tuple, fragment: str
) -> None:
    a, b = server_pair(**dict(b_kwargs))
    assert chk.check_shared_limiter(a, b) is False
    assert fragment in verdict(capsys, False)


def test_shared_limiter_other_algorithm_and_unanswered(capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = server_pair()
    b = SlidingWindowCounter(limit=5, period=10.0, clock=a.clock, backend=a.backend, prefix=a.prefix)
    assert chk.check_shared_limiter(a, b) is False
    assert "same algorithm" in verdict(capsys, False)
    assert chk.check_shared_limiter(a, ...) is False
    assert "not answered yet" in verdict(capsys, False)
    assert chk.check_shared_limiter(a, "server") is False
    assert "should be a limiter" in verdict(capsys, False)
