"""Composing policies: ``pipeline(outer, ..., inner)(fn)`` is ``outer(...(inner(fn)))``.

The order changes what each policy sees. The choices that matter (``Pipeline.explain`` prints
the ones that apply to a given pipeline):

* **Retry outside the breaker** (``pipeline(retry, breaker)``): every attempt is one call for the
  breaker, so it counts each failed attempt and opens sooner; once it is open the remaining
  attempts get ``CircuitOpen`` at once. Leave ``CircuitOpen`` out of ``retry_on`` to stop there.
* **Retry inside the breaker** (``pipeline(breaker, retry)``): the breaker sees one outcome per
  logical call, after all its attempts; it opens later, and each admitted call may hit the failing
  dependency ``max_attempts`` times.
* **Timeout inside retry**: a budget per attempt. **Timeout outside retry**: one budget for all
  attempts and their pauses.
* **Thread timeout inside a bulkhead**: on expiry the caller leaves and frees the slot while the
  abandoned work still runs, so the bulkhead under-counts real load. Put the bulkhead inside the
  timeout so the slot is held by the work itself.
* **Fallback outermost**: anything outside a fallback never sees the failures it absorbed.

The common choice (Resilience4j's default aspect order) is
``pipeline(fallback, retry, breaker, timeout, bulkhead)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from patterns.resilience.breaker import CircuitBreaker
from patterns.resilience.bulkhead import Bulkhead, ThreadPoolBulkhead
from patterns.resilience.fallback import Fallback
from patterns.resilience.retry import Retry
from patterns.resilience.timeout import AsyncTimeout, Timeout

__all__ = ["Pipeline", "pipeline"]

P = ParamSpec("P")
T = TypeVar("T")
Policy = Callable[[Callable[..., Any]], Callable[..., Any]]


class Pipeline:
    """Policies applied outermost first. Build with ``pipeline(...)``."""

    def __init__(self, *policies: Policy) -> None:
        if not policies:
            raise ValueError("pipeline needs at least one policy, got none")
        for i, policy in enumerate(policies):
            if not callable(policy):
                raise TypeError(f"policy {i} must be a decorator (a callable taking fn), got {policy!r}")
        self.policies: tuple[Policy, ...] = policies

    def __call__(self, fn: Callable[P, T]) -> Callable[P, T]:
        """Wrap ``fn``: the first policy ends up outermost."""
        wrapped: Callable[..., Any] = fn
        for policy in reversed(self.policies):
            wrapped = policy(wrapped)
        return wrapped

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Wrap and call once (wrap once with ``pipeline(...)(fn)`` when calling often)."""
        return self(fn)(*args, **kwargs)

    def explain(self) -> list[str]:
        """What this order means, one sentence per order choice that applies."""
        notes: list[str] = []

        def index(*kinds: type) -> int | None:
            return next((i for i, p in enumerate(self.policies) if isinstance(p, kinds)), None)

        retry, breaker = index(Retry), index(CircuitBreaker)
        timeout, bulkhead, fallback = (
            index(Timeout, AsyncTimeout),
            index(Bulkhead, ThreadPoolBulkhead),
            index(Fallback),
        )
        if retry is not None and breaker is not None:
            notes.append(
                "retry outside the breaker: the breaker counts every attempt and opens sooner; once open, "
                "the remaining attempts fail fast with CircuitOpen"
                if retry < breaker
                else "retry inside the breaker: the breaker sees one outcome per call after all attempts, "
                "opens later, and each admitted call may try the dependency max_attempts times"
            )
        if retry is not None and timeout is not None:
            notes.append(
                "timeout inside retry: each attempt has its own time budget"
                if retry < timeout
                else "timeout outside retry: one time budget covers every attempt and every pause"
            )
        if bulkhead is not None and timeout is not None and bulkhead < timeout:
            notes.append(
                "thread timeout inside the bulkhead: a timed-out caller frees its slot while the abandoned "
                "work still runs, so the bulkhead under-counts real load; put the bulkhead inside"
            )
        if fallback is not None and fallback > 0:
            notes.append(
                "fallback is not outermost: the policies outside it never see the failures it absorbs"
            )
        return notes

    def __repr__(self) -> str:
        return f"pipeline({', '.join(map(repr, self.policies))})"


def pipeline(*policies: Policy) -> Pipeline:
    """Compose policies, outermost first: ``pipeline(retry, breaker, timeout)(fn)``."""
    return Pipeline(*policies)
