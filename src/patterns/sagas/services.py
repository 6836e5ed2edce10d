"""The order flow's three services, each with its own SQLite database: payment, inventory, shipping.

They are simulated but honest: every effect is a row in the service's own ledger, written in a local
transaction, so tests can count exactly what happened (two charges for one order is visible as two
rows). Every operation is idempotent for its key (saga id + step + "do"/"undo"): the key is stored
in the same transaction as the effect, and a repeat returns the first result without a new effect.
Compensations are safe when the action never happened (a refund of no charge does nothing).

Each operation exists twice: ``*_in(tx, ...)`` works inside a transaction the caller opened (the
choreography adds an outbox row to the same transaction), and a plain method that opens the
transaction itself and then consults the fault injector (a crash or a lost reply *after* commit).

Inputs are validated before any effect: an amount must be a finite number > 0 (-50 would be a
payout), a quantity an integer >= 1 (-3 would grow the stock, 2.7 would silently become 2);
``ValueError``/``TypeError`` name the parameter and the range.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from patterns._validate import (
    require_instance,
    require_int,
    require_mapping,
    require_number,
    require_seconds,
    require_text,
)
from patterns.clock import Clock, SystemClock
from patterns.sagas.faults import FaultInjector
from patterns.sagas.log import saga_id_of
from patterns.sagas.steps import StepContext, StepRejected
from patterns.storage import connection_of, transaction

__all__ = ["PaymentService", "InventoryService", "ShippingService", "MAX_AMOUNT", "MAX_QTY", "MAX_LATENCY"]

MAX_AMOUNT = 1e12  # larger amounts are a bug in the caller, not a purchase
MAX_QTY = 1_000_000_000  # items per order line or per SKU in stock
MAX_LATENCY = 3600.0  # seconds of simulated time per call


def require_amount(value: object, name: str = "amount") -> float:
    """A money amount: a finite number in (0, MAX_AMOUNT]."""
    return require_number(value, name, minimum=0.0, strict_min=True, maximum=MAX_AMOUNT)


def require_qty(value: object, name: str = "qty") -> int:
    """A quantity of items: an integer in [1, MAX_QTY] (2.7 is refused, not rounded)."""
    return require_int(value, name, minimum=1, maximum=MAX_QTY)


def require_sku(value: object, name: str = "sku") -> str:
    return require_text(value, name, max_length=200)


class _Service:
    """Shared plumbing: a connection, an operations table (the idempotency keys), faults, latency."""

    step = ""
    schema: tuple[str, ...] = ()

    def __init__(
        self, db: Any = None, *, clock: Clock | None = None, faults: FaultInjector | None = None, latency: float = 0.0
    ) -> None:
        self.latency = require_seconds(latency, "latency", positive=False, maximum=MAX_LATENCY)
        self.clock: Clock = SystemClock() if clock is None else require_instance(clock, "clock", Clock)
        self.faults = FaultInjector() if faults is None else require_instance(faults, "faults", FaultInjector)
        self.conn: sqlite3.Connection = sqlite3.connect(":memory:") if db is None else connection_of(db)
        self.conn.execute("CREATE TABLE IF NOT EXISTS operations (op_key TEXT PRIMARY KEY, result TEXT NOT NULL)")
        for sql in self.schema:
            self.conn.execute(sql)
        if self.conn.in_transaction:
            self.conn.commit()

    def _once(self, tx: sqlite3.Connection, op_key: str, effect: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
        """Run ``effect`` unless ``op_key`` was done before; return the (first) result."""
        row = tx.execute("SELECT result FROM operations WHERE op_key = ?", (op_key,)).fetchone()
        if row is not None:
            stored: dict[str, Any] = json.loads(row[0])
            return stored
        result = dict(effect())
        tx.execute("INSERT INTO operations VALUES (?, ?)", (op_key, json.dumps(result, sort_keys=True)))
        return result

    def _do(
        self, saga_id: str, work: Callable[[sqlite3.Connection], dict[str, Any]], *, undo: bool, step: str = ""
    ) -> dict[str, Any]:
        """One call as the orchestrator makes it: latency, a local transaction, then post-commit faults."""
        self.clock.sleep(self.latency)
        with transaction(self.conn) as tx:
            result = work(tx)
        if undo:
            self.faults.after_compensation(saga_id, step or self.step)
        else:
            self.faults.after_action(saga_id, step or self.step)
        return result


class PaymentService(_Service):
    """Charges and refunds, as a ledger: net charged = charges - refunds, per order.

    Two ways to take the money. ``charge`` takes it at once. ``authorize`` only places a *hold*
    (the card issuer reserves the amount; nothing is taken yet) and ``capture`` later turns the
    hold into a charge; an authorization that is never captured is released (voided), which is
    what card networks do when it expires after a few days. Authorize early, capture once nothing
    can fail any more: a cancelled order then shows a released hold, not a charge and a refund.
    Ledger kinds: ``charge``/``refund`` (money taken/given back), ``hold``/``release``.
    """

    step = "payment"
    capture_step = "capture"  # the fault-injection step name of ``capture``
    schema = (
        "CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL,"
        " kind TEXT NOT NULL, amount REAL NOT NULL)",
    )

    def __init__(
        self,
        db: Any = None,
        *,
        max_charge: float = 1000.0,
        clock: Clock | None = None,
        faults: FaultInjector | None = None,
        latency: float = 0.0,
    ) -> None:
        super().__init__(db, clock=clock, faults=faults, latency=latency)
        self.max_charge = require_amount(max_charge, "max_charge")

    def charge_in(self, tx: sqlite3.Connection, saga_id: str, amount: float) -> dict[str, Any]:
        """Take ``amount`` from the card at once (refused over the card limit)."""
        return self._take(tx, saga_id, amount, "charge")

    def refund_in(self, tx: sqlite3.Connection, saga_id: str) -> dict[str, Any]:
        """Give back whatever this order still holds: release an open hold, refund what was taken."""
        saga_id = saga_id_of(saga_id)
        self.faults.before_compensation(saga_id, self.step)

        def effect() -> dict[str, Any]:
            net, held = self._net(tx, saga_id), self._held(tx, saga_id)
            if held > 0:
                tx.execute("INSERT INTO ledger(order_id, kind, amount) VALUES (?, 'release', ?)", (saga_id, held))
            if net > 0:
                tx.execute("INSERT INTO ledger(order_id, kind, amount) VALUES (?, 'refund', ?)", (saga_id, net))
            return {"refunded": net, "released": held} if held > 0 else {"refunded": net}

        return self._once(tx, f"{saga_id}/{self.step}/undo", effect)

    def authorize_in(self, tx: sqlite3.Connection, saga_id: str, amount: float) -> dict[str, Any]:
        """Place a hold of ``amount`` (refused over the card limit); nothing is taken yet."""
        return self._take(tx, saga_id, amount, "hold")

    def _take(self, tx: sqlite3.Connection, saga_id: str, amount: float, kind: str) -> dict[str, Any]:
        """The payment step's action: a ``charge`` or a ``hold`` row, once per saga."""
        saga_id, amount = saga_id_of(saga_id), require_amount(amount)
        self.faults.before_action(saga_id, self.step)

        def effect() -> dict[str, Any]:
            if amount > self.max_charge:
                raise StepRejected(f"card declined: {amount:.2f} is over the limit of {self.max_charge:.2f}")
            cur = tx.execute("INSERT INTO ledger(order_id, kind, amount) VALUES (?, ?, ?)", (saga_id, kind, amount))
            return {f"{kind}_id": cur.lastrowid, "amount": amount}

        return self._once(tx, f"{saga_id}/{self.step}/do", effect)

    def capture_in(self, tx: sqlite3.Connection, saga_id: str) -> dict[str, Any]:
        """Turn the order's open hold into a charge; refused if there is none (released or expired)."""
        saga_id = saga_id_of(saga_id)
        self.faults.before_action(saga_id, self.capture_step)

        def effect() -> dict[str, Any]:
            held = self._held(tx, saga_id)
            if held <= 0:
                raise StepRejected("nothing to capture: no open authorization (released or expired)")
            tx.execute("INSERT INTO ledger(order_id, kind, amount) VALUES (?, 'release', ?)", (saga_id, held))
            cur = tx.execute("INSERT INTO ledger(order_id, kind, amount) VALUES (?, 'charge', ?)", (saga_id, held))
            return {"charge_id": cur.lastrowid, "amount": held}

        return self._once(tx, f"{saga_id}/{self.capture_step}/do", effect)

    def charge(self, ctx: StepContext) -> dict[str, Any]:
        """Saga action: charge ``ctx.data['amount']`` for order ``ctx.saga_id``."""
        amount = require_amount(ctx.data.get("amount"))
        return self._do(ctx.saga_id, lambda tx: self.charge_in(tx, ctx.saga_id, amount), undo=False)

    def refund(self, ctx: StepContext) -> dict[str, Any]:
        """Saga compensation: refund what this order was charged and release its hold (nothing if nothing)."""
        return self._do(ctx.saga_id, lambda tx: self.refund_in(tx, ctx.saga_id), undo=True)

    def authorize(self, ctx: StepContext) -> dict[str, Any]:
        """Saga action: hold ``ctx.data['amount']`` on the card for order ``ctx.saga_id``."""
        amount = require_amount(ctx.data.get("amount"))
        return self._do(ctx.saga_id, lambda tx: self.authorize_in(tx, ctx.saga_id, amount), undo=False)

    def capture(self, ctx: StepContext) -> dict[str, Any]:
        """Saga action (the last step): take the money the order's authorization holds."""
        return self._do(ctx.saga_id, lambda tx: self.capture_in(tx, ctx.saga_id), undo=False,
                        step=self.capture_step)

    def naive_refund_in(self, tx: sqlite3.Connection, saga_id: str, amount: float) -> dict[str, Any]:
        """What NOT to do: refund ``amount`` with no idempotency key and no check of the ledger.

        Run twice (a retry, a resumed orchestrator, a redelivered event), it refunds twice. Kept
        only to show that the failure matrix catches it.
        """
        saga_id, amount = saga_id_of(saga_id), require_amount(amount)
        self.faults.before_compensation(saga_id, self.step)
        tx.execute("INSERT INTO ledger(order_id, kind, amount) VALUES (?, 'refund', ?)", (saga_id, amount))
        return {"refunded": amount}

    def naive_refund(self, ctx: StepContext) -> dict[str, Any]:
        """Saga compensation, the broken way (see ``naive_refund_in``)."""
        amount = require_amount(ctx.data.get("amount"))
        return self._do(ctx.saga_id, lambda tx: self.naive_refund_in(tx, ctx.saga_id, amount), undo=True)

    def _net(self, conn: sqlite3.Connection, order_id: str) -> float:
        """Money taken from the card for this order: charges - refunds."""
        return self._sum(conn, order_id, "charge", "refund")

    def _held(self, conn: sqlite3.Connection, order_id: str) -> float:
        """Money reserved on the card and not taken yet: holds - releases."""
        return self._sum(conn, order_id, "hold", "release")

    @staticmethod
    def _sum(conn: sqlite3.Connection, order_id: str, plus: str, minus: str) -> float:
        row = conn.execute(
            "SELECT COALESCE(SUM(CASE kind WHEN ? THEN amount WHEN ? THEN -amount ELSE 0 END), 0) FROM ledger"
            " WHERE order_id = ?",
            (plus, minus, order_id),
        ).fetchone()
        return float(row[0])

    def effects(self, order_id: str) -> dict[str, float]:
        """Counts for the invariant checker: charges, refunds, net charged, holds and the amount still held."""
        order_id = saga_id_of(order_id)
        rows = self.conn.execute("SELECT kind, COUNT(*) FROM ledger WHERE order_id = ? GROUP BY kind", (order_id,))
        counts = dict(rows.fetchall())
        return {"charges": counts.get("charge", 0), "refunds": counts.get("refund", 0),
                "net": self._net(self.conn, order_id), "holds": counts.get("hold", 0),
                "held": self._held(self.conn, order_id)}


class InventoryService(_Service):
    """Stock per SKU and reservations per order; every stock change is a ``movements`` row."""

    step = "inventory"
    schema = (
        "CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL CHECK (qty >= 0))",
        "CREATE TABLE IF NOT EXISTS movements (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT,"
        " sku TEXT NOT NULL, delta INTEGER NOT NULL)",
    )

    def __init__(
        self,
        db: Any = None,
        *,
        stock: Mapping[str, int] | None = None,
        clock: Clock | None = None,
        faults: FaultInjector | None = None,
        latency: float = 0.0,
    ) -> None:
        initial = {
            require_sku(sku, "stock key"): require_int(qty, f"stock[{sku!r}]", minimum=0, maximum=MAX_QTY)
            for sku, qty in require_mapping({} if stock is None else stock, "stock").items()
        }
        super().__init__(db, clock=clock, faults=faults, latency=latency)
        with transaction(self.conn) as tx:  # initial stock for SKUs this database does not know yet:
            for sku, qty in initial.items():  # reopening a file never resets the stock a run left
                tx.execute("INSERT OR IGNORE INTO stock VALUES (?, ?)", (sku, qty))

    def reserve_in(self, tx: sqlite3.Connection, saga_id: str, sku: str, qty: int) -> dict[str, Any]:
        saga_id, sku, qty = saga_id_of(saga_id), require_sku(sku), require_qty(qty)
        self.faults.before_action(saga_id, self.step)

        def effect() -> dict[str, Any]:
            row = tx.execute("SELECT qty FROM stock WHERE sku = ?", (sku,)).fetchone()
            if row is None or row[0] < qty:
                raise StepRejected(f"out of stock: {sku} has {0 if row is None else row[0]}, order needs {qty}")
            tx.execute("UPDATE stock SET qty = qty - ? WHERE sku = ?", (qty, sku))
            tx.execute("INSERT INTO movements(order_id, sku, delta) VALUES (?, ?, ?)", (saga_id, sku, -qty))
            return {"sku": sku, "reserved": qty}

        return self._once(tx, f"{saga_id}/{self.step}/do", effect)

    def release_in(self, tx: sqlite3.Connection, saga_id: str) -> dict[str, Any]:
        saga_id = saga_id_of(saga_id)
        self.faults.before_compensation(saga_id, self.step)

        def effect() -> dict[str, Any]:
            released = 0
            for sku, delta in tx.execute(
                "SELECT sku, SUM(delta) FROM movements WHERE order_id = ? GROUP BY sku", (saga_id,)
            ).fetchall():
                if delta < 0:
                    tx.execute("UPDATE stock SET qty = qty + ? WHERE sku = ?", (-delta, sku))
                    tx.execute("INSERT INTO movements(order_id, sku, delta) VALUES (?, ?, ?)", (saga_id, sku, -delta))
                    released += -delta
            return {"released": released}

        return self._once(tx, f"{saga_id}/{self.step}/undo", effect)

    def reserve(self, ctx: StepContext) -> dict[str, Any]:
        """Saga action: take ``qty`` of ``sku`` out of stock for this order, or refuse."""
        sku, qty = require_sku(ctx.data.get("sku")), require_qty(ctx.data.get("qty"))
        return self._do(ctx.saga_id, lambda tx: self.reserve_in(tx, ctx.saga_id, sku, qty), undo=False)

    def release(self, ctx: StepContext) -> dict[str, Any]:
        """Saga compensation: put back whatever this order still holds (nothing if nothing)."""
        return self._do(ctx.saga_id, lambda tx: self.release_in(tx, ctx.saga_id), undo=True)

    def available(self, sku: str) -> int:
        sku = require_sku(sku)
        row = self.conn.execute("SELECT qty FROM stock WHERE sku = ?", (sku,)).fetchone()
        return 0 if row is None else int(row[0])

    def effects(self, order_id: str) -> dict[str, int]:
        """Counts for the invariant checker: reservations made, releases, net stock change."""
        order_id = saga_id_of(order_id)
        rows = self.conn.execute("SELECT delta FROM movements WHERE order_id = ?", (order_id,)).fetchall()
        deltas = [d for (d,) in rows]
        return {
            "reservations": sum(d < 0 for d in deltas),
            "releases": sum(d > 0 for d in deltas),
            "stock_delta": sum(deltas),
        }


class ShippingService(_Service):
    """Shipments per order; ``schedule`` and ``cancel`` are rows in ``shipment_log``."""

    step = "shipping"
    schema = (
        "CREATE TABLE IF NOT EXISTS shipment_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL,"
        " kind TEXT NOT NULL)",
    )

    def schedule_in(self, tx: sqlite3.Connection, saga_id: str) -> dict[str, Any]:
        saga_id = saga_id_of(saga_id)
        self.faults.before_action(saga_id, self.step)

        def effect() -> dict[str, Any]:
            cur = tx.execute("INSERT INTO shipment_log(order_id, kind) VALUES (?, 'schedule')", (saga_id,))
            return {"shipment_id": cur.lastrowid}

        return self._once(tx, f"{saga_id}/{self.step}/do", effect)

    def cancel_in(self, tx: sqlite3.Connection, saga_id: str) -> dict[str, Any]:
        saga_id = saga_id_of(saga_id)
        self.faults.before_compensation(saga_id, self.step)

        def effect() -> dict[str, Any]:
            if self._active(tx, saga_id) > 0:
                tx.execute("INSERT INTO shipment_log(order_id, kind) VALUES (?, 'cancel')", (saga_id,))
                return {"cancelled": True}
            return {"cancelled": False}

        return self._once(tx, f"{saga_id}/{self.step}/undo", effect)

    def schedule(self, ctx: StepContext) -> dict[str, Any]:
        """Saga action: book a courier for this order, or refuse."""
        return self._do(ctx.saga_id, lambda tx: self.schedule_in(tx, ctx.saga_id), undo=False)

    def cancel(self, ctx: StepContext) -> dict[str, Any]:
        """Saga compensation: cancel this order's shipment (nothing if none)."""
        return self._do(ctx.saga_id, lambda tx: self.cancel_in(tx, ctx.saga_id), undo=True)

    def _active(self, conn: sqlite3.Connection, order_id: str) -> int:
        row = conn.execute(
            "SELECT COALESCE(SUM(CASE kind WHEN 'schedule' THEN 1 ELSE -1 END), 0) FROM shipment_log"
            " WHERE order_id = ?",
            (order_id,),
        ).fetchone()
        return int(row[0])

    def effects(self, order_id: str) -> dict[str, int]:
        """Counts for the invariant checker: shipments scheduled, cancelled, still active."""
        order_id = saga_id_of(order_id)
        rows = dict(
            self.conn.execute(
                "SELECT kind, COUNT(*) FROM shipment_log WHERE order_id = ? GROUP BY kind", (order_id,)
            ).fetchall()
        )
        return {"scheduled": rows.get("schedule", 0), "cancelled": rows.get("cancel", 0), "active": self._active(self.conn, order_id)}
