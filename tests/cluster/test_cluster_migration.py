"""Slot migration on a real Redis Cluster and in the simulation: the same replies to the same
commands (MOVED, ASK, ASKING, refused SETSLOTs), the same experiment report, zero lost writes with a
writer thread running during a live migration, and a migration interrupted half-way put back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from patterns.errors import BackendUnavailable
from patterns.keys import KeySpace
from patterns.sharding import (
    ClusterError,
    ConsistentHashRing,
    JumpRouter,
    LiveCluster,
    Redirect,
    SimulatedCluster,
    SlotClient,
    SlotRouter,
    key_slot,
    keys_per_master,
    load,
    migrate_slot,
    migration_experiment,
    move_slots_back,
)
from patterns.sharding.slot_migration import OrderWriter
from tests.helpers import LONG


@pytest.fixture(params=["simulated", "live"])
def cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "simulated":
        yield SimulatedCluster()
    else:
        yield request.getfixturevalue("live")


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", call())
    except Redirect as r:
        return (r.kind, r.slot, r.node)
    except ClusterError:
        return ("refused",)


def tag_on(node_index: int, unique: str) -> str:
    """A hash tag whose slot lies in the ``node_index``-th third of the slots (A, B or C)."""
    return next(t for i in range(1000) if key_slot(t := f"probe-{unique}{i}") * 3 // 16384 == node_index)


def test_the_simulation_answers_like_a_real_cluster(cluster: Any, unique: str) -> None:
    tag = tag_on(0, unique)  # a slot of master A
    slot = key_slot(tag)
    old, new = f"{unique}{{{tag}}}:old", f"{unique}{{{tag}}}:new"
    try:
        seen = [
            outcome(lambda: cluster.execute("A", "SET", old, "1")),
            outcome(lambda: cluster.execute("B", "GET", old)),
            outcome(lambda: cluster.set_slot("A", slot, "importing", "B")),  # A owns it already
            outcome(lambda: cluster.set_slot("C", slot, "migrating", "B")),  # C does not own it
            outcome(lambda: cluster.set_slot("B", slot, "importing", "A")),
            outcome(lambda: cluster.set_slot("A", slot, "migrating", "B")),
            outcome(lambda: cluster.execute("A", "GET", old)),  # still on A: served there
            outcome(lambda: cluster.execute("A", "SET", new, "2")),  # a new key: ASK B
            outcome(lambda: cluster.execute("B", "SET", new, "2")),  # B without ASKING: MOVED A
            outcome(lambda: cluster.execute("B", "SET", new, "2", asking=True)),
            outcome(lambda: cluster.set_slot("A", slot, "node", "B")),  # A still holds `old`: refused
            outcome(lambda: cluster.migrate("A", "B", cluster.keys_in_slot("A", slot, 10))),
            outcome(lambda: cluster.execute("A", "GET", old)),  # moved: ASK B
            outcome(lambda: cluster.execute("B", "GET", old, asking=True)),
            outcome(lambda: cluster.set_slot("B", slot, "node", "B")),
            outcome(lambda: cluster.set_slot("A", slot, "node", "B")),
            outcome(lambda: cluster.set_slot("C", slot, "node", "B")),
            outcome(lambda: cluster.execute("A", "GET", new)),
            outcome(lambda: cluster.execute("C", "GET", new)),
            outcome(lambda: cluster.execute("B", "GET", new)),
        ]
    finally:
        move_slots_back(cluster, [slot], "A", "B")
    assert seen == [
        ("ok", True), ("MOVED", slot, "A"), ("refused",), ("refused",), ("ok", None), ("ok", None),
        ("ok", b"1"), ("ASK", slot, "B"), ("MOVED", slot, "A"), ("ok", True), ("refused",), ("ok", None),
        ("ASK", slot, "B"), ("ok", b"1"), ("ok", None), ("ok", None), ("ok", None), ("MOVED", slot, "B"),
        ("MOVED", slot, "B"), ("ok", b"2"),
    ]
    assert cluster.slot_owners()[slot] == "A"
    assert SlotClient(cluster).get(new) == b"2" and SlotClient(cluster).get(old) == b"1"
    assert cluster.clear_prefixed(unique) == 2


def test_simulation_and_live_cluster_report_the_same_migration(live: LiveCluster, report_figure: Any) -> None:
    simulated = migration_experiment(SimulatedCluster())
    real = migration_experiment(live)
    assert real.lost == 0 and real.moved > 0 and real.asks > 0
    assert real == type(real)(**{**simulated.__dict__, "backend": "live"})
    report_figure(f"slot migration (deterministic interleaving), live == simulated: {real}")


def test_a_writer_thread_loses_nothing_during_a_live_migration(live: LiveCluster, report_figure: Any) -> None:
    """A real concurrent writer (its own thread and connections) while the main thread moves every
    slot of its carts from A to B: redirections are followed, and every acknowledged write is there."""
    keyspace = KeySpace.of("test:cluster-migration")
    carts = [f"cart-{i}" for i in range(40)]
    slots = sorted({key_slot(keyspace.key(c)) for c in carts} & set(SlotRouter(live.masters).slots_of("A")))
    assert len(slots) >= 5
    writer = OrderWriter(SlotClient(live), 40, __import__("random").Random(1), keyspace)
    writer.carts = [c for c in carts if key_slot(keyspace.key(c)) in slots]  # write only where it moves
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            while not stop.is_set():
                writer.write(1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=write)
    writer.write(200)
    thread.start()
    try:
        for slot in slots:
            migrate_slot(live, slot, "A", "B", batch=5)
        before = writer.sent
        deadline = __import__("time").monotonic() + LONG
        while writer.sent < before + 200 and __import__("time").monotonic() < deadline:
            stop.wait(0.01)  # keep writing after the migration: every slot's first write is MOVED
    finally:
        stop.set()
        thread.join(LONG)
        try:
            lost = writer.lost(SlotClient(live))
            move_slots_back(live, slots, "A", "B")
        finally:
            live.clear_prefixed(keyspace.prefix + ":")
    assert not errors, errors
    client = writer.client
    report_figure(f"slot migration with a writer thread: {len(slots)} slots A->B, {writer.sent} writes, "
                  f"{len(writer.acknowledged)} acknowledged, MOVED {client.moved}, ASK {client.asks}, "
                  f"lost {len(lost)}")
    assert lost == [] and len(writer.acknowledged) == writer.sent
    assert client.moved >= len(slots) and client.moved + client.asks > 0


def test_an_interrupted_migration_is_put_back(cluster: Any, unique: str) -> None:
    keyspace = KeySpace.of(f"test:interrupted-{unique.rstrip(':')}")
    client = SlotClient(cluster)
    tag = tag_on(0, unique)
    keys = [keyspace.key(tag, f"k{i}") for i in range(9)]
    for i, key in enumerate(keys):
        client.set(key, i)
    slot = key_slot(keys[0])
    steps = []

    def crash_after_first_batch() -> None:
        steps.append(1)
        if len(steps) == 3:  # IMPORTING, MIGRATING, then one MIGRATE batch of 4 keys
            raise RuntimeError("the operator's laptop went to sleep")

    try:
        with pytest.raises(RuntimeError, match="laptop"):
            migrate_slot(cluster, slot, "A", "C", batch=4, step=crash_after_first_batch)
        assert len(cluster.keys_in_slot("C", slot, 100)) == 4  # stranded on C, unreachable without ASK
        move_slots_back(cluster, [slot], "A", "C")
        fresh = SlotClient(cluster)
        assert [fresh.get(k) for k in keys] == [str(i).encode() for i in range(9)]
        assert fresh.moved == fresh.asks == 0 and cluster.slot_owners()[slot] == "A"
    finally:
        cluster.clear_prefixed(keyspace.prefix + ":")


def test_keys_per_master_matches_the_slot_router_and_is_compared_with_ring_and_jump(cluster: Any) -> None:
    counts = keys_per_master(cluster, 3_000)
    keys = [f"user-{i}" for i in range(3_000)]  # each key's tag is its whole name: the same slots
    assert counts == load(SlotRouter(cluster.masters), keys)
    for router in (ConsistentHashRing(cluster.masters), JumpRouter(cluster.masters)):
        assert sum(load(router, keys).values()) == 3_000


def test_simulation_refuses_bad_calls() -> None:
    sim = SimulatedCluster()
    with pytest.raises(ValueError, match="node"):
        sim.execute("Z", "GET", "k")
    with pytest.raises(ValueError, match="command"):
        sim.execute("A", "FLUSHALL", "k")
    with pytest.raises(TypeError, match="SET takes 2"):
        sim.execute("A", "SET", "k")
    with pytest.raises(ValueError, match="state"):
        sim.set_slot("A", 1, "floating", "B")
    with pytest.raises(ValueError, match="masters"):
        SimulatedCluster(masters=0)
    with pytest.raises(ValueError, match="target must differ"):
        migrate_slot(sim, 1, "A", "A")
    with pytest.raises(TypeError, match="cluster"):
        SlotClient("redis://localhost")  # type: ignore[arg-type]


def test_a_slot_map_that_never_settles_is_unavailable() -> None:
    class PingPong(SimulatedCluster):
        def execute(self, node: str, *command: Any, asking: bool = False) -> Any:
            raise Redirect("MOVED", 0, "B" if node == "A" else "A")

    with pytest.raises(BackendUnavailable, match="redirected"):
        SlotClient(PingPong()).get("k")


def test_open_cluster_uses_the_configured_cluster_unless_sockets_are_missing(
    cluster_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patterns import compat, infra
    from patterns.sharding import open_cluster

    monkeypatch.delenv(infra.REDIS_CLUSTER_URL_ENV, raising=False)
    assert isinstance(open_cluster(), SimulatedCluster)
    monkeypatch.setenv(infra.REDIS_CLUSTER_URL_ENV, cluster_url)
    live = open_cluster()
    assert isinstance(live, LiveCluster) and live.masters == ("A", "B", "C")
    live.close()
    monkeypatch.setenv(compat.BROWSER_MODE_ENV, "1")
    assert isinstance(open_cluster(), SimulatedCluster)


def test_a_migration_stopped_between_the_two_handovers_is_put_back(cluster: Any, unique: str) -> None:
    """The target already owns the slot (and the cluster bus told the others), the source is still
    MIGRATING it: the flag is cleared, the slot and its keys come home."""
    keyspace = KeySpace.of(f"test:handover-{unique.rstrip(':')}")
    client = SlotClient(cluster)
    keys = [keyspace.key(tag_on(0, unique), f"k{i}") for i in range(5)]
    for i, key in enumerate(keys):
        client.set(key, i)
    slot = key_slot(keys[0])
    try:
        cluster.set_slot("C", slot, "importing", "A")
        cluster.set_slot("A", slot, "migrating", "C")
        cluster.migrate("A", "C", cluster.keys_in_slot("A", slot, 10))
        cluster.set_slot("C", slot, "node", "C")  # ... and the operator's script dies here
        assert cluster.slot_owners("C")[slot] == cluster.slot_owners("A")[slot] == "C"
        move_slots_back(cluster, [slot], "A", "C")
        assert cluster.slot_owners("A")[slot] == cluster.slot_owners("C")[slot] == "A"
        fresh = SlotClient(cluster)
        assert [fresh.get(k) for k in keys] == [str(i).encode() for i in range(5)]
        assert fresh.moved == fresh.asks == 0
    finally:
        cluster.clear_prefixed(keyspace.prefix + ":")


def test_open_slots_shows_a_migration_in_progress(live: LiveCluster, unique: str) -> None:
    slot = key_slot(tag_on(0, unique))
    try:
        live.set_slot("B", slot, "importing", "A")
        live.set_slot("A", slot, "migrating", "B")
        assert live.open_slots("A") == {slot: "migrating"} and live.open_slots("B") == {slot: "importing"}
    finally:
        move_slots_back(live, [slot], "A", "B")
    assert live.open_slots("A") == live.open_slots("B") == {}
