"""The lab 05 checkers accept right answers, reject wrong ones with a hint, and never raise."""

from __future__ import annotations

from patterns.check.sagas import check_compensation_plan, check_failure_events, check_order_saga
from patterns.sagas import SagaDefinition, Step, compensations_due, order_saga

RIGHT_EVENTS = {
    "payment": ["PaymentFailed", "OrderCancelled"],
    "inventory": ["PaymentCharged", "StockUnavailable", "PaymentRefunded", "OrderCancelled"],
    "shipping": [
        "PaymentCharged",
        "StockReserved",
        "ShipmentFailed",
        "StockReleased",
        "PaymentRefunded",
        "OrderCancelled",
    ],
}


def test_unanswered_is_reported_not_raised(capsys):
    assert check_compensation_plan(...) is False
    assert check_order_saga(None) is False
    assert check_failure_events(...) is False
    assert capsys.readouterr().out.count("not answered yet") == 3


def test_compensation_plan(capsys):
    assert check_compensation_plan(
        lambda events: compensations_due(["payment", "inventory", "shipping"], events)
    )
    assert "✓" in capsys.readouterr().out

    def forward_order(events):
        return list(reversed(compensations_due(["payment", "inventory", "shipping"], events)))

    assert check_compensation_plan(forward_order) is False
    assert "wrong order" in capsys.readouterr().out

    def only_done(events):
        done = {s for s, k in events if k == "action_done"}
        return [s for s in ["shipping", "inventory", "payment"] if s in done]

    assert check_compensation_plan(only_done) is False
    assert "may still have taken effect" in capsys.readouterr().out

    def crashes(events):
        raise KeyError("x")

    assert check_compensation_plan(crashes) is False
    assert "raised KeyError" in capsys.readouterr().out


def test_order_saga(capsys):
    assert check_order_saga(order_saga)
    assert "All 18 cells" in capsys.readouterr().out

    def no_release(shop):
        return SagaDefinition(
            "order",
            [
                Step("payment", shop.payments.charge, shop.payments.refund),
                Step("inventory", shop.inventory.reserve, lambda ctx: None),
                Step("shipping", shop.shipping.schedule, shop.shipping.cancel),
            ],
        )

    assert check_order_saga(no_release) is False
    assert "stock not restored" in capsys.readouterr().out
    assert check_order_saga(lambda shop: order_saga(shop, naive_refund=True)) is False
    assert "refunded more than charged" in capsys.readouterr().out
    assert check_order_saga(lambda shop: 42) is False
    assert "must return a SagaDefinition" in capsys.readouterr().out


def test_failure_events(capsys):
    assert check_failure_events(RIGHT_EVENTS)
    wrong = dict(
        RIGHT_EVENTS, shipping=["ShipmentFailed", "PaymentRefunded", "StockReleased", "OrderCancelled"]
    )
    assert check_failure_events(wrong) is False
    out = capsys.readouterr().out
    assert "refusal at 'shipping'" in out and "hint" in out
    assert check_failure_events([1, 2]) is False


def test_compensation_plan_needs_every_attempt(capsys):
    def latest_attempt_only(events):  # the rule issue 12 found wrong: it forgets a lost reply
        last, done = {}, set()
        for step, kind in events:
            if kind in ("action_started", "action_rejected"):
                last[step] = kind
            elif kind == "compensation_done":
                done.add(step)
        return [s for s in ["shipping", "inventory", "payment"] if last.get(s) == "action_started" and s not in done]

    assert check_compensation_plan(latest_attempt_only) is False
    assert "every attempt counts" in capsys.readouterr().out


def test_order_saga_accepts_a_correct_reordering_and_authorize_capture(capsys):
    def reserve_first(shop):
        return SagaDefinition(
            "order",
            [
                Step("inventory", shop.inventory.reserve, shop.inventory.release),
                Step("payment", shop.payments.charge, shop.payments.refund),
                Step("shipping", shop.shipping.schedule, shop.shipping.cancel),
            ],
        )

    assert check_order_saga(reserve_first)
    assert "All 18 cells" in capsys.readouterr().out
    assert check_order_saga(lambda shop: order_saga(shop, payment="authorize"))
    assert "All 24 cells" in capsys.readouterr().out

    def capture_without_hold_release(shop):  # authorize, but the payment step has no way back
        return SagaDefinition(
            "order",
            [
                Step("payment", shop.payments.authorize, lambda ctx: None),
                Step("inventory", shop.inventory.reserve, shop.inventory.release),
                Step("shipping", shop.shipping.schedule, shop.shipping.cancel),
                Step("capture", shop.payments.capture),
            ],
        )

    assert check_order_saga(capture_without_hold_release) is False
    assert "still held on the card" in capsys.readouterr().out
    assert check_order_saga(lambda shop: SagaDefinition("order", [Step("payment", shop.payments.charge)])) is False
    assert "the steps must be" in capsys.readouterr().out
