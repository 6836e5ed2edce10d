"""Sharding: which node owns a key, and a sharded store that can move keys when that changes.

Routers (all ``router.node_for(key) -> node name``, stable across processes):

* ``ModuloRouter(nodes)``: ``hash % n``; even, but resizing moves almost every key.
* ``RangeRouter(bounds)``: key ranges (``A-H``, ``I-P``, ``Q-Z``); scans are local, hot ranges hurt.
* ``ConsistentHashRing(nodes, vnodes=160)``: a ring with virtual nodes; resizing moves ~1/(n+1).
* ``Rendezvous(nodes, weights=None)``: highest random weight; minimal movement, weighted shares.
* ``JumpRouter(nodes)`` / ``jump_hash(key, n)``: Lamping & Veach's table-free consistent hash.

``ShardedStore(router, directory)`` keeps one SQLite file per node, answers scatter-gather
queries, and ``reshard(new_router)`` moves exactly the keys whose owner changed: an online
migration whose plan and progress are kept in a migration log on disk
(``begin_reshard`` / ``migrate``), so a crash at any point loses nothing and reopening finishes it.
Every router describes itself with ``spec()``; ``router_from_spec`` rebuilds it.

Redis Cluster: ``key_slot(key)`` (CRC16 mod 16,384 with ``{hash tags}``), ``SlotRouter`` (slots split
like ``redis-cli --cluster create``), ``LiveCluster`` / ``SimulatedCluster`` (the MOVED/ASK protocol
on a real cluster or in memory), ``SlotClient`` (follows redirections and counts them),
``migrate_slot`` / ``migration_experiment`` (a slot migration under writes) and ``keys_per_master``.
"""

from patterns.sharding.base import HashRouter, Router, load, moved_fraction, owners
from patterns.sharding.cluster import (
    ClusterError,
    LiveCluster,
    Redirect,
    SimulatedCluster,
    SlotClient,
    open_cluster,
)
from patterns.sharding.hashing import Key, hash_keys, stable_hash64
from patterns.sharding.jump import jump_hash, jump_hash_array
from patterns.sharding.migration import router_from_spec
from patterns.sharding.rendezvous import Rendezvous
from patterns.sharding.ring import ConsistentHashRing
from patterns.sharding.routers import JumpRouter, ModuloRouter, RangeRouter
from patterns.sharding.slot_migration import (
    MigrationReport,
    keys_per_master,
    migrate_slot,
    migration_experiment,
    move_slots_back,
)
from patterns.sharding.slots import SLOTS, SlotRouter, crc16, hash_tag, key_slot, slot_ranges
from patterns.sharding.store import QueryResult, ReshardReport, ShardedStore

__all__ = [
    "Key",
    "stable_hash64",
    "hash_keys",
    "jump_hash",
    "jump_hash_array",
    "Router",
    "HashRouter",
    "ModuloRouter",
    "RangeRouter",
    "JumpRouter",
    "ConsistentHashRing",
    "Rendezvous",
    "owners",
    "load",
    "moved_fraction",
    "router_from_spec",
    "ShardedStore",
    "QueryResult",
    "ReshardReport",
    "SLOTS",
    "crc16",
    "hash_tag",
    "key_slot",
    "slot_ranges",
    "SlotRouter",
    "Redirect",
    "ClusterError",
    "SimulatedCluster",
    "LiveCluster",
    "SlotClient",
    "open_cluster",
    "MigrationReport",
    "migrate_slot",
    "move_slots_back",
    "migration_experiment",
    "keys_per_master",
]
