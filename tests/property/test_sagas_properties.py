"""Hypothesis: random failure plans over several orders sharing stock keep the saga invariant."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.messaging import InMemoryBroker
from patterns.sagas import (
    STEP_NAMES,
    ChoreographedShop,
    FaultInjector,
    FaultPlan,
    Orchestrator,
    Order,
    ProcessCrash,
    SagaLog,
    Shop,
    check_order,
    compensations_due,
    order_saga,
)

maybe_step = st.none() | st.sampled_from(STEP_NAMES)
plans = st.builds(
    FaultPlan,
    reject=maybe_step,
    lost_reply=maybe_step,
    timeout=maybe_step,
    crash_after=maybe_step,
    crash_after_compensation=maybe_step,
    flaky_compensation=st.dictionaries(st.sampled_from(STEP_NAMES), st.integers(0, 4), max_size=3),
)
orders = st.lists(
    st.tuples(plans, st.floats(1, 1500, allow_nan=False), st.integers(1, 4)), min_size=1, max_size=4
)


def _orders(spec):
    return [Order(f"o{i}", amount=round(amount, 2), qty=qty) for i, (_, amount, qty) in enumerate(spec)]


def _stock_is_consistent(shop, initial):
    moved = shop.inventory.conn.execute("SELECT COALESCE(SUM(delta), 0) FROM movements").fetchone()[0]
    return shop.inventory.available("book") == initial + moved >= 0


@given(orders)
def test_orchestration_invariant_under_random_failures(spec):
    clock = ManualClock()
    shop = Shop(clock=clock, stock={"book": 6}, faults=FaultInjector({f"o{i}": p for i, (p, _, _) in enumerate(spec)}))
    db = sqlite3.connect(":memory:")
    for order in _orders(spec):
        for _ in range(20):  # a crash kills the process: a new one resumes every unfinished saga
            orchestrator = Orchestrator(order_saga(shop), SagaLog(db, clock=clock), clock=clock)
            try:
                orchestrator.run(order.order_id, order.data())
                orchestrator.resume_all()
                break
            except ProcessCrash:
                continue
    log = SagaLog(db)
    for order in _orders(spec):
        assert check_order(shop, order, log.get(order.order_id).state) == []
    assert _stock_is_consistent(shop, 6)


@given(orders)
def test_choreography_invariant_under_random_failures(spec):
    clock = ManualClock()
    shop = Shop(clock=clock, stock={"book": 6}, faults=FaultInjector({f"o{i}": p for i, (p, _, _) in enumerate(spec)}))
    flow = ChoreographedShop(shop, InMemoryBroker(clock=clock), partitions=2)
    for order in _orders(spec):
        flow.place(order)
    flow.run_until_quiet()
    for order in _orders(spec):
        assert check_order(shop, order, flow.state(order.order_id)) == []
    assert _stock_is_consistent(shop, 6)


ANSWERS = ["action_done", "action_failed", "action_rejected", None]  # None: the process died
step_logs = st.fixed_dictionaries(
    {step: st.tuples(st.lists(st.sampled_from(ANSWERS), max_size=4), st.booleans()) for step in STEP_NAMES}
)


@given(step_logs)
def test_compensations_due_owes_every_attempt_that_may_have_acted(logs):
    """Reference model: a step is owed iff one of its attempts was not refused, and it was not undone."""
    log_events = []
    for step, (answers, undone) in logs.items():
        for answer in answers:
            log_events.append((step, "action_started"))
            if answer is not None:
                log_events.append((step, answer))
        if undone:
            log_events += [(step, "compensation_started"), (step, "compensation_done")]
    owed = [s for s in reversed(STEP_NAMES)
            if any(a != "action_rejected" for a in logs[s][0]) and not logs[s][1]]
    assert compensations_due(list(STEP_NAMES), log_events) == owed


@given(st.sampled_from(STEP_NAMES), st.lists(st.sampled_from(["action_failed", "action_done", None]), min_size=1,
                                              max_size=3))
def test_a_refused_retry_never_hides_an_earlier_attempt(step, answers):
    """Issue 12 item 3: whatever the later attempts say, an attempt that may have acted is owed."""
    log_events = []
    for answer in answers:
        log_events.append((step, "action_started"))
        if answer is not None:
            log_events.append((step, answer))
    log_events += [(step, "action_started"), (step, "action_rejected")]
    assert compensations_due(list(STEP_NAMES), log_events) == [step]
