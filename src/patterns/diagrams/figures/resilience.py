"""Chapter 6 (resilience): the breaker's states, the order of the policies, and a traced call."""

from __future__ import annotations

import random

from patterns.clock import ManualClock
from patterns.diagrams.dot import Diagram, Graph
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.diagrams.state import state_diagram
from patterns.errors import CircuitOpen
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
from patterns.resilience.breaker import CLOSED, TRANSITIONS, StateChange

__all__ = ["breaker_states", "policy_layers", "retry_outside_breaker"]


def breaker_states() -> Diagram:
    """The circuit breaker's states, from the table its code enforces."""
    return state_diagram(TRANSITIONS, initial=CLOSED, title="circuit breaker",
                         generated_from="patterns.resilience.breaker.TRANSITIONS")


def _describe(policy: object) -> str:
    if isinstance(policy, Retry):
        return f"Retry\nup to {policy.max_attempts} attempts"
    if isinstance(policy, CircuitBreaker):
        return f"CircuitBreaker\nopens at {policy.failure_rate_threshold:.0%} failures"
    if isinstance(policy, Timeout):
        return f"Timeout\n{policy.seconds:g} s per attempt"
    if isinstance(policy, Bulkhead):
        return f"Bulkhead\n{policy.max_concurrent} calls at once"
    return type(policy).__name__


def policy_layers() -> Diagram:
    """``pipeline(fallback, retry, breaker, timeout, bulkhead)``: a call passes the layers in order."""
    clock = ManualClock()
    policies = pipeline(
        Fallback(lambda error, *args: "deferred"),
        Retry(max_attempts=3, backoff=Backoff.exponential(base=0.1, cap=2.0), clock=clock, rng=random.Random(1)),
        CircuitBreaker(clock=clock),
        Timeout(2.0, clock=clock),
        Bulkhead(max_concurrent=10),
    ).policies
    g = Graph(rankdir="LR", label="pipeline(fallback, retry, breaker, timeout, bulkhead)")
    g.node("caller", "caller", kind="client")
    previous = "caller"
    for i, policy in enumerate(policies):
        node = g.node(f"p{i}", _describe(policy))
        g.edge(previous, node)
        previous = node
    g.node("payments", "payment service", kind="external")
    g.edge(previous, "payments", "the call")
    g.edge("p0", "caller", "a degraded answer\ninstead of the error", style="dashed", constraint="false")
    names = ", ".join(type(p).__name__ for p in policies)
    alt = (f"Architecture of a resilient call: the caller's request passes, outermost first, through "
           f"{names}, and only then reaches the payment service. The Fallback, outermost, turns any "
           f"error that escapes the inner layers into a degraded answer.")
    return Diagram(g.source(), alt, "patterns.resilience.pipeline")


def retry_outside_breaker() -> Diagram:
    """A traced run of ``pipeline(fallback, retry, breaker)`` against a dead dependency.

    Taps between the layers record what each layer passes inward and what comes back, so the
    chart shows the breaker counting every attempt, opening, and the retry stopping on
    ``CircuitOpen`` while the fallback answers.
    """
    clock = ManualClock()
    trace = Trace(["caller", "Fallback", "Retry", "CircuitBreaker", "payments"],
                  kinds={"caller": "client", "payments": "external"})

    def tap(outer: str, inner: str):  # type: ignore[no-untyped-def]
        def decorate(fn):  # type: ignore[no-untyped-def]
            def call(*args, **kwargs):  # type: ignore[no-untyped-def]
                trace.send(outer, inner, f"call (t={clock.now():g} s)")
                try:
                    result = fn(*args, **kwargs)
                except CircuitOpen:
                    trace.reply(inner, outer, "CircuitOpen (fails fast)")
                    raise
                except ConnectionError:
                    trace.reply(inner, outer, "ConnectionError")
                    raise
                trace.reply(inner, outer, f"{result}")
                return result
            return call
        return decorate

    def dead() -> str:
        raise ConnectionError("refused")

    breaker = CircuitBreaker(failure_rate_threshold=0.5, window=WindowSpec.count(2), minimum_calls=2,
                             wait_in_open=60.0, clock=clock, name="payments")

    def on_change(change: StateChange) -> None:
        trace.note("CircuitBreaker", f"{change.old} -> {change.new}")

    breaker.add_listener(on_change)
    retry = Retry(max_attempts=3, backoff=Backoff.fixed(0.1), retry_on=ConnectionError, clock=clock,
                  rng=random.Random(1))
    charge = pipeline(tap("caller", "Fallback"), Fallback(lambda error, *args: "deferred"),
                      tap("Fallback", "Retry"), retry, tap("Retry", "CircuitBreaker"), breaker,
                      tap("CircuitBreaker", "payments"))(dead)
    charge()
    charge()
    return sequence_diagram(trace, title="retry outside the breaker, dependency down",
                            generated_from="patterns.resilience.pipeline (a traced run)")
