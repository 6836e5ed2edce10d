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
* ``timeout_study``: what a per-attempt timeout does to a dependency that is usually fast and
  sometimes hangs: false timeouts of healthy calls, the caller's worst wait, and the success rate.

Nothing here is part of the pattern API (``patterns.resilience``); breakers are passed in and used
only through ``call`` and ``state``.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import random
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import simpy

from patterns._validate import (
    require_callable,
    require_instance,
    require_int,
    require_number,
    require_one_of,
    require_probability,
    require_seconds,
    require_sequence,
)
from patterns.clock import Clock, ManualClock
from patterns.errors import CircuitOpen
from patterns.faults import Outage
from patterns.resilience.retry import JITTERS, Backoff, Jitter, Retry
from patterns.stats import percentile

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
    "TimeoutStudy",
    "timeout_study",
    "PAYMENT_OUTAGE",
    "MAX_WORK",
]


# --------------------------------------------------------------------------------------------
# 1. A flaky payment service and a load generator
# --------------------------------------------------------------------------------------------


#: The most calls, samples or simulated requests one run may make: a bigger run does not fail, it
#: hangs the notebook. Ask for a shorter duration or a longer interval.
MAX_WORK = 2_000_000


#: Deepest stack of services in ``call_chain`` (each layer nests a few Python calls).
MAX_LAYERS = 50


def _bounded_work(work: float, what: str) -> None:
    if work > MAX_WORK:
        raise ValueError(f"this run would make about {work:.3g} {what}, more than {MAX_WORK:,}: ask for less")


def _clock(value: object) -> Clock:
    return require_instance(value, "clock", Clock, what="a Clock")


def _rng(value: object) -> random.Random:
    return require_instance(value, "rng", random.Random, what="a random.Random")


class PaymentUnavailable(ConnectionError):
    """The simulated payment service failed this call (a 503 or a reset connection)."""


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
        self.clock, self.rng = _clock(clock), _rng(rng)
        self.base_failure_rate = require_probability(base_failure_rate, "base_failure_rate")
        self.outages: tuple[Outage, ...] = tuple(
            require_instance(o, "outages[]", Outage) for o in require_sequence(outages, "outages", min_length=0)
        )
        self.calls: list[tuple[float, bool]] = []

    def failure_rate_at(self, t: float) -> float:
        """The probability that a call at time ``t`` fails."""
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
    require_callable(call, "call")
    require_callable(state_of, "state_of")
    clock = _clock(clock)
    duration = require_seconds(duration, "duration")
    interval = require_seconds(interval, "interval")
    _bounded_work(duration / interval, "calls")
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
    require_number(start, "start")
    if not (isinstance(end, (int, float)) and not isinstance(end, bool) and end == math.inf):
        require_number(end, "end")
    return Counter(s.outcome for s in samples if start <= s.t < end)


#: The outage of the chapter's payment scenario: 95% of calls fail from t = 60 s to t = 150 s.
PAYMENT_OUTAGE = Outage(60, 150, 0.95)


def payment_scenario(
    make_breaker: Callable[[Clock], Any] | None, *, outage: Outage = PAYMENT_OUTAGE,
    base_failure_rate: float = 0.05, duration: float = 240.0, interval: float = 0.25, seed: int = 42,
) -> tuple[FlakyPaymentService, list[Sample], list[Any]]:
    """Four charges a second against a flaky payment service, through ``make_breaker(clock)``
    (``None``: unprotected). Returns the service (its ``calls`` log), the samples and the
    breaker's ``StateChange`` events, collected with a listener.
    """
    if make_breaker is not None:
        require_callable(make_breaker, "make_breaker")
    clock = ManualClock()
    service = FlakyPaymentService(clock, random.Random(require_int(seed, "seed", minimum=None, maximum=None)),
                                  base_failure_rate=base_failure_rate, outages=[require_instance(outage, "outage", Outage)])
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
    require_callable(bottom, "bottom")
    require_callable(protect, "protect")
    layers = require_int(layers, "layers", minimum=1, maximum=MAX_LAYERS)
    below = bottom
    for i in range(1, layers + 1):
        below = _service(i, protect(i, below))
    return below


def amplified_calls(attempts: int, layers: int) -> int:
    """Calls that reach a dead service through ``layers`` services that each retry it
    (``Retry(max_attempts=attempts)``, no pause): the simulated truth behind ``attempts ** layers``.
    """
    attempts = require_int(attempts, "attempts", minimum=1, maximum=1_000)
    layers = require_int(layers, "layers", minimum=1, maximum=MAX_LAYERS)
    _bounded_work(float(attempts) ** layers, "calls")
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

JITTER_KINDS: tuple[Jitter, ...] = ("none", "equal", "full", "decorrelated")
#: Most contending clients in one episode.
MAX_CLIENTS = 10_000


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
    clients = require_int(clients, "clients", minimum=1, maximum=MAX_CLIENTS)
    backoff = require_instance(backoff, "backoff", Backoff)
    rng = _rng(rng)
    net_mean = require_number(net_mean, "net_mean", minimum=0.0, maximum=1e6)
    net_sd = require_number(net_sd, "net_sd", minimum=0.0, maximum=1e6)

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
    client_counts: Sequence[int], kinds: Sequence[Jitter] = JITTER_KINDS, *, trials: int = 20,
    seed: int = 2015, base: float = 5.0, cap: float = 2000.0,
) -> list[ContentionResult]:
    """Average write attempts and completion time (ms) per jitter kind and contention level.

    The defaults are the post's: ``base`` 5 ms, ``cap`` 2 s, a 10 ms network. Its exponential
    schedules double once before the first pause (``min(cap, base * 2**n)`` for n = 1, 2, ...),
    so they are built here as ``Backoff.exponential(2 * base, cap)``; decorrelated jitter starts
    from ``base`` itself (uniform over ``[base, 3 * previous]``, previous starting at ``base``).
    """
    counts = [require_int(c, "client_counts[]", minimum=1, maximum=MAX_CLIENTS)
              for c in require_sequence(client_counts, "client_counts", max_length=100)]
    chosen = [require_one_of(k, "kinds[]", JITTERS) for k in require_sequence(kinds, "kinds", max_length=4)]
    trials = require_int(trials, "trials", minimum=1, maximum=1_000)
    require_int(seed, "seed", minimum=None, maximum=None)
    base = require_number(base, "base", minimum=0.0, maximum=1e6, strict_min=True)
    cap = require_number(cap, "cap", minimum=2 * base, maximum=1e7)
    _bounded_work(trials * sum(counts) * len(chosen) * 20, "client attempts (roughly)")
    results = []
    for kind in chosen:
        first = base if kind == "decorrelated" else 2 * base
        backoff = Backoff.exponential(base=first, cap=cap, jitter=kind)
        for clients in counts:
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

    def __post_init__(self) -> None:
        require_int(self.threads, "threads", minimum=1, maximum=100_000)
        for name in ("pay_rate", "catalog_rate"):
            require_number(getattr(self, name), name, minimum=0.0, maximum=100_000.0)
        for name in ("pay_latency", "catalog_latency", "slow_latency", "patience", "duration", "sample_every"):
            require_seconds(getattr(self, name), name)
        for name in ("slow_from", "bulkhead_wait"):
            require_seconds(getattr(self, name), name, positive=False)
        if self.bulkhead is not None:
            require_int(self.bulkhead, "bulkhead", minimum=1, maximum=100_000)
        _bounded_work((self.pay_rate + self.catalog_rate) * self.duration + self.duration / self.sample_every,
                      "simulated requests and samples")


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
    config = require_instance(config, "config", ServerConfig)
    rng = random.Random(require_int(seed, "seed", minimum=None, maximum=None))
    env = simpy.Environment()
    threads = simpy.Resource(env, capacity=config.threads)
    slots = simpy.Resource(env, capacity=config.bulkhead) if config.bulkhead else None
    run = ServerRun()
    gauge = Counter[str]()

    def handle(endpoint: str) -> Generator[simpy.Event, Any, None]:
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

    def pay() -> Generator[simpy.Event, Any, str]:
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

    def arrivals(endpoint: str, rate: float) -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(rng.expovariate(rate))
            env.process(handle(endpoint))

    def monitor() -> Generator[simpy.Event, Any, None]:
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



# --------------------------------------------------------------------------------------------
# 4. Choosing a timeout: healthy calls against hung ones
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeoutStudy:
    """What callers saw with a per-attempt ``timeout`` and up to ``attempts`` attempts per request."""

    timeout: float
    attempts: int
    requests: int
    succeeded: int
    calls: int  # attempts that reached the dependency
    healthy_calls: int  # attempts that were not hung
    healthy_cut: int  # healthy attempts the timeout gave up on anyway (false timeouts)
    waits: tuple[float, ...]  # seconds each request's caller waited, attempts and all

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.requests

    @property
    def false_timeout_rate(self) -> float:
        """Share of healthy attempts cut off by the timeout."""
        return self.healthy_cut / self.healthy_calls if self.healthy_calls else 0.0

    @property
    def calls_per_request(self) -> float:
        return self.calls / self.requests

    def wait_percentile(self, q: float) -> float:
        """The callers' wait at percentile ``q`` (nearest rank)."""
        return percentile(self.waits, q)

    @property
    def worst_wait(self) -> float:
        return max(self.waits)


def timeout_study(
    timeout: float, attempts: int = 3, *, requests: int = 10_000, seed: int = 6, median: float = 0.05,
    sigma: float = 0.3, hang_probability: float = 0.02, hang: float = 10.0,
) -> TimeoutStudy:
    """Send ``requests`` requests to a dependency whose calls take a lognormal time around
    ``median`` (spread ``sigma``) and hang for ``hang`` seconds with ``hang_probability``.

    Each attempt waits at most ``timeout``; a request makes up to ``attempts`` attempts, the next
    one at once after a timeout (the dependency keeps working on the abandoned call). Simulated time:
    the figures are the same on every machine.
    """
    timeout = require_seconds(timeout, "timeout", maximum=3600.0)
    attempts = require_int(attempts, "attempts", minimum=1, maximum=20)
    requests = require_int(requests, "requests", minimum=1, maximum=200_000)
    median = require_seconds(median, "median", maximum=60.0)
    sigma = require_number(sigma, "sigma", minimum=0.0, maximum=3.0)
    hang_probability = require_probability(hang_probability, "hang_probability")
    hang = require_seconds(hang, "hang", maximum=3600.0)
    rng = random.Random(require_int(seed, "seed", minimum=None, maximum=None))
    succeeded = calls = healthy_calls = healthy_cut = 0
    waits: list[float] = []
    for _ in range(requests):
        waited = 0.0
        for _ in range(attempts):
            calls += 1
            hung = rng.random() < hang_probability
            took = hang if hung else median * math.exp(rng.gauss(0.0, sigma))
            healthy_calls += not hung
            if took <= timeout:
                waited += took
                succeeded += 1
                break
            waited += timeout
            healthy_cut += not hung
        waits.append(waited)
    return TimeoutStudy(timeout, attempts, requests, succeeded, calls, healthy_calls, healthy_cut, tuple(waits))
