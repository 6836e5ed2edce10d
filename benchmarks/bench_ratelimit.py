"""Speed of patterns.ratelimit (memory) against the peer libraries, side by side in one run.

    .venv/bin/python benchmarks/bench_ratelimit.py            # about two minutes
    .venv/bin/python benchmarks/bench_ratelimit.py --quick    # a smoke run

Compares, per call of one key, on the allowed path (quota never runs out) and the denied path
(quota exhausted), each pair timed in alternation so both see the same machine noise:

* FixedWindow vs limits FixedWindowRateLimiter, SlidingWindowLog vs limits MovingWindowRateLimiter,
  SlidingWindowCounter vs limits SlidingWindowCounterRateLimiter (all with limits' MemoryStorage);
* GCRA, TokenBucket, SlidingWindowLog vs pyrate-limiter's GCRA / TokenBucket / in-memory log;
* the sliding log's cost per call as its log holds 10, 1,000 and 100,000 entries.

Targets (issue 2): >= 2x limits for each equivalent, GCRA >= 4x pyrate-limiter, the sliding log
flat as the window fills. Ratios > 1 mean ours is faster. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import timeit
from collections.abc import Callable
from datetime import date
from typing import Any

from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    SlidingWindowCounterRateLimiter,
)
from pyrate_limiter import GCRA as PyrateGCRA
from pyrate_limiter import Duration, InMemoryBucket, Limiter, Rate, StateBucket
from pyrate_limiter import TokenBucket as PyrateTokenBucket

from patterns.clock import ManualClock
from patterns.ratelimit import GCRA, FixedWindow, SlidingWindowCounter, SlidingWindowLog, TokenBucket

BIG = 10**9  # a quota the benchmark never exhausts (allowed path)


def per_call_us(fn: Callable[[], Any], number: int) -> float:
    """CPU microseconds per call: process time, so a busy shared machine (other programs) does
    not count, while every thread of the process does (limits' background expiry thread too)."""
    return timeit.timeit(fn, number=number, timer=time.process_time) / number * 1e6


def race(
    ours: Callable[[], Callable[[], Any]], theirs: Callable[[], Callable[[], Any]], number: int, repeat: int
):
    """Best-of-``repeat`` microseconds per call for each side, alternating sides every repeat.
    Each factory builds a fresh limiter (and primes it) so both start from the same state."""
    best_ours = best_theirs = float("inf")
    for _ in range(repeat):
        gc.collect()
        best_ours = min(best_ours, per_call_us(ours(), number))
        gc.collect()
        best_theirs = min(best_theirs, per_call_us(theirs(), number))
    return best_ours, best_theirs


def ours(
    cls: type, limit: int, period: float = 60.0, denied: bool = False
) -> Callable[[], Callable[[], Any]]:
    def factory() -> Callable[[], Any]:
        lim = cls(limit, period)
        if denied:
            while lim.allow("k").allowed:
                pass
        return lambda: lim.allow("k")

    return factory


def limits_(strategy: type, denied: bool = False) -> Callable[[], Callable[[], Any]]:
    def factory() -> Callable[[], Any]:
        limiter = strategy(MemoryStorage())
        item = RateLimitItemPerHour(1) if denied else RateLimitItemPerMinute(BIG)
        limiter.hit(item, "k")
        return lambda: limiter.hit(item, "k")

    return factory


def pyrate(kind: str, denied: bool = False) -> Callable[[], Callable[[], Any]]:
    def factory() -> Callable[[], Any]:
        rates = [Rate(1, Duration.HOUR)] if denied else [Rate(BIG, Duration.MINUTE)]
        if kind == "log":
            bucket: Any = InMemoryBucket(rates)
        else:
            bucket = StateBucket(rates, algorithm=PyrateGCRA() if kind == "gcra" else PyrateTokenBucket())
        limiter = Limiter(bucket)
        limiter.try_acquire("k", blocking=False)
        return lambda: limiter.try_acquire("k", blocking=False)

    return factory


PAIRS = [
    # (label, ours, theirs, target ratio or None)
    ("FixedWindow vs limits FixedWindow", FixedWindow, ("limits", FixedWindowRateLimiter), 2.0),
    ("SlidingWindowLog vs limits MovingWindow", SlidingWindowLog, ("limits", MovingWindowRateLimiter), 2.0),
    (
        "SlidingWindowCounter vs limits SlidingWindowCounter",
        SlidingWindowCounter,
        ("limits", SlidingWindowCounterRateLimiter),
        2.0,
    ),
    ("GCRA vs pyrate-limiter GCRA", GCRA, ("pyrate", "gcra"), 4.0),
    ("TokenBucket vs pyrate-limiter TokenBucket", TokenBucket, ("pyrate", "tb"), None),
    ("SlidingWindowLog vs pyrate-limiter InMemoryBucket (log)", SlidingWindowLog, ("pyrate", "log"), None),
]


def compare(number: int, repeat: int) -> list[tuple[str, str, float, float, float | None]]:
    rows = []
    for label, cls, (lib, what), target in PAIRS:
        for path in ("allowed", "denied"):
            denied = path == "denied"
            mine = ours(cls, 1 if denied else BIG, 3600.0 if denied else 60.0, denied)
            theirs = limits_(what, denied) if lib == "limits" else pyrate(what, denied)
            us_ours, us_theirs = race(mine, theirs, number, repeat)
            rows.append((label, path, us_ours, us_theirs, target))
    return rows


def prefilled_log(entries: int) -> Callable[[], Any]:
    """A sliding log holding ``entries`` admissions, kept at that size: every call is admitted,
    adds one entry and expires the oldest (the clock moves one entry-spacing per call)."""
    clock = ManualClock()
    period = 60.0
    spacing = period / entries
    lim = SlidingWindowLog(BIG, period, clock=clock)
    for _ in range(entries):
        lim.allow("k")
        clock.advance(spacing)

    def call() -> Any:
        clock.advance(spacing)
        return lim.allow("k")

    return call


def prefilled_moving_window(entries: int) -> Callable[[], Any]:
    """limits' moving window with ``entries`` events already in the window (real time)."""
    limiter = MovingWindowRateLimiter(MemoryStorage())
    item = RateLimitItemPerMinute(BIG)
    for _ in range(entries):
        limiter.hit(item, "k")
    return lambda: limiter.hit(item, "k")


def fill_levels(number: int, repeat: int) -> list[tuple[int, float, float]]:
    rows = []
    for entries in (10, 1_000, 100_000):
        us_ours, us_theirs = race(
            lambda e=entries: prefilled_log(e), lambda e=entries: prefilled_moving_window(e), number, repeat
        )
        rows.append((entries, us_ours, us_theirs))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats (a smoke run)")
    args = parser.parse_args()
    number, repeat = (2_000, 2) if args.quick else (5_000, 15)
    print(f"# patterns.ratelimit benchmark, {date.today().isoformat()}")
    print(
        f"\nPython {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"nproc={os.cpu_count()}, {number:,} calls x best of {repeat}; CPU microseconds per call "
        "(lower is better); ratio = theirs / ours (higher means ours is faster).\n"
    )
    print("| comparison | path | ours (us) | theirs (us) | ratio | target |")
    print("|---|---|---:|---:|---:|---|")
    missed = []
    for label, path, us_ours, us_theirs, target in compare(number, repeat):
        ratio = us_theirs / us_ours
        verdict = (
            "" if target is None else (f">= {target:g}x met" if ratio >= target else f">= {target:g}x MISSED")
        )
        if target is not None and ratio < target:
            missed.append(f"{label} ({path}): {ratio:.2f}x < {target:g}x")
        print(f"| {label} | {path} | {us_ours:.2f} | {us_theirs:.2f} | {ratio:.2f}x | {verdict} |")
    print("\nSliding log as the window fills (allowed path, log kept at the given size):\n")
    print("| entries in the log | SlidingWindowLog (us) | limits MovingWindow (us) | ratio |")
    print("|---:|---:|---:|---:|")
    levels = fill_levels(max(1_000, number // 5), min(repeat, 5))  # prefilling 100,000 is slow
    for entries, us_ours, us_theirs in levels:
        print(f"| {entries:,} | {us_ours:.2f} | {us_theirs:.2f} | {us_theirs / us_ours:.2f}x |")
    growth = levels[-1][1] / levels[0][1]
    flat = growth <= 1.5
    print(
        f"\nSliding log cost at 100,000 entries / at 10 entries: {growth:.2f} ({'flat' if flat else 'NOT flat'})"
    )
    if not flat:
        missed.append(f"sliding log not flat: x{growth:.2f} from 10 to 100,000 entries")
    print("\nTargets missed: " + ("; ".join(missed) if missed else "none"))


if __name__ == "__main__":
    sys.exit(main())
