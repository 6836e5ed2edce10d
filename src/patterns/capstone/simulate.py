"""``simulate(scenario)``: the whole notification service on simulated time, deterministic.

One run builds every box of the design from the ``patterns`` package (API with idempotency and a
per-tenant ``TokenBucket``, SQLite outbox and relay, an ``InMemoryBroker`` topic partitioned by
user id, one consumer group per channel, breakers, fallbacks, retries, dead letters, a
preference cache), drives a seeded workload through it on a ``ManualClock`` in steps of ``dt``,
injects the scenario's faults (a provider outage, a tenant burst, consumer crashes, duplicate
client requests, poison messages), keeps going until every queue is empty, and audits the result.

The broker is always the in-process one, even when ``PATTERNS_KAFKA_BOOTSTRAP`` is set: the run
lives on simulated time, which a real broker's clocks (timestamps, session timeouts) do not share.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from typing import Any

from patterns.capstone.api import CHANNELS, TOPIC, NotificationAPI, NotificationRequest
from patterns.capstone.metrics import SimulationResult, audit, percentile
from patterns.capstone.prefs import PreferenceCache, PreferenceStore
from patterns.capstone.providers import Ledger, Outage, ProviderSpec, SimulatedProvider
from patterns.capstone.workers import ChannelWorker, WorkerConfig
from patterns.clock import ManualClock
from patterns.messaging import InMemoryBroker, OutboxRelay
from patterns.ratelimit import TokenBucket

__all__ = ["Patterns", "Burst", "Scenario", "simulate", "default_providers", "PATTERN_NAMES"]

PATTERN_NAMES = ("idempotency_key", "rate_limit", "breaker", "fallback", "retry", "idempotent_consumer", "cache")


@dataclass(frozen=True)
class Patterns:
    """Which patterns are on (all by default); ``without("breaker")`` turns some off."""

    idempotency_key: bool = True
    rate_limit: bool = True
    breaker: bool = True
    fallback: bool = True
    retry: bool = True
    idempotent_consumer: bool = True
    cache: bool = True

    def without(self, *names: str) -> Patterns:
        unknown = set(names) - set(PATTERN_NAMES)
        if unknown:
            raise ValueError(f"names must be among {PATTERN_NAMES}, got {sorted(unknown)}")
        return replace(self, **{name: False for name in names})

    def off(self) -> list[str]:
        return [f.name for f in fields(self) if not getattr(self, f.name)]


@dataclass(frozen=True)
class Burst:
    """``tenant`` sends ``count`` extra requests spread evenly over ``[start, start + duration)``."""

    tenant: str = "t00"
    start: float = 200.0
    duration: float = 20.0
    count: int = 3000


def default_providers(outage: Outage | None = None) -> dict[str, list[ProviderSpec]]:
    """Two providers per channel, primary first; ``outage`` hits the primary email provider."""
    outages = (outage,) if outage is not None else ()
    return {
        "email": [ProviderSpec("mailer-a", "email", 0.2, 0.01, outages=outages),
                  ProviderSpec("mailer-b", "email", 0.3, 0.02)],
        "sms": [ProviderSpec("sms-a", "sms", 0.3, 0.01), ProviderSpec("sms-b", "sms", 0.4, 0.02)],
        "push": [ProviderSpec("push-a", "push", 0.1, 0.01), ProviderSpec("push-b", "push", 0.1, 0.02)],
    }


@dataclass(frozen=True)
class Scenario:
    """A workload and its faults. Defaults: 10,000 requests over 10 simulated minutes."""

    seed: int = 7
    notifications: int = 10_000
    duration: float = 600.0
    tenants: int = 20
    users: int = 2_000
    dt: float = 0.5
    outage: Outage | None = Outage(120.0, 300.0)
    burst: Burst | None = Burst()
    duplicate_rate: float = 0.03
    crash_rate: float = 0.02
    poison_rate: float = 0.002
    opt_out_rate: float = 0.05
    tenant_rate: float = 5.0  # requests per second per tenant, refilled continuously
    tenant_burst: int = 50
    concurrency: float = 10.0
    patterns: Patterns = field(default_factory=Patterns)
    drain_limit: float = 1800.0

    @classmethod
    def small(cls, **changes: Any) -> Scenario:
        """A 2-minute, 1,500-request version of the default (for labs and tests), then ``changes``."""
        base = cls(notifications=1_500, duration=120.0, users=500, outage=Outage(30.0, 75.0),
                   burst=Burst(start=40.0, duration=10.0, count=600))
        return replace(base, **changes)

    def __post_init__(self) -> None:
        for name in ("notifications", "tenants", "users", "tenant_burst"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("duration", "dt", "tenant_rate", "concurrency", "drain_limit"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("duplicate_rate", "crash_rate", "poison_rate", "opt_out_rate"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if not isinstance(self.patterns, Patterns):
            raise TypeError(f"patterns must be a Patterns, got {type(self.patterns).__name__}")


def _workload(sc: Scenario, rng: random.Random) -> list[tuple[float, NotificationRequest]]:
    """Seeded arrivals: uniform background traffic, the burst, and client retries (same id)."""
    mix = {"email": 0.7, "sms": 0.2, "push": 0.5}
    base = [(rng.uniform(0, sc.duration), f"t{rng.randrange(sc.tenants):02d}") for _ in range(sc.notifications)]
    if sc.burst is not None:
        step = sc.burst.duration / sc.burst.count
        base += [(sc.burst.start + i * step, sc.burst.tenant) for i in range(sc.burst.count)]
    out: list[tuple[float, NotificationRequest]] = []
    for i, (t, tenant) in enumerate(sorted(base)):
        channels = tuple(c for c in CHANNELS if rng.random() < mix[c]) or ("email",)
        body = "Hi {{name}" if rng.random() < sc.poison_rate else f"message {i}"
        request = NotificationRequest(f"{tenant}-r{i}", tenant, f"u{rng.randrange(sc.users)}", channels, body)
        out.append((t, request))
        if rng.random() < sc.duplicate_rate:  # the client timed out and sends it again
            out.append((t + rng.uniform(0.5, 5.0), request))
    out.sort(key=lambda pair: pair[0])
    return out


def simulate(scenario: Scenario | None = None) -> SimulationResult:
    """Run ``scenario`` end to end and return its metrics and audit (same input, same output)."""
    sc = scenario if scenario is not None else Scenario()
    if not isinstance(sc, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(sc).__name__}")
    on = sc.patterns
    rng = random.Random(sc.seed)
    clock = ManualClock()
    store = PreferenceStore(
        {f"u{u}": [c] for u in range(sc.users) for c in CHANNELS if rng.random() < sc.opt_out_rate}
    )
    prefs = PreferenceCache(store, clock=clock, ttl=60.0 if on.cache else 0.0)
    limiter = (
        TokenBucket(limit=round(sc.tenant_rate * 60), period=60.0, burst=sc.tenant_burst, clock=clock)
        if on.rate_limit else None
    )
    db = sqlite3.connect(":memory:", isolation_level=None)
    api = NotificationAPI(db, clock=clock, rng=random.Random(sc.seed + 1), limiter=limiter,
                          idempotency=on.idempotency_key)
    broker = InMemoryBroker(clock=clock)  # never Kafka: see the module docstring
    broker.create_topic(TOPIC, partitions=8)
    relay = OutboxRelay(api.outbox, broker, batch_size=500)
    ledger = Ledger()
    config = WorkerConfig(concurrency=sc.concurrency, breaker=on.breaker, fallback=on.fallback,
                          retry=on.retry, idempotent_consumer=on.idempotent_consumer)
    workers = []
    for n, (channel, specs) in enumerate(default_providers(sc.outage).items()):
        providers = [SimulatedProvider(s, clock=clock, rng=random.Random(sc.seed * 31 + n * 7 + k), ledger=ledger)
                     for k, s in enumerate(specs)]
        workers.append(ChannelWorker(channel, broker, providers, prefs, clock=clock,
                                     rng=random.Random(sc.seed * 17 + n), config=config))
    crash_rng = random.Random(sc.seed + 2)

    def crash(n: int) -> int | None:
        return crash_rng.randrange(n) if crash_rng.random() < sc.crash_rate else None

    arrivals = _workload(sc, rng)
    i, t = 0, 0.0
    while True:
        t += sc.dt
        while i < len(arrivals) and arrivals[i][0] < t:
            clock.set(max(clock.now(), arrivals[i][0]))
            api.submit(arrivals[i][1])
            i += 1
        clock.set(t)
        relay.run_until_empty()
        for worker in workers:
            worker.tick(sc.dt, crash)
        busy = any(w.backlog() or w.pending_retries() for w in workers) or api.outbox.pending(1)
        if (i == len(arrivals) and not busy) or t > sc.duration + sc.drain_limit:
            break
    return _measure(sc, api, workers, ledger, prefs, store, clock.now(), len(arrivals))


def _measure(sc: Scenario, api: NotificationAPI, workers: list[ChannelWorker], ledger: Ledger,
             prefs: PreferenceCache, store: PreferenceStore, now: float, submitted: int) -> SimulationResult:
    accepted = api.db.execute("SELECT notification_id, tenant, request_id, accepted_at FROM requests").fetchall()
    rows = {nid: (tenant, rid, at) for nid, tenant, rid, at in accepted}
    outbox = [r.value["data"] for r in api.outbox.rows()]
    channels = {d["notification_id"]: d["channels"] for d in outbox}
    users = {d["request_id"]: d["user"] for d in outbox}
    targets = [(rid, c) for nid, (_, rid, _) in rows.items() for c in channels[nid] if store.allows(users[rid], c)]
    dead: dict[tuple[str, str], str] = {}
    reasons: Counter[str] = Counter()
    for w in workers:
        for _, rid, reason, _ in w.dead_letters():
            dead[(rid, w.channel)] = reason
            reasons[reason.split(":")[0]] += 1
    counts = ledger.counts()
    first_accept = {rid: at for _, (_, rid, at) in sorted(rows.items(), key=lambda kv: kv[1][2], reverse=True)}
    tenant_of = {rid: tenant for _, (tenant, rid, _) in rows.items()}
    seen: set[tuple[str, str]] = set()
    delays: list[tuple[float, float, str, str]] = []
    for d in sorted(ledger.deliveries, key=lambda d: d.at):
        if (d.request_id, d.channel) in seen:
            continue
        seen.add((d.request_id, d.channel))
        start = first_accept[d.request_id]
        delays.append((start, d.at - start, tenant_of[d.request_id], d.channel))
    burst_tenant = sc.burst.tenant if sc.burst is not None else None
    all_delays = [x[1] for x in delays]
    others = [x[1] for x in delays if x[2] != burst_tenant]
    calls = {p.name: p.calls for w in workers for p in w.providers}
    return SimulationResult(
        submitted=submitted,
        accepted=api.accepted,
        rate_limited=api.rate_limited,
        replayed=api.replayed,
        delivered=len(ledger),
        duplicates_prevented=api.replayed + sum(w.idem.duplicates for w in workers),
        duplicates_delivered=sum(n - 1 for n in counts.values() if n > 1),
        retried=sum(w.retried for w in workers),
        dead_lettered=sum(len(w.dead_letters()) for w in workers),
        skipped_by_preference=sum(w.skipped for w in workers),
        p50_delay=percentile(all_delays, 50, empty=0.0),
        p99_delay=percentile(all_delays, 99, empty=0.0),
        p99_delay_others=percentile(others, 99, empty=0.0),
        crashes=sum(w.crashes for w in workers),
        fallbacks=sum(w.fallbacks for w in workers),
        breaker_opens=sum(w.breaker_opens for w in workers),
        provider_calls=calls,
        cache_hit_rate=prefs.hit_rate,
        preference_db_reads=store.reads,
        finished_at=now,
        audit=audit(targets, counts, dead),
        delays=delays,
        dead_letter_reasons=dict(reasons),
        rate_limited_by_tenant=dict(api.rate_limited_by_tenant),
    )
