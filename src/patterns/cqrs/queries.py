"""The query side: answers screens from the denormalized read model, never from the write model.

Every query here is a key lookup or an index lookup on rows that already have the shape the screen
wants (customer name, item count, total): no joins, no aggregation at read time. The price is
freshness: the answers are as old as the projector's checkpoint (see ``consistency``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patterns._validate import require_int, require_one_of
from patterns.cqrs.projections import CUSTOMER_STATS, ORDER_SUMMARIES
from patterns.cqrs.stores import ReadStore

__all__ = ["OrderSummary", "OrderQueries", "STATUSES"]

STATUSES = ("draft", "confirmed", "cancelled")


@dataclass(frozen=True)
class OrderSummary:
    """One row of the "my orders" screen."""

    order_id: str
    customer_id: str
    customer_name: str
    status: str
    item_count: int
    total_cents: int
    created_at: float
    updated_at: float
    version: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OrderSummary:
        return cls(**row)


class OrderQueries:
    """Read-side queries over a store that an ``OrderSummaries`` (and ``CustomerStats``) projector fills."""

    def __init__(self, store: ReadStore) -> None:
        if not isinstance(store, ReadStore):
            raise TypeError(f"store must be a ReadStore, got {type(store).__name__}")
        self.store = store

    def order(self, order_id: str) -> OrderSummary | None:
        row = self.store.get(ORDER_SUMMARIES, order_id)
        return OrderSummary.from_row(row) if row else None

    def orders_for_customer(
        self, customer_id: str, *, limit: int = 20, status: str | None = None
    ) -> list[OrderSummary]:
        """A customer's orders, newest first (ties by order id), optionally one status only."""
        require_int(limit, "limit", minimum=1, maximum=1000)
        if status is not None:
            require_one_of(status, "status", STATUSES)
        rows = [r for r in self.store.find(ORDER_SUMMARIES, "customer_id", customer_id)
                if status is None or r["status"] == status]
        rows.sort(key=lambda r: (-r["created_at"], r["order_id"]))
        return [OrderSummary.from_row(r) for r in rows[:limit]]

    def customer_stats(self, customer_id: str) -> dict[str, Any] | None:
        return self.store.get(CUSTOMER_STATS, customer_id)

    def top_customers(self, limit: int = 5) -> list[dict[str, Any]]:
        """Customers by money spent (confirmed, not cancelled), then id. Needs ``CustomerStats``."""
        require_int(limit, "limit", minimum=1, maximum=1000)
        rows = list(self.store.rows(CUSTOMER_STATS).values())
        rows.sort(key=lambda r: (-r["spent_cents"], r["customer_id"]))
        return rows[:limit]
