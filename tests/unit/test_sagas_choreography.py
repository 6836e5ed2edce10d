"""Choreography: the event chain, crashes with redelivery, and both brokers."""

from __future__ import annotations

import pytest

from patterns.clock import ManualClock
from patterns.messaging import InMemoryBroker, broker_from_env
from patterns.sagas import (
    CANCELLED,
    COMPLETED,
    PENDING,
    ChoreographedShop,
    FaultInjector,
    FaultPlan,
    Order,
    Shop,
    check_order,
    run_choreographed,
)


def test_the_happy_path_is_a_chain_of_events():
    run = run_choreographed()
    assert run.state == COMPLETED and run.ok
    assert run.choreography.events_of("order-1") == [
        "OrderCreated",
        "PaymentCharged",
        "StockReserved",
        "ShipmentScheduled",
        "OrderCompleted",
    ]


@pytest.mark.parametrize(
    ("failing", "events"),
    [
        ("payment", ["OrderCreated", "PaymentFailed", "OrderCancelled"]),
        (
            "inventory",
            ["OrderCreated", "PaymentCharged", "StockUnavailable", "PaymentRefunded", "OrderCancelled"],
        ),
        (
            "shipping",
            [
                "OrderCreated",
                "PaymentCharged",
                "StockReserved",
                "ShipmentFailed",
                "StockReleased",
                "PaymentRefunded",
                "OrderCancelled",
            ],
        ),
    ],
)
def test_a_refusal_triggers_compensating_events(failing, events):
    run = run_choreographed(FaultPlan(reject=failing))
    assert run.state == CANCELLED and run.ok
    assert run.choreography.events_of("order-1") == events


def test_a_crash_after_the_charge_redelivers_and_is_deduplicated():
    run = run_choreographed(FaultPlan(crash_after="payment"))
    assert (run.state, run.restarts, run.effects["charges"]) == (COMPLETED, 1, 1)
    assert run.choreography.duplicates >= 1


def test_many_orders_share_the_stock():
    clock = ManualClock()
    shop = Shop(clock=clock, stock={"book": 3}, faults=FaultInjector())
    flow = ChoreographedShop(shop, InMemoryBroker(clock=clock), partitions=3)
    orders = [Order(f"o{i}", qty=1) for i in range(5)]
    for order in orders:
        flow.place(order)
    flow.run_until_quiet()
    assert flow.states() == {PENDING: 0, COMPLETED: 3, CANCELLED: 2}
    assert all(check_order(shop, o, flow.state(o.order_id)) == [] for o in orders)
    assert shop.inventory.available("book") == 0


def test_choreography_checks_its_arguments():
    shop = Shop()
    broker = InMemoryBroker(clock=shop.clock)
    with pytest.raises(ValueError, match="broken must be one of"):
        ChoreographedShop(shop, broker, broken="yes")
    with pytest.raises(ValueError, match="handler_attempts must be an integer >= 1"):
        ChoreographedShop(shop, broker, handler_attempts=0)


def test_the_same_flow_on_every_broker(broker_kind, monkeypatch):
    """Memory always; the real Kafka-protocol broker too when PATTERNS_KAFKA_BOOTSTRAP is set."""
    if broker_kind == "memory":
        monkeypatch.delenv("PATTERNS_KAFKA_BOOTSTRAP", raising=False)
    clock = ManualClock()
    broker = broker_from_env(clock=clock)
    # Kafka: short polls once joined (an empty poll waits this long); memory: never wait
    options = {"poll_timeout": 0.3} if broker_kind == "kafka" else {}
    try:
        ok = run_choreographed(
            FaultPlan(reject="shipping"),
            broker=broker,
            topic=None if broker_kind == "kafka" else "flow-1",
            **options,
        )
        crashed = run_choreographed(
            FaultPlan(crash_after="inventory"),
            broker=broker,
            order=Order("order-2"),
            topic=None if broker_kind == "kafka" else "flow-2",
            **options,
        )
    finally:
        broker.close()
    assert (ok.state, ok.ok, ok.effects["refunds"]) == (CANCELLED, True, 1)
    assert (crashed.state, crashed.ok, crashed.restarts, crashed.effects["reservations"]) == (
        COMPLETED,
        True,
        1,
        1,
    )
