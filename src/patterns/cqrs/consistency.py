"""Read-your-writes on an eventually consistent read model.

The user who just clicked "Add item" expects to see the item. The command returned a *position*
(the seq of its last event). A read is fresh enough for that user when the projector's checkpoint
is >= that position. ``ReadYourWrites`` waits up to ``timeout`` (on the injected clock) for the
checkpoint to get there, and if it does not, answers from the write model instead: correct and
current, but it costs the join the read model exists to avoid. Other users keep reading the read
model without waiting: only the session that wrote pays.

Guarantee: the answer reflects every event up to ``after`` (from either source). Not guaranteed:
that the read model is fresh for anyone else.

Which clock: ``SystemClock`` (monotonic) by default. Here the clock only measures how long *this*
reader has waited (``timeout``, ``poll_interval``), never a time shared with another process, and a
monotonic clock cannot be stepped by NTP in the middle of a wait. Positions, not timestamps, say
whether the read model has caught up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from patterns._validate import require_callable, require_instance, require_int, require_seconds, require_text
from patterns.clock import Clock, SystemClock
from patterns.cqrs.projections import ORDER_SUMMARIES
from patterns.cqrs.stores import ReadStore
from patterns.cqrs.write_model import CommandResult, WriteModel

__all__ = ["ReadYourWrites", "ConsistentRead"]


@dataclass(frozen=True)
class ConsistentRead:
    """A row, where it came from, and how long the caller waited for it."""

    row: dict[str, Any] | None
    source: Literal["read-model", "write-model"]
    waited: float
    checkpoint: int


class ReadYourWrites:
    """Reads an order summary that is at least as new as a given command's position."""

    def __init__(
        self,
        write_model: WriteModel,
        store: ReadStore,
        *,
        projector_name: str = "orders",
        clock: Clock | None = None,
        timeout: float = 0.5,
        poll_interval: float = 0.05,
        on_wait: Callable[[], object] | None = None,
    ) -> None:
        self.write_model = require_instance(write_model, "write_model", WriteModel)
        self.store = require_instance(store, "store", ReadStore)
        self.projector_name = require_text(projector_name, "projector_name", max_length=200)
        self.clock: Clock = (require_instance(clock, "clock", Clock, what="a Clock (now() and sleep())")
                             if clock is not None else SystemClock())
        self.timeout = require_seconds(timeout, "timeout", positive=False, maximum=3600.0)
        self.poll_interval = require_seconds(poll_interval, "poll_interval", maximum=3600.0)
        if on_wait is not None:
            require_callable(on_wait, "on_wait")
        self.on_wait = on_wait  # called each time we wait: lets a simulation run the projector
        self.fallbacks = 0
        self.fresh_reads = 0

    def wait_for(self, position: int) -> tuple[bool, float]:
        """Wait until the checkpoint >= ``position`` or ``timeout`` passed; (caught_up, waited)."""
        require_int(position, "position", minimum=0, maximum=2**63 - 1)
        waited = 0.0
        while self.store.checkpoint(self.projector_name).position < position:
            if waited >= self.timeout:
                return False, waited
            step = min(self.poll_interval, self.timeout - waited)
            self.clock.sleep(step)
            waited += step
            if self.on_wait is not None:
                self.on_wait()
        return True, waited

    def order(self, order_id: str, *, after: int | CommandResult) -> ConsistentRead:
        """The order's summary reflecting at least position ``after`` (a command's result or a seq)."""
        position = after.position if isinstance(after, CommandResult) else after
        caught_up, waited = self.wait_for(position)
        checkpoint = self.store.checkpoint(self.projector_name).position
        if caught_up:
            self.fresh_reads += 1
            return ConsistentRead(self.store.get(ORDER_SUMMARIES, order_id), "read-model", waited, checkpoint)
        self.fallbacks += 1
        return ConsistentRead(self.write_model.order_summary(order_id), "write-model", waited, checkpoint)
