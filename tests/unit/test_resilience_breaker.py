"""Circuit breaker: the state machine at exact ManualClock times, predicates, listeners, metrics."""

from __future__ import annotations

import asyncio
import logging

import pytest

from patterns.clock import ManualClock
from patterns.errors import CircuitOpen
from patterns.resilience import CircuitBreaker, StateChange, WindowSpec


class Boom(Exception):
    pass


class NotFound(Exception):
    pass


def fail() -> None:
    raise Boom("down")


def ok() -> str:
    return "ok"


def run(breaker: CircuitBreaker, fn) -> object:
    """One call; the error (if any) is returned instead of raised."""
    try:
        return breaker.call(fn)
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        return exc


def make(clock: ManualClock, **kw) -> CircuitBreaker:
    defaults = dict(
        failure_rate_threshold=0.5,
        window=WindowSpec.count(4),
        minimum_calls=4,
        wait_in_open=10.0,
        half_open_calls=2,
        clock=clock,
    )
    return CircuitBreaker(**{**defaults, **kw})


def trip(breaker: CircuitBreaker) -> None:
    for _ in range(breaker.minimum_calls):
        run(breaker, fail)
    assert breaker.state == "open"


def test_defaults_follow_the_issue(clock: ManualClock) -> None:
    b = CircuitBreaker(clock=clock)
    assert (b.failure_rate_threshold, b.window, b.minimum_calls) == (0.5, WindowSpec.count(10), 10)
    assert (b.wait_in_open, b.half_open_calls, b.slow_call_threshold) == (30.0, 3, None)
    assert b.state == "closed"


def test_opens_when_the_rate_reaches_the_threshold_not_before(clock: ManualClock) -> None:
    b = make(clock)
    run(b, ok)
    run(b, fail)
    run(b, ok)
    assert b.state == "closed"  # 3 calls < minimum_calls 4, although 1/3 failed
    run(b, fail)  # 2/4 = 0.5 >= 0.5
    assert b.state == "open"


def test_success_that_reaches_minimum_calls_can_open(clock: ManualClock) -> None:
    b = make(clock)
    for fn in (fail, fail, ok):
        run(b, fn)
    assert b.state == "closed"
    run(b, ok)  # the 4th call is a success, but 2/4 failed
    assert b.state == "open"


def test_open_fails_fast_without_calling(clock: ManualClock) -> None:
    b = make(clock)
    trip(b)
    calls = []
    with pytest.raises(CircuitOpen, match="open"):
        b.call(lambda: calls.append(1))
    assert calls == []
    assert b.metrics().not_permitted == 1


def test_half_open_at_exactly_wait_in_open(clock: ManualClock) -> None:
    b = make(clock)
    clock.advance(5.0)
    trip(b)  # opened at t=5
    clock.set(14.999999)
    assert b.state == "open"
    assert isinstance(run(b, ok), CircuitOpen)
    clock.set(15.0)
    assert b.state == "half_open"


def test_half_open_successes_close_with_an_empty_window(clock: ManualClock) -> None:
    b = make(clock)
    trip(b)
    clock.advance(10.0)
    assert run(b, ok) == "ok"
    assert b.state == "half_open"  # 1 of 2 trials done
    assert run(b, ok) == "ok"
    assert b.state == "closed"
    assert b.metrics().window_calls == 0


def test_half_open_failure_reopens_at_that_time(clock: ManualClock) -> None:
    b = make(clock)
    trip(b)
    clock.advance(10.0)
    run(b, ok)
    clock.advance(1.0)
    run(b, fail)  # 1/2 = 0.5 >= 0.5: open again at t=11
    assert b.state == "open"
    clock.set(20.999)
    assert b.state == "open"
    clock.set(21.0)
    assert b.state == "half_open"


def test_half_open_admits_only_the_trial_calls(clock: ManualClock) -> None:
    b = make(clock, half_open_calls=1)
    trip(b)
    clock.advance(10.0)
    seen = []

    def trial() -> str:
        # while the trial runs, a second caller is refused
        seen.append(run(b, ok))
        return "trial"

    assert b.call(trial) == "trial"
    assert isinstance(seen[0], CircuitOpen)
    assert b.state == "closed"


def test_failure_on_predicate_counts_other_errors_as_successes(clock: ManualClock) -> None:
    b = make(clock, failure_on=Boom)

    def missing() -> None:
        raise NotFound("no such order")

    for _ in range(8):
        assert isinstance(run(b, missing), NotFound)
    assert b.state == "closed"
    m = b.metrics()
    assert (m.successful, m.failed, m.window_calls) == (8, 0, 4)


def test_failure_on_accepts_a_callable(clock: ManualClock) -> None:
    b = make(clock, failure_on=lambda exc: "503" in str(exc))
    for _ in range(4):
        run(b, lambda: (_ for _ in ()).throw(Boom("404")))
    assert b.state == "closed"
    for _ in range(4):
        run(b, lambda: (_ for _ in ()).throw(Boom("503")))
    assert b.state == "open"


def test_ignored_errors_are_not_recorded(clock: ManualClock) -> None:
    b = make(clock, ignore_on=NotFound)

    def missing() -> None:
        raise NotFound

    for _ in range(10):
        run(b, missing)
    m = b.metrics()
    assert (m.window_calls, m.ignored, b.state) == (0, 10, "closed")


def test_ignored_error_gives_the_half_open_permit_back(clock: ManualClock) -> None:
    b = make(clock, ignore_on=NotFound, half_open_calls=1)
    trip(b)
    clock.advance(10.0)

    def missing() -> None:
        raise NotFound

    run(b, missing)
    assert b.state == "half_open"
    assert run(b, ok) == "ok"  # the permit came back, so this trial is admitted
    assert b.state == "closed"


def test_slow_calls_open_the_breaker(clock: ManualClock) -> None:
    b = make(clock, slow_call_threshold=2.0, slow_call_rate_threshold=0.75)

    def slow() -> str:
        clock.advance(2.0)  # exactly at the threshold counts as slow
        return "late but fine"

    for fn in (slow, slow, ok):
        run(b, fn)
    assert b.state == "closed"
    run(b, slow)  # 3/4 slow = 0.75
    assert b.state == "open"
    m = b.metrics()
    assert (m.failed, m.slow, m.window_slow) == (0, 3, 3)


def test_time_window_forgets_old_failures(clock: ManualClock) -> None:
    b = make(clock, window=WindowSpec.time(10.0), minimum_calls=3)
    run(b, fail)
    run(b, fail)
    clock.advance(10.0)  # both failures were recorded at t=0 <= now - 10: out of the window
    run(b, fail)
    assert b.state == "closed"
    assert b.metrics().window_calls == 1
    run(b, ok)
    run(b, fail)  # 2/3 within the last 10 s
    assert b.state == "open"


def test_late_outcome_of_a_previous_state_changes_nothing(clock: ManualClock) -> None:
    b = make(clock, half_open_calls=1)

    def straggler() -> str:
        trip(b)  # while this call runs, others open the breaker...
        clock.advance(10.0)  # ...and it becomes half-open
        return "late"

    assert b.call(straggler) == "late"
    assert b.state == "half_open"  # the straggler was not taken as a trial success
    assert b.metrics().late == 1


def test_listeners_see_every_transition_at_exact_times(clock: ManualClock) -> None:
    b = make(clock, name="payments", half_open_calls=1)
    changes: list[StateChange] = []
    b.add_listener(changes.append)
    b.add_listener(lambda change: b.state)  # a listener may read the breaker (no deadlock)
    clock.set(1.0)
    trip(b)
    clock.set(30.0)  # half-open became due at 11.0, observed later
    run(b, fail)
    clock.advance(2.5)
    assert b.state == "open"
    b.reset()
    got = [(c.seq, c.old, c.new, c.at) for c in changes]
    assert got == [
        (1, "closed", "open", 1.0),
        (2, "open", "half_open", 11.0),
        (3, "half_open", "open", 30.0),
        (4, "open", "closed", 32.5),
    ]
    assert all(c.breaker == "payments" and c.reason for c in changes)
    b.remove_listener(changes.append)
    trip(b)
    assert len(changes) == 4


def test_a_failing_listener_does_not_break_the_call(clock: ManualClock, caplog) -> None:
    b = make(clock)

    def broken(change: StateChange) -> None:
        raise RuntimeError("listener bug")

    b.add_listener(broken)
    with caplog.at_level(logging.ERROR):
        trip(b)
    assert "listener" in caplog.text


def test_metrics_snapshot(clock: ManualClock) -> None:
    b = make(clock, window=WindowSpec.count(5), minimum_calls=5)
    for fn in (ok, fail, ok, ok):
        run(b, fn)
    m = b.metrics()
    assert (m.state, m.window_calls, m.window_failures, m.failure_rate) == ("closed", 4, 1, 0.25)
    assert (m.successful, m.failed, m.transitions) == (3, 1, 0)


def test_decorator_form(clock: ManualClock) -> None:
    b = make(clock)

    @b
    def charge(amount: int, *, currency: str) -> str:
        """Charge a card."""
        return f"{amount} {currency}"

    assert charge(5, currency="EUR") == "5 EUR"
    assert charge.__name__ == "charge" and charge.__doc__ == "Charge a card."
    assert b.metrics().successful == 1


def test_async_decorator_records_after_the_await(clock: ManualClock) -> None:
    b = make(clock)

    @b
    async def flaky() -> None:
        await asyncio.sleep(0)
        raise Boom

    for _ in range(4):
        with pytest.raises(Boom):
            asyncio.run(flaky())
    assert b.state == "open"
    with pytest.raises(CircuitOpen):
        asyncio.run(flaky())


def test_sync_call_of_a_coroutine_function_is_refused(clock: ManualClock) -> None:
    b = make(clock, half_open_calls=1)

    async def co() -> str:
        return "never awaited"

    with pytest.raises(TypeError, match="call_async"):
        b.call(co)
    assert b.metrics().successful == 0
    trip(b)
    clock.advance(10.0)
    with pytest.raises(TypeError):
        b.call(co)  # in half-open, the trial permit comes back
    assert b.call(ok) == "ok" and b.state == "closed"
    assert asyncio.run(b.call_async(co)) == "never awaited"


def test_keyboard_interrupt_is_not_a_failure(clock: ManualClock) -> None:
    b = make(clock)

    def interrupted() -> None:
        raise KeyboardInterrupt

    for _ in range(4):
        with pytest.raises(KeyboardInterrupt):
            b.call(interrupted)
    assert b.state == "closed" and b.metrics().ignored == 4


def test_repr_names_the_state(clock: ManualClock) -> None:
    assert "state='closed'" in repr(make(clock))


@pytest.mark.parametrize(
    ("name", "value", "error", "match"),
    [
        ("failure_rate_threshold", 0, ValueError, r"failure_rate_threshold must be a number in \(0, 1\]"),
        ("failure_rate_threshold", 1.5, ValueError, "failure_rate_threshold"),
        ("failure_rate_threshold", float("nan"), ValueError, "failure_rate_threshold"),
        ("failure_rate_threshold", "half", TypeError, "failure_rate_threshold"),
        ("slow_call_rate_threshold", 0.0, ValueError, "slow_call_rate_threshold"),
        ("minimum_calls", 0, ValueError, r"minimum_calls must be an integer in \[1, "),
        ("minimum_calls", 2.5, TypeError, "minimum_calls"),
        ("minimum_calls", 11, ValueError, r"minimum_calls must be <= the window size \(10\)"),
        ("wait_in_open", -1, ValueError, r"wait_in_open must be a finite number of seconds in \[0, "),
        ("wait_in_open", float("inf"), ValueError, "wait_in_open"),
        ("half_open_calls", 0, ValueError, r"half_open_calls must be an integer in \[1, "),
        ("slow_call_threshold", -0.1, ValueError, "slow_call_threshold"),
        ("window", 10, TypeError, "window must be a WindowSpec"),
        ("failure_on", "Boom", TypeError, "failure_on"),
        ("failure_on", (), TypeError, "failure_on"),
        ("ignore_on", int, TypeError, "ignore_on"),
    ],
)
def test_bad_arguments_name_the_parameter(name: str, value: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        CircuitBreaker(**{name: value})


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: WindowSpec.count(0), ValueError, r"window size n must be an integer in \[1, 1e\+06\]"),
        (lambda: WindowSpec.count(2.0), TypeError, "window size n"),
        (lambda: WindowSpec.count(True), TypeError, "window size n"),
        (lambda: WindowSpec.time(0), ValueError, r"window seconds must be a finite number of seconds in \(0, "),
        (lambda: WindowSpec.time(-3), ValueError, "window seconds"),
        (lambda: WindowSpec.time("60"), TypeError, "window seconds"),
    ],
)
def test_bad_window_specs(build, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_window_spec_repr_and_time_window_any_minimum() -> None:
    assert repr(WindowSpec.count(3)) == "WindowSpec.count(3)"
    assert repr(WindowSpec.time(2)) == "WindowSpec.time(2.0)"
    CircuitBreaker(window=WindowSpec.time(1.0), minimum_calls=1000)  # a time window has no size limit


def test_listener_must_be_callable(clock: ManualClock) -> None:
    with pytest.raises(TypeError, match="listener must be callable"):
        make(clock).add_listener("print")


def test_a_success_that_pushes_old_successes_out_of_a_time_window_opens_it(clock: ManualClock) -> None:
    b = make(clock, window=WindowSpec.time(10.0), minimum_calls=2)
    run(b, ok)
    run(b, ok)
    clock.set(9.0)
    run(b, fail)  # 1 failure in 3 calls
    assert b.state == "closed"
    clock.set(10.0)
    run(b, ok)  # the two successes of t=0 leave: 1 failure in 2 calls, judged on this success
    assert b.state == "open"


def test_a_caller_bug_is_not_a_failure_of_the_dependency(clock: ManualClock) -> None:
    for window in (WindowSpec.count(4), WindowSpec.time(5.0)):
        b = make(clock, window=window, minimum_calls=1, failure_rate_threshold=0.1)
        with pytest.raises(TypeError, match="CircuitBreaker.call needs a callable, got int"):
            b.call(42)  # type: ignore[arg-type]
        assert b.state == "closed"
        m = b.metrics()
        assert (m.failed, m.ignored, m.window_calls) == (0, 1, 0)


def test_time_window_bookkeeping_matches_a_recount(clock: ManualClock) -> None:
    b = make(clock, window=WindowSpec.time(3.0), minimum_calls=1000)
    history: list[tuple[float, bool]] = []
    for i in range(200):
        clock.set(i * 0.25)
        failed = i % 7 == 0
        run(b, fail if failed else ok)
        history.append((clock.now(), failed))
        m = b.metrics()
        window = [f for t, f in history if clock.now() - 3.0 < t]
        assert (m.window_calls, m.window_failures) == (len(window), sum(window))
