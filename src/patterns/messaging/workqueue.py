"""A work queue: the message-queue style (RabbitMQ, SQS), as opposed to the event-log style.

In a log every group reads every event and the log keeps them; in a work queue each message is a
job for ONE of several competing workers and disappears once a worker acknowledges it. What this
queue guarantees, on an injected clock:

* a message is handed to one worker at a time (it is *in flight* until ``ack``/``nack``);
* ``nack`` (or a worker that vanishes: its visibility timeout expires) makes the message available
  again after a backoff: ``patterns.resilience.Backoff`` (the same schedule ``Retry`` uses), by
  default ``Backoff.exponential(base=1.0, cap=60.0, jitter="none")``: 1, 2, 4, ... seconds after
  the 1st, 2nd, 3rd failure, capped at 60. A jittered backoff draws from ``rng``;
* after ``max_attempts`` failed attempts the message moves to the dead-letter list with its last
  error, so one poison message cannot block or burn the workers forever.

Delivery is at-least-once: a worker slower than the visibility timeout sees its message handed to
another worker, and its late ``ack`` is refused (returns False). Order is FIFO by availability time
but retries reorder messages; use a log with keys when order matters.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from patterns._validate import require_instance, require_int, require_seconds, require_text
from patterns.clock import Clock, SystemClock
from patterns.resilience import Backoff

__all__ = ["Message", "DeadLetter", "WorkQueue", "DEFAULT_BACKOFF"]

#: 1, 2, 4, ... seconds after the 1st, 2nd, 3rd failure, at most 60: no jitter, so a lab's times
#: are round numbers. Production queues add jitter (``Backoff.exponential(..., jitter="full")``).
DEFAULT_BACKOFF = Backoff.exponential(base=1.0, cap=60.0, jitter="none")


@dataclass(frozen=True)
class Message:
    """A job as a worker receives it. ``attempt`` counts deliveries, starting at 1."""

    id: int
    payload: Any
    attempt: int = 0
    consumer: str | None = None
    receipt: int = 0
    enqueued_at: float = 0.0


@dataclass(frozen=True)
class DeadLetter:
    """A message that failed ``max_attempts`` times, and why the last attempt failed."""

    message: Message
    error: str
    at: float


@dataclass
class _Stats:
    acked: int = 0
    nacked: int = 0
    expired: int = 0
    delivered: int = 0


@dataclass(order=True)
class _Ready:
    available_at: float
    id: int
    message: Message = field(compare=False)


class WorkQueue:
    """Competing consumers with ack/nack, visibility timeout, retry with backoff, and a DLQ."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        max_attempts: int = 3,
        backoff: Backoff | None = None,
        visibility_timeout: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.clock: Clock = require_instance(clock, "clock", Clock) if clock is not None else SystemClock()
        self.max_attempts = require_int(max_attempts, "max_attempts", minimum=1, maximum=1_000)
        self.backoff = (
            require_instance(backoff, "backoff", Backoff, what="a patterns.resilience.Backoff")
            if backoff is not None
            else DEFAULT_BACKOFF
        )
        self.visibility_timeout = require_seconds(visibility_timeout, "visibility_timeout")
        self.rng = require_instance(rng, "rng", random.Random) if rng is not None else random.Random()
        self.dead_letters: list[DeadLetter] = []
        self._ready: list[_Ready] = []  # a heap by (available_at, id)
        self._in_flight: dict[int, tuple[Message, float]] = {}  # id -> (message, deadline)
        self._pauses: dict[int, float] = {}  # id -> the last backoff pause (decorrelated jitter grows from it)
        self._ids = itertools.count(1)
        self._receipts = itertools.count(1)
        self._stats = _Stats()
        self._lock = threading.Lock()

    def put(self, payload: Any, *, delay: float = 0.0) -> int:
        """Enqueue a job (available after ``delay`` seconds); returns its id."""
        require_seconds(delay, "delay", positive=False)
        with self._lock:
            now = self.clock.now()
            msg = Message(next(self._ids), payload, enqueued_at=now)
            heapq.heappush(self._ready, _Ready(now + delay, msg.id, msg))
            return msg.id

    def get(self, consumer: str = "worker") -> Message | None:
        """The next available job for ``consumer``, or None; it stays in flight until ack/nack."""
        require_text(consumer, "consumer", max_length=200)
        with self._lock:
            now = self.clock.now()
            self._expire(now)
            if not self._ready or self._ready[0].available_at > now:
                return None
            msg = heapq.heappop(self._ready).message
            msg = replace(msg, attempt=msg.attempt + 1, consumer=consumer, receipt=next(self._receipts))
            self._in_flight[msg.id] = (msg, now + self.visibility_timeout)
            self._stats.delivered += 1
            return msg

    def ack(self, message: Message) -> bool:
        """Done: remove the job. False if this delivery is stale (timed out and handed out again)."""
        require_instance(message, "message", Message)
        with self._lock:
            if not self._owns(message):
                return False
            del self._in_flight[message.id]
            self._pauses.pop(message.id, None)
            self._stats.acked += 1
            return True

    def nack(self, message: Message, error: str = "nack") -> bool:
        """Failed: retry after the backoff, or dead-letter after ``max_attempts``. False if stale."""
        require_instance(message, "message", Message)
        require_text(error, "error", max_length=10_000)
        with self._lock:
            if not self._owns(message):
                return False
            del self._in_flight[message.id]
            self._stats.nacked += 1
            self._fail(message, error, self.clock.now())
            return True

    def redrive(self) -> int:
        """Move every dead letter back to the queue with a fresh attempt count (after a fix)."""
        with self._lock:
            now = self.clock.now()
            for dead in self.dead_letters:
                self._pauses.pop(dead.message.id, None)
                msg = replace(dead.message, attempt=0, consumer=None)
                heapq.heappush(self._ready, _Ready(now, msg.id, msg))
            moved, self.dead_letters = len(self.dead_letters), []
            return moved

    def next_available_at(self) -> float | None:
        """When the earliest waiting job becomes available (None if nothing waits)."""
        with self._lock:
            times = [r.available_at for r in self._ready[:1]] + [d for _, d in self._in_flight.values()]
            return min(times) if times else None

    def stats(self) -> dict[str, int]:
        """Counts: ready now, delayed (backing off), in flight, acked, dead, delivered, expired."""
        with self._lock:
            now = self.clock.now()
            self._expire(now)
            ready = sum(1 for r in self._ready if r.available_at <= now)
            return {
                "ready": ready,
                "delayed": len(self._ready) - ready,
                "in_flight": len(self._in_flight),
                "acked": self._stats.acked,
                "dead": len(self.dead_letters),
                "delivered": self._stats.delivered,
                "expired": self._stats.expired,
            }

    def __len__(self) -> int:
        """Jobs not yet acked or dead-lettered."""
        with self._lock:
            return len(self._ready) + len(self._in_flight)

    # --- internals (lock held) ------------------------------------------------------------------

    def _owns(self, message: Message) -> bool:
        current = self._in_flight.get(message.id)
        return current is not None and current[0].receipt == message.receipt

    def _expire(self, now: float) -> None:
        """Workers that held a job past the visibility timeout are presumed dead: a failed attempt."""
        for msg_id, (msg, deadline) in list(self._in_flight.items()):
            if deadline <= now:
                del self._in_flight[msg_id]
                self._stats.expired += 1
                self._fail(msg, f"visibility timeout ({self.visibility_timeout}s) expired", deadline)

    def _fail(self, message: Message, error: str, at: float) -> None:
        if message.attempt >= self.max_attempts:
            self._pauses.pop(message.id, None)
            self.dead_letters.append(DeadLetter(message, error, at))
            return
        previous = self._pauses.get(message.id, self.backoff.base)
        pause = self._pauses[message.id] = self.backoff.delay(message.attempt - 1, previous, self.rng)
        heapq.heappush(self._ready, _Ready(at + pause, message.id, message))
