"""Capstone: a notification service composed from the book's patterns, simulated end to end.

The boxes, each from an earlier chapter's package:

* ``NotificationAPI`` (api.py): idempotency by request id, a per-tenant ``TokenBucket``, and the
  request row + event in one SQLite transaction through ``patterns.messaging.Outbox``.
* ``OutboxRelay`` -> an ``InMemoryBroker`` topic partitioned by user id.
* ``ChannelWorker`` (workers.py): one consumer group per channel (fan-out), per-provider
  ``CircuitBreaker``, ``Fallback`` to a second provider, full-jitter ``Backoff`` retries on a
  schedule, dead letters with a reason, and an ``IdempotentConsumer`` against crash redelivery.
* ``PreferenceCache`` (prefs.py): cache-aside with a TTL over the preferences store.
* ``SimulatedProvider`` (providers.py): outages, latency and error rates on a ``ManualClock``.
* ``simulate(Scenario(...))`` (simulate.py): a whole deterministic run, metrics and an ``audit``
  (metrics.py) proving every accepted notification was delivered once or dead-lettered.

>>> r = simulate(Scenario(notifications=300, duration=60.0, outage=None, burst=None))
>>> r.audit.ok, r.audit.lost, r.duplicates_delivered
(True, 0, 0)
"""

from patterns.capstone.api import CHANNELS, TOPIC, NotificationAPI, NotificationRequest, SubmitResult
from patterns.capstone.metrics import Audit, SimulationResult, audit, comparison_table, percentile
from patterns.capstone.plots import plot_delay_timeline
from patterns.capstone.prefs import PreferenceCache, PreferenceStore
from patterns.capstone.providers import (
    Delivery,
    Ledger,
    Outage,
    ProviderError,
    ProviderSpec,
    SimulatedProvider,
)
from patterns.capstone.simulate import PATTERN_NAMES, Burst, Patterns, Scenario, default_providers, simulate
from patterns.capstone.workers import ChannelWorker, Outcome, WorkerConfig, is_poison

__all__ = [
    "CHANNELS", "TOPIC", "NotificationAPI", "NotificationRequest", "SubmitResult",
    "Audit", "SimulationResult", "audit", "comparison_table", "percentile",
    "plot_delay_timeline", "PreferenceCache", "PreferenceStore",
    "Delivery", "Ledger", "Outage", "ProviderError", "ProviderSpec", "SimulatedProvider",
    "PATTERN_NAMES", "Burst", "Patterns", "Scenario", "default_providers", "simulate",
    "ChannelWorker", "Outcome", "WorkerConfig", "is_poison",
]
