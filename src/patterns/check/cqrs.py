"""Checkers for the CQRS lab (chapter 04): each runs the package to judge the learner's answer."""

from __future__ import annotations

import contextlib
import functools
import random
from collections.abc import Callable, Iterable
from typing import Any

from patterns.check import is_unanswered, report
from patterns.clock import ManualClock
from patterns.cqrs.commands import DomainError
from patterns.cqrs.projector import Projector
from patterns.cqrs.simulation import LagTrace, random_commands, simulate_lag
from patterns.cqrs.stores import SQLiteReadStore
from patterns.cqrs.write_model import WriteModel
from patterns.messaging import Event

__all__ = ["check_status_counts", "check_burst_backlog", "check_redelivery", "BURST", "EXERCISE_BURST"]

# the scenario of exercise 2: 10 commands/s, a burst of 90/s from t=2 s to t=6 s, projector 30 events/s
BURST: dict[str, Any] = {"command_rate": 10, "projector_rate": 30, "seconds": 25, "burst": (2, 6, 90)}  # lab
EXERCISE_BURST: dict[str, Any] = {"command_rate": 10, "projector_rate": 30, "seconds": 25, "burst": (2, 8, 60)}


def _history(seed: int, n: int) -> WriteModel:
    write = WriteModel(clock=ManualClock(), rng=random.Random(seed))
    stream = random_commands(random.Random(seed))
    for _ in range(n):
        with contextlib.suppress(DomainError):
            write.handle(next(stream))
    return write


@functools.lru_cache(maxsize=1)
def _burst_trace() -> LagTrace:  # deterministic, so computing it once per process is enough
    return simulate_lag(**EXERCISE_BURST)


def check_status_counts(count_by_status: Callable[[Iterable[Event]], dict[str, int]]) -> bool:
    """Exercise 1: a new read model built after the fact, by replaying the event history."""
    title = "Exercise 1 (a new read model from the history)"
    if is_unanswered(count_by_status) or not callable(count_by_status):
        return report(title, ["define count_by_status(events) -> dict"])
    problems = []
    for seed, n in ((1, 40), (2, 120), (3, 5)):
        write = _history(seed, n)
        expected: dict[str, int] = {}
        for row in write.order_summaries().values():
            expected[row["status"]] = expected.get(row["status"], 0) + 1
        try:
            got = count_by_status(list(write.events()))
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            problems.append(f"it raised {type(exc).__name__}: {exc}")
            break
        got = {k: v for k, v in dict(got).items() if v}
        if got != expected:
            problems.append(f"for a history of {len(write.events())} events expected {expected}, got {got}. "
                            "Hint: OrderCreated starts a draft; OrderConfirmed and OrderCancelled move "
                            "an order from its current status (keep a dict order_id -> status).")
            break
    return report(title, problems, "A new read model, computed from events the system already had.")


def check_burst_backlog(answer: tuple[float, float]) -> bool:
    """Exercise 2: for ``EXERCISE_BURST``, the peak backlog and how long after the burst it clears."""
    title = "Exercise 2 (backlog under a burst)"
    if is_unanswered(answer):
        return report(title, ["set answer_2 = (peak_backlog, seconds_to_catch_up_after_the_burst)"])
    try:
        peak, catch_up = (float(x) for x in answer)
    except (TypeError, ValueError):
        return report(title, ["answer_2 must be a pair of numbers: (peak_backlog, seconds)"])
    trace = _burst_trace()
    true_peak = trace.max_backlog
    end = EXERCISE_BURST["burst"][1]
    true_catch = next(t for t, b in zip(trace.times, trace.backlog, strict=True) if t > end and b == 0) - end
    problems = []
    if abs(peak - true_peak) > 0.15 * true_peak:
        problems.append(f"peak backlog {peak:g} is off (the simulation says {true_peak}). Hint: during the "
                        "burst the backlog grows at (burst rate - projector rate) events per second.")
    if abs(catch_up - true_catch) > 0.2 * true_catch + 0.5:
        problems.append(f"catch-up time {catch_up:g} s is off (the simulation says {true_catch:.1f} s). Hint: "
                        "after the burst it shrinks at (projector rate - normal rate) per second.")
    return report(title, problems, f"Peak {true_peak} events, caught up {true_catch:.1f} s after the burst.")


def check_redelivery(answer: Iterable[int]) -> bool:
    """Exercise 3: which redelivered events does a projector at checkpoint 6 apply?"""
    title = "Exercise 3 (redelivery and the checkpoint)"
    if is_unanswered(answer):
        return report(title, ["set answer_3 to the list of seqs the projector applies"])
    write = _history(7, 12)
    events = write.events()[:8]
    projector = Projector(SQLiteReadStore(), clock=ManualClock())
    projector.apply(events[:6])
    projector.samples.clear()
    projector.apply(events[4:8])  # seqs 5..8 delivered again after a crash
    truth = [s.seq for s in projector.samples]
    try:
        given = sorted(int(x) for x in answer)
    except (TypeError, ValueError):
        return report(title, ["answer_3 must be a list of integers"])
    problems = [] if given == truth else [
        f"{given} is not what happened. Hint: events at or below the checkpoint are already in the read "
        "model and are skipped; the rest are applied in order."]
    return report(title, problems, f"Applied {truth}; 5 and 6 were skipped as duplicates.")
