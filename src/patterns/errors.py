"""Typed failures shared by every pattern.

Callers can catch ``PatternError`` for "a pattern refused or gave up", or one child for a specific
decision. Bad arguments are not ``PatternError``s: they raise ``ValueError``/``TypeError`` at once.
"""

from __future__ import annotations

__all__ = [
    "PatternError",
    "RateLimited",
    "CircuitOpen",
    "BulkheadFull",
    "CallTimeout",
    "RetryExhausted",
    "SagaFailed",
    "IdempotencyConflict",
    "BackendUnavailable",
    "StorageLocked",
]


class PatternError(Exception):
    """Base class: a pattern refused the call or could not complete it."""


class RateLimited(PatternError):
    """A rate limiter denied the request; ``retry_after`` says how long to wait (seconds)."""

    def __init__(self, key: str, retry_after: float) -> None:
        super().__init__(f"rate limited: key {key!r}, retry after {retry_after:.3f}s")
        self.key = key
        self.retry_after = retry_after


class CircuitOpen(PatternError):
    """A circuit breaker is open (or half-open and full) and failed the call fast."""


class BulkheadFull(PatternError):
    """A bulkhead had no free slot within its wait budget."""


class CallTimeout(PatternError, TimeoutError):
    """A call did not finish within its time budget (the work may still be running)."""


class RetryExhausted(PatternError):
    """Every attempt a retry policy allowed has failed; ``__cause__`` is the last error."""


class SagaFailed(PatternError):
    """A saga could not complete and was compensated (or could not be)."""


class IdempotencyConflict(PatternError):
    """An idempotency key was reused with a different request."""


class BackendUnavailable(PatternError):
    """A configured real backend (Redis, Kafka) cannot be reached."""


class StorageLocked(PatternError):
    """A SQLite database stayed locked by another connection past its busy timeout."""
