"""Overhead of the resilience policies next to their peer libraries, in one run.

    .venv/bin/python benchmarks/bench_resilience.py [--runs 5] [--rounds 3] [--number 10000]

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
import threading
import time
from collections.abc import Callable
from functools import partial

import circuitbreaker  # type: ignore[import-untyped]
import pybreaker
import tenacity
from harness import Report, interleave, ratios, spread

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


def fresh(label: str) -> Callable[[], object]:
    """A freshly built contender (new breaker, retry, bulkhead) for one run."""
    return contenders()[label][0]


def measure(runs: int, rounds: int, number: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per-run overhead in seconds per call of every contender, its best round minus its baseline's:
    (thread CPU time, wall time)."""
    labels = contenders()
    timings = interleave({label: partial(fresh, label) for label in labels},
                         runs=runs, number=number, rounds=rounds)

    def overhead(clock: str) -> dict[str, list[float]]:
        return {label: [max(t - b, 0.0) for t, b in zip(getattr(timings[label], clock),
                                                         getattr(timings[baseline], clock), strict=True)]
                for label, (_, baseline) in labels.items()}

    return overhead("cpu"), overhead("wall")


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
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--number", type=int, default=10_000)
    args = parser.parse_args()
    cost, wall = measure(args.runs, args.rounds, args.number)
    report = Report("resilience", "Resilience policies: overhead per call next to peer libraries",
                    ("pybreaker", "circuitbreaker", "tenacity"), runs=args.runs, rounds=args.rounds,
                    number=args.number)

    print(
        f"resilience overhead, {dt.date.today()}, nproc={os.cpu_count()}, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{', '.join(f'{k} {v}' for k, v in report.packages.items())}; {args.runs} runs, each the best of "
        f"{args.rounds} interleaved rounds x {args.number} calls, thread CPU time\n"
    )
    print(f"{'contender (overhead per call, us): median (min-max)':<56}")
    for label, values in cost.items():
        if label not in BASELINES:
            report.figure(f"{label}: overhead per call", values, "µs", "thread", scale=1e6, group="overhead")
            report.figure(f"{label}: overhead per call", wall[label], "µs", "wall", scale=1e6, group="overhead")
            print(f"{label:<56} {spread(values, 1e6, 3)}")

    def ratio(peer: str, ours: str) -> list[float]:
        return ratios(cost[peer], cost[ours])

    print("\nratios per run: peer overhead / ours (> 1: ours is cheaper), median (min-max)")
    pairs = [
        ("pybreaker .call / .call, count window", "pybreaker", PYBREAKER, COUNT_CALL),
        ("pybreaker .call / .call, time window", "pybreaker", PYBREAKER, TIME_CALL),
        ("pybreaker .call / .call, time window, ManualClock", "pybreaker", PYBREAKER, TIME_MANUAL_CALL),
        ("@circuit / @CircuitBreaker, count window", "circuitbreaker", CIRCUIT, COUNT_DECORATED),
        ("tenacity @retry / @Retry", "tenacity", "tenacity @retry", "patterns @Retry"),
        ("BoundedSemaphore / Bulkhead pair", "threading", "BoundedSemaphore acquire+release",
         "patterns Bulkhead acquire+release"),
    ]
    for text, peer_name, peer, ours in pairs:
        report.figure(text, ratio(peer, ours), "×", "thread", peer=peer_name, group="ratio")
        print(f"  {text:<60} {spread(ratio(peer, ours))}")

    threads, hold = 8, 0.02
    print(f"\n{threads} threads, one {hold * 1000:.0f} ms call each through one shared breaker (wall time)")
    overlaps = [overlap(threads, hold) for _ in range(args.runs)]
    for label in overlaps[0]:
        values = report.figure(f"{label}: {threads} concurrent {hold * 1000:.0f} ms calls, in units of one call",
                               [run[label] for run in overlaps], "× one call", "wall", scale=1 / hold,
                               group="serialised")
        print(f"  {label:<38} {spread(values)} x one call")

    print("\ntargets (issues 6 and 17): every run must meet them")
    for label in (COUNT_CALL, TIME_CALL, TIME_MANUAL_CALL):
        met = report.target(f"{label}: overhead", [v * 1e6 for v in cost[label]], "µs", at_most=0.6)
        print(f"  {label + ' <= 0.6 us':<62} worst {max(cost[label]) * 1e6:.3f} us  {'met' if met else 'NOT met'}")
    for label in (COUNT_CALL, TIME_CALL):
        kind = label.split(", ")[1]
        met = report.target(f"breaker vs pybreaker, {kind}", ratio(PYBREAKER, label), "×", at_least=2)
        print(f"  {'>= 2x cheaper than pybreaker (' + kind + ')':<62} worst "
              f"{min(ratio(PYBREAKER, label)):.2f}x   {'met' if met else 'NOT met'}")
    ten = ratio("tenacity @retry", "patterns @Retry")
    met = report.target("retry success path vs tenacity (tenacity / ours)", ten, "×", at_least=10)
    print(f"  {'retry overhead <= 1/10 of tenacity':<62} worst 1/{min(ten):.0f}    {'met' if met else 'NOT met'}")
    report.save()


if __name__ == "__main__":
    main()
