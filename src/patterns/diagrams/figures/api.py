"""Chapters 9 and 10 (API design, rate limiting): an idempotency key and a shared limiter, traced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import fakeredis

from patterns.api import IdempotencyKeys, MemoryIdempotencyStore, Request, Response, idempotent
from patterns.clock import ManualClock
from patterns.diagrams.dot import Diagram
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.diagrams.tracing import Tracer
from patterns.ratelimit import TokenBucket

__all__ = ["idempotency_key", "shared_limiter"]


def _key_call(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    return {"begin": "claim the key (if new)", "complete": "store the response under the key",
            "release": "release the claim"}.get(method)


def _key_answer(method: str, result: Any) -> str | None:
    if method == "begin":
        return {"new": "new: claimed, in flight", "done": f"done: stored {result.response.status if result.response else ''}",
                "conflict": "conflict: a different request", "in_flight": "still in flight"}[result.state]
    if method == "complete":
        return "stored" if result else "not ours any more"
    return None


def idempotency_key() -> Diagram:
    """The chapter's purchase with an ``Idempotency-Key``: first try, lost reply, retry, misuse."""
    clock = ManualClock()
    trace = Trace(["client", "API", "key store", "card network"],
                  kinds={"client": "client", "key store": "store", "card network": "external"})
    tracer = Tracer(trace)
    charges: list[int] = []

    def charge_card(amount: int) -> int:
        charges.append(amount)
        return len(charges)

    card = tracer.function(charge_card, "card network", caller="API", label="charge",
                           replies=lambda m, r: f"payment {r}")

    def handler(request: Request) -> Response:
        payment = card(request.body["amount"])
        return Response(201, {"Location": f"/payments/{payment}"}, {"payment": payment})

    store = tracer.wrap(MemoryIdempotencyStore(clock), "key store", caller="API", describe=_key_call,
                        replies=_key_answer)
    api = idempotent(handler, IdempotencyKeys(store, ttl=24 * 3600))
    attempt = Request("POST", "/payments", {"Idempotency-Key": "8c1e"}, {"amount": 25})

    def send(request: Request, label: str, lost: bool = False) -> None:
        trace.send("client", "API", label)
        response = api(request)
        replayed = response.header("Idempotent-Replayed")
        text = f"{response.status}{' (replayed)' if replayed else ''}"
        trace.reply("API", "client", f"{text}: lost in the network" if lost else text)

    send(attempt, "POST /payments, Idempotency-Key 8c1e, amount 25", lost=True)
    send(attempt, "retry: the same key, the same body")
    send(attempt.with_(body={"amount": 2500}), "the same key, amount 2500")
    return sequence_diagram(trace, title=f"an idempotency key: 3 requests, {len(charges)} charge",
                            generated_from="patterns.api.idempotent, IdempotencyKeys (a traced run)")


def _script_call(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    return "token-bucket script (atomic): take 1 token" if method == "run" else None


def _script_answer(method: str, result: Any) -> str | None:
    if method != "run":
        return None
    allowed, remaining = result[0], result[1]
    return f"admit: {remaining} left" if allowed else "refuse: bucket empty"


def shared_limiter() -> Diagram:
    """Two app servers, one limit in Redis: requests alternate between servers, the bucket is one."""
    clock = ManualClock()
    redis = fakeredis.FakeRedis()
    trace = Trace(["client", "server-1", "server-2", "Redis"], kinds={"client": "client", "Redis": "store"})
    tracer = Tracer(trace)
    servers = {}
    for name in ("server-1", "server-2"):
        limiter = TokenBucket(limit=3, period=3.0, clock=clock, backend=redis)
        limiter._store = tracer.wrap(limiter._store, "Redis", caller=name, describe=_script_call,
                                     replies=_script_answer)
        servers[name] = limiter
    limiter.reset("api-key:alice")  # a clean bucket (the traced store records nothing for this)
    for i in range(5):
        name = f"server-{i % 2 + 1}"
        trace.send("client", name, f"t={clock.now():.1f} s: GET /orders")
        decision = servers[name].allow("api-key:alice")
        if decision.allowed:
            trace.reply(name, "client", f"200, RateLimit-Remaining: {decision.headers()['RateLimit-Remaining']}")
        else:
            trace.reply(name, "client", f"429, Retry-After: {decision.headers()['Retry-After']}")
        clock.advance(0.2)
    return sequence_diagram(trace, title="one limit (3 per 3 s) shared by two servers through Redis",
                            generated_from="patterns.ratelimit.TokenBucket on Redis (a traced run)")
