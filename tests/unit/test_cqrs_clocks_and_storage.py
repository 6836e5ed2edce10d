"""CQRS defaults and failure modes: one clock reading per command, the right clock per component,
StorageLocked naming the file, and arguments of the wrong type refused at the door."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from patterns import infra
from patterns.clock import ManualClock, SystemClock, WallClock
from patterns.cqrs import (
    ORDER_SUMMARIES,
    AddItem,
    ConfirmOrder,
    CreateOrder,
    Projector,
    ReadYourWrites,
    RedisReadStore,
    RegisterCustomer,
    SQLiteReadStore,
    WriteModel,
)
from patterns.errors import StorageLocked


class TickingClock(ManualClock):
    """Moves forward a little at every reading, as a real clock does between two calls."""

    def now(self) -> float:
        return self.advance(0.000013)


def test_one_clock_reading_per_command_keeps_both_models_equal() -> None:
    """Issue 20 (4): the event's 'at' and the row's created_at/updated_at came from two readings,
    so the read model and order_summaries() differed (7354.714680 vs 7354.714694)."""
    write = WriteModel(clock=TickingClock())
    write.handle(RegisterCustomer("c1", "Ada"))
    results = [write.handle(CreateOrder("o1", "c1")), write.handle(AddItem("o1", "pen", 2, 100)),
               write.handle(ConfirmOrder("o1"))]
    projector = Projector(SQLiteReadStore(), clock=ManualClock())
    projector.apply(write.events())
    assert projector.store.rows(ORDER_SUMMARIES) == write.order_summaries()
    row = write.order_summary("o1")
    assert row is not None
    assert row["created_at"] == results[0].events[0].data["at"]
    assert row["updated_at"] == results[-1].events[0].data["at"]
    reader = ReadYourWrites(write, projector.store, clock=ManualClock(), timeout=0)
    assert reader.order("o1", after=results[-1]).row == row


def test_default_clocks_are_chosen_per_component() -> None:
    write = WriteModel()
    assert isinstance(write.clock, WallClock)  # timestamps stored and shipped to other processes
    store = SQLiteReadStore()
    assert isinstance(Projector(store).clock, WallClock)  # lag = its reading minus the writer's
    assert isinstance(ReadYourWrites(write, store).clock, SystemClock)  # a local wait: monotonic


def _locked(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_a_locked_read_store_raises_storage_locked_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "read.db"
    store = SQLiteReadStore(sqlite3.connect(path, timeout=0.05, check_same_thread=False))
    projector = Projector(store, clock=ManualClock())
    write = WriteModel(clock=ManualClock())
    write.handle(RegisterCustomer("c1", "Ada"))
    write.handle(CreateOrder("o1", "c1"))
    holder = _locked(path)
    try:
        with pytest.raises(StorageLocked, match="read.db"):
            projector.apply(write.events())
        with pytest.raises(StorageLocked, match="read.db"):
            store.checkpoint("orders")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert projector.apply(write.events()) == 2


def test_a_locked_write_model_raises_storage_locked_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "write.db"
    write = WriteModel(sqlite_utils.Database(sqlite3.connect(path, timeout=0.05)), clock=ManualClock())
    write.handle(RegisterCustomer("c1", "Ada"))
    holder = _locked(path)
    try:
        with pytest.raises(StorageLocked, match="write.db"):
            write.handle(CreateOrder("o1", "c1"))
        with pytest.raises(StorageLocked, match="write.db"):
            write.order_summaries()
        assert write.rejected == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert write.handle(CreateOrder("o1", "c1")).position == 2


@pytest.mark.parametrize(
    ("build", "error", "words"),
    [
        (lambda: WriteModel(clock="now"), TypeError, "clock must be a Clock"),
        (lambda: WriteModel(db="orders.db"), TypeError, "db must be"),
        (lambda: WriteModel(rng=4), TypeError, "rng"),
        (lambda: WriteModel(topic=""), ValueError, "topic"),
        (lambda: Projector(SQLiteReadStore(), clock=3.0), TypeError, "clock must be a Clock"),
        (lambda: Projector(SQLiteReadStore(), name=""), ValueError, "name"),
        (lambda: Projector("store"), TypeError, "store"),
        (lambda: ReadYourWrites(WriteModel(), SQLiteReadStore(), timeout=float("inf")), ValueError, "timeout"),
        (lambda: ReadYourWrites(WriteModel(), SQLiteReadStore(), timeout=1e300), ValueError, "timeout"),
        (lambda: ReadYourWrites(WriteModel(), "store"), TypeError, "store"),
        (lambda: ReadYourWrites(WriteModel(), SQLiteReadStore(), clock=object()), TypeError, "clock"),
        (lambda: RedisReadStore({"hget": None}), TypeError, "client must be a redis-py client"),
        (lambda: RedisReadStore(infra.redis_client(url="", fresh=True), prefix="a{b"), ValueError, "prefix"),
        (lambda: RedisReadStore(infra.redis_client(url="", fresh=True), name="x:y"), ValueError, "name"),
        (lambda: SQLiteReadStore("read.db"), TypeError, "db must be"),
    ],
)
def test_wrong_arguments_are_refused_at_construction(build: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        build()
