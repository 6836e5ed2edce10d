"""Routers: reference values, stability across processes, scalar == vectorised, bad input."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
import pytest

from patterns.sharding import (
    ConsistentHashRing,
    JumpRouter,
    ModuloRouter,
    RangeRouter,
    Rendezvous,
    hash_keys,
    jump_hash,
    jump_hash_array,
    load,
    owners,
    stable_hash64,
)
from patterns.sharding.hashing import mix64, mix64_array


def reference_jump(key: int, num_buckets: int) -> int:
    """A literal transcription of the paper's C++ (double arithmetic, 64-bit LCG)."""
    b, j = -1, 0.0
    while j < num_buckets:
        b = int(j)
        key = (key * 2862933555777941757 + 1) % 2**64
        j = float(b + 1) * (float(1 << 31) / float((key >> 33) + 1))
    return b


def test_jump_hash_known_values():
    assert jump_hash(256, 1024) == 520
    assert [jump_hash(k, 1) for k in (0, 1, 2**64 - 1)] == [0, 0, 0]
    # Values published with the Guava/Go ports of the same algorithm.
    assert jump_hash(0, 1) == 0
    assert jump_hash(2**64 - 1, 2**31 - 1) == reference_jump(2**64 - 1, 2**31 - 1)


def test_jump_hash_matches_reference_and_pypi_package():
    rng = random.Random(7)
    cases = [(rng.getrandbits(64), rng.randint(1, 10_000)) for _ in range(3000)]
    assert all(jump_hash(k, n) == reference_jump(k, n) for k, n in cases)
    jump = pytest.importorskip("jump")  # jump-consistent-hash, the pure-Python/C peer
    assert all(jump_hash(k, n) == jump.py_hash(k, n) for k, n in cases)


def test_jump_hash_array_equals_scalar():
    rng = random.Random(3)
    keys = np.array([rng.getrandbits(64) for _ in range(5000)], dtype=np.uint64)
    for n in (1, 2, 3, 17, 1000, 2**31 - 1):
        assert jump_hash_array(keys, n).tolist() == [jump_hash(int(k), n) for k in keys]


@pytest.mark.parametrize(
    ("key", "buckets", "error", "words"),
    [
        (-1, 10, ValueError, "key"),
        (2**64, 10, ValueError, "key"),
        (5, 0, ValueError, "num_buckets"),
        (5, 2**31, ValueError, "num_buckets"),
        ("a", 10, TypeError, "key"),
        (True, 10, TypeError, "key"),
        (5, 2.0, TypeError, "num_buckets"),
    ],
)
def test_jump_hash_rejects_bad_input(key, buckets, error, words):
    with pytest.raises(error, match=words):
        jump_hash(key, buckets)


def test_stable_hash_is_typed_and_rejects_other_types():
    assert len({stable_hash64("1"), stable_hash64(b"1"), stable_hash64(1)}) == 3
    assert stable_hash64("user:1") == stable_hash64("user:" + "1")
    for bad in (1.5, None, True, ("a",)):
        with pytest.raises(TypeError, match="key"):
            stable_hash64(bad)  # type: ignore[arg-type]


def test_mix64_array_equals_scalar():
    xs = np.array([0, 1, 2**63, 2**64 - 1, 123456789], dtype=np.uint64)
    assert mix64_array(xs).tolist() == [mix64(int(x)) for x in xs]


ROUTE_SCRIPT = """
from patterns.sharding import ConsistentHashRing, Rendezvous, JumpRouter, ModuloRouter, stable_hash64
nodes = ["a", "b", "c", "d"]
keys = [f"user:{i}" for i in range(200)] + [b"raw", 42]
routers = [ConsistentHashRing(nodes), Rendezvous(nodes, {"a": 2}), JumpRouter(nodes), ModuloRouter(nodes)]
print([stable_hash64(k) for k in keys[:5]], [[r.node_for(k) for k in keys] for r in routers])
"""


def test_routing_is_identical_across_processes_with_different_hash_seeds():
    outputs = set()
    for seed in ("0", "123"):  # 0 turns salting off, 123 salts: str hash() differs between them
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", ROUTE_SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


ALL = ["n0", "n1", "n2", "n3", "n4"]


@pytest.mark.parametrize(
    "router",
    [
        ConsistentHashRing(ALL, vnodes=50),
        Rendezvous(ALL),
        Rendezvous(ALL, {"n1": 3, "n4": 0.5}),
        JumpRouter(ALL),
        ModuloRouter(ALL),
    ],
    ids=["ring", "rendezvous", "weighted-rendezvous", "jump", "modulo"],
)
def test_vectorised_owners_equal_node_for(router):
    keys = [f"k{i}" for i in range(3000)] + [7, b"x"]
    assert owners(router, keys).tolist() == [router.node_for(k) for k in keys]
    assert set(owners(router, keys)) <= set(router.nodes)


def test_ring_wraps_around_past_the_last_point():
    ring = ConsistentHashRing(["a", "b"], vnodes=3)
    last = max(p for n in ring.nodes for p in ring.points(n))
    first_owner = min((p, n) for n in ring.nodes for p in ring.points(n))[1]
    beyond = np.array([last + 1, 2**64 - 1], dtype=np.uint64)
    assert ring.owners_of_hashes(beyond).tolist() == [first_owner, first_owner]


def test_modulo_is_hash_mod_n():
    router = ModuloRouter(["a", "b", "c"])
    for key in ("x", "y", "user:9"):
        assert router.node_for(key) == "abc"[stable_hash64(key) % 3]


def test_range_router_letters_and_split():
    router = RangeRouter([("A", "A-H"), ("I", "I-P"), ("Q", "Q-Z")])
    assert [router.node_for(k) for k in ("Alice", "Hank", "Ivy", "Pat", "Quinn", "Zoe")] == [
        "A-H",
        "A-H",
        "I-P",
        "I-P",
        "Q-Z",
        "Q-Z",
    ]
    assert router.nodes == ("A-H", "I-P", "Q-Z")
    split = router.split("M", "M-P")
    assert split.node_for("Nina") == "M-P" and split.node_for("Ivy") == "I-P"
    assert router.node_for("Nina") == "I-P"  # split returns a new router
    with pytest.raises(ValueError, match="first lower bound"):
        router.node_for("0day")
    with pytest.raises(TypeError, match="key must be a str"):
        router.node_for(5)
    ints = RangeRouter([(0, "low"), (1000, "high")])
    assert ints.node_for(999) == "low" and ints.node_for(1000) == "high"


@pytest.mark.parametrize(
    ("factory", "error", "words"),
    [
        (lambda: ConsistentHashRing([]), ValueError, "nodes"),
        (lambda: ConsistentHashRing(["a", "a"]), ValueError, "duplicate"),
        (lambda: ConsistentHashRing(["a"], vnodes=0), ValueError, "vnodes"),
        (lambda: ConsistentHashRing(["a"], vnodes=1.5), TypeError, "vnodes"),
        (lambda: ConsistentHashRing("abc"), TypeError, "nodes"),
        (lambda: ConsistentHashRing(["a", ""]), ValueError, "nodes"),
        (lambda: ConsistentHashRing(["a", 3]), TypeError, "nodes"),  # type: ignore[list-item]
        (lambda: ConsistentHashRing(["a"], vnodes=10**9), ValueError, "vnodes"),  # hung building 1e9 points
        (lambda: ConsistentHashRing([f"n{i}" for i in range(200)], vnodes=10_000), ValueError, "points"),
        (lambda: Rendezvous(["a", "b"], weights=[2, 1]), TypeError, "weights"),  # a list, not a mapping
        (lambda: Rendezvous(["a", "b"], weights=[("a", 2)]), TypeError, "weights"),  # silently accepted
        (lambda: Rendezvous(["a"], {"a": float("nan")}), ValueError, "weights"),
        (lambda: Rendezvous(["a"], {"a": 1e300}), ValueError, "weights"),
        (lambda: Rendezvous(["a"], {"a": "2"}), TypeError, "weights"),
        (lambda: Rendezvous([]), ValueError, "nodes"),
        (lambda: Rendezvous(["a", "b", "a"]), ValueError, "duplicate"),
        (lambda: Rendezvous(["a"], {"a": 0}), ValueError, "weights"),
        (lambda: Rendezvous(["a"], {"a": -1}), ValueError, "weights"),
        (lambda: Rendezvous(["a"], {"a": float("inf")}), ValueError, "weights"),
        (lambda: Rendezvous(["a"], {"z": 1}), ValueError, "weights"),
        (lambda: ModuloRouter([]), ValueError, "nodes"),
        (lambda: ModuloRouter(["x", "x"]), ValueError, "duplicate"),
        (lambda: JumpRouter([]), ValueError, "nodes"),
        (lambda: RangeRouter([]), ValueError, "bounds"),
        (lambda: RangeRouter([("B", "x"), ("A", "y")]), ValueError, "increasing"),
        (lambda: RangeRouter([("A", "x"), ("A", "y")]), ValueError, "increasing"),
        (lambda: RangeRouter([("A", "x"), (5, "y")]), TypeError, "bounds"),
        (lambda: RangeRouter([("A", "x", "z")]), TypeError, "pairs"),
        (lambda: RangeRouter([("A", "")]), ValueError, "node"),
        (lambda: RangeRouter("A-Z"), TypeError, "bounds"),
    ],
)
def test_constructors_reject_bad_input(factory, error, words):
    with pytest.raises(error, match=words):
        factory()


def test_add_and_remove_reject_bad_nodes():
    ring, rdv, jump = ConsistentHashRing(["a", "b"]), Rendezvous(["a", "b"]), JumpRouter(["a", "b", "c"])
    for router in (ring, rdv, jump):
        with pytest.raises(ValueError, match="unknown node"):
            router.remove("zz")
        with pytest.raises(ValueError, match="duplicate"):
            router.add("a")
    with pytest.raises(ValueError, match="weights"):
        rdv.add("c", weight=0)
    with pytest.raises(ValueError, match="last node"):
        jump.remove("a")
    jump.remove("c")
    assert jump.nodes == ("a", "b")
    single = ConsistentHashRing(["only"])
    with pytest.raises(ValueError, match="at least 1"):
        single.remove("only")


def test_hash_keys_matches_stable_hash():
    keys = ["a", b"b", 3]
    assert hash_keys(keys).tolist() == [stable_hash64(k) for k in keys]


def test_load_counts_keys_or_prehashed_keys_the_same_way():
    keys = [f"k{i}" for i in range(2000)]
    for router in (ConsistentHashRing(ALL, vnodes=20), Rendezvous(ALL), JumpRouter(ALL), ModuloRouter(ALL)):
        by_key = load(router, keys)
        assert by_key == load(router, hash_keys(keys))
        assert sum(by_key.values()) == 2000 and list(by_key) == list(router.nodes)
        assert router.indices_of_hashes(hash_keys(keys)).tolist() == [
            router.nodes.index(router.node_for(k)) for k in keys
        ]
    ranges = RangeRouter([("", "low"), ("k5", "high"), ("z", "empty")])
    assert load(ranges, keys) == {
        "low": sum(k < "k5" for k in keys),
        "high": sum(k >= "k5" for k in keys),
        "empty": 0,
    }
    with pytest.raises(TypeError, match="router"):
        load(ranges, hash_keys(keys))


def test_ring_lookups_stay_consistent_while_other_threads_add_and_remove_nodes():
    """Each lookup sees the ring before or after a change, never a half-built table."""
    import threading

    ring = ConsistentHashRing(["a", "b", "c"], vnodes=50)
    keys = [f"k{i}" for i in range(300)]
    hashes = hash_keys(keys)
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                for key in keys[:50]:
                    assert ring.node_for(key) in {"a", "b", "c", "d"}
                assert set(ring.owners_of_hashes(hashes)) <= {"a", "b", "c", "d"}
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    def churn() -> None:
        for _ in range(40):
            ring.add("d")
            ring.remove("d")

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    writers = [threading.Thread(target=churn) for _ in range(1)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert ring.nodes == ("a", "b", "c")


@pytest.mark.parametrize(
    "router",
    [ModuloRouter(["a", "b"]), JumpRouter(["a", "b"]), ConsistentHashRing(["a", "b"]), Rendezvous(["a", "b"]),
     Rendezvous(["a", "b"], {"a": 2})],
    ids=["modulo", "jump", "ring", "rendezvous", "weighted"],
)
def test_node_indices_are_np_intp_for_32_bit_wasm(router, monkeypatch):
    """numpy on 32-bit wasm (Pyodide) refuses int64 indices in np.bincount; indices are np.intp."""
    hashes = hash_keys([f"k{i}" for i in range(100)])
    assert router.indices_of_hashes(hashes).dtype == np.intp
    real_bincount = np.bincount

    def strict_bincount(x, *args, **kwargs):  # what a 32-bit build does with an int64 array
        assert np.asarray(x).dtype == np.intp, f"np.bincount got {np.asarray(x).dtype}"
        return real_bincount(x, *args, **kwargs)

    monkeypatch.setattr(np, "bincount", strict_bincount)
    assert sum(load(router, hashes).values()) == 100
    assert jump_hash_array(hashes, 7).dtype == np.intp


def test_the_scaling_checker_counts_shards_with_np_intp(monkeypatch):
    from patterns.check.scaling import check_shard_for
    from patterns.sharding import jump_hash

    real_bincount = np.bincount
    seen = []

    def strict_bincount(x, *args, **kwargs):
        seen.append(np.asarray(x).dtype)
        return real_bincount(x, *args, **kwargs)

    monkeypatch.setattr(np, "bincount", strict_bincount)
    assert check_shard_for(lambda key, n: jump_hash(stable_hash64(key), n))
    assert seen and all(dtype == np.intp for dtype in seen)
