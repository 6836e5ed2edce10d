"""Simulations for synchronous and asynchronous communication (chapter 03).

Two models, both seeded so that a chapter and its lab print the same numbers on every machine:

* ``simulate_chain`` / ``simulate_fanout``: Monte Carlo of synchronous calls. A request walks a
  chain of ``depth`` services (each calls the next and waits), or fans out to ``width`` services
  in parallel and waits for the slowest. Per-hop timeouts and retries are optional. The point is
  *latency amplification*: the tail of one service becomes the common case of the whole request.
* ``simulate_queue``: a SimPy discrete-event model of a work queue with ``workers`` consumers,
  Poisson arrivals (constant or piecewise-constant rate) and exponential service times. With one
  worker and a constant rate it is the M/M/1 queue, so measured waits can be compared with
  ``mm1`` (W = 1/(mu - lambda)) and with Little's law (L = lambda * W).
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from patterns._validate import (
    require_instance,
    require_int,
    require_number,
    require_optional_seconds,
    require_probability,
    require_seconds,
    require_sequence,
)
from patterns.stats import Estimate

__all__ = [
    "LatencyModel",
    "ChainStats",
    "simulate_chain",
    "simulate_fanout",
    "p_any_slow",
    "MM1",
    "mm1",
    "QueueStats",
    "simulate_queue",
    "mean_time_in_system",
    "MAX_WORK",
]


#: The most calls, arrivals or requests one run may simulate: a bigger run does not fail, it hangs
#: the notebook for minutes. Ask for fewer requests or a shorter duration.
MAX_WORK = 2_000_000
#: Deepest chain (each hop is a nested Python call) and widest fan-out.
MAX_DEPTH = 100
MAX_WIDTH = 10_000
#: Largest lognormal spread: exp(10 standard deviations of 10) is already 1e43 times the median.
MAX_SIGMA = 10.0
#: Largest rate in jobs per second.
MAX_RATE = 1e9


def _rate(value: object, name: str, *, allow_zero: bool = False) -> float:
    return require_number(value, name, minimum=0.0, maximum=MAX_RATE, strict_min=not allow_zero)


def _bounded_work(work: float, what: str) -> None:
    if work > MAX_WORK:
        raise ValueError(
            f"this run could simulate up to {work:.3g} {what}, more than {MAX_WORK:,}: "
            "use fewer requests, a shorter duration or fewer retries"
        )


# --------------------------------------------------------------------------------------------
# Synchronous calls: chains and fan-out
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyModel:
    """The latency of one call to one service, in seconds.

    Usually lognormal around ``median`` (spread ``sigma``); with probability ``slow_probability``
    the call hits a slow path (a GC pause, a cold cache, a lock) and takes ``slow_latency`` more.
    """

    median: float = 0.010
    sigma: float = 0.25
    slow_probability: float = 0.01
    slow_latency: float = 0.300

    def __post_init__(self) -> None:
        require_seconds(self.median, "median")
        require_number(self.sigma, "sigma", minimum=0.0, maximum=MAX_SIGMA)
        require_probability(self.slow_probability, "slow_probability")
        require_seconds(self.slow_latency, "slow_latency", positive=False)

    def sample(self, rng: random.Random) -> float:
        """One call's latency, drawn from ``rng`` (always two draws, so streams stay aligned)."""
        require_instance(rng, "rng", random.Random, what="a random.Random")
        base = self.median * math.exp(rng.gauss(0.0, self.sigma))
        slow = rng.random() < self.slow_probability
        return base + (self.slow_latency if slow else 0.0)


@dataclass
class ChainStats:
    """What the caller of the first service saw for each request, and the work done below it."""

    latencies: np.ndarray  # seconds the caller waited, per request
    ok: np.ndarray  # bool per request: True if it got an answer in time
    calls_per_level: list[int] = field(default_factory=list)  # calls each service received

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def failure_rate(self) -> float:
        return float(1.0 - self.ok.mean()) if self.requests else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile ``q`` in [0, 100] over all requests (failed ones count their wait).

        Interpolated between samples (numpy's default), unlike the nearest-rank
        ``patterns.stats.percentile``: for thousands of samples the two differ by less than the
        spacing of neighbouring samples.
        """
        q = require_number(q, "q", minimum=0.0, maximum=100.0)
        if not self.requests:
            raise ValueError("percentile of an empty run: simulate at least one request")
        return float(np.percentile(self.latencies, q))


def simulate_chain(
    depth: int,
    requests: int,
    model: LatencyModel | None = None,
    *,
    seed: int = 0,
    timeout: float | Sequence[float | None] | None = None,
    retries: int | Sequence[int] = 0,
) -> ChainStats:
    """Send ``requests`` through a chain A -> B -> ... of ``depth`` services, each waiting on the next.

    Each service does its own work (one ``model`` sample) and then calls the next one. A caller
    gives up on a call after ``timeout`` seconds (the callee keeps working: its calls are still
    counted) and tries again up to ``retries`` times. Both may be one value for every hop or a
    sequence of ``depth`` values, entry ``i`` applying to calls *into* service ``i`` (entry 0 is
    the client's). ``calls_per_level[i]`` counts the calls service ``i`` received: with retries at
    every hop it grows geometrically with depth (retry amplification).
    """
    depth = require_int(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    requests = require_int(requests, "requests", maximum=MAX_WORK)
    timeouts = [require_optional_seconds(t, "timeout") for t in _per_level(timeout, depth, "timeout")]
    tries = [require_int(r, "retries", maximum=100) + 1 for r in _per_level(retries, depth, "retries")]
    # worst case: every call times out, so level i receives tries[0] * ... * tries[i] calls
    worst, calls_into_level = 0, 1
    for level in range(depth):
        calls_into_level *= tries[level]
        worst += calls_into_level
    _bounded_work(requests * worst, "calls")
    model = LatencyModel() if model is None else require_instance(model, "model", LatencyModel)
    rng = random.Random(require_int(seed, "seed", minimum=None, maximum=None))
    calls = [0] * depth

    def serve(level: int) -> tuple[float, bool]:
        own = model.sample(rng)
        if level + 1 == depth:
            return own, True
        waited, ok = invoke(level + 1)
        return own + waited, ok

    def invoke(level: int) -> tuple[float, bool]:
        elapsed, limit = 0.0, timeouts[level]
        for _ in range(tries[level]):
            calls[level] += 1
            took, ok = serve(level)
            if limit is not None and took > limit:
                elapsed, ok = elapsed + limit, False
            else:
                elapsed += took
            if ok:
                return elapsed, True
        return elapsed, False

    lat = np.empty(requests)
    good = np.empty(requests, dtype=bool)
    for i in range(requests):
        lat[i], good[i] = invoke(0)
    return ChainStats(lat, good, calls)


def _per_level(value: object, depth: int, name: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) != depth:
            raise ValueError(f"{name} must be one value or a sequence of depth={depth} values, "
                             f"got {len(value)} values")
        return list(value)
    return [value] * depth


def simulate_fanout(
    width: int,
    requests: int,
    model: LatencyModel | None = None,
    *,
    seed: int = 0,
    timeout: float | None = None,
) -> ChainStats:
    """Each request calls ``width`` services in parallel and waits for all (scatter-gather).

    The request takes as long as its slowest call; with a ``timeout`` it fails if any call is late,
    and then it has waited exactly ``timeout``.
    """
    width = require_int(width, "width", minimum=1, maximum=MAX_WIDTH)
    requests = require_int(requests, "requests", maximum=MAX_WORK)
    _bounded_work(requests * width, "calls")
    timeout = require_optional_seconds(timeout, "timeout")
    model = LatencyModel() if model is None else require_instance(model, "model", LatencyModel)
    rng = random.Random(require_int(seed, "seed", minimum=None, maximum=None))
    lat = np.empty(requests)
    good = np.empty(requests, dtype=bool)
    for i in range(requests):
        slowest = max(model.sample(rng) for _ in range(width))
        late = timeout is not None and slowest > timeout
        lat[i], good[i] = (timeout if late else slowest), not late
    return ChainStats(lat, good, [requests * width])


def p_any_slow(p: float, n: int) -> float:
    """Probability that at least one of ``n`` independent calls is slow when each is slow with ``p``."""
    p = require_probability(p, "p")
    n = require_int(n, "n")
    return 1.0 - (1.0 - p) ** n


# --------------------------------------------------------------------------------------------
# Asynchronous: a queue in front of workers (SimPy)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MM1:
    """Steady-state M/M/1 figures: utilisation, time in system/queue, number in system/queue."""

    rho: float
    W: float
    Wq: float
    L: float
    Lq: float


def mm1(arrival_rate: float, service_rate: float) -> MM1:
    """Textbook M/M/1 results; defined only when the queue is stable (lambda < mu)."""
    lam = _rate(arrival_rate, "arrival_rate")
    mu = _rate(service_rate, "service_rate")
    if lam >= mu:
        raise ValueError(
            f"arrival_rate must be < service_rate for a stable queue, got {lam} >= {mu}"
        )
    rho = lam / mu
    w = 1.0 / (mu - lam)
    return MM1(rho=rho, W=w, Wq=rho * w, L=lam * w, Lq=lam * rho * w)


@dataclass
class QueueStats:
    """Measurements from ``simulate_queue`` (jobs that arrived during the measured window)."""

    arrived: int
    rejected: int
    completed: int
    waits: np.ndarray  # time in queue of each completed job
    sojourns: np.ndarray  # time in system (queue + service) of each completed job
    mean_in_system: float  # time-average number of jobs in the system (L)
    trace_t: np.ndarray  # times at which the number in system changed
    trace_n: np.ndarray  # number in system from that time on
    window: float  # length of the measured window (seconds)

    @property
    def arrival_rate(self) -> float:
        """Measured rate of accepted arrivals (lambda) over the window."""
        return (self.arrived - self.rejected) / self.window

    @property
    def mean_wait(self) -> float:
        return float(self.waits.mean()) if self.completed else 0.0

    @property
    def mean_sojourn(self) -> float:
        return float(self.sojourns.mean()) if self.completed else 0.0


def _segments(arrivals: float | Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    if isinstance(arrivals, (int, float)) and not isinstance(arrivals, bool):
        return [(0.0, _rate(arrivals, "arrivals"))]
    if not isinstance(arrivals, (list, tuple)) or not arrivals:
        raise TypeError("arrivals must be a rate or a non-empty sequence of (start_time, rate) steps")
    steps = []
    for step in require_sequence(arrivals, "arrivals", max_length=10_000):
        if not isinstance(step, (list, tuple)) or len(step) != 2:
            raise TypeError(f"each arrivals step must be a (start_time, rate) pair, got {step!r}")
        steps.append((require_seconds(step[0], "step start", positive=False),
                      _rate(step[1], "step rate", allow_zero=True)))
    if steps[0][0] != 0.0 or any(b[0] <= a[0] for a, b in zip(steps, steps[1:], strict=False)):
        raise ValueError("arrivals steps must start at time 0 and have increasing start times")
    return steps


def simulate_queue(
    arrivals: float | Sequence[tuple[float, float]],
    service_rate: float,
    *,
    duration: float,
    workers: int = 1,
    capacity: int | None = None,
    warmup: float = 0.0,
    seed: int = 0,
) -> QueueStats:
    """Simulate a queue with ``workers`` consumers for ``duration`` seconds.

    ``arrivals`` is a Poisson rate (jobs/s) or piecewise-constant steps ``[(t0=0, r0), (t1, r1), ...]``
    (a spike). Service times are exponential with mean ``1/service_rate`` per worker. ``capacity``
    bounds the jobs *waiting* (not in service); an arrival that finds it full is rejected, so
    ``capacity=0`` models a synchronous service with no buffer. Jobs arriving before ``warmup`` are
    simulated but not measured. Jobs still waiting at ``duration`` are not counted as completed.
    """
    steps = _segments(arrivals)
    mu = _rate(service_rate, "service_rate")
    duration = require_seconds(duration, "duration")
    workers = require_int(workers, "workers", minimum=1, maximum=MAX_WIDTH)
    warmup = require_seconds(warmup, "warmup", positive=False)
    if warmup >= duration:
        raise ValueError(f"warmup must be < duration ({duration}), got {warmup}")
    if capacity is not None:
        capacity = require_int(capacity, "capacity")
    ends = [start for start, _ in steps[1:]] + [duration]
    _bounded_work(sum(rate * max(0.0, min(end, duration) - start)
                      for (start, rate), end in zip(steps, ends, strict=True)), "arrivals (expected)")

    rng = random.Random(require_int(seed, "seed", minimum=None, maximum=None))
    env = simpy.Environment()
    pool = simpy.Resource(env, capacity=workers)
    counts = {"arrived": 0, "rejected": 0}
    waits: list[float] = []
    sojourns: list[float] = []
    trace_t: list[float] = [0.0]
    trace_n: list[int] = [0]

    def change(delta: int) -> None:
        trace_t.append(env.now)
        trace_n.append(trace_n[-1] + delta)

    def job(arrived_at: float) -> Generator[simpy.events.Event, Any, None]:
        with pool.request() as slot:
            yield slot
            started = env.now
            yield env.timeout(rng.expovariate(mu))
        change(-1)
        if arrived_at >= warmup:
            waits.append(started - arrived_at)
            sojourns.append(env.now - arrived_at)

    def source() -> Generator[simpy.events.Event, Any, None]:
        for i, (start, rate) in enumerate(steps):
            end = steps[i + 1][0] if i + 1 < len(steps) else duration
            if env.now < start:
                yield env.timeout(start - env.now)
            while rate > 0:
                gap = rng.expovariate(rate)
                if env.now + gap >= min(end, duration):
                    break  # memoryless: the next step starts afresh at its boundary
                yield env.timeout(gap)
                measured = env.now >= warmup
                counts["arrived"] += measured
                if capacity is not None and len(pool.queue) >= capacity and pool.count >= workers:
                    counts["rejected"] += measured
                    continue
                change(+1)
                env.process(job(env.now))
            if end >= duration:
                return

    env.process(source())
    env.run(until=duration)

    t = np.array(trace_t)
    n = np.array(trace_n)
    # time-average of n(t) over [warmup, duration]
    edges = np.clip(np.append(t, duration), warmup, duration)
    mean_in_system = float(np.sum(n * np.diff(edges)) / (duration - warmup))
    return QueueStats(
        arrived=counts["arrived"],
        rejected=counts["rejected"],
        completed=len(sojourns),
        waits=np.array(waits),
        sojourns=np.array(sojourns),
        mean_in_system=mean_in_system,
        trace_t=t,
        trace_n=n,
        window=duration - warmup,
    )


def mean_time_in_system(
    arrival_rate: float,
    service_rate: float,
    *,
    duration: float,
    warmup: float,
    seeds: Sequence[int],
    workers: int = 1,
) -> Estimate:
    """The mean time in system over independent runs of ``simulate_queue``, one per seed, with a
    95% confidence interval. Each run starts empty and discards the jobs that arrive during its
    ``warmup``; the spread across seeds, not one run, says how far the estimate may be from the truth.
    """
    runs = [require_int(s, "seeds[]", minimum=None, maximum=None)
            for s in require_sequence(list(seeds) if isinstance(seeds, range) else seeds, "seeds",
                                      min_length=2, max_length=1_000)]
    _bounded_work(len(runs) * _rate(arrival_rate, "arrival_rate") * require_seconds(duration, "duration"),
                  "arrivals (expected)")
    return Estimate.of(
        simulate_queue(arrival_rate, service_rate, duration=duration, warmup=warmup, workers=workers,
                       seed=seed).mean_sojourn
        for seed in runs
    )
