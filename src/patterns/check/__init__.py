"""Exercise checkers: instant feedback in the labs.

Each chapter has a module here (``patterns.check.ratelimit``, ...) whose ``check_*`` functions take
the learner's answer, test it against the package's own implementation or invariants, and print
either a short confirmation or what is wrong and a hint. They return True/False and never raise on
a wrong answer, so a student edition keeps running past an unfinished exercise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["report", "Unanswered", "is_unanswered", "not_ready", "call_safely", "NOT_ANSWERED"]


class Unanswered(Exception):
    """Raised by placeholder cells in the student edition (``raise Unanswered``)."""


def is_unanswered(value: object) -> bool:
    """True for ``...`` / None, the placeholders a student edition leaves in answers."""
    return value is None or value is Ellipsis


def report(title: str, problems: Iterable[str], success: str = "") -> bool:
    """Print a checker's verdict: a tick and ``success``, or a cross and each problem."""
    problems = [p for p in problems if p]
    if problems:
        print(f"✗ {title}: not yet.")
        for problem in problems:
            print(f"  - {problem}")
        return False
    print(f"✓ {title}: correct. {success}".rstrip())
    return True


NOT_ANSWERED = "not answered yet: replace the ... with your answer and run this cell again."


def not_ready(title: str, answer: object, *, expect: object = None) -> bool:
    """Print why and return True when an answer is missing or not the kind the exercise asks for.

    ``expect`` is None (any value), ``callable`` (a function), or a type or tuple of types.
    """
    if is_unanswered(answer):
        report(title, [NOT_ANSWERED])
        return True
    if expect is callable and not callable(answer):
        report(title, [f"expected a function, got {type(answer).__name__}."])
        return True
    if isinstance(expect, (type, tuple)) and not isinstance(answer, expect):
        kinds = expect if isinstance(expect, tuple) else (expect,)
        wanted = " or ".join(getattr(t, "__name__", str(t)) for t in kinds)
        report(title, [f"expected a {wanted}, got {type(answer).__name__}."])
        return True
    return False


def call_safely(fn: Callable[..., Any], *args: Any) -> tuple[Any, str]:
    """Call the learner's code; a bug in it becomes feedback (an error message), never a crash."""
    try:
        return fn(*args), ""
    except Exception as exc:  # noqa: BLE001 - the learner's code may fail in any way; report it
        return None, f"calling it with {args!r} raised {type(exc).__name__}: {exc}"
