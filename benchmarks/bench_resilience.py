"""Overhead of the resilience policies next to their peer libraries, in one run.

    .venv/bin/python benchmarks/bench_resilience.py [--runs 5] [--rounds 7] [--number 20000]

What is measured: the cost a policy adds to a call that succeeds at once (the path every healthy
request takes), i.e. time per wrapped call minus time per bare call of the same no-op function.

* breaker: ``patterns`` CircuitBreaker with BOTH window kinds (``WindowSpec.count(10)``, the
  default, and ``WindowSpec.time(60)``; the time window reads the clock on every call, measured
  with the default ``SystemClock`` and with the ``ManualClock`` the labs inject), call form and
  decorator, vs pybreaker and circuitbreaker. Targets (issues 6 and 17): <= 0.6 us per call for
  both window kinds, and >= 2x cheaper than pybreaker;
* retry: ``patterns`` Retry vs tenacity, success path (target: <= 1/10 of tenacity's overhead);
* bulkhead: acquire + release of ``patterns`` Bulkhead vs a bare ``threading.BoundedSemaphore``;
* for scale, one uncontended ``threading.Lock`` acquire + release: the floor for any thread-safe
  policy (the breaker takes one per call; pybreaker takes an RLock; circuitbreaker takes none and
  is not thread-safe).

Contenders run interleaved, round after round, and each keeps its best round, so a burst of load
from other processes on a shared machine hurts every contender alike rather than one. A *run* is
``--rounds`` such rounds; the script makes ``--runs`` independent runs (fresh objects each) and
reports the min / median / max of the per-run figures. Times are the thread's CPU time
(``time.thread_time``), so time spent preempted by other processes is not counted. Single thread,
no contention: this measures bookkeeping, not scalability; the last section (wall time, 8 threads)
shows which breakers serialise their callers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import threading
import time
import timeit
from collections.abc import Callable
from importlib.metadata import version

import circuitbreaker
import pybreaker
import tenacity

from patterns.clock import ManualClock
from patterns.resilience import Backoff, Bulkhead, CircuitBreaker, Retry, WindowSpec


def work() -> int:
    return 1


def noop() -> None:
    pass


# baselines: what a contender's timing includes besides the policy's own work
BARE = "bare call work()"
BARE_LAMBDA = "bare lambda: work()"
EMPTY = "empty function"
BASELINES = (BARE, BARE_LAMBDA, EMPTY)

COUNT_CALL = "patterns CircuitBreaker.call, count window"
TIME_CALL = "patterns CircuitBreaker.call, time window"
TIME_MANUAL_CALL = "patterns CircuitBreaker.call, time window, ManualClock"
COUNT_DECORATED = "patterns @CircuitBreaker, count window"
TIME_DECORATED = "patterns @CircuitBreaker, time window"
PYBREAKER = "pybreaker .call"
CIRCUIT = "circuitbreaker @circuit"


def contenders() -> dict[str, tuple[Callable[[], object], str]]:
    """label -> (zero-argument callable making one protected call, the baseline to subtract)."""
    count = CircuitBreaker(failure_rate_threshold=0.5, minimum_calls=10, wait_in_open=30.0)
    timed = CircuitBreaker(failure_rate_threshold=0.5, window=WindowSpec.time(60), minimum_calls=10)
    timed_manual = CircuitBreaker(
        failure_rate_threshold=0.5, window=WindowSpec.time(60), minimum_calls=10, clock=ManualClock()
    )
    count_decorated = CircuitBreaker()(work)
    time_decorated = CircuitBreaker(window=WindowSpec.time(60))(work)
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
        COUNT_CALL: (lambda: count.call(work), BARE_LAMBDA),
        TIME_CALL: (lambda: timed.call(work), BARE_LAMBDA),
        TIME_MANUAL_CALL: (lambda: timed_manual.call(work), BARE_LAMBDA),
        COUNT_DECORATED: (count_decorated, BARE),
        TIME_DECORATED: (time_decorated, BARE),
        PYBREAKER: (lambda: pyb.call(work), BARE_LAMBDA),
        CIRCUIT: (cb_decorated, BARE),
        "patterns Retry.call": (lambda: retry.call(work), BARE_LAMBDA),
        "patterns @Retry": (retry(work), BARE),
        "tenacity @retry": (ten_decorated, BARE),
        "patterns Bulkhead acquire+release": (bulkhead_pair, EMPTY),
        "patterns with Bulkhead": (bulkhead_with, EMPTY),
        "BoundedSemaphore acquire+release": (semaphore_pair, EMPTY),
        "threading.Lock acquire+release": (lock_pair, EMPTY),
    }


def measure(rounds: int, number: int) -> dict[str, float]:
    """One run: overhead in seconds per call for every contender, its best round minus its baseline's."""
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


def spread(values: list[float], scale: float = 1e6, fmt: str = "8.3f") -> str:
    """min / median / max of per-run figures."""
    lo, mid, hi = min(values), statistics.median(values), max(values)
    return f"{lo * scale:{fmt}} {mid * scale:{fmt}} {hi * scale:{fmt}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args()
    runs = [measure(args.rounds, args.number) for _ in range(args.runs)]
    cost = {label: [run[label] for run in runs] for label in runs[0]}

    print(
        f"resilience overhead, {dt.date.today()}, nproc={os.cpu_count()}, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"pybreaker {version('pybreaker')}, circuitbreaker {version('circuitbreaker')}, "
        f"tenacity {version('tenacity')}; {args.runs} runs, each the best of {args.rounds} interleaved "
        f"rounds x {args.number} calls, thread CPU time\n"
    )
    print(f"{'contender (overhead per call, us)':<56} {'min':>8} {'median':>8} {'max':>8}")
    for label, values in cost.items():
        if label not in BASELINES:
            print(f"{label:<56} {spread(values)}")

    def ratios(peer: str, ours: str) -> list[float]:
        return [run[peer] / run[ours] if run[ours] > 0 else float("inf") for run in runs]

    print("\nratios per run: peer overhead / ours (> 1: ours is cheaper)   min / median / max")
    pairs = [
        ("breaker   pybreaker .call / .call, count window", PYBREAKER, COUNT_CALL),
        ("breaker   pybreaker .call / .call, time window", PYBREAKER, TIME_CALL),
        ("breaker   pybreaker .call / .call, time window, ManualClock", PYBREAKER, TIME_MANUAL_CALL),
        ("breaker   @circuit / @CircuitBreaker, count window", CIRCUIT, COUNT_DECORATED),
        ("retry     tenacity @retry / @Retry", "tenacity @retry", "patterns @Retry"),
        ("bulkhead  BoundedSemaphore / Bulkhead pair", "BoundedSemaphore acquire+release",
         "patterns Bulkhead acquire+release"),
    ]
    for text, peer, ours in pairs:
        print(f"  {text:<60} {spread(ratios(peer, ours), 1.0, '6.2f')}")

    threads, hold = 8, 0.02
    print(f"\n{threads} threads, one {hold * 1000:.0f} ms call each through one shared breaker (wall time)")
    for label, seconds in overlap(threads, hold).items():
        print(f"  {label:<38} {seconds * 1000:7.1f} ms  ({seconds / hold:.1f} x one call)")

    print("\ntargets (issues 6 and 17): every run must meet them")
    for label in (COUNT_CALL, TIME_CALL, TIME_MANUAL_CALL):
        worst = max(cost[label]) * 1e6
        print(f"  {label + ' <= 0.6 us':<62} worst {worst:.3f} us  {'met' if worst <= 0.6 else 'NOT met'}")
    for label in (COUNT_CALL, TIME_CALL):
        worst_ratio = min(ratios(PYBREAKER, label))
        verdict = "met" if worst_ratio >= 2 else "NOT met"
        print(f"  {'>= 2x cheaper than pybreaker (' + label.split(', ')[1] + ')':<62} worst {worst_ratio:.2f}x   {verdict}")
    ten = max(1 / r for r in ratios("tenacity @retry", "patterns @Retry"))
    print(f"  {'retry overhead <= 1/10 of tenacity':<62} worst {ten:.3f}    {'met' if ten <= 0.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
