"""Every public door refuses bad input with a clear error (issue 12, "Bad input").

Walks every class and function in each ``patterns.<family>.__all__``, builds one valid call from the
table ``GOOD`` (by parameter name, overridden per callable in ``GOOD_FOR``; parameters with defaults
keep them), then replaces one parameter at a time with bad values of the wrong type (``None`` where
the annotation does not allow it, a ``str`` for a number, a ``bool`` for an ``int``, a ``float`` for an
``int``, a number for a ``str``) and of a wrong value (NaN, inf, -1, 0 for a count that is >= 1,
10**19, 1e300 seconds). Each must raise ``TypeError`` or ``ValueError`` whose message names the
parameter: never another exception, never a silent success.

Skipped on purpose: ``patterns.check`` and ``patterns.diagrams``, plotting functions, Protocols,
exceptions, enums, dataclass records, constants, and the doors listed in ``NOT_BUILT`` (live servers
or no good-argument recipe yet). Accepting a bad value that is right by design is listed in
``ALLOWED`` with a one-line reason.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import math
import pkgutil
import random
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import patterns
from patterns import (
    api,
    architecture,
    balancing,
    caching,
    capstone,
    communication,
    consistency,
    coordination,
    cqrs,
    estimate,
    ids,
    messaging,
    sagas,
    sharding,
    slo,
)
from patterns.clock import ManualClock

SKIPPED_FAMILIES = {"check", "diagrams"}


class Fresh:
    """A good argument built anew for every call (mutable objects must not leak between calls)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory

    def __call__(self) -> Any:
        return self.factory()


def _db() -> sqlite3.Connection:
    return sqlite3.connect(":memory:", check_same_thread=False)


# Good values for required parameters, by parameter name.
GOOD: dict[str, Any] = {
    "n": 3,
    "d": 2,
    "limit": 10,
    "period": 1.0,
    "name": "node",
    "key": "k",
    "ttl": 30.0,
    "seconds": 1.0,
    "size": 10,
    "capacity": 100,
    "clock": Fresh(ManualClock),
    "rng": Fresh(lambda: random.Random(1)),
    "db": Fresh(_db),
    "text": "1 KB",
    "title": "estimate",
    "value": 1.5,
    "count": 1000.0,
    "rate": 10.0,
    "amount": 100.0,
    "unit": "B",
    "width": 3,
    "depth": 3,
    "requests": 200,
    "bits": 1024,
    "hashes": 3,
    "items": 100,
    "fp_rate": 0.01,
    "epsilon": 0.01,
    "delta": 0.01,
    "p": 10,
    "worker": 1,
    "ms": 1_700_000_000_000,
    "randomness": 12345,
    "num_buckets": 10,
    "nodes": ("a", "b", "c"),
    "masters": 3,
    "people": 5,
    "load": 0.5,
    "arrival_rate": 5.0,
    "service_rate": 10.0,
    "duration": 100.0,
    "warmup": 10.0,
    "seeds": (1, 2),
    "n_keys": 100,
    "flush_every": 1.0,
    "command_rate": 10.0,
    "projector_rate": 20.0,
    "daily_active_users": 1_000_000.0,
    "reads_per_user": 10.0,
    "writes_per_user": 1.0,
    "object_size": 1000.0,
    "response_size": 2000.0,
    "status": 503,
    "vendor": "acme",
    "secret": b"0123456789abcdef0123456789abcdef",
    "max_limit": 100,
    "prefix": "t",
    "partitions": 3,
    "data": b"abc",
    "body": "hello",
    "slug": "url-shortener",
    "seed": 1,
    "r": 2,
    "w": 2,
    "fn": Fresh(lambda: lambda *a, **k: None),
    "probe": Fresh(lambda: lambda backend: True),
    "loader": Fresh(lambda: lambda key: key),
    "operation": Fresh(lambda: lambda: None),
    "mode": "available",
    "strategy": "none",
    "keys": ("a", "b", "c"),
    "obj": {"id": 1, "name": "x"},
    "q": 0.5,
    "values": (1.0, 2.0, 3.0),
    "minutes": 60,
    "kind": "offset",
    "policy": "lww",
    "group": "g",
    "topic": "t",
    "owner": "me",
    "member": "m",
}

CAPACITY = ("daily_active_users", "reads_per_user", "writes_per_user", "object_size", "response_size")

# Per-callable overrides where the parameter name alone is ambiguous: (family, callable) -> kwargs.
GOOD_FOR: dict[tuple[str, str], dict[str, Any]] = {
    ("estimate", "Formula"): {"text": "2 * 3"},
    ("estimate", "per_period"): {"period": "day"},
    ("estimate", "per_second"): {"period": "day"},
    ("estimate", "parse_duration"): {"text": "5 ms"},
    ("estimate", "format_value"): {"unit": "B"},
    ("communication", "mean_time_in_system"): {"seeds": (1, 2)},
    ("communication", "simulate_queue"): {"arrivals": 5.0, "duration": 50.0},
    ("caching", "simulate_stampede"): {"strategy": "none"},
    ("caching", "simulate_hit_ratio"): {"keys": ("a", "b", "a", "c")},
    ("sharding", "jump_hash"): {"key": 12345},
    ("sharding", "slot_ranges"): {"masters": 3},
    ("api", "require_limit"): {"limit": 10, "max_limit": 100},
    ("api", "page_through_changing_feed"): {"kind": "offset"},
    ("consistency", "resolve"): {"versions": (), "policy": "lww"},
    ("consistency", "atomic_register_history"): {"seed": 1},
    ("architecture", "chain"): {"n": 3},
    ("sagas", "plan_for"): {"kind": "reject", "step": "payment", "steps": ("payment",)},
    ("api", "scoped_key"): {"principal": "alice", "key": "k1"},
    ("api", "principal_of"): {"request": Fresh(lambda: api.Request("GET", "/items", principal="alice"))},
    ("architecture", "Latency"): {"pmf": (0.5, 0.5)},
    ("architecture", "find_cycles"): {"graph": {"a": ("b",), "b": ()}},
    ("architecture", "change_coupling"): {"commits": (("a", "b"), ("a",))},
    ("architecture", "coupled_pairs"): {"commits": (("a", "b"), ("a",))},
    ("architecture", "exact_availability"): {
        "system": Fresh(lambda: architecture.shop()),
        "entry": "gateway",
    },
    ("architecture", "exact_latency"): {"system": Fresh(lambda: architecture.shop()), "entry": "gateway"},
    ("architecture", "request_tree"): {"system": Fresh(lambda: architecture.shop()), "entry": "gateway"},
    ("architecture", "network_hops"): {"system": Fresh(lambda: architecture.shop()), "entry": "gateway"},
    ("architecture", "units_touched"): {"system": Fresh(lambda: architecture.shop()), "entry": "gateway"},
    ("architecture", "simulate"): {
        "system": Fresh(lambda: architecture.shop()),
        "entry": "gateway",
        "requests": 50,
    },
    ("architecture", "synthetic_history"): {
        "services": ("a", "b", "c"),
        "tangled": (("a", "b"),),
        "commits": 20,
        "tangle_probability": 0.5,
    },
    ("balancing", "asymptotic_max_load"): {"n": 1000},
    ("balancing", "Pool"): {"backends": ("a", "b"), "policy": Fresh(lambda: balancing.RoundRobin())},
    ("balancing", "simulate_fleet"): {"policy": Fresh(lambda: balancing.RoundRobin())},
    # client=None means "the server PATTERNS_REDIS_URL names": the doors are tested in-process
    ("api", "RedisIdempotencyStore"): {"client": Fresh(lambda: _fakeredis())},
    ("caching", "SlowStore"): {},
    ("caching", "VersionedKeys"): {"redis": Fresh(lambda: _fakeredis())},
    ("caching", "RedisEntries"): {"redis": Fresh(lambda: _fakeredis()), "keys": "entries"},
    ("caching", "CacheAside"): {"cache": Fresh(lambda: _fakeredis())},
    ("caching", "ReadThrough"): {"cache": Fresh(lambda: _fakeredis()), "store": Fresh(lambda: _slow_store())},
    ("caching", "WriteThrough"): {
        "cache": Fresh(lambda: _fakeredis()),
        "store": Fresh(lambda: _slow_store()),
    },
    ("caching", "WriteBehind"): {"cache": Fresh(lambda: _fakeredis()), "store": Fresh(lambda: _slow_store())},
    ("capstone", "PreferenceCache"): {"store": Fresh(lambda: capstone.PreferenceStore())},
    ("casebook", "case"): {"slug": "shortener"},
    ("communication", "p_any_slow"): {"p": 0.01, "n": 10},
    ("consistency", "partition_experiment"): {"mode": "cp"},
    ("consistency", "QuorumStore"): {"network": Fresh(lambda: _network())},
    ("consistency", "run_clients"): {"store": Fresh(lambda: consistency.QuorumStore(_network(), r=2, w=2))},
    ("consistency", "check_convergence"): {"states": {"a": 1, "b": 1}},
    ("coordination", "Election"): {"backend": Fresh(lambda: coordination.MemoryLeaseService(ManualClock()))},
    ("coordination", "Lock"): {"backend": Fresh(lambda: coordination.MemoryLeaseService(ManualClock()))},
    ("coordination", "Session"): {"backend": Fresh(lambda: coordination.MemoryLeaseService(ManualClock()))},
    ("coordination", "contention"): {
        "backend": Fresh(lambda: coordination.MemoryLeaseService(ManualClock())),
        "fencing": True,
        "duration": 20.0,
    },
    ("coordination", "paused_client"): {
        "backend": Fresh(lambda: coordination.MemoryLeaseService(ManualClock())),
        "fencing": True,
    },
    ("cqrs", "Projector"): {"store": Fresh(lambda: cqrs.SQLiteReadStore())},
    ("cqrs", "OrderQueries"): {"store": Fresh(lambda: cqrs.SQLiteReadStore())},
    ("cqrs", "rebuild"): {"events": (), "store": Fresh(lambda: cqrs.SQLiteReadStore())},
    ("cqrs", "RedisReadStore"): {"client": Fresh(lambda: _fakeredis())},
    ("cqrs", "ReadYourWrites"): {
        "write_model": Fresh(lambda: cqrs.WriteModel()),
        "store": Fresh(lambda: cqrs.SQLiteReadStore()),
    },
    ("estimate", "published_vs_measured"): {"measured": {}},
    ("ids", "parse_snowflake"): {"snowflake_id": 1 << 22},
    ("ids", "decode_ulid"): {"text": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
    ("ids", "ulid_time_ms"): {"text": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
    ("ids", "out_of_order"): {"ids": (1, 2, 3)},
    ("ids", "appends"): {"ids": (1, 2, 3)},
    ("ids", "time_inversion"): {"ids": (1, 2, 3), "times": (1.0, 2.0, 3.0)},
    ("messaging", "record_size"): {"key": b"k", "value": b"v"},
    ("messaging", "OutboxRelay"): {
        "outbox": Fresh(lambda: messaging.Outbox(_db())),
        "broker": Fresh(lambda: messaging.InMemoryBroker()),
    },
    ("messaging", "replay_dead_letters"): {
        "broker": Fresh(lambda: messaging.InMemoryBroker(auto_create_topics=True)),
        "dead_letter_topic": "dlq",
    },
    ("replication", "ReplicatedStore"): {"replicas": {"r1": 0.5}},
    ("sagas", "compensations_due"): {"step_names": ("a", "b"), "events": ()},
    ("sagas", "order_saga"): {"shop": Fresh(lambda: sagas.Shop())},
    ("sagas", "effects_of"): {"shop": Fresh(lambda: sagas.Shop()), "order_id": "o1"},
    ("sagas", "ChoreographedShop"): {
        "shop": Fresh(lambda: sagas.Shop()),
        "broker": Fresh(lambda: messaging.InMemoryBroker()),
    },
    ("sagas", "Orchestrator"): {
        "definition": Fresh(lambda: sagas.order_saga(sagas.Shop())),
        "log": Fresh(lambda: sagas.SagaLog(_db())),
    },
    ("sharding", "owners"): {"router": Fresh(lambda: sharding.ModuloRouter(("a", "b"))), "keys": ("x", "y")},
    ("sharding", "load"): {"router": Fresh(lambda: sharding.ModuloRouter(("a", "b"))), "keys": ("x", "y")},
    ("sharding", "SlotClient"): {"cluster": Fresh(lambda: sharding.SimulatedCluster())},
    ("sharding", "keys_per_master"): {"cluster": Fresh(lambda: sharding.SimulatedCluster()), "keys": 100},
    ("sharding", "migration_experiment"): {"cluster": Fresh(lambda: sharding.SimulatedCluster())},
    ("sketches", "RedisHyperLogLog"): {"client": Fresh(lambda: _fakeredis())},
    ("sketches", "item_bytes"): {"item": "x"},
    ("sketches", "murmur64_many"): {"items": ("a", "b")},
    ("api", "create_items_table"): {"db": Fresh(lambda: _sqlite_utils()), "table": "items", "count": 3},
    ("api", "OffsetPaginator"): {"db": Fresh(lambda: _items_db()), "table": "items"},
    ("api", "KeysetPaginator"): {
        "db": Fresh(lambda: _items_db()),
        "table": "items",
        "codec": Fresh(lambda: api.CursorCodec(b"0123456789abcdef0123456789abcdef")),
    },
    ("architecture", "System"): {"components": Fresh(lambda: [architecture.Component("a")])},
    ("architecture", "module_graph"): {"imports": (), "package": "p", "modules": ("a", "b")},
    ("architecture", "ownership_report"): {
        "system": Fresh(lambda: architecture.chain(2)),
        "owners": {"s0": "team-a", "s1": "team-b"},
    },
    ("balancing", "SimClock"): {"env": Fresh(lambda: importlib.import_module("simpy").Environment())},
    ("capstone", "audit"): {"targets": (), "received": {}, "dead": {}},
    ("capstone", "SimulatedProvider"): {
        "spec": Fresh(lambda: capstone.ProviderSpec("p", "email")),
        "ledger": Fresh(lambda: capstone.Ledger()),
    },
    ("consistency", "descends"): {"a": {"n1": 1}, "b": {"n1": 2}},
    ("consistency", "check_linearizable"): {"history": ()},
    ("consistency", "check_sequential"): {"history": ()},
    ("consistency", "check_read_your_writes"): {"history": ()},
    ("consistency", "check_monotonic_reads"): {"history": ()},
    ("consistency", "stale_reads"): {"history": ()},
    ("estimate", "design_implications"): {
        "est": Fresh(lambda: estimate.capacity_model("t", **{k: GOOD[k] for k in CAPACITY})),
    },
    ("ids", "uuid7_time_ms"): {"value": Fresh(lambda: ids.UUIDv7Generator().next())},
    ("ids", "leaves_touched"): {"ids": tuple(range(2_000))},
    ("api", "problem_for"): {"exc": Fresh(lambda: ValueError("bad"))},
    ("api", "fingerprint"): {"request": Fresh(lambda: api.Request("POST", "/items", body={"a": 1}))},
    ("api", "with_problems"): {"handler": Fresh(lambda: _handler)},
    ("api", "IdempotencyKeys"): {"store": Fresh(lambda: api.MemoryIdempotencyStore())},
    ("api", "idempotent"): {
        "handler": Fresh(lambda: _handler),
        "keys": Fresh(lambda: api.IdempotencyKeys(api.MemoryIdempotencyStore())),
    },
    ("api", "walk_pages"): {"paginator": Fresh(lambda: api.OffsetPaginator(_items_db(), "items"))},
    ("api", "VersionedRouter"): {"resolver": Fresh(lambda: api.HeaderVersioning("acme"))},
    ("architecture", "find_imports"): {"package_dir": Path(ids.__file__).parent},
    ("architecture", "check_boundaries"): {
        "package_dir": Path(ids.__file__).parent,
        "modules": {"snowflake": ()},
    },
    ("communication", "roundtrips"): {"codec": communication.JSON},
    ("consistency", "merge_clocks"): {"clocks": ()},
    ("cqrs", "events_from_broker"): {
        "broker": Fresh(lambda: messaging.InMemoryBroker(auto_create_topics=True))
    },
    ("sagas", "check_order"): {
        "shop": Fresh(lambda: sagas.Shop()),
        "order": Fresh(lambda: sagas.Order("o1")),
        "state": None,
    },
    ("sharding", "jump_hash_array"): {"keys": Fresh(lambda: np.arange(5, dtype=np.uint64))},
    ("sharding", "RangeRouter"): {"bounds": (("", "a"), ("m", "b"))},
    ("sharding", "moved_fraction"): {
        "before": Fresh(lambda: np.array([0, 1, 1])),
        "after": Fresh(lambda: np.array([0, 0, 1])),
    },
    ("sharding", "router_from_spec"): {"spec": {"router": "modulo", "nodes": ["a", "b"]}},
    ("slo", "window_ratio"): {"traffic": Fresh(lambda: _traffic())},
    ("slo", "episodes"): {"on": Fresh(lambda: np.array([False, True, True, False]))},
    ("slo", "detect"): {
        "rule": Fresh(lambda: slo.WORKBOOK_PAGE),
        "traffic": Fresh(lambda: _traffic()),
        "slo": Fresh(lambda: slo.SLO()),
        "incident": Fresh(lambda: _incident()),
    },
    ("slo", "spent"): {
        "traffic": Fresh(lambda: _traffic()),
        "slo": Fresh(lambda: slo.SLO()),
        "incident": Fresh(lambda: _incident()),
    },
    ("slo", "score"): {
        "rule": Fresh(lambda: slo.WORKBOOK_PAGE),
        "traffic": Fresh(lambda: _traffic()),
        "slo": Fresh(lambda: slo.SLO()),
    },
}


def _fakeredis() -> Any:
    import fakeredis

    return fakeredis.FakeRedis()


def _handler(request: Any) -> Any:
    return api.Response(200, {}, {"ok": True})


def _sqlite_utils() -> Any:
    return importlib.import_module("sqlite_utils").Database(memory=True)


def _items_db() -> Any:
    db = _sqlite_utils()
    api.create_items_table(db, "items", 5)
    return db


_MONTH: list[Any] = []


def _traffic() -> Any:
    if not _MONTH:  # one simulated month, built once (read-only for every door)
        _MONTH.append(slo.month(days=2.0))
    return _MONTH[0]


def _incident() -> Any:
    return slo.Incident("outage", 60, 30, 0.5)


def _slow_store() -> Any:
    return caching.SlowStore(ManualClock())


def _network() -> Any:
    return consistency.Network(3, clock=ManualClock(), rng=random.Random(1))


# Doors not exercised here, with the reason.
NOT_BUILT: dict[tuple[str, str], str] = {
    ("ratelimit", "RateLimiter"): "abstract base class (its seven subclasses are fuzzed)",
    ("resilience", "Pipeline"): "takes only *policies (each policy is fuzzed)",
    ("resilience", "pipeline"): "takes only *policies (each policy is fuzzed)",
    ("coordination", "EtcdLeaseService"): "needs a live etcd",
    ("coordination", "etcd_url"): "reads the environment, no arguments to fuzz",
    ("coordination", "lease_service"): "may connect to a live etcd",
    ("messaging", "KafkaBroker"): "needs a live broker",
    ("messaging", "broker_from_env"): "may connect to a live broker",
    ("sharding", "LiveCluster"): "needs a live Redis Cluster",
    ("sharding", "open_cluster"): "may connect to a live Redis Cluster",
}

SEED_ANY = (-1, 0, 10**19)
# Bad values accepted by design: (family, callable, parameter) -> (the values, one-line reason).
# "*" matches any family or callable.
ALLOWED: dict[tuple[str, str, str], tuple[tuple[Any, ...], str]] = {
    ("*", "*", "seed"): (SEED_ANY, "random.Random accepts any integer seed; 0 is the default"),
    ("api", "page_through_changing_feed", "rows"): ((0,), "an empty feed is a valid scenario"),
    ("api", "page_through_changing_feed", "inserts_per_page"): ((0,), "0 = a feed that does not change"),
    ("api", "page_through_changing_feed", "deletes_per_page"): ((0,), "0 = a feed that does not change"),
    ("architecture", "communication_paths", "people"): ((0,), "0 people have 0 paths (Brooks)"),
    ("communication", "payload_sizes", "obj"): ((None,), "None is a valid payload (JSON null)"),
    ("communication", "compare", "obj"): ((None,), "None is a valid payload (JSON null)"),
    ("communication", "roundtrips", "obj"): ((None,), "None is a valid payload (JSON null)"),
    ("communication", "simulate_chain", "requests"): ((0,), "0 requests: an empty, correct result"),
    ("communication", "simulate_fanout", "requests"): ((0,), "0 requests: an empty, correct result"),
    ("communication", "simulate_chain", "retries"): ((0,), "0 retries = no retry policy"),
    ("estimate", "bytes_to_bits", "count"): ((1e300,), "pure unit arithmetic, exact for any finite count"),
    ("estimate", "format_bytes", "count"): ((1e300,), "formatting a huge finite number is well defined"),
    ("estimate", "format_count", "value"): ((-1.0, 1e300), "formats any finite number (deltas are negative)"),
    ("estimate", "format_duration", "seconds"): (
        (1e300,),
        "formatting a huge finite duration is well defined",
    ),
    ("estimate", "format_rate", "rate"): ((1e300,), "formatting a huge finite rate is well defined"),
    ("estimate", "format_value", "value"): ((1e300,), "formatting a huge finite number is well defined"),
    ("estimate", "per_period", "rate"): ((1e300,), "pure unit arithmetic, exact for any finite rate"),
    ("estimate", "per_second", "amount"): ((1e300,), "pure unit arithmetic, exact for any finite amount"),
    ("ids", "Snowflake", "worker"): ((0,), "worker ids start at 0"),
    ("ids", "Snowflake", "epoch_ms"): ((0,), "epoch_ms=0 is the Unix epoch"),
    ("ids", "encode_ulid", "ms"): ((0,), "ms=0 is the Unix epoch"),
    ("ids", "encode_ulid", "randomness"): ((0, 10**19), "ULID randomness is any 80-bit integer"),
    ("resilience", "ThreadPoolBulkhead", "queue"): ((0,), "queue=0: no waiting room, reject at once"),
    ("sharding", "stable_hash64", "key"): ((7,), "a shard Key is str | bytes | int"),
    ("sharding", "hash_tag", "key"): ((7,), "a shard Key is str | bytes | int"),
    ("sharding", "key_slot", "key"): ((7,), "a shard Key is str | bytes | int (redis-py sends its digits)"),
    ("sharding", "jump_hash", "key"): ((0, 10**19), "jump hash takes any unsigned 64-bit key"),
    ("sketches", "bloom_fp_rate", "items"): ((0,), "an empty filter has a false-positive rate of 0"),
    ("sketches", "murmur64", "seed"): ((0, 10**19), "MurmurHash64A takes any unsigned 64-bit seed"),
    ("slo", "month", "blips"): ((0,), "a month without blips"),
    ("slo", "score", "grace"): ((0,), "0 = an alert must start during the incident"),
    ("api", "create_items_table", "count"): ((0,), "an empty table is valid"),
    ("communication", "p_any_slow", "n"): ((0,), "no calls: never slow, 1 - (1 - p)**0 = 0 exactly"),
    ("consistency", "run_clients", "ops_per_client"): ((0,), "clients that do nothing leave the store as is"),
    ("architecture", "synthetic_history", "commits"): ((0,), "an empty history is a valid input"),
    ("sagas", "plan_for", "flaky_times"): ((0,), "0 = a compensation that never fails"),
    ("sharding", "migration_experiment", "warmup"): ((0,), "0 = start migrating at once"),
    ("sharding", "migration_experiment", "writes_per_step"): ((0,), "0 = migrate an idle slot"),
    ("sharding", "migration_experiment", "after"): ((0,), "0 = stop when the migration ends"),
    ("sketches", "item_bytes", "item"): ((7,), "a sketch Item is str | bytes | int"),
    ("ids", "parse_snowflake", "snowflake_id"): ((0,), "0 is a valid (epoch, worker 0, seq 0) id"),
    ("ids", "parse_snowflake", "epoch_ms"): ((0,), "epoch_ms=0 is the Unix epoch"),
    **{
        ("caching", strategy, "cache"): ((None,), "None = the default Redis (PATTERNS_REDIS_URL), documented")
        for strategy in ("CacheAside", "ReadThrough", "WriteThrough", "WriteBehind")
    },
}

# Doors that refuse bad input with a domain error instead: (family, callable) -> (error, name in message).
DOMAIN_ERRORS: dict[tuple[str, str], tuple[type[Exception], str]] = {
    # An HTTP header check: a 400 problem naming the header, not the Python parameter.
    ("api", "require_key"): (api.BadRequest, "Idempotency-Key"),
}


def _allowed(door: Door, param: str, bad: Any) -> bool:
    for key in ((door.family, door.name, param), ("*", "*", param)):
        values, _reason = ALLOWED.get(key, ((), ""))
        if any(type(bad) is type(v) and bad == v for v in values):
            return True
    return False


NAN, INF = math.nan, math.inf
BAD_INT = (None, "3", True, 2.5, NAN, -1, 0, 10**19)
BAD_FLOAT = (None, "3", True, NAN, INF, -1.0, 1e300)
BAD_TEXT = (None, 7)


@dataclasses.dataclass(frozen=True)
class Door:
    family: str
    name: str
    target: Callable[..., Any]
    good: dict[str, Any]
    params: dict[str, inspect.Parameter]

    def call(self, **override: Any) -> Any:
        kwargs = {k: (v() if isinstance(v, Fresh) else v) for k, v in self.good.items()}
        kwargs.update(override)
        positional = [
            kwargs.pop(p.name)
            for p in self.params.values()
            if p.kind is p.POSITIONAL_ONLY and p.name in kwargs
        ]
        return self.target(*positional, **kwargs)


def _is_door(obj: object, name: str) -> bool:
    if name.startswith(("plot_", "_")):
        return False
    if inspect.isclass(obj):
        return not (
            issubclass(obj, (BaseException, enum.Enum))
            or getattr(obj, "_is_protocol", False)
            or dataclasses.is_dataclass(obj)
        )
    return inspect.isfunction(obj) or inspect.isbuiltin(obj)


def _good_kwargs(family: str, name: str, sig: inspect.Signature) -> dict[str, Any] | None:
    override = GOOD_FOR.get((family, name), {})
    good: dict[str, Any] = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in override:
            good[p.name] = override[p.name]
        elif p.default is not p.empty:
            continue
        elif p.name in GOOD:
            good[p.name] = GOOD[p.name]
        else:
            return None
    return good


def _discover() -> tuple[list[Door], list[tuple[str, str, str]]]:
    doors: list[Door] = []
    unbuilt: list[tuple[str, str, str]] = []
    for info in pkgutil.iter_modules(patterns.__path__):
        if not info.ispkg or info.name in SKIPPED_FAMILIES:
            continue
        module = importlib.import_module(f"patterns.{info.name}")
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not _is_door(obj, name) or (info.name, name) in NOT_BUILT:
                continue
            try:
                sig = inspect.signature(obj)
            except (TypeError, ValueError):
                unbuilt.append((info.name, name, "no signature"))
                continue
            good = _good_kwargs(info.name, name, sig)
            if good is None:
                unbuilt.append((info.name, name, "no good-argument recipe"))
                continue
            door = Door(info.name, name, obj, good, dict(sig.parameters))
            try:
                door.call()
            except Exception as exc:  # noqa: BLE001 - a recipe that does not work is reported
                unbuilt.append((info.name, name, f"good call failed: {type(exc).__name__}: {exc}"))
                continue
            doors.append(door)
    return doors, unbuilt


DOORS, UNBUILT = _discover()


def _bad_values(door: Door, param: inspect.Parameter) -> tuple[Any, ...]:
    annotation = str(param.annotation)
    optional = "None" in annotation or "Optional" in annotation or param.default is None
    good = door.good.get(param.name, param.default)
    if isinstance(good, Fresh):
        good = good()
    if isinstance(good, bool) or good is None and param.default is None:
        return ()
    if isinstance(good, (int, float)) and ("float" in annotation or isinstance(good, float)):
        bad: tuple[Any, ...] = BAD_FLOAT
    elif isinstance(good, int):
        bad = BAD_INT
    elif isinstance(good, str):
        bad = BAD_TEXT
    else:
        bad = (None,)
    return tuple(b for b in bad if not (b is None and optional))


def _cases() -> Iterator[Any]:
    for door in DOORS:
        for param in door.params.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if _bad_values(door, param):
                yield pytest.param(door, param.name, id=f"{door.family}.{door.name}.{param.name}")


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("door", "param"), list(_cases()))
def test_bad_argument_is_refused_naming_the_parameter(door: Door, param: str) -> None:
    problems = []
    for bad in _bad_values(door, door.params[param]):
        if _allowed(door, param, bad):
            continue
        error, named = DOMAIN_ERRORS.get((door.family, door.name), ((TypeError, ValueError), param))
        try:
            door.call(**{param: bad})
        except error as exc:
            if named not in str(exc):
                problems.append(f"{bad!r}: {type(exc).__name__} does not name {named!r}: {exc}")
        except Exception as exc:  # noqa: BLE001 - any other exception is the defect
            problems.append(f"{bad!r}: raised {type(exc).__name__}: {exc}")
        else:
            problems.append(f"{bad!r}: accepted")
    assert not problems, f"{door.family}.{door.name}({param}=...):\n" + "\n".join(problems)


def test_the_fuzzer_reaches_most_doors() -> None:
    """A recipe that stops working must not silently shrink the audit (UNBUILT lists the rest)."""
    assert len(DOORS) >= 240, UNBUILT
    assert not [u for u in UNBUILT if u[2].startswith("good call failed")], UNBUILT
