"""Checkers for the chapter 05 lab (sagas).

Each ``check_*`` runs the learner's answer against the package (the orchestrator's log, the failure
matrix, the choreographed services), prints a tick or what is wrong with a hint, and returns
True/False. ``...`` (the student edition's placeholder) means "not answered yet".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patterns.check import is_unanswered, not_ready, report
from patterns.sagas import (
    CAPTURE_STEP_NAMES,
    FAILURE_KINDS,
    STEP_NAMES,
    FaultPlan,
    SagaDefinition,
    compensations_due,
    plan_for,
    run_choreographed,
    run_orchestrated,
)

__all__ = ["check_compensation_plan", "check_order_saga", "check_failure_events", "COMPENSATION_CASES"]

# logs a crashed orchestrator may leave behind: (step, kind) pairs, oldest first
COMPENSATION_CASES: list[list[tuple[str, str]]] = [
    [("payment", "action_started"), ("payment", "action_done"), ("inventory", "action_started"),
     ("inventory", "action_rejected")],
    [("payment", "action_started"), ("payment", "action_done"), ("inventory", "action_started"),
     ("inventory", "action_done"), ("shipping", "action_started"), ("shipping", "action_rejected")],
    [("payment", "action_started"), ("payment", "action_done"), ("inventory", "action_started")],
    [("payment", "action_started"), ("payment", "action_done"), ("inventory", "action_started"),
     ("inventory", "action_done"), ("shipping", "action_started"), ("shipping", "action_rejected"),
     ("inventory", "compensation_started"), ("inventory", "compensation_done")],
    [("payment", "action_started"), ("payment", "action_failed"), ("payment", "action_started"),
     ("payment", "action_failed")],
    [("payment", "action_started"), ("payment", "action_rejected")],
    [("payment", "action_started"), ("payment", "action_done"), ("inventory", "action_started"),
     ("inventory", "action_done"), ("shipping", "action_started"), ("shipping", "action_failed")],
    # the first reservation's reply was lost (it may have reserved); the retry was refused as a duplicate
    [("payment", "action_started"), ("payment", "action_done"), ("inventory", "action_started"),
     ("inventory", "action_failed"), ("inventory", "action_started"), ("inventory", "action_rejected")],
]


def check_compensation_plan(compensations_for: object) -> bool:
    """Exercise 1: ``compensations_for(events)`` lists the compensations a resumed saga still owes."""
    title = "Exercise 1 (what does a resumed saga owe?)"
    if not_ready(title, compensations_for, expect=callable):
        return False
    assert callable(compensations_for)
    for events in COMPENSATION_CASES:
        expected = compensations_due(list(STEP_NAMES), events)
        try:
            got = compensations_for(list(events))
        except Exception as exc:  # noqa: BLE001 - the learner's code may fail in any way; report it
            return report(title, [f"it raised {type(exc).__name__}: {exc}"])
        if list(got or []) != expected:
            hint = _plan_hint(events, list(got or []), expected)
            return report(title, [f"for the log {events}\n    you said {got!r}, the orchestrator owes {expected}.", hint])
    return report(title, [], "Started and not refused means 'may have happened': undo it, newest first.")


def _plan_hint(events: list[tuple[str, str]], got: list[str], expected: list[str]) -> str:
    if sorted(got) == sorted(expected):
        return "hint: right steps, wrong order: undo the newest effect first (reverse saga order)."
    refused = {s for s, k in events if k == "action_rejected"}
    if set(got) - set(expected) & refused:
        return "hint: a step whose every attempt was refused did nothing: there is nothing to undo."
    missing = set(expected) - set(got)
    if missing & refused:
        return ("hint: every attempt counts, not only the last one: an attempt that failed or never answered "
                "may have taken effect even if a later attempt was refused.")
    if missing:
        return "hint: a step whose 'action_started' has no answer may still have taken effect."
    return "hint: a step whose compensation is already 'compensation_done' is not owed again."


def check_order_saga(build_saga: object) -> bool:
    """Exercise 2: ``build_saga(shop)`` returns a ``SagaDefinition`` that passes the whole matrix.

    Any order of the steps is accepted (reserving before charging is a correct design too), and so
    is a fourth step ``capture`` after an authorization: the matrix, not a fixed order, decides.
    """
    title = "Exercise 2 (an order saga that survives the failure matrix)"
    if not_ready(title, build_saga, expect=callable):
        return False
    assert callable(build_saga)
    try:
        saga = build_saga(run_orchestrated(FaultPlan()).shop)
    except Exception as exc:  # noqa: BLE001
        return report(title, [f"build_saga(shop) raised {type(exc).__name__}: {exc}"])
    if not isinstance(saga, SagaDefinition):
        return report(title, [f"build_saga(shop) must return a SagaDefinition, got {type(saga).__name__}."])
    if not set(STEP_NAMES) <= set(saga.names) <= set(CAPTURE_STEP_NAMES):
        return report(title, [f"the steps must be {list(STEP_NAMES)} (in an order of your choice, plus "
                              f"'capture' if you authorize first), got {saga.names}."])
    problems = []
    for step in saga.names:
        for kind in FAILURE_KINDS:
            try:
                run = run_orchestrated(plan_for(kind, step, saga.names), definition=build_saga)
            except Exception as exc:  # noqa: BLE001
                return report(title, [f"{kind} at {step}: the saga raised {type(exc).__name__}: {exc}"])
            if run.violations:
                problems.append(f"{kind} at {step}: {'; '.join(run.violations)}")
    if problems:
        problems = problems[:3] + ["hint: every step needs its compensation (shop.payments.refund, "
                                   "shop.inventory.release, shop.shipping.cancel), and each must be idempotent."]
    return report(title, problems, f"All {len(saga.names) * len(FAILURE_KINDS)} cells of the matrix hold.")


def check_failure_events(answer: object) -> bool:
    """Exercise 3: for each refusing step, the events the choreography emits after OrderCreated."""
    title = "Exercise 3 (compensating events in the choreography)"
    if not_ready(title, answer, expect=Mapping):
        return False
    assert isinstance(answer, Mapping)
    problems = []
    for step in STEP_NAMES:
        run = run_choreographed(FaultPlan(reject=step))
        expected = run.choreography.events_of(run.order.order_id)[1:] if run.choreography else []
        got: Any = answer.get(step, None)
        if is_unanswered(got):
            problems.append(f"no answer yet for a refusal at {step!r}.")
        elif list(got) != expected:
            problems.append(f"refusal at {step!r}: you said {list(got)}, the services emitted {expected}.")
    if problems:
        problems.append("hint: each service undoes only its own effect and announces it; the order service "
                        "closes the saga when the payment side reports (PaymentFailed or PaymentRefunded).")
    return report(title, problems, "Compensation travels backwards, one service and one event at a time.")

