"""Seeded Monte-Carlo runs of a ``System``, and the running example of the book: a shop.

``simulate`` draws, for each request, which units are up, which network hops fail and how long
every piece of work and every hop takes, exactly as ``topology`` describes. Its estimates converge
to ``exact_availability`` and ``exact_latency`` (the tests check this), so the simulation is a
second, independent derivation of the same numbers, and a sandbox for changes the exact formulas
do not cover.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from patterns._validate import require_instance, require_int, require_probability
from patterns.architecture.latency import Latency
from patterns.architecture.topology import (
    DATACENTER,
    IN_PROCESS,
    Call,
    Component,
    Network,
    System,
    units_touched,
)
from patterns.stats import percentile

__all__ = ["SimulationResult", "simulate", "chain", "shop", "SHOP_COMPONENTS", "fanout_slow_probability"]


@dataclass(frozen=True)
class SimulationResult:
    """What ``requests`` simulated requests saw: successes and the latency of each success (ms)."""

    requests: int
    successes: int
    latencies_ms: tuple[float, ...]

    @property
    def availability(self) -> float:
        return self.successes / self.requests

    def latency_percentile(self, q: float) -> float:
        """Nearest-rank latency percentile over successful requests (ms); ``q`` is a fraction in (0, 1]."""
        return percentile(self.latencies_ms, 100 * require_probability(q, "q", allow_zero=False))

    def tolerance(self, sigmas: float = 5.0) -> float:
        """``sigmas`` binomial standard errors of the availability estimate (plus 1/requests)."""
        p = self.availability
        return sigmas * math.sqrt(max(p * (1 - p), 1 / self.requests) / self.requests) + 1 / self.requests


def simulate(system: System, entry: str, network: Network = DATACENTER, *, requests: int = 10_000,
             rng: random.Random, in_process: Network = IN_PROCESS) -> SimulationResult:
    """Run ``requests`` independent requests to ``entry``; deterministic for a seeded ``rng``."""
    requests = require_int(requests, "requests", minimum=1, maximum=MAX_REQUESTS)
    require_instance(rng, "rng", random.Random)
    require_instance(system, "system", System)
    require_instance(network, "network", Network)
    require_instance(in_process, "in_process", Network)
    system.check_entry(entry)
    touched = [system.unit_availability[unit] for unit in sorted(units_touched(system, entry))]
    plan = _plan(system, network, in_process)
    successes, latencies = 0, []
    for _ in range(requests):
        up = all(rng.random() < availability for availability in touched)
        ok, elapsed = _run(plan, entry, rng)
        if up and ok:
            successes += 1
            latencies.append(round(elapsed, 6))
    return SimulationResult(requests, successes, tuple(latencies))


_Plan = dict[str, tuple[Latency, list[list[tuple[str, Network]]]]]


def _plan(system: System, network: Network, in_process: Network) -> _Plan:
    """For each component: its work and its synchronous calls grouped by step, with the link each uses."""
    plan: _Plan = {}
    for name, component in system.components.items():
        calls = system.sync_calls(name)
        steps = [[(c.callee, network if system.is_remote(c) else in_process) for c in calls if c.step == step]
                 for step in sorted({c.step for c in calls})]
        plan[name] = (component.work, steps)
    return plan


def _run(plan: _Plan, name: str, rng: random.Random) -> tuple[bool, float]:
    """One handling of ``name``: (no hop failed, elapsed ms)."""
    ok = True
    work, steps = plan[name]
    elapsed = work.sample(rng)
    for legs in steps:
        slowest = 0.0
        for callee, link in legs:
            if rng.random() < link.failure_probability:
                ok = False
            leg_ok, leg = _run(plan, callee, rng)
            ok = ok and leg_ok
            slowest = max(slowest, leg + link.hop.sample(rng) + link.serialization_ms)
        elapsed += slowest
    return ok, elapsed


#: Longest chain ``chain`` builds: a request path of 100 000 services is already far beyond any real one.
MAX_SERVICES = 100_000
#: Most requests one ``simulate`` call runs: 10 million already takes minutes in pure Python.
MAX_REQUESTS = 10_000_000

SHOP_COMPONENTS = ("gateway", "orders", "customers", "catalog", "inventory", "payments", "shipping",
                   "notifications")


def shop(*, notifications_async: bool = False, parallel_checks: bool = False,
         availability: float = 0.999) -> System:
    """The book's running example: placing an order, deployed one service per component.

    gateway -> orders; orders asks customers, catalog and inventory, then charges payments, then books
    shipping, then tells notifications. ``parallel_checks`` runs the three lookups concurrently;
    ``notifications_async`` turns the last call into an event.
    """
    work = {"gateway": Latency.lognormal(0.3, 1.5), "orders": Latency.lognormal(2.0, 8.0),
            "customers": Latency.lognormal(1.0, 5.0), "catalog": Latency.lognormal(1.0, 6.0),
            "inventory": Latency.lognormal(1.5, 8.0), "payments": Latency.lognormal(4.0, 25.0),
            "shipping": Latency.lognormal(2.0, 10.0), "notifications": Latency.lognormal(1.0, 6.0)}
    components = [Component(name, work[name], availability) for name in SHOP_COMPONENTS]
    lookups = ("customers", "catalog", "inventory")
    calls = [Call("gateway", "orders")]
    calls += [Call("orders", callee, 0 if parallel_checks else i) for i, callee in enumerate(lookups)]
    calls += [Call("orders", "payments", 3), Call("orders", "shipping", 4),
              Call("orders", "notifications", 5, asynchronous=notifications_async)]
    calls += [Call("payments", "customers")]
    return System(components, calls)


def chain(n: int, *, availability: float = 0.999, work: Latency | None = None) -> System:
    """``n`` services where s0 calls s1 calls ... s{n-1}: the simplest serial request path."""
    n = require_int(n, "n", minimum=1, maximum=MAX_SERVICES)
    body = work if work is not None else Latency.lognormal(1.0, 5.0)
    components = [Component(f"s{i}", body, availability) for i in range(n)]
    return System(components, [Call(f"s{i}", f"s{i + 1}") for i in range(n - 1)])


def fanout_slow_probability(n: int, quantile: float = 0.99) -> float:
    """P(a request fanning out to ``n`` independent calls waits for at least one beyond ``quantile``).

    Each call is slower than its own p99 with probability 0.01; the request waits for the slowest,
    so it is slow with probability 1 - 0.99**n: at n = 100, about 63% of requests.
    """
    n = require_int(n, "n", minimum=1)
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    return 1.0 - quantile ** n
