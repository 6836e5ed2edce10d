"""The projector: consumes events in order and keeps a read model (and its checkpoint) current.

Guarantees:

* **Atomic progress.** Each batch of events is applied in ONE store transaction together with the
  new checkpoint (``ReadStore.atomically``). After a crash, the read model and the checkpoint
  always agree.
* **Effectively once.** Delivery is at-least-once (a broker redelivers uncommitted records, the
  outbox relay can publish twice). An event whose ``seq`` is <= the checkpoint is skipped, so a
  redelivered event never counts twice.
* **No silent holes.** Events must arrive in ``seq`` order (the events topic has one partition);
  an event beyond ``checkpoint + 1`` raises ``ProjectionGap`` instead of building a wrong model.
* **Measured lag.** Every event carries ``at`` (when the write side wrote it); the projector
  records when it applied it (``samples``), on the injected clock. The default clock is
  ``WallClock``: the projector usually runs in another process than the write model, and lag is
  the difference of their two readings, which only means something on a shared time base.

``rebuild`` replays a full event history into a fresh store: the same projections over the same
events give the same rows, which is how a read model is repaired or a new one added after the fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from patterns._validate import require_instance, require_int, require_text
from patterns.clock import Clock, WallClock
from patterns.cqrs.projections import OrderSummaries, Projection
from patterns.cqrs.stores import ReadStore, StoreTx
from patterns.errors import PatternError
from patterns.messaging import Broker, Consumer, Event, Record

__all__ = ["Projector", "ProjectionGap", "LagSample", "rebuild", "events_from_broker", "as_event"]


class ProjectionGap(PatternError):
    """An event arrived whose predecessor was never applied (lost, reordered, or retention-deleted)."""


@dataclass(frozen=True)
class LagSample:
    """One applied event: when it was written and when the read model caught up with it."""

    seq: int
    written_at: float
    applied_at: float

    @property
    def lag(self) -> float:
        return round(self.applied_at - self.written_at, 9)  # seconds, without float dust


def as_event(item: Event | Record | Mapping[str, Any]) -> Event:
    """An ``Event`` from an event, a broker ``Record`` of one, or its ``to_dict()`` form."""
    if isinstance(item, Event):
        return item
    if isinstance(item, Record):
        return Event.from_dict(item.value)
    if isinstance(item, Mapping):
        return Event.from_dict(item)
    raise TypeError(f"events must be Event, Record or dict items, got {type(item).__name__}")


def _seq(event: Event) -> int:
    seq = event.data.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError(f"event {event.type} must carry data['seq'] as an integer >= 1, got {seq!r}")
    return seq


class Projector:
    """Applies events to ``projections`` on ``store``; ``name`` keys its checkpoint in the store."""

    def __init__(
        self,
        store: ReadStore,
        projections: Sequence[Projection] | None = None,
        *,
        name: str = "orders",
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(store, ReadStore):
            raise TypeError(f"store must be a ReadStore, got {type(store).__name__}")
        projections = list(projections) if projections is not None else [OrderSummaries()]
        if not projections:
            raise ValueError("projections must hold at least one projection")
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"projections must have distinct names, got {names}")
        self.store = store
        self.projections = projections
        self.name = require_text(name, "name", max_length=200)
        self.clock: Clock = (require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
                             if clock is not None else WallClock())
        self.tables = tuple(t for p in projections for t in p.tables)
        store.ensure(self.tables)
        self.samples: list[LagSample] = []
        self.applied = 0
        self.skipped = 0

    @property
    def position(self) -> int:
        """The checkpoint: seq of the last event in the read model (0 = nothing yet)."""
        return self.store.checkpoint(self.name).position

    def apply(self, events: Iterable[Event | Record | Mapping[str, Any]]) -> int:
        """Apply a batch in one transaction; returns how many events were new (duplicates skipped)."""
        batch = [as_event(e) for e in events]
        if not batch:
            return 0
        now = self.clock.now()

        def body(tx: StoreTx) -> list[Event]:
            position = tx.checkpoint.position
            done: list[Event] = []
            for event in batch:
                seq = _seq(event)
                if seq <= position:
                    continue  # redelivered: already in the read model
                if seq != position + 1:
                    raise ProjectionGap(f"projector {self.name!r} is at {position} and got seq {seq}: "
                                        f"events {position + 1}..{seq - 1} are missing")
                for projection in self.projections:
                    projection.apply(event, tx)
                position = seq
                done.append(event)
            if done:
                tx.set_checkpoint(position, now)
            return done

        done = self.store.atomically(self.name, body)
        self.samples.extend(LagSample(_seq(e), float(e.data.get("at", now)), now) for e in done)
        self.applied += len(done)
        self.skipped += len(batch) - len(done)
        return len(done)

    def run_once(self, consumer: Consumer, *, max_records: int = 100) -> int:
        """Poll one batch, apply it, then commit the broker offsets (a crash before: redelivery)."""
        records = consumer.poll(max_records=max_records)
        if not records:
            return 0
        applied = self.apply(records)
        consumer.commit()
        return applied

    def run_until_idle(self, consumer: Consumer, *, max_records: int = 100, max_rounds: int = 10_000) -> int:
        """``run_once`` until a poll returns nothing; returns the number of new events applied."""
        total = 0
        for _ in range(max_rounds):
            records = consumer.poll(max_records=max_records)
            if not records:
                break
            total += self.apply(records)
            consumer.commit()
        return total

    def lag_behind(self, write_position: int) -> int:
        """How many written events the read model has not applied yet."""
        return max(0, write_position - self.position)


def rebuild(
    events: Iterable[Event | Record | Mapping[str, Any]],
    store: ReadStore,
    projections: Sequence[Projection] | None = None,
    *,
    name: str = "orders",
    clock: Clock | None = None,
    batch_size: int = 500,
) -> Projector:
    """Replay ``events`` (the full history, from seq 1) into the EMPTY ``store``; return its projector.

    Raises ``ValueError`` if ``store`` already has a checkpoint or rows for these projections:
    rebuilding on top of old rows would mix two histories.
    """
    require_int(batch_size, "batch_size", minimum=1, maximum=1_000_000)
    require_instance(events, "events", Iterable, what="an iterable of events")
    projector = Projector(store, projections, name=name, clock=clock)
    if projector.position != 0 or any(store.rows(t) for t in projector.tables):
        raise ValueError("store must be empty for a rebuild (use a fresh store or a new prefix)")
    chunk: list[Event] = []
    for item in events:
        chunk.append(as_event(item))
        if len(chunk) >= batch_size:
            projector.apply(chunk)
            chunk = []
    projector.apply(chunk)
    return projector


def events_from_broker(broker: Broker, topic: str) -> list[Event]:
    """Every retained event on ``topic`` (partition, offset order), for a replay."""
    require_instance(broker, "broker", Broker, what="a Broker")
    return [Event.from_dict(r.value) for r in broker.read(topic)]
