"""Checkers for the exercises of lab 03, "Communication: sync and async".

Each checker recomputes the answer from ``patterns.communication.simulation`` or ``patterns.messaging``
(never from a stored number), prints a verdict with a hint, and returns True/False.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from patterns.check import is_unanswered, report
from patterns.clock import ManualClock
from patterns.communication.simulation import mm1, p_any_slow, simulate_queue

__all__ = [
    "SPIKE",
    "SPIKE_SERVICE_RATE",
    "SPIKE_MAX_WAIT",
    "check_p_any_slow",
    "check_mm1_time_in_system",
    "check_workers_for_spike",
    "dead_letter_time",
    "check_dead_letter_time",
]

# Exercise 3's scenario: 10 jobs/s, a 20-second burst of 40 jobs/s, each worker serves 5 jobs/s;
# arrivals stop at t = 140 so that a pool that keeps up has drained by the end (t = 150).
SPIKE = ((0.0, 10.0), (30.0, 40.0), (50.0, 10.0), (140.0, 0.0))
SPIKE_SERVICE_RATE = 5.0
SPIKE_MAX_WAIT = 15.0
SPIKE_DURATION = 150.0
SPIKE_SEED = 42


def _call(fn: Callable[..., object], *args: object) -> tuple[object, str]:
    try:
        return fn(*args), ""
    except Exception as exc:  # a learner's bug is feedback, not a crash
        return None, f"{type(exc).__name__}: {exc}"


def check_p_any_slow(fn: Callable[[float, int], float]) -> bool:
    """Exercise: ``fn(p, n)`` = probability that at least one of n calls is slow."""
    title = "probability that a request meets a slow call"
    if is_unanswered(fn) or not callable(fn):
        return report(title, ["define a function p_slow(p, n) first"])
    problems = []
    for p, n in [(0.01, 1), (0.01, 10), (0.01, 100), (0.001, 500), (0.2, 3), (0.0, 7), (0.5, 0)]:
        got, error = _call(fn, p, n)
        want = p_any_slow(p, n)
        if error:
            problems.append(f"p_slow({p}, {n}) raised {error}")
        elif not isinstance(got, (int, float)) or not math.isclose(got, want, abs_tol=1e-9):
            hint = ""
            if isinstance(got, (int, float)) and math.isclose(got, p * n, abs_tol=1e-9):
                hint = " (p * n is only a first approximation and exceeds 1 for large n)"
            elif isinstance(got, (int, float)) and math.isclose(got, (1 - p) ** n, abs_tol=1e-9):
                hint = " ((1 - p) ** n is the chance that NO call is slow)"
            problems.append(f"p_slow({p}, {n}) returned {got!r}, expected {want:.6f}{hint}")
        if len(problems) >= 3:
            break
    if problems:
        problems.append("hint: first compute the probability that all n calls are fast")
    return report(title, problems, "With p = 1% and 100 calls, 63% of requests meet the tail.")


def check_mm1_time_in_system(fn: Callable[[float, float], float]) -> bool:
    """Exercise: ``fn(lam, mu)`` = mean time in an M/M/1 system; ValueError when lam >= mu."""
    title = "M/M/1 time in system"
    if is_unanswered(fn) or not callable(fn):
        return report(title, ["define a function time_in_system(lam, mu) first"])
    problems = []
    for lam, mu in [(8.0, 10.0), (1.0, 2.0), (99.0, 100.0), (0.5, 40.0)]:
        got, error = _call(fn, lam, mu)
        want = mm1(lam, mu).W
        if error:
            problems.append(f"time_in_system({lam}, {mu}) raised {error}")
        elif not isinstance(got, (int, float)) or not math.isclose(got, want, rel_tol=1e-9):
            hint = ""
            if isinstance(got, (int, float)) and math.isclose(got, mm1(lam, mu).Wq, rel_tol=1e-9):
                hint = " (that is the wait in the queue only; add the service time 1/mu)"
            problems.append(f"time_in_system({lam}, {mu}) returned {got!r}, expected {want:.6g}{hint}")
    for lam, mu in [(10.0, 10.0), (12.0, 10.0)]:
        got, error = _call(fn, lam, mu)
        if not error.startswith("ValueError"):
            problems.append(
                f"time_in_system({lam}, {mu}) should raise ValueError (the queue grows without "
                f"bound), got {error or repr(got)}"
            )
    return report(title, problems, "W = 1/(mu - lambda): at 80% load a request spends 5 service times.")


def _max_wait(workers: int) -> float:
    stats = simulate_queue(
        SPIKE, SPIKE_SERVICE_RATE, duration=SPIKE_DURATION, workers=workers, seed=SPIKE_SEED
    )
    if stats.completed < stats.arrived:
        return math.inf  # jobs still waiting at the end: the backlog never drained
    return float(np.max(stats.waits))


def check_workers_for_spike(workers: object) -> bool:
    """Exercise: smallest worker count keeping every wait <= SPIKE_MAX_WAIT in the seeded spike."""
    title = "workers needed to absorb the spike"
    if is_unanswered(workers):
        return report(title, ["set answer_workers to an integer"])
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        return report(title, [f"answer_workers must be an integer >= 1, got {workers!r}"])
    if workers > 30:
        return report(title, [f"{workers} workers surely work, but far fewer do: find the smallest"])
    waits = {c: _max_wait(c) for c in range(1, workers + 1)}
    problems = []
    if waits[workers] > SPIKE_MAX_WAIT:
        problems.append(
            f"with {workers} workers the longest wait is {waits[workers]:.1f} s "
            f"(> {SPIKE_MAX_WAIT:.0f} s): add workers"
        )
    elif workers > 1 and waits[workers - 1] <= SPIKE_MAX_WAIT:
        problems.append(f"{workers - 1} workers already keep every wait under {SPIKE_MAX_WAIT:.0f} s")
    if problems:
        problems.append("hint: backlog ~ (arrival rate - capacity) x spike length; wait ~ backlog / capacity")
    return report(title, problems, f"The longest wait is {waits[workers]:.1f} s.")


def dead_letter_time(max_attempts: int, initial: float, factor: float) -> float:
    """When a message that fails instantly every time reaches the DLQ (sent at t = 0)."""
    from patterns.messaging import WorkQueue
    from patterns.resilience import Backoff

    clock = ManualClock()
    backoff = Backoff.exponential(base=initial, cap=1e9, jitter="none", multiplier=factor)
    queue = WorkQueue(clock, max_attempts=max_attempts, backoff=backoff)
    queue.put({"poison": True})
    while not queue.dead_letters:
        message = queue.get("worker")
        if message is None:
            due = queue.next_available_at()
            if due is None:  # nothing left to deliver: cannot happen before the message is dead
                raise RuntimeError("the work queue is empty but the message was not dead-lettered")
            clock.set(due)
            continue
        queue.nack(message, error="cannot parse")
    return queue.dead_letters[0].at


def check_dead_letter_time(answer: object, max_attempts: int = 4, initial: float = 1.0,
                           factor: float = 2.0) -> bool:
    """Exercise: at what time does an always-failing message land in the dead-letter queue?"""
    title = "when the poison message is dead-lettered"
    if is_unanswered(answer):
        return report(title, ["set answer_dlq_time to a number of seconds"])
    want = dead_letter_time(max_attempts, initial, factor)
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return report(title, [f"answer_dlq_time must be a number, got {answer!r}"])
    problems = []
    if not math.isclose(answer, want, abs_tol=1e-9):
        problems.append(f"{answer!r} s is not it")
        problems.append(
            f"hint: {max_attempts} attempts means {max_attempts - 1} waits between them, "
            f"of {initial:g} x {factor:g}^(k-1) seconds after the k-th failure"
        )
    return report(title, problems, f"It reaches the DLQ at t = {want:g} s after {max_attempts} attempts.")
