"""Properties of Retry and Backoff: call counts, jitter bounds, full-jitter spread, deadlines.

The jitter bounds are written out here from the AWS post's formulas, independently of
``Backoff.bounds``, so a wrong formula in the package cannot agree with itself.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.errors import RetryExhausted
from patterns.resilience import Backoff, Retry, RetryEvent

bases = st.sampled_from([0.001, 0.01, 0.1, 0.5, 1.0])
cap_factors = st.sampled_from([1.0, 2.0, 10.0, 1000.0])
jitters = st.sampled_from(["none", "full", "equal", "decorrelated"])


@given(
    max_attempts=st.integers(1, 8),
    failures=st.integers(0, 12),
    jitter=jitters,
    seed=st.integers(0, 2**32),
)
def test_makes_exactly_the_promised_number_of_calls(max_attempts, failures, jitter, seed) -> None:
    clock = ManualClock()
    calls = []
    events: list[RetryEvent] = []

    def dep() -> str:
        calls.append(clock.now())
        if len(calls) <= failures:
            raise ConnectionError
        return "done"

    retry = Retry(
        max_attempts,
        Backoff.exponential(0.1, 2.0, jitter),
        clock=clock,
        rng=random.Random(seed),
        on_retry=events.append,
    )
    if failures < max_attempts:
        assert retry.call(dep) == "done"
        assert len(calls) == failures + 1
    else:
        with pytest.raises(RetryExhausted):
            retry.call(dep)
        assert len(calls) == max_attempts
    assert len(events) == len(calls) - 1
    # every pause happened on the injected clock, between consecutive attempts
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps == pytest.approx([e.delay for e in events])


@given(base=bases, factor=cap_factors, jitter=jitters, seed=st.integers(0, 2**32), n=st.integers(2, 40))
def test_every_delay_lies_within_its_jitter_bounds(base, factor, jitter, seed, n) -> None:
    cap = base * factor
    delays = Backoff.exponential(base, cap, jitter).delays(n, random.Random(seed))
    previous = base
    for i, d in enumerate(delays):
        ceiling = min(cap, base * 2**i)
        if jitter == "none":
            assert d == pytest.approx(ceiling)
        elif jitter == "full":
            assert 0 <= d <= ceiling
        elif jitter == "equal":
            assert ceiling / 2 <= d <= ceiling
        else:  # decorrelated: sleep = min(cap, uniform(base, sleep * 3))
            assert min(cap, base) <= d <= min(cap, max(base, 3 * previous))
        previous = d


@given(seed=st.integers(0, 2**32), cap=st.sampled_from([0.5, 5.0, 60.0]))
def test_full_jitter_is_spread_over_zero_to_cap_not_piled_at_the_cap(seed, cap) -> None:
    # far past the cap (base * 2**n >> cap) every pause is drawn over [0, cap]
    backoff = Backoff.exponential(0.1, cap, "full")
    rng = random.Random(seed)
    draws = [backoff.delay(30, 0.0, rng) for _ in range(400)]
    quarters = [0, 0, 0, 0]
    for d in draws:
        assert 0 <= d <= cap
        quarters[min(int(4 * d / cap), 3)] += 1
    # uniform: about 100 per quarter; a pile at the cap would put nearly all 400 in the last one
    assert all(50 <= q <= 150 for q in quarters), quarters
    assert sum(d == cap for d in draws) <= 1


@given(seed=st.integers(0, 2**32))
def test_equal_jitter_keeps_half_and_spreads_the_rest(seed) -> None:
    backoff = Backoff.exponential(0.1, 4.0, "equal")
    rng = random.Random(seed)
    draws = [backoff.delay(30, 0.0, rng) for _ in range(400)]
    halves = sum(d < 3.0 for d in draws)
    assert all(2.0 <= d <= 4.0 for d in draws)
    assert 140 <= halves <= 260


@given(
    deadline=st.sampled_from([0.0, 0.3, 1.0, 2.5, 10.0]),
    work=st.sampled_from([0.0, 0.1, 0.7]),
    jitter=jitters,
    seed=st.integers(0, 2**32),
)
def test_no_attempt_starts_after_the_deadline(deadline, work, jitter, seed) -> None:
    clock = ManualClock()
    starts: list[float] = []

    def dep() -> None:
        starts.append(clock.now())
        clock.advance(work)
        raise ConnectionError

    retry = Retry(
        50, Backoff.exponential(0.1, 1.0, jitter), deadline=deadline, clock=clock, rng=random.Random(seed)
    )
    with pytest.raises(RetryExhausted):
        retry.call(dep)
    assert starts[0] == 0.0
    assert all(t <= deadline for t in starts)
    assert len(starts) < 50 or clock.now() <= deadline + work
