"""Chapter 4 (CQRS): read-your-writes while the projector is behind, then after it caught up."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from patterns.clock import ManualClock
from patterns.cqrs import (
    AddItem,
    CommandResult,
    CreateOrder,
    Projector,
    ReadYourWrites,
    RegisterCustomer,
    SQLiteReadStore,
    WriteModel,
)
from patterns.diagrams.dot import Diagram
from patterns.diagrams.sequence import Trace, sequence_diagram
from patterns.diagrams.tracing import Tracer

__all__ = ["read_your_writes"]


def _write_call(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    if method == "handle":
        command = args[0]
        return f"{type(command).__name__}({command.order_id}, {command.sku} x{command.quantity})" \
            if isinstance(command, AddItem) else type(command).__name__
    if method == "order_summary":
        return f"join the tables for {args[0]}"
    return None


def _write_answer(method: str, result: Any) -> str | None:
    if method == "handle" and isinstance(result, CommandResult):
        return f"accepted: position {result.position}"
    if method == "order_summary":
        return f"{result['item_count']} items (current)"
    return None


def _store_call(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    if method == "checkpoint":
        return "checkpoint?"
    if method == "get":
        return f"get summary {args[1]}"
    if method == "atomically":
        return "apply events: rows + checkpoint, one transaction"
    return None


def _store_answer(method: str, result: Any) -> str | None:
    if method == "checkpoint":
        return f"at {result.position}"
    if method == "get":
        return f"{result['item_count']} items"
    if method == "atomically":
        return f"{len(result)} applied"
    return None


def read_your_writes() -> Diagram:
    """The chapter's read-your-writes run, traced: wait for the checkpoint, fall back, then read fresh."""
    clock = ManualClock()
    trace = Trace(["user", "query API", "write model", "read store", "projector"],
                  kinds={"user": "client", "write model": "store", "read store": "store"})
    tracer = Tracer(trace)
    tracer.enabled = False
    write = WriteModel(clock=clock, rng=random.Random(1))
    store = SQLiteReadStore()
    projector = Projector(tracer.wrap(store, "read store", caller="projector", describe=_store_call,
                                      replies=_store_answer), clock=clock)
    write.handle(RegisterCustomer("c1", "Ada"))
    write.handle(CreateOrder("o1", "c1"))
    projector.apply(write.events())
    user_write = tracer.wrap(write, "write model", caller="user", describe=_write_call, replies=_write_answer)
    reader = ReadYourWrites(
        tracer.wrap(write, "write model", caller="query API", describe=_write_call, replies=_write_answer),
        tracer.wrap(store, "read store", caller="query API", describe=_store_call, replies=_store_answer),
        clock=clock, timeout=0.2, poll_interval=0.1,
        on_wait=lambda: tracer.note("query API", f"waited until t={clock.now():.2f} s"))
    tracer.enabled = True
    clicked = user_write.handle(AddItem("o1", "book", 2, 1500))

    def read() -> None:
        trace.send("user", "query API", f"GET /orders/o1 (after position {clicked.position})")
        answer = reader.order("o1", after=clicked)
        trace.reply("query API", "user", f"{answer.row['item_count'] if answer.row else 0} items from the "
                                         f"{answer.source}, waited {answer.waited:g} s")

    read()
    projector.apply(write.events())
    read()
    return sequence_diagram(trace, title="read-your-writes (timeout 0.2 s, poll every 0.1 s): projector behind, then caught up",
                            generated_from="patterns.cqrs.ReadYourWrites, Projector (a traced run)")
