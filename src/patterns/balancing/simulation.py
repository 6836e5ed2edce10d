"""A SimPy model of a fleet behind one load balancer, for chapter 13 and its lab.

``simulate_fleet(policy, FleetConfig(...), seed)`` sends ``requests`` Poisson arrivals through a
``Pool`` with ``policy`` to ``servers`` servers. Each server works on ``workers`` requests at once
(a FIFO queue beyond that); a request's service time is exponential with mean ``service_time``
times the server's ``slowdown`` factor. The offered load is ``utilisation`` times the fleet's
total capacity, so ``utilisation=0.7`` keeps the fleet as a whole 70% busy whatever the slow
servers are: whether each *server* stays below 100% is the policy's business.

Options, each switching on one experiment of the chapter:

* ``failing``: servers that fail fast (every request answered with an error in ``error_time``)
  during an ``Outage``; ``eject_after`` turns on passive outlier ejection and
  ``health_interval`` active health checks (``health_fall`` failed probes mark a server down).
* ``keys`` + ``cache_size``: requests carry Zipf-popular keys and each server keeps an LRU cache
  of ``cache_size`` keys; a hit costs ``hit_cost`` times the normal service time. This is where
  consistent hashing earns its keep, and where its hot keys hurt.
* ``connections`` + ``layer``: requests ride on long-lived client connections with Zipf-skewed
  traffic shares. ``"L4"`` balances *connections* (each is assigned once, when it opens: a TCP
  proxy cannot see the requests inside); ``"L7"`` balances every request.
* ``report_every``: the policy sees load reports this many seconds old instead of live counts.
* ``occupancy`` (always measured): the fraction of server-time spent with at least ``i`` requests
  at the server (queued or in service), counted after ``warmup`` seconds. With identical servers it
  is the quantity the supermarket model predicts (``supermarket_tail``).

Everything is seeded: one seed, one result. Time is SimPy's simulated time, in seconds.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from patterns._validate import (
    require_instance,
    require_int,
    require_mapping,
    require_number,
    require_one_of,
    require_probability,
    require_seconds,
)
from patterns.balancing.health import HealthChecker, OutlierDetector
from patterns.balancing.policies import Policy
from patterns.balancing.pool import NoBackendAvailable, Pool
from patterns.caching.workload import ZipfWorkload
from patterns.faults import Outage
from patterns.stats import percentile

__all__ = ["FleetConfig", "FleetRun", "SimClock", "simulate_fleet", "MAX_REQUESTS"]

#: The most requests one run may simulate (about 30 microseconds each).
MAX_REQUESTS = 500_000


class SimClock:
    """A ``Clock`` reading SimPy's simulated time (``sleep`` is not possible inside a simulation)."""

    def __init__(self, env: simpy.Environment) -> None:
        self._env = require_instance(env, "env", simpy.Environment)

    def now(self) -> float:
        return float(self._env.now)

    def sleep(self, seconds: float) -> None:
        raise RuntimeError("a SimClock cannot sleep: yield env.timeout(seconds) inside the simulation")


@dataclass(frozen=True)
class FleetConfig:
    """The fleet, its traffic and the experiment's options (see the module docstring)."""

    servers: int = 10
    service_time: float = 0.010
    slowdown: Mapping[int, float] = field(default_factory=dict)
    weights: Mapping[int, float] = field(default_factory=dict)
    workers: int = 1
    utilisation: float = 0.7
    requests: int = 10_000
    failing: Mapping[int, Outage] = field(default_factory=dict)
    error_time: float = 0.001
    eject_after: int | None = None
    ejection_time: float = 30.0
    health_interval: float | None = None
    health_fall: int = 3
    keys: int = 0
    key_skew: float = 1.0
    cache_size: int = 0
    hit_cost: float = 0.2
    connections: int = 0
    connection_skew: float = 1.0
    layer: str = "L7"
    report_every: float = 0.0
    warmup: float = 0.0

    def __post_init__(self) -> None:
        n = require_int(self.servers, "servers", minimum=1, maximum=1_000)
        require_seconds(self.service_time, "service_time", maximum=3_600.0)
        for index, factor in require_mapping(self.slowdown, "slowdown").items():
            require_int(index, "slowdown server index", minimum=0, maximum=n - 1)
            require_number(factor, f"slowdown[{index}]", minimum=0.0, maximum=1_000.0, strict_min=True)
        for index, weight in require_mapping(self.weights, "weights").items():
            require_int(index, "weights server index", minimum=0, maximum=n - 1)
            require_number(weight, f"weights[{index}]", minimum=0.0, maximum=1_000_000.0, strict_min=True)
        require_int(self.workers, "workers", minimum=1, maximum=10_000)
        require_number(self.utilisation, "utilisation", minimum=0.0, maximum=2.0, strict_min=True)
        require_int(self.requests, "requests", minimum=1, maximum=MAX_REQUESTS)
        for index, outage in require_mapping(self.failing, "failing").items():
            require_int(index, "failing server index", minimum=0, maximum=n - 1)
            require_instance(outage, f"failing[{index}]", Outage)
        require_seconds(self.error_time, "error_time", maximum=3_600.0)
        if self.eject_after is not None:
            require_int(self.eject_after, "eject_after", minimum=1, maximum=100_000)
        require_seconds(self.ejection_time, "ejection_time", maximum=86_400.0)
        if self.health_interval is not None:
            require_seconds(self.health_interval, "health_interval", maximum=3_600.0)
        require_int(self.health_fall, "health_fall", minimum=1, maximum=1_000)
        require_int(self.keys, "keys", minimum=0, maximum=1_000_000)
        require_number(self.key_skew, "key_skew", minimum=0.0, maximum=10.0)
        require_int(self.cache_size, "cache_size", minimum=0, maximum=1_000_000)
        if self.cache_size and not self.keys:
            raise ValueError("cache_size needs keys > 0: a cache needs keyed requests")
        require_probability(self.hit_cost, "hit_cost")
        require_int(self.connections, "connections", minimum=0, maximum=100_000)
        require_number(self.connection_skew, "connection_skew", minimum=0.0, maximum=10.0)
        require_one_of(self.layer, "layer", ("L4", "L7"))
        require_seconds(self.report_every, "report_every", positive=False, maximum=3_600.0)
        require_seconds(self.warmup, "warmup", positive=False, maximum=86_400.0)

    def factor(self, server: int) -> float:
        return float(self.slowdown.get(server, 1.0))

    @property
    def capacity(self) -> float:
        """Requests per second the whole fleet can serve (without cache hits)."""
        return sum(self.workers / (self.service_time * self.factor(i)) for i in range(self.servers))

    @property
    def arrival_rate(self) -> float:
        return self.utilisation * self.capacity


@dataclass(frozen=True)
class FleetRun:
    """What one run measured."""

    policy: str
    latencies: np.ndarray  # seconds, of every successful request, in completion order
    errors: int
    served: tuple[int, ...]  # requests each server received (successes and errors)
    peak_in_flight: tuple[int, ...]  # the most requests each server held at once
    hits: int
    duration: float
    error_times: tuple[float, ...] = ()
    ejections: tuple[tuple[float, str], ...] = ()
    refused: int = 0  # requests with no eligible backend
    occupancy: tuple[float, ...] = ()  # [i]: share of server-time with >= i requests (after warmup)

    def p(self, q: float) -> float:
        """The nearest-rank ``q``-th percentile latency of the successful requests (seconds)."""
        return percentile(self.latencies.tolist(), q, empty=math.nan)

    @property
    def p50(self) -> float:
        return self.p(50)

    @property
    def p99(self) -> float:
        return self.p(99)

    @property
    def p999(self) -> float:
        return self.p(99.9)

    @property
    def hit_ratio(self) -> float:
        return self.hits / len(self.latencies) if len(self.latencies) else 0.0

    @property
    def shares(self) -> tuple[float, ...]:
        total = sum(self.served) or 1
        return tuple(s / total for s in self.served)


def simulate_fleet(policy: Policy, config: FleetConfig | None = None, seed: int = 1) -> FleetRun:
    """Run ``config.requests`` requests through a fresh ``Pool(policy)``; see the module docstring.

    Pass a fresh policy object per run: policies keep state (a counter, an rng).
    """
    config = require_instance(config, "config", FleetConfig) if config is not None else FleetConfig()
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must have name and choose(backends, key), got {type(policy).__name__}")
    seed = require_int(seed, "seed", minimum=0, maximum=2**63 - 1)
    rng = random.Random(seed)
    env = simpy.Environment()
    clock = SimClock(env)
    names = [f"s{i}" for i in range(config.servers)]
    index = {name: i for i, name in enumerate(names)}
    failing = dict(config.failing)

    def probe(name: str) -> bool:
        outage = failing.get(index[name])
        return not (outage is not None and outage.covers(env.now))

    health = None
    if config.health_interval is not None:
        health = HealthChecker(probe, interval=config.health_interval, fall=config.health_fall, clock=clock)
    outlier = None
    if config.eject_after is not None:
        outlier = OutlierDetector(consecutive_errors=config.eject_after, base_ejection=config.ejection_time,
                                  max_ejection=max(300.0, config.ejection_time), clock=clock)
    weights = {name: float(config.weights.get(i, 1.0)) for i, name in enumerate(names)}
    pool = Pool(weights, policy, health=health, outlier=outlier, report_every=config.report_every, clock=clock)
    servers = [simpy.Resource(env, capacity=config.workers) for _ in names]
    caches: list[OrderedDict[str, None]] = [OrderedDict() for _ in names]
    keys = ZipfWorkload(config.keys, config.key_skew, seed=seed).sample(config.requests, rng) if config.keys else []
    conn_of: list[int] = []
    assigned: dict[int, str] = {}
    if config.connections:
        conns = ZipfWorkload(config.connections, config.connection_skew, seed=seed)
        conn_of = [int(k.split(":")[1]) - 1 for k in conns.sample(config.requests, rng)]
        if config.layer == "L4":  # a TCP proxy balances connections, once, as they open
            for c in range(config.connections):
                assigned[c] = pool.send()

    latencies: list[float] = []
    error_times: list[float] = []
    level_time: list[list[float]] = [[0.0] for _ in names]  # [s][k]: time s held exactly k requests
    changed_at = [config.warmup] * config.servers
    served = [0] * config.servers
    in_flight = [0] * config.servers
    peak = [0] * config.servers
    counters = {"hits": 0, "done": 0, "refused": 0}
    done = env.event()
    mean_gap = 1.0 / config.arrival_rate

    def account(s: int) -> None:
        """Credit the time since server s last changed to its current level (after the warm-up)."""
        now = env.now
        if now > config.warmup:
            level = in_flight[s]
            row = level_time[s]
            while len(row) <= level:
                row.append(0.0)
            row[level] += now - max(changed_at[s], config.warmup)
        changed_at[s] = now

    def finish_one() -> None:
        counters["done"] += 1
        if counters["done"] == config.requests:
            done.succeed()

    def request(i: int, start: float) -> Generator[Any, Any, None]:
        key = keys[i] if keys else None
        if assigned:
            name = assigned[conn_of[i]]
            pool.start(name)
        else:
            try:
                name = pool.send(key)
            except NoBackendAvailable:
                counters["refused"] += 1
                finish_one()
                return
        s = index[name]
        served[s] += 1
        account(s)
        in_flight[s] += 1
        peak[s] = max(peak[s], in_flight[s])
        outage = failing.get(s)
        if outage is not None and outage.covers(env.now):
            yield env.timeout(config.error_time)
            account(s)
            in_flight[s] -= 1
            error_times.append(env.now)
            pool.finish(name, ok=False)
            finish_one()
            return
        with servers[s].request() as slot:
            yield slot
            cost = 1.0
            if config.cache_size and key is not None:
                cache = caches[s]
                if key in cache:
                    cache.move_to_end(key)
                    cost = config.hit_cost
                    counters["hits"] += 1
                else:
                    cache[key] = None
                    if len(cache) > config.cache_size:
                        cache.popitem(last=False)
            yield env.timeout(rng.expovariate(1.0 / (config.service_time * config.factor(s) * cost)))
        account(s)
        in_flight[s] -= 1
        latencies.append(env.now - start)
        pool.finish(name, ok=True)
        finish_one()

    def source() -> Generator[Any, Any, None]:
        for i in range(config.requests):
            yield env.timeout(rng.expovariate(1.0) * mean_gap)
            env.process(request(i, env.now))

    def checker() -> Generator[Any, Any, None]:
        assert health is not None and config.health_interval is not None
        while not done.triggered:
            health.run_due()
            yield env.timeout(config.health_interval)

    env.process(source())
    if health is not None:
        env.process(checker())
    env.run(until=done)
    for s in range(config.servers):
        account(s)
    return FleetRun(
        policy=policy.name,
        latencies=np.array(latencies),
        errors=len(error_times),
        served=tuple(served),
        peak_in_flight=tuple(peak),
        hits=counters["hits"],
        duration=float(env.now),
        error_times=tuple(error_times),
        ejections=tuple(outlier.ejection_log) if outlier is not None else (),
        refused=counters["refused"],
        occupancy=_occupancy(level_time),
    )


def _occupancy(level_time: list[list[float]]) -> tuple[float, ...]:
    """From per-server time at each level, the share of server-time at level >= i, for every i."""
    depth = max(len(row) for row in level_time)
    totals = [sum(row[k] for row in level_time if k < len(row)) for k in range(depth)]
    whole = sum(totals)
    if whole <= 0:
        return ()
    tail, out = whole, []
    for k in range(depth):
        out.append(tail / whole)
        tail -= totals[k]
    return tuple(out)
