"""Commands: what a client asks the write side to do, validated before anything is touched.

A command is an intention in the imperative (``CreateOrder``), unlike an event, which is a fact in
the past tense (``OrderCreated``). Commands are frozen dataclasses that check their own fields at
construction, so a malformed request fails with a ``ValueError``/``TypeError`` naming the field
before it reaches the database. Business rules that need state (does the order exist? is it still
a draft?) are checked by the handler and fail with a ``DomainError``.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _check_id(value: object, name: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not value or len(value) > MAX_ID_LENGTH or not all(c.isalnum() or c in "-_." for c in value):
        raise ValueError(
            f"{name} must be 1-{MAX_ID_LENGTH} characters of letters, digits, '-', '_', '.', got {value!r}"
        )


def _check_text(value: object, name: str, max_length: int = 200) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip() or len(value) > max_length:
        raise ValueError(f"{name} must be a non-blank string of at most {max_length} characters, got {value!r}")


def _check_int(value: object, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer in [{low}, {high}], got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value}")


@dataclass(frozen=True)
class Command:
    """Base class of every command (for ``isinstance`` checks and type hints)."""


@dataclass(frozen=True)
class RegisterCustomer(Command):
    customer_id: str
    name: str

    def __post_init__(self) -> None:
        _check_id(self.customer_id, "customer_id")
        _check_text(self.name, "name")


@dataclass(frozen=True)
class RenameCustomer(Command):
    """Changes a name that order summaries copied: the projector must fix every copy."""

    customer_id: str
    name: str

    def __post_init__(self) -> None:
        _check_id(self.customer_id, "customer_id")
        _check_text(self.name, "name")


@dataclass(frozen=True)
class CreateOrder(Command):
    order_id: str
    customer_id: str

    def __post_init__(self) -> None:
        _check_id(self.order_id, "order_id")
        _check_id(self.customer_id, "customer_id")


@dataclass(frozen=True)
class AddItem(Command):
    """Add a line to a draft order. Prices are integer cents: sums stay exact on every store."""

    order_id: str
    sku: str
    quantity: int
    price_cents: int

    def __post_init__(self) -> None:
        _check_id(self.order_id, "order_id")
        _check_id(self.sku, "sku")
        _check_int(self.quantity, "quantity", 1, MAX_QUANTITY)
        _check_int(self.price_cents, "price_cents", 0, MAX_PRICE_CENTS)


@dataclass(frozen=True)
class ConfirmOrder(Command):
    order_id: str

    def __post_init__(self) -> None:
        _check_id(self.order_id, "order_id")


@dataclass(frozen=True)
class CancelOrder(Command):
    order_id: str
    reason: str = "customer request"

    def __post_init__(self) -> None:
        _check_id(self.order_id, "order_id")
        _check_text(self.reason, "reason")
