"""Overhead of the resilience policies next to their peer libraries, in one run.

    .venv/bin/python benchmarks/bench_resilience.py [--rounds 7] [--number 50000]

What is measured: the cost a policy adds to a call that succeeds at once (the path every healthy
request takes), i.e. time per wrapped call minus time per bare call of the same no-op function.

* breaker: ``patterns`` CircuitBreaker (call form and decorator) vs pybreaker and circuitbreaker
  (targets from issue 6: <= 0.6 us per call and >= 2x faster than pybreaker);
* retry: ``patterns`` Retry vs tenacity, success path (target: <= 1/10 of tenacity's overhead);
* bulkhead: acquire + release of ``patterns`` Bulkhead vs a bare ``threading.BoundedSemaphore``;
* for scale, one uncontended ``threading.Lock`` acquire + release: the floor for any thread-safe
  policy (the breaker takes one per call; pybreaker takes an RLock; circuitbreaker takes none and
  is not thread-safe).

Contenders run interleaved, round after round, and each keeps its best round, so a burst of load
from other processes on a shared machine hurts every contender alike rather than one. Times are
the thread's CPU time (``time.thread_time``), so time spent preempted by other processes is not
counted. Single thread, no contention: this measures bookkeeping, not scalability; the last
section (wall time, 8 threads) shows which breakers serialise their callers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import threading
import time
import timeit
from collections.abc import Callable
from importlib.metadata import version

import circuitbreaker
import pybreaker
import tenacity

from patterns.resilience import Backoff, Bulkhead, CircuitBreaker, Retry


def work() -> int:
    return 1


def noop() -> None:
    pass


# baselines: what a contender's timing includes besides the policy's own work
BARE = "bare call work()"
BARE_LAMBDA = "bare lambda: work()"
EMPTY = "empty function"


def contenders() -> dict[str, tuple[Callable[[], object], str]]:
    """label -> (zero-argument callable making one protected call, the baseline to subtract)."""
    ours = CircuitBreaker(failure_rate_threshold=0.5, minimum_calls=10, wait_in_open=30.0)
    ours_decorated = CircuitBreaker()(work)
    pyb = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)
    cb_decorated = circuitbreaker.circuit(failure_threshold=5, recovery_timeout=30)(work)

    retry = Retry(max_attempts=3, backoff=Backoff.exponential(0.1, 5.0, "full"))
    ten_decorated = tenacity.retry(
        stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_random_exponential(multiplier=0.1, max=5.0)
    )(work)

    bulkhead = Bulkhead(max_concurrent=20, max_wait=0.5)
    semaphore = threading.BoundedSemaphore(20)

    def bulkhead_pair() -> None:
        bulkhead.acquire()
        bulkhead.release()

    def bulkhead_with() -> None:
        with bulkhead:
            pass

    def semaphore_pair() -> None:
        semaphore.acquire()
        semaphore.release()

    lock = threading.Lock()

    def lock_pair() -> None:  # the floor for anything thread-safe: one uncontended lock
        lock.acquire()
        lock.release()

    return {
        BARE: (work, BARE),
        BARE_LAMBDA: (lambda: work(), BARE_LAMBDA),
        EMPTY: (noop, EMPTY),
        "patterns CircuitBreaker.call": (lambda: ours.call(work), BARE_LAMBDA),
        "patterns @CircuitBreaker": (ours_decorated, BARE),
        "pybreaker .call": (lambda: pyb.call(work), BARE_LAMBDA),
        "circuitbreaker @circuit": (cb_decorated, BARE),
        "patterns Retry.call": (lambda: retry.call(work), BARE_LAMBDA),
        "patterns @Retry": (retry(work), BARE),
        "tenacity @retry": (ten_decorated, BARE),
        "patterns Bulkhead acquire+release": (bulkhead_pair, EMPTY),
        "patterns with Bulkhead": (bulkhead_with, EMPTY),
        "BoundedSemaphore acquire+release": (semaphore_pair, EMPTY),
        "threading.Lock acquire+release": (lock_pair, EMPTY),
    }


def measure(rounds: int, number: int) -> dict[str, float]:
    """Overhead in seconds per call for every contender: its best round minus its baseline's."""
    table = contenders()
    best = dict.fromkeys(table, float("inf"))
    for _ in range(rounds):
        for label, (fn, _baseline) in table.items():
            best[label] = min(best[label], timeit.timeit(fn, timer=time.thread_time, number=number) / number)
    return {label: max(best[label] - best[baseline], 0.0) for label, (_, baseline) in table.items()}


def overlap(threads: int = 8, hold: float = 0.02) -> dict[str, float]:
    """Wall time for ``threads`` concurrent calls that each take ``hold`` seconds (I/O-like).

    A breaker that holds its lock during the call serialises them: about ``threads * hold``.
    """
    breakers: dict[str, Callable[[Callable[[], object]], object]] = {
        "patterns CircuitBreaker": CircuitBreaker().call,
        "pybreaker": pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30).call,
        "circuitbreaker": lambda fn: circuitbreaker.circuit(failure_threshold=5)(fn)(),
    }

    def worker(start: threading.Barrier, call: Callable[[Callable[[], object]], object]) -> None:
        start.wait()
        call(lambda: time.sleep(hold))

    result = {}
    for label, call in breakers.items():
        start = threading.Barrier(threads + 1)
        workers = [threading.Thread(target=worker, args=(start, call)) for _ in range(threads)]
        for w in workers:
            w.start()
        start.wait()
        began = time.perf_counter()
        for w in workers:
            w.join()
        result[label] = time.perf_counter() - began
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=50_000)
    args = parser.parse_args()
    cost = measure(args.rounds, args.number)

    print(
        f"resilience overhead, {dt.date.today()}, nproc={os.cpu_count()}, Python {platform.python_version()}"
    )
    print(
        f"pybreaker {version('pybreaker')}, circuitbreaker {version('circuitbreaker')}, "
        f"tenacity {version('tenacity')}; best of {args.rounds} interleaved rounds x {args.number} calls, thread CPU time\n"
    )
    print(f"{'contender':<40} {'overhead per call':>18}")
    for label, seconds in cost.items():
        if label not in (BARE, BARE_LAMBDA, EMPTY):
            print(f"{label:<40} {seconds * 1e6:>15.3f} us")

    def ratio(peer: str, ours: str) -> float:
        return cost[peer] / cost[ours] if cost[ours] > 0 else float("inf")

    print("\nratios: peer overhead / ours (> 1: ours is cheaper)")
    print(
        f"  breaker   pybreaker .call / CircuitBreaker.call      {ratio('pybreaker .call', 'patterns CircuitBreaker.call'):6.2f}x"
    )
    print(
        f"  breaker   @circuit / @CircuitBreaker                 {ratio('circuitbreaker @circuit', 'patterns @CircuitBreaker'):6.2f}x"
    )
    print(
        f"  retry     tenacity @retry / @Retry                   {ratio('tenacity @retry', 'patterns @Retry'):6.2f}x"
    )
    print(
        f"  bulkhead  BoundedSemaphore / Bulkhead pair           {ratio('BoundedSemaphore acquire+release', 'patterns Bulkhead acquire+release'):6.2f}x"
    )

    threads, hold = 8, 0.02
    print(f"\n{threads} threads, one {hold * 1000:.0f} ms call each through one shared breaker (wall time)")
    for label, seconds in overlap(threads, hold).items():
        print(f"  {label:<38} {seconds * 1000:7.1f} ms  ({seconds / hold:.1f} x one call)")

    breaker_us = cost["patterns CircuitBreaker.call"] * 1e6
    pyb = ratio("pybreaker .call", "patterns CircuitBreaker.call")
    ten = 1 / ratio("tenacity @retry", "patterns @Retry")
    print("\ntargets (issue 6)")
    print(
        f"  breaker overhead <= 0.6 us            {breaker_us:.3f} us  {'met' if breaker_us <= 0.6 else 'NOT met'}"
    )
    print(f"  breaker >= 2x cheaper than pybreaker  {pyb:.2f}x     {'met' if pyb >= 2 else 'NOT met'}")
    print(f"  retry overhead <= 1/10 of tenacity    {ten:.3f}     {'met' if ten <= 0.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
