"""Exercise checkers: instant feedback in the labs.

Each chapter has a module here (``patterns.check.ratelimit``, ...) whose ``check_*`` functions take
the learner's answer, test it against the package's own implementation or invariants, and print
either a short confirmation or what is wrong and a hint. They return True/False and never raise on
a wrong answer, so a student edition keeps running past an unfinished exercise.
"""

from __future__ import annotations

import dis
import types
from collections.abc import Iterable
from typing import Any

__all__ = [
    "report",
    "Unanswered",
    "is_unanswered",
    "is_stub",
    "not_ready",
    "call_safely",
    "NOT_ANSWERED",
    "NOT_WRITTEN",
]


class Unanswered(Exception):
    """Raised by placeholder cells in the student edition (``raise Unanswered``)."""


def is_unanswered(value: object) -> bool:
    """True for the placeholders a student edition leaves in answers: ``...``, None, and a function
    whose body is still only ``raise NotImplementedError`` (see ``is_stub``)."""
    return value is None or value is Ellipsis or is_stub(value)


# The instructions a function compiles to when its body is only an optional docstring and
# ``raise NotImplementedError`` or ``raise NotImplementedError("...")`` (CPython 3.11 to 3.13).
_STUB_OPS = frozenset(
    {"RESUME", "NOP", "CACHE", "LOAD_GLOBAL", "LOAD_CONST", "PUSH_NULL", "PRECALL", "CALL",
     "KW_NAMES", "RAISE_VARARGS"}
)


def is_stub(value: object) -> bool:
    """True for a function the student edition left unwritten: its body (after an optional
    docstring) only raises ``NotImplementedError``. Read from the bytecode, so it needs no source
    file and does not call the function; a body that does anything else is not a stub."""
    if not isinstance(value, types.FunctionType):
        return False
    code = value.__code__
    if code.co_names != ("NotImplementedError",):
        return False
    return all(instruction.opname in _STUB_OPS for instruction in dis.get_instructions(code))


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
NOT_WRITTEN = (
    "not written yet: replace `raise NotImplementedError` with your code, run that cell, then this one."
)


def not_ready(title: str, answer: object, *, expect: object = None) -> bool:
    """Print why and return True when an answer is missing or not the kind the exercise asks for.

    ``expect`` is None (any value), ``callable`` (a function), or a type or tuple of types.
    """
    if is_unanswered(answer):
        report(title, [NOT_WRITTEN if is_stub(answer) else NOT_ANSWERED])
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


def call_safely(fn: object, *args: Any) -> tuple[Any, str]:
    """Call the learner's code; a bug in it becomes feedback (an error message), never a crash."""
    if not callable(fn):
        return None, f"expected a function, got {type(fn).__name__}"
    try:
        return fn(*args), ""
    except NotImplementedError:  # a stub left in the student edition (or a helper it calls)
        return None, NOT_WRITTEN
    except Exception as exc:  # noqa: BLE001 - the learner's code may fail in any way; report it
        return None, f"calling it with {args!r} raised {type(exc).__name__}: {exc}"
