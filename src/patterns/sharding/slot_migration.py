"""Moving hash slots between masters while a client writes, and counting what the client saw.

``migrate_slot`` is Redis Cluster's own procedure for one slot (IMPORTING on the target, MIGRATING
on the source, ``MIGRATE`` in batches, ``SETSLOT NODE`` everywhere), with a ``step`` callback between
protocol steps so a writer can run "during" the migration deterministically (the lab) or a real
thread can write concurrently (the tests). ``migration_experiment`` runs the whole story and
checks every acknowledged write afterwards; ``keys_per_master`` measures how evenly a cluster's
slots spread real keys. Both run on a ``LiveCluster`` or a ``SimulatedCluster`` unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from patterns._validate import require_callable, require_instance, require_int, require_text
from patterns.keys import KeySpace
from patterns.sharding.cluster import ClusterError, ClusterNodes, LiveCluster, SlotClient
from patterns.sharding.slots import SLOTS, key_slot

__all__ = [
    "MigrationReport",
    "OrderWriter",
    "migrate_slot",
    "move_slots_back",
    "migration_experiment",
    "keys_per_master",
]

MAX_KEYS = 1_000_000


def _require_cluster(cluster: object) -> ClusterNodes:
    return require_instance(cluster, "cluster", ClusterNodes, what="a SimulatedCluster or LiveCluster")


def migrate_slot(
    cluster: ClusterNodes,
    slot: int,
    source: str,
    target: str,
    *,
    batch: int = 10,
    step: Callable[[], object] | None = None,
) -> int:
    """Move ``slot`` from ``source`` to ``target`` with keys intact; returns how many keys moved.

    ``step()`` runs after each protocol step (IMPORTING, MIGRATING, each MIGRATE batch, the final
    SETSLOT NODE): whatever it writes meets the slot in that state. Other masters learn the new
    owner from ``SETSLOT NODE`` too (rather than waiting for gossip).
    """
    cluster = _require_cluster(cluster)
    slot = require_int(slot, "slot", maximum=SLOTS - 1)
    batch = require_int(batch, "batch", minimum=1, maximum=10_000)
    tick = require_callable(step, "step") if step is not None else (lambda: None)
    if source == target:
        raise ValueError(f"target must differ from source, got {target!r} twice")
    cluster.set_slot(target, slot, "importing", source)
    tick()
    cluster.set_slot(source, slot, "migrating", target)
    tick()
    moved = 0
    while keys := sorted(cluster.keys_in_slot(source, slot, batch)):
        cluster.migrate(source, target, keys)
        moved += len(keys)
        tick()
    cluster.set_slot(target, slot, "node", target)  # the target first: it starts serving the slot
    cluster.set_slot(source, slot, "node", target)  # then the source: it answers MOVED from now on
    for other in cluster.masters:
        if other not in (source, target):
            cluster.set_slot(other, slot, "node", target)
    tick()
    return moved


def move_slots_back(cluster: ClusterNodes, slots: Sequence[int], home: str, away: str) -> None:
    """Put ``slots`` back on ``home`` whatever state a migration to ``away`` stopped in: clear the
    MIGRATING/IMPORTING flags, return keys ``away`` already received, and reassign the slot."""
    cluster = _require_cluster(cluster)
    for slot in slots:
        for node in (home, away):
            cluster.set_slot(node, slot, "stable")
        if cluster.slot_owners(away)[slot] == away:
            if cluster.slot_owners(home)[slot] != away:  # gossip has not told `home` yet
                cluster.set_slot(home, slot, "node", away)
            migrate_slot(cluster, slot, away, home)
            continue
        # Still owned by `home`, but keys MIGRATEd to `away` before the interruption are stranded
        # there. `away` redirects any keyed command for a slot it does not own, MIGRATE included,
        # unless it is importing the slot and the command comes after ASKING: so it imports the
        # slot for a moment, sends the keys home, and forgets the slot again.
        if cluster.keys_in_slot(away, slot, 1):
            cluster.set_slot(away, slot, "importing", home)
            while keys := cluster.keys_in_slot(away, slot, 100):
                cluster.migrate(away, home, keys, asking=True)
            cluster.set_slot(away, slot, "stable")


class OrderWriter:
    """Writes new orders for a few shopping carts through a ``SlotClient`` and remembers every
    acknowledged one: key ``<ns>:sharding:orders:{cart-N}:order-<seq>`` (the cart is the hash
    tag, so a cart's orders share a slot), value ``<seq>``."""

    def __init__(self, client: SlotClient, carts: int, rng: random.Random, keyspace: KeySpace) -> None:
        self.client = require_instance(client, "client", SlotClient)
        self.carts = [f"cart-{i}" for i in range(require_int(carts, "carts", minimum=1, maximum=10_000))]
        self.rng = require_instance(rng, "rng", random.Random)
        self.keyspace = require_instance(keyspace, "keyspace", KeySpace)
        self.sent = 0
        self.acknowledged: dict[str, str] = {}

    def write(self, count: int = 1) -> None:
        for _ in range(require_int(count, "count", maximum=MAX_KEYS)):
            cart = self.rng.choice(self.carts)
            self.sent += 1
            key = self.keyspace.key(cart, f"order-{self.sent}")
            self.client.set(key, str(self.sent))  # raises if not acknowledged
            self.acknowledged[key] = str(self.sent)

    def lost(self, reader: SlotClient) -> list[str]:
        """Acknowledged orders ``reader`` cannot find (or finds with another value)."""
        return [k for k, v in self.acknowledged.items() if reader.get(k) != v.encode()]


@dataclass(frozen=True)
class MigrationReport:
    backend: str  # "simulated" or "live"
    source: str
    target: str
    slots: int  # slots moved
    keys_moved: int
    writes: int  # writes sent during the migration
    acknowledged: int
    moved: int  # MOVED redirections the writer followed during the migration
    asks: int  # ASK redirections the writer followed during the migration
    lost: int  # acknowledged writes missing afterwards (any phase)

    @property
    def redirections(self) -> int:
        return self.moved + self.asks


def migration_experiment(
    cluster: ClusterNodes,
    *,
    carts: int = 12,
    warmup: int = 240,
    writes_per_step: int = 6,
    after: int = 60,
    batch: int = 2,
    seed: int = 8,
    component: str = "sharding:orders",
) -> MigrationReport:
    """Move every slot holding a cart from the master that owns ``cart-0`` to the next master,
    while writing ``writes_per_step`` new orders after every protocol step (and ``after`` more once
    it is over); then read every acknowledged order back. The slots are moved back and the orders
    deleted at the end, so the cluster is left as it was found.
    """
    cluster = _require_cluster(cluster)
    writes_per_step = require_int(writes_per_step, "writes_per_step", maximum=10_000)
    after = require_int(after, "after", maximum=MAX_KEYS)
    seed = require_int(seed, "seed", minimum=None, maximum=None)
    keyspace = KeySpace.of(require_text(component, "component", max_length=200))
    client = SlotClient(cluster)
    writer = OrderWriter(client, carts, random.Random(seed), keyspace)
    masters = list(cluster.masters)
    if len(masters) < 2:
        raise ValueError(f"cluster must have at least 2 masters to move slots, got {len(masters)}")
    source = client.node_for(keyspace.key(writer.carts[0]))
    target = masters[(masters.index(source) + 1) % len(masters)]
    slots = sorted({key_slot(keyspace.key(c)) for c in writer.carts} & {
        s for s, owner in enumerate(cluster.slot_owners(source)) if owner == source})
    try:
        writer.write(require_int(warmup, "warmup", maximum=MAX_KEYS))
        client.reset_counts()
        sent_before, acknowledged_before = writer.sent, len(writer.acknowledged)
        keys_moved = 0
        for slot in slots:
            keys_moved += migrate_slot(cluster, slot, source, target, batch=batch,
                                       step=lambda: writer.write(writes_per_step))
        writer.write(after)
        moved, asks = client.moved, client.asks
        lost = len(writer.lost(SlotClient(cluster)))
        during = writer.sent - sent_before
        acknowledged = len(writer.acknowledged) - acknowledged_before
    finally:
        try:
            move_slots_back(cluster, slots, source, target)
        finally:
            cluster.clear_prefixed(keyspace.prefix + ":")
    return MigrationReport(
        "live" if isinstance(cluster, LiveCluster) else "simulated", source, target, len(slots),
        keys_moved, during, acknowledged, moved, asks, lost,
    )


def keys_per_master(cluster: ClusterNodes, keys: int = 10_000, *, component: str = "sharding:skew") -> dict[str, int]:
    """Write ``keys`` keys (``user-0``, ``user-1``, ... each its own hash tag) through a slot map,
    count the ones each master really holds (``SCAN`` on each master), delete them, and return the
    counts. On a simulation the count comes from the simulated nodes' own data."""
    cluster = _require_cluster(cluster)
    count = require_int(keys, "keys", minimum=1, maximum=MAX_KEYS)
    keyspace = KeySpace.of(require_text(component, "component", max_length=200))
    client = SlotClient(cluster)
    try:
        for i in range(count):
            client.set(keyspace.key(f"user-{i}"), "1")
        counts = {node: cluster.count_prefixed(node, keyspace.prefix + ":") for node in cluster.masters}
    finally:
        cluster.clear_prefixed(keyspace.prefix + ":")
    if sum(counts.values()) != count:
        raise ClusterError(f"wrote {count} keys but the masters hold {sum(counts.values())}")
    return counts
