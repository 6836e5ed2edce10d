"""Exercise checkers: instant feedback in the labs.

Each chapter has a module here (``patterns.check.ratelimit``, ...) whose ``check_*`` functions take
the learner's answer, test it against the package's own implementation or invariants, and print
either a short confirmation or what is wrong and a hint. They return True/False and never raise on
a wrong answer, so a student edition keeps running past an unfinished exercise.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["report", "Unanswered", "is_unanswered"]


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
