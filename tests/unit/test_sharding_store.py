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
    stable_hash64,
)
from patterns.sharding.shard import HASH_OFFSET, Shard

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


def test_an_error_during_reshard_leaves_a_migration_that_serves_and_then_completes(store, monkeypatch):
    fill(store, 500)
    new_router = ConsistentHashRing(["s0", "s1", "s2", "s3"], vnodes=64)
    real_write = Shard._write
    calls = {"n": 0}

    def fail_after_two_writes(self, sql, rows):
        result = real_write(self, sql, rows)
        calls["n"] += 1
        if calls["n"] == 1:  # the first batch is copied, not yet deleted from its source
            raise OSError("simulated failure after copying, before deleting")
        return result

    monkeypatch.setattr(Shard, "_write", fail_after_two_writes)
    with pytest.raises(OSError, match="simulated failure"):
        store.reshard(new_router)
    monkeypatch.setattr(Shard, "_write", real_write)
    assert store.migrating and store.pending_moves > 0
    # reads try the new owner, then the old one: every key is readable, copied twice or not yet
    assert all(store.get(f"user:{i}") == {"name": f"name{i}", "age": i % 50} for i in range(500))
    query = store.query()
    assert [r["key"] for r in query.rows] == sorted(f"user:{i}" for i in range(500))  # no duplicate
    assert store.count() == 500
    top = store.query(order_by="age", descending=True, limit=20).rows
    assert [r["age"] for r in top] == [49] * 10 + [48] * 10
    # writes during the migration land on the new owner and remove the old copy
    old_router = store.router
    waiting = [k for k in (f"user:{i}" for i in range(500))  # keys whose move has not happened yet
               if new_router.node_for(k) != old_router.node_for(k) and k in store.keys_on(old_router.node_for(k))]
    copied = [k for k in waiting if k in store.keys_on(new_router.node_for(k))]  # on both shards
    assert copied, "the failure should leave some rows copied but not deleted"
    for key in [waiting[0], copied[0]]:
        store.put(key, {"name": "newer", "age": 2})
        assert [r for r in store.query().rows if r["key"] == key] == [{"key": key, "name": "newer", "age": 2}]
    store.put("user:7", {"name": "new", "age": 1})
    store.delete("user:8")
    with pytest.raises(ValueError, match="interrupted reshard"):
        store.reshard(ModuloRouter(["s0"]))
    report = store.reshard(new_router)
    assert not store.migrating and store.router is new_router
    assert store.get("user:7") == {"name": "new", "age": 1} and store.get("user:8") is None
    for key in [waiting[0], copied[0]]:
        assert store.get(key) == {"name": "newer", "age": 2}  # the older copy did not overwrite it
    assert report.total == 500
    placed = [k for n in store.shard_sizes() for k in store.keys_on(n)]
    assert sorted(placed) == sorted(f"user:{i}" for i in range(500) if i != 8)  # no loss, no duplicate
    assert all(store.router.node_for(k) == n for n in store.shard_sizes() for k in store.keys_on(n))


def test_online_migration_follows_the_read_and_write_rule_between_batches(tmp_path):
    old = ConsistentHashRing(["s0", "s1", "s2"], vnodes=32)
    new = ConsistentHashRing(["s0", "s1", "s2", "s3"], vnodes=32)
    with ShardedStore(old, tmp_path, COLUMNS) as store:
        fill(store, 3000)
        moving = sorted(k for k in (f"user:{i}" for i in range(3000)) if new.node_for(k) != old.node_for(k))
        planned = store.begin_reshard(new)
        assert planned == len(moving) and store.pending_moves == planned and store.migrating
        left = store.migrate(max_keys=100)
        assert left == planned - 100
        done = [k for k in moving if k in store.keys_on("s3")]
        todo = [k for k in moving if k not in done]
        assert len(done) == 100
        before = dict(store.shard_queries)
        assert store.get(done[0]) == {"name": f"name{done[0][5:]}", "age": int(done[0][5:]) % 50}
        assert sum(store.shard_queries.values()) - sum(before.values()) == 1  # found on the new owner
        before = dict(store.shard_queries)
        assert store.get(todo[0]) is not None
        assert sum(store.shard_queries.values()) - sum(before.values()) == 2  # new owner, then old
        # a write to a key not yet moved goes to its new owner; the later copy must not undo it
        store.put(todo[0], {"name": "v2", "age": 1})
        assert todo[0] in store.keys_on("s3") and todo[0] not in store.keys_on(old.node_for(todo[0]))
        store.delete(todo[1])
        store.put("brand-new", {"name": "x", "age": 0})
        assert store.migrate() == 0 and not store.migrating
        assert store.get(todo[0]) == {"name": "v2", "age": 1}
        assert store.get(todo[1]) is None and store.get("brand-new") == {"name": "x", "age": 0}
        assert store.count() == 3000  # one deleted, one added
        assert all(new.node_for(k) == n for n in store.shard_sizes() for k in store.keys_on(n))


def test_a_copy_never_overwrites_a_newer_version(tmp_path):
    old, new = ModuloRouter(["s0", "s1"]), ModuloRouter(["s0", "s1", "s2"])
    with ShardedStore(old, tmp_path, COLUMNS) as store:
        fill(store, 50)
        key = next(k for k in (f"user:{i}" for i in range(50)) if new.node_for(k) != old.node_for(k))
        store.put(key, {"name": "v2", "age": 2})  # version 2 on the old owner
        store.begin_reshard(new)
        store.put(key, {"name": "v3", "age": 3})  # version 3 on the new owner, old copy deleted
        # put the stale version-2 row back on the old owner, as a crash between copy and delete would
        h = stable_hash64(key) - HASH_OFFSET
        store._shard(old.node_for(key)).upsert([[h, key, "v2", 2, 2]], copy=True)
        store.migrate()
        assert store.get(key) == {"name": "v3", "age": 3}


def test_reopening_mid_migration_finishes_it_and_insists_on_the_right_router(tmp_path):
    old = ConsistentHashRing(["s0", "s1", "s2"], vnodes=32)
    shrunk = ConsistentHashRing(["s0", "s1"], vnodes=32)
    store = ShardedStore(old, tmp_path, COLUMNS)
    fill(store, 600)
    store.begin_reshard(shrunk)
    store.migrate(max_keys=50)
    store.close()  # as if the process died here: the plan and the remaining moves are on disk
    assert (tmp_path / "s2.sqlite").exists()
    with pytest.raises(ValueError, match="target of the interrupted reshard"):
        ShardedStore(old, tmp_path)
    with ShardedStore(ConsistentHashRing(["s0", "s1"], vnodes=32), tmp_path) as again:
        assert not again.migrating and set(again.shard_sizes()) == {"s0", "s1"}
        assert again.count() == 600
        assert all(again.get(f"user:{i}") == {"name": f"name{i}", "age": i % 50} for i in range(600))
    assert not (tmp_path / "s2.sqlite").exists()  # the dropped shard was drained, then deleted
    with pytest.raises(ValueError, match="store's router"):
        ShardedStore(old, tmp_path)
    with pytest.raises(ValueError, match="columns"):
        ShardedStore(shrunk, tmp_path, {"name": str})
    with ShardedStore.open(tmp_path) as reopened:
        assert reopened.columns == COLUMNS and reopened.count() == 600
        assert reopened.router.nodes == ("s0", "s1")


def test_open_finishes_an_interrupted_reshard_with_the_recorded_router(tmp_path):
    old, new = JumpRouter(["s0", "s1"]), JumpRouter(["s0", "s1", "s2"])
    store = ShardedStore(old, tmp_path, COLUMNS)
    fill(store, 300)
    store.begin_reshard(new)
    store.close()
    with ShardedStore.open(tmp_path) as reopened:
        assert reopened.router.nodes == ("s0", "s1", "s2") and not reopened.migrating
        assert all(reopened.get(f"user:{i}") == {"name": f"name{i}", "age": i % 50} for i in range(300))
    with pytest.raises(ValueError, match="directory"):
        ShardedStore.open(tmp_path / "s0.sqlite")  # not a directory
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="_catalog"):
        ShardedStore.open(tmp_path / "empty")


def test_planning_a_ring_reshard_reads_only_the_moved_keys(tmp_path, monkeypatch):
    old = ConsistentHashRing(["s0", "s1", "s2"], vnodes=64)
    new = ConsistentHashRing(["s0", "s1", "s2", "s3"], vnodes=64)
    with ShardedStore(old, tmp_path, COLUMNS) as store:
        fill(store, 4000)
        seen = {"rows": 0}
        real_run = Shard.run

        def counting_run(self, sql, params=()):
            rows = real_run(self, sql, params)
            if "COUNT(*)" not in sql:
                seen["rows"] += len(rows)
            return rows

        monkeypatch.setattr(Shard, "run", counting_run)
        planned = store.begin_reshard(new)
        assert seen["rows"] == planned < 4000 / 3  # the changed ranges, not a scan of every row
        monkeypatch.undo()
        store.migrate()
        assert all(new.node_for(k) == n for n in store.shard_sizes() for k in store.keys_on(n))


def test_a_range_split_moves_exactly_the_split_off_keys(tmp_path):
    old = RangeRouter([("", "s0"), ("user:5", "s1")])
    with ShardedStore(old, tmp_path, COLUMNS) as store:
        fill(store, 1000)
        split = old.split("user:7", "s2")
        report = store.reshard(split)
        assert report.routes == {("s1", "s2"): sum(1 for i in range(1000) if f"user:{i}" >= "user:7")}
        assert store.keys_on("s2") == sorted(k for k in (f"user:{i}" for i in range(1000)) if k >= "user:7")
        with pytest.raises(ValueError, match="place every key"):
            store.reshard(RangeRouter([("user:2", "s0")]))  # cannot route "user:1..."
        assert not store.migrating  # a plan that cannot be carried out is never recorded


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
    with pytest.raises(TypeError, match="directory"):
        ShardedStore(ring, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="router"):
        ShardedStore(object(), tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="node names"):
        ShardedStore(ModuloRouter(["../evil"]), tmp_path)
    with pytest.raises(ValueError, match="column"):
        ShardedStore(ring, tmp_path, {"key": str})
    with pytest.raises(ValueError, match="SQL keyword"):
        ShardedStore(ring, tmp_path, {"select": str})  # accepted quoted, then every query breaks
    with pytest.raises(ValueError, match="column"):
        ShardedStore(ring, tmp_path, {"_version": int})
    with pytest.raises(ValueError, match="column"):
        ShardedStore(ring, tmp_path, {"two words": int})
    with pytest.raises(TypeError, match="columns"):
        ShardedStore(ring, tmp_path, {"tags": list})
    with pytest.raises(TypeError, match="columns"):
        ShardedStore(ring, tmp_path, [("name", str)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="columns"):
        ShardedStore(ring, tmp_path, {})
    with ShardedStore(ring, tmp_path, {"value": str, "n": int, "x": float}) as store:
        with pytest.raises(TypeError, match="key"):
            store.put(1, {"value": "x"})  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="record columns"):
            store.put("k", {"nope": 1})
        with pytest.raises(TypeError, match="record"):
            store.put("k", [("value", "x")])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="record\\['n'\\]"):
            store.put("k", {"n": "3"})
        with pytest.raises(ValueError, match="64-bit"):
            store.put("k", {"n": 10**19})
        with pytest.raises(ValueError, match="finite"):
            store.put("k", {"x": float("nan")})
        store.put("k", {"x": 2})  # an int in a float column is fine
        with pytest.raises(TypeError, match="key"):
            store.get(b"k")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="where"):
            store.query("value = 'x'; drop table items")
        with pytest.raises(ValueError, match="no such column"):
            store.query("nope = ?", [1])
        with pytest.raises(ValueError, match="binding"):
            store.query("value = ?", [])
        with pytest.raises(TypeError, match="limit"):
            store.query(limit=1.5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="max_keys"):
            store.migrate(max_keys="all")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="router"):
            store.reshard("s0")  # type: ignore[arg-type]


def test_a_directory_of_shard_files_without_a_catalog_is_refused(tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "s0.sqlite").close()
    with pytest.raises(ValueError, match="_catalog"):
        ShardedStore(ModuloRouter(["s0"]), tmp_path)
