"""Checkers for the exercises of lab 13, load balancing.

Each ``check_*`` function tests the learner's answer against the package (``patterns.balancing``)
and prints a tick, or what is wrong and a hint. They return True/False and never raise on a wrong
answer, so a partly finished lab keeps running.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from patterns.check import call_safely, not_ready, report

__all__ = [
    "WEIGHTS_FLEET",
    "BOUNDED_SCENARIO",
    "HEALTH_SCENARIO",
    "LoadView",
    "check_pick_two",
    "check_weights",
    "check_bounded_capacity",
    "check_health_check_errors",
]

# Exercise 2: five servers; mean service time in ms of each (server 3 is an older, slower machine).
WEIGHTS_FLEET: dict[str, Any] = {"service_ms": [10.0, 10.0, 10.0, 40.0, 20.0], "utilisation": 0.8}
# Exercise 3: consistent hashing with bounded loads.
BOUNDED_SCENARIO: dict[str, Any] = {"backends": 10, "in_flight": 120, "load_factor": 1.25}
# Exercise 4: a server that fails every request, found by active health checks only.
HEALTH_SCENARIO: dict[str, Any] = {"rate": 50.0, "interval": 5.0, "fall": 3}


class LoadView(Sequence[int]):
    """The loads a learner's ``pick_two`` sees: a sequence that records which entries were read."""

    def __init__(self, loads: list[int]) -> None:
        self._loads = loads
        self.read: set[int] = set()

    def __len__(self) -> int:
        return len(self._loads)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            self.read.update(range(len(self._loads))[index])
            return self._loads[index]
        i = range(len(self._loads))[index]
        self.read.add(i)
        return self._loads[i]

    def __iter__(self) -> Any:
        self.read.update(range(len(self._loads)))
        return iter(self._loads)


# -- exercise 1 ------------------------------------------------------------------------------------
def check_pick_two(pick_two: Any, n: int = 4096) -> bool:
    """Exercise 1: ``pick_two(loads, rng) -> index`` reads two random loads and keeps the smaller."""
    title = "Exercise 1 (the power of two choices)"
    if not_ready(title, pick_two, expect=callable):
        return False
    rng = random.Random(13)
    loads = [0] * n
    first_reads: list[int] = []
    for ball in range(n):
        view = LoadView(loads)
        index, error = call_safely(pick_two, view, rng)
        if error:
            return report(title, [error])
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            return report(title, [f"pick_two must return an index in range({n}), got {index!r}."])
        if len(view.read) > 2:
            return report(title, [
                f"pick_two read {len(view.read)} loads for one ball; it may look at 2.",
                "hint: looking at every server is least-connections: O(n) per request, and it herds when "
                "the loads are stale. Draw two indices with rng.randrange(len(loads)).",
            ])
        if index not in view.read:
            return report(title, [f"pick_two returned {index}, a server whose load it never looked at."])
        if any(loads[i] < loads[index] for i in view.read):
            return report(title, [
                f"pick_two returned a server with load {loads[index]}, but it had seen a smaller one.",
                "hint: of the two drawn, keep the less loaded.",
            ])
        if ball < 2000:
            first_reads.extend(sorted(view.read))
        loads[index] += 1
    spread = len(set(first_reads))
    if spread < n // 4:
        return report(title, [
            f"the first 2,000 balls only ever looked at {spread} of {n} servers: the two must be random.",
            "hint: use the rng you are given, e.g. rng.randrange(len(loads)).",
        ])
    top = max(loads)
    if top > 4:
        return report(title, [f"the fullest of {n} servers got {top} balls; two random choices give 3 or 4."])
    return report(title, [], f"{n} balls into {n} bins: the fullest holds {top} (one random choice: about 7).")


# -- exercise 2 ------------------------------------------------------------------------------------
def _utilisations(weights: Sequence[float]) -> list[float]:
    service = [ms / 1000.0 for ms in WEIGHTS_FLEET["service_ms"]]
    capacity = sum(1.0 / s for s in service)
    rate = WEIGHTS_FLEET["utilisation"] * capacity
    total = sum(weights)
    return [rate * w / total * s for w, s in zip(weights, service, strict=True)]


def check_weights(weights: Any) -> bool:
    """Exercise 2: weights for a weighted round robin over ``WEIGHTS_FLEET`` that overload no server."""
    title = "Exercise 2 (weights for a mixed fleet)"
    if not_ready(title, weights, expect=(list, tuple)):
        return False
    count = len(WEIGHTS_FLEET["service_ms"])
    if len(weights) != count:
        return report(title, [f"give one weight per server ({count}), got {len(weights)}."])
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) and w > 0
               for w in weights):
        return report(title, [f"weights must be positive numbers, got {list(weights)!r}."])
    busy = _utilisations([float(w) for w in weights])
    worst = max(range(count), key=lambda i: busy[i])
    if busy[worst] >= 0.9:
        return report(title, [
            f"server {worst} would be {busy[worst]:.0%} busy while the fleet is "
            f"{WEIGHTS_FLEET['utilisation']:.0%} busy: its queue explodes.",
            "hint: a server's fair share is proportional to its capacity, 1 / service time: 4 servers-worth "
            "of 10 ms, one of 40 ms (a quarter as much), one of 20 ms (half).",
        ])
    from patterns.balancing import FleetConfig, WeightedRoundRobin, simulate_fleet

    base = min(WEIGHTS_FLEET["service_ms"]) / 1000.0
    config = FleetConfig(
        servers=count, service_time=base, utilisation=WEIGHTS_FLEET["utilisation"], requests=6000,
        slowdown={i: ms / 1000.0 / base for i, ms in enumerate(WEIGHTS_FLEET["service_ms"])},
        weights={i: float(w) for i, w in enumerate(weights)},
    )
    run = simulate_fleet(WeightedRoundRobin(), config, seed=2)
    shown = ", ".join(f"{b:.0%}" for b in busy)
    return report(title, [], f"Every server at most {max(busy):.0%} busy ({shown}); simulated p99 "
                  f"{run.p99 * 1000:.0f} ms.")


# -- exercise 3 ------------------------------------------------------------------------------------
def check_bounded_capacity(answer: Any) -> bool:
    """Exercise 3: the in-flight count at which a backend is skipped (bounded loads)."""
    title = "Exercise 3 (consistent hashing with bounded loads)"
    if not_ready(title, answer):
        return False
    s = BOUNDED_SCENARIO
    truth = math.ceil(s["load_factor"] * (s["in_flight"] + 1) / s["backends"])
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return report(title, [f"capacity_3 should be a number, got {type(answer).__name__}."])
    if answer != truth:
        near = {math.ceil(s["load_factor"] * s["in_flight"] / s["backends"]): "count the new request too: "
                "the average includes it, (in_flight + 1) / backends.",
                s["load_factor"] * (s["in_flight"] + 1) / s["backends"]: "round up: a count of requests is a "
                "whole number, and the bound is ceil(c * average)."}
        hint = near.get(answer, "capacity = ceil(c * (in_flight + 1) / backends).")
        return report(title, [f"{answer!r} is not the capacity. Hint: {hint}"])
    return report(title, [], f"A backend holding {truth} or more in-flight requests is skipped.")


# -- exercise 4 ------------------------------------------------------------------------------------
def check_health_check_errors(answer: Any) -> bool:
    """Exercise 4: worst-case failed requests before active health checks remove a dead server."""
    title = "Exercise 4 (what active health checks cost)"
    if not_ready(title, answer):
        return False
    s = HEALTH_SCENARIO
    worst_seconds = s["fall"] * s["interval"]
    truth = s["rate"] * worst_seconds
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return report(title, [f"errors_4 should be a number, got {type(answer).__name__}."])
    if abs(answer - truth) > 0.05 * truth:
        hint = ("that is the best case, when the first failed probe comes right after the failure; in the "
                "worst case the failure starts just after a good probe."
                if abs(answer - s["rate"] * (s["fall"] - 1) * s["interval"]) < 1
                else f"the server is marked down after {s['fall']} failed probes, {s['interval']:g} s apart; "
                "meanwhile every request it gets fails.")
        return report(title, [f"{answer!r} is not the worst case. Hint: {hint}"])
    return report(title, [], f"Up to {truth:.0f} failed requests ({worst_seconds:g} s); passive outlier "
                  "ejection after 5 consecutive errors would have let 5 through.")
