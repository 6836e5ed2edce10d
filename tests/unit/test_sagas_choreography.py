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
    DeadLettered,
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
    with pytest.raises(ValueError, match=r"handler_attempts must be an integer in \[1, 100\]"):
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


# --- a handler error never skips records (issue 12, item 2) ---------------------------------------


def _shop_with_a_charge_bug(bad_order: str, *, fixed: list[bool] | None = None) -> Shop:
    """A shop whose payment handler raises RuntimeError for one order (until ``fixed[0]``)."""
    clock = ManualClock()
    shop = Shop(clock=clock, stock={"book": 100}, faults=FaultInjector())
    real = shop.payments.charge_in

    def charge_in(tx, saga_id, amount):
        if saga_id == bad_order and not (fixed and fixed[0]):
            raise RuntimeError("bug in the charge handler")
        return real(tx, saga_id, amount)

    shop.payments.charge_in = charge_in
    return shop


def test_a_handler_bug_surfaces_and_never_skips_the_rest_of_the_batch(broker_kind, monkeypatch):
    """Memory always; the real Kafka-protocol broker too when PATTERNS_KAFKA_BOOTSTRAP is set."""
    if broker_kind == "memory":
        monkeypatch.delenv("PATTERNS_KAFKA_BOOTSTRAP", raising=False)
    fixed = [False]
    shop = _shop_with_a_charge_bug("o-00", fixed=fixed)
    broker = broker_from_env(clock=shop.clock)
    options = {"poll_timeout": 0.3} if broker_kind == "kafka" else {}
    flow = ChoreographedShop(shop, broker, dead_letter_after=3, **options)
    orders = [Order(f"o-{i:02d}") for i in range(20 if broker_kind == "memory" else 6)]
    try:
        for order in orders:
            flow.place(order)
        with pytest.raises(DeadLettered, match="o-00") as caught:
            flow.run_until_quiet()
        assert "RuntimeError: bug in the charge handler" in str(caught.value)
        # every healthy order of the same batch went through; only the poison message is set aside
        assert flow.states() == {PENDING: 1, COMPLETED: len(orders) - 1, CANCELLED: 0}
        assert all(check_order(shop, o, flow.state(o.order_id)) == [] for o in orders[1:])
        # visibly: counted, inspectable, and every failed delivery is on record
        assert flow.dead_lettered == 1
        [letter] = flow.dead_letters()
        assert (letter.key, letter.value["type"], letter.headers["dlt-node"]) == ("o-00", "OrderCreated", "payment")
        assert letter.headers["dlt-attempts"] == "3" and "RuntimeError" in letter.headers["dlt-error"]
        assert [f.order_id for f in flow.failures] == ["o-00"] * 3
        # the bug is fixed: replaying the dead letter finishes the order, exactly once
        fixed[0] = True
        assert flow.replay_dead_letters() == 1
        flow.run_until_quiet()
        assert flow.state("o-00") == COMPLETED and check_order(shop, orders[0], COMPLETED) == []
        assert flow.replay_dead_letters() == 0  # already replayed: nothing twice
    finally:
        flow.close()
        broker.close()


def test_a_failed_delivery_never_commits_past_the_failing_record():
    shop = _shop_with_a_charge_bug("o-02")
    broker = InMemoryBroker(clock=shop.clock)
    flow = ChoreographedShop(shop, broker, dead_letter_after=5)
    for i in range(5):
        flow.place(Order(f"o-{i:02d}"))
    node = flow.nodes["payment"]
    node.relay.run_until_empty()
    flow.nodes["order"].relay.run_until_empty()
    flow._pump(node)  # one poll of the payment service: o-00, o-01 charged, o-02 fails
    bad_offset = next(r.offset for r in broker.read(flow.topic) if r.key == "o-02")
    assert broker.committed(flow.topic, group=f"{flow.topic}.payment") == {0: bad_offset}
    assert node.consumer.position(flow.topic, 0) == bad_offset  # redelivered next, not skipped
    assert [f.order_id for f in flow.failures] == ["o-02"]


def test_a_refund_that_keeps_failing_is_dead_lettered_not_dropped():
    clock = ManualClock()
    plans = {"o-00": FaultPlan(reject="inventory", flaky_compensation={"payment": 10})}
    shop = Shop(clock=clock, faults=FaultInjector(plans))
    flow = ChoreographedShop(shop, InMemoryBroker(clock=clock), handler_attempts=3, dead_letter_after=3)
    for i in range(4):
        flow.place(Order(f"o-{i:02d}"))
    with pytest.raises(DeadLettered, match="StockUnavailable"):
        flow.run_until_quiet()
    assert flow.state("o-00") == PENDING and shop.payments.effects("o-00")["net"] == 42.0
    assert [flow.state(f"o-{i:02d}") for i in range(1, 4)] == [COMPLETED] * 3
    assert flow.replay_dead_letters() == 1  # the refund service is back after 9 failures
    flow.run_until_quiet()
    assert flow.state("o-00") == CANCELLED and check_order(shop, Order("o-00"), CANCELLED) == []
