"""Sagas: a business transaction across services as local transactions plus compensations.

Two styles over the same order flow (payment -> inventory -> shipping), on the same simulated
services (``Shop``: each service with its own SQLite database, idempotent per saga id + step):

* **orchestration**: ``Orchestrator`` runs a ``SagaDefinition``'s ``Step``s, writes every move to
  a ``SagaLog`` (SQLite), compensates in reverse on failure, retries transient failures with
  backoff on the injected clock, and resumes from the log after a crash;
* **choreography**: ``ChoreographedShop`` has no coordinator; services react to events on a
  ``patterns.messaging`` broker, with an outbox and an idempotent consumer each, wired from the
  ``REACTIONS`` table; a handler error never skips a record, and a poison message goes to a
  dead-letter topic (``DeadLettered``), from which it can be replayed.

``order_saga(shop, payment="authorize")`` places a hold on the card first and captures it in a last
step once the shipment is booked (authorize early, capture at the end), instead of charging first.

Failure injection (``FaultPlan``, ``FaultInjector``) covers refused steps, lost replies, crashes
after any step, and flaky or crashing compensations; ``failure_matrix`` runs every combination and
``check_order`` is the invariant: COMPLETED with every effect once, or CANCELLED with net zero.

Quick tour::

    from patterns.sagas import FaultPlan, run_orchestrated, run_choreographed

    run = run_orchestrated(FaultPlan(reject="shipping"))
    run.state, run.effects["net_charged"], run.violations    # 'CANCELLED', 0.0, []
    run_choreographed(FaultPlan(crash_after="payment")).state  # 'COMPLETED'
"""

from patterns.sagas.choreography import (
    PENDING,
    REACTIONS,
    ChoreographedShop,
    DeadLettered,
    HandlerFailure,
    Reaction,
)
from patterns.sagas.faults import FAILURE_KINDS, FaultInjector, FaultPlan, plan_for
from patterns.sagas.log import (
    CANCELLED,
    COMPENSATING,
    COMPLETED,
    EVENT_KINDS,
    RUNNING,
    EventKind,
    LogEvent,
    SagaLog,
    SagaRecord,
    SagaState,
    compensations_due,
)
from patterns.sagas.matrix import STYLES, Run, failure_matrix, run_choreographed, run_orchestrated
from patterns.sagas.orchestrator import Orchestrator, SagaResult
from patterns.sagas.services import InventoryService, PaymentService, ShippingService
from patterns.sagas.shop import (
    CAPTURE_STEP_NAMES,
    PAYMENT_MODES,
    STEP_NAMES,
    Order,
    Shop,
    check_order,
    effects_of,
    order_saga,
)
from patterns.sagas.steps import ProcessCrash, SagaDefinition, Step, StepContext, StepRejected, TransientError

__all__ = [
    "Step",
    "StepContext",
    "SagaDefinition",
    "StepRejected",
    "TransientError",
    "ProcessCrash",
    "SagaLog",
    "SagaRecord",
    "LogEvent",
    "EventKind",
    "EVENT_KINDS",
    "SagaState",
    "compensations_due",
    "RUNNING",
    "COMPENSATING",
    "COMPLETED",
    "CANCELLED",
    "PENDING",
    "Orchestrator",
    "SagaResult",
    "FaultPlan",
    "FaultInjector",
    "FAILURE_KINDS",
    "plan_for",
    "PaymentService",
    "InventoryService",
    "ShippingService",
    "Shop",
    "Order",
    "order_saga",
    "check_order",
    "effects_of",
    "STEP_NAMES",
    "CAPTURE_STEP_NAMES",
    "PAYMENT_MODES",
    "ChoreographedShop",
    "REACTIONS",
    "Reaction",
    "DeadLettered",
    "HandlerFailure",
    "Run",
    "run_orchestrated",
    "run_choreographed",
    "failure_matrix",
    "STYLES",
]
