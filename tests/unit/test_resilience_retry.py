"""Retry and Backoff: attempt counts, sleeps on the injected clock, predicates, deadline, errors."""

from __future__ import annotations

import random

import pytest

from patterns.clock import ManualClock
from patterns.errors import CircuitOpen, RetryExhausted
from patterns.resilience import Backoff, Retry, RetryEvent


class Flaky:
    """Fails the first ``failures`` calls with ``error``, then returns the call number."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or ConnectionError("reset")
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return self.calls


def make(clock: ManualClock, **kw) -> Retry:
    defaults = dict(max_attempts=3, backoff=Backoff.fixed(1.0), clock=clock, rng=random.Random(1))
    return Retry(**{**defaults, **kw})


def test_max_attempts_counts_the_first_call(clock: ManualClock) -> None:
    dep = Flaky(10)
    with pytest.raises(RetryExhausted, match="all 3 attempt") as info:
        make(clock).call(dep)
    assert dep.calls == 3
    assert isinstance(info.value.__cause__, ConnectionError)


def test_success_after_failures_returns_the_value(clock: ManualClock) -> None:
    dep = Flaky(2)
    assert make(clock).call(dep) == 3
    assert clock.now() == 2.0  # two fixed pauses of 1 s, on the injected clock


def test_success_at_once_does_not_sleep(clock: ManualClock) -> None:
    assert make(clock).call(Flaky(0)) == 1
    assert clock.now() == 0.0


def test_one_attempt_means_no_retry(clock: ManualClock) -> None:
    dep = Flaky(5)
    with pytest.raises(RetryExhausted, match="all 1 attempt"):
        make(clock, max_attempts=1).call(dep)
    assert dep.calls == 1


def test_exponential_pauses_without_jitter(clock: ManualClock) -> None:
    events: list[RetryEvent] = []
    retry = make(clock, max_attempts=6, backoff=Backoff.exponential(0.5, 3.0, "none"), on_retry=events.append)
    with pytest.raises(RetryExhausted):
        retry.call(Flaky(10))
    assert [e.delay for e in events] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert [e.attempt for e in events] == [1, 2, 3, 4, 5]
    assert clock.now() == 9.5


def test_retry_on_types_lets_other_errors_through_unchanged(clock: ManualClock) -> None:
    dep = Flaky(5, ValueError("bad request"))
    with pytest.raises(ValueError, match="bad request"):
        make(clock, retry_on=(ConnectionError, TimeoutError)).call(dep)
    assert dep.calls == 1


def test_retry_on_predicate(clock: ManualClock) -> None:
    dep = Flaky(1, ConnectionError("503"))
    assert make(clock, retry_on=lambda exc: "503" in str(exc)).call(dep) == 2
    dep = Flaky(1, ConnectionError("400"))
    with pytest.raises(ConnectionError, match="400"):
        make(clock, retry_on=lambda exc: "503" in str(exc)).call(dep)


def test_a_non_retryable_error_after_retries_propagates(clock: ManualClock) -> None:
    errors = iter([ConnectionError("reset"), CircuitOpen("open")])

    def dep() -> None:
        raise next(errors)

    with pytest.raises(CircuitOpen):
        make(clock, retry_on=ConnectionError).call(dep)


def test_deadline_stops_before_a_pause_that_would_overrun(clock: ManualClock) -> None:
    starts: list[float] = []

    def dep() -> None:
        starts.append(clock.now())
        clock.advance(0.5)  # each attempt takes 0.5 s
        raise ConnectionError

    retry = make(clock, max_attempts=10, backoff=Backoff.fixed(1.0), deadline=4.0)
    with pytest.raises(RetryExhausted, match="deadline"):
        retry.call(dep)
    assert starts == [0.0, 1.5, 3.0]  # the next would start at 4.5 > 4.0
    assert clock.now() == 3.5  # no pause was taken past the point of giving up


def test_deadline_counts_from_the_first_call(clock: ManualClock) -> None:
    def dep() -> None:
        clock.advance(3.0)
        raise ConnectionError

    with pytest.raises(RetryExhausted, match="deadline"):
        make(clock, max_attempts=5, deadline=3.5).call(dep)
    assert clock.now() == 3.0


def test_decorator_form_and_arguments(clock: ManualClock) -> None:
    seen: list[tuple] = []

    @make(clock)
    def fetch(key: str, *, version: int) -> str:
        """Fetch a key."""
        seen.append((key, version))
        if len(seen) < 2:
            raise ConnectionError
        return f"{key}@{version}"

    assert fetch("a", version=2) == "a@2"
    assert seen == [("a", 2), ("a", 2)]
    assert fetch.__name__ == "fetch" and fetch.__doc__ == "Fetch a key."


def test_decorator_rejects_coroutines(clock: ManualClock) -> None:
    async def co() -> None:
        return None

    with pytest.raises(TypeError, match="synchronous"):
        make(clock)(co)


def test_backoff_ceilings_and_bounds() -> None:
    b = Backoff.exponential(0.1, 5.0, "none")
    assert [b.ceiling(n) for n in range(8)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    assert b.ceiling(5000) == 5.0  # 2**5000 overflows a float: still the cap
    assert Backoff.exponential(0.1, 5.0, "full").bounds(3, 0.0) == (0.0, pytest.approx(0.8))
    assert Backoff.exponential(0.1, 5.0, "equal").bounds(3, 0.0) == (pytest.approx(0.4), pytest.approx(0.8))
    assert Backoff.exponential(0.1, 5.0, "decorrelated").bounds(7, 1.0) == (0.1, 3.0)
    assert Backoff.exponential(0.1, 5.0, "decorrelated").bounds(7, 4.0) == (0.1, 5.0)
    assert Backoff.fixed(0.3).bounds(9, 0.0) == (0.3, 0.3)
    assert Backoff.exponential(1.0, 9.0, "none", multiplier=3.0).delays(4, random.Random(0)) == [
        1.0,
        3.0,
        9.0,
    ]


def test_seeded_rng_makes_jitter_reproducible() -> None:
    b = Backoff.exponential(0.1, 5.0, "full")
    assert b.delays(6, random.Random(7)) == b.delays(6, random.Random(7))
    assert b.delays(6, random.Random(7)) != b.delays(6, random.Random(8))


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: Retry(max_attempts=0), ValueError, r"max_attempts must be an integer in \[1, .*\], got 0"),
        (lambda: Retry(max_attempts=2.0), TypeError, "max_attempts"),
        (lambda: Retry(backoff=0.1), TypeError, "backoff must be a Backoff"),
        (lambda: Retry(retry_on="ConnectionError"), TypeError, "retry_on"),
        (lambda: Retry(deadline=-1), ValueError, r"deadline must be a finite number of seconds in \[0, "),
        (lambda: Retry(rng=42), TypeError, "rng must be a random.Random"),
        (lambda: Retry(on_retry=3), TypeError, "on_retry must be callable"),
        (lambda: Backoff.exponential(jitter="fulll"), ValueError, "jitter must be one of 'none', 'full'"),
        (lambda: Backoff.exponential(base=0), ValueError, r"base must be a finite number of seconds in \(0, "),
        (lambda: Backoff.exponential(base=1.0, cap=0.5), ValueError, r"cap must be >= base \(1.0\)"),
        (lambda: Backoff.exponential(multiplier=0.5), ValueError, r"multiplier must be a finite number in \[1, 1000\]"),
        (lambda: Backoff.exponential(cap=float("inf")), ValueError, "cap must be a finite number"),
        (lambda: Backoff.fixed(-1.0), ValueError, r"delay must be a finite number of seconds in \[0, "),
        (lambda: Backoff.fixed(1.0, "decorrelated"), ValueError, r"jitter \(of a fixed backoff\) must be one of"),
        (lambda: Backoff(0.1, 1.0, 2.0, "sometimes"), ValueError, "jitter must be one of"),
        (lambda: Backoff.fixed(1.0).ceiling(-1), ValueError, r"n must be an integer in \[0, "),
        (
            lambda: Backoff.fixed(1.0).delays(0, random.Random()),
            ValueError,
            r"attempts must be an integer in \[1, 100000\]",
        ),
    ],
)
def test_bad_arguments_name_the_parameter(build, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_repr() -> None:
    assert repr(Retry(max_attempts=4)).startswith("Retry(max_attempts=4, backoff=Backoff(")
