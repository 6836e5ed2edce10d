"""Seeded experiments on the quorum store: the numbers behind chapter 11 and its lab.

``stale_read_rate`` runs clients against an N-node cluster and measures how many reads returned a
value older than a write that had already completed; ``partition_experiment`` keeps a shopping cart
(Dynamo's example) while one node is cut off, then heals, and reports availability on each side,
confirmed items lost to last-writer-wins, sibling reads and convergence. ``atomic_register_history`` produces histories of a single-copy
register (every operation takes effect at one instant inside its interval): linearizable by
construction, the positive control for the checkers.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from patterns._validate import (
    require_instance,
    require_int,
    require_mapping,
    require_number,
    require_probability,
    require_seconds,
    require_sequence,
    require_text,
)
from patterns.clock import ManualClock
from patterns.consistency.histories import Op, check_convergence, stale_reads
from patterns.consistency.network import MAX_DELAY, MAX_NODES, Network
from patterns.consistency.quorum import Operation, QuorumStore

__all__ = [
    "build_cluster",
    "run_clients",
    "stale_read_rate",
    "PartitionReport",
    "partition_experiment",
    "atomic_register_history",
    "LatencyRow",
    "latency_vs_consistency",
]


MAX_CLIENTS = 1_000
MAX_OPS_PER_CLIENT = 100_000
MAX_DURATION = 600.0  # simulated seconds in a partition experiment


def _seed(seed: object) -> int:
    return require_int(seed, "seed", minimum=None, maximum=None)


def _interval(pair: object, name: str, *, maximum: float = MAX_DELAY) -> tuple[float, float]:
    """A (low, high) pair of seconds with 0 <= low <= high."""
    if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
        raise TypeError(f"{name} must be a (low, high) pair of seconds, got {pair!r:.80}")
    low = require_seconds(pair[0], f"{name} (low)", positive=False, maximum=maximum)
    high = require_seconds(pair[1], f"{name} (high)", positive=False, maximum=maximum)
    if low > high:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {pair!r}")
    return low, high


def build_cluster(n: int, r: int, w: int, *, seed: int = 0, mode: str = "cp", policy: str = "lww",
                  delay: tuple[float, float] = (0.001, 0.020), timeout: float = 0.2,
                  read_repair: bool = True, skew: Mapping[str, float] | None = None) -> QuorumStore:
    """An N-node cluster (nodes ``n1``...) on a fresh ManualClock with seeded message delays."""
    require_int(n, "n", minimum=1, maximum=MAX_NODES)
    network = Network(n, clock=ManualClock(), rng=random.Random(_seed(seed)), delay=delay)
    return QuorumStore(network, r=r, w=w, mode=mode, policy=policy, timeout=timeout,
                       read_repair=read_repair, skew=skew)


def run_clients(store: QuorumStore, *, rng: random.Random, clients: Sequence[str] = ("c1", "c2", "c3"),
                ops_per_client: int = 50, write_ratio: float = 0.5, keys: Sequence[str] = ("x",),
                think: tuple[float, float] = (0.0, 0.01), home: Mapping[str, str] | None = None,
                until: float | None = None) -> None:
    """Schedule each client's sequential requests (one in flight per client); written values are
    unique integers. Coordinators are ``home[client]`` when given, else chosen at random per request.
    Clients stop after ``ops_per_client`` requests or at simulated time ``until``. Does not run the
    network: call ``store.network.run()`` (or ``run_until``) afterwards.
    """
    require_instance(store, "store", QuorumStore)
    require_instance(rng, "rng", random.Random)
    clients = [require_text(c, "clients: each client", max_length=200)
               for c in require_sequence(clients, "clients", min_length=0, max_length=MAX_CLIENTS)]
    ops_per_client = require_int(ops_per_client, "ops_per_client", maximum=MAX_OPS_PER_CLIENT)
    write_ratio = require_probability(write_ratio, "write_ratio")
    keys = [k if isinstance(k, str) else require_text(k, "keys: each key")
            for k in require_sequence(keys, "keys", max_length=10_000)]
    low, high = _interval(think, "think")
    if home is not None:
        home = require_mapping(home, "home")
        for client in clients:
            if home.get(client) not in store.network.nodes:
                raise ValueError(f"home must map every client to a node, got {home.get(client)!r} for {client!r}")
    if until is not None:
        until = require_number(until, "until")
    network = store.network
    values = itertools.count(1 + sum(op.kind == "write" for op in store.operations))

    def issue(client: str, i: int) -> None:
        if i >= ops_per_client or (until is not None and network.clock.now() >= until):
            return
        coordinator = home[client] if home else rng.choice(network.nodes)
        key = rng.choice(keys)
        if rng.random() < write_ratio:
            op = store.submit_write(key, next(values), coordinator=coordinator, client=client)
        else:
            op = store.submit_read(key, coordinator=coordinator, client=client)

        def next_one(done: Operation) -> None:
            network.schedule(network.clock.now() + rng.uniform(low, high), lambda: issue(client, i + 1))

        op.then(next_one)

    for client in clients:
        network.schedule(network.clock.now() + rng.uniform(low, high), partial(issue, client, 0))


def stale_read_rate(n: int, r: int, w: int, *, seed: int = 0, clients: int = 4,
                    ops_per_client: int = 60, read_repair: bool = True) -> float:
    """Fraction of successful reads that returned a value older than an already completed write."""
    clients = require_int(clients, "clients", minimum=1, maximum=MAX_CLIENTS)
    ops_per_client = require_int(ops_per_client, "ops_per_client", minimum=1, maximum=MAX_OPS_PER_CLIENT)
    store = build_cluster(n, r, w, seed=seed, read_repair=read_repair)
    run_clients(store, rng=random.Random(seed + 1), clients=[f"c{i}" for i in range(1, clients + 1)],
                ops_per_client=ops_per_client)
    store.network.run()
    history = store.history()
    reads = [op for op in history if op.kind == "read" and op.ok]
    return len(stale_reads(history)) / len(reads) if reads else 0.0


@dataclass(frozen=True)
class LatencyRow:
    """PACELC's "else": one (R, W) choice on a healthy network, its latency and its staleness."""

    r: int
    w: int
    read_p50_ms: float
    read_p99_ms: float
    write_p50_ms: float
    write_p99_ms: float
    stale_read_rate: float


def latency_vs_consistency(n: int = 3, quorums: Sequence[tuple[int, int]] = ((1, 1), (2, 1), (2, 2), (3, 1)),
                           *, seed: int = 0, clients: int = 4, ops_per_client: int = 60,
                           delay: tuple[float, float] = (0.001, 0.020)) -> list[LatencyRow]:
    """The price of consistency with no partition at all: for each (R, W), the latency of reads and
    writes (a coordinator answers itself at once, other replicas after a round trip) and the share
    of reads that returned a value older than an already completed write."""
    n = require_int(n, "n", minimum=1, maximum=MAX_NODES)
    pairs = [tuple(q) for q in require_sequence(quorums, "quorums", max_length=100)]
    clients = require_int(clients, "clients", minimum=1, maximum=MAX_CLIENTS)
    ops_per_client = require_int(ops_per_client, "ops_per_client", minimum=1, maximum=MAX_OPS_PER_CLIENT)
    rows = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"quorums must be (R, W) pairs, got {pair!r}")
        r = require_int(pair[0], "R", minimum=1, maximum=n)
        w = require_int(pair[1], "W", minimum=1, maximum=n)
        store = build_cluster(n, r, w, seed=seed, delay=delay)
        run_clients(store, rng=random.Random(seed + 1), clients=[f"c{i}" for i in range(1, clients + 1)],
                    ops_per_client=ops_per_client)
        store.network.run()
        history = store.history()
        done = [op for op in store.operations if op.ok and op.completed is not None]

        def ms(kind: str, q: float, done: list[Operation] = done) -> float:
            times = sorted((op.completed - op.invoked) * 1e3 for op in done if op.kind == kind
                           and op.completed is not None)
            return times[min(len(times) - 1, int(q * len(times)))] if times else 0.0

        reads = [op for op in history if op.kind == "read" and op.ok]
        rate = len(stale_reads(history)) / len(reads) if reads else 0.0
        rows.append(LatencyRow(r, w, ms("read", 0.5), ms("read", 0.99), ms("write", 0.5), ms("write", 0.99), rate))
    return rows


@dataclass(frozen=True)
class PartitionReport:
    """What cutting node ``n1`` off from the rest did to a shopping cart kept in a quorum store."""

    mode: str
    policy: str
    minority_availability: float  # share of requests served via the isolated node during the cut
    majority_availability: float
    acknowledged_adds: int  # "add item" writes the store confirmed, over the whole run
    lost_adds: int  # confirmed items missing from the final cart (after heal + anti-entropy)
    sibling_reads: int  # reads that returned concurrent versions for the client to merge
    converged: bool  # every replica equal after heal + anti-entropy
    cart: frozenset[str]  # the final cart (siblings merged by union)


def partition_experiment(mode: str, policy: str = "lww", *, n: int = 3, r: int = 2, w: int = 2,
                         seed: int = 0, cut: tuple[float, float] = (1.0, 2.0),
                         duration: float = 3.0) -> PartitionReport:
    """One client per node adds unique items to a cart (read, then write the set plus the item,
    passing the read's versions as context); node ``n1`` is cut off during ``cut``, then healed."""
    duration = require_seconds(duration, "duration", maximum=MAX_DURATION)
    cut = _interval(cut, "cut", maximum=MAX_DURATION)
    store = build_cluster(n, r, w, seed=seed, mode=mode, policy=policy)
    network, rng = store.network, random.Random(seed + 1)
    start, end = cut
    acked: set[str] = set()

    def add_items(client: str, home: str, i: int = 0) -> None:
        if network.clock.now() >= duration:
            return
        def again() -> None:
            network.schedule(network.clock.now() + rng.uniform(0.0, 0.02), partial(add_items, client, home, i + 1))

        def then_write(done: Operation) -> None:
            if not done.ok:
                return again()
            item = f"{client}-{i}"
            cart = frozenset().union(*(v.value for v in done.versions)) | {item}
            write = store.submit_write("cart", cart, coordinator=home, client=client, context=done.versions)

            def confirmed(op: Operation) -> None:
                if op.ok:
                    acked.add(item)
                again()

            write.then(confirmed)

        store.submit_read("cart", coordinator=home, client=client).then(then_write)

    for index, node in enumerate(network.nodes, start=1):
        network.schedule(rng.uniform(0, 0.02), partial(add_items, f"c{index}", node))
    network.schedule(start, lambda: network.partition([network.nodes[0]]))
    network.schedule(end, network.heal)
    network.run()
    store.anti_entropy()
    during = [op for op in store.operations if start <= op.invoked < end]

    def availability(ops: list[Operation]) -> float:
        return sum(bool(op.ok) for op in ops) / len(ops) if ops else 1.0

    minority = [op for op in during if op.coordinator == network.nodes[0]]
    majority = [op for op in during if op.coordinator != network.nodes[0]]
    final = frozenset().union(*(v.value for v in store.replicas[network.nodes[0]].get("cart", ())))
    return PartitionReport(mode, policy, availability(minority), availability(majority), len(acked),
                           len(acked - final), store.stats.sibling_reads,
                           check_convergence(store.states()).ok, final)


def atomic_register_history(seed: int, *, clients: int = 3, ops_per_client: int = 3,
                            keys: Sequence[str] = ("x",), initial: object = None) -> list[Op]:
    """A history of a single-copy register: each op takes effect at a random instant inside its
    interval, in that order. Linearizable by construction; written values are unique integers."""
    require_int(clients, "clients", minimum=1, maximum=MAX_CLIENTS)
    require_int(ops_per_client, "ops_per_client", minimum=1, maximum=MAX_OPS_PER_CLIENT)
    keys = [k if isinstance(k, str) else require_text(k, "keys: each key")
            for k in require_sequence(keys, "keys", max_length=10_000)]
    rng = random.Random(_seed(seed))
    timed: list[tuple[float, float, float, str, bool, str]] = []
    for c in range(1, clients + 1):
        t = rng.uniform(0, 1)
        for _ in range(ops_per_client):
            invoked, completed = t, t + rng.uniform(0.1, 1.0)
            timed.append((rng.uniform(invoked, completed), invoked, completed, f"c{c}",
                          rng.random() < 0.5, rng.choice(list(keys))))
            t = completed + rng.uniform(0, 0.5)
    state: dict[str, object] = {}
    history = []
    for value, (_, invoked, completed, client, is_write, key) in enumerate(sorted(timed), start=1):
        if is_write:
            state[key] = value
            history.append(Op(client, "write", key, value, invoked, completed))
        else:
            history.append(Op(client, "read", key, state.get(key, initial), invoked, completed))
    return sorted(history, key=lambda op: op.invoked)
