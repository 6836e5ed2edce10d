"""Bad input to every public constructor and main method of sharding, replication, consistency and
estimate (issue 12, item 10): non-finite, negative, huge, wrong-typed and empty values each raise
``ValueError`` / ``TypeError`` (or a ``patterns.errors`` error) naming the problem, never an
``AttributeError``, ``OverflowError``, a raw ``sqlite3`` error or a hang (pytest-timeout).

Each row is ``(call, [bad values])``: ``call(value)`` passes one bad value in one parameter and
valid values everywhere else.
"""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from patterns.clock import ManualClock, SystemClock
from patterns.consistency import (
    Network,
    Op,
    QuorumStore,
    atomic_register_history,
    build_cluster,
    check_convergence,
    check_linearizable,
    check_read_your_writes,
    check_sequential,
    partition_experiment,
    run_clients,
    stale_read_rate,
    stale_reads,
)
from patterns.errors import PatternError
from patterns.estimate import (
    Estimate,
    Formula,
    bytes_to_bits,
    capacity_model,
    design_implications,
    format_bytes,
    format_count,
    format_duration,
    format_rate,
    ladder,
    measure,
    parse_bytes,
    parse_duration,
    per_period,
    per_second,
    render_checklist,
    schedule,
    url_shortener,
)
from patterns.replication import Replica, ReplicatedStore, Session
from patterns.sharding import (
    ConsistentHashRing,
    JumpRouter,
    ModuloRouter,
    RangeRouter,
    Rendezvous,
    ShardedStore,
    hash_keys,
    jump_hash,
    jump_hash_array,
    load,
    moved_fraction,
    owners,
    stable_hash64,
)

NAN, INF = math.nan, math.inf
NON_FINITE = [NAN, INF, -INF]
WRONG_TYPES = ["3", None, [], {}, object(), True]
NUMBERS = [*NON_FINITE, -1, 10**19, 1e300, *WRONG_TYPES]  # for a positive, bounded number
NODE_LISTS = [None, "abc", 5, [], [""], [1], ["a", "a"], {"a": 1}, object(), ["x" * 1000]]
KEYS = [None, 1.5, NAN, [], {}, object(), True, 10**5000]
HASHES = ["abc", None, [-1], [2**64], [1.5], np.array([1.5]), {"a": 1}, [True]]

TABLE: list[tuple[str, Callable[[Any], object], list[Any]]] = []


def row(label: str, bad: list[Any]) -> Callable[[Callable[[Any], object]], Callable[[Any], object]]:
    def register(call: Callable[[Any], object]) -> Callable[[Any], object]:
        TABLE.append((label, call, bad))
        return call
    return register


# -- sharding -----------------------------------------------------------------------------------------
row("ModuloRouter(nodes)", NODE_LISTS)(lambda v: ModuloRouter(v))
row("JumpRouter(nodes)", NODE_LISTS)(lambda v: JumpRouter(v))
row("ConsistentHashRing(nodes)", NODE_LISTS)(lambda v: ConsistentHashRing(v))
row("ConsistentHashRing(vnodes)", [0, -1, 1.5, NAN, INF, 10**9, 10**19, "160", None, True])(
    lambda v: ConsistentHashRing(["a"], vnodes=v))
row("Rendezvous(nodes)", NODE_LISTS)(lambda v: Rendezvous(v))
row("Rendezvous(weights)", [[2, 1], [("a", 2)], "a", 5, {"a": NAN}, {"a": INF}, {"a": -1}, {"a": 0},
                            {"a": 1e300}, {"a": "2"}, {"z": 1}, {"a": True}])(
    lambda v: Rendezvous(["a", "b"], weights=v))
row("RangeRouter(bounds)", [[], "A", None, [("A",)], [("A", "x", "y")], [("B", "x"), ("A", "y")],
                            [(None, "x")], [("A", "")], [("A", 5)], 5])(lambda v: RangeRouter(v))
for make in (lambda: ModuloRouter(["a", "b"]), lambda: JumpRouter(["a", "b"]),
             lambda: ConsistentHashRing(["a", "b"]), lambda: Rendezvous(["a", "b"])):
    name = type(make()).__name__
    row(f"{name}.node_for(key)", KEYS)(lambda v, make=make: make().node_for(v))
    row(f"{name}.owners_of_hashes(hashes)", HASHES)(lambda v, make=make: make().owners_of_hashes(v))
row("RangeRouter.node_for(key)", [*KEYS, 5, "0"])(lambda v: RangeRouter([("A", "x")]).node_for(v))
row("ConsistentHashRing.add(node)", [None, "", 5, "a"])(lambda v: ConsistentHashRing(["a"]).add(v))
row("ConsistentHashRing.remove(node)", [None, "zz", 5, "a"])(lambda v: ConsistentHashRing(["a"]).remove(v))
row("Rendezvous.add(weight)", [0, -1, NAN, INF, 1e300, "1"])(lambda v: Rendezvous(["a"]).add("b", weight=v))
row("JumpRouter.remove(node)", [None, "a", "zz"])(lambda v: JumpRouter(["a", "b"]).remove(v))
row("jump_hash(key)", [-1, 2**64, 1.5, "1", None, NAN])(lambda v: jump_hash(v, 3))
row("jump_hash(num_buckets)", [0, -1, 2**31, 1.5, NAN, None])(lambda v: jump_hash(1, v))
row("jump_hash_array(keys)", [[-1], "abc", None, [1.5]])(lambda v: jump_hash_array(v, 3))
row("jump_hash_array(num_buckets)", [0, 2**31, 1.5, None])(lambda v: jump_hash_array(np.array([1], np.uint64), v))
row("stable_hash64(key)", KEYS)(lambda v: stable_hash64(v))
row("hash_keys(keys)", [None, 5, "abc", [None], [1.5]])(lambda v: hash_keys(v))
row("load(router, keys)", [None, 5, "abc", [None]])(lambda v: load(ModuloRouter(["a"]), v))
row("owners(router)", [None, object(), "ring"])(lambda v: owners(v, ["k"]))
row("moved_fraction(before)", [None, 5, np.array(["a", "b"])])(lambda v: moved_fraction(v, np.array(["a"])))


# -- the sharded store (needs a directory: the rows below take it from a fixture) ---------------------
def store_rows(tmp: Path) -> list[tuple[str, Callable[[Any], object], list[Any]]]:
    ring = ConsistentHashRing(["s0", "s1"])

    def opened() -> ShardedStore:
        return ShardedStore(ring, tmp, {"value": str, "n": int, "x": float})

    def call(method: str, *args: Any, **kwargs: Any) -> Any:
        with opened() as store:
            return getattr(store, method)(*args, **kwargs)

    return [
        ("ShardedStore(router)", lambda v: ShardedStore(v, tmp), [None, object(), "ring", ModuloRouter(["../x"])]),
        ("ShardedStore(directory)", lambda v: ShardedStore(ring, v), [None, 5, "/nonexistent/dir", b"x"]),
        ("ShardedStore(columns)", lambda v: ShardedStore(ring, tmp / "fresh", v) if (tmp / "fresh").mkdir(
            exist_ok=True) is None else None,
         [{}, {"select": str}, {"key": str}, {"_x": int}, {"a b": str}, {"a": list}, [("a", str)], "a",
          {"a" * 100: str}, {5: str}]),
        ("ShardedStore.put(key)", lambda v: call("put", v, {"value": "x"}), [None, 5, b"k"]),
        ("ShardedStore.put(record)", lambda v: call("put", "k", v),
         [None, [("value", "x")], {"nope": 1}, {"value": 5}, "x", {"n": 10**19}, {"n": 1.5}, {"x": NAN},
          {"x": INF}, {"n": True}]),
        ("ShardedStore.put_many(items)", lambda v: call("put_many", v),
         [None, 5, "kv", [("k",)], [(1, {"value": "x"})], [("k", None)], {"k": {"value": "x"}}]),
        ("ShardedStore.get(key)", lambda v: call("get", v), [None, 5, b"k"]),
        ("ShardedStore.delete(key)", lambda v: call("delete", v), [None, 5, b"k"]),
        ("ShardedStore.query(where)", lambda v: call("query", v), [5, "x; drop table items", "nope = 1", ")"]),
        ("ShardedStore.query(params)", lambda v: call("query", "value = ?", v), [5, "abc", None, [1, 2]]),
        ("ShardedStore.query(order_by)", lambda v: call("query", order_by=v), [5, "nope", "value; drop"]),
        ("ShardedStore.query(limit)", lambda v: call("query", limit=v), [-1, 1.5, 10**19, NAN, "3"]),
        ("ShardedStore.reshard(new_router)", lambda v: call("reshard", v), [None, "ring", object()]),
        ("ShardedStore.begin_reshard(new_router)", lambda v: call("begin_reshard", v),
         [None, ModuloRouter(["a/b"])]),
        ("ShardedStore.migrate(max_keys)", lambda v: call("migrate", v), [0, -1, 1.5, "all", 10**19]),
        ("ShardedStore.keys_on(node)", lambda v: call("keys_on", v), ["nope", None, 5]),
    ]


# -- replication --------------------------------------------------------------------------------------
row("ReplicatedStore(replicas)", [None, 5, "r1", [1, 2], {"r": -1}, {"r": NAN}, {"r": INF}, {"r": 1e300},
                                  {"r": "1"}, {5: 1.0}, {"": 1.0}, {"primary": 1.0}])(
    lambda v: ReplicatedStore(v, clock=ManualClock()))
row("ReplicatedStore(clock)", ["now", 5, object()])(lambda v: ReplicatedStore({"r": 1}, clock=v))
row("ReplicatedStore(read_policy)", ["fastest", None, 5])(
    lambda v: ReplicatedStore({"r": 1}, clock=ManualClock(), read_policy=v))
row("ReplicatedStore(rng)", [5, "seed"])(lambda v: ReplicatedStore({"r": 1}, clock=ManualClock(), rng=v))
row("ReplicatedStore(primary_name)", ["", None, 5, "r"])(
    lambda v: ReplicatedStore({"r": 1}, clock=ManualClock(), primary_name=v))
row("ReplicatedStore.write(key)", [None, 5])(lambda v: ReplicatedStore({"r": 1}, clock=ManualClock()).write(v, 1))
row("ReplicatedStore.write(session)", [5, "s"])(
    lambda v: ReplicatedStore({"r": 1}, clock=ManualClock()).write("k", 1, session=v))
row("ReplicatedStore.read(min_lsn)", [-1, 1.5, NAN, 10**19, "1", None])(
    lambda v: ReplicatedStore({"r": 1}, clock=ManualClock()).read("k", min_lsn=v))
row("ReplicatedStore.failover(promote)", ["nope", 5, ""])(
    lambda v: ReplicatedStore({"r": 1}, clock=ManualClock()).failover(v))
row("Session(read_your_writes)", ["yes", 1, None])(lambda v: Session(read_your_writes=v))
row("Session(last_write_lsn)", [-1, 1.5, 10**19])(lambda v: Session(last_write_lsn=v))
row("Replica(lag)", [-1, NAN, INF, 1e300, "1"])(lambda v: Replica("r", lag=v))
row("Replica(name)", [None, "", 5])(lambda v: Replica(v))

# -- consistency --------------------------------------------------------------------------------------
row("Op(client)", [None, "", 5])(lambda v: Op(v, "read", "x", 1, 0, 1))
row("Op(kind)", ["cas", None])(lambda v: Op("A", v, "x", 1, 0, 1))
row("Op(key)", [None, 5])(lambda v: Op("A", "read", v, 1, 0, 1))
row("Op(value)", [[1], {}])(lambda v: Op("A", "write", "x", v, 0, 1))
row("Op(invoked)", [NAN, INF, "0", None])(lambda v: Op("A", "read", "x", 1, v, 1))
row("Op(completed)", [NAN, -1, "1"])(lambda v: Op("A", "read", "x", 1, 0, v))
row("Op(ok)", ["yes", 1])(lambda v: Op("A", "read", "x", 1, 0, 1, v))
row("check_linearizable(history)", [None, 5, "ab", [("A", "w")]])(lambda v: check_linearizable(v))
row("check_linearizable(max_ops)", [0, -1, 1.5, 10**19, "40"])(lambda v: check_linearizable([], max_ops=v))
row("check_sequential(max_states)", [0, 10**19, NAN])(lambda v: check_sequential([], max_states=v))
row("check_read_your_writes(history)", [None, 5, [1]])(lambda v: check_read_your_writes(v))
row("stale_reads(history)", [None, 5, [1]])(lambda v: stale_reads(v))
row("check_convergence(states)", [{}, None, [("a", 1)], 5])(lambda v: check_convergence(v))
row("Network(nodes)", [0, -1, 10**9, 10**19, 1.5, NAN, None, [], [""], ["a", "a"], "abc"])(
    lambda v: Network(v, clock=ManualClock()))
row("Network(clock)", [None, SystemClock(), 5])(lambda v: Network(3, clock=v))
row("Network(delay)", [(1, 0), (-1, 1), (NAN, 1), (0, INF), (0, 1e300), 5, "ab", (1,)])(
    lambda v: Network(3, clock=ManualClock(), delay=v))
row("Network.schedule(when)", [NAN, INF, -1, "1"])(lambda v: Network(3, clock=ManualClock()).schedule(v, print))
row("Network.run(max_events)", [0, 1.5, 10**19])(lambda v: Network(3, clock=ManualClock()).run(v))
row("QuorumStore(r)", [0, 4, -1, 1.5, NAN, None, 10**19])(
    lambda v: QuorumStore(Network(3, clock=ManualClock()), r=v, w=1))
row("QuorumStore(timeout)", [0, -1, NAN, INF, 1e300, "1"])(
    lambda v: QuorumStore(Network(3, clock=ManualClock()), r=1, w=1, timeout=v))
row("QuorumStore(mode)", ["ca", None])(lambda v: QuorumStore(Network(3, clock=ManualClock()), r=1, w=1, mode=v))
row("QuorumStore(skew)", [{"x9": 1}, {"n1": NAN}, {"n1": 1e300}, [("n1", 1)]])(
    lambda v: QuorumStore(Network(3, clock=ManualClock()), r=1, w=1, skew=v))
row("QuorumStore.write(coordinator)", ["nope", None, 5])(lambda v: build_cluster(3, 1, 1).write("k", 1, coordinator=v))
row("QuorumStore.write(key)", [None, 5])(lambda v: build_cluster(3, 1, 1).write(v, 1, coordinator="n1"))
row("build_cluster(n)", [0, 10**9, 1.5, None])(lambda v: build_cluster(v, 1, 1))
row("build_cluster(seed)", [1.5, "x", None])(lambda v: build_cluster(3, 1, 1, seed=v))
row("run_clients(rng)", [None, 5])(lambda v: run_clients(build_cluster(3, 1, 1), rng=v))
row("run_clients(ops_per_client)", [-1, 10**19, 1.5])(
    lambda v: run_clients(build_cluster(3, 1, 1), rng=random.Random(1), ops_per_client=v))
row("run_clients(write_ratio)", [NAN, -0.1, 1.5, "0.5"])(
    lambda v: run_clients(build_cluster(3, 1, 1), rng=random.Random(1), write_ratio=v))
row("run_clients(keys)", [[], "x", [5]])(lambda v: run_clients(build_cluster(3, 1, 1), rng=random.Random(1), keys=v))
row("run_clients(clients)", ["abc", [5]])(
    lambda v: run_clients(build_cluster(3, 1, 1), rng=random.Random(1), clients=v))
row("run_clients(think)", [(1, 0), (NAN, 1), 5])(
    lambda v: run_clients(build_cluster(3, 1, 1), rng=random.Random(1), think=v))
row("stale_read_rate(clients)", [0, 10**6, 1.5])(lambda v: stale_read_rate(3, 2, 2, clients=v))
row("partition_experiment(duration)", [0, -1, NAN, INF, 1e9])(lambda v: partition_experiment("cp", duration=v))
row("partition_experiment(cut)", [(2, 1), (NAN, 1), 5])(lambda v: partition_experiment("cp", cut=v))
row("partition_experiment(mode)", ["ca", None])(lambda v: partition_experiment(v))
row("atomic_register_history(clients)", [0, 10**6, 1.5])(lambda v: atomic_register_history(1, clients=v))

# -- estimate -----------------------------------------------------------------------------------------
row("Formula(text)", ["", "   ", None, 5, "import os", "x.y", "f(1)", "(" * 2000, "1" * 5000, "x if y else z"])(
    lambda v: Formula(v))
row("Formula.evaluate", ["9**9**9", "10**400", "1/0", "log(0-1)", "ceil(1e308*10)", "2**(2**2**20)"])(
    lambda v: Formula(v).evaluate({}))
row("Formula.evaluate(values)", [None, 5, {"x": NAN}, {"x": "1"}, {"x": INF}])(lambda v: Formula("x + 1").evaluate(v))
row("Estimate(title)", ["", None, 5])(lambda v: Estimate(v))
row("Estimate.assume(name)", ["1x", "", None, "a-b", "x" * 100])(lambda v: Estimate("t").assume(v, 1, "u", "why"))
row("Estimate.assume(value)", [*NON_FINITE, "1", None])(lambda v: Estimate("t").assume("a", v, "u", "why"))
row("Estimate.assume(unit)", [None, 5])(lambda v: Estimate("t").assume("a", 1, v, "why"))
row("Estimate.assume(source)", ["", None])(lambda v: Estimate("t").assume("a", 1, "u", v))


def _with_a() -> Estimate:
    est = Estimate("t")
    est.assume("a", 2, "u", "why")
    return est


row("Estimate.derive(formula)", ["", "import os", "undefined_name", "a/0", "9**9**9", None])(
    lambda v: _with_a().derive("b", v, "u"))
row("Estimate.sensitivity(target)", ["nope", None, 5])(lambda v: _with_a().sensitivity(v))
row("Estimate.sensitivity(factor)", [1, 0.5, *NON_FINITE, 1e300, "2"])(lambda v: _with_a().sensitivity("a", v))
CAPACITY = dict(daily_active_users=1e6, reads_per_user=10, writes_per_user=1, object_size=1_000,
                response_size=1_000)
for param, bad in [("daily_active_users", [0, *NUMBERS]), ("utilisation", [0, 1.5, *NUMBERS]),
                   ("peak_factor", [0.5, *NUMBERS]), ("hot_fraction", [1.5, *NUMBERS]),
                   ("object_size", NUMBERS)]:
    row(f"capacity_model({param})", bad)(lambda v, param=param: capacity_model("t", **{**CAPACITY, param: v}))
row("format_bytes(count)", [-1, *NON_FINITE, "1", None])(lambda v: format_bytes(v))
row("format_bytes(system)", ["binary", None])(lambda v: format_bytes(1, system=v))
row("format_bytes(digits)", [0, -1, 1.5, 10**6, None, 10**19])(lambda v: format_bytes(1, digits=v))
row("format_duration(seconds)", [-1, *NON_FINITE, "1", None])(lambda v: format_duration(v))
row("format_count(value)", [*NON_FINITE, "1", None])(lambda v: format_count(v))
row("format_rate(rate)", [-1, *NON_FINITE, "1"])(lambda v: format_rate(v))
row("parse_bytes(text)", [None, 5, "", "1 XB", "-1 GB", "1e999 GB", "x" * 2000])(lambda v: parse_bytes(v))
row("parse_duration(text)", [None, 5, "", "3 weeks", "1e999 s", "-1 s"])(lambda v: parse_duration(v))
row("per_second(amount)", [-1, NAN, "1"])(lambda v: per_second(v, "day"))
row("per_second(period)", ["fortnight", None])(lambda v: per_second(1, v))
row("per_period(rate)", [-1, INF, "1"])(lambda v: per_period(v, "day"))
row("bytes_to_bits(count)", [-1, NAN])(lambda v: bytes_to_bits(v))
row("schedule(total_minutes)", [7, 10**19, 1.5, None])(lambda v: schedule(v))
row("render_checklist(total_minutes)", [0, 10**19, "45"])(lambda v: render_checklist(v))
row("url_shortener(daily_active_users)", [0, -1, NAN, "1"])(lambda v: url_shortener(v))
row("url_shortener(peak_factor)", [0.5, NAN])(lambda v: url_shortener(peak_factor=v))
row("design_implications(est)", [None, 5, "est"])(lambda v: design_implications(v))
row("design_implications(limits)", [5, {"db_writes": 5}])(lambda v: design_implications(url_shortener().estimate, v))
row("ladder(which)", ["1999", None])(lambda v: ladder(v))
row("measure(operation)", [None, 5])(lambda v: measure(v))
row("measure(repeat)", [0, -1, 10**6, 1.5])(lambda v: measure(lambda: 1, repeat=v))
row("measure(min_batch_seconds)", [0, -1, *NON_FINITE, 100])(lambda v: measure(lambda: 1, min_batch_seconds=v))

EXPECTED = (ValueError, TypeError, PatternError)
FORBIDDEN = (AttributeError, OverflowError, sqlite3.Error, KeyError, RecursionError)


def _cases() -> list[Any]:
    return [pytest.param(call, value, id=f"{label}-{i}") for label, call, bad in TABLE for i, value in enumerate(bad)]


def _check(call: Callable[[Any], object], value: Any) -> None:
    with pytest.raises(EXPECTED) as caught:
        call(value)
    assert not isinstance(caught.value, FORBIDDEN), repr(caught.value)
    assert str(caught.value), "the error must say what is wrong"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("call", "value"), _cases())
def test_bad_input_raises_a_clear_error(call: Callable[[Any], object], value: Any) -> None:
    _check(call, value)


def test_the_sharded_store_refuses_bad_input(tmp_path: Path) -> None:
    for label, call, bad in store_rows(tmp_path):
        for value in bad:
            try:
                _check(call, value)
            except BaseException as failure:
                raise AssertionError(f"{label} with {value!r:.60}: {failure}") from failure
