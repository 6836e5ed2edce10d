"""The front door: accept "send notification" requests, once each, within each tenant's quota.

``NotificationAPI.submit`` does three things, in this order, and the order is the design:

1. **Idempotency by request id.** A client that timed out retries with the same ``request_id``.
   The first request's answer is stored with it; a replay gets that answer back (HTTP 200) and
   creates nothing; the same id with a different body is a conflict (409). The replay is checked
   *before* the rate limit, so a client's retries never eat its quota.
2. **Per-tenant rate limit** (a ``patterns.ratelimit`` limiter keyed by tenant): one noisy
   tenant gets 429s with ``Retry-After`` instead of filling the queues every tenant shares.
3. **Request row + outbox row in one SQLite transaction** (``patterns.messaging.Outbox``): an
   accepted request always produces exactly one ``NotificationRequested`` event, keyed by user
   id so one user's notifications stay in order on one partition.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from patterns._validate import require_instance
from patterns.clock import Clock
from patterns.messaging import Event, Outbox, new_event_id
from patterns.ratelimit import RateLimiter

__all__ = ["CHANNELS", "NotificationRequest", "SubmitResult", "NotificationAPI", "TOPIC"]

CHANNELS: tuple[str, ...] = ("email", "sms", "push")
TOPIC = "notifications"


@dataclass(frozen=True)
class NotificationRequest:
    """What a client sends. ``request_id`` is the client's idempotency key (unique per tenant)."""

    request_id: str
    tenant: str
    user: str
    channels: tuple[str, ...]
    body: str

    def __post_init__(self) -> None:
        for name in ("request_id", "tenant", "user"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        if not isinstance(self.body, str):
            raise TypeError(f"body must be a string, got {type(self.body).__name__}")
        if not self.channels or any(c not in CHANNELS for c in self.channels):
            raise ValueError(f"channels must be a non-empty subset of {CHANNELS}, got {self.channels!r}")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError(f"channels must not repeat, got {self.channels!r}")

    def fingerprint(self) -> str:
        """A hash of everything but the request id: what "the same request" means."""
        doc = json.dumps([self.tenant, self.user, sorted(self.channels), self.body])
        return hashlib.sha256(doc.encode()).hexdigest()


@dataclass(frozen=True)
class SubmitResult:
    """The HTTP-style answer: 202 accepted, 200 replayed, 409 conflict, 429 rate limited."""

    status: int
    notification_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status in (200, 202)


class NotificationAPI:
    """Accepts requests into a SQLite request table and its outbox (see the module docstring).

    ``limiter=None`` turns the rate limit off; ``idempotency=False`` stores every request as new
    (both exist to measure what the pattern buys, as the capstone lab does).
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        *,
        clock: Clock,
        rng: random.Random,
        limiter: RateLimiter | None = None,
        idempotency: bool = True,
    ) -> None:
        if not isinstance(db, sqlite3.Connection):
            raise TypeError(f"db must be a sqlite3.Connection, got {type(db).__name__}")
        self.db = db
        self.clock = require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
        self.rng = require_instance(rng, "rng", random.Random)
        self.limiter = limiter
        self.idempotency = bool(idempotency)
        self.outbox = Outbox(db, clock=clock, rng=rng)
        db.execute(
            "CREATE TABLE IF NOT EXISTS requests (notification_id TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
            " request_id TEXT NOT NULL, fingerprint TEXT NOT NULL, accepted_at REAL NOT NULL)"
        )
        if self.idempotency:
            db.execute("CREATE UNIQUE INDEX IF NOT EXISTS requests_key ON requests(tenant, request_id)")
        if db.in_transaction:
            db.commit()
        self.accepted = self.replayed = self.conflicts = self.rate_limited = 0
        self.rate_limited_by_tenant: Counter[str] = Counter()

    def submit(self, request: NotificationRequest) -> SubmitResult:
        """Accept, replay, refuse (429) or reject (409) one request; see the module docstring."""
        if not isinstance(request, NotificationRequest):
            raise TypeError(f"request must be a NotificationRequest, got {type(request).__name__}")
        fingerprint = request.fingerprint()
        if self.idempotency:
            seen = self._lookup(request)
            if seen is not None:
                if seen[1] != fingerprint:
                    self.conflicts += 1
                    return SubmitResult(409)
                self.replayed += 1
                return SubmitResult(200, seen[0])
        headers: dict[str, str] = {}
        if self.limiter is not None:
            decision = self.limiter.allow(f"tenant:{request.tenant}")
            headers = decision.headers()
            if not decision.allowed:
                self.rate_limited += 1
                self.rate_limited_by_tenant[request.tenant] += 1
                return SubmitResult(429, None, headers)
        now = self.clock.now()
        nid = new_event_id(self.rng)
        event = Event(
            "NotificationRequested",
            key=request.user,
            data={
                "notification_id": nid,
                "request_id": request.request_id,
                "tenant": request.tenant,
                "user": request.user,
                "channels": list(request.channels),
                "body": request.body,
                "accepted_at": now,
            },
            event_id=nid,
        )
        with self.outbox.transaction() as tx:
            tx.execute(
                "INSERT INTO requests VALUES (?, ?, ?, ?, ?)",
                (nid, request.tenant, request.request_id, fingerprint, now),
            )
            self.outbox.add(tx, TOPIC, event)
        self.accepted += 1
        return SubmitResult(202, nid, headers)

    def accepted_requests(self) -> list[tuple[str, str, str]]:
        """(notification_id, tenant, request_id) of every accepted request, in acceptance order."""
        sql = "SELECT notification_id, tenant, request_id FROM requests ORDER BY rowid"
        return [tuple(row) for row in self.db.execute(sql)]

    def _lookup(self, request: NotificationRequest) -> tuple[str, str] | None:
        row = self.db.execute(
            "SELECT notification_id, fingerprint FROM requests WHERE tenant = ? AND request_id = ?",
            (request.tenant, request.request_id),
        ).fetchone()
        return None if row is None else (row[0], row[1])
