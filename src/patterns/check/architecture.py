"""Checkers for the chapter 01 lab (architectural styles).

Each ``check_*`` tests the learner's answer against ``patterns.architecture``, prints a tick or what
is wrong with a hint, and returns True/False. ``...`` means "not answered yet".
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from patterns.architecture import (
    IN_PROCESS,
    chain,
    change_coupling,
    exact_availability,
    exact_latency,
    shop,
    synthetic_history,
)
from patterns.check import call_safely, is_unanswered, not_ready, report

__all__ = ["check_chain_availability", "check_fanout", "check_deployment", "check_coupling_degree",
           "DEPLOYMENT_TARGET"]

DEPLOYMENT_TARGET = {"min_units": 3, "availability": 0.994, "p99_ms": 40.0}






def check_chain_availability(chain_availability: object) -> bool:
    """Exercise 1: ``chain_availability(a, n)`` = availability of n services in series, each a."""
    title = "Exercise 1 (availability of a chain)"
    if not_ready(title, chain_availability, expect=callable):
        return False
    for a, n in [(0.999, 10), (0.99, 3), (0.9995, 1), (0.95, 20), (1.0, 7)]:
        got, error = call_safely(chain_availability, a, n)
        if error:
            return report(title, [error])
        expected = exact_availability(chain(n, availability=a), "s0", IN_PROCESS)
        if not isinstance(got, (int, float)) or abs(got - expected) > 1e-9:
            hint = "hint: every service must be up at once: multiply, do not add or average."
            return report(title, [f"a={a}, n={n}: you said {got!r}, the model says {expected:.6f}.", hint])
    return report(title, [], "Ten services at 99.9% give about 99.0%: one request in a hundred fails.")


def check_fanout(slow_share: object) -> bool:
    """Exercise 2: ``slow_share(n)`` = share of requests that wait for a call beyond its p99, fan-out n."""
    title = "Exercise 2 (fan-out and the tail)"
    if not_ready(title, slow_share, expect=callable):
        return False
    for n in [1, 2, 10, 100]:
        got, error = call_safely(slow_share, n)
        if error:
            return report(title, [error])
        expected = 1 - 0.99 ** n
        if not isinstance(got, (int, float)) or abs(got - expected) > 1e-9:
            hint = ("hint: a request is fast only if *every* call is fast (each with probability 0.99)."
                    if got != 0.01 * n else "hint: 0.01 * n overcounts: it passes 1 at n = 101.")
            return report(title, [f"n={n}: you said {got!r}, expected {expected:.4f}.", hint])
    return report(title, [], "With 100 backends, 63% of requests see at least one p99.")


def check_deployment(units: object) -> bool:
    """Exercise 3: a unit per component for the shop with >= 3 units meeting DEPLOYMENT_TARGET."""
    title = "Exercise 3 (choose the deployment units)"
    if is_unanswered(units):
        return report(title, ["no answer yet: replace the ... and run this cell again."])
    if not isinstance(units, Mapping):
        return report(title, [f"expected a dict {{component: unit}}, got {type(units).__name__}."])
    system = shop(notifications_async=True, parallel_checks=True)
    try:
        deployed = system.deployed(units)
    except (TypeError, ValueError) as exc:
        return report(title, [str(exc)])
    availability = exact_availability(deployed, "gateway")
    p99 = exact_latency(deployed, "gateway").quantile(0.99)
    count = len(set(units.values()))
    problems = []
    if count < DEPLOYMENT_TARGET["min_units"]:
        problems.append(f"{count} unit(s): the teams asked for at least {DEPLOYMENT_TARGET['min_units']}.")
    if availability < DEPLOYMENT_TARGET["availability"]:
        problems.append(f"availability {availability:.4%} < {DEPLOYMENT_TARGET['availability']:.1%}: "
                        "hint: every unit on the synchronous path multiplies in; group the ones always called together.")
    if p99 > DEPLOYMENT_TARGET["p99_ms"]:
        problems.append(f"p99 {p99:.1f} ms > {DEPLOYMENT_TARGET['p99_ms']:.0f} ms: hint: fewer remote hops on the path.")
    return report(title, problems, f"{count} units, availability {availability:.4%}, p99 {p99:.1f} ms.")


def check_coupling_degree(coupling_degree: object) -> bool:
    """Exercise 4: ``coupling_degree(commits, a, b)`` = both / either (0 when neither changed)."""
    title = "Exercise 4 (change coupling)"
    if not_ready(title, coupling_degree, expect=callable):
        return False
    history = synthetic_history(["orders", "payments", "inventory", "shipping"], [("orders", "payments")],
                                commits=120, tangle_probability=0.8, rng=random.Random(12))
    expected = {(p.a, p.b): p.coupling for p in change_coupling(history)}
    for a, b in [("orders", "payments"), ("inventory", "shipping"), ("orders", "shipping")]:
        got, error = call_safely(coupling_degree, history, a, b)
        if error:
            return report(title, [error])
        want = expected.get((min(a, b), max(a, b)), 0.0)
        if not isinstance(got, (int, float)) or abs(got - want) > 1e-9:
            return report(title, [f"{a}/{b}: you said {got!r}, expected {want:.4f}.",
                                  "hint: count commits touching both, divide by commits touching at least one."])
    got, error = call_safely(coupling_degree, [], "x", "y")
    if error or got != 0:
        return report(title, [error or f"an empty history should give 0, got {got!r}."])
    return report(title, [], "orders and payments change together most of the time: one deployable in disguise.")
