"""What the resilience policies need to know about the calls they wrap.

* ``as_exception_filter``: users say which errors a policy cares about with an exception type, a
  tuple of types or a predicate; the policy asks one question, ``matches(error) -> bool``.
* ``require_sync``: a synchronous wrapper around an ``async def`` function would guard only the
  creation of the coroutine, not its run (a silent wrong answer), so it is refused.
* ``callable_name``: a readable name for messages.

Numbers and other arguments are validated with ``patterns._validate``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["ExceptionFilter", "as_exception_filter", "callable_name", "require_sync", "not_callable"]

# What users pass: an exception type, a tuple of types, or a predicate on the exception.
ExceptionFilter = type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool]


def _is_exception_type(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, BaseException)


def as_exception_filter(value: object, name: str) -> Callable[[BaseException], bool]:
    """Turn a type, a non-empty tuple of types or a predicate into a predicate on exceptions."""
    if isinstance(value, type) and issubclass(value, BaseException):
        exc_type = value
        return lambda exc: isinstance(exc, exc_type)
    if isinstance(value, tuple):
        if not value or not all(_is_exception_type(t) for t in value):
            raise TypeError(f"{name} must be an exception type, a non-empty tuple of them, or a predicate")
        types: tuple[type[BaseException], ...] = value
        return lambda exc: isinstance(exc, types)
    if callable(value) and not isinstance(value, type):
        predicate: Callable[[BaseException], bool] = value
        return predicate
    raise TypeError(
        f"{name} must be an exception type, a tuple of them, or a callable(exc) -> bool, "
        f"got {type(value).__name__}"
    )


def callable_name(fn: object) -> str:
    """A readable name for messages: the function's qualified name, else its repr."""
    name = getattr(fn, "__qualname__", None)
    return name if isinstance(name, str) else repr(fn)


def require_sync(fn: Callable[..., Any], policy: str, hint: str = "") -> None:
    """Refuse anything not callable, and ``async def`` functions (see the module docstring)."""
    if not callable(fn):
        raise TypeError(f"{policy} wraps a callable, got {type(fn).__name__}")
    if inspect.iscoroutinefunction(fn):
        raise TypeError(
            f"{policy} wraps synchronous functions, got coroutine function {callable_name(fn)}{hint}"
        )


def not_callable(fn: object, policy: str) -> TypeError | None:
    """The error to raise when ``fn`` cannot be called at all (a bug of the caller, never a failure
    of the dependency: a policy must not count it as one), else None."""
    if callable(fn):
        return None
    return TypeError(f"{policy}.call needs a callable, got {type(fn).__name__}")
