"""What a saga is made of: named steps, each a local transaction with a compensating one.

A saga replaces one distributed ACID transaction by a sequence of local transactions T1..Tn, each
committed in one service's own database. If Tk fails, the saga runs the compensations Ck-1..C1 of
the steps that already committed, newest first, so the system ends as if the saga never ran (net
zero effect, not "never happened": a refund is visible, a charge-and-refund is not a no-op).

The contract a step must keep, because the orchestrator retries and a crashed orchestrator resumes:

* ``action(ctx)`` and ``compensation(ctx)`` are idempotent for ``ctx.key`` (saga id + step name):
  running either twice has the effect of running it once;
* a compensation is safe to run even if its action never took effect (it then does nothing);
* a definite refusal is signalled with ``StepRejected`` (nothing happened, nothing to undo); an
  error whose outcome is unknown (timeout, lost reply) with ``TransientError`` (retried, and
  compensated as if it might have happened).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from patterns._validate import require_callable, require_instance, require_int, require_sequence, require_text
from patterns.errors import PatternError

__all__ = [
    "MAX_RETRIES",
    "Step",
    "StepContext",
    "SagaDefinition",
    "StepRejected",
    "TransientError",
    "ProcessCrash",
]


MAX_RETRIES = 100


def step_name_of(value: object, name: str = "name") -> str:
    """A step name: 1 to 64 characters without '/' (it is joined with the saga id by '/')."""
    return require_text(value, name, max_length=64, forbidden="/")


class StepRejected(PatternError):
    """A service refused a step for a business reason (card declined, out of stock): no effect."""


class TransientError(PatternError):
    """A step failed in a way that may succeed later (timeout, lost reply); its outcome is unknown."""


class ProcessCrash(BaseException):
    """Simulated death of the process running a saga (failure injection).

    A ``BaseException`` on purpose: ``except Exception`` in saga code must not "handle" a crash,
    exactly as no code runs after a real ``kill -9``. Tests catch it and start a new process.
    """


@dataclass(frozen=True)
class StepContext:
    """What an action or compensation receives: the saga, the step, the data and the result so far."""

    saga_id: str
    step: str
    data: Mapping[str, Any]
    result: Mapping[str, Any] | None = None  # the action's result, for compensations (None if unknown)

    @property
    def key(self) -> str:
        """The idempotency key of this step: saga id + step name."""
        return f"{self.saga_id}/{self.step}"


Action = Callable[[StepContext], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Step:
    """One local transaction and its compensation.

    ``compensation`` may be None only where no later step can fail after it, i.e. for the last
    step (``SagaDefinition`` enforces this), and only if that step never fails ambiguously: after
    a timeout the orchestrator cannot undo it (it logs ``compensation_missing``, and the
    failure matrix reports the leftover effect). ``retries`` is how many times a ``TransientError``
    from the action is retried before the saga gives up on the step and compensates.
    """

    name: str
    action: Action
    compensation: Action | None = None
    retries: int = 2

    def __post_init__(self) -> None:
        step_name_of(self.name)
        require_callable(self.action, "action")
        if self.compensation is not None:
            require_callable(self.compensation, "compensation")
        require_int(self.retries, "retries", minimum=0, maximum=MAX_RETRIES)


@dataclass(frozen=True)
class SagaDefinition:
    """A named, validated sequence of steps.

    Raises ``ValueError`` for no steps, duplicate step names, or a step other than the last
    without a compensation (a later step could fail and leave its effect in place), and
    ``TypeError`` for something that is not a ``Step``.
    """

    name: str
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def __init__(self, name: str, steps: Sequence[Step]) -> None:
        name = require_text(name, "name", max_length=200)
        if not name.strip():
            raise ValueError(f"name must not be blank, got {name!r}")
        steps = tuple(require_sequence(steps, "steps", min_length=1, max_length=1000))
        for i, step in enumerate(steps):
            require_instance(step, f"steps[{i}]", Step, what="a Step")
        seen: set[str] = set()
        for step in steps:
            if step.name in seen:
                raise ValueError(f"steps must have unique names, {step.name!r} appears twice")
            seen.add(step.name)
        for i, step in enumerate(steps[:-1]):
            if step.compensation is None:
                raise ValueError(
                    f"steps[{i}] ({step.name!r}) needs a compensation: a later step can fail, and its "
                    "effect would then stay in place (only the last step may omit it)"
                )
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "steps", steps)

    def step(self, name: str) -> Step:
        step_name_of(name)
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"saga {self.name!r} has no step {name!r}")

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.steps]
