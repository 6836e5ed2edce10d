"""Drivers that run the order saga under a fault plan, in either style, and the failure matrix.

``run_orchestrated`` and ``run_choreographed`` play one order to its end: when the injected fault
kills the process (``ProcessCrash``) they do what an operator's supervisor does, start a new
process on the same databases and let it recover (``Orchestrator.resume_all``; a new consumer group
member). ``failure_matrix`` crosses every step with every failure kind, for one or both styles,
and checks each end state with ``check_order``: the table the chapter prints and the tests assert.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from patterns._validate import require_callable, require_instance, require_one_of, require_sequence
from patterns.clock import ManualClock
from patterns.messaging import Broker, InMemoryBroker
from patterns.sagas.choreography import ChoreographedShop
from patterns.sagas.faults import FAILURE_KINDS, FaultInjector, FaultPlan, plan_for
from patterns.sagas.log import SagaLog
from patterns.sagas.orchestrator import Orchestrator
from patterns.sagas.shop import STEP_NAMES, Order, Shop, check_order, effects_of, order_saga
from patterns.sagas.steps import ProcessCrash, SagaDefinition

__all__ = ["Run", "run_orchestrated", "run_choreographed", "failure_matrix", "STYLES"]

STYLES = ("orchestration", "choreography")
MAX_RESTARTS = 20


@dataclass
class Run:
    """One order played to its end: final state, effects, restarts, and invariant violations."""

    style: str
    order: Order
    state: str | None
    effects: dict[str, float]
    restarts: int
    violations: list[str]
    shop: Shop = field(repr=False)
    log: SagaLog | None = field(default=None, repr=False)
    choreography: ChoreographedShop | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.violations


def run_orchestrated(
    plan: FaultPlan | None = None,
    *,
    order: Order | None = None,
    shop: Shop | None = None,
    definition: Callable[[Shop], SagaDefinition] = order_saga,
) -> Run:
    """Run one order through the orchestrator, restarting it after every injected crash."""
    order, shop = _order_and_shop(plan, order, shop)
    require_callable(definition, "definition")
    log_db = sqlite3.connect(":memory:")  # survives the "process": it is the orchestrator's database
    restarts = 0
    while True:
        orchestrator = Orchestrator(definition(shop), SagaLog(log_db, clock=shop.clock), clock=shop.clock)
        try:
            if restarts == 0:
                orchestrator.run(order.order_id, order.data())
            else:
                orchestrator.resume_all()
            break
        except ProcessCrash as crash:
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise RuntimeError(f"more than {MAX_RESTARTS} crashes: the plan never lets the saga finish") from crash
    log = SagaLog(log_db, clock=shop.clock)
    record = log.get(order.order_id)
    state = None if record is None else record.state
    return Run("orchestration", order, state, effects_of(shop, order.order_id), restarts,
               check_order(shop, order, state), shop, log=log)


def run_choreographed(
    plan: FaultPlan | None = None,
    *,
    order: Order | None = None,
    shop: Shop | None = None,
    broker: Broker | None = None,
    **options: Any,
) -> Run:
    """Run one order through the event-driven services on ``broker`` (default: a fresh in-memory one)."""
    order, shop = _order_and_shop(plan, order, shop)
    broker = broker if broker is not None else InMemoryBroker(clock=shop.clock)
    flow = ChoreographedShop(shop, broker, **options)
    try:
        flow.place(order)
        flow.run_until_quiet()
    finally:
        flow.close()
    state = flow.state(order.order_id)
    return Run("choreography", order, state, effects_of(shop, order.order_id), flow.restarts,
               check_order(shop, order, state), shop, choreography=flow)


def _order_and_shop(plan: FaultPlan | None, order: Order | None, shop: Shop | None) -> tuple[Order, Shop]:
    """The order (default ``order-1``) and the shop (default: fresh, with ``plan`` injected)."""
    if plan is not None:
        require_instance(plan, "plan", FaultPlan)
    order = Order("order-1") if order is None else require_instance(order, "order", Order)
    shop = Shop(clock=ManualClock(), faults=FaultInjector(plan)) if shop is None else require_instance(shop, "shop", Shop)
    return order, shop


def failure_matrix(
    styles: Sequence[str] = STYLES,
    *,
    kinds: Sequence[str] = FAILURE_KINDS,
    steps: Sequence[str] | None = None,
    orchestrated: Callable[..., Run] | None = None,
    definition: Callable[[Shop], SagaDefinition] = order_saga,
) -> list[dict[str, Any]]:
    """One row per (style, failed step, failure kind), plus a no-failure row per style.

    Each row: the style, step, kind, end state, counted effects, restarts, and ``ok`` (the
    invariant held) with the violations if not. ``definition`` builds the orchestrated saga (its
    steps, in its order, are the matrix's steps unless ``steps`` picks some); the choreography runs
    the default flow only. ``orchestrated`` lets a test swap in its own runner.
    """
    styles = [require_one_of(style, "styles item", STYLES) for style in require_sequence(styles, "styles")]
    kinds = [require_one_of(kind, "kinds item", FAILURE_KINDS) for kind in require_sequence(kinds, "kinds")]
    require_callable(definition, "definition")
    names = list(STEP_NAMES) if definition is order_saga else definition(Shop()).names
    if definition is not order_saga and "choreography" in styles:
        raise ValueError("styles must be ['orchestration'] for a custom definition: the choreography runs order_saga")
    chosen = names if steps is None else require_sequence(steps, "steps")
    chosen = [require_one_of(step, "steps item", names) for step in chosen]
    run_one = partial(run_orchestrated, definition=definition) if orchestrated is None else orchestrated
    require_callable(run_one, "orchestrated")
    rows = []
    for style in styles:
        cells = [("-", "none", FaultPlan())] + [(s, k, plan_for(k, s, names)) for s in chosen for k in kinds]
        for step, kind, plan in cells:
            run = run_one(plan) if style == "orchestration" else run_choreographed(plan)
            rows.append({
                "style": style, "step": step, "kind": kind, "state": run.state,
                "charges": run.effects["charges"], "refunds": run.effects["refunds"],
                "net_charged": run.effects["net_charged"], "stock_delta": run.effects["stock_delta"],
                "shipments": run.effects["active_shipments"], "restarts": run.restarts,
                "ok": run.ok, "violations": "; ".join(run.violations),
            })
    return rows
