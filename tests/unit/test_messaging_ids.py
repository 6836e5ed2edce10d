"""Event ids (issue 12 item 6): reproducible order under a seed, unique across generators.

Both regressions failed before the incarnation part existed: a file-backed WriteModel restarted
with the same seed failed every command (UNIQUE constraint on the outbox's event_id), and the
idempotent consumer dropped the real events of a second producer seeded like the first.
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.messaging import (
    Event,
    IdempotentConsumer,
    InMemoryBroker,
    Outbox,
    OutboxRelay,
    drain,
    new_event_id,
)
from patterns.messaging.ids import incarnation_of


@given(seed=st.integers(0, 2**64), n=st.integers(1, 60))
def test_generators_seeded_alike_share_the_order_but_no_id(seed: int, n: int) -> None:
    a, b = random.Random(seed), random.Random(seed)
    ids_a = [new_event_id(a) for _ in range(n)]
    ids_b = [new_event_id(b) for _ in range(n)]
    assert not set(ids_a) & set(ids_b), "two generators seeded alike must never mint the same id"
    assert len(set(ids_a)) == n
    order = sorted(range(n), key=ids_a.__getitem__)
    assert order == sorted(range(n), key=ids_b.__getitem__), "the seed fixes the order of the ids"
    assert a.random() == b.random(), "drawing an id advances the rng exactly as a seeded uuid4 did"
    assert all(uuid.UUID(i).version == 4 for i in ids_a)


def test_an_id_keeps_the_seeded_high_bits_and_the_generators_incarnation() -> None:
    rng, twin = random.Random(5), random.Random(5)
    seeded = twin.getrandbits(128)
    value = uuid.UUID(new_event_id(rng)).int
    assert value >> 48 == uuid.UUID(int=seeded, version=4).int >> 48
    assert value & (2**48 - 1) == incarnation_of(rng)
    assert incarnation_of(rng) == incarnation_of(rng), "one incarnation per generator object"
    assert uuid.UUID(new_event_id()).version == 4
    with pytest.raises(TypeError, match="rng must be"):
        new_event_id(7)  # type: ignore[arg-type]


def test_a_file_backed_write_model_restarted_with_the_same_seed_keeps_accepting_commands(tmp_path: Path) -> None:
    from patterns.cqrs import RegisterCustomer, WriteModel

    path = tmp_path / "write.db"
    for run in range(2):  # a restart: same file, same seed, fresh process state
        import sqlite_utils

        write = WriteModel(sqlite_utils.Database(path), clock=ManualClock(), rng=random.Random(1))
        for i in range(5):
            write.handle(RegisterCustomer(f"c{run}-{i}", "Ada"))
        write.db.conn.close()
    check = sqlite3.connect(path)
    ids = [row[0] for row in check.execute("SELECT event_id FROM outbox")]
    assert len(ids) == len(set(ids)) == 10


def test_two_producers_seeded_alike_both_reach_an_idempotent_consumer() -> None:
    clock = ManualClock()
    broker = InMemoryBroker(clock=clock)
    broker.create_topic("orders", partitions=2)
    for shop in ("north", "south"):  # two processes of one service, started from the same config
        db = sqlite3.connect(":memory:", isolation_level=None)
        outbox = Outbox(db, clock=clock, rng=random.Random(42))
        for i in range(5):
            with outbox.transaction() as tx:
                outbox.add(tx, "orders", Event("OrderPlaced", key=f"{shop}-{i}", event_id=new_event_id(outbox.rng)))
        OutboxRelay(outbox, broker).run_until_empty()
    consumer = IdempotentConsumer(sqlite3.connect(":memory:", isolation_level=None), name="billing")
    applied = [consumer.handle(r, lambda tx, r: None) for r in drain(broker.subscribe("orders", group="billing"))]
    assert applied.count(True) == 10 and consumer.duplicates == 0
