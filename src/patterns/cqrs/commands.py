"""Commands: what a client asks the write side to do, validated before anything is touched.

A command is an intention in the imperative (``CreateOrder``), unlike an event, which is a fact in
the past tense (``OrderCreated``). Commands are frozen dataclasses that check their own fields at
construction, so a malformed request fails with a ``ValueError``/``TypeError`` naming the field
before it reaches the database. Business rules that need state (does the order exist? is it still
a draft?) are checked by the handler and fail with a ``DomainError``.
"""

from __future__ import annotations

from dataclasses import dataclass

from patterns._validate import require_int, require_text
from patterns.errors import PatternError

__all__ = [
    "Command",
    "RegisterCustomer",
    "RenameCustomer",
    "CreateOrder",
    "AddItem",
    "ConfirmOrder",
    "CancelOrder",
    "DomainError",
    "UnknownOrder",
    "UnknownCustomer",
    "DuplicateId",
    "InvalidTransition",
    "MAX_QUANTITY",
    "MAX_PRICE_CENTS",
]

MAX_QUANTITY = 10_000
MAX_PRICE_CENTS = 100_000_000  # one million in currency units: a typo guard, not a business rule
MAX_ID_LENGTH = 64


class DomainError(PatternError):
    """The write model refused a well-formed command because of the current state."""


class UnknownOrder(DomainError, LookupError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"unknown order id {order_id!r}: create it with CreateOrder first")
        self.order_id = order_id


class UnknownCustomer(DomainError, LookupError):
    def __init__(self, customer_id: str) -> None:
        super().__init__(f"unknown customer id {customer_id!r}: register it with RegisterCustomer first")
        self.customer_id = customer_id


class DuplicateId(DomainError):
    """An aggregate with this id already exists (commands that create are not upserts)."""


class InvalidTransition(DomainError):
    """The order's status does not allow this command (e.g. AddItem on a confirmed order)."""


def _require_id(value: object, name: str) -> None:
    text = require_text(value, name, max_length=MAX_ID_LENGTH)
    if not all(c.isalnum() or c in "-_." for c in text):
        raise ValueError(
            f"{name} must be 1-{MAX_ID_LENGTH} characters of letters, digits, '-', '_', '.', got {value!r}"
        )


def _require_words(value: object, name: str, max_length: int = 200) -> None:
    if not require_text(value, name, max_length=max_length).strip():
        raise ValueError(f"{name} must be a non-blank string of at most {max_length} characters, got {value!r}")


@dataclass(frozen=True)
class Command:
    """Base class of every command (for ``isinstance`` checks and type hints)."""


@dataclass(frozen=True)
class RegisterCustomer(Command):
    customer_id: str
    name: str

    def __post_init__(self) -> None:
        _require_id(self.customer_id, "customer_id")
        _require_words(self.name, "name")


@dataclass(frozen=True)
class RenameCustomer(Command):
    """Changes a name that order summaries copied: the projector must fix every copy."""

    customer_id: str
    name: str

    def __post_init__(self) -> None:
        _require_id(self.customer_id, "customer_id")
        _require_words(self.name, "name")


@dataclass(frozen=True)
class CreateOrder(Command):
    order_id: str
    customer_id: str

    def __post_init__(self) -> None:
        _require_id(self.order_id, "order_id")
        _require_id(self.customer_id, "customer_id")


@dataclass(frozen=True)
class AddItem(Command):
    """Add a line to a draft order. Prices are integer cents: sums stay exact on every store."""

    order_id: str
    sku: str
    quantity: int
    price_cents: int

    def __post_init__(self) -> None:
        _require_id(self.order_id, "order_id")
        _require_id(self.sku, "sku")
        require_int(self.quantity, "quantity", minimum=1, maximum=MAX_QUANTITY)
        require_int(self.price_cents, "price_cents", minimum=0, maximum=MAX_PRICE_CENTS)


@dataclass(frozen=True)
class ConfirmOrder(Command):
    order_id: str

    def __post_init__(self) -> None:
        _require_id(self.order_id, "order_id")


@dataclass(frozen=True)
class CancelOrder(Command):
    order_id: str
    reason: str = "customer request"

    def __post_init__(self) -> None:
        _require_id(self.order_id, "order_id")
        _require_words(self.reason, "reason")
