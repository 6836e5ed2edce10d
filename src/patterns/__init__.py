"""Runnable system-design patterns for the book *System Design & Architecture*.

Import the pattern families from their modules, e.g. ``from patterns.ratelimit import TokenBucket``.
Time comes from ``patterns.clock``; real engines from ``patterns.infra``; failures from ``patterns.errors``.
"""

__version__ = "0.1.0"
