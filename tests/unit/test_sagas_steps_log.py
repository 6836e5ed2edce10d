"""Saga definitions refuse bad input; the saga log records and answers what a resumed saga owes."""

from __future__ import annotations

import sqlite3

import pytest

from patterns.clock import ManualClock
from patterns.sagas import (
    CANCELLED,
    COMPENSATING,
    COMPLETED,
    RUNNING,
    FaultPlan,
    SagaDefinition,
    SagaLog,
    Step,
    compensations_due,
    plan_for,
)


def noop(ctx):
    return None


def test_a_saga_needs_steps():
    with pytest.raises(ValueError, match="steps must have 1 to 1000 items, got 0"):
        SagaDefinition("order", [])


def test_steps_must_be_step_objects():
    with pytest.raises(TypeError, match=r"steps\[1\] must be a Step"):
        SagaDefinition("order", [Step("a", noop, noop), "b"])
    with pytest.raises(TypeError, match="steps must be a list or tuple, got str"):
        SagaDefinition("order", "abc")


def test_duplicate_step_names_are_refused():
    with pytest.raises(ValueError, match="unique names, 'pay' appears twice"):
        SagaDefinition("order", [Step("pay", noop, noop), Step("pay", noop, noop)])


def test_every_step_but_the_last_needs_a_compensation():
    with pytest.raises(ValueError, match=r"steps\[0\] \('pay'\) needs a compensation"):
        SagaDefinition("order", [Step("pay", noop), Step("ship", noop)])
    assert SagaDefinition("order", [Step("pay", noop, noop), Step("ship", noop)]).names == ["pay", "ship"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": ""}, ValueError, "name must be a string of 1 to 64 characters"),
        ({"name": 3}, TypeError, "name must be a string, got int"),
        ({"name": "a/b"}, ValueError, "must not contain '/'"),
        ({"action": 3}, TypeError, "action must be callable"),
        ({"compensation": "x"}, TypeError, "compensation must be callable, got str"),
        ({"retries": -1}, ValueError, r"retries must be an integer in \[0, 100\]"),
        ({"retries": 10**9}, ValueError, r"retries must be an integer in \[0, 100\]"),
        ({"retries": True}, TypeError, "retries must be an integer"),
    ],
)
def test_step_arguments_are_checked(kwargs, error, match):
    args = {"name": "pay", "action": noop, "compensation": noop, **kwargs}
    with pytest.raises(error, match=match):
        Step(**args)


def test_definition_name_and_lookup():
    with pytest.raises(ValueError, match="name must not be blank"):
        SagaDefinition(" ", [Step("a", noop)])
    saga = SagaDefinition("order", [Step("a", noop, noop), Step("b", noop)])
    assert saga.step("b").name == "b"
    with pytest.raises(KeyError, match="no step 'c'"):
        saga.step("c")


def test_log_create_is_idempotent_and_counts_states():
    clock = ManualClock()
    log = SagaLog(sqlite3.connect(":memory:"), clock=clock)
    assert log.create("o1", "order", {"amount": 1}) is True
    assert log.create("o1", "order", {"amount": 1}) is False
    clock.advance(1)
    log.create("o2", "order", {})
    log.set_state("o2", COMPENSATING, failed_step="pay", reason="declined")
    log.set_state("o2", CANCELLED)
    assert log.counts() == {RUNNING: 1, COMPENSATING: 0, COMPLETED: 0, CANCELLED: 1}
    assert [r.saga_id for r in log.unfinished()] == ["o1"]
    record = log.get("o2")
    assert (record.state, record.failed_step, record.reason, record.finished) == (
        CANCELLED,
        "pay",
        "declined",
        True,
    )
    assert [e.kind for e in log.events("o2")] == ["saga_started", "state_compensating", "state_cancelled"]
    assert log.get("missing") is None


def test_log_refuses_bad_ids_and_states():
    log = SagaLog(sqlite3.connect(":memory:"))
    with pytest.raises(ValueError, match="saga_id must be a string of 1 to 200 characters"):
        log.create("", "order", {})
    with pytest.raises(ValueError, match="state must be one of"):
        log.set_state("x", "DONE")


def test_the_log_survives_a_new_connection_to_the_same_file(tmp_path):
    path = tmp_path / "sagas.db"
    SagaLog(sqlite3.connect(path)).create("o1", "order", {"a": 1})
    again = SagaLog(sqlite3.connect(path))
    assert again.get("o1").data == {"a": 1}


def test_compensations_due_in_reverse_order_of_the_steps():
    names = ["pay", "reserve", "ship"]
    events = [
        ("pay", "action_started"),
        ("pay", "action_done"),
        ("reserve", "action_started"),
        ("reserve", "action_done"),
        ("ship", "action_started"),
        ("ship", "action_rejected"),
    ]
    assert compensations_due(names, events) == ["reserve", "pay"]


def test_a_started_step_without_an_answer_is_compensated():
    # the process died after the action took effect and before "action_done" was logged
    assert compensations_due(["pay", "reserve"], [("pay", "action_started")]) == ["pay"]


def test_done_compensations_are_not_owed_again():
    events = [("pay", "action_started"), ("reserve", "action_started"), ("reserve", "compensation_done")]
    assert compensations_due(["pay", "reserve"], events) == ["pay"]


def test_a_rejected_step_retried_after_a_crash_is_owed_again():
    events = [("pay", "action_started"), ("pay", "action_rejected"), ("pay", "action_started")]
    assert compensations_due(["pay"], events) == ["pay"]


def test_plan_for_refuses_unknown_kinds_and_steps():
    with pytest.raises(ValueError, match="kind must be one of"):
        plan_for("explode", "payment", ["payment"])
    with pytest.raises(ValueError, match="step must be one of"):
        plan_for("reject", "billing", ["payment"])
    assert plan_for("flaky_compensation", "payment", ["payment", "shipping"]) == FaultPlan(
        reject="shipping", flaky_compensation={"payment": 2}
    )
    with pytest.raises(ValueError, match=r"flaky_compensation\['x'\] must be an integer in \[0, 1e\+06\]"):
        FaultPlan(flaky_compensation={"x": -1})


def test_every_attempt_that_may_have_happened_is_owed_not_only_the_latest():
    # attempt 1: no answer (it may have charged); attempt 2: refused (a duplicate, or declined)
    events = [("pay", "action_started"), ("pay", "action_failed"), ("pay", "action_started"),
              ("pay", "action_rejected")]
    assert compensations_due(["pay", "ship"], events) == ["pay"]
    crashed = [("pay", "action_started"), ("pay", "action_started"), ("pay", "action_rejected")]
    assert compensations_due(["pay"], crashed) == ["pay"]  # the first attempt never answered
    refused = [("pay", "action_started"), ("pay", "action_rejected")]
    assert compensations_due(["pay"], refused) == []
