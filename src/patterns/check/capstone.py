"""Checkers for the capstone lab (chapter 18): envelope numbers, what stops duplicates, a tenant limit."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from patterns.check import is_unanswered, report

if TYPE_CHECKING:
    from patterns.capstone import Scenario, SimulationResult

__all__ = ["check_peak_rate", "check_duplicate_guards", "check_tenant_limit", "PEAK_DAILY", "PEAK_FACTOR"]

PEAK_DAILY = 50_000_000  # notifications per day in exercise 1
PEAK_FACTOR = 3.0  # peak hour / average hour


def check_peak_rate(answer: object) -> bool:
    """Exercise 1: notifications per second at peak for PEAK_DAILY a day with a PEAK_FACTOR peak."""
    title = "Peak rate"
    if is_unanswered(answer):
        return report(title, ["answer_1 is not set yet."])
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
        return report(title, [f"answer_1 must be a number (requests per second), got {answer!r}."])
    expected = PEAK_DAILY / 86_400 * PEAK_FACTOR
    problems = []
    if abs(answer - expected) > 0.05 * expected:
        if abs(answer - expected / PEAK_FACTOR) <= 0.05 * expected / PEAK_FACTOR:
            problems.append("that is the average rate: multiply by the peak factor.")
        else:
            problems.append(f"{answer:,.0f}/s is off by more than 5%. Hint: a day has 86,400 seconds.")
    return report(title, problems, f"About {expected:,.0f} requests/s at peak; size for that, not the average.")


def check_duplicate_guards(answer: object, *, seed: int = 3) -> bool:
    """Exercise 2: the set of patterns whose removal (one at a time) lets users get duplicates.

    Measured, not looked up: each pattern is switched off alone in a small run with many client
    retries and consumer crashes, and the checker compares with the patterns that let doubles through.
    """
    from patterns.capstone import PATTERN_NAMES

    title = "Duplicate guards"
    if is_unanswered(answer):
        return report(title, ["answer_2 is not set yet."])
    if not isinstance(answer, (set, frozenset, list, tuple)) or not all(isinstance(a, str) for a in answer):
        return report(title, [f"answer_2 must be a set of pattern names from {PATTERN_NAMES}, got {answer!r}."])
    unknown = set(answer) - set(PATTERN_NAMES)
    if unknown:
        return report(title, [f"unknown pattern name(s) {sorted(unknown)}; choose from {PATTERN_NAMES}."])
    needed = _duplicate_guards(seed)
    problems = []
    for name in sorted(needed - set(answer)):
        problems.append(f"without {name!r} users received duplicates in the run: it belongs in the set.")
    for name in sorted(set(answer) - needed):
        problems.append(f"switching {name!r} off alone let no duplicate through: it guards something else.")
    return report(title, problems, f"Measured: only {sorted(needed)} stand between a retry and a double send.")


def check_tenant_limit(answer: object, *, seed: int = 7, scenario: Scenario | None = None) -> bool:
    """Exercise 3: a per-tenant rate (requests/s) that protects the others and throttles only the burst.

    Runs ``scenario`` (default ``Scenario.small(seed=seed)``, the lab's run) with the limit; passes if
    no well-behaved tenant was rate-limited and the other tenants' p99 delivery delay stayed under 2 s.
    """
    from dataclasses import replace

    from patterns.capstone import Scenario

    title = "Tenant limit"
    if is_unanswered(answer):
        return report(title, ["answer_3 is not set yet."])
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not 0 < answer <= 10_000:
        return report(title, [f"answer_3 must be a rate in requests per second in (0, 10000], got {answer!r}."])
    base = scenario if scenario is not None else Scenario.small(seed=seed)
    if not isinstance(base, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(base).__name__}")
    sc = replace(base, tenant_rate=float(answer))
    result = _run(sc)
    burst = sc.burst.tenant if sc.burst is not None else ""
    victims = {t: n for t, n in result.rate_limited_by_tenant.items() if t != burst}
    problems = []
    if victims:
        problems.append(f"well-behaved tenants were throttled ({sum(victims.values())} requests): the limit is too low.")
    if result.p99_delay_others > 2.0:
        problems.append(
            f"the other tenants' p99 delay was {result.p99_delay_others:.1f} s (> 2 s): the burst still fills the queue."
        )
    return report(title, problems, f"Others' p99 {result.p99_delay_others:.2f} s; {result.rate_limited} burst requests got 429.")


@functools.lru_cache(maxsize=64)
def _run(scenario: Scenario) -> SimulationResult:
    """``simulate`` memoized: a run is a pure function of its (frozen, hashable) scenario."""
    from patterns.capstone import simulate

    return simulate(scenario)


@functools.lru_cache(maxsize=8)
def _duplicate_guards(seed: int) -> frozenset[str]:
    """The patterns whose removal alone lets a duplicate reach a user, measured in a hostile run."""
    from patterns.capstone import PATTERN_NAMES, Patterns, Scenario

    needed = set()
    for name in PATTERN_NAMES:
        sc = Scenario.small(seed=seed, notifications=200, duration=20.0, users=200, outage=None, burst=None,
                            duplicate_rate=0.15, crash_rate=0.15, patterns=Patterns().without(name))
        if _run(sc).duplicates_delivered > 0:
            needed.add(name)
    return frozenset(needed)
