"""The write side: command validation, business rules, events in the same transaction."""

from __future__ import annotations

import random

import pytest

from patterns.clock import ManualClock
from patterns.cqrs import (
    AddItem,
    CancelOrder,
    ConfirmOrder,
    CreateOrder,
    DuplicateId,
    InvalidTransition,
    RegisterCustomer,
    RenameCustomer,
    UnknownCustomer,
    UnknownOrder,
    WriteModel,
)


@pytest.fixture
def write() -> WriteModel:
    w = WriteModel(clock=ManualClock(100.0), rng=random.Random(1))
    w.handle(RegisterCustomer("c1", "Ada"))
    return w


@pytest.mark.parametrize(
    ("build", "exc", "name"),
    [
        (lambda: AddItem("o1", "pen", 0, 100), ValueError, "quantity"),
        (lambda: AddItem("o1", "pen", -3, 100), ValueError, "quantity"),
        (lambda: AddItem("o1", "pen", 1.5, 100), TypeError, "quantity"),
        (lambda: AddItem("o1", "pen", True, 100), TypeError, "quantity"),
        (lambda: AddItem("o1", "pen", 1, -1), ValueError, "price_cents"),
        (lambda: AddItem("o1", "", 1, 1), ValueError, "sku"),
        (lambda: CreateOrder("", "c1"), ValueError, "order_id"),
        (lambda: CreateOrder("o 1", "c1"), ValueError, "order_id"),
        (lambda: CreateOrder("o1", 7), TypeError, "customer_id"),
        (lambda: RegisterCustomer("c1", "   "), ValueError, "name"),
        (lambda: CancelOrder("o1", ""), ValueError, "reason"),
    ],
)
def test_commands_validate_their_fields(build, exc, name) -> None:
    with pytest.raises(exc, match=name):
        build()


def test_commands_are_frozen() -> None:
    cmd = CreateOrder("o1", "c1")
    with pytest.raises(AttributeError):
        cmd.order_id = "o2"  # type: ignore[misc]


def test_create_add_confirm_emits_one_event_each_with_gap_free_seq(write: WriteModel) -> None:
    results = [
        write.handle(CreateOrder("o1", "c1")),
        write.handle(AddItem("o1", "pen", 2, 150)),
        write.handle(AddItem("o1", "book", 1, 1000)),
        write.handle(ConfirmOrder("o1")),
    ]
    assert [r.events[0].type for r in results] == ["OrderCreated", "ItemAdded", "ItemAdded", "OrderConfirmed"]
    assert [r.position for r in results] == [2, 3, 4, 5]
    assert write.position == 5
    assert [e.data["seq"] for e in write.events()] == [1, 2, 3, 4, 5]
    confirmed = results[-1].events[0].data
    assert (confirmed["item_count"], confirmed["total_cents"], confirmed["version"]) == (3, 1300, 4)
    assert results[0].events[0].data["customer_name"] == "Ada"  # denormalized into the event
    assert write.order_summary("o1") == {
        "order_id": "o1",
        "customer_id": "c1",
        "customer_name": "Ada",
        "status": "confirmed",
        "item_count": 3,
        "total_cents": 1300,
        "created_at": 100.0,
        "updated_at": 100.0,
        "version": 4,
    }


def test_events_carry_the_write_time(write: WriteModel) -> None:
    write.clock.advance(5)
    result = write.handle(CreateOrder("o1", "c1"))
    assert result.events[0].data["at"] == 105.0


@pytest.mark.parametrize(
    ("commands", "exc"),
    [
        ([AddItem("nope", "pen", 1, 1)], UnknownOrder),
        ([ConfirmOrder("nope")], UnknownOrder),
        ([CancelOrder("nope")], UnknownOrder),
        ([CreateOrder("o1", "c9")], UnknownCustomer),
        ([RenameCustomer("c9", "X")], UnknownCustomer),
        ([RegisterCustomer("c1", "Bob")], DuplicateId),
        ([CreateOrder("o1", "c1"), CreateOrder("o1", "c1")], DuplicateId),
        ([CreateOrder("o1", "c1"), ConfirmOrder("o1")], InvalidTransition),  # empty order
        (
            [CreateOrder("o1", "c1"), AddItem("o1", "p", 1, 1), ConfirmOrder("o1"), AddItem("o1", "p", 1, 1)],
            InvalidTransition,
        ),
        (
            [CreateOrder("o1", "c1"), AddItem("o1", "p", 1, 1), ConfirmOrder("o1"), ConfirmOrder("o1")],
            InvalidTransition,
        ),
        ([CreateOrder("o1", "c1"), CancelOrder("o1"), CancelOrder("o1")], InvalidTransition),
    ],
)
def test_business_rules_refuse_with_domain_errors_and_change_nothing(write, commands, exc) -> None:
    *setup, last = commands
    for cmd in setup:
        write.handle(cmd)
    before = (write.position, write.order_summaries(), len(write.outbox.rows()))
    with pytest.raises(exc):
        write.handle(last)
    assert (write.position, write.order_summaries(), len(write.outbox.rows())) == before
    assert write.rejected == 1


def test_unknown_order_error_names_the_id(write: WriteModel) -> None:
    with pytest.raises(UnknownOrder, match="'o404'"):
        write.handle(AddItem("o404", "pen", 1, 1))


def test_handle_rejects_non_commands(write: WriteModel) -> None:
    with pytest.raises(TypeError, match="command must be one of"):
        write.handle("CreateOrder")  # type: ignore[arg-type]


def test_cancel_of_confirmed_order_reports_previous_status_and_total(write: WriteModel) -> None:
    write.handle(CreateOrder("o1", "c1"))
    write.handle(AddItem("o1", "pen", 3, 200))
    write.handle(ConfirmOrder("o1"))
    data = write.handle(CancelOrder("o1", "changed my mind")).events[0].data
    assert (data["previous_status"], data["total_cents"], data["reason"]) == (
        "confirmed",
        600,
        "changed my mind",
    )


def test_rename_changes_the_join_and_emits_an_event(write: WriteModel) -> None:
    write.handle(CreateOrder("o1", "c1"))
    result = write.handle(RenameCustomer("c1", "Ada L."))
    assert result.events[0].type == "CustomerRenamed"
    assert write.order_summary("o1")["customer_name"] == "Ada L."


def test_a_failure_inside_the_transaction_leaves_no_row_and_no_event(write: WriteModel, monkeypatch) -> None:
    """The outbox row and the business row commit together or not at all."""

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(write.outbox, "add", boom)
    with pytest.raises(RuntimeError):
        write.handle(CreateOrder("o1", "c1"))
    monkeypatch.undo()
    assert write.order_summary("o1") is None
    assert write.position == 1
    assert [e.type for e in write.events()] == ["CustomerRegistered"]


def test_seeded_rng_gives_reproducible_yet_unique_event_ids() -> None:
    # issue 12 item 6: the seed fixes the ids' order, each generator's incarnation keeps them apart
    ids = []
    for _ in range(2):
        w = WriteModel(clock=ManualClock(), rng=random.Random(3))
        ids.append(w.handle(RegisterCustomer("c1", "Ada")).events[0].event_id)
    assert ids[0] != ids[1] and ids[0][:24] == ids[1][:24]
