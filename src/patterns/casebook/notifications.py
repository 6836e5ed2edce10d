"""Case 3: a notification system, the design the capstone (chapter 18) builds and breaks in full.

Here it is worked as an interview answer, with the numbers of chapter 12's practice prompt 2: 50
million users, transactional messages all day, and marketing campaigns that must reach every
user within an hour. The bottleneck is isolation: a campaign is a burst that shares queues and
providers with one-time passwords. ``campaign_isolation`` runs the capstone's simulation with a
tenant's burst, with and without the per-tenant rate limit, and reports how long everyone else's
messages wait.
"""

from __future__ import annotations

from dataclasses import dataclass

from patterns._validate import require_int, require_number
from patterns.capstone import Burst, Patterns, Scenario, simulate
from patterns.casebook.model import CaseStudy, diagram, parameters, require_scale, rubric, uses
from patterns.estimate import Estimate, WorkedDesign

__all__ = ["design", "DEFAULTS", "IsolationRow", "campaign_isolation"]

#: The design's default assumptions; ``design(**overrides)`` replaces any of them.
DEFAULTS: dict[str, float] = {
    "transactional_per_user": 2,
    "channels_per_message": 1.4,
    "peak_factor": 3,
    "campaign_window": 3_600,
    "provider_latency": 0.2,
    "event_size": 600,
    "retention_days": 7,
}


def design(users: float = 50e6, **overrides: float) -> CaseStudy:
    """Push, e-mail and SMS for ``users`` users, with campaigns sent within ``campaign_window`` s."""
    values = parameters(DEFAULTS, overrides)
    users = require_scale(users, "users")
    est = Estimate("Notification system")
    est.assume("users", users, "users", "requirement: 50 million users")
    est.assume("transactional_per_user", values["transactional_per_user"], "msg/user/day",
               "codes, receipts, alerts")
    est.assume("channels_per_message", values["channels_per_message"], "sends",
               "average fan-out over push, e-mail and SMS (the capstone's mix)")
    est.assume("peak_factor", values["peak_factor"], "x", "busiest hour against the average hour")
    est.assume("campaign_window", values["campaign_window"], "s", "requirement: a campaign reaches all in an hour")
    est.assume("provider_latency", values["provider_latency"], "s", "one provider API call")
    est.assume("event_size", values["event_size"], "B", "one event on the topic, JSON with headers")
    est.assume("retention_days", values["retention_days"], "days", "replay window of the topic")
    est.derive("transactional_peak", "users * transactional_per_user / 86_400 * peak_factor", "msg/s")
    est.derive("campaign_rate", "users / campaign_window", "msg/s", "one message per user, spread over the window")
    est.derive("provider_calls", "transactional_peak * channels_per_message + campaign_rate", "calls/s",
               "a one-channel campaign during the peak hour")
    est.derive("calls_in_flight", "provider_calls * provider_latency", "calls",
               "Little's law: concurrent provider calls the workers must hold open")
    est.derive("topic_storage", "(users * transactional_per_user + users) * event_size * retention_days", "B",
               "a day of messages and one campaign, kept for the replay window")
    worked = WorkedDesign(
        name="Notification system",
        functional=["tenants send a message to a user on push, e-mail and SMS",
                    "user preferences and opt-outs honoured; campaigns to millions of users",
                    "status of each request; templates"],
        non_functional=["no loss, no duplicates (a doubled 'payment received' SMS is a bug)",
                        "a campaign never delays one-time passwords: isolation between tenants and kinds",
                        "keeps delivering through a provider outage"],
        estimate=est,
        api=["POST /v1/notifications {user, channels, template, data} with an Idempotency-Key -> 202",
             "POST /v1/campaigns {segment, template, window} -> 202 (paced by the service)",
             "GET /v1/notifications/{id} -> per-channel status"],
        data_model=["requests + outbox rows in one transaction (SQLite in the capstone, a relational "
                    "primary in production)", "topic partitioned by user id; one consumer group per channel",
                    "preferences keyed by user, behind a cache"],
        components=["API: idempotency key, per-tenant token bucket, outbox",
                    "topic -> channel workers -> providers with breakers and a fallback provider",
                    "campaigns in their own lane (topic or priority), paced to the window",
                    "retries with backoff, then a dead-letter table with a reason"],
        deep_dives=["exactly-once effect: outbox + idempotent consumer + provider idempotency",
                    "isolation: per-tenant limits and separate lanes for bulk and transactional",
                    "provider outage: breaker opens, fallback provider, retry schedule"],
        bottlenecks=["provider rate limits and latency: calls in flight, not CPU",
                     "a campaign burst filling shared partitions"],
    )
    return CaseStudy(
        slug="notifications",
        design=worked,
        diagram=diagram(
            "Notification system (the capstone's design)",
            [("tenant", "tenants", "client"), ("api", "API\\n(key, limit, outbox)", "service"),
             ("db", "requests +\\noutbox", "store"), ("topic", "topic\\n(by user id)", "queue"),
             ("bulk", "campaign lane\\n(paced)", "queue"), ("workers", "channel workers\\n(email / sms / push)", "service"),
             ("prefs", "preferences\\ncache", "cache"), ("prov", "providers A / B\\n(breakers)", "external"),
             ("dlq", "dead letters", "store")],
            [("tenant", "api", "POST"), ("api", "db", "one transaction"), ("db", "topic", "relay"),
             ("api", "bulk", "campaigns"), ("topic", "workers", ""), ("bulk", "workers", "when idle"),
             ("workers", "prefs", "opted in?"), ("workers", "prov", "send"), ("workers", "dlq", "gave up")],
        ),
        uses=uses(
            (18, "the capstone", "the same design, built from the package and broken pattern by pattern"),
            (9, "idempotency keys", "a retried request is accepted once"),
            (10, "per-tenant rate limits", "one tenant's burst cannot fill the shared queue"),
            (2, "outbox, consumer groups", "no dual write; one group per channel"),
            (6, "breakers, fallback, retries", "a provider outage is absorbed"),
            (7, "cache-aside", "preferences read on every send"),
        ),
        bottleneck="isolation: a tenant's burst shares the queue with everyone's one-time passwords",
        rubric=rubric(
            ("requirements", "channels, preferences, no loss / no duplicates, campaign window agreed",
             "separates transactional from bulk traffic and sets a latency target for each",
             "no distinction between a password code and a marketing blast"),
            ("estimate", "campaign rate and provider calls in flight computed",
             "uses Little's law to size workers by provider latency",
             "sizes workers by the average rate"),
            ("reliability", "outbox or equivalent, retries with backoff, dead letters",
             "explains duplicates from retries and the idempotent consumer that stops them",
             "fire-and-forget calls to providers"),
            ("isolation", "per-tenant rate limits and a separate lane for campaigns",
             "quantifies what a burst does to others' latency and paces campaigns",
             "one shared FIFO queue for everything"),
            ("providers", "breaker and fallback provider; provider rate limits respected",
             "plans the outage: what is queued, what is dropped, what the tenant sees",
             "assumes providers never fail"),
        ),
        headline=("transactional_peak", "campaign_rate", "provider_calls", "calls_in_flight", "topic_storage"),
    )


@dataclass(frozen=True)
class IsolationRow:
    """One run of the capstone simulation with a tenant's burst."""

    rate_limit: bool
    burst: int
    accepted: int
    rate_limited: int
    p99_delay_others: float  # seconds, for every tenant but the bursting one
    audit_ok: bool


def campaign_isolation(burst: int = 1_500, *, duration: float = 10.0, seed: int = 7) -> list[IsolationRow]:
    """The capstone's small scenario (no provider outage) with ``burst`` extra requests from one
    tenant in ``duration`` seconds, with and without the per-tenant rate limit."""
    count = require_int(burst, "burst", minimum=1, maximum=100_000)
    span = require_number(duration, "duration", minimum=0.1, maximum=3_600.0)
    rows = []
    for limited in (True, False):
        patterns = Patterns() if limited else Patterns().without("rate_limit")
        scenario = Scenario.small(seed=seed, outage=None, burst=Burst(start=40.0, duration=span, count=count),
                                  patterns=patterns)
        r = simulate(scenario)
        rows.append(IsolationRow(limited, count, r.accepted, r.rate_limited, r.p99_delay_others, r.audit.ok))
    return rows
