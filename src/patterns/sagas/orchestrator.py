"""Orchestration: one coordinator runs the steps, logs each move, and compensates in reverse.

Guarantees, given steps that keep the contract in ``patterns.sagas.steps`` (idempotent per saga id
+ step, compensations safe to repeat and safe when nothing happened):

* every saga ends ``COMPLETED`` (every action took effect once) or ``CANCELLED`` (every action that
  may have taken effect was compensated, newest first);
* a crash at any point loses nothing: ``resume``/``resume_all`` on a new orchestrator reads the
  ``SagaLog`` and either finishes the remaining steps or finishes compensating;
* an action's ``TransientError`` is retried ``step.retries`` times with backoff on the injected
  clock; a compensation is retried up to ``compensation_attempts`` times. If a compensation still
  fails, ``SagaFailed`` is raised and the saga stays ``COMPENSATING`` in the log, so a later
  ``resume`` picks it up: never silently stuck, never silently half-done.

Not guaranteed: isolation. Between a saga's first step and its last compensation other sagas see
its intermediate effects (a charge that will be refunded). Countermeasures belong to the services
(pending states, semantic locks); see chapter 5.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from patterns._validate import require_instance, require_int, require_mapping
from patterns.clock import Clock
from patterns.errors import IdempotencyConflict, SagaFailed
from patterns.resilience import Backoff
from patterns.sagas.log import (
    ACTION_DONE,
    ACTION_FAILED,
    ACTION_REJECTED,
    ACTION_STARTED,
    CANCELLED,
    COMPENSATING,
    COMPENSATION_DONE,
    COMPENSATION_FAILED,
    COMPENSATION_MISSING,
    COMPENSATION_STARTED,
    COMPLETED,
    RUNNING,
    SagaLog,
    SagaRecord,
    compensations_due,
    saga_id_of,
)
from patterns.sagas.steps import SagaDefinition, Step, StepContext, StepRejected, TransientError

__all__ = ["Orchestrator", "SagaResult", "DEFAULT_BACKOFF"]

DEFAULT_BACKOFF = Backoff.exponential(base=1.0, cap=30.0, jitter="none")


@dataclass(frozen=True)
class SagaResult:
    """How a saga ended (``state`` is COMPLETED or CANCELLED) and why."""

    saga_id: str
    state: str
    failed_step: str | None = None
    reason: str | None = None

    @property
    def completed(self) -> bool:
        return self.state == COMPLETED

    def raise_if_cancelled(self) -> SagaResult:
        """Raise ``SagaFailed`` for a cancelled saga (for callers that want an exception)."""
        if self.state != COMPLETED:
            raise SagaFailed(f"saga {self.saga_id} {self.state.lower()} at step {self.failed_step!r}: {self.reason}")
        return self


class Orchestrator:
    """Runs sagas of one ``SagaDefinition``, persisting every move in a ``SagaLog``."""

    def __init__(
        self,
        definition: SagaDefinition,
        log: SagaLog,
        *,
        clock: Clock | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        compensation_attempts: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self.definition = require_instance(definition, "definition", SagaDefinition, what="a SagaDefinition")
        self.log = require_instance(log, "log", SagaLog, what="a SagaLog")
        self.clock: Clock = log.clock if clock is None else require_instance(clock, "clock", Clock)
        self.backoff = require_instance(backoff, "backoff", Backoff, what="a patterns.resilience.Backoff")
        # draws the backoff's jitter, if any
        self.rng = random.Random() if rng is None else require_instance(rng, "rng", random.Random)
        self.compensation_attempts = require_int(compensation_attempts, "compensation_attempts", minimum=1, maximum=1000)

    # --- public ------------------------------------------------------------------------------

    def run(self, saga_id: str, data: Mapping[str, Any]) -> SagaResult:
        """Start saga ``saga_id`` with ``data`` and drive it to its end.

        Idempotent: running an existing saga id with the same data resumes it (or returns how it
        ended); different data for an existing id raises ``IdempotencyConflict``.
        """
        saga_id = saga_id_of(saga_id)
        data = require_mapping(data, "data")
        if not self.log.create(saga_id, self.definition.name, data):
            existing = self.log.get(saga_id)
            assert existing is not None
            if dict(existing.data) != dict(data):
                raise IdempotencyConflict(f"saga {saga_id!r} already exists with different data")
        return self.resume(saga_id)

    def resume(self, saga_id: str) -> SagaResult:
        """Carry on saga ``saga_id`` from its log: finish its steps or finish compensating."""
        record = self.log.get(saga_id_of(saga_id))
        if record is None:
            raise KeyError(f"no saga {saga_id!r} in the log")
        if record.definition != self.definition.name:
            raise ValueError(
                f"saga {saga_id!r} belongs to definition {record.definition!r}, not {self.definition.name!r}"
            )
        if record.state == RUNNING:
            record = self._run_steps(record)
        if record.state == COMPENSATING:
            record = self._compensate(record)
        return SagaResult(record.saga_id, record.state, record.failed_step, record.reason)

    def resume_all(self) -> list[SagaResult]:
        """Resume every unfinished saga of this definition (what a restarted orchestrator does first)."""
        return [self.resume(r.saga_id) for r in self.log.unfinished() if r.definition == self.definition.name]

    # --- forward path ------------------------------------------------------------------------

    def _run_steps(self, record: SagaRecord) -> SagaRecord:
        done = {e.step for e in self.log.events(record.saga_id) if e.kind == ACTION_DONE}
        for step in self.definition.steps:
            if step.name in done:
                continue
            error = self._run_action(record, step)
            if error is not None:
                return self.log.set_state(record.saga_id, COMPENSATING, failed_step=step.name, reason=error)
        return self.log.set_state(record.saga_id, COMPLETED)

    def _run_action(self, record: SagaRecord, step: Step) -> str | None:
        """Run one action with retries; None on success, else the reason it failed."""
        ctx = StepContext(record.saga_id, step.name, record.data)
        pause = self.backoff.base
        for attempt in range(1, step.retries + 2):
            self.log.record(record.saga_id, step.name, ACTION_STARTED, attempt=attempt)
            try:
                result = step.action(ctx)
            except StepRejected as exc:  # definite for THIS attempt; an earlier one may still have acted
                self.log.record(record.saga_id, step.name, ACTION_REJECTED, error=str(exc))
                return f"{step.name} rejected: {exc}"
            except TransientError as exc:  # unknown outcome: retry, and compensate if we give up
                self.log.record(record.saga_id, step.name, ACTION_FAILED, error=str(exc), attempt=attempt)
                if attempt <= step.retries:
                    pause = self.backoff.delay(attempt - 1, pause, self.rng)
                    self.clock.sleep(pause)
                    continue
                return f"{step.name} failed after {attempt} attempts: {exc}"
            except Exception as exc:  # noqa: BLE001 - an unexpected error: outcome unknown, do not retry
                self.log.record(record.saga_id, step.name, ACTION_FAILED, error=f"{type(exc).__name__}: {exc}")
                return f"{step.name} raised {type(exc).__name__}: {exc}"
            self.log.record(record.saga_id, step.name, ACTION_DONE, result=dict(result or {}))
            return None
        raise AssertionError("unreachable")  # pragma: no cover

    # --- backward path -----------------------------------------------------------------------

    def _compensate(self, record: SagaRecord) -> SagaRecord:
        events = self.log.events(record.saga_id)
        results = {e.step: e.detail.get("result") for e in events if e.kind == ACTION_DONE}
        for name in compensations_due(self.definition.names, [(e.step, e.kind) for e in events]):
            step = self.definition.step(name)
            if step.compensation is None:  # the last step, and only if its outcome was unknown
                self.log.record(record.saga_id, name, COMPENSATION_MISSING)
                continue
            ctx = StepContext(record.saga_id, name, record.data, results.get(name))
            self._run_compensation(record.saga_id, step, ctx)
        return self.log.set_state(record.saga_id, CANCELLED)

    def _run_compensation(self, saga_id: str, step: Step, ctx: StepContext) -> None:
        assert step.compensation is not None
        pause = self.backoff.base
        for attempt in range(1, self.compensation_attempts + 1):
            self.log.record(saga_id, step.name, COMPENSATION_STARTED, attempt=attempt)
            try:
                step.compensation(ctx)
            except Exception as exc:  # noqa: BLE001 - a compensation must eventually succeed: retry any error
                self.log.record(saga_id, step.name, COMPENSATION_FAILED, error=str(exc), attempt=attempt)
                if attempt < self.compensation_attempts:
                    pause = self.backoff.delay(attempt - 1, pause, self.rng)
                    self.clock.sleep(pause)
                    continue
                raise SagaFailed(
                    f"saga {saga_id}: compensation of {step.name!r} failed {attempt} times ({exc}); "
                    "the saga stays COMPENSATING and resume() will try again"
                ) from exc
            self.log.record(saga_id, step.name, COMPENSATION_DONE)
            return
