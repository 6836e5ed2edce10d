"""The capstone (a notification service): one request through the real components, traced.

The API, the outbox relay, the in-process broker, the e-mail channel worker and its two
providers are the capstone package's own classes, wired as ``patterns.capstone.simulate`` wires
them; the primary provider is in an outage, so the worker's breaker-guarded call fails over to
the secondary. The tracer stands in for the broker, the worker's consumer, the preference cache and
the providers, so each arrow is a call the service made.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Mapping
from typing import Any

from patterns.capstone.api import TOPIC, NotificationAPI, NotificationRequest
from patterns.capstone.prefs import PreferenceCache, PreferenceStore
from patterns.capstone.providers import Ledger, Outage, SimulatedProvider
from patterns.capstone.simulate import default_providers
from patterns.capstone.workers import ChannelWorker, WorkerConfig
from patterns.clock import ManualClock
from patterns.diagrams.dot import Diagram
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.diagrams.tracing import Tracer
from patterns.messaging import InMemoryBroker, OutboxRelay

__all__ = ["notification_run"]


def _broker_call(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    if method == "publish":
        value = args[1]
        return f"publish {value['type']} (key {kwargs.get('key')})"
    return {"poll": "poll", "commit": "commit offsets"}.get(method)


def _broker_answer(method: str, result: Any) -> str | None:
    if method == "publish":
        return f"partition {result.partition}, offset {result.offset}"
    if method == "poll":
        return f"{len(result)} record(s)"
    return None


def _provider_call(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    return f"send {args[0]}" if method == "send" else None


def _provider_answer(method: str, result: Any) -> str | None:
    return f"sent in {result:.2f} s" if method == "send" else None


def notification_run() -> Diagram:
    """A tenant's request (and its retry) accepted once, relayed, delivered by the fallback provider."""
    clock = ManualClock()
    trace = Trace(["tenant", "API", "relay", "topic", "email worker", "preferences", "mailer-a", "mailer-b"],
                  kinds={"tenant": "client", "topic": "queue", "preferences": "cache",
                         "mailer-a": "external", "mailer-b": "external"})
    tracer = Tracer(trace)
    tracer.enabled = False
    api = NotificationAPI(sqlite3.connect(":memory:", isolation_level=None), clock=clock, rng=random.Random(1))
    broker = InMemoryBroker(clock=clock)
    broker.create_topic(TOPIC, partitions=8)
    relay = OutboxRelay(api.outbox, tracer.wrap(broker, "topic", caller="relay", describe=_broker_call,
                                                replies=_broker_answer))
    ledger = Ledger()
    specs = default_providers(Outage(0.0, 60.0))["email"]
    providers = [tracer.wrap(SimulatedProvider(spec, clock=clock, rng=random.Random(7 + k), ledger=ledger),
                             spec.name, caller="email worker", describe=_provider_call, replies=_provider_answer)
                 for k, spec in enumerate(specs)]
    prefs = tracer.wrap(PreferenceCache(PreferenceStore(), clock=clock), "preferences", caller="email worker",
                        describe=lambda m, a, k: f"may {a[0]} get {a[1]}?" if m == "allows" else None,
                        replies=lambda m, r: ("yes" if r else "no") if m == "allows" else None)
    worker = ChannelWorker("email", broker, providers, prefs, clock=clock, rng=random.Random(3),
                           config=WorkerConfig())
    worker.consumer = tracer.wrap(worker.consumer, "topic", caller="email worker", describe=_broker_call,
                                  replies=_broker_answer)
    tracer.enabled = True
    request = NotificationRequest("r-1", "t01", "u42", ("email",), "Your code is 123456")
    for label in ("POST /notifications r-1 (email)", "retry: r-1 again (the reply was slow)"):
        trace.send("tenant", "API", label)
        result = api.submit(request)
        meaning = {202: "accepted: request + outbox row, one transaction", 200: "replayed: already accepted"}
        trace.reply("API", "tenant", f"{result.status} {meaning.get(result.status, '')}".strip())
    relay.run_until_empty()
    worker.tick(1.0)
    delivered = [d.provider for d in ledger.deliveries]
    times = {0: "never", 1: "once", 2: "twice"}.get(len(delivered), f"{len(delivered)} times")
    return sequence_diagram(trace, title=f"one notification while mailer-a is down: delivered {times}"
                                         f"{' by ' + ', '.join(delivered) if delivered else ''}",
                            generated_from="patterns.capstone (API, OutboxRelay, ChannelWorker; a traced run)")
