"""The order flow used by the chapter, the lab and the tests: a shop of three services.

``Shop`` bundles a clock, a fault injector and the payment, inventory and shipping services (each
with its own SQLite database). ``order_saga(shop)`` is the orchestrated saga over them;
``check_order`` is the invariant every run must satisfy, whichever style ran it:

* the saga ended (COMPLETED or CANCELLED): never stuck;
* never a double charge, never a double reservation, never two shipments;
* COMPLETED: charged the amount once, stock down by the quantity once, one active shipment;
* CANCELLED: net zero: refunded in full, stock restored, no active shipment;
* either way no authorization left open (a hold that is neither captured nor released).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patterns._validate import require_instance, require_one_of, require_seconds, require_text
from patterns.clock import Clock, ManualClock
from patterns.sagas.faults import FaultInjector
from patterns.sagas.log import CANCELLED, COMPLETED, saga_id_of
from patterns.sagas.services import (
    MAX_LATENCY,
    InventoryService,
    PaymentService,
    ShippingService,
    require_amount,
    require_qty,
    require_sku,
)
from patterns.sagas.steps import SagaDefinition, Step

__all__ = ["Shop", "Order", "order_saga", "check_order", "STEP_NAMES", "CAPTURE_STEP_NAMES", "PAYMENT_MODES",
           "effects_of"]

STEP_NAMES = ("payment", "inventory", "shipping")
CAPTURE_STEP_NAMES = (*STEP_NAMES, "capture")  # order_saga(shop, payment="authorize")
PAYMENT_MODES = ("charge", "authorize")


@dataclass(frozen=True)
class Order:
    """An order: the saga's input. Its id is the saga id (one saga per order).

    Validated on construction: ``amount`` a finite number > 0 (stored as a float), ``qty`` an
    integer >= 1, ids and names non-empty strings (the order id without '/').
    """

    order_id: str
    amount: float = 42.0
    sku: str = "book"
    qty: int = 1
    customer: str = "c1"

    def __post_init__(self) -> None:
        saga_id_of(self.order_id)
        object.__setattr__(self, "amount", require_amount(self.amount))
        require_sku(self.sku)
        require_qty(self.qty)
        require_text(self.customer, "customer", max_length=200)

    def data(self) -> dict[str, Any]:
        return {"amount": self.amount, "sku": self.sku, "qty": self.qty, "customer": self.customer}


@dataclass
class Shop:
    """Three services with their own databases, one clock and one fault injector.

    ``path`` None: each database is in memory. A directory: ``payment.db``, ``inventory.db`` and
    ``shipping.db`` in it, so a new process on the same directory finds what a dead one committed
    (``stock`` then only seeds SKUs the inventory database does not know yet).
    """

    clock: Clock = field(default_factory=ManualClock)
    faults: FaultInjector = field(default_factory=FaultInjector)
    stock: Mapping[str, int] = field(default_factory=lambda: {"book": 10})
    latency: float = 0.05  # seconds of clock time per service call (for timelines)
    path: str | os.PathLike[str] | None = None
    payments: PaymentService = field(init=False)
    inventory: InventoryService = field(init=False)
    shipping: ShippingService = field(init=False)

    def __post_init__(self) -> None:
        require_instance(self.clock, "clock", Clock)
        require_instance(self.faults, "faults", FaultInjector)
        self.latency = require_seconds(self.latency, "latency", positive=False, maximum=MAX_LATENCY)
        clock, faults, latency = self.clock, self.faults, self.latency
        self.payments = PaymentService(self.database("payment"), clock=clock, faults=faults, latency=latency)
        self.inventory = InventoryService(
            self.database("inventory"), stock=self.stock, clock=clock, faults=faults, latency=latency
        )
        self.shipping = ShippingService(self.database("shipping"), clock=clock, faults=faults, latency=latency)

    def database(self, name: str) -> sqlite3.Connection:
        """A connection to the database ``name`` of this shop (in memory, or ``<path>/<name>.db``)."""
        if self.path is None:
            return sqlite3.connect(":memory:")
        folder = Path(require_text(os.fspath(require_instance(self.path, "path", (str, os.PathLike))), "path",
                                   max_length=4096))
        try:
            is_dir = folder.is_dir()
        except OSError:  # e.g. a name longer than the file system allows
            is_dir = False
        if not is_dir:
            raise ValueError(f"path must be an existing directory, got {str(folder)[:200]!r}")
        return sqlite3.connect(folder / f"{require_text(name, 'name', max_length=64)}.db", isolation_level=None)


def order_saga(
    shop: Shop, *, payment: str = "charge", naive_refund: bool = False, without_compensation: str | None = None
) -> SagaDefinition:
    """The orchestrated order saga: charge, reserve stock, schedule shipping.

    ``payment="authorize"``: the payment step only places a hold on the card, and a fourth step,
    ``capture``, takes the money once the shipment is booked (the last step: nothing after it can
    fail, so it needs no compensation; if its outcome is unknown, the payment step's compensation
    refunds the capture). ``naive_refund`` and ``without_compensation`` build deliberately BROKEN
    variants (a refund that is not idempotent; a compensation replaced by a no-op) so tests can
    show that the failure matrix catches them.
    """
    require_instance(shop, "shop", Shop)
    require_one_of(payment, "payment", PAYMENT_MODES)
    require_one_of(naive_refund, "naive_refund", (False, True))
    if without_compensation is not None:
        require_one_of(without_compensation, "without_compensation", STEP_NAMES)
    refund = shop.payments.naive_refund if naive_refund else shop.payments.refund
    take = shop.payments.charge if payment == "charge" else shop.payments.authorize
    steps = [
        Step("payment", take, refund),
        Step("inventory", shop.inventory.reserve, shop.inventory.release),
        Step("shipping", shop.shipping.schedule, shop.shipping.cancel),
    ]
    if payment == "authorize":
        steps.append(Step("capture", shop.payments.capture))
    if without_compensation is not None:
        steps = [
            Step(s.name, s.action, _no_op) if s.name == without_compensation else s for s in steps
        ]
    return SagaDefinition("order", steps)


def _no_op(ctx: Any) -> None:
    """A 'compensation' that does nothing (for the broken variant only)."""


def effects_of(shop: Shop, order_id: str) -> dict[str, float]:
    """Every counted effect of one order across the three services, in one flat dict."""
    require_instance(shop, "shop", Shop)
    require_text(order_id, "order_id", max_length=200, forbidden="/")
    pay, inv, ship = (s.effects(order_id) for s in (shop.payments, shop.inventory, shop.shipping))
    return {
        "charges": pay["charges"],
        "refunds": pay["refunds"],
        "net_charged": pay["net"],
        "reservations": inv["reservations"],
        "stock_delta": inv["stock_delta"],
        "shipments": ship["scheduled"],
        "active_shipments": ship["active"],
    }


def check_order(shop: Shop, order: Order, state: str | None) -> list[str]:
    """Violations of the saga invariant for ``order`` that ended in ``state`` (empty list: all good)."""
    require_instance(order, "order", Order)
    e = effects_of(shop, order.order_id)
    held = shop.payments.effects(order.order_id)["held"]
    problems = []
    if state not in (COMPLETED, CANCELLED):
        problems.append(f"saga is stuck in state {state!r}")
    if e["charges"] > 1:
        problems.append(f"double charge: {e['charges']} charges")
    if e["net_charged"] < 0:
        problems.append(f"refunded more than charged: net {e['net_charged']:.2f}")
    if e["reservations"] > 1:
        problems.append(f"stock reserved {e['reservations']} times")
    if e["shipments"] > 1:
        problems.append(f"{e['shipments']} shipments scheduled")
    if state == COMPLETED:
        if abs(e["net_charged"] - order.amount) > 1e-9:
            problems.append(f"completed but net charged {e['net_charged']:.2f}, expected {order.amount:.2f}")
        if e["stock_delta"] != -order.qty:
            problems.append(f"completed but stock changed by {e['stock_delta']}, expected {-order.qty}")
        if e["active_shipments"] != 1:
            problems.append(f"completed but {e['active_shipments']} active shipments, expected 1")
    elif state == CANCELLED:
        if abs(e["net_charged"]) > 1e-9:
            why = "payment not refunded" if e["net_charged"] > 0 else "refunded more than was charged"
            problems.append(f"cancelled but net charged {e['net_charged']:.2f} ({why})")
        if e["stock_delta"] != 0:
            problems.append(f"cancelled but stock changed by {e['stock_delta']} (stock not restored)")
        if e["active_shipments"] != 0:
            problems.append(f"cancelled but {e['active_shipments']} active shipments")
    if state in (COMPLETED, CANCELLED) and held > 1e-9:
        problems.append(f"{state.lower()} but {held:.2f} still held on the card (never captured nor released)")
    return problems
