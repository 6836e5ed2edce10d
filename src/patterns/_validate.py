"""Argument validation shared by every public constructor and method.

One place, one argument order: ``require_x(value, name, ...)``. Each helper returns the value in
its canonical type, or raises ``TypeError`` (wrong type) / ``ValueError`` (wrong value) with a
message that names the parameter and the allowed range, e.g.
``ValueError("ttl must be a finite number of seconds in (0, 3.15e+09], got inf")``.

Why the upper bounds: a value that is "valid" but absurd (a timeout of 1e300 seconds, a quota of
10**19) does not fail where it is given; it fails later and far away, as an ``OverflowError`` in
``threading.Lock.acquire``, a Redis "value is out of range" inside a Lua script, or a loop that never
ends. Refusing it at the door turns a confusing failure into a clear one.

The ``check_`` prefix is reserved for exercise checkers (``patterns.check``); helpers here are
``require_*``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

__all__ = [
    "MAX_SECONDS",
    "MAX_COUNT",
    "MAX_INT64",
    "require_int",
    "require_number",
    "require_seconds",
    "require_optional_seconds",
    "require_probability",
    "require_text",
    "require_identifier",
    "require_instance",
    "require_callable",
    "require_one_of",
    "require_mapping",
    "require_sequence",
]

T = TypeVar("T")

#: Longest duration any pattern accepts: 100 years. ``threading`` refuses timeouts above about
#: 9.2e9 s (``OverflowError``) and Redis refuses expiries above about 9.2e15 ms.
MAX_SECONDS = 100 * 365.25 * 86_400.0
#: Largest count/quota/size accepted by default: fits a signed 64-bit integer with room for sums.
MAX_COUNT = 2**53
#: Redis integers and SQLite INTEGER columns are signed 64-bit.
MAX_INT64 = 2**63 - 1

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _type_name(value: object) -> str:
    return type(value).__name__


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def _range_text(minimum: float | None, maximum: float | None, *, strict_min: bool) -> str:
    low = "" if minimum is None else ("(" if strict_min else "[") + f"{minimum:g}"
    high = "" if maximum is None else f"{maximum:g}]"
    if minimum is not None and maximum is not None:
        return f"in {low}, {high}"
    if minimum is not None:
        return f"{'>' if strict_min else '>='} {minimum:g}"
    if maximum is not None:
        return f"<= {maximum:g}"
    return ""


def require_int(value: object, name: str, *, minimum: int | None = 0, maximum: int | None = MAX_COUNT) -> int:
    """An ``int`` (not a ``bool``) within ``[minimum, maximum]``."""
    rule = " ".join(filter(None, ["an integer", _range_text(minimum, maximum, strict_min=False)]))
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be {rule}, got {_type_name(value)}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return value


def require_number(
    value: object,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    unit: str = "",
) -> float:
    """A finite ``int``/``float`` (not ``bool``, not NaN or ±inf) within the bounds, as a float.

    ``strict_min=True`` excludes ``minimum`` itself (``value > minimum``).
    """
    what = f"a finite number{' of ' + unit if unit else ''}"
    rule = " ".join(filter(None, [what, _range_text(minimum, maximum, strict_min=strict_min)]))
    if not _is_number(value):
        raise TypeError(f"{name} must be {rule}, got {_type_name(value)}")
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    too_low = minimum is not None and (number <= minimum if strict_min else number < minimum)
    too_high = maximum is not None and number > maximum
    if too_low or too_high:
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return number


def require_seconds(
    value: object, name: str, *, positive: bool = True, maximum: float = MAX_SECONDS
) -> float:
    """A duration in seconds: finite, > 0 (or >= 0 with ``positive=False``), at most ``maximum``."""
    return require_number(value, name, minimum=0.0, maximum=maximum, strict_min=positive, unit="seconds")


def require_optional_seconds(
    value: object, name: str, *, positive: bool = True, maximum: float = MAX_SECONDS
) -> float | None:
    """``None`` (meaning "no limit") or a duration as in ``require_seconds``."""
    if value is None:
        return None
    return require_seconds(value, name, positive=positive, maximum=maximum)


def require_probability(value: object, name: str, *, allow_zero: bool = True, allow_one: bool = True) -> float:
    """A number in [0, 1] (ends included unless disallowed)."""
    low, high = ("[" if allow_zero else "("), ("]" if allow_one else ")")
    message = f"{name} must be a number in {low}0, 1{high}"
    if not _is_number(value):
        raise TypeError(f"{message}, got {_type_name(value)}")
    number = float(value)  # type: ignore[arg-type]
    ok = (number > 0.0 or (allow_zero and number == 0.0)) and (number < 1.0 or (allow_one and number == 1.0))
    if not ok:  # NaN fails both comparisons
        raise ValueError(f"{message}, got {value!r}")
    return number


def require_text(
    value: object,
    name: str,
    *,
    min_length: int = 1,
    max_length: int = 1_000,
    forbidden: str = "",
) -> str:
    """A ``str`` of ``min_length``..``max_length`` characters containing none of ``forbidden``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {_type_name(value)}")
    if not min_length <= len(value) <= max_length:
        raise ValueError(
            f"{name} must be a string of {min_length} to {max_length} characters, got {len(value)}: {value[:40]!r}"
        )
    bad = sorted({ch for ch in value if ch in forbidden})
    if bad:
        raise ValueError(f"{name} must not contain {''.join(bad)!r}, got {value!r}")
    return value


def require_identifier(value: object, name: str, *, reserved: Iterable[str] = ()) -> str:
    """A plain identifier (letters, digits, ``_``; not starting with a digit), e.g. a column name.

    ``reserved`` words (compared case-insensitively) are refused: an SQL keyword as a column name is
    accepted by ``CREATE TABLE`` with quoting but breaks hand-written queries later.
    """
    text = require_text(value, name, max_length=64)
    if not _IDENTIFIER.match(text):
        raise ValueError(f"{name} must be an identifier (letters, digits, _), got {text!r}")
    if text.lower() in {word.lower() for word in reserved}:
        raise ValueError(f"{name} must not be a reserved word, got {text!r}")
    return text


def require_instance(value: object, name: str, types: type[T] | tuple[type, ...], *, what: str = "") -> T:
    """``value`` if it is an instance of ``types``; else a ``TypeError`` naming what was expected."""
    if not isinstance(value, types):
        expected = what or (
            " or ".join(t.__name__ for t in types) if isinstance(types, tuple) else types.__name__
        )
        raise TypeError(f"{name} must be {expected}, got {_type_name(value)}")
    return value  # type: ignore[return-value]


def require_callable(value: object, name: str) -> Callable[..., Any]:
    """A callable (function, bound method, object with ``__call__``)."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {_type_name(value)}")
    return value


def require_one_of(value: object, name: str, choices: Iterable[T]) -> T:
    """One of ``choices`` (compared with ``==``, type-checked so ``True`` is not ``1``)."""
    options = list(choices)
    for option in options:
        if type(value) is type(option) and value == option:
            return option
    listed = ", ".join(repr(option) for option in options)
    raise ValueError(f"{name} must be one of {listed}, got {value!r}")


def require_mapping(value: object, name: str) -> Mapping[Any, Any]:
    """A mapping (``dict`` or any ``collections.abc.Mapping``); a list of pairs is refused."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping (e.g. a dict), got {_type_name(value)}")
    return value


def require_sequence(
    value: object, name: str, *, min_length: int = 1, max_length: int = 100_000
) -> list[Any]:
    """A list/tuple (not a string, not a one-shot iterator) of ``min_length``..``max_length`` items."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple, got {_type_name(value)}")
    if not min_length <= len(value) <= max_length:
        raise ValueError(f"{name} must have {min_length} to {max_length} items, got {len(value)}")
    return list(value)
