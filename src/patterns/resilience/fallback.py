"""Fallback: a degraded answer instead of an error.

When the primary call fails with an error matched by ``on``, ``Fallback`` returns
``fn(error, *args, **kwargs)``: the handler sees what went wrong and the original arguments (to
answer "payment deferred for order 42", a cached value, an empty list...). Errors not matched by
``on`` propagate unchanged.

Catching everything (the default ``on=Exception``) also hides bugs: a ``TypeError`` in your own
code becomes a quiet default. Prefer naming what the fallback is for, e.g.
``on=(CircuitOpen, CallTimeout, BulkheadFull)``. Whether the handler may itself fail is your
choice: its errors propagate (no fallback of the fallback).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from patterns._validate import require_callable
from patterns.resilience._calls import ExceptionFilter, as_exception_filter, require_sync

__all__ = ["Fallback"]

P = ParamSpec("P")
T = TypeVar("T")


class Fallback:
    """Return ``fn(error, *args, **kwargs)`` when the wrapped call fails with an ``on`` error."""

    def __init__(self, fn: Callable[..., Any], on: ExceptionFilter = Exception) -> None:
        self.fn = require_callable(fn, "fn")
        self._matches = as_exception_filter(on, "on")
        self._lock = threading.Lock()
        self.used = 0  # how many calls were answered by the fallback

    @classmethod
    def value(cls, value: object, on: ExceptionFilter = Exception) -> Fallback:
        """A fallback that answers a constant (a default, an empty result)."""
        return cls(lambda error, *args, **kwargs: value, on=on)

    def call(self, primary: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        require_callable(primary, "primary")
        try:
            return primary(*args, **kwargs)
        except Exception as error:
            if not self._matches(error):
                raise
            with self._lock:
                self.used += 1
            return self.fn(error, *args, **kwargs)  # type: ignore[no-any-return]

    def __call__(self, primary: Callable[P, T]) -> Callable[P, T]:
        require_sync(primary, "Fallback")

        @functools.wraps(primary)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return self.call(primary, *args, **kwargs)

        return wrapper

    def __repr__(self) -> str:
        return f"Fallback({getattr(self.fn, '__qualname__', self.fn)!r})"
