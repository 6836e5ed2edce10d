"""The orchestrator: forward path, reverse compensation, retries on the clock, crash and resume."""

from __future__ import annotations

import sqlite3

import pytest

from patterns.clock import ManualClock
from patterns.errors import IdempotencyConflict, SagaFailed
from patterns.resilience import Backoff
from patterns.sagas import (
    CANCELLED,
    COMPENSATING,
    COMPLETED,
    FaultInjector,
    FaultPlan,
    Orchestrator,
    Order,
    ProcessCrash,
    SagaDefinition,
    SagaLog,
    Shop,
    Step,
    StepContext,
    StepRejected,
    TransientError,
    check_order,
    effects_of,
    failure_matrix,
    order_saga,
    run_orchestrated,
)


def make(plan=None, **kwargs):
    clock = ManualClock()
    shop = Shop(clock=clock, faults=FaultInjector(plan), latency=0.0)
    log = SagaLog(sqlite3.connect(":memory:"), clock=clock)
    return shop, log, Orchestrator(order_saga(shop), log, clock=clock, **kwargs)


def test_happy_path_completes_with_every_effect_once():
    shop, log, orch = make()
    order = Order("o1", amount=30.0, qty=2)
    result = orch.run("o1", order.data())
    assert result.state == COMPLETED and result.completed
    assert check_order(shop, order, result.state) == []
    assert shop.inventory.available("book") == 8


def test_compensations_run_in_reverse_order():
    shop, log, orch = make(FaultPlan(reject="shipping"))
    result = orch.run("o1", Order("o1").data())
    assert (result.state, result.failed_step) == (CANCELLED, "shipping")
    done = [e.step for e in log.events("o1") if e.kind == "compensation_done"]
    assert done == ["inventory", "payment"]
    with pytest.raises(SagaFailed, match="saga o1 cancelled at step 'shipping'"):
        result.raise_if_cancelled()


def test_a_real_business_refusal_cancels_the_saga():
    shop, log, orch = make()
    result = orch.run("o1", Order("o1", qty=11).data())  # only 10 books in stock
    assert result.state == CANCELLED and "out of stock" in result.reason
    assert effects_of(shop, "o1")["net_charged"] == 0.0 and shop.inventory.available("book") == 10


def test_transient_compensation_failures_are_retried_with_backoff_on_the_clock():
    shop, log, orch = make(
        FaultPlan(reject="shipping", flaky_compensation={"payment": 3}),
        backoff=Backoff.exponential(base=1.0, cap=30.0, jitter="none"),
    )
    result = orch.run("o1", Order("o1").data())
    assert result.state == CANCELLED
    failures = [e for e in log.events("o1") if e.kind == "compensation_failed"]
    assert [e.step for e in failures] == ["payment"] * 3
    assert shop.clock.now() == pytest.approx(1.0 + 2.0 + 4.0)  # the three waits, nothing else
    assert effects_of(shop, "o1")["refunds"] == 1


def test_a_compensation_that_keeps_failing_raises_and_stays_compensating_until_resumed():
    shop, log, orch = make(
        FaultPlan(reject="shipping", flaky_compensation={"payment": 5}), compensation_attempts=3
    )
    with pytest.raises(SagaFailed, match="compensation of 'payment' failed 3 times"):
        orch.run("o1", Order("o1").data())
    assert log.get("o1").state == COMPENSATING
    assert effects_of(shop, "o1")["net_charged"] == 42.0
    results = Orchestrator(order_saga(shop), log, clock=shop.clock).resume_all()
    assert [r.state for r in results] == [CANCELLED]
    assert effects_of(shop, "o1")["net_charged"] == 0.0


def test_a_lost_reply_is_retried_and_the_service_does_not_charge_twice():
    shop, log, orch = make(FaultPlan(lost_reply="payment"))
    assert orch.run("o1", Order("o1").data()).state == COMPLETED
    assert effects_of(shop, "o1")["charges"] == 1
    attempts = [
        e.detail["attempt"] for e in log.events("o1") if e.step == "payment" and e.kind == "action_started"
    ]
    assert attempts == [1, 2]


def test_a_timeout_compensates_the_step_that_may_have_happened():
    shop, log, orch = make(FaultPlan(timeout="inventory"))
    result = orch.run("o1", Order("o1").data())
    assert result.state == CANCELLED
    assert [e.step for e in log.events("o1") if e.kind == "compensation_done"] == ["inventory", "payment"]
    assert shop.inventory.available("book") == 10


def test_crash_after_a_step_then_resume_finishes_without_repeating_effects():
    shop, log, orch = make(FaultPlan(crash_after="inventory"))
    with pytest.raises(ProcessCrash):
        orch.run("o1", Order("o1").data())
    assert log.get("o1").state == "RUNNING"
    fresh = Orchestrator(order_saga(shop), SagaLog(log.conn, clock=shop.clock), clock=shop.clock)
    assert [r.state for r in fresh.resume_all()] == [COMPLETED]
    effects = effects_of(shop, "o1")
    assert (effects["charges"], effects["reservations"], effects["shipments"]) == (1, 1, 1)


def test_running_an_existing_saga_again_is_idempotent():
    shop, log, orch = make()
    orch.run("o1", Order("o1").data())
    assert orch.run("o1", Order("o1").data()).state == COMPLETED
    assert effects_of(shop, "o1")["charges"] == 1
    with pytest.raises(IdempotencyConflict):
        orch.run("o1", Order("o1", amount=99.0).data())


def test_orchestrator_checks_its_arguments():
    shop, log, _ = make()
    saga = order_saga(shop)
    with pytest.raises(TypeError, match="definition must be a SagaDefinition"):
        Orchestrator("saga", log)
    with pytest.raises(TypeError, match="log must be a SagaLog"):
        Orchestrator(saga, object())
    with pytest.raises(ValueError, match=r"compensation_attempts must be an integer in \[1, 1000\]"):
        Orchestrator(saga, log, compensation_attempts=0)
    with pytest.raises(TypeError, match="backoff must be"):
        Orchestrator(saga, log, backoff=2.0)
    orch = Orchestrator(saga, log)
    with pytest.raises(TypeError, match="data must be a mapping"):
        orch.run("o1", [1, 2])
    with pytest.raises(KeyError, match="no saga 'nope'"):
        orch.resume("nope")
    other = Orchestrator(SagaDefinition("refund", [Step("x", lambda ctx: None)]), log)
    orch.run("o9", Order("o9").data())
    with pytest.raises(ValueError, match="belongs to definition 'order'"):
        other.resume("o9")


def test_unexpected_errors_are_not_retried_and_compensate_everything_started():
    calls = []

    def boom(ctx):
        calls.append(ctx.key)
        raise RuntimeError("bug")

    undone = []
    saga = SagaDefinition(
        "s",
        [
            Step("a", lambda ctx: {"x": 1}, lambda ctx: undone.append(("a", ctx.result))),
            Step("b", boom, lambda ctx: undone.append(("b", ctx.result))),
        ],
    )
    orch = Orchestrator(saga, SagaLog(sqlite3.connect(":memory:")), clock=ManualClock())
    result = orch.run("s1", {})
    assert result.state == CANCELLED and "RuntimeError: bug" in result.reason
    assert calls == ["s1/b"]
    assert undone == [("b", None), ("a", {"x": 1})]


def test_transient_action_errors_use_the_step_retry_budget():
    attempts = []

    def flaky(ctx):
        attempts.append(1)
        raise TransientError("busy")

    saga = SagaDefinition("s", [Step("a", flaky, lambda ctx: None, retries=4)])
    clock = ManualClock()
    Orchestrator(saga, SagaLog(sqlite3.connect(":memory:")), clock=clock).run("s1", {})
    assert len(attempts) == 5 and clock.now() == pytest.approx(1 + 2 + 4 + 8)


def test_a_rejected_step_is_not_compensated():
    undone = []

    def refuse(ctx):
        raise StepRejected("no")

    saga = SagaDefinition(
        "s",
        [
            Step("a", lambda ctx: None, lambda ctx: undone.append("a")),
            Step("b", refuse, lambda ctx: undone.append("b")),
        ],
    )
    Orchestrator(saga, SagaLog(sqlite3.connect(":memory:")), clock=ManualClock()).run("s1", {})
    assert undone == ["a"]


def test_run_orchestrated_restarts_after_each_crash():
    run = run_orchestrated(
        FaultPlan(reject="shipping", crash_after="payment", crash_after_compensation="inventory")
    )
    assert (run.state, run.restarts, run.ok) == (CANCELLED, 2, True)


def test_an_attempt_that_may_have_happened_is_compensated_even_if_the_retry_is_refused():
    """Issue 12 item 3: attempt 1 charges but its reply is lost; the retry is refused as a duplicate."""
    charged, refunded, seen = [], [], set()

    def charge(ctx):
        if ctx.key in seen:
            raise StepRejected("duplicate request (409)")
        seen.add(ctx.key)
        charged.append(ctx.saga_id)
        raise TransientError("reply lost")

    def refund(ctx):
        if ctx.saga_id in charged:
            refunded.append(ctx.saga_id)

    saga = SagaDefinition("pay", [Step("payment", charge, refund), Step("ship", lambda ctx: None)])
    log = SagaLog(sqlite3.connect(":memory:"))
    result = Orchestrator(saga, log, clock=ManualClock()).run("s1", {})
    assert result.state == CANCELLED
    assert (charged, refunded) == (["s1"], ["s1"])  # the charge that may have happened is undone
    assert [e.step for e in log.events("s1") if e.kind == "compensation_done"] == ["payment"]


def test_authorize_early_capture_last_survives_the_matrix_and_spares_refunds():
    """Issue 14 (ch05): a hold at the start, the capture once the shipment is booked."""
    authorize = failure_matrix(["orchestration"], definition=lambda shop: order_saga(shop, payment="authorize"))
    charge = failure_matrix(["orchestration"])
    assert all(r["ok"] for r in authorize) and len(authorize) == 1 + 4 * 6
    assert [r["step"] for r in authorize[1::6]] == ["payment", "inventory", "shipping", "capture"]

    def refunded(rows):
        return sum(r["state"] == CANCELLED and r["refunds"] > 0 for r in rows)

    # a cancelled order shows a charge AND a refund only when the capture's own outcome was unknown
    assert (refunded(charge), refunded(authorize)) == (11, 1)
    run = run_orchestrated(FaultPlan(reject="shipping"), definition=lambda shop: order_saga(shop, payment="authorize"))
    assert run.shop.payments.effects("order-1") == {"charges": 0, "refunds": 0, "net": 0.0, "holds": 1, "held": 0.0}


def test_an_authorization_never_captured_is_a_violation():
    def no_capture(shop):
        return SagaDefinition("order", [Step("payment", shop.payments.authorize, shop.payments.refund),
                                        Step("shipping", shop.shipping.schedule)])

    run = run_orchestrated(FaultPlan(), definition=no_capture)
    assert run.state == COMPLETED
    assert "completed but 42.00 still held on the card (never captured nor released)" in run.violations


def test_capture_without_a_hold_is_refused():
    shop = Shop(clock=ManualClock())
    with pytest.raises(StepRejected, match="nothing to capture"):
        shop.payments.capture(StepContext("o1", "capture", {}))
