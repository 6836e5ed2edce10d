"""Failure injection for sagas: which step is refused, which reply is lost, where the process dies.

A ``FaultPlan`` describes what goes wrong in ONE saga; a ``FaultInjector`` holds the plans of a
run (per saga id, or one plan for every saga) and is consulted by the simulated services at four
points of each step. Crashes and lost replies fire once (a restarted process does not die at the
same place again); a flaky compensation fails ``n`` times and then works.

The five kinds the failure matrix crosses with every step:

======================= ====================================================================
``reject``              the step's action is refused (declined card, no stock, no courier)
``lost_reply``          the action takes effect, but its reply is lost once (a timeout)
``timeout``             the action takes effect, but no reply ever comes back: the caller
                        cannot tell it happened (choreography has no such call: the service
                        commits its effect and its event together)
``crash``               the process dies right after the action took effect, before anyone
                        recorded it
``flaky_compensation``  the saga is cancelled by the last step, and this step's compensation
                        fails transiently twice before it works
``crash_compensating``  the saga is cancelled by the last step, and the process dies right
                        after this step's compensation took effect
======================= ====================================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from patterns._validate import (
    require_instance,
    require_int,
    require_mapping,
    require_one_of,
    require_sequence,
)
from patterns.sagas.steps import ProcessCrash, StepRejected, TransientError, step_name_of

__all__ = ["FaultPlan", "FaultInjector", "FAILURE_KINDS", "plan_for"]

FAILURE_KINDS = ("reject", "lost_reply", "timeout", "crash", "flaky_compensation", "crash_compensating")
MAX_FLAKY = 1_000_000  # failures of one compensation before it works


@dataclass(frozen=True)
class FaultPlan:
    """What goes wrong in one saga (every field names a step, or None for "nothing")."""

    reject: str | None = None
    lost_reply: str | None = None
    timeout: str | None = None
    crash_after: str | None = None
    crash_after_compensation: str | None = None
    flaky_compensation: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("reject", "lost_reply", "timeout", "crash_after", "crash_after_compensation"):
            value = getattr(self, name)
            if value is not None:
                step_name_of(value, name)
        for step, n in require_mapping(self.flaky_compensation, "flaky_compensation").items():
            step_name_of(step, "flaky_compensation key")
            require_int(n, f"flaky_compensation[{step!r}]", minimum=0, maximum=MAX_FLAKY)


def plan_for(kind: str, step: str, steps: Sequence[str], *, flaky_times: int = 2) -> FaultPlan:
    """The ``FaultPlan`` for one cell of the failure matrix: failure ``kind`` at ``step``.

    The compensation kinds need a saga that is cancelled after ``step`` took effect: the last
    step is rejected (when ``step`` is the last step itself, its compensation then never runs,
    which the matrix shows as a plain cancellation).
    """
    require_one_of(kind, "kind", FAILURE_KINDS)
    steps = [step_name_of(s, "steps item") for s in require_sequence(steps, "steps", max_length=1000)]
    require_one_of(step, "step", steps)
    require_int(flaky_times, "flaky_times", minimum=0, maximum=MAX_FLAKY)
    if kind == "reject":
        return FaultPlan(reject=step)
    if kind == "lost_reply":
        return FaultPlan(lost_reply=step)
    if kind == "timeout":
        return FaultPlan(timeout=step)
    if kind == "crash":
        return FaultPlan(crash_after=step)
    if kind == "flaky_compensation":
        return FaultPlan(reject=steps[-1], flaky_compensation={step: flaky_times})
    return FaultPlan(reject=steps[-1], crash_after_compensation=step)


class FaultInjector:
    """The fault plans of a run; services call its hooks. ``FaultInjector()`` injects nothing."""

    def __init__(self, plans: FaultPlan | Mapping[str, FaultPlan] | None = None) -> None:
        if plans is None:
            plans = {}
        require_instance(plans, "plans", (FaultPlan, Mapping), what="a FaultPlan or a mapping saga id -> FaultPlan")
        self._every: FaultPlan | None = plans if isinstance(plans, FaultPlan) else None
        self._plans: dict[str, FaultPlan] = {} if isinstance(plans, FaultPlan) else dict(plans)
        for saga_id, plan in self._plans.items():
            require_instance(saga_id, "plans key", str, what="a saga id (str)")
            require_instance(plan, f"plans[{saga_id!r}]", FaultPlan, what="a FaultPlan")
        self.fired: Counter[tuple[str, str, str]] = Counter()  # (saga id, step, kind) -> times

    def plan(self, saga_id: str) -> FaultPlan:
        return self._plans.get(saga_id) or self._every or FaultPlan()

    def before_action(self, saga_id: str, step: str) -> None:
        """Inside the action's transaction, before any effect: a refusal."""
        if self.plan(saga_id).reject == step:
            self.fired[(saga_id, step, "reject")] += 1
            raise StepRejected(f"{step} refused (injected)")

    def after_action(self, saga_id: str, step: str) -> None:
        """After the action's transaction committed: a crash, or a lost reply."""
        plan = self.plan(saga_id)
        if plan.crash_after == step and self._once(saga_id, step, "crash"):
            raise ProcessCrash(f"crash after {step} of {saga_id} (injected)")
        if plan.lost_reply == step and self._once(saga_id, step, "lost_reply"):
            raise TransientError(f"{step} reply lost (injected)")
        if plan.timeout == step:
            self.fired[(saga_id, step, "timeout")] += 1
            raise TransientError(f"{step} did not answer (injected timeout)")

    def before_compensation(self, saga_id: str, step: str) -> None:
        """Inside the compensation's transaction, before any effect: a transient failure."""
        times = self.plan(saga_id).flaky_compensation.get(step, 0)
        if self.fired[(saga_id, step, "flaky")] < times:
            self.fired[(saga_id, step, "flaky")] += 1
            raise TransientError(f"{step} compensation unavailable (injected)")

    def after_compensation(self, saga_id: str, step: str) -> None:
        """After the compensation's transaction committed: a crash."""
        if self.plan(saga_id).crash_after_compensation == step and self._once(saga_id, step, "crash_compensating"):
            raise ProcessCrash(f"crash after compensating {step} of {saga_id} (injected)")

    def _once(self, saga_id: str, step: str, kind: str) -> bool:
        if self.fired[(saga_id, step, kind)]:
            return False
        self.fired[(saga_id, step, kind)] += 1
        return True
