"""Argument checks and exception predicates shared by the resilience policies.

Bad arguments fail at construction with a message naming the parameter and the allowed range,
so a misconfigured policy never silently does something else.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

__all__ = [
    "ExceptionFilter",
    "as_exception_filter",
    "callable_name",
    "require_sync",
    "check_int",
    "check_number",
    "check_rate",
]

# What users pass: an exception type, a tuple of types, or a predicate on the exception.
ExceptionFilter = type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool]


def check_int(value: object, name: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, else TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def check_number(value: object, name: str, *, positive: bool = False, allow_none: bool = False) -> float:
    """``value`` as a finite float >= 0 (> 0 if ``positive``), else an error naming ``name``."""
    bound = "> 0" if positive else ">= 0"
    if value is None and allow_none:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a finite number {bound}, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def check_rate(value: object, name: str) -> float:
    """A rate in (0, 1], e.g. a failure-rate threshold."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in (0, 1], got {type(value).__name__}")
    if not (0 < value <= 1):  # also rejects NaN
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}")
    return float(value)


def _is_exception_type(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, BaseException)


def as_exception_filter(value: object, name: str) -> Callable[[BaseException], bool]:
    """Turn a type, a tuple of types or a predicate into a predicate on exceptions."""
    if _is_exception_type(value):
        exc_type = value
        return lambda exc: isinstance(exc, exc_type)  # type: ignore[arg-type]
    if isinstance(value, tuple):
        if not value or not all(_is_exception_type(t) for t in value):
            raise TypeError(f"{name} must be an exception type, a non-empty tuple of them, or a predicate")
        types = value
        return lambda exc: isinstance(exc, types)
    if callable(value) and not isinstance(value, type):
        return value  # type: ignore[return-value]
    raise TypeError(
        f"{name} must be an exception type, a tuple of them, or a callable(exc) -> bool, "
        f"got {type(value).__name__}"
    )


def callable_name(fn: Callable[..., object]) -> str:
    """A readable name for messages: the function's qualified name, else its repr."""
    return getattr(fn, "__qualname__", None) or repr(fn)


def require_sync(fn: Callable[..., object], policy: str, hint: str = "") -> None:
    """Refuse ``async def`` functions: wrapping one synchronously would guard only the creation
    of the coroutine, not its run (a silent wrong answer)."""
    if inspect.iscoroutinefunction(fn):
        raise TypeError(
            f"{policy} wraps synchronous functions, got coroutine function {callable_name(fn)}{hint}"
        )
