"""Simulations for chapter 06 (resilience), shared by the chapter and its lab.

Three small worlds, each deterministic for a given seed:

* ``FlakyPaymentService`` plus ``drive``: a payment API whose failure rate follows a schedule in
  simulated time, and a load generator that records what a circuit breaker decided for every call.
* ``occ_contention`` / ``backoff_study``: the optimistic-concurrency contention experiment from
  Marc Brooker's "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015), rebuilt as a small
  event-driven simulation: N clients each want one write to one row; a write carrying a stale
  version fails and the client backs off, re-reads and tries again.
* ``simulate_server``: a SimPy model of a thread-per-request server (200 threads) whose payment
  endpoint depends on a service that turns slow, with or without a semaphore bulkhead.

Nothing here is part of the pattern API (``patterns.resilience``); breakers are passed in and used
only through ``call`` and ``state``.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import simpy

from patterns.clock import Clock, ManualClock
from patterns.errors import CircuitOpen
from patterns.resilience.retry import Backoff, Retry

__all__ = [
    "PaymentUnavailable",
    "Outage",
    "FlakyPaymentService",
    "Sample",
    "drive",
    "outcome_counts",
    "payment_scenario",
    "ServiceUnavailable",
    "call_chain",
    "amplified_calls",
    "JITTER_KINDS",
    "occ_contention",
    "ContentionResult",
    "backoff_study",
    "ServerConfig",
    "ServerRun",
    "simulate_server",
]


# --------------------------------------------------------------------------------------------
# 1. A flaky payment service and a load generator
# --------------------------------------------------------------------------------------------


def _check_rate(value: float, name: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")


class PaymentUnavailable(ConnectionError):
    """The simulated payment service failed this call (a 503 or a reset connection)."""


@dataclass(frozen=True)
class Outage:
    """Between ``start`` and ``end`` (simulated seconds) calls fail with ``failure_rate``."""

    start: float
    end: float
    failure_rate: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"outage needs 0 <= start < end, got start={self.start}, end={self.end}")
        _check_rate(self.failure_rate, "failure_rate")


class FlakyPaymentService:
    """A payment API that fails at ``base_failure_rate``, and at an outage's rate during it.

    Time comes from the injected clock and randomness from ``rng``, so a run is reproducible.
    Every call that reaches the service is logged in ``calls`` as ``(time, succeeded)``: that log
    is what a circuit breaker is meant to shrink while the service is down.
    """

    def __init__(
        self, clock: Clock, rng: random.Random, *, base_failure_rate: float = 0.02,
        outages: Sequence[Outage] = (),
    ) -> None:
        _check_rate(base_failure_rate, "base_failure_rate")
        self.clock, self.rng = clock, rng
        self.base_failure_rate = base_failure_rate
        self.outages = tuple(outages)
        self.calls: list[tuple[float, bool]] = []

    def failure_rate_at(self, t: float) -> float:
        for outage in self.outages:
            if outage.start <= t < outage.end:
                return outage.failure_rate
        return self.base_failure_rate

    def charge(self, amount: float = 10.0) -> str:
        """Charge ``amount``; raise ``PaymentUnavailable`` with the current failure probability."""
        now = self.clock.now()
        ok = self.rng.random() >= self.failure_rate_at(now)
        self.calls.append((now, ok))
        if not ok:
            raise PaymentUnavailable(f"payment service unavailable at t={now:.1f}s")
        return f"charged {amount:.2f}"


@dataclass(frozen=True)
class Sample:
    """One request of a load run: when, the breaker's state just after it, and what happened."""

    t: float
    state: str
    outcome: str  # "ok" | "failed" | "rejected" (failed fast by an open breaker)


def drive(
    call: Callable[[], Any], state_of: Callable[[], str], clock: Clock, *,
    duration: float, interval: float,
) -> list[Sample]:
    """Issue ``call()`` every ``interval`` seconds of simulated time for ``duration`` seconds.

    A return is "ok", ``CircuitOpen`` is "rejected" and any other exception is "failed".
    """
    if not interval > 0:
        raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
    if not duration > 0:
        raise ValueError(f"duration must be > 0 seconds, got {duration!r}")
    samples: list[Sample] = []
    for i in range(math.ceil(duration / interval)):
        clock_target = i * interval
        if clock.now() < clock_target:
            clock.sleep(clock_target - clock.now())
        try:
            call()
            outcome = "ok"
        except CircuitOpen:
            outcome = "rejected"
        except Exception:  # noqa: BLE001 - any failure of the protected call counts as failed
            outcome = "failed"
        samples.append(Sample(clock.now(), state_of(), outcome))
    return samples


def outcome_counts(samples: Sequence[Sample], start: float = 0.0, end: float = math.inf) -> Counter[str]:
    """How many samples in ``[start, end)`` were ok, failed and rejected."""
    return Counter(s.outcome for s in samples if start <= s.t < end)


def payment_scenario(
    make_breaker: Callable[[Clock], Any] | None, *, outage: Outage = Outage(60, 150, 0.95),
    base_failure_rate: float = 0.05, duration: float = 240.0, interval: float = 0.25, seed: int = 42,
) -> tuple[FlakyPaymentService, list[Sample], list[Any]]:
    """Four charges a second against a flaky payment service, through ``make_breaker(clock)``
    (``None``: unprotected). Returns the service (its ``calls`` log), the samples and the
    breaker's ``StateChange`` events, collected with a listener.
    """
    clock = ManualClock()
    service = FlakyPaymentService(clock, random.Random(seed), base_failure_rate=base_failure_rate,
                                  outages=[outage])
    changes: list[Any] = []
    if make_breaker is None:
        return service, drive(service.charge, lambda: "closed", clock, duration=duration, interval=interval), changes
    breaker = make_breaker(clock)
    breaker.add_listener(changes.append)
    samples = drive(lambda: breaker.call(service.charge), lambda: breaker.state, clock,
                    duration=duration, interval=interval)
    return service, samples, changes


class ServiceUnavailable(ConnectionError):
    """A 503 from a service in a call chain: what a caller sees when anything below it failed."""


def call_chain(
    bottom: Callable[[], Any], layers: int, protect: Callable[[int, Callable[[], Any]], Callable[[], Any]],
) -> Callable[[], Any]:
    """Stack ``layers`` services over ``bottom``; service ``i`` (1 = just above ``bottom``) calls
    the one below through ``protect(i, call_below)`` and answers any failure with a 503.

    Across a network every failure arrives as a status code, so each layer's retry sees an
    ordinary, retryable error: that is how retries multiply from layer to layer.
    """
    if layers < 1:
        raise ValueError(f"layers must be an integer >= 1, got {layers}")
    below = bottom
    for i in range(1, layers + 1):
        below = _service(i, protect(i, below))
    return below


def amplified_calls(attempts: int, layers: int) -> int:
    """Calls that reach a dead service through ``layers`` services that each retry it
    (``Retry(max_attempts=attempts)``, no pause): the simulated truth behind ``attempts ** layers``.
    """
    hits: list[int] = []
    clock = ManualClock()

    def dead() -> None:
        hits.append(1)
        raise ConnectionError("connection refused")

    def protect(i: int, below: Callable[[], Any]) -> Callable[[], Any]:
        retry = Retry(max_attempts=attempts, backoff=Backoff.fixed(0.0), clock=clock, rng=random.Random(i))
        return retry(below)

    with contextlib.suppress(ConnectionError):
        call_chain(dead, layers, protect)()
    return len(hits)


def _service(i: int, protected: Callable[[], Any]) -> Callable[[], Any]:
    def service() -> Any:
        try:
            return protected()
        except Exception as exc:  # noqa: BLE001 - a real service maps every failure to a 5xx
            raise ServiceUnavailable(f"service {i}: 503") from exc

    return service


# --------------------------------------------------------------------------------------------
# 2. The AWS backoff study: optimistic concurrency under contention
# --------------------------------------------------------------------------------------------

JITTER_KINDS = ("none", "equal", "full", "decorrelated")


def occ_contention(
    clients: int, backoff: Backoff, rng: random.Random, *, net_mean: float = 10.0, net_sd: float = 2.0,
) -> tuple[int, float]:
    """Run one contention episode; return (write attempts, time until the last client succeeded).

    Each client reads the row's version, then sends a conditional write carrying it. The server
    applies a write only if the version is unchanged, so exactly one of the clients that read the
    same version can win. A loser sleeps for its next ``backoff`` pause (drawn by the package's
    ``Backoff.delay``, the schedule ``Retry`` uses) and starts over with a read. Every message
    crosses the network with delay ``|normal(net_mean, net_sd)|`` (milliseconds).
    """
    if clients < 1:
        raise ValueError(f"clients must be >= 1, got {clients}")

    def net() -> float:
        return abs(rng.normalvariate(net_mean, net_sd))

    version, writes, finished = 0, 0, 0.0
    read_version = [0] * clients
    retries = [0] * clients  # failed writes so far, per client: the n of its next pause
    previous = [backoff.base] * clients  # the last pause, for decorrelated jitter
    # Events arrive at the server: (time, sequence, client, "read" | "write").
    events: list[tuple[float, int, int, str]] = [(net(), c, c, "read") for c in range(clients)]
    heapq.heapify(events)
    seq = clients
    while events:
        t, _, client, kind = heapq.heappop(events)
        seq += 1
        if kind == "read":
            read_version[client] = version
            heapq.heappush(events, (t + net() + net(), seq, client, "write"))
            continue
        writes += 1
        if read_version[client] == version:
            version += 1
            finished = max(finished, t + net())
        else:
            pause = backoff.delay(retries[client], previous[client], rng)
            retries[client] += 1
            previous[client] = pause
            retry_at = t + net() + pause + net()
            heapq.heappush(events, (retry_at, seq, client, "read"))
    return writes, finished


@dataclass(frozen=True)
class ContentionResult:
    """Means over ``trials`` episodes for one (strategy, clients) point."""

    kind: str
    clients: int
    calls: float
    completion_ms: float


def backoff_study(
    client_counts: Sequence[int], kinds: Sequence[str] = JITTER_KINDS, *, trials: int = 20,
    seed: int = 2015, base: float = 5.0, cap: float = 2000.0,
) -> list[ContentionResult]:
    """Average write attempts and completion time (ms) per jitter kind and contention level.

    The defaults are the post's: ``base`` 5 ms, ``cap`` 2 s, a 10 ms network. Its exponential
    schedules double once before the first pause (``min(cap, base * 2**n)`` for n = 1, 2, ...),
    so they are built here as ``Backoff.exponential(2 * base, cap)``; decorrelated jitter starts
    from ``base`` itself (uniform over ``[base, 3 * previous]``, previous starting at ``base``).
    """
    if trials < 1:
        raise ValueError(f"trials must be an integer >= 1, got {trials}")
    results = []
    for kind in kinds:
        first = base if kind == "decorrelated" else 2 * base
        backoff = Backoff.exponential(base=first, cap=cap, jitter=kind)
        for clients in client_counts:
            rng = random.Random(f"{seed}:{kind}:{clients}")
            runs = [occ_contention(clients, backoff, rng) for _ in range(trials)]
            results.append(ContentionResult(
                kind, clients, sum(r[0] for r in runs) / trials, sum(r[1] for r in runs) / trials,
            ))
    return results


# --------------------------------------------------------------------------------------------
# 3. The bulkhead story: a thread-per-request server and a slow dependency (SimPy)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """A server with ``threads`` request threads serving two endpoints (times in seconds).

    ``/pay`` calls a payment dependency that answers in ``pay_latency`` until ``slow_from``, then
    hangs for ``slow_latency`` (the client's own timeout). ``/catalog`` needs no dependency.
    ``bulkhead`` caps concurrent payment calls (``None``: no bulkhead); a request that waits more
    than ``bulkhead_wait`` for a slot is rejected at once. A request that waits more than
    ``patience`` for a free thread is abandoned by its caller.
    """

    threads: int = 200
    pay_rate: float = 40.0
    catalog_rate: float = 100.0
    pay_latency: float = 0.05
    catalog_latency: float = 0.01
    slow_from: float = 15.0
    slow_latency: float = 10.0
    bulkhead: int | None = None
    bulkhead_wait: float = 0.5
    patience: float = 2.0
    duration: float = 40.0
    sample_every: float = 0.5


@dataclass
class ServerRun:
    """What happened: a gauge time series and one ``(endpoint, arrival, outcome)`` per request.

    Outcomes: "served"; "timed_out" (held a thread until the dependency's timeout); "rejected"
    (``BulkheadFull``, answered at once with a fallback); "abandoned" (no thread within patience).
    """

    times: list[float] = field(default_factory=list)
    threads_in_payment: list[int] = field(default_factory=list)
    threads_waiting_bulkhead: list[int] = field(default_factory=list)
    threads_busy: list[int] = field(default_factory=list)
    requests: list[tuple[str, float, str]] = field(default_factory=list)

    def outcomes(self, endpoint: str, start: float = 0.0, end: float = math.inf) -> Counter[str]:
        """Outcome counts for requests to ``endpoint`` that arrived in ``[start, end)``."""
        return Counter(o for e, t, o in self.requests if e == endpoint and start <= t < end)

    def served_share(self, endpoint: str, start: float = 0.0, end: float = math.inf) -> float:
        counts = self.outcomes(endpoint, start, end)
        total = sum(counts.values())
        return counts["served"] / total if total else 1.0


def simulate_server(config: ServerConfig, seed: int = 6) -> ServerRun:
    """Run the server for ``config.duration`` simulated seconds; deterministic for a seed."""
    if config.threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {config.threads}")
    if config.bulkhead is not None and config.bulkhead < 1:
        raise ValueError(f"bulkhead must be None or an integer >= 1, got {config.bulkhead}")
    rng = random.Random(seed)
    env = simpy.Environment()
    threads = simpy.Resource(env, capacity=config.threads)
    slots = simpy.Resource(env, capacity=config.bulkhead) if config.bulkhead else None
    run = ServerRun()
    gauge = Counter[str]()

    def handle(endpoint: str) -> Iterator[simpy.Event]:
        arrived = env.now
        with threads.request() as thread:
            got = yield thread | env.timeout(config.patience)
            if thread not in got:
                outcome = "abandoned"
            elif endpoint == "catalog":
                yield env.timeout(config.catalog_latency)
                outcome = "served"
            else:
                outcome = yield from pay()
        run.requests.append((endpoint, arrived, outcome))

    def pay() -> Iterator[simpy.Event]:
        latency = config.pay_latency if env.now < config.slow_from else config.slow_latency
        outcome = "served" if latency < config.slow_latency else "timed_out"
        if slots is None:
            gauge["payment"] += 1
            yield env.timeout(latency)
            gauge["payment"] -= 1
            return outcome
        with slots.request() as slot:
            gauge["waiting"] += 1
            got = yield slot | env.timeout(config.bulkhead_wait)
            gauge["waiting"] -= 1
            if slot not in got:
                return "rejected"
            gauge["payment"] += 1
            yield env.timeout(latency)
            gauge["payment"] -= 1
            return outcome

    def arrivals(endpoint: str, rate: float) -> Iterator[simpy.Event]:
        while True:
            yield env.timeout(rng.expovariate(rate))
            env.process(handle(endpoint))

    def monitor() -> Iterator[simpy.Event]:
        while True:
            run.times.append(env.now)
            run.threads_in_payment.append(gauge["payment"])
            run.threads_waiting_bulkhead.append(gauge["waiting"])
            run.threads_busy.append(threads.count)
            yield env.timeout(config.sample_every)

    env.process(arrivals("pay", config.pay_rate))
    env.process(arrivals("catalog", config.catalog_rate))
    env.process(monitor())
    env.run(until=config.duration)
    return run

