"""Channel workers: one consumer group per channel, delivering through breakers and fallbacks.

Each channel (email, SMS, push) is a consumer group on the ``notifications`` topic, so every
channel sees every notification (fan-out) and a slow channel never holds back another. A worker:

* skips records not meant for its channel and users who opted out (``PreferenceCache``);
* dead-letters poison messages (a body its template cannot render) at once, with the reason;
* sends through the primary provider behind its own ``CircuitBreaker``; if that fails or the
  breaker is open, a ``Fallback`` tries the secondary provider (behind its own breaker);
* if both fail, schedules a retry at a full-jitter ``Backoff`` delay instead of sleeping, so one
  failing message never blocks its partition; after ``max_attempts`` it is dead-lettered;
* records the outcome through an ``IdempotentConsumer`` in the worker's SQLite database, in the
  same transaction as the processed mark, so a crash before the offset commit redelivers records
  that are then skipped instead of sent twice.

Why not ``Retry.call``: it sleeps the caller between attempts, which here would mean sleeping a
partition's consumer (head-of-line blocking) and, on a shared ``ManualClock``, moving time for the
whole simulation. A retry *schedule* (the idea behind retry topics) keeps the worker busy with
other messages; ``Backoff.delay`` still draws the same full-jitter pauses.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from patterns._validate import require_instance
from patterns.capstone.api import TOPIC
from patterns.capstone.prefs import PreferenceCache
from patterns.capstone.providers import ProviderError, SimulatedProvider
from patterns.clock import Clock
from patterns.errors import CircuitOpen
from patterns.messaging import Broker, IdempotentConsumer, Record
from patterns.messaging.protocol import Consumer
from patterns.resilience import Backoff, CircuitBreaker, Fallback, StateChange, WindowSpec
from patterns.storage import transaction

__all__ = ["WorkerConfig", "ChannelWorker", "Outcome", "is_poison"]


@dataclass(frozen=True)
class WorkerConfig:
    """Knobs of one channel worker; the booleans switch patterns off to measure them."""

    concurrency: float = 10.0  # provider-seconds of work the worker does per simulated second
    batch: int = 20
    max_attempts: int = 6
    backoff: Backoff = Backoff.exponential(base=2.0, cap=60.0, jitter="full")
    breaker: bool = True
    fallback: bool = True
    retry: bool = True
    idempotent_consumer: bool = True

    def __post_init__(self) -> None:
        if not self.concurrency > 0:
            raise ValueError(f"concurrency must be > 0, got {self.concurrency!r}")
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise ValueError(f"batch must be an integer >= 1, got {self.batch!r}")
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError(f"max_attempts must be an integer >= 1, got {self.max_attempts!r}")


@dataclass(frozen=True)
class Outcome:
    """A delivery attempt's result: the provider that delivered (or None) and the time it cost."""

    provider: str | None
    cost: float
    error: str = ""


def is_poison(body: str) -> bool:
    """A body the template engine cannot render: an unclosed ``{{`` placeholder."""
    require_instance(body, "body", str)
    return body.count("{{") != body.count("}}")


def _breaker(name: str, clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(
        failure_rate_threshold=0.5, window=WindowSpec.count(20), minimum_calls=10,
        wait_in_open=15.0, half_open_calls=3, failure_on=ProviderError, clock=clock, name=name,
    )


class ChannelWorker:
    """One channel's consumer group member plus its retry schedule and dead-letter table."""

    def __init__(
        self,
        channel: str,
        broker: Broker,
        providers: list[SimulatedProvider],
        prefs: PreferenceCache,
        *,
        clock: Clock,
        rng: random.Random,
        config: WorkerConfig | None = None,
    ) -> None:
        if not providers:
            raise ValueError("providers must name at least one provider (primary first)")
        self.channel = channel
        self.broker = broker
        self.providers = providers
        self.prefs = prefs
        self.clock = clock
        self.rng = rng
        self.config = config or WorkerConfig()
        self.breakers = {p.name: _breaker(f"{channel}:{p.name}", clock) for p in providers}
        for breaker in self.breakers.values():
            breaker.add_listener(self._on_transition)
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.executescript(
            "CREATE TABLE deliveries (notification_id TEXT, request_id TEXT, provider TEXT, at REAL);"
            "CREATE TABLE retries (notification_id TEXT PRIMARY KEY, payload TEXT, attempt INTEGER,"
            " due_at REAL, previous REAL);"
            "CREATE INDEX retries_due ON retries(due_at);"
            "CREATE TABLE dead_letters (notification_id TEXT, request_id TEXT, reason TEXT, at REAL);"
        )
        self.idem = IdempotentConsumer(self.db, name=f"worker-{channel}")
        self._members = 0
        self.consumer = self._join()
        self.budget = 0.0
        self.crashes = self.retried = self.skipped = self.fallbacks = self.breaker_opens = 0

    # -- the loop -------------------------------------------------------------------------------

    def tick(self, dt: float, crash: Callable[[int], int | None] | None = None) -> None:
        """Work for ``dt`` simulated seconds: due retries first, then new records.

        ``crash(n)`` may return an index in a batch of ``n`` records: the worker dies after handling
        that many, before committing its offsets (failure injection), and a new member rejoins.
        """
        self.budget = min(self.budget + self.config.concurrency * dt, self.config.concurrency * dt)
        self._run_retries()
        while self.budget > 0:
            records = self.consumer.poll(max_records=self.config.batch)
            if not records:
                break
            cut = crash(len(records)) if crash is not None else None
            for i, record in enumerate(records):
                if cut is not None and i == cut:
                    self.crashes += 1
                    self.consumer.close()  # no commit: everything since the last commit comes back
                    self.consumer = self._join()
                    return
                self._handle(record)
            self.consumer.commit()

    def backlog(self) -> int:
        return sum(self.broker.lag(TOPIC, group=self.group).values())

    def pending_retries(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM retries").fetchone()[0])

    @property
    def group(self) -> str:
        return f"channel-{self.channel}"

    def dead_letters(self) -> list[tuple[str, str, str, float]]:
        """(notification_id, request_id, reason, at) for every dead-lettered notification."""
        return [tuple(r) for r in self.db.execute("SELECT * FROM dead_letters ORDER BY rowid")]

    def deliveries(self) -> list[tuple[str, str, str, float]]:
        return [tuple(r) for r in self.db.execute("SELECT * FROM deliveries ORDER BY rowid")]

    # -- one record -----------------------------------------------------------------------------

    def _handle(self, record: Record) -> None:
        data = record.value["data"]
        if self.channel not in data["channels"]:
            return
        if self.config.idempotent_consumer:
            self.idem.handle(record, lambda tx, rec: self._first_attempt(tx, data))
        else:
            with transaction(self.db) as tx:
                self._first_attempt(tx, data)

    def _first_attempt(self, tx: sqlite3.Connection, data: dict[str, Any]) -> None:
        if is_poison(data["body"]):
            self._dead_letter(tx, data, "poison: template cannot render the body")
            return
        if not self.prefs.allows(data["user"], self.channel):
            self.skipped += 1
            return
        self._attempt(tx, data, attempt=1, previous=self.config.backoff.base)

    def _attempt(self, tx: sqlite3.Connection, data: dict[str, Any], attempt: int, previous: float) -> None:
        outcome = self.send(data["request_id"])
        self.budget -= outcome.cost
        now = self.clock.now()
        if outcome.provider is not None:
            tx.execute(
                "INSERT INTO deliveries VALUES (?, ?, ?, ?)",
                (data["notification_id"], data["request_id"], outcome.provider, now + outcome.cost),
            )
            return
        if not self.config.retry or attempt >= self.config.max_attempts:
            self._dead_letter(tx, data, f"gave up after {attempt} attempt(s): {outcome.error}")
            return
        pause = self.config.backoff.delay(attempt - 1, previous, self.rng)
        self.retried += 1
        tx.execute(
            "INSERT OR REPLACE INTO retries VALUES (?, ?, ?, ?, ?)",
            (data["notification_id"], json.dumps(data), attempt + 1, now + pause, pause),
        )

    def _run_retries(self) -> None:
        now = self.clock.now()
        while self.budget > 0:
            row = self.db.execute(
                "SELECT notification_id, payload, attempt, previous FROM retries WHERE due_at <= ?"
                " ORDER BY due_at, notification_id LIMIT 1",
                (now,),
            ).fetchone()
            if row is None:
                return
            with transaction(self.db) as tx:
                tx.execute("DELETE FROM retries WHERE notification_id = ?", (row[0],))
                self._attempt(tx, json.loads(row[1]), attempt=row[2], previous=row[3])

    def _dead_letter(self, tx: sqlite3.Connection, data: dict[str, Any], reason: str) -> None:
        tx.execute(
            "INSERT INTO dead_letters VALUES (?, ?, ?, ?)",
            (data["notification_id"], data["request_id"], reason, self.clock.now()),
        )

    # -- providers ------------------------------------------------------------------------------

    def send(self, request_id: str) -> Outcome:
        """Primary provider, then (if enabled) the secondary through ``Fallback``; never raises."""
        spent = [0.0]

        def call(provider: SimulatedProvider) -> str:
            def attempt() -> str:
                try:
                    spent[0] += provider.send(request_id, self.channel)
                except ProviderError as exc:
                    spent[0] += exc.elapsed
                    raise
                return provider.name

            if self.config.breaker:
                return self.breakers[provider.name].call(attempt)
            return attempt()

        primary, rest = self.providers[0], self.providers[1:]
        try:
            if self.config.fallback and rest:
                secondary = rest[0]
                def to_secondary(error: Exception, _primary: SimulatedProvider) -> str:
                    self.fallbacks += 1
                    return call(secondary)

                name = Fallback(to_secondary, on=(ProviderError, CircuitOpen)).call(call, primary)
            else:
                name = call(primary)
        except (ProviderError, CircuitOpen) as exc:
            return Outcome(None, spent[0], str(exc) or type(exc).__name__)
        return Outcome(name, spent[0])

    def _on_transition(self, change: StateChange) -> None:
        if change.new == "open":
            self.breaker_opens += 1

    def _join(self) -> Consumer:
        self._members += 1
        return self.broker.subscribe(TOPIC, group=self.group, member=f"{self.channel}-{self._members}")
