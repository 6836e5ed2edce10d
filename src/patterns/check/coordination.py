"""Checkers for the exercises of lab 15, coordination (leases, locks, fencing).

Each ``check_*`` compares the learner's answer with the package (``MemoryLeaseService`` on a
``ManualClock``, ``FencedStore``, ``contention``) and prints a tick or what is wrong with a hint.
They return True/False and never raise on a wrong answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from patterns.check import call_safely, not_ready, report
from patterns.clock import ManualClock

__all__ = ["RENEWAL", "check_safe_pause", "check_fence", "check_no_lost_updates", "survives_pause"]

#: Exercise 1: a client holds a lease of ``ttl`` seconds and renews it every ``every`` seconds.
RENEWAL: dict[str, float] = {"ttl": 10.0, "every": 2.0}


def survives_pause(pause: float, phase: float, ttl: float = 10.0, every: float = 2.0) -> bool:
    """Whether a lease renewed every ``every`` s survives a pause starting ``phase`` s after a renewal.

    Replayed on the embedded lease service: the client renews at 0, every, 2*every, ...; the pause
    stops renewals; on waking the client renews at once (its keep-alive task runs first).
    """
    from patterns.coordination import LeaseExpired, MemoryLeaseService

    clock = ManualClock()
    service = MemoryLeaseService(clock)
    lease = service.grant(ttl)
    clock.advance(phase)
    clock.advance(pause)
    try:
        service.keep_alive(lease)
    except LeaseExpired:
        return False
    return True


def check_safe_pause(answer: object) -> bool:
    """Exercise 1: the longest pause the client survives wherever it starts between renewals."""
    title = "Exercise 1 (the longest safe pause)"
    if not_ready(title, answer, expect=(int, float)) or isinstance(answer, bool):
        return isinstance(answer, bool) and report(title, ["safe_pause_1 should be a number of seconds."])
    ttl, every = RENEWAL["ttl"], RENEWAL["every"]
    truth = ttl - every
    value = float(answer)  # type: ignore[arg-type]
    phases = [every * i / 20 for i in range(20)] + [every - 1e-9]
    if abs(value - truth) < 1e-6:
        return report(title, [], f"A pause that starts just before a renewal is due has only "
                      f"{ttl:g} - {every:g} = {truth:g} s left on the lease.")
    if value > truth:
        bad = next(p for p in phases if not survives_pause(value, p, ttl, every))
        hint = ("the pause can begin just before the next renewal was due, when the lease has "
                f"only ttl - every seconds left (here it began {bad:.2f} s after a renewal).")
        if abs(value - ttl) < 1e-6:
            hint = "a full TTL is only left right after a renewal; " + hint
        return report(title, [f"a pause of {value:g} s loses the lease in some runs. Hint: {hint}"])
    return report(title, [f"{value:g} s is safe but not the longest: every pause shorter than "
                          f"{truth:g} s survives wherever it starts. Hint: how much of the lease is "
                          "left in the worst case, just before a renewal?"])


def _fence_traces() -> list[list[tuple[str, int | None]]]:
    rng = random.Random(15)
    traces: list[list[tuple[str, int | None]]] = [
        [("doc", 1), ("doc", 2), ("doc", 1), ("doc", 2), ("doc", 3)],
        [("doc", None), ("doc", 4), ("doc", None)],
        [("a", 5), ("b", 1), ("a", 3), ("b", 1), ("b", 2)],
    ]
    for _ in range(5):
        traces.append([(rng.choice("xy"), rng.choice([None, 1, 2, 3, 4, 5, 6])) for _ in range(30)])
    return traces


def check_fence(func: object) -> bool:
    """Exercise 2: ``func(highest, key, token) -> bool`` decides like ``FencedStore(fencing=True)``."""
    from patterns.coordination import FencedStore

    title = "Exercise 2 (the storage's fencing rule)"
    if not_ready(title, func, expect=callable):
        return False
    fn: Callable[..., Any] = func  # type: ignore[assignment]
    for trace in _fence_traces():
        store: FencedStore[int] = FencedStore(fencing=True)
        highest: dict[str, int] = {}
        for i, (key, token) in enumerate(trace):
            expected = store.write(key, i, token=token)
            got, error = call_safely(fn, highest, key, token)
            if error:
                return report(title, [error])
            if not isinstance(got, bool):
                return report(title, [f"my_fence should return True or False, got {got!r}."])
            if got != expected:
                seen = store.highest_token(key) if not expected else highest.get(key, 0)
                if token is None:
                    hint = "a write without a token cannot prove it is current: refuse it."
                elif expected:
                    hint = (f"token {token} is not lower than the highest token seen for {key!r}; "
                            "an equal token is the same holder writing again.")
                else:
                    hint = (f"{key!r} has already seen token {seen}; a lower token is a stale holder. "
                            "Remember the highest token per key (update highest[key] when you accept).")
                earlier = ", ".join(f"({k!r}, {t})" for k, t in trace[:i]) or "none"
                return report(title, [f"write {i} to {key!r} with token {token}: you said {got}, expected "
                                      f"{expected} (earlier writes: {earlier}). Hint: {hint}"])
    return report(title, [], "Your rule matches FencedStore on every trace.")


def check_no_lost_updates(options: object) -> bool:
    """Exercise 3: ``contention`` options that lose no acknowledged increment, pauses and all."""
    from patterns.coordination import MemoryLeaseService, contention

    title = "Exercise 3 (no lost increments)"
    if not_ready(title, options, expect=dict):
        return False
    assert isinstance(options, dict)
    allowed = {"fencing", "fence_reads"}
    if not set(options) <= allowed:
        return report(title, [f"options_3 may only set {sorted(allowed)}: the workload (pauses, TTL) "
                              f"stays as it is. You set {sorted(set(options) - allowed)}."])
    lost = refused = 0
    for seed in range(8):
        try:
            result = contention(MemoryLeaseService(ManualClock()), clients=3, duration=60.0, ttl=2.0,
                                pause_probability=0.3, pause_mean=2.0, rng=random.Random(seed),
                                **options)
        except (TypeError, ValueError) as exc:
            return report(title, [f"contention() refused these options: {exc}"])
        lost += result.lost
        refused += result.refused
    if lost:
        if not options.get("fencing"):
            hint = "without fencing the store accepts a paused holder's late write."
        else:
            hint = ("fencing only the writes leaves a gap: the old holder's write can land between "
                    "the new holder's read and write. Show the token on the read too.")
        return report(title, [f"{lost} acknowledged increments were lost over 8 runs. Hint: {hint}"])
    return report(title, [], f"No increment lost over 8 runs; the store refused {refused} stale writes.")
