"""ShardedStore: single-shard operations, scatter-gather, exact resharding, crashes, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from patterns.sharding import (
    ConsistentHashRing,
    JumpRouter,
    ModuloRouter,
    RangeRouter,
    Rendezvous,
    ShardedStore,
)

COLUMNS = {"name": str, "age": int}


@pytest.fixture
def store(tmp_path: Path):
    with ShardedStore(ConsistentHashRing(["s0", "s1", "s2"], vnodes=64), tmp_path, COLUMNS) as s:
        yield s


def fill(store: ShardedStore, n: int) -> None:
    store.put_many((f"user:{i}", {"name": f"name{i}", "age": i % 50}) for i in range(n))


def test_put_get_delete_touch_only_the_owner(store):
    owner = store.put("user:1", {"name": "Ada", "age": 36})
    assert owner == store.router.node_for("user:1")
    assert store.get("user:1") == {"name": "Ada", "age": 36}
    assert store.keys_on(owner) == ["user:1"]
    before = dict(store.shard_queries)
    store.get("user:1")
    assert {n: c - before.get(n, 0) for n, c in store.shard_queries.items() if c != before.get(n, 0)} == {
        owner: 1
    }
    store.put("user:1", {"name": "Ada L."})  # a put replaces the whole row
    assert store.get("user:1") == {"name": "Ada L.", "age": None}
    assert store.delete("user:1") is True
    assert store.delete("user:1") is False
    assert store.get("user:1") is None


def test_every_row_lives_on_its_owner(store):
    fill(store, 600)
    for node in store.router.nodes:
        assert all(store.router.node_for(k) == node for k in store.keys_on(node))
    assert store.count() == 600


def test_scatter_gather_query_merges_orders_and_limits(store):
    fill(store, 300)
    result = store.query("age >= ?", [45], order_by="age", descending=True, limit=7)
    assert result.shards_queried == 3
    assert [r["age"] for r in result.rows] == [49] * 6 + [48]
    expected = sorted(
        (r for r in (store.get(f"user:{i}") | {"key": f"user:{i}"} for i in range(300)) if r["age"] >= 45),
        key=lambda r: (-r["age"], r["key"]),
    )[:7]
    assert result.rows == expected
    # each shard sends back up to `limit` rows: the coordinator sees more than it returns
    assert 7 < result.rows_transferred <= 21
    everything = store.query()
    assert len(everything.rows) == 300 and everything.rows_transferred == 300
    assert [r["key"] for r in everything.rows] == sorted(r["key"] for r in everything.rows)


def test_query_rejects_bad_arguments(store):
    with pytest.raises(ValueError, match="order_by"):
        store.query(order_by="age; drop table items")
    with pytest.raises(ValueError, match="limit"):
        store.query(limit=-1)


@pytest.mark.parametrize(
    "new_router",
    [
        ConsistentHashRing(["s0", "s1", "s2", "s3"], vnodes=64),
        ModuloRouter(["s0", "s1", "s2", "s3"]),
        Rendezvous(["s0", "s1", "s2", "s3"]),
        JumpRouter(["s0", "s1"]),
        RangeRouter([("", "s0"), ("user:3", "s1"), ("user:6", "s4")]),
    ],
    ids=["ring+1", "modulo", "rendezvous", "jump-shrink", "range"],
)
def test_reshard_moves_exactly_the_keys_whose_owner_changed(store, new_router):
    fill(store, 800)
    keys = [f"user:{i}" for i in range(800)]
    old_owner = {k: store.router.node_for(k) for k in keys}
    expected = {k for k in keys if new_router.node_for(k) != old_owner[k]}
    report = store.reshard(new_router)
    assert report.total == 800
    assert report.moved == len(expected)
    assert sum(report.routes.values()) == len(expected)
    for (src, dst), count in report.routes.items():
        assert count == sum(1 for k in expected if old_owner[k] == src and new_router.node_for(k) == dst)
    # every row is on its new owner, exactly once, with its data
    placed = {k: n for n in store.shard_sizes() for k in store.keys_on(n)}
    assert placed == {k: new_router.node_for(k) for k in keys}
    assert all(store.get(f"user:{i}") == {"name": f"name{i}", "age": i % 50} for i in range(800))
    assert set(store.shard_sizes()) == set(new_router.nodes)


def test_reshard_to_the_same_layout_moves_nothing_and_drops_unused_files(store, tmp_path):
    fill(store, 200)
    assert store.reshard(store.router).moved == 0
    store.reshard(ModuloRouter(["s0", "s1"]))
    assert not (tmp_path / "s2.sqlite").exists()
    assert store.count() == 200


def test_a_crash_during_reshard_loses_nothing_and_a_retry_completes(store, monkeypatch):
    fill(store, 500)
    new_router = ConsistentHashRing(["s0", "s1", "s2", "s3"], vnodes=64)
    real_write = ShardedStore._write
    calls = {"n": 0}

    def crash_after_two_copies(self, node, rows):
        real_write(self, node, rows)
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("simulated crash after copying, before deleting")

    monkeypatch.setattr(ShardedStore, "_write", crash_after_two_copies)
    with pytest.raises(OSError, match="simulated crash"):
        store.reshard(new_router)
    monkeypatch.setattr(ShardedStore, "_write", real_write)
    assert store.migrating
    # dual reads: every key is readable, whether its batch moved, was copied twice, or not yet
    assert all(store.get(f"user:{i}") == {"name": f"name{i}", "age": i % 50} for i in range(500))
    query = store.query()
    assert [r["key"] for r in query.rows] == sorted(f"user:{i}" for i in range(500))  # no duplicate
    top = store.query(order_by="age", descending=True, limit=20).rows
    assert [r["age"] for r in top] == [49] * 10 + [48] * 10
    # writes during the migration land on the new owner and remove the old copy
    old_router = store.router
    waiting = next(f"user:{i}" for i in range(500)  # a key whose move has not happened yet
                   if new_router.node_for(f"user:{i}") != old_router.node_for(f"user:{i}")
                   and f"user:{i}" in store.keys_on(old_router.node_for(f"user:{i}")))
    store.put(waiting, {"name": "newer", "age": 2})
    assert [r for r in store.query().rows if r["key"] == waiting] == [{"key": waiting, "name": "newer", "age": 2}]
    store.put("user:7", {"name": "new", "age": 1})
    store.delete("user:8")
    with pytest.raises(ValueError, match="interrupted reshard"):
        store.reshard(ModuloRouter(["s0"]))
    report = store.reshard(new_router)
    assert not store.migrating
    assert store.get("user:7") == {"name": "new", "age": 1} and store.get("user:8") is None
    assert store.get(waiting) == {"name": "newer", "age": 2}  # the stale copy did not overwrite it
    assert report.total >= 500  # copied-but-not-deleted rows are counted on both sides
    placed = [k for n in store.shard_sizes() for k in store.keys_on(n)]
    assert sorted(placed) == sorted(f"user:{i}" for i in range(500) if i != 8)  # no loss, no duplicate
    assert all(store.router.node_for(k) == n for n in store.shard_sizes() for k in store.keys_on(n))


def test_concurrent_puts_from_threads_all_land(store):
    def writer(t: int) -> None:
        for i in range(100):
            store.put(f"t{t}:{i}", {"name": str(t), "age": i})

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert store.count() == 800
    assert all(store.get(f"t{t}:{i}") == {"name": str(t), "age": i} for t in range(8) for i in range(100))


def test_bad_input_is_rejected(tmp_path):
    ring = ConsistentHashRing(["a"])
    with pytest.raises(ValueError, match="directory"):
        ShardedStore(ring, tmp_path / "missing")
    with pytest.raises(TypeError, match="router"):
        ShardedStore(object(), tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="node names"):
        ShardedStore(ModuloRouter(["../evil"]), tmp_path)
    with pytest.raises(ValueError, match="columns"):
        ShardedStore(ring, tmp_path, {"key": str})
    with pytest.raises(TypeError, match="columns"):
        ShardedStore(ring, tmp_path, {"when": list})
    with ShardedStore(ring, tmp_path) as store:
        with pytest.raises(TypeError, match="key"):
            store.put(1, {"value": "x"})  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="record columns"):
            store.put("k", {"nope": 1})
        with pytest.raises(TypeError, match="key"):
            store.get(b"k")  # type: ignore[arg-type]
