"""Properties of the circuit breaker against a plain reference model.

The model recomputes the window from the full history after every call (no ring buffer, no running
totals), so a bookkeeping slip in the breaker shows up as a disagreement.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.errors import CircuitOpen
from patterns.resilience import CircuitBreaker, WindowSpec


class Boom(Exception):
    pass


def call(breaker: CircuitBreaker, failed: bool) -> bool:
    """Make one call with the given outcome; True if the breaker admitted it."""

    def dep() -> None:
        if failed:
            raise Boom

    try:
        breaker.call(dep)
    except Boom:
        return True
    except CircuitOpen:
        return False
    return True


thresholds = st.sampled_from([0.1, 0.2, 0.25, 0.3, 1 / 3, 0.5, 0.6, 2 / 3, 0.75, 0.9, 1.0])


@st.composite
def count_scenarios(draw: st.DrawFn) -> tuple[int, int, float, list[bool]]:
    size = draw(st.integers(1, 12))
    minimum = draw(st.integers(1, size))
    threshold = draw(thresholds)
    outcomes = draw(st.lists(st.booleans(), max_size=60))
    return size, minimum, threshold, outcomes


@given(count_scenarios())
def test_count_window_opens_exactly_at_the_first_crossing(scenario) -> None:
    size, minimum, threshold, outcomes = scenario
    clock = ManualClock()
    b = CircuitBreaker(threshold, WindowSpec.count(size), minimum, wait_in_open=5.0, clock=clock)
    history: list[bool] = []
    for failed in outcomes:
        assert call(b, failed), "a closed breaker must admit every call"
        history.append(failed)
        window = history[-size:]
        should_open = len(window) >= minimum and sum(window) / len(window) >= threshold
        assert b.state == ("open" if should_open else "closed")
        m = b.metrics()
        assert (m.window_calls, m.window_failures) == (len(window), sum(window))
        if should_open:
            assert not call(b, False), "an open breaker must refuse calls"
            return


@st.composite
def time_scenarios(draw: st.DrawFn) -> tuple[float, int, float, list[tuple[float, bool]]]:
    seconds = draw(st.sampled_from([1.0, 2.5, 10.0]))
    minimum = draw(st.integers(1, 8))
    threshold = draw(thresholds)
    steps = draw(
        st.lists(st.tuples(st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.5, 4.0]), st.booleans()), max_size=60)
    )
    return seconds, minimum, threshold, steps


@given(time_scenarios())
def test_time_window_opens_exactly_at_the_first_crossing(scenario) -> None:
    seconds, minimum, threshold, steps = scenario
    clock = ManualClock()
    b = CircuitBreaker(threshold, WindowSpec.time(seconds), minimum, wait_in_open=5.0, clock=clock)
    history: list[tuple[float, bool]] = []
    for gap, failed in steps:
        clock.advance(gap)
        now = clock.now()
        assert call(b, failed)
        history.append((now, failed))
        window = [f for t, f in history if now - seconds < t <= now]
        should_open = len(window) >= minimum and sum(window) / len(window) >= threshold
        assert b.state == ("open" if should_open else "closed")
        if should_open:
            return


@given(
    half_open_calls=st.integers(1, 6),
    threshold=thresholds,
    trials=st.lists(st.booleans(), min_size=6, max_size=6),
    wait=st.sampled_from([0.0, 0.5, 3.0, 30.0]),
)
def test_half_open_decides_on_the_trial_rate(half_open_calls, threshold, trials, wait) -> None:
    clock = ManualClock(100.0)
    b = CircuitBreaker(
        threshold, WindowSpec.count(1), 1, wait_in_open=wait, half_open_calls=half_open_calls, clock=clock
    )
    call(b, True)
    assert b.state == ("open" if wait > 0 else "half_open")
    if wait > 0:
        clock.set(100.0 + wait - min(wait / 2, 0.001))
        assert b.state == "open"
        clock.set(100.0 + wait)
    assert b.state == "half_open"
    used = trials[:half_open_calls]
    for i, failed in enumerate(used):
        assert call(b, failed)
        if i < half_open_calls - 1:
            assert b.state == "half_open"
    reopen = sum(used) / half_open_calls >= threshold
    expected = "open" if reopen else "closed"
    assert b.state == (expected if not (reopen and wait == 0) else "half_open")
