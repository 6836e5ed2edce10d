"""Resilience patterns: circuit breaker, retry with backoff and jitter, timeout, bulkhead, fallback.

Each policy works in two forms, ``policy.call(fn, *args)`` and the decorator ``@policy``, and they
compose with ``pipeline(outermost, ..., innermost)(fn)``. Time-based decisions use an injected
``Clock`` (``ManualClock`` in labs and tests); waiting for real work (timeouts, bulkhead waits)
uses real time. Failures are ``patterns.errors`` types: ``CircuitOpen``, ``RetryExhausted``,
``CallTimeout``, ``BulkheadFull``.
"""

from patterns.errors import BulkheadFull, CallTimeout, CircuitOpen, RetryExhausted
from patterns.resilience.breaker import BreakerMetrics, BreakerState, CircuitBreaker, StateChange
from patterns.resilience.bulkhead import Bulkhead, ThreadPoolBulkhead
from patterns.resilience.compose import Pipeline, pipeline
from patterns.resilience.fallback import Fallback
from patterns.resilience.retry import JITTERS, Backoff, Retry, RetryEvent
from patterns.resilience.timeout import AsyncTimeout, Timeout
from patterns.resilience.windows import CountWindow, TimeWindow, WindowSpec

__all__ = [
    "CircuitBreaker",
    "WindowSpec",
    "StateChange",
    "BreakerMetrics",
    "BreakerState",
    "CountWindow",
    "TimeWindow",
    "Retry",
    "Backoff",
    "RetryEvent",
    "JITTERS",
    "Timeout",
    "AsyncTimeout",
    "Bulkhead",
    "ThreadPoolBulkhead",
    "Fallback",
    "Pipeline",
    "pipeline",
    "CircuitOpen",
    "RetryExhausted",
    "CallTimeout",
    "BulkheadFull",
]
