"""Projections: how events become denormalized read-model rows.

A projection is pure logic over a small transaction interface (``RowTx``: get, put, delete, find
by an indexed column), so the SAME code fills a SQLite table or a Redis hash. It reads only
events, never the write model: everything a row needs must travel in the events (the write side
copies the customer's name into ``OrderCreated`` for exactly this reason).

Two projections ship:

* ``OrderSummaries`` - one row per order, the shape of "my orders" screens: customer name,
  status, item count, total; indexed by customer.
* ``CustomerStats`` - one row per customer: orders placed, confirmed, cancelled, money spent.
  It is the "read model added after the fact": build it later by replaying the event log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from patterns.messaging import Event

__all__ = ["Table", "RowTx", "Projection", "OrderSummaries", "CustomerStats", "ORDER_SUMMARIES",
           "CUSTOMER_STATS"]


@dataclass(frozen=True)
class Table:
    """A read-model table: its name, key column, all columns, and columns to look rows up by."""

    name: str
    key: str
    columns: tuple[str, ...]
    indexes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for ident in (self.name, *self.columns):
            if not ident.isidentifier():
                raise ValueError(f"table and column names must be identifiers, got {ident!r}")
        if self.key not in self.columns:
            raise ValueError(f"key must be one of columns {self.columns}, got {self.key!r}")
        if not set(self.indexes) <= set(self.columns):
            raise ValueError(f"indexes must be columns of {self.name}, got {self.indexes}")


class RowTx(Protocol):
    """The view of a read-model store a projection gets inside one transaction."""

    def get(self, table: Table, key: str) -> dict[str, Any] | None: ...

    def put(self, table: Table, row: Mapping[str, Any]) -> None: ...

    def delete(self, table: Table, key: str) -> None: ...

    def find(self, table: Table, column: str, value: Any) -> list[str]: ...


class Projection(Protocol):
    """Applies events to rows. ``apply`` must be a function of the event and the rows only."""

    name: str
    tables: tuple[Table, ...]

    def apply(self, event: Event, tx: RowTx) -> None: ...


ORDER_SUMMARIES = Table(
    "order_summaries",
    key="order_id",
    columns=("order_id", "customer_id", "customer_name", "status", "item_count", "total_cents",
             "created_at", "updated_at", "version"),
    indexes=("customer_id",),
)

CUSTOMER_STATS = Table(
    "customer_stats",
    key="customer_id",
    columns=("customer_id", "name", "orders", "confirmed", "cancelled", "spent_cents"),
)


class OrderSummaries:
    """One denormalized row per order (no joins at query time)."""

    name = "order_summaries"
    tables: tuple[Table, ...] = (ORDER_SUMMARIES,)

    def apply(self, event: Event, tx: RowTx) -> None:
        d, t = event.data, ORDER_SUMMARIES
        if event.type == "OrderCreated":
            tx.put(t, {"order_id": d["order_id"], "customer_id": d["customer_id"],
                       "customer_name": d["customer_name"], "status": "draft", "item_count": 0,
                       "total_cents": 0, "created_at": d["at"], "updated_at": d["at"], "version": 1})
        elif event.type == "CustomerRenamed":
            for order_id in tx.find(t, "customer_id", d["customer_id"]):
                row = tx.get(t, order_id)
                if row is not None:
                    tx.put(t, {**row, "customer_name": d["name"]})
        elif event.type in ("ItemAdded", "OrderConfirmed", "OrderCancelled"):
            row = tx.get(t, d["order_id"])
            if row is None:  # an order event before its OrderCreated: a bug upstream, not ours to hide
                raise LookupError(f"{event.type} for order {d['order_id']!r} that the read model lacks")
            row = {**row, "updated_at": d["at"], "version": d["version"]}
            if event.type == "ItemAdded":
                row["item_count"] += d["quantity"]
                row["total_cents"] += d["quantity"] * d["price_cents"]
            else:
                row["status"] = "confirmed" if event.type == "OrderConfirmed" else "cancelled"
            tx.put(t, row)


class CustomerStats:
    """Per-customer counters; money counts confirmed orders that were not cancelled later."""

    name = "customer_stats"
    tables: tuple[Table, ...] = (CUSTOMER_STATS,)

    def apply(self, event: Event, tx: RowTx) -> None:
        d, t = event.data, CUSTOMER_STATS
        if event.type == "CustomerRegistered":
            tx.put(t, {"customer_id": d["customer_id"], "name": d["name"], "orders": 0, "confirmed": 0,
                       "cancelled": 0, "spent_cents": 0})
            return
        if event.type == "CustomerRenamed":
            row = self._row(tx, d["customer_id"])
            tx.put(t, {**row, "name": d["name"]})
            return
        if event.type == "OrderCreated":
            row = self._row(tx, d["customer_id"])
            tx.put(t, {**row, "orders": row["orders"] + 1})
            return
        if event.type == "OrderConfirmed":
            row = self._row(tx, d["customer_id"])
            tx.put(t, {**row, "confirmed": row["confirmed"] + 1,
                       "spent_cents": row["spent_cents"] + d["total_cents"]})
        elif event.type == "OrderCancelled":
            row = self._row(tx, d["customer_id"])
            refund = d["total_cents"] if d["previous_status"] == "confirmed" else 0
            tx.put(t, {**row, "cancelled": row["cancelled"] + 1, "spent_cents": row["spent_cents"] - refund})

    @staticmethod
    def _row(tx: RowTx, customer_id: str) -> dict[str, Any]:
        row = tx.get(CUSTOMER_STATS, customer_id)
        if row is None:
            raise LookupError(f"customer {customer_id!r} is missing from customer_stats")
        return row
