"""pipeline(): outermost first, and the measurable effect of the order choices."""

from __future__ import annotations

import random
import threading

import pytest

from patterns.clock import ManualClock
from patterns.errors import CallTimeout, CircuitOpen, RetryExhausted
from patterns.resilience import (
    Backoff,
    Bulkhead,
    CircuitBreaker,
    Fallback,
    Retry,
    Timeout,
    WindowSpec,
    pipeline,
)


class Down(Exception):
    pass


class Dependency:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        raise Down


def breaker(clock: ManualClock) -> CircuitBreaker:
    return CircuitBreaker(1.0, WindowSpec.count(4), 4, wait_in_open=60.0, clock=clock)


def retry(clock: ManualClock, **kw) -> Retry:
    return Retry(3, Backoff.fixed(0.1), clock=clock, rng=random.Random(0), **kw)


def test_first_policy_is_outermost() -> None:
    trace: list[str] = []

    def tracer(name: str):
        def decorate(fn):
            def wrapped(*args, **kwargs):
                trace.append(f"enter {name}")
                return fn(*args, **kwargs)

            return wrapped

        return decorate

    p = pipeline(tracer("a"), tracer("b"), tracer("c"))
    assert p.call(lambda x: x * 2, 21) == 42
    assert trace == ["enter a", "enter b", "enter c"]


def test_retry_outside_the_breaker_counts_every_attempt(clock: ManualClock) -> None:
    dep, b = Dependency(), breaker(clock)
    guarded = pipeline(retry(clock, retry_on=Down), b)(dep)
    outcomes = []
    for _ in range(4):
        with pytest.raises((RetryExhausted, CircuitOpen)) as info:
            guarded()
        outcomes.append(type(info.value).__name__)
    # call 1: 3 failed attempts; call 2: 1 more failure opens it (4 attempts in the window),
    # then its next attempt gets CircuitOpen, which retry_on=Down does not retry
    assert dep.calls == 4
    assert outcomes == ["RetryExhausted", "CircuitOpen", "CircuitOpen", "CircuitOpen"]
    assert b.metrics().failed == 4


def test_retry_inside_the_breaker_sees_one_outcome_per_call(clock: ManualClock) -> None:
    dep, b = Dependency(), breaker(clock)
    guarded = pipeline(b, retry(clock))(dep)
    for _ in range(4):
        with pytest.raises(RetryExhausted):
            guarded()
    assert b.state == "open"
    assert dep.calls == 12  # 4 logical calls x 3 attempts before the breaker judged
    with pytest.raises(CircuitOpen):
        guarded()
    assert dep.calls == 12


def test_timeout_inside_retry_is_per_attempt_outside_is_total() -> None:
    attempts: list[int] = []
    gate = threading.Event()

    def slow_then_fast() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            gate.wait(5.0)  # the first attempt hangs
        return "ok"

    # 0.1 s: the second attempt must finish within it even on a loaded machine
    per_attempt = pipeline(Retry(2, Backoff.fixed(0.0), retry_on=CallTimeout), Timeout(0.1))
    assert per_attempt.call(slow_then_fast) == "ok"
    assert len(attempts) == 2
    gate.set()

    attempts.clear()
    gate.clear()
    total = pipeline(Timeout(0.02), Retry(2, Backoff.fixed(0.0), retry_on=CallTimeout))
    with pytest.raises(CallTimeout):
        total.call(slow_then_fast)
    gate.set()


def test_fallback_outermost_answers_every_refusal(clock: ManualClock) -> None:
    dep, b = Dependency(), breaker(clock)
    guarded = pipeline(
        Fallback(lambda error: f"fallback after {type(error).__name__}"), retry(clock, retry_on=Down), b
    )(dep)
    answers = [guarded() for _ in range(3)]
    assert answers == [
        "fallback after RetryExhausted",
        "fallback after CircuitOpen",
        "fallback after CircuitOpen",
    ]


def test_explain_describes_the_order() -> None:
    clock = ManualClock()
    recommended = pipeline(Fallback.value(None), retry(clock), breaker(clock), Timeout(1.0), Bulkhead(2))
    notes = recommended.explain()
    assert any(n.startswith("retry outside the breaker") for n in notes)
    assert any(n.startswith("timeout inside retry") for n in notes)
    assert not any("fallback" in n or "bulkhead" in n for n in notes)

    inverted = pipeline(Bulkhead(2), Timeout(1.0), breaker(clock), retry(clock), Fallback.value(None))
    notes = inverted.explain()
    assert any(n.startswith("retry inside the breaker") for n in notes)
    assert any(n.startswith("timeout outside retry") for n in notes)
    assert any("under-counts" in n for n in notes)
    assert any(n.startswith("fallback is not outermost") for n in notes)
    assert repr(inverted).startswith("pipeline(Bulkhead(")


def test_bad_pipelines() -> None:
    with pytest.raises(ValueError, match="at least one policy"):
        pipeline()
    with pytest.raises(TypeError, match="policy 1 must be a decorator"):
        pipeline(Timeout(1.0), "retry")
